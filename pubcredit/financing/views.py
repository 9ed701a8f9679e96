"""信易贷 console pages, mounted under /console/financing/ (namespace "financing"):

- for a 金融机构用户: the demands matching the institution's products; one demand with the
  enterprise's credit profile (shown on request, under a live authorisation, each look logged)
  and the outcome form (受理, 放款, 拒绝);
- for the credit centre: enterprise accounts' bindings to approve, and the statistics.

Thin: the principal, a form, a service call, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from pubcredit.accounts.permissions import Principal
from pubcredit.financing import services
from pubcredit.financing.models import (
    BindingStatus,
    EnterpriseBinding,
    OutcomeKind,
)


class OutcomeForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("对接结果"), choices=OutcomeKind.choices)
    product = forms.ModelChoiceField(label=gettext_lazy("信贷产品"), queryset=None, required=False)
    amount = forms.DecimalField(
        label=gettext_lazy("放款金额(万元)"), required=False, max_digits=12, decimal_places=2
    )
    rate = forms.DecimalField(
        label=gettext_lazy("年利率(%)"), required=False, max_digits=5, decimal_places=2
    )
    granted_on = forms.DateField(
        label=gettext_lazy("放款日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(label=gettext_lazy("拒绝理由"), required=False, max_length=256)

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = institution.products.filter(active=True)


def _lender(request) -> Principal:
    principal = Principal.of(request.user)
    principal.require("financing.lend")
    return principal


@login_required
def demands(request):
    principal = _lender(request)
    institution = services.institution_of(principal)
    rows = services.matched_demands(principal)[:200]
    return render(
        request,
        "financing/demands.html",
        {"institution": institution, "demands": rows},
    )


@login_required
@require_http_methods(["GET", "POST"])
def demand(request, pk: int):
    principal = _lender(request)
    institution = services.institution_of(principal)
    row = get_object_or_404(services.reachable_demands(principal).select_related("subject"), pk=pk)
    profile = None
    form = OutcomeForm(institution=institution)
    if request.method == "POST" and request.POST.get("action") == "profile":
        try:
            profile = services.view_profile(principal, row.subject_id, demand_id=row.pk)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
    elif request.method == "POST":
        form = OutcomeForm(request.POST, institution=institution)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_outcome(
                    principal,
                    row.pk,
                    kind=data["kind"],
                    product_id=data["product"].pk if data["product"] else None,
                    amount=data["amount"],
                    rate=data["rate"],
                    granted_on=data["granted_on"],
                    reason=data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("对接结果已登记。"))
                return redirect("financing:demand", pk=row.pk)
    response = render(
        request,
        "financing/demand.html",
        {
            "institution": institution,
            "demand": row,
            "profile": profile,
            "form": form,
            "outcomes": row.outcomes.filter(institution=institution),
            "products": services.matched_products(row).filter(institution=institution),
        },
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def bindings(request):
    principal = Principal.of(request.user)
    principal.require("financing.manage")
    if request.method == "POST":
        try:
            services.decide_binding(
                principal,
                int(request.POST.get("binding", "0")),
                approve=request.POST.get("decision") == "approve",
                note=request.POST.get("note", "")[:256],
            )
        except (ValidationError, EnterpriseBinding.DoesNotExist, ValueError):
            messages.error(request, _("该申请不存在或已审核。"))
        else:
            messages.success(request, _("已审核。"))
        return redirect("financing:bindings")
    pending = EnterpriseBinding.objects.filter(status=BindingStatus.PENDING).select_related(
        "user", "subject"
    )
    return render(request, "financing/bindings.html", {"pending": pending[:200]})


def statistics_context() -> dict:
    """The statistics and their breakdowns as the shared template (_statistics.html) shows
    them: by institution first (loans only), then by sector and by district."""
    stats = services.statistics()
    return {
        "stats": stats,
        "breakdowns": [
            (_("按金融机构"), stats["by_institution"]),
            (_("按行业门类"), stats["by_sector"]),
            (_("按区县(行政区划代码)"), stats["by_district"]),
        ],
    }


@login_required
def statistics(request):
    Principal.of(request.user).require("financing.manage")
    return render(request, "financing/statistics.html", statistics_context())
