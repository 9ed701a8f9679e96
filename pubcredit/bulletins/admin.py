"""The aggregation statistics in the admin: read-only (the records flow keeps them; `pubcredit
bulletins rebuild` recomputes them). The reporting reminders, read-only too (the daily job
writes them; the department's clerks mark them read in the console), with their webhook
deliveries."""

from django.contrib import admin

from pubcredit.bulletins.models import DepartmentMonthMetric, DutyReminder, DutyReminderDelivery


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


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DutyReminderDeliveryInline(ReadOnlyMixin, admin.TabularInline):
    model = DutyReminderDelivery
    fields = ["url", "status", "attempt_count", "next_attempt_at", "delivered_at", "attempts"]
    readonly_fields = fields
    extra = 0


@admin.register(DutyReminder)
class DutyReminderAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["month", "department", "category", "deadline", "created_at", "read_at"]
    list_filter = ["month", ("category", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["department", "category"]
    search_fields = ["department__code", "department__name"]
    inlines = [DutyReminderDeliveryInline]
