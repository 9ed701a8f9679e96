"""Admin for repair: the repair rules are versioned configuration, edited here with an audit
event per save and never deleted (applications refer to them). Applications, objections and
training are handled in the console, where every step is a service call with its history."""

from django.contrib import admin

from pubcredit.lists.admin import AuditedAdmin
from pubcredit.repair.models import RepairRule


@admin.register(RepairRule)
class RepairRuleAdmin(AuditedAdmin):
    audit_prefix = "repair"
    list_display = ("code", "name", "effective_from", "effective_to", "training_tiers")
    search_fields = ("code", "name", "legal_basis")
    readonly_fields = ("code",)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()
