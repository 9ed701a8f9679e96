"""Console pages of the commitments app (under /console/commitments/): the register, scoped
and filterable, and one commitment with its history and the fulfilment assessment form.

Thin: rows come from `restrict(…, "repair.view")` (a 部门报送员 sees the commitments its
department accepted, a 区县管理员 those of its district's subjects), the assessment goes
through `assessment.assess_commitment`. Lists show natural persons masked; the signer's name and
telephone are shown only to whoever may assess the commitment (the accepting department), masked
(张*, 138****1234) until a 查询事由 is given (`signers.reveal_signer` logs the look).

Online signings wait for the accepting department (/console/commitments/requests/…): the clerk
sees how the stated subject compares with the register and confirms or rejects
(`confirmation.confirm_signing` / `reject_signing`)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department
from pubcredit.commitments import assessment, confirmation, queries, signers
from pubcredit.commitments.forms import AssessForm, DecisionForm, PurposeForm
from pubcredit.commitments.models import (
    BREACHES,
    Commitment,
    CommitmentType,
    Performance,
    SigningRequest,
)
from pubcredit.core import letters
from pubcredit.subjects.masking import public_name

PER_PAGE = 30


def _viewer(request) -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(queries.VIEW_ACTION)):
        raise PermissionDenied(_("您的账号没有查看信用承诺的权限。如需开通,请联系平台管理员。"))
    return principal


def _visible(principal: Principal):
    return queries.visible_commitments(principal).select_related("department", "assessor", "matter")


def _get(principal: Principal, pk: int) -> Commitment:
    found = _visible(principal).filter(pk=pk).first()
    if found is None:
        raise Http404(_("信用承诺不存在或无权查看。"))
    return found


@login_required
def commitment_list(request):
    principal = _viewer(request)
    qs = _visible(principal)
    ctype = request.GET.get("type", "")
    performance = request.GET.get("performance", "")
    department = request.GET.get("department", "")
    code = request.GET.get("code", "").strip()[:20]
    if ctype in CommitmentType.values:
        qs = qs.filter(commitment_type=ctype)
    if performance == "breach":
        qs = qs.filter(performance__in=BREACHES)
    elif performance in Performance.values:
        qs = qs.filter(performance=performance)
    departments = None
    if not principal.is_department_scoped:
        departments = list(Department.objects.filter(active=True).order_by("level", "code"))
        if department:
            qs = qs.filter(department__code=department)
    if code:
        qs = qs.filter(code__startswith=code)
    due = request.GET.get("due") == "1"
    if due:
        qs = qs.filter(queries.assessment_due_q(timezone.localdate()))
    paginator = Paginator(qs.order_by("-made_on", "-id"), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [
        {"c": c, "name": public_name(c.committer_name, c.committer_kind)} for c in page.object_list
    ]
    pending = [
        {"r": r, "name": public_name(r.committer_name, r.committer_kind)}
        for r in confirmation.visible_requests(principal)
        .filter(status=SigningRequest.Status.PENDING)
        .order_by("submitted_at", "id")[:PER_PAGE]
    ]
    query = urlencode(
        {
            k: v
            for k, v in {
                "type": ctype,
                "performance": performance,
                "department": department,
                "code": code,
                "due": "1" if due else "",
            }.items()
            if v
        }
    )
    return render(
        request,
        "commitments/console/list.html",
        {
            "page": page,
            "rows": rows,
            "types": CommitmentType.choices,
            "performances": [*Performance.choices, ("breach", _("违诺(部分履行或全部未履行)"))],
            "departments": departments,
            "scope_department": principal.department if principal.is_department_scoped else None,
            "scope_district": principal.district if principal.is_district_scoped else None,
            "filters": {
                "type": ctype,
                "performance": performance,
                "department": department,
                "code": code,
                "due": due,
            },
            "query": query,
            "pending": pending,
        },
    )


def _signer_context(request, principal: Principal, obj, show: bool) -> dict:
    """The signer as the page shows it: masked; in full after a 查询事由 POSTed to the page
    (logged by signers.reveal_signer)."""
    if not show or not obj.signer_name:
        return {"show_signer": False}
    purpose_form = PurposeForm(request.POST if "purpose" in request.POST else None)
    signer = signers.masked_signer(obj)
    revealed = ""
    if purpose_form.is_bound and purpose_form.is_valid():
        purpose = purpose_form.cleaned_data["purpose"]
        try:
            signer = signers.reveal_signer(
                principal,
                obj,
                purpose=purpose,
                client_address=request.META.get("REMOTE_ADDR") or None,
            )
        except ValidationError as exc:
            purpose_form.add_error("purpose", exc.messages)
        else:
            revealed = purpose
    return {
        "show_signer": True,
        "signer": signer,
        "signer_revealed": revealed,
        "purpose_form": purpose_form,
    }


def _detail_context(request, principal: Principal, commitment: Commitment, form=None) -> dict:
    may_assess = assessment.can_assess(principal, commitment)
    allowed = assessment.allowed_transitions(commitment) if may_assess else ()
    if may_assess and allowed and form is None:
        form = AssessForm(allowed=allowed)
    return {
        "commitment": commitment,
        "committer_name": public_name(commitment.committer_name, commitment.committer_kind),
        "events": list(commitment.events.order_by("at", "id")),
        "may_assess": may_assess,
        "form": form if allowed else None,
        **_signer_context(request, principal, commitment, may_assess),
    }


@login_required
@require_http_methods(["GET", "POST"])
def commitment_detail(request, pk: int):
    """One commitment; a POST carries the 查询事由 that reveals the signer."""
    principal = _viewer(request)
    commitment = _get(principal, pk)
    response = render(
        request,
        "commitments/console/detail.html",
        _detail_context(request, principal, commitment),
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def commitment_assess(request, pk: int):
    principal = _viewer(request)
    commitment = _get(principal, pk)
    if not assessment.can_assess(principal, commitment):
        raise PermissionDenied(_("只能认定本部门受理的信用承诺的履行情况。"))
    allowed = assessment.allowed_transitions(commitment)
    form = AssessForm(request.POST, allowed=allowed)
    if form.is_valid():
        data = form.cleaned_data
        try:
            assessment.assess_commitment(
                principal,
                commitment,
                data["performance"],
                unfulfilled_content=data["unfulfilled_content"],
                liability_enforced=data["liability_enforced"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("已认定履行状态。"))
            return redirect("console:commitments:detail", pk=commitment.pk)
    commitment.refresh_from_db()
    response = render(
        request,
        "commitments/console/detail.html",
        _detail_context(request, principal, commitment, form),
        status=422,
    )
    add_never_cache_headers(response)
    return response


@login_required
def commitment_letter(request, pk: int):
    principal = _viewer(request)
    commitment = _get(principal, pk)
    if not commitment.letter:
        raise Http404(_("该承诺没有在线生成的承诺书。"))
    return letters.stored_pdf_download(
        commitment.letter, f"信用承诺书-{commitment.code}.pdf", missing=_("承诺书文件不存在。")
    )


# --------------------------------------------------------------------------- online signings


def _request(principal: Principal, pk: int) -> SigningRequest:
    found = confirmation.visible_requests(principal).filter(pk=pk).first()
    if found is None:
        raise Http404(_("网上签署记录不存在或无权查看。"))
    return found


def _request_page(request, principal, req, form=None, status=200):
    may_decide = confirmation.can_decide(principal, req)
    pending = req.status == SigningRequest.Status.PENDING
    context = {
        "req": req,
        "committer_name": public_name(req.committer_name, req.committer_kind),
        "match": confirmation.register_match(req) if pending else None,
        "may_decide": may_decide and pending,
        "form": (form or DecisionForm()) if may_decide and pending else None,
        **_signer_context(request, principal, req, may_decide),
    }
    response = render(request, "commitments/console/request.html", context, status=status)
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def request_detail(request, pk: int):
    """An online signing waiting for (or decided by) the accepting department; a POST carries
    the 查询事由 that reveals the signer."""
    principal = _viewer(request)
    return _request_page(request, principal, _request(principal, pk))


@login_required
@require_POST
def request_decide(request, pk: int):
    principal = _viewer(request)
    req = _request(principal, pk)
    if not confirmation.can_decide(principal, req):
        raise PermissionDenied(_("只能办理本部门受理的网上签署。"))
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "confirm":
                commitment = confirmation.confirm_signing(principal, req, note=data["note"])
            else:
                confirmation.reject_signing(principal, req, reason=data["note"])
        except ValidationError as exc:
            for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if data["decision"] == "confirm":
                messages.success(request, _("已确认受理,承诺编码 %(c)s。") % {"c": commitment.code})
                return redirect("console:commitments:detail", pk=commitment.pk)
            messages.success(request, _("已不予受理。"))
            return redirect("console:commitments:request", pk=req.pk)
    req.refresh_from_db()
    return _request_page(request, principal, req, form, status=422)
