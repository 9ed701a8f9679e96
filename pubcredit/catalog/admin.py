"""Admin for the catalogue. Every save writes an audit event with the row before and after (the
admin's change view is already one transaction); nothing can be deleted here: records refer to
catalogue rows, so they are deactivated instead. `pubcredit catalog export` turns admin edits back
into the versioned files."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog import conditions
from pubcredit.catalog.models import (
    Category,
    CodeItem,
    CodeList,
    Department,
    Field,
    Region,
    ReportingDuty,
)


def _state(obj) -> dict:
    data = snapshot(obj)
    if isinstance(obj, Department) and obj.pk:
        data["submits_for"] = sorted(obj.submits_for.values_list("code", flat=True))
    return data


def _db_state(obj) -> dict | None:
    if obj.pk is None:
        return None
    current = type(obj).objects.filter(pk=obj.pk).first()
    return _state(current) if current is not None else None


def _record(request, obj, before: dict | None) -> None:
    after = _state(obj)
    if before == after:
        return
    verb = "create" if before is None else "update"
    record_event(
        Principal.of(request.user),
        f"catalog.{verb}_{obj._meta.model_name}",
        obj,
        before=before,
        after=after,
        reason="管理后台",
    )


class AuditedAdmin(admin.ModelAdmin):
    """Records the main object after its many-to-many fields and inlines are saved, and each
    inline row in `save_formset`."""

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj._audit_before = _db_state(obj) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        _record(request, obj, getattr(obj, "_audit_before", None))

    def save_formset(self, request, form, formset, change):
        before = {f.instance.pk: _db_state(f.instance) for f in formset.forms if f.instance.pk}
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            _record(request, obj, None)
        for obj, _changed in formset.changed_objects:
            _record(request, obj, before.get(obj.pk))


class NoDeleteInlineMixin:
    can_delete = False
    extra = 0

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    list_display = ["code", "name", "level", "parent", "valid_from", "valid_to", "is_gb2260"]
    list_filter = ["level", "is_gb2260"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    ordering = ["code"]


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ["code", "name", "short_name", "uscc", "level", "district", "active"]
    list_filter = ["level", ("district", admin.RelatedOnlyFieldListFilter), "active"]
    search_fields = ["code", "name", "short_name", "uscc"]
    autocomplete_fields = ["district", "parent"]
    filter_horizontal = ["submits_for"]


class CodeItemInline(NoDeleteInlineMixin, admin.TabularInline):
    model = CodeItem
    fields = ["value", "code", "synonyms", "description", "sort_order", "active"]


@admin.register(CodeList)
class CodeListAdmin(AuditedAdmin):
    list_display = ["code", "name", "allow_other", "multi_value", "item_count"]
    list_filter = ["allow_other", "multi_value"]
    search_fields = ["code", "name", "items__value"]
    inlines = [CodeItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_items=Count("items", distinct=True))

    @admin.display(description=_("代码项数"), ordering="_items")
    def item_count(self, obj):
        return obj._items


@admin.register(CodeItem)
class CodeItemAdmin(AuditedAdmin):
    list_display = ["value", "codelist", "code", "sort_order", "active"]
    list_filter = ["codelist", "active"]
    search_fields = ["value", "code", "codelist__code", "codelist__name"]


class FieldForm(forms.ModelForm):
    """Rejects a malformed condition, or one that names a field the category does not have,
    before it can reach intake."""

    class Meta:
        model = Field
        fields = [
            "category",
            "code",
            "name",
            "type",
            "requirement",
            "condition",
            "max_length",
            "exact_length",
            "decimal_places",
            "unit",
            "codelist",
            "legacy_codes",
            "synonyms",
            "role",
            "disclosure",
            "description",
            "sort_order",
        ]

    def clean(self):
        cleaned = super().clean()
        condition = cleaned.get("condition")
        requirement = cleaned.get("requirement")
        if requirement == Field.Requirement.CONDITIONAL and not condition:
            self.add_error("condition", _("条件必填的字段必须填写条件"))
        if condition:
            problems = conditions.validate_condition(condition)
            if problems:
                self.add_error("condition", "; ".join(problems))
            else:
                category = cleaned.get("category") or getattr(self.instance, "category", None)
                if category is not None and category.pk:
                    known = set(category.fields.values_list("code", flat=True))
                    known.add(cleaned.get("code") or "")
                    missing = sorted(conditions.referenced_fields(condition) - known)
                    if missing:
                        self.add_error(
                            "condition",
                            _("条件引用的字段不是本类别的字段:%(codes)s")
                            % {"codes": "、".join(missing)},
                        )
        if cleaned.get("type") == Field.Type.CODE and not cleaned.get("codelist"):
            self.add_error("codelist", _("代码值类型的字段必须指定代码表"))
        return cleaned


class FieldInline(NoDeleteInlineMixin, admin.StackedInline):
    model = Field
    form = FieldForm
    autocomplete_fields = ["codelist"]
    fieldsets = [
        (None, {"fields": [("code", "name"), ("type", "requirement", "disclosure"), "condition"]}),
        (
            _("格式"),
            {"fields": [("max_length", "exact_length", "decimal_places", "unit"), "codelist"]},
        ),
        (
            _("表头映射与含义"),
            {"fields": ["legacy_codes", "synonyms", "role", "description", "sort_order"]},
        ),
    ]


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = [
        "code",
        "name",
        "catalogue_class",
        "parent",
        "field_count",
        "fields_complete",
        "publicity_class",
        "active",
    ]
    list_filter = ["catalogue_class", "fields_complete", "publicity_class", "active"]
    search_fields = ["code", "name", "description"]
    autocomplete_fields = ["parent"]
    inlines = [FieldInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_fields=Count("fields", distinct=True))

    @admin.display(description=_("数据项数"), ordering="_fields")
    def field_count(self, obj):
        return obj._fields


@admin.register(Field)
class FieldAdmin(AuditedAdmin):
    form = FieldForm
    list_display = ["code", "name", "category", "type", "requirement", "role", "disclosure"]
    list_filter = ["category", "type", "requirement", "disclosure"]
    search_fields = ["code", "name", "role", "category__code"]
    autocomplete_fields = ["category", "codelist"]


@admin.register(ReportingDuty)
class ReportingDutyAdmin(AuditedAdmin):
    list_display = [
        "department",
        "category",
        "channel",
        "rhythm",
        "workdays",
        "monthday",
        "effective_from",
        "effective_to",
    ]
    list_filter = [
        "rhythm",
        "channel",
        ("category", admin.RelatedOnlyFieldListFilter),
        ("department", admin.RelatedOnlyFieldListFilter),
        "effective_from",
    ]
    list_select_related = ["department", "category"]
    search_fields = ["department__code", "department__name", "category__code", "note"]
    autocomplete_fields = ["department", "category"]
