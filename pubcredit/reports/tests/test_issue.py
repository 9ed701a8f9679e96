"""Issuing a report: number, head, files and digests, the audit row; persons only through staff
with a purpose, the look logged."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from pypdf import PdfReader

from pubcredit.accounts.models import AccessLog, AuditEvent, Role
from pubcredit.accounts.permissions import Principal
from pubcredit.reports import services
from pubcredit.reports.models import ReportChannel
from pubcredit.testing.factories import make_org, make_person, make_world

pytestmark = pytest.mark.django_db


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_organisation_report_is_numbered_stored_and_audited(settings, system):
    settings.PUBCREDIT_PUBLIC_URL = "https://credit.zibo.example"
    make_world()
    org = make_org("淄博报告测试有限公司")
    report = services.issue(system, org, channel=ReportChannel.CLI)
    assert re.fullmatch(r"XYBG\d{8}[0-9A-HJKMNP-TV-Z]{12}", report.number)
    data = report.pdf.read()
    assert hashlib.sha256(data).hexdigest() == report.pdf_sha256
    text = _text(data)
    assert "法人和非法人组织公共信用信息报告" in text
    assert report.number in text and "淄博报告测试有限公司" in text
    assert f"https://credit.zibo.example/verify/{report.number}" in text
    assert (report.valid_until - timezone.localdate(report.issued_at)).days == 30
    assert AuditEvent.objects.filter(action="reports.issue", object_id=str(report.pk)).exists()


def test_a_persons_report_needs_the_person_permission_and_a_purpose():
    world = make_world()
    person = make_person("王小明")
    window = Principal.of(world.users[Role.WINDOW_CLERK])
    staff = Principal.of(world.users[Role.CENTRE_STAFF])
    with pytest.raises(PermissionDenied):
        services.issue(window, person, purpose="办理业务")
    with pytest.raises(PermissionDenied):
        services.issue(staff, person, purpose=" ")
    with pytest.raises(PermissionDenied):
        services.issue(staff, person, channel=ReportChannel.PORTAL, purpose="办理业务")
    assert not AccessLog.objects.exists()
    report = services.issue(staff, person, purpose="本人申请出具报告")
    assert report.subject_name == "王**" and "王小明" not in _text(report.pdf.read())
    assert AccessLog.objects.get().purpose == "本人申请出具报告"
