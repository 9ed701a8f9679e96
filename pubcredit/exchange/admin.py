"""The exchange endpoint (where batches are pushed) is configured here; the export batches are
read-only (the export and the push client write them)."""

from django.contrib import admin

from pubcredit.exchange.models import ExchangeEndpoint, ExportBatch


@admin.register(ExchangeEndpoint)
class ExchangeEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active"]


@admin.register(ExportBatch)
class ExportBatchAdmin(admin.ModelAdmin):
    list_display = [
        "sequence",
        "since",
        "until",
        "records",
        "list_entries",
        "withdrawals",
        "status",
        "attempt_count",
        "acknowledged_at",
    ]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
