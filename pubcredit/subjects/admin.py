"""Admin for the subject register. Writes go through the services (one write path): adding calls
`register_subject`, renaming (the 新名称 field) calls `rename_subject`, other edits write a
"subjects.change" audit event. Identifiers of persons are shown only masked."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from pubcredit.accounts.admin import ReadOnlyAdmin
from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.models import AccessLog
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import SubjectKind
from pubcredit.core import identifiers
from pubcredit.subjects import keys, tally
from pubcredit.subjects.models import FormerName, Subject
from pubcredit.subjects.names import mask_person_name, normalize_name
from pubcredit.subjects.services import ID_TYPES, RIC_TYPE, register_subject, rename_subject


class FormerNameInline(admin.TabularInline):
    model = FormerName
    extra = 0
    fields = ["name", "used_until"]
    readonly_fields = ["name", "used_until"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # former names come from rename_subject


class SubjectAddForm(forms.ModelForm):
    id_number = forms.CharField(
        label=_("证件号码"),
        required=False,
        help_text=_("仅自然人填写;只保存密文和脱敏号码。"),
    )
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=[(t, t) for t in ID_TYPES], initial=RIC_TYPE, required=False
    )

    class Meta:
        model = Subject
        fields = ["kind", "name", "uscc", "region", "legal_representative", "established_on"]

    def clean(self):
        data = super().clean()
        kind, uscc, id_number = data.get("kind"), data.get("uscc"), data.get("id_number")
        if kind == SubjectKind.PERSON:
            if uscc:
                self.add_error("uscc", _("自然人不能登记统一社会信用代码。"))
            if not id_number:
                self.add_error("id_number", _("自然人必须填写证件号码。"))
            elif (data.get("id_type") or RIC_TYPE) == RIC_TYPE:
                result = identifiers.check_ric(id_number)
                if not result.valid:
                    self.add_error("id_number", result.errors)
        elif uscc:
            result = identifiers.check_uscc(uscc)
            if not result.valid:
                self.add_error("uscc", result.errors)
            else:
                data["uscc"] = result.normalized
                if keys.find(Subject.objects, "uscc", result.normalized).exists():
                    self.add_error("uscc", _("该统一社会信用代码已登记。"))
        return data


class SubjectChangeForm(forms.ModelForm):
    new_name = forms.CharField(label=_("新名称"), required=False, max_length=200)
    rename_reason = forms.CharField(label=_("更名原因"), required=False, max_length=512)

    class Meta:
        model = Subject
        fields = ["region", "legal_representative", "established_on"]

    def clean(self):
        data = super().clean()
        new_name = data.get("new_name")
        if new_name:
            if not (data.get("rename_reason") or "").strip():
                self.add_error("rename_reason", _("更名必须填写原因。"))
            if normalize_name(new_name) == self.instance.name_norm:
                self.add_error("new_name", _("新名称与现名称相同。"))
        return data


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "uscc", "id_masked", "org_category", "region", "updated_at"]
    list_filter = ["kind", "region", "org_category"]
    search_fields = ["name", "name_norm", "uscc", "=id_masked"]
    show_full_result_count = False  # COUNT(*) over a million rows on every page is wasteful
    inlines = [FormerNameInline]
    ordering = ["-id"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = SubjectChangeForm if obj is not None else SubjectAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "kind",
                "name",
                "uscc",
                "id_type",
                "id_number",
                "region",
                "legal_representative",
                "established_on",
            ]
        return [
            "kind",
            "name",
            "new_name",
            "rename_reason",
            "uscc",
            "org_category",
            "id_type",
            "id_masked",
            "region",
            "legal_representative",
            "established_on",
            "name_norm",
            "created_at",
            "updated_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "kind",
            "name",
            "uscc",
            "org_category",
            "id_type",
            "id_masked",
            "name_norm",
            "created_at",
            "updated_at",
        ]

    def save_model(self, request, obj, form, change):
        principal = Principal.of(request.user)
        data = form.cleaned_data
        if not change:
            subject = register_subject(
                principal,
                kind=data["kind"],
                name=data["name"],
                uscc=data.get("uscc") or None,
                id_number=data.get("id_number") or None,
                id_type=data.get("id_type") or RIC_TYPE,
                region=data.get("region") or "",
                legal_representative=data.get("legal_representative") or "",
                established_on=data.get("established_on"),
                reason="后台登记",
            )
            obj.__dict__.update({k: v for k, v in subject.__dict__.items() if k != "_state"})
            obj._state.adding = False
            return
        with transaction.atomic():
            before = snapshot(Subject.objects.get(pk=obj.pk))
            obj.save(
                update_fields=["region", "legal_representative", "established_on", "updated_at"]
            )
            after = snapshot(obj)
            tally.move(obj.kind, before.get("region") or "", obj.region or "")
            if before != after:
                record_event(principal, "subjects.change", obj, before=before, after=after)
            if data.get("new_name"):
                renamed = rename_subject(
                    principal, obj, data["new_name"], reason=data["rename_reason"]
                )
                obj.name, obj.name_norm = renamed.name, renamed.name_norm


# The trail of staff looks at persons' data (accounts.AccessLog) is shown here, with the persons
# it names, because only this layer knows how to mask them.
@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "subject_label", "purpose", "what", "client_address")
    search_fields = (
        "actor_label",
        "actor__username",
        "subject__id_masked",
        "subject__name",
        "=subject__id",
        "purpose",
    )
    list_select_related = ("subject",)
    date_hierarchy = "at"
    fields = (
        "at",
        "actor_label",
        "actor",
        "api_key",
        "subject_label",
        "purpose",
        "what",
        "client_address",
    )
    readonly_fields = fields

    @admin.display(description=_("自然人"), ordering="subject_id")
    def subject_label(self, log):
        # The trail names who was looked at, masked like every list of persons.
        subject = log.subject
        return f"#{subject.pk} {mask_person_name(subject.name)} {subject.id_masked}".strip()
