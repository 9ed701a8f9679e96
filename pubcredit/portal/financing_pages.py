"""信易贷 on the portal (under /financing/, namespace "financing_portal"):

- the public product list and the platform's financing statistics;
- an 企业用户's own page (signed in): ask to bind the account to its subject by 统一社会信用代码
  (the credit centre approves), post financing demands, grant and revoke authorisations
  (授权书), and see which institution looked at its credit profile and when.

Thin: forms collect, financing.services decides and writes."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from pubcredit.accounts.permissions import Principal
from pubcredit.financing import services
from pubcredit.financing.models import (
    Authorisation,
    BindingStatus,
    DataScope,
    EnterpriseBinding,
    FinancialInstitution,
)
from pubcredit.financing.views import statistics_context

SECTOR_CHOICES = [(s, s) for s in services.SECTORS]


class BindForm(forms.Form):
    uscc = forms.CharField(label=gettext_lazy("统一社会信用代码"), max_length=18, min_length=18)


class DemandForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("融资金额(万元)"), min_value=0.01, max_digits=12, decimal_places=2
    )
    term_months = forms.IntegerField(label=gettext_lazy("期限(月)"), min_value=1, max_value=600)
    purpose = forms.CharField(label=gettext_lazy("用途"), max_length=256)
    sector = forms.ChoiceField(
        label=gettext_lazy("所属行业门类"),
        choices=SECTOR_CHOICES,
        help_text=gettext_lazy("国民经济行业分类门类代码,例如 C 制造业、F 批发和零售业。"),
    )


class GrantForm(forms.Form):
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("授权数据范围"),
        choices=DataScope.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    institutions = forms.ModelMultipleChoiceField(
        label=gettext_lazy("授权金融机构"),
        queryset=FinancialInstitution.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("不选表示授权全部金融机构。"),
    )
    valid_until = forms.DateField(
        label=gettext_lazy("有效期至"), widget=forms.DateInput(attrs={"type": "date"})
    )


def products(request):
    return render(
        request,
        "portal/financing_products.html",
        {
            "products": services.public_products()[:500],
            **statistics_context(),
            "nav_current": "services",
        },
    )


def _errors(form, exc: ValidationError) -> None:
    form.add_error(None, exc.messages)


@login_required
@require_http_methods(["GET", "POST"])
def enterprise(request):
    principal = Principal.of(request.user)
    principal.require("financing.apply")
    binding = (
        EnterpriseBinding.objects.filter(user=request.user)
        .select_related("subject")
        .order_by("-requested_at", "-pk")
        .first()
    )
    bound = binding is not None and binding.status == BindingStatus.APPROVED
    bind_form, demand_form, grant_form = BindForm(), DemandForm(), GrantForm()
    action = request.POST.get("action") if request.method == "POST" else None
    try:
        if action == "bind":
            bind_form = BindForm(request.POST)
            if bind_form.is_valid():
                services.request_binding(principal, bind_form.cleaned_data["uscc"])
                messages.success(request, _("绑定申请已提交,待信用中心审核。"))
                return redirect("financing_portal:enterprise")
        elif action == "demand":
            demand_form = DemandForm(request.POST)
            if demand_form.is_valid():
                services.post_demand(principal, **demand_form.cleaned_data)
                messages.success(request, _("融资需求已发布。"))
                return redirect("financing_portal:enterprise")
        elif action == "grant":
            grant_form = GrantForm(request.POST)
            if grant_form.is_valid():
                data = grant_form.cleaned_data
                until = timezone.make_aware(
                    dt.datetime.combine(data["valid_until"], dt.time(23, 59, 59))
                )
                services.grant_authorisation(
                    principal,
                    scopes=data["scopes"],
                    valid_until=until,
                    institution_ids=[i.pk for i in data["institutions"]],
                )
                messages.success(request, _("授权书已生效。"))
                return redirect("financing_portal:enterprise")
        elif action == "revoke":
            services.revoke_authorisation(principal, int(request.POST.get("authorisation", "0")))
            messages.success(request, _("授权书已撤销,立即生效。"))
            return redirect("financing_portal:enterprise")
    except ValidationError as exc:
        form = {"bind": bind_form, "demand": demand_form, "grant": grant_form}[action]
        _errors(form, exc)
    except (Authorisation.DoesNotExist, ValueError) as exc:
        raise PermissionDenied(_("该授权书不存在。")) from exc
    context = {
        "binding": binding,
        "bound": bound,
        "bind_form": bind_form,
        "demand_form": demand_form,
        "grant_form": grant_form,
        "nav_current": "services",
    }
    if bound:
        context.update(
            demands=services.own_demands(principal)[:100],
            authorisations=services.own_authorisations(principal).prefetch_related("institutions")[
                :100
            ],
            views=services.views_of(principal)[:200],
            now=timezone.now(),
        )
    status = 422 if request.method == "POST" else 200
    response = render(request, "portal/financing_enterprise.html", context, status=status)
    add_never_cache_headers(response)
    return response
