"""报告核验: the public verification of credit reports (pubcredit.reports.verification).

- `/verify/<number>`: the address printed and QR-coded on every report (no trailing slash; the
  slashed form redirects to it): the verdict 有效 / 已过期 / 不存在, the subject (a person's
  masked), time of issue, validity, the PDF's sha256 and whether the subject's public credit
  information changed since issue; and the upload form.
- `/verify/`: a number form (GET ?number= redirects to the report's page) and the upload form
  (POST: is this PDF the file we issued, unaltered? At most 20 MB; parsed in a limited child).

Public, no login; every request rate-limited per address (core.ratelimit, scope "verify").
"""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pubcredit.core import ratelimit
from pubcredit.reports import verification

NAV = "services"
UPLOAD_FIELD = "pdf"
# The multipart envelope around a file of MAX_UPLOAD_BYTES (boundaries, headers, the token).
_ENVELOPE = 64 * 1024


def _limited(request):
    decision = ratelimit.check(request, "verify")
    if decision.allowed:
        return None
    response = render(request, "portal/ratelimited.html", status=429)
    response["Retry-After"] = str(decision.retry_after)
    return response


def _page(request, context: dict, status: int = 200):
    context = {
        "nav_current": NAV,
        "max_mb": verification.MAX_UPLOAD_BYTES // 2**20,
        "upload_field": UPLOAD_FIELD,
        **context,
    }
    response = render(request, "portal/verify.html", context, status=status)
    add_never_cache_headers(response)  # validity and the change statement are of today
    return response


def _upload(request) -> dict:
    """The uploaded file checked, or a refusal with the reason (check_upload's shape)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > verification.MAX_UPLOAD_BYTES + _ENVELOPE:
        # Refused before Django reads the body into a temporary file.
        return verification.too_large()
    upload = request.FILES.get(UPLOAD_FIELD)
    if upload is None:
        return verification.refused(_("请选择要核验的 PDF 报告文件。"))
    if upload.size > verification.MAX_UPLOAD_BYTES:
        return verification.too_large()
    return verification.check_upload(upload.read())


@require_http_methods(["GET", "POST"])
def index(request):
    """报告核验: enter a number, or upload a file."""
    limited = _limited(request)
    if limited:
        return limited
    if request.method == "POST":
        return _page(request, {"upload": _upload(request)})
    typed = request.GET.get("number", "").strip()[:40]
    if typed:
        number = verification.normalize_number(typed)
        if number is not None:
            return redirect("portal:verify", number=number)
        return _page(request, {"typed": typed, "not_found": True}, status=404)
    return _page(request, {})


@require_http_methods(["GET", "HEAD"])
def report(request, number: str):
    """The verification of one report (the address on the report)."""
    limited = _limited(request)
    if limited:
        return limited
    canonical = verification.normalize_number(number)
    if canonical is not None and canonical != number:
        return redirect("portal:verify", number=canonical)
    found = verification.lookup(number) if canonical else None
    if found is None:
        return _page(request, {"typed": number[:40], "not_found": True}, status=404)
    return _page(request, {"report": found, "typed": found["number"]})


def slashed(request, number: str):
    """/verify/<number>/ → /verify/<number> (the printed address)."""
    return redirect(reverse("portal:verify", kwargs={"number": number}), permanent=True)
