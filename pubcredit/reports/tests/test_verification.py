"""Verifying reports: by number (validity, change since issue) and by an uploaded file."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.utils import timezone
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from reportlab.pdfgen import canvas

from pubcredit.core import signing
from pubcredit.records.models import Record
from pubcredit.reports import content as content_module
from pubcredit.reports import render, services, verification
from pubcredit.reports.models import Report, ReportChannel
from pubcredit.testing import portalkit
from pubcredit.testing.factories import make_org, make_person, make_world

pytestmark = pytest.mark.django_db

UNKNOWN = "XYBG20260101ABCDEFGHJKMN"


def _tamper(data: bytes) -> bytes:
    at = data.index(b"(pubcredit)") + len("(pubcredi")
    return data[:at] + b"X" + data[at + 1 :]


def _with_records(subject, **kwargs):
    """compose() plus a section listing the subject's records: a change of its records shows in
    the digest whatever the standard sections hold (their owner tests those)."""
    composed = content_module.compose(subject, **kwargs)
    keys = sorted(Record.objects.filter(subject=subject).values_list("business_key", flat=True))
    composed["sections"] = composed["sections"] + [
        {"key": "test", "title": "记录", "columns": ["键"], "rows": [[k] for k in keys]}
    ]
    return composed


@pytest.fixture
def records_in_content(monkeypatch):
    monkeypatch.setattr(services, "compose", _with_records)
    monkeypatch.setattr(verification, "compose", _with_records)


@pytest.fixture
def issued(system):
    return services.issue(system, make_org("淄博核验测试有限公司"), channel=ReportChannel.CLI)


def test_lookup_of_a_valid_report(issued):
    data = issued.pdf.read()
    found = verification.lookup(issued.number.lower())  # as typed from paper
    assert found["number"] == issued.number
    assert found["subject_name"] == "淄博核验测试有限公司"
    assert found["identifier"] == issued.subject.uscc
    assert found["valid"] is True and found["status"] == "有效"
    assert found["valid_until"] == timezone.localdate() + dt.timedelta(days=30)
    assert found["pdf_sha256"] == hashlib.sha256(data).hexdigest()
    assert found["changed"] is False
    assert found["change_statement"] == "出具后该主体的公共信用信息未发生变化"


def test_lookup_of_an_expired_report(issued):
    Report.objects.filter(pk=issued.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    found = verification.lookup(issued.number)
    assert found["valid"] is False and found["status"] == "已过期"


def test_lookup_on_the_last_day_is_still_valid(issued):
    Report.objects.filter(pk=issued.pk).update(valid_until=timezone.localdate())
    assert verification.lookup(issued.number)["status"] == "有效"


def test_lookup_of_an_unknown_or_malformed_number(issued):
    assert verification.lookup(UNKNOWN) is None
    assert verification.lookup("XYBG2026") is None
    assert verification.lookup("../" + issued.number) is None
    assert verification.lookup("") is None


def test_a_new_public_penalty_after_issue_is_a_change(system, reference, records_in_content):
    portalkit.submit(system, "CF", [portalkit.penalty(1, name="淄博变化测试有限公司")])
    subject = portalkit.subject_of(portalkit.make_uscc(1))
    report = services.issue(system, subject, channel=ReportChannel.CLI)
    other = services.issue(
        system, make_org("淄博不变测试有限公司", serial=7), channel=ReportChannel.CLI
    )
    assert verification.lookup(report.number)["changed"] is False

    portalkit.submit(
        system, "CF", [portalkit.penalty(2, name="淄博变化测试有限公司", uscc=subject.uscc)]
    )
    found = verification.lookup(report.number)
    assert found["changed"] is True
    assert found["change_statement"] == "出具后该主体的公共信用信息已发生变化,请以最新报告为准"
    assert verification.lookup(other.number)["changed"] is False


def test_a_new_public_penalty_changes_the_standard_sections(system, reference):
    """The same through the real sections (once content.compose draws them)."""
    portalkit.submit(system, "CF", [portalkit.penalty(3, name="淄博真实变化有限公司")])
    subject = portalkit.subject_of(portalkit.make_uscc(3))
    report = services.issue(system, subject, channel=ReportChannel.CLI)
    assert verification.lookup(report.number)["changed"] is False
    portalkit.submit(
        system, "CF", [portalkit.penalty(4, name="淄博真实变化有限公司", uscc=subject.uscc)]
    )
    assert verification.lookup(report.number)["changed"] is True


def test_a_persons_report_is_shown_masked():
    from pubcredit.accounts.models import Role
    from pubcredit.accounts.permissions import Principal

    world = make_world()
    staff = Principal.of(world.users[Role.CENTRE_STAFF])
    report = services.issue(staff, make_person("王小明"), purpose="本人申请出具报告")
    found = verification.lookup(report.number)
    assert found["subject_name"] == "王**"
    assert "王小明" not in str(found)
    assert not any("19900101" in str(v) for v in found.values())


# --------------------------------------------------------------------------- uploads


def test_the_issued_file_matches(issued):
    result = verification.check_upload(issued.pdf.read())
    assert result["outcome"] == verification.MATCHED and result["ok"]
    assert result["report"]["number"] == issued.number
    assert issued.number in result["message"] and "未被篡改" in result["message"]


def test_a_tampered_file_is_refused_as_altered(issued):
    result = verification.check_upload(_tamper(issued.pdf.read()))
    assert result["outcome"] == verification.ALTERED and not result["ok"]
    assert "已被修改" in result["message"]
    assert result["signature"]["signed"] and not result["signature"]["intact"]
    # It says which report it pretends to be.
    assert result["claimed"]["number"] == issued.number
    assert issued.number in result["message"]


def test_a_change_appended_after_signing_is_refused(issued):
    writer = IncrementalPdfFileWriter(io.BytesIO(issued.pdf.read()), strict=False)
    writer.root["/PageMode"] = writer.root.get("/PageMode", "/UseNone")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    result = verification.check_upload(out.getvalue())
    assert result["outcome"] == verification.ALTERED
    assert result["signature"]["intact"] and not result["signature"]["whole_file"]


def test_an_unsigned_file_and_a_foreign_signature(issued, tmp_path):
    unsigned = render.render_pdf(issued.content)
    result = verification.check_upload(unsigned)
    assert result["outcome"] == verification.UNSIGNED
    assert result["claimed"]["number"] == issued.number

    signing.create_self_signed(tmp_path / "other", common_name="别处的信用中心")
    from pyhanko.sign import signers

    other = signers.SimpleSigner.load(
        str(tmp_path / "other" / "key.pem"), str(tmp_path / "other" / "cert.pem")
    )
    out = io.BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="X", subfilter=None), signer=other
    ).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(unsigned), strict=False), output=out)
    result = verification.check_upload(out.getvalue())
    assert result["outcome"] == verification.FOREIGN
    assert "不是本中心的签名" in result["message"]


def test_oversize_non_pdf_and_broken_uploads_get_a_clear_message(db):
    big = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024)
    result = verification.check_upload(big)
    assert result["outcome"] == verification.REFUSED and "20 MB" in result["message"]
    result = verification.check_upload("这不是PDF".encode() * 10)
    assert result["outcome"] == verification.REFUSED and "不是 PDF" in result["message"]
    result = verification.check_upload(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    assert result["outcome"] == verification.REFUSED and "无法读取" in result["message"]


def test_an_unsigned_stranger_pdf_is_unsigned(db):
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(100, 100, "hello")
    page.save()
    result = verification.check_upload(out.getvalue())
    assert result["outcome"] == verification.UNSIGNED and result["claimed"] is None
