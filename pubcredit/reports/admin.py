"""Admin for credit reports.

The fields (领域) of the 无违法违规记录证明版 are catalogue-like configuration: edited by whoever
maintains the catalogue ("catalog.change"), checked on save (departments, categories, list
types, tiers and conditions must exist and be well-formed), with an audit event per save; never
deleted (deactivate instead, or set an end date).

Issued reports are frozen: read-only here, to "records.view", never deleted; a person's report
shows the masked name and identifier it was issued with, and neither its content nor its PDF
(a person's data is looked at in the console, where each look is logged).
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import SubjectKind
from pubcredit.reports.models import NoViolationField, Report

CHANGE_ACTION = "catalog.change"
VIEW_ACTION = "records.view"


def _can(request, action: str) -> bool:
    return Principal.of(request.user).can(action)


@admin.register(NoViolationField)
class NoViolationFieldAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "departments",
        "list_types",
        "sort_order",
        "effective_from",
        "effective_to",
        "active",
        "needs_review",
    )
    list_filter = ("active", "needs_review")
    search_fields = ("code", "name", "policy_basis")
    fieldsets = (
        (None, {"fields": ("code", "name", "active", "needs_review", "sort_order")}),
        (_("计入的记录"), {"fields": ("departments", "sectors", "counts", "list_types")}),
        (
            _("依据和期间"),
            {"fields": ("policy_basis", "effective_from", "effective_to", "note")},
        ),
    )

    def has_module_permission(self, request):
        return _can(request, CHANGE_ACTION)

    def has_view_permission(self, request, obj=None):
        return _can(request, CHANGE_ACTION)

    def has_add_permission(self, request):
        return _can(request, CHANGE_ACTION)

    def has_change_permission(self, request, obj=None):
        return _can(request, CHANGE_ACTION)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        current = type(obj).objects.filter(pk=obj.pk).first() if change and obj.pk else None
        before = snapshot(current) if current is not None else None
        super().save_model(request, obj, form, change)
        after = snapshot(obj)
        if before != after:
            verb = "create" if before is None else "update"
            record_event(
                Principal.of(request.user),
                f"reports.{verb}_noviolationfield",
                obj,
                before=before,
                after=after,
                reason="管理后台",
            )


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "kind",
        "subject_name",
        "identifier",
        "issued_at",
        "valid_until",
        "channel",
        "requested_by",
    )
    list_filter = ("kind", "channel", "subject_kind")
    search_fields = ("number", "identifier")
    show_full_result_count = False
    fields = (
        "number",
        "kind",
        "subject_kind",
        "subject_name",
        "identifier",
        "issued_at",
        "data_as_of",
        "valid_until",
        "period_from",
        "period_to",
        "fields",
        "channel",
        "requested_by",
        "purpose",
        "client_address",
        "content_sha256",
        "pdf_sha256",
        "pdf_link",
        "content_text",
    )
    readonly_fields = fields

    def _person(self, obj) -> bool:
        return obj.subject_kind == SubjectKind.PERSON

    @admin.display(description=_("PDF 文件"))
    def pdf_link(self, obj):
        if self._person(obj) or not obj.pdf:
            return "—"
        return format_html('<a href="{}">{}</a>', obj.pdf.url, obj.number)

    @admin.display(description=_("报告内容"))
    def content_text(self, obj):
        if self._person(obj):
            return _("自然人报告的内容不在管理后台显示。")
        return format_html("<pre>{}</pre>", json.dumps(obj.content, ensure_ascii=False, indent=1))

    def has_module_permission(self, request):
        return _can(request, VIEW_ACTION)

    def has_view_permission(self, request, obj=None):
        return _can(request, VIEW_ACTION)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
