"""Admin for the publicity rules (editable by whoever maintains the catalogue: "catalog.change")
and read-only views of the read model and its history ("records.view", scoped).

Every rule edit writes an audit event with the row before and after, and schedules a full
recomputation of the read model after the transaction commits (rules changed, so the derived
windows may have). `pubcredit publicity rules export` turns admin edits back into the file."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.publicity.models import (
    PeriodRule,
    Publicity,
    PublicityEvent,
    PublicityMark,
    PublicityOption,
    PublicityRegime,
    SectorRule,
    TierOverride,
    TierRule,
)
from pubcredit.publicity.tasks import refresh_publicity_task
from pubcredit.records.models import Record

RULES_ACTION = "catalog.change"
VIEW_ACTION = "records.view"


def _can(request, action: str) -> bool:
    return Principal.of(request.user).can(action)


def _rules_changed() -> None:

    transaction.on_commit(lambda: refresh_publicity_task.enqueue("rules"))


def _audit(request, obj, before: dict | None, verb: str) -> None:
    after = snapshot(obj) if verb != "delete" else None
    if before == after:
        return
    record_event(
        Principal.of(request.user),
        f"publicity.{verb}_{obj._meta.model_name}",
        obj,
        before=before,
        after=after,
        reason="管理后台",
    )
    _rules_changed()


class RulesAdmin(admin.ModelAdmin):
    """Rule tables: editable with "catalog.change", audited, recomputation on commit."""

    def has_module_permission(self, request):
        return _can(request, RULES_ACTION)

    def has_view_permission(self, request, obj=None):
        return _can(request, RULES_ACTION)

    def has_add_permission(self, request):
        return _can(request, RULES_ACTION)

    def has_change_permission(self, request, obj=None):
        return _can(request, RULES_ACTION)

    def has_delete_permission(self, request, obj=None):
        return _can(request, RULES_ACTION)

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        _audit(request, obj, before, "update" if change else "create")

    def delete_model(self, request, obj):
        before = snapshot(obj)
        super().delete_model(request, obj)
        _audit(request, obj, before, "delete")

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        # The forms' instances already hold the edited values: take "before" from the database.
        model = formset.model
        pks = [f.instance.pk for f in formset.forms if f.instance.pk]
        before = {o.pk: snapshot(o) for o in model.objects.filter(pk__in=pks)}
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            _audit(request, obj, None, "create")
        for obj, _changed in formset.changed_objects:
            _audit(request, obj, before.get(obj.pk), "update")
        for obj in formset.deleted_objects:
            _audit(request, obj, before.get(obj.pk), "delete")


class PeriodRuleInline(admin.TabularInline):
    model = PeriodRule
    extra = 0
    fields = (
        "code",
        "order",
        "tier",
        "sectors",
        "departments",
        "published",
        "min_months",
        "max_months",
        "description",
    )

    def has_view_permission(self, request, obj=None):
        return _can(request, RULES_ACTION)

    def has_add_permission(self, request, obj=None):
        return _can(request, RULES_ACTION)

    def has_change_permission(self, request, obj=None):
        return _can(request, RULES_ACTION)

    def has_delete_permission(self, request, obj=None):
        return _can(request, RULES_ACTION)


@admin.register(PublicityRegime)
class PublicityRegimeAdmin(RulesAdmin):
    list_display = ("code", "name", "effective_from", "effective_to")
    search_fields = ("code", "name")
    inlines = [PeriodRuleInline]

    def has_delete_permission(self, request, obj=None):
        return False  # records are judged by it: change its window instead


@admin.register(TierRule)
class TierRuleAdmin(RulesAdmin):
    list_display = (
        "code",
        "order",
        "tier",
        "penalty_types",
        "min_amount",
        "max_amount",
        "subject_kinds",
        "active",
    )
    list_editable = ("order", "active")
    list_filter = ("tier", "active")
    search_fields = ("code", "description")


@admin.register(SectorRule)
class SectorRuleAdmin(RulesAdmin):
    list_display = ("code", "order", "sector", "sector_name", "departments", "keywords", "active")
    list_filter = ("sector", "active")
    search_fields = ("code", "sector_name")


@admin.register(PublicityOption)
class PublicityOptionAdmin(RulesAdmin):
    list_display = ("key", "value", "description")


class ReadOnlyAdmin(admin.ModelAdmin):
    """The read model and the facts' history: visible with "records.view", scoped; changed only
    through services."""

    actions = None
    show_full_result_count = False

    def get_queryset(self, request):
        return restrict(super().get_queryset(request), Principal.of(request.user), VIEW_ACTION)

    def has_module_permission(self, request):
        return _can(request, VIEW_ACTION)

    def has_view_permission(self, request, obj=None):
        return _can(request, VIEW_ACTION)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Publicity)
class PublicityAdmin(ReadOnlyAdmin):
    list_display = (
        "record",
        "category",
        "department",
        "tier",
        "sector",
        "regime",
        "start",
        "repair_from",
        "end",
        "state",
    )
    list_filter = ("state", "tier", "category", "regime")
    list_select_related = ("record", "category", "department", "regime")
    search_fields = ("=record__id", "=record__business_key")
    raw_id_fields = ("record", "subject")
    date_hierarchy = "start"


@admin.register(PublicityEvent)
class PublicityEventAdmin(ReadOnlyAdmin):
    list_display = (
        "record",
        "from_state",
        "to_state",
        "tier",
        "start",
        "end",
        "day",
        "at",
        "reason",
    )
    list_filter = ("to_state", "reason")
    search_fields = ("=record__id",)
    raw_id_fields = ("record",)

    def get_queryset(self, request):
        return _scoped_by_record(request, admin.ModelAdmin.get_queryset(self, request))


@admin.register(TierOverride)
class TierOverrideAdmin(ReadOnlyAdmin):
    list_display = ("record", "tier", "reason", "set_by_label", "created_at", "revoked_at")
    raw_id_fields = ("record", "set_by")

    def get_queryset(self, request):
        return _scoped_by_record(request, admin.ModelAdmin.get_queryset(self, request))


@admin.register(PublicityMark)
class PublicityMarkAdmin(ReadOnlyAdmin):
    list_display = ("record", "kind", "reason", "created_by_label", "created_at", "lifted_at")
    list_filter = ("kind",)
    raw_id_fields = ("record",)

    def get_queryset(self, request):
        return _scoped_by_record(request, admin.ModelAdmin.get_queryset(self, request))


def _scoped_by_record(request, queryset):
    """Facts about records are visible where their records are."""

    visible = restrict(Record.objects.all(), Principal.of(request.user), VIEW_ACTION)
    if visible.query.is_empty():
        return queryset.none()
    principal = Principal.of(request.user)
    if principal.is_department_scoped or principal.is_district_scoped:
        return queryset.filter(record__in=visible.values("pk"))
    return queryset
