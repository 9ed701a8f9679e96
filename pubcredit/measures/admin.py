"""Admin for matters and measures (the 清单 as data). Every save writes an audit event with the
row before and after (links included); nothing can be deleted (deactivate instead). A measure
without a legal basis is refused by the model's validation (and by a database constraint).
Saving bumps the rules version, so every process picks up the change within seconds."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from pubcredit.lists.admin import AuditedAdmin
from pubcredit.measures.catalogue import measure_snapshot
from pubcredit.measures.models import Matter, Measure, SubjectFlags


class MeasuresAudited(AuditedAdmin):
    audit_prefix = "measures"


@admin.register(Matter)
class MatterAdmin(MeasuresAudited):
    list_display = ("code", "name", "sort_order", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")


@admin.register(Measure)
class MeasureAdmin(MeasuresAudited):
    list_display = (
        "code",
        "name",
        "kind",
        "measure_class",
        "incentive_category",
        "effective_from",
        "effective_to",
        "active",
        "needs_review",
    )
    list_filter = ("needs_review", "kind", "measure_class", "incentive_category", "active")
    search_fields = ("code", "name", "legal_basis", "note")
    filter_horizontal = ("departments", "list_types", "matters")
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "active", "needs_review", "sort_order")}),
        (
            _("分类和依据"),
            {"fields": ("measure_class", "incentive_category", "content", "legal_basis", "note")},
        ),
        (
            _("触发和适用"),
            {"fields": ("list_types", "record_conditions", "matters", "subject_kinds")},
        ),
        (_("实施"), {"fields": ("departments", "effective_from", "effective_to")}),
    )

    def state(self, obj) -> dict:
        return measure_snapshot(obj)


@admin.register(SubjectFlags)
class SubjectFlagsAdmin(admin.ModelAdmin):
    """The check read model, for inspection only (rebuilt by `pubcredit measures refresh-flags`)."""

    list_display = ("subject_id", "subject_kind", "refreshed_at")
    readonly_fields = ("subject", "subject_kind", "entries", "records", "refreshed_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("measures.view_measure")
