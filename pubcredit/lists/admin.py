"""Admin for lists. List types are catalogue data: edited here with an audit event per save,
never deleted (entries refer to them; deactivate instead). List entries are read-only here: they
change only through the services (认定/移出/到期, with their history), so the admin shows each
entry with its events and documents."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.lists.models import ListEntry, ListEntryDocument, ListEntryEvent, ListType


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit event with the row before and after each save (after the many-to-many
    fields are saved); nothing can be deleted."""

    audit_prefix = "lists"

    def has_delete_permission(self, request, obj=None):
        return False

    def state(self, obj) -> dict:
        return snapshot(obj)

    def save_model(self, request, obj, form, change):
        current = type(obj).objects.filter(pk=obj.pk).first() if change else None
        obj._audit_before = self.state(current) if current is not None else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before, after = getattr(obj, "_audit_before", None), self.state(obj)
        if before != after:
            verb = "create" if before is None else "update"
            record_event(
                Principal.of(request.user),
                f"{self.audit_prefix}.{verb}_{obj._meta.model_name}",
                obj,
                before=before,
                after=after,
                reason="管理后台",
            )


@admin.register(ListType)
class ListTypeAdmin(AuditedAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "authority",
        "default_validity_months",
        "category",
        "active",
        "needs_review",
    )
    list_filter = ("needs_review", "kind", "active")
    search_fields = ("code", "name", "legal_basis")
    autocomplete_fields = ()
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "active", "needs_review", "sort_order")}),
        (_("认定"), {"fields": ("authority", "authority_name", "legal_basis", "note")}),
        (
            _("有效期和适用范围"),
            {
                "fields": (
                    "default_validity_months",
                    "subject_kinds",
                    "effective_from",
                    "effective_to",
                )
            },
        ),
        (_("归集"), {"fields": ("category", "record_match")}),
    )


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True


class EventInline(ReadOnlyInline):
    model = ListEntryEvent
    fields = ("at", "from_status", "to_status", "by", "reason")
    readonly_fields = fields


class DocumentInline(ReadOnlyInline):
    model = ListEntryDocument
    fields = ("name", "file", "uploaded_at")
    readonly_fields = fields


@admin.register(ListEntry)
class ListEntryAdmin(admin.ModelAdmin):
    list_display = (
        "subject_name",
        "list_type",
        "status",
        "decided_on",
        "valid_from",
        "valid_to",
        "identified_by",
        "source",
    )
    list_filter = ("status", "source", "list_type__kind", "list_type")
    search_fields = ("subject_name", "document_number")
    date_hierarchy = "decided_on"
    list_select_related = ("list_type", "identified_by")
    inlines = (EventInline, DocumentInline)
    readonly_fields = [f.name for f in ListEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("lists.view_listtype")
