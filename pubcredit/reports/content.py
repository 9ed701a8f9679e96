"""A report's content as one JSON-ready dict: what the API returns and what the PDF draws.

    {
      "title": "法人和非法人组织公共信用信息报告" | "自然人公共信用信息报告" | …(无违法违规记录证明版),
      "kind": "standard" | "no_violation",
      "subject": {"kind", "kind_label", "name", "identifier", …}   (a person's masked),
      "data_as_of": ISO datetime (信息截止时间),
      "notes": [paragraphs of 报告说明],
      "sections": [{"key", "title", "columns": [...], "rows": [[...], ...], "empty": "暂无",
                    "text": optional paragraph}, ...],
    }

`services.issue` adds the head ("number", "issued_at", "issuer", "valid_until", "verify_url").
`sections` is what `content_digest` covers: the subject's public credit information, so the
verification page can say whether it changed since issue (the head's times never count).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.publicity.public import public_subject
from pubcredit.reports import noviolation
from pubcredit.reports.models import ReportKind
from pubcredit.subjects.models import Subject


def title_of(kind: str, subject_kind: str) -> str:
    if subject_kind == SubjectKind.PERSON:
        return _("自然人公共信用信息报告")
    if kind == ReportKind.NO_VIOLATION:
        return _("法人和非法人组织公共信用信息报告(无违法违规记录证明版)")
    return _("法人和非法人组织公共信用信息报告")


def compose(
    subject: Subject,
    *,
    kind: str = ReportKind.STANDARD,
    as_of: dt.datetime | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    fields: list[str] | None = None,
) -> dict:
    """The content of a report on `subject` as of `as_of` (default now)."""
    as_of = as_of or timezone.now()
    shown = public_subject(subject)
    sections: list[dict] = []
    # 信用代证: the period and fields, then per field 无违法违规记录 or the records.
    if kind == ReportKind.NO_VIOLATION:
        sections = noviolation.report_sections(subject, period=period, fields=fields, as_of=as_of)
    return {
        "title": title_of(kind, subject.kind),
        "kind": str(kind),
        "subject": {
            "kind": subject.kind,
            "kind_label": shown.kind_label,
            "name": shown.name,
            "identifier": shown.uscc or shown.id_masked,
        },
        "data_as_of": timezone.localtime(as_of).isoformat(timespec="seconds"),
        "notes": [],
        "sections": sections,
    }


def content_digest(content: dict) -> str:
    """sha256 of the content's sections (the subject's information), canonical JSON."""
    body = json.dumps(content.get("sections", []), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()
