# ruff: noqa: F811 (pytest fixtures imported from the kits)
"""The console subject page shows what the platform holds about the subject: its credit records,
list entries, recent checks and commitments, each a short table with its count and links, as far
as the viewer may see them; a natural person's only after a logged look."""

import re

import pytest
from django.test import Client

from pubcredit.accounts.models import AccessLog
from pubcredit.accounts.permissions import Principal
from pubcredit.checks.services import run_check
from pubcredit.testing.checkkit import (
    D,
    accounts_fixture,  # noqa: F401 (fixture)
    black,
    penalty,
    person_fixture,  # noqa: F401 (fixture)
)
from pubcredit.testing.commitkit import sign
from pubcredit.testing.listkit import make_subject, seeded  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("seeded")


def section(html: str, key: str) -> str:
    found = re.search(
        rf'<section class="subject-section" id="subject-{key}">(.*?)</section>', html, re.S
    )
    assert found, f"no {key} section"
    return found.group(1)


def facts_of(system, subject, accounts):
    record = penalty(subject, wsh="淄市监罚〔2025〕901号")
    entry = black(system, subject)
    check = (
        run_check(
            Principal.of(accounts["centre"]), uscc=subject.uscc, matter="GOV_PROCUREMENT", today=D
        )
        if subject.uscc
        else None
    )
    return record, entry, check


def test_organisation_page_lists_records_entries_checks_and_commitments(
    system, make_subject, accounts
):
    company = make_subject(name="淄博概览示例有限公司")
    record, entry, check = facts_of(system, company, accounts)
    commitment = sign(company)
    client = Client()
    client.force_login(accounts["centre"])
    html = client.get(f"/console/subjects/{company.pk}/").content.decode()

    records = section(html, "records")
    assert '信用记录 <span class="count">1</span>' in records
    assert "行政处罚 1" in records
    assert "淄市监罚〔2025〕901号" in records
    assert f'href="/console/intake/submissions/{record.submission_id}/"' in records

    entries = section(html, "entries")
    assert '名单条目 <span class="count">1</span>' in entries
    assert f'<a href="/console/lists/{entry.pk}/">失信被执行人</a>' in entries

    checks = section(html, "checks")
    assert '最近的信用核查 <span class="count">1</span>' in checks
    assert f'<a href="/console/checks/{check.pk}/">{check.check.number}</a>' in checks
    assert "政府采购" in checks and "适用惩戒措施" in checks

    commitments = section(html, "commitments")
    assert '信用承诺 <span class="count">1</span>' in commitments
    assert f'<a href="/console/commitments/{commitment.pk}/">{commitment.code}</a>' in commitments
    assert not AccessLog.objects.exists()


def test_a_window_clerk_sees_only_the_checks(system, make_subject, accounts):
    company = make_subject(name="淄博窗口示例有限公司")
    facts_of(system, company, accounts)
    client = Client()
    client.force_login(accounts["clerk"])
    html = client.get(f"/console/subjects/{company.pk}/").content.decode()
    assert 'id="subject-checks"' in html
    # The centre's check is not the clerk's: counted 0.
    assert '最近的信用核查 <span class="count">0</span>' in html
    for key in ("records", "entries", "commitments"):
        assert f'id="subject-{key}"' not in html


def test_a_persons_overview_shows_only_after_a_logged_look(system, person, accounts):
    someone, clear_id = person("王概览")
    penalty(someone, wsh="淄市监罚〔2025〕902号")
    black(system, someone)
    client = Client()
    client.force_login(accounts["centre"])
    url = f"/console/subjects/{someone.pk}/"
    html = client.get(url).content.decode()
    assert "subject-section" not in html and "淄市监罚〔2025〕902号" not in html
    assert not AccessLog.objects.exists()

    html = client.post(url, {"purpose": "行政审批信用核查"}).content.decode()
    assert clear_id in html  # the look the purpose was given for
    assert "淄市监罚〔2025〕902号" in section(html, "records")
    assert "失信被执行人" in section(html, "entries")
    assert sorted(AccessLog.objects.values_list("what", flat=True)) == [
        "信用记录、名单条目、信用核查和信用承诺",
        "身份证号",
    ]
