"""Issuing credit reports: the one path for the portal, the API, the window, the CLI and batches.

`issue(principal, subject, kind=…, channel=…, purpose=…)` composes the content
(`content.compose`), adds the head (a random report number, time of issue, issuer, validity,
the verification address), draws the PDF (`render.render_pdf`), signs it with the centre's key
(core.signing, PAdES), stores the frozen report with both digests, and writes its audit row, in
one transaction.

Who gets what: an organisation's or 个体工商户's report holds only public information, so anyone
may have one (the portal rate-limits the public); a natural person's report (自然人公共信用信息报告)
only through staff holding `subjects.view_person`, with a purpose, the look logged
(subjects.access) — never through the portal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal
from pubcredit.core import signing
from pubcredit.core.letters import centre_name
from pubcredit.reports import noviolation, render
from pubcredit.reports.content import compose, content_digest
from pubcredit.reports.models import Report, ReportChannel, ReportKind
from pubcredit.subjects.access import log_person_access
from pubcredit.subjects.models import Subject

ACTION_ISSUE = "reports.issue"
# Crockford's base32 without I, L, O, U: read aloud or typed from paper without ambiguity.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_RANDOM = 12  # 60 bits: numbers cannot be guessed to find others' reports


def new_number(day: dt.date) -> str:
    """A report number: XYBG, the date, 12 random characters (e.g. XYBG20261206K7Q2M9X4T1CD)."""
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(NUMBER_RANDOM))
    return f"XYBG{day:%Y%m%d}{tail}"


def verify_url(number: str) -> str:
    """The public verification address printed (and QR-coded) on the report."""
    return f"{settings.PUBCREDIT_PUBLIC_URL.rstrip('/')}/verify/{number}"


def valid_days() -> int:
    return int(settings.PUBCREDIT_REPORT_VALID_DAYS)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def issue(
    principal: Principal,
    subject: Subject,
    *,
    kind: str = ReportKind.STANDARD,
    channel: str = ReportChannel.WINDOW,
    purpose: str = "",
    client_address: str | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    fields: list[str] | None = None,
    batch=None,
) -> Report:
    """Issue a report on `subject` now. PermissionDenied for a person's report without the
    person permission or a purpose (nothing is logged then); noviolation.NoViolationError for
    a period or fields a 无违法违规记录证明版 cannot have. A 无违法违规记录证明版 stores its period
    and fields resolved (the default: the last 36 months, every field in force)."""
    if subject.is_person:
        if channel == ReportChannel.PORTAL or not principal.can("subjects.view_person"):
            raise PermissionDenied(
                _("自然人公共信用信息报告仅由工作人员在窗口出具,须填写查询事由。")
            )
        if not purpose.strip():
            raise PermissionDenied(_("出具自然人公共信用信息报告须填写查询事由。"))
    now = timezone.now()
    today = timezone.localdate(now)
    if kind == ReportKind.NO_VIOLATION:
        # Stored resolved, so that a verification recomposes the same period and fields.
        period = noviolation.resolve_period(period, today)
        fields = [f.code for f in noviolation.choose_fields(fields, today)]
    content = compose(subject, kind=kind, as_of=now, period=period, fields=fields)
    number = new_number(today)
    valid_until = today + dt.timedelta(days=valid_days())
    content |= {
        "number": number,
        "issued_at": timezone.localtime(now).isoformat(timespec="seconds"),
        "issuer": centre_name(),
        "valid_until": valid_until.isoformat(),
        "verify_url": verify_url(number),
    }
    # Signed with the centre's key (PAdES) before its digest: the sha256 is of the signed file.
    pdf = signing.sign_pdf(
        render.render_pdf(content),
        reason=_("出具%(title)s,报告编号 %(number)s")
        % {"title": content["title"], "number": number},
        location=content["issuer"],
    )
    with transaction.atomic():
        if subject.is_person:
            log_person_access(
                principal,
                subject,
                purpose=purpose,
                what=_("自然人公共信用信息报告 %(n)s") % {"n": number},
                client_address=client_address,
            )
        report = Report(
            number=number,
            kind=kind,
            subject=subject,
            subject_kind=subject.kind,
            subject_name=content["subject"]["name"],
            identifier=content["subject"]["identifier"],
            issued_at=now,
            data_as_of=now,
            valid_until=valid_until,
            period_from=period[0] if period else None,
            period_to=period[1] if period else None,
            fields=list(fields or []),
            content=content,
            content_sha256=content_digest(content),
            pdf_sha256=_sha256(pdf),
            channel=channel,
            requested_by=principal.label[:150],
            purpose=purpose[:256],
            client_address=client_address,
            batch=batch,
        )
        report.pdf.save(f"{number}.pdf", ContentFile(pdf), save=False)
        report.save()
        record_event(
            principal,
            ACTION_ISSUE,
            report,
            after={"number": number, "kind": str(kind), "channel": str(channel)},
        )
    return report
