"""Admin for credit evaluation: scorecards and their versions are editable by whoever maintains
the catalogue's rules ("catalog.change"), with an audit event per save; results are read-only.

The supervision policy (inspection ratios by grade, departments' fields) is edited the same way,
audited; a new ratio is best a new row with a later effective date, so the history stays.

A version is frozen once a result refers to it: saving a change to its definition, base points,
effective date or number is refused with a message (add a new version instead); its end date
and admin note stay editable. A new version added here gets the next number; the next full
computation (`pubcredit scoring compute --all`, or the daily task) writes results under it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.scoring.models import (
    InspectionRatio,
    Scorecard,
    ScorecardVersion,
    ScoreResult,
    SupervisionField,
)
from pubcredit.scoring.scorecards import CHANGE_ACTION
from pubcredit.subjects.masking import display_identifier, display_name


def _can(request, action: str = CHANGE_ACTION) -> bool:
    return Principal.of(request.user).can(action)


class AuditedAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return _can(request)

    def has_view_permission(self, request, obj=None):
        return _can(request)

    def has_add_permission(self, request):
        return _can(request)

    def has_change_permission(self, request, obj=None):
        return _can(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        after = snapshot(obj)
        if before != after:
            verb = "update" if change else "create"
            record_event(
                Principal.of(request.user),
                f"scoring.{obj._meta.model_name}_{verb}",
                obj,
                before=before,
                after=after,
                reason="管理后台",
            )


class VersionInline(admin.TabularInline):
    model = ScorecardVersion
    fields = ("version", "effective_from", "effective_to", "base_points", "in_use_since")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Scorecard)
class ScorecardAdmin(AuditedAdmin):
    list_display = ("code", "name", "sector_name", "public", "active", "needs_review")
    list_filter = ("public", "active", "needs_review")
    search_fields = ("code", "name")
    fields = (
        "code",
        "name",
        "subject_kinds",
        "public",
        "sector",
        "sector_name",
        "description",
        "active",
        "sort_order",
        "note",
        "needs_review",
    )
    inlines = [VersionInline]


class VersionForm(forms.ModelForm):
    """A frozen version's definition, base points, effective date and scorecard are refused by
    the model's clean() (FROZEN_MESSAGE), which the form runs."""

    class Meta:
        model = ScorecardVersion
        fields = (
            "scorecard",
            "effective_from",
            "effective_to",
            "base_points",
            "basis",
            "definition",
            "note",
            "needs_review",
        )


@admin.register(ScorecardVersion)
class ScorecardVersionAdmin(AuditedAdmin):
    form = VersionForm
    list_display = ("scorecard", "version", "effective_from", "effective_to", "in_use_since")
    list_filter = ("scorecard", "needs_review")
    readonly_fields = ("version", "digest", "source_file", "in_use_since", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            top = ScorecardVersion.objects.filter(scorecard=obj.scorecard).aggregate(
                n=Max("version")
            )["n"]
            obj.version = (top or 0) + 1
        super().save_model(request, obj, form, change)


@admin.register(ScoreResult)
class ScoreResultAdmin(admin.ModelAdmin):
    """Read-only: results are written by the engine only. Shown to "records.view"; persons'
    names masked (their points are looked at with a logged purpose in the console)."""

    list_display = ("subject_label", "scorecard", "version", "score", "grade", "as_of", "current")
    list_filter = ("scorecard", "grade", "current")
    list_select_related = ("scorecard", "version", "subject")
    fields = (
        "subject_label",
        "scorecard",
        "version",
        "score",
        "grade",
        "points_grade",
        "as_of",
        "computed_at",
        "contributions",
        "current",
    )
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("主体"))
    def subject_label(self, obj):
        return f"{display_name(obj.subject)} {display_identifier(obj.subject)}"

    def has_module_permission(self, request):
        return _can(request, "records.view")

    def has_view_permission(self, request, obj=None):
        return _can(request, "records.view")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InspectionRatio)
class InspectionRatioAdmin(AuditedAdmin):
    list_display = ("scorecard", "grade", "ratio", "effective_from", "effective_to", "needs_review")
    list_filter = ("scorecard", "needs_review")
    fields = (
        "scorecard",
        "grade",
        "ratio",
        "effective_from",
        "effective_to",
        "basis",
        "note",
        "needs_review",
        "source_file",
    )
    readonly_fields = ("source_file",)


@admin.register(SupervisionField)
class SupervisionFieldAdmin(AuditedAdmin):
    list_display = ("department", "scorecards", "by_reports", "needs_review")
    list_filter = ("by_reports", "needs_review")
    fields = ("department", "scorecards", "by_reports", "note", "needs_review")
