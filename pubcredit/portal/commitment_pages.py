"""Public pages of the commitments app (under /commitments/ on the portal): sign a commitment
online, follow it by its token until the accepting department confirms it (then the code and
the 信用承诺书), download the letter by its token. Thin: the form collects,
`confirmation.submit_signing` decides and writes. The answer to a signing is the same whatever
the register holds ("承诺已提交,待受理部门确认"): it never says whether a name and a code
match, and it creates no subject."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pubcredit.accounts.permissions import PUBLIC
from pubcredit.commitments import confirmation
from pubcredit.commitments.forms import SignForm
from pubcredit.commitments.models import Commitment, SigningRequest
from pubcredit.core import letters, ratelimit
from pubcredit.subjects.masking import public_name


def _private(response):
    """Pages and files naming a signer are never cached or indexed."""
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _apply_errors(form: SignForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        # Service errors on items the form does not show (subject, source…) go on top.
        form.add_error(field if field in form.fields else None, messages)


@require_http_methods(["GET", "POST"])
def sign(request):
    """The online signing form (网上签署信用承诺)."""
    status = 200
    if request.method == "POST":
        decision = ratelimit.check(request, "commitments")
        if not decision.allowed:
            response = render(request, "portal/ratelimited.html", status=429)
            response["Retry-After"] = str(decision.retry_after)
            return response
        form = SignForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                req = confirmation.submit_signing(
                    PUBLIC,
                    kind=data["kind"],
                    name=data["name"],
                    uscc=data.get("uscc"),
                    id_number=data.get("id_number"),
                    commitment_type=data["commitment_type"],
                    reason=data["reason"],
                    content=data["content"],
                    liability=data["liability"],
                    department=data["department"],
                    signer_name=data["signer_name"],
                    signer_contact=data["signer_contact"],
                    publicity_type=data["publicity_type"],
                    valid_to=data.get("valid_to"),
                    matter=data.get("matter"),
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                return redirect("portal:commitments:submitted", token=req.token)
        status = 422
    else:
        form = SignForm()
    response = render(
        request,
        "commitments/portal/sign.html",
        {"form": form, "nav_current": "services"},
        status=status,
    )
    return _private(response)


def submitted(request, token: str):
    """Where a signer follows an online signing: 待受理部门确认 until the department decides,
    then the code and the letter (confirmed) or the department's reason (not accepted)."""
    token = (token or "").strip()
    req = None
    if token and len(token) <= 64:
        req = (
            SigningRequest.objects.filter(token=token)
            .select_related("department", "matter", "commitment")
            .first()
        )
    if req is None:
        raise Http404(_("网上签署记录不存在"))
    response = render(
        request,
        "commitments/portal/submitted.html",
        {
            "req": req,
            "committer_name": public_name(req.committer_name, req.committer_kind),
            "submitted_text": confirmation.SUBMITTED,
            "nav_current": "services",
        },
    )
    return _private(response)


def _by_token(token: str) -> Commitment:
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise Http404(_("承诺书不存在"))
    found = (
        Commitment.objects.filter(letter_token=token).select_related("department", "matter").first()
    )
    if found is None:
        raise Http404(_("承诺书不存在"))
    return found


def signed(request, token: str):
    """The result of a signing: the code and the link to the letter."""
    commitment = _by_token(token)
    response = render(
        request,
        "commitments/portal/signed.html",
        {
            "commitment": commitment,
            "committer_name": public_name(commitment.committer_name, commitment.committer_kind),
            "nav_current": "services",
        },
    )
    return _private(response)


def letter(request, token: str):
    """The 信用承诺书 (PDF) of a commitment, by the token handed out when it was signed."""
    commitment = _by_token(token)
    if not commitment.letter:
        raise Http404(_("承诺书不存在"))
    response = letters.stored_pdf_download(
        commitment.letter, f"信用承诺书-{commitment.code}.pdf", missing=_("承诺书不存在")
    )
    return _private(response)
