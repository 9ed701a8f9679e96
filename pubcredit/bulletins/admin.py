"""The aggregation statistics in the admin: read-only (the records flow keeps them; `pubcredit
bulletins rebuild` recomputes them)."""

from django.contrib import admin

from pubcredit.bulletins.models import DepartmentMonthMetric


@admin.register(DepartmentMonthMetric)
class DepartmentMonthMetricAdmin(admin.ModelAdmin):
    list_display = [
        "month",
        "department",
        "category",
        "district",
        "written",
        "first_reports",
        "corrections",
        "due",
        "on_time",
        "late",
        "withdrawn",
    ]
    list_filter = [
        "month",
        ("category", admin.RelatedOnlyFieldListFilter),
        ("district", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["department", "category", "district"]
    search_fields = ["department__code", "department__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
