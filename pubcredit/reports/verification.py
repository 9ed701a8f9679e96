"""Verifying an issued report (the public page /verify/<number> printed and QR-coded on it).

- `lookup(number)`: the report's subject (a person's name and number masked, as stored), kind,
  time of issue, validity today (有效 / 已过期), the PDF's sha256, and whether the subject's
  public credit information changed since issue: the report's content is composed again now
  with the same kind, period and fields, and its `content_digest` compared with the one stored
  at issue (Report.content_sha256).
- `check_upload(data)`: is an uploaded PDF a report this platform issued, unaltered? The sha256
  of the bytes equal to a report's pdf_sha256 says yes. Otherwise the file is parsed — in a
  child process with memory and time limits (core.untrusted): the bytes are anyone's — and its
  embedded signature validated against the centre's certificate (core.signing): altered after
  signing, signed by someone else, or not signed; the report number the file claims (its
  metadata's /Subject, see render.py) is read to say which report it pretends to be.
"""

from __future__ import annotations

import hashlib
import io
import re

from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.core import signing
from pubcredit.core.untrusted import ChildFailed, run_limited
from pubcredit.reports.content import compose, content_digest
from pubcredit.reports.models import Report, ReportKind

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
CHILD_MEMORY_BYTES = 512 * 1024 * 1024
CHILD_SECONDS = 20.0
NUMBER_RE = re.compile(r"XYBG\d{8}[0-9A-HJKMNP-TV-Z]{12}")

# outcomes of check_upload
MATCHED = "matched"  # the very file issued
ALTERED = "altered"  # signed by the centre, changed since
FOREIGN = "foreign"  # signed, not by the centre
UNSIGNED = "unsigned"  # no signature at all
UNKNOWN = "unknown"  # the centre's intact signature over the whole file, yet no such report
REFUSED = "refused"  # too large, not a PDF, unreadable


def normalize_number(text: str) -> str | None:
    """A report number as typed (any case, spaces): the canonical number, or None."""
    number = re.sub(r"\s+", "", text or "").upper()[:40]
    return number if NUMBER_RE.fullmatch(number) else None


def changed_since_issue(report: Report) -> bool:
    """Does the subject's public credit information differ now from what the report shows?"""
    period = (report.period_from, report.period_to) if report.period_from else None
    now = compose(
        report.subject,
        kind=report.kind,
        as_of=timezone.now(),
        period=period,
        fields=list(report.fields) or None,
    )
    return content_digest(now) != report.content_sha256


def describe(report: Report, *, with_change: bool = True) -> dict:
    """What the verification page shows about `report`."""
    today = timezone.localdate()
    valid = today <= report.valid_until
    result = {
        "number": report.number,
        "kind": report.kind,
        "kind_label": str(ReportKind(report.kind).label),
        "title": report.content.get("title", ""),
        "subject_kind": report.subject_kind,
        "subject_kind_label": str(report.get_subject_kind_display()),
        "subject_name": report.subject_name,  # a person's masked at issue
        "identifier": report.identifier,  # a person's ID number masked at issue
        "issuer": report.content.get("issuer", ""),
        "issued_at": timezone.localtime(report.issued_at),
        "data_as_of": timezone.localtime(report.data_as_of),
        "valid_until": report.valid_until,
        "period_from": report.period_from,
        "period_to": report.period_to,
        "valid": valid,
        "status": _("有效") if valid else _("已过期"),
        "pdf_sha256": report.pdf_sha256,
        "changed": None,
        "change_statement": "",
    }
    if with_change:
        changed = changed_since_issue(report)
        result["changed"] = changed
        result["change_statement"] = (
            _("出具后该主体的公共信用信息已发生变化,请以最新报告为准")
            if changed
            else _("出具后该主体的公共信用信息未发生变化")
        )
    return result


def lookup(number: str) -> dict | None:
    """The verification of report `number` (as typed), or None when no such report exists."""
    canonical = normalize_number(number)
    if canonical is None:
        return None
    report = Report.objects.select_related("subject").filter(number=canonical).first()
    return describe(report) if report is not None else None


verify = lookup  # the name issue 18's shared design gives it


def inspect_pdf(data: bytes, trust: bytes) -> dict:
    """Parse `data` and validate its signature against `trust` (PEM). Runs in the child
    process; returns plain data only."""
    validation = signing.validate(data, trust=trust)
    return {
        "signed": validation.signed,
        "intact": validation.intact,
        "trusted": validation.trusted,
        "whole_file": validation.whole_file,
        "signer": validation.signer,
        "signed_at": validation.signed_at,
        "claimed": _claimed_number(data),
    }


def _claimed_number(data: bytes) -> str:
    """The report number in the document information's /Subject (render.py puts it there)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        info = reader.trailer_view["/Info"]  # dereferenced
        return str(info.get("/Subject") or "")[:64]
    except Exception:
        return ""


def refused(message: str) -> dict:
    """check_upload's answer for a file it does not look into."""
    return {"outcome": REFUSED, "ok": False, "message": message, "report": None, "claimed": None}


def too_large() -> dict:
    return refused(
        _("文件超过 %(mb)d MB,不是本平台出具的报告。") % {"mb": MAX_UPLOAD_BYTES // 2**20}
    )


def check_upload(data: bytes) -> dict:
    """Was `data` issued by this platform, unaltered? A dict with "outcome" (MATCHED, ALTERED,
    FOREIGN, UNSIGNED, UNKNOWN or REFUSED), "ok", "message" (Chinese, for the page), "report"
    (describe() of the matched report), "claimed" (describe() of the report the file claims to
    be, when it is not that report's file), "sha256" and "signature" (what the validator said)."""
    if len(data) > MAX_UPLOAD_BYTES:
        return too_large()
    if b"%PDF-" not in data[:1024]:
        return refused(_("该文件不是 PDF 文件,请上传本平台出具的 PDF 报告原件。"))
    sha256 = hashlib.sha256(data).hexdigest()
    report = Report.objects.select_related("subject").filter(pdf_sha256=sha256).first()
    if report is not None:
        return {
            "outcome": MATCHED,
            "ok": True,
            "message": _("该文件与本平台出具的报告 %(number)s 完全一致,未被篡改。")
            % {"number": report.number},
            "report": describe(report),
            "claimed": None,
            "sha256": sha256,
            "signature": None,
        }
    try:
        found = run_limited(
            inspect_pdf,
            data,
            signing.certificate_pem(),
            memory_bytes=CHILD_MEMORY_BYTES,
            seconds=CHILD_SECONDS,
        )
    except (ChildFailed, Exception):  # over the limits, or any parse error of any library
        found = None
    if found is None:
        return refused(_("无法读取该文件(文件已损坏或不是有效的 PDF),不是本平台出具的报告原件。"))
    claimed_number = normalize_number(found["claimed"])
    claimed = None
    if claimed_number:
        claimed_report = Report.objects.filter(number=claimed_number).first()
        if claimed_report is not None:
            claimed = describe(claimed_report, with_change=False)
    if not found["signed"]:
        outcome = UNSIGNED
        message = _("该文件没有本中心的电子签名,不是本平台出具的报告原件。")
    elif not found["intact"] or (found["trusted"] and not found["whole_file"]):
        outcome = ALTERED
        message = _("该文件的电子签名校验不通过:文件在出具后已被修改,内容不可信。")
    elif not found["trusted"]:
        outcome = FOREIGN
        message = _("该文件的电子签名不是本中心的签名,不是本平台出具的报告。")
    else:
        outcome = UNKNOWN
        message = _("该文件带有本中心的有效签名,但本平台没有与之一致的报告出具记录。")
    if claimed is not None and outcome != UNKNOWN:
        message += " " + _(
            "文件自称报告编号 %(number)s,但与该编号出具的报告文件不一致,请以核验页面的信息为准。"
        ) % {"number": claimed["number"]}
    return {
        "outcome": outcome,
        "ok": False,
        "message": message,
        "report": None,
        "claimed": claimed,
        "sha256": sha256,
        "signature": found,
    }
