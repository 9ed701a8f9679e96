from django.contrib import admin

from pubcredit.holidays.models import CalendarException, CalendarYear


@admin.register(CalendarException)
class CalendarExceptionAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "is_workday", "source"]
    list_filter = ["is_workday", "source"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        obj.source = CalendarException.Source.MANUAL
        super().save_model(request, obj, form, change)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "provisional", "note"]
