"""信用报告 on the portal: anyone downloads an organisation's or 个体工商户's public credit report
(标准版, or 无违法违规记录证明版 for a period and fields) from its credit page; never a natural
person's (404). Rate-limited per client address (core.ratelimit, scope "report", its own rate
PUBCREDIT_PUBLIC_REPORT_RATE since each download draws a PDF), a Chinese 429 page beyond it.

Thin: resolve the subject, call `reports.channels.issue_public` (channel 门户网站), answer the PDF.
The form POSTs (a report is a new document, issued and recorded)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pubcredit.core import ratelimit
from pubcredit.core.letters import stored_pdf_download
from pubcredit.publicity.public import RefExpired, resolve_subject_ref
from pubcredit.reports import channels
from pubcredit.reports.models import ReportKind

DEFAULT_REPORT_RATE = "10/60"


def report_rate() -> ratelimit.Rate | None:
    return ratelimit.Rate.parse(
        getattr(settings, "PUBCREDIT_PUBLIC_REPORT_RATE", DEFAULT_REPORT_RATE)
    )


def _date(text: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("日期格式应为 年-月-日,例如 2026-01-31。")) from None


def report_form_context(subject) -> dict:
    """What the subject page's "下载信用报告" section needs (nothing for a person)."""
    if subject.is_person:
        return {}
    start, end = channels.default_period()
    return {
        "report_form": {
            "period_from": start,
            "period_to": end,
            "fields": channels.field_choices(),
            "kinds": ReportKind.choices,
        }
    }


@require_POST
def subject_report(request, ref: str):
    try:
        subject = resolve_subject_ref(ref)
    except RefExpired:
        subject = None
    if subject is None or subject.is_person:
        raise Http404(_("主体不存在"))
    rate = report_rate()
    decision = ratelimit.hit("report", ratelimit.client_address(request), rate)
    if not decision.allowed:
        response = render(
            request,
            "portal/report_ratelimited.html",
            {"rate": rate, "retry_after": decision.retry_after},
            status=429,
        )
        response["Retry-After"] = str(decision.retry_after)
        return response
    try:
        report = channels.issue_public(
            subject,
            kind=request.POST.get("kind") or ReportKind.STANDARD,
            period_from=_date(request.POST.get("period_from", "")),
            period_to=_date(request.POST.get("period_to", "")),
            fields=request.POST.getlist("fields"),
            client_address=ratelimit.client_ip(request),
        )
    except ValidationError as exc:
        return render(
            request,
            "portal/report_invalid.html",
            {"messages_list": exc.messages, "ref": ref},
            status=400,
        )
    return stored_pdf_download(report.pdf, channels.pdf_filename(report))
