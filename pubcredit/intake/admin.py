"""Read-only admin for submissions, row errors, saved column mappings and the review queue.
Submissions are created and processed through intake.services; the admin shows them, restricted
to the viewer's scope."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.intake.models import ColumnMapping, MatchReview, RowError, Submission


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    actions = None
    view_action = "records.view"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return restrict(qs, Principal.of(request.user), self.view_action)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "id",
        "received_at",
        "department",
        "category",
        "filename",
        "channel",
        "status",
        "progress",
        "rows",
        "accepted",
        "rejected",
        "inserted",
        "updated",
        "unchanged",
        "late",
    )
    list_filter = ("status", "channel", "source", "category", "department")
    search_fields = ("=id", "filename", "=sha256")
    list_select_related = ("department", "category")
    date_hierarchy = "received_at"
    exclude = ("mapping", "timings", "mapping_override")
    readonly_fields = [
        f.name
        for f in Submission._meta.fields
        if f.name not in ("mapping", "timings", "mapping_override")
    ] + ["mapping_pretty", "timings_pretty"]

    @admin.display(description=_("列映射"))
    def mapping_pretty(self, submission):
        return _pretty(submission.mapping)

    @admin.display(description=_("耗时(秒)"))
    def timings_pretty(self, submission):
        return _pretty(submission.timings)


def _pretty(value) -> str:
    if not value:
        return "—"
    return format_html(
        "<pre style='white-space:pre-wrap;margin:0'>{}</pre>",
        json.dumps(value, ensure_ascii=False, indent=2),
    )


@admin.register(RowError)
class RowErrorAdmin(ReadOnlyScopedAdmin):
    list_display = ("submission", "row", "field_name", "value", "rule", "message", "severity")
    list_filter = ("severity", "rule")
    search_fields = ("=submission__id",)
    raw_id_fields = ("submission",)
    show_full_result_count = False


@admin.register(ColumnMapping)
class ColumnMappingAdmin(ReadOnlyScopedAdmin):
    list_display = ("department", "category", "header", "field_code", "confirmed", "updated_at")
    list_filter = ("category", "confirmed", "department")
    search_fields = ("header", "field_code")


@admin.register(MatchReview)
class MatchReviewAdmin(ReadOnlyScopedAdmin):
    view_action = "subjects.view"
    list_display = ("subject_name", "best_score", "status", "record", "submission", "created_at")
    list_filter = ("status",)
    search_fields = ("subject_name", "name_norm")
    raw_id_fields = ("record", "submission", "resolved_subject")
    readonly_fields = [f.name for f in MatchReview._meta.fields]
