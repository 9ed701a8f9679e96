"""Admin for the 信易贷 reference data the credit centre maintains (financing.manage):
institutions, their staff accounts, credit products and the matching rules (switched on or
off). Every save writes an audit event; nothing can be deleted (deactivate instead). Demands,
authorisations, views and outcomes change only through financing.services."""

from django.contrib import admin

from pubcredit.financing.models import (
    CreditProduct,
    FinancialInstitution,
    InstitutionMember,
    MatchingRule,
)
from pubcredit.lists.admin import AuditedAdmin


class FinancingAudited(AuditedAdmin):
    audit_prefix = "financing"


@admin.register(FinancialInstitution)
class FinancialInstitutionAdmin(FinancingAudited):
    list_display = ("name", "uscc", "contact", "active")
    list_filter = ("active",)
    search_fields = ("name", "uscc")


@admin.register(InstitutionMember)
class InstitutionMemberAdmin(FinancingAudited):
    list_display = ("institution", "user", "api_key")
    autocomplete_fields = ()
    raw_id_fields = ("user", "api_key")


@admin.register(CreditProduct)
class CreditProductAdmin(FinancingAudited):
    list_display = (
        "name",
        "institution",
        "amount_min",
        "amount_max",
        "rate_min",
        "rate_max",
        "term_months",
        "min_grade",
        "active",
    )
    list_filter = ("active", "guarantee", "institution")
    search_fields = ("name",)


@admin.register(MatchingRule)
class MatchingRuleAdmin(FinancingAudited):
    list_display = ("code", "name", "active")
    readonly_fields = ("code",)

    def has_add_permission(self, request):
        return False  # a rule's comparison is code (financing.matching): only switch it
