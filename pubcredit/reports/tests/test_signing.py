"""The centre's PAdES signature on issued reports, checked with pyHanko's own validator."""

from __future__ import annotations

import io
import stat

import pytest
from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from pubcredit.core import signing
from pubcredit.reports import services
from pubcredit.reports.models import ReportChannel
from pubcredit.testing.factories import make_org

pytestmark = pytest.mark.django_db


def _certificate(path) -> x509.Certificate:
    _type, _headers, der = pem.unarmor(path.read_bytes())
    return x509.Certificate.load(der)


def _status(data: bytes, root: x509.Certificate):
    embedded = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    assert len(embedded) == 1
    context = ValidationContext(trust_roots=[root], allow_fetching=False)
    return embedded[0], validate_pdf_signature(embedded[0], context)


def _tamper(data: bytes) -> bytes:
    """One byte changed inside the signed range: the document information's /Creator."""
    at = data.index(b"(pubcredit)") + len("(pubcredi")
    return data[:at] + b"X" + data[at + 1 :]


@pytest.fixture
def signing_dir(settings, tmp_path):
    settings.PUBCREDIT_SIGNING_DIR = tmp_path / "signing"
    return settings.PUBCREDIT_SIGNING_DIR


def test_an_issued_report_carries_the_centres_pades_signature(signing_dir, system):
    report = services.issue(system, make_org("淄博签名测试有限公司"), channel=ReportChannel.CLI)
    data = report.pdf.read()
    # Generated once for the laptop: the key readable by its owner only, a self-signed
    # certificate in the centre's name.
    assert stat.S_IMODE((signing_dir / "key.pem").stat().st_mode) == 0o600
    root = _certificate(signing_dir / "cert.pem")
    assert root.subject.native["common_name"] == "淄博市社会信用中心"
    assert root.subject == root.issuer

    embedded, status = _status(data, root)
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.md_algorithm == "sha256"
    assert f"报告编号 {report.number}" in str(embedded.sig_object["/Reason"])


def test_one_changed_byte_breaks_the_signature(signing_dir, system):
    report = services.issue(system, make_org("淄博篡改测试有限公司"), channel=ReportChannel.CLI)
    data = report.pdf.read()
    root = _certificate(signing_dir / "cert.pem")
    _embedded, status = _status(_tamper(data), root)
    assert not status.intact and not status.bottom_line
    # The same check through the helper the verification page uses.
    assert signing.validate(data).ok
    tampered = signing.validate(_tamper(data))
    assert tampered.signed and not tampered.intact and not tampered.ok


def test_a_signature_by_another_key_is_not_trusted(signing_dir, tmp_path, system):
    report = services.issue(system, make_org("淄博他签测试有限公司"), channel=ReportChannel.CLI)
    signing.create_self_signed(tmp_path / "other", common_name="别处的信用中心")
    other = _certificate(tmp_path / "other" / "cert.pem")
    data = report.pdf.read()
    _embedded, status = _status(data, other)
    assert status.intact and not status.trusted
    found = signing.validate(data, trust=(tmp_path / "other" / "cert.pem").read_bytes())
    assert found.signed and found.intact and not found.trusted and not found.ok


def test_production_names_its_own_key_and_certificate(settings, tmp_path, system):
    signing.create_self_signed(tmp_path / "hsm", common_name="淄博市社会信用中心(正式)")
    settings.PUBCREDIT_SIGNING_DIR = tmp_path / "unused"
    settings.PUBCREDIT_SIGNING_KEY = str(tmp_path / "hsm" / "key.pem")
    settings.PUBCREDIT_SIGNING_CERT = str(tmp_path / "hsm" / "cert.pem")
    report = services.issue(system, make_org("淄博正式签名有限公司"), channel=ReportChannel.CLI)
    root = _certificate(tmp_path / "hsm" / "cert.pem")
    _embedded, status = _status(report.pdf.read(), root)
    assert status.intact and status.trusted
    assert not (tmp_path / "unused").exists()  # nothing generated when a key is configured


def test_an_encrypted_production_key_with_its_passphrase(settings, tmp_path, system):
    from cryptography.hazmat.primitives import serialization

    signing.create_self_signed(tmp_path / "plain", common_name="淄博市社会信用中心")
    key = serialization.load_pem_private_key((tmp_path / "plain" / "key.pem").read_bytes(), None)
    locked = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"centre-passphrase"),
    )
    (tmp_path / "locked.pem").write_bytes(locked)
    settings.PUBCREDIT_SIGNING_KEY = str(tmp_path / "locked.pem")
    settings.PUBCREDIT_SIGNING_CERT = str(tmp_path / "plain" / "cert.pem")
    settings.PUBCREDIT_SIGNING_PASSPHRASE = "centre-passphrase"
    data = signing.sign_pdf(_blank(), reason="测试", location="淄博")
    root = _certificate(tmp_path / "plain" / "cert.pem")
    _embedded, status = _status(data, root)
    assert status.intact and status.trusted


def test_a_key_without_its_certificate_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.PUBCREDIT_SIGNING_KEY = "/etc/pubcredit/key.pem"
    settings.PUBCREDIT_SIGNING_CERT = ""
    with pytest.raises(ImproperlyConfigured):
        signing.sign_pdf(_blank(), reason="测试", location="淄博")


def _blank() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(100, 100, "blank")
    page.save()
    return out.getvalue()
