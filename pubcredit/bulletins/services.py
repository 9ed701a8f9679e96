"""Issuing bulletins (发布通报): compose the content for a period, number it, render the PDF and
the xlsx, store all of it frozen, with its audit row, in one transaction.

- `issue(period, principal)` issues the period's bulletin, or, when one is already issued,
  returns the latest version unchanged (a re-print: the same number, files and figures, however
  the data moved since);
- `issue(period, principal, new_version=True)` recomputes and issues version n + 1 under the
  same serial (编号 gains "(第n版)"); earlier versions stay as they were;
- numbers are `<prefix>〔YYYY〕N号`, N counting the bulletins first issued in that year (months,
  quarters and years share the sequence). The prefix is `PUBCREDIT_BULLETIN_PREFIX`.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal
from pubcredit.bulletins import render
from pubcredit.bulletins.compose import compose
from pubcredit.bulletins.models import Bulletin
from pubcredit.bulletins.periods import Period
from pubcredit.core.letters import centre_name

ACTION_ISSUE = "bulletins.issue"


def number_prefix() -> str:
    return getattr(settings, "PUBCREDIT_BULLETIN_PREFIX", "") or _("信用归集通报")


def latest(period: Period) -> Bulletin | None:
    """The latest issued version of `period`'s bulletin, or None."""
    return (
        Bulletin.objects.filter(kind=period.kind, period_start=period.start)
        .order_by("-version")
        .first()
    )


def period_of(bulletin: Bulletin) -> Period:
    return Period(bulletin.kind, bulletin.period_start)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _number(year: int, serial: int, version: int) -> str:
    number = _("%(prefix)s〔%(year)d〕%(serial)d号") % {
        "prefix": number_prefix(),
        "year": year,
        "serial": serial,
    }
    if version > 1:
        number += _("(第%(version)d版)") % {"version": version}
    return number


def issue(
    period: Period, principal: Principal, *, new_version: bool = False
) -> tuple[Bulletin, bool]:
    """(bulletin, created): the period's bulletin, issued now unless one exists and
    `new_version` is false. ValueError for a period that has not ended. Two concurrent issuers of one period: one wins, the other gets the
    winner's bulletin (the unique constraints decide)."""
    current = latest(period)
    if current is not None and not new_version:
        return current, False
    if period.end >= timezone.localdate():
        raise ValueError(
            _("%(period)s尚未结束,不能发布通报;可在工作台查看当期实时统计。")
            % {"period": period.label}
        )
    content = compose(period)
    now = timezone.now()
    year = timezone.localtime(now).year
    try:
        with transaction.atomic():
            current = latest(period)
            if current is not None and not new_version:
                return current, False
            if current is not None:
                version, serial, year = current.version + 1, current.serial, current.year
            else:
                version = 1
                top = Bulletin.objects.filter(year=year).aggregate(m=Max("serial"))["m"] or 0
                serial = top + 1
            number = _number(year, serial, version)
            content = {**content, "number": number, "version": version}
            content["issued_at"] = now.isoformat()
            content["issued_on"] = timezone.localdate(now).isoformat()
            content["issuer"] = centre_name()
            body = json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
            pdf, xlsx = render.pdf(content), render.xlsx(content)
            bulletin = Bulletin(
                kind=period.kind,
                period_start=period.start,
                period_end=period.end,
                period_key=period.key,
                version=version,
                year=year,
                serial=serial,
                number=number,
                title=content["title"],
                content=json.loads(body),
                content_sha256=_sha256(body.encode()),
                issued_at=now,
                issued_by=principal.label[:150],
                pdf_sha256=_sha256(pdf),
                xlsx_sha256=_sha256(xlsx),
            )
            bulletin.pdf.save("bulletin.pdf", ContentFile(pdf), save=False)
            bulletin.xlsx.save("bulletin.xlsx", ContentFile(xlsx), save=False)
            bulletin.save()
            record_event(
                principal,
                ACTION_ISSUE,
                bulletin,
                after={"number": number, "period": period.key, "version": version},
            )
    except IntegrityError:
        # Another issuer won the race for this period (or this serial): theirs stands.
        winner = latest(period)
        if winner is None:
            raise
        return winner, False
    return bulletin, True


def summary_json(bulletin: Bulletin) -> dict:
    """The command line's --json contract: number, period, version, departments (code,
    submitted, accepted, rejected, on_time_rate, compliance_rate, zero_report, score, rank;
    rates between 0 and 1 or null) and the stored files' paths."""
    content = bulletin.content
    return {
        "number": bulletin.number,
        "period": bulletin.period_key,
        "version": bulletin.version,
        "title": bulletin.title,
        "issued_at": bulletin.issued_at.isoformat(),
        "departments": [
            {
                "code": row["code"],
                "name": row["name"],
                "submitted": row["submitted"],
                "accepted": row["accepted"],
                "rejected": row["rejected"],
                "on_time_rate": row["rates"]["timeliness"],
                "compliance_rate": row["rates"]["compliance"],
                "zero_report": row["zero_report"],
                "score": row["score"],
                "rank": row["rank"],
            }
            for row in content["departments"]
        ],
        "files": {"pdf": bulletin.pdf.path, "xlsx": bulletin.xlsx.path},
    }
