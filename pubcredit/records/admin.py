"""Read-only admin for records and their history: records are written by intake and changed only
through services (withdraw_record), so the admin shows them and nothing more. Rows are restricted
to the viewer's scope like every other queryset."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.records.models import Record, RecordVersion


def _pretty_json(value) -> str:
    if not value:
        return "—"
    return format_html(
        "<pre style='white-space:pre-wrap;margin:0'>{}</pre>",
        json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True),
    )


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    """Nobody adds, changes or deletes here; the list is restricted by "records.view"."""

    actions = None

    def get_queryset(self, request):
        return restrict(super().get_queryset(request), Principal.of(request.user), "records.view")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RecordVersionInline(admin.TabularInline):
    model = RecordVersion
    extra = 0
    can_delete = False
    fields = ("version", "content_hash", "submission", "source_row", "received_at", "superseded_at")
    readonly_fields = fields
    ordering = ("-version",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Record)
class RecordAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "business_key",
        "subject_name",
        "category",
        "department",
        "decision_date",
        "version",
        "status",
        "subject_link",
        "updated_at",
    )
    list_filter = ("category", "status", "subject_link", "department")
    search_fields = ("=business_key", "subject_name", "=subject__uscc")
    list_select_related = ("category", "department")
    date_hierarchy = "decision_date"
    raw_id_fields = ("subject", "submission")
    show_full_result_count = False  # COUNT(*) over millions of rows on every page is wasteful
    inlines = [RecordVersionInline]
    fields = (
        "category",
        "department",
        "business_key",
        "subject",
        "subject_name",
        "subject_kind",
        "subject_link",
        "version",
        "content_hash",
        "status",
        "status_reason",
        "status_changed_at",
        "decision_date",
        "valid_from",
        "valid_to",
        "late",
        "submission",
        "source_row",
        "received_at",
        "created_at",
        "updated_at",
        "data_pretty",
        "original_pretty",
    )
    readonly_fields = fields

    @admin.display(description=_("清洗后的数据"))
    def data_pretty(self, record):
        return _pretty_json(record.data)

    @admin.display(description=_("原始值(与清洗后不同的单元格)"))
    def original_pretty(self, record):
        return _pretty_json(record.original)


@admin.register(RecordVersion)
class RecordVersionAdmin(ReadOnlyScopedAdmin):
    list_display = ("record", "version", "subject_name", "submission", "superseded_at")
    raw_id_fields = ("record", "subject", "submission")
    search_fields = ("=record__id", "=record__business_key")
    show_full_result_count = False
    fields = (
        "record",
        "version",
        "content_hash",
        "subject",
        "subject_name",
        "subject_kind",
        "submission",
        "source_row",
        "received_at",
        "created_at",
        "superseded_at",
        "data_pretty",
        "original_pretty",
    )
    readonly_fields = fields

    @admin.display(description=_("清洗后的数据"))
    def data_pretty(self, version):
        return _pretty_json(version.data)

    @admin.display(description=_("原始值"))
    def original_pretty(self, version):
        return _pretty_json(version.original)
