"""Public pages of the commitments app (under /commitments/ on the portal): sign a commitment
online, see the result with the code, download the 信用承诺书 by its token. Thin: the form
collects, `signing.subject_for_signing` and `signing.sign_commitment` decide and write."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pubcredit.accounts.permissions import PUBLIC
from pubcredit.commitments import signing
from pubcredit.commitments.forms import SignForm
from pubcredit.commitments.models import Commitment
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
                with transaction.atomic():
                    subject = signing.subject_for_signing(
                        data["kind"],
                        data["name"],
                        uscc=data.get("uscc"),
                        id_number=data.get("id_number"),
                    )
                    commitment = signing.sign_commitment(
                        PUBLIC,
                        subject=subject,
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
                return redirect("portal:commitments:signed", token=commitment.letter_token)
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
