"""The standard report's content: what the publicity rules make public today, the list entries
in force, the commitment register with fulfilment, the public grade (a person's own points),
暂无 for empty sections, and a digest that is stable and follows the data. Records reach the
database through intake (portalkit.submit) as a department's do; expected values are written
by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pubcredit.commitments.assessment import assess_commitment
from pubcredit.commitments.models import Performance
from pubcredit.publicity.models import PublicityMark
from pubcredit.publicity.services import add_mark
from pubcredit.records.models import Record
from pubcredit.records.services import withdraw_record
from pubcredit.reports.content import compose, content_digest
from pubcredit.testing import commitkit, scorekit
from pubcredit.testing.listkit import identify, make_public_penalty
from pubcredit.testing.portalkit import licence, make_ric, make_uscc, penalty, subject_of, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USCC = make_uscc(7101)
NAME = "淄博报告内容测试有限公司"
ORG = {"name": NAME, "uscc": USCC}


def _today() -> dt.date:
    return timezone.localdate()


def _wsh(n: int) -> str:
    return f"淄市监罚〔2026〕{n}号"  # portalkit.penalty's 文书号


def _sections(content: dict) -> dict:
    return {s["key"]: s for s in content["sections"]}


def _column(section: dict, title: str) -> list[str]:
    i = section["columns"].index(title)
    return [row[i] for row in section["rows"]]


@pytest.fixture
def org(system):
    """An organisation with, through intake: one licence; penalties 7101 (public), 7102
    (repaired: a granted repair ended its publicity), 7103 (withdrawn by the department);
    and two penalties whose publicity the read model holds as not public today: 7104 (its
    window ended 2023-01-01) and 7105 (not published)."""
    submit(system, "XK", [licence(7101, **ORG)])
    submit(
        system,
        "CF",
        [
            penalty(7101, days_ago=20, **ORG),
            penalty(7102, days_ago=30, **ORG),
            penalty(7103, days_ago=40, **ORG),
        ],
    )
    subject = subject_of(USCC)
    add_mark(
        system, Record.objects.get(business_key__startswith=_wsh(7102)), "repaired", "修复已通过"
    )
    withdraw_record(system, Record.objects.get(business_key__startswith=_wsh(7103)), "决定被撤销")
    make_public_penalty(subject, start=dt.date(2020, 1, 1), end=dt.date(2023, 1, 1), wsh=_wsh(7104))
    make_public_penalty(subject, start=dt.date(2026, 1, 1), state="not_published", wsh=_wsh(7105))
    return subject


def test_sections_come_in_the_standards_order_and_empty_ones_say_none(make_subject):
    subject = make_subject(name="淄博空白报告有限公司")
    content = compose(subject)
    assert content["title"] == "法人和非法人组织公共信用信息报告"
    assert [s["title"] for s in content["sections"]] == [
        "登记基础信息",
        "行政许可",
        "行政处罚",
        "严重失信主体名单",
        "重点关注名单",
        "守信激励",
        "信用承诺及履行情况",
        "信用评价",
        "其他",
    ]
    for s in content["sections"][1:]:
        assert s["rows"] == [] and s["empty"] == "暂无", s["key"]
    basic = dict(content["sections"][0]["rows"])
    assert basic["名称"] == "淄博空白报告有限公司"
    assert basic["统一社会信用代码"] == subject.uscc
    assert basic["曾用名"] == "—"


def test_only_public_penalties_are_reported(org):
    sections = _sections(compose(org))
    penalties = sections["penalties"]
    assert _column(penalties, "行政处罚决定书文号") == [_wsh(7101)]
    row = dict(zip(penalties["columns"], penalties["rows"][0], strict=True))
    assert row["处罚类别"] == "罚款"
    assert row["处罚内容"] == "罚款人民币5万元"
    assert row["处罚决定日期"] == (_today() - dt.timedelta(days=20)).isoformat()
    assert row["处罚机关"] == "淄博市市场监督管理局"
    assert _column(sections["licences"], "行政许可决定文书号") == ["淄市监许〔2026〕7101号"]
    # Every cell is a plain string.
    assert all(isinstance(v, str) for s in sections.values() for r in s["rows"] for v in r)


def test_an_objection_is_shown_with_its_flag(org, system):
    record = Record.objects.get(business_key__startswith=_wsh(7101))
    add_mark(system, record, PublicityMark.Kind.OBJECTION, "企业提出异议")
    penalties = _sections(compose(org))["penalties"]
    assert _column(penalties, "备注") == ["异议处理中"]


def test_list_entries_in_force_by_kind(system, make_subject):
    subject = make_subject()
    today = _today()
    identify(
        system,
        subject,
        "BLK_JUDGMENT_DEFAULTER",
        decided_on=today - dt.timedelta(days=10),
        document_number="(2026)鲁0303执100号",
        today=today,
    )
    identify(
        system,
        subject,
        "WATCH_ABNORMAL_OPERATION",
        decided_on=today - dt.timedelta(days=5),
        document_number="淄市监异〔2026〕5号",
        today=today,
    )
    identify(
        system,
        subject,
        "RED_CONTRACT",
        decided_on=today - dt.timedelta(days=3),
        valid_to=today + dt.timedelta(days=300),
        document_number="淄守重〔2026〕1号",
        today=today,
    )
    identify(  # ended before today: not in the report
        system,
        subject,
        "RED_INTEGRITY_MODEL",
        decided_on=dt.date(2024, 1, 10),
        valid_to=dt.date(2024, 12, 31),
        document_number="淄诚示〔2024〕9号",
        today=today,
    )
    sections = _sections(compose(subject))
    assert _column(sections["serious"], "名单名称") == ["失信被执行人"]
    assert _column(sections["serious"], "认定文书号") == ["(2026)鲁0303执100号"]
    assert _column(sections["watch"], "名单名称") == ["经营异常名录"]
    assert _column(sections["incentives"], "认定文书号") == ["淄守重〔2026〕1号"]
    assert _column(sections["incentives"], "有效期至") == [
        (today + dt.timedelta(days=300)).isoformat()
    ]


def test_commitments_with_their_fulfilment(system, make_subject):
    subject = make_subject()
    day = dt.date(2025, 6, 1)
    kept = commitkit.sign(subject, day=day, valid_to=dt.date(2025, 12, 31))
    commitkit.sign(subject, day=day + dt.timedelta(days=1), reason="申请食品经营许可告知承诺")
    assess_commitment(
        system, kept, Performance.FULL, reason="按期全部履行", today=dt.date(2026, 1, 5)
    )
    commitments = _sections(compose(subject))["commitments"]
    assert _column(commitments, "承诺事由") == [
        "申请食品经营许可告知承诺",
        "主动向社会作出诚信经营承诺",
    ]
    assert _column(commitments, "履行状态") == ["待认定", "全部履行"]
    assert _column(commitments, "履行状态认定日期") == ["", "2026-01-05"]
    assert _column(commitments, "承诺有效期至")[1] == "2025-12-31"


@pytest.mark.usefixtures("scorecards")
def test_the_public_grade_and_a_persons_own_points(make_subject):
    org = make_subject()
    scorekit.graded(org, "SCORE_PUBLIC", "A", 92)
    grades = _sections(compose(org))["grades"]
    assert grades["columns"] == ["评价名称", "评价结果", "评价基准日"]
    assert [r[1] for r in grades["rows"]] == ["A(优秀)"]
    assert "92" not in str(grades["rows"])  # the public sees the grade, not the points

    person = make_subject(kind="person", name="王小明")
    scorekit.graded(person, "SCORE_PERSON", "A", 1000)
    content = compose(person)
    grades = _sections(content)["grades"]
    assert grades["columns"] == ["评价名称", "评价结果", "积分", "评价基准日"]
    assert [(r[1], r[2]) for r in grades["rows"]] == [("A(诚信)", "1000")]
    assert content["title"] == "自然人公共信用信息报告"
    assert content["subject"]["name"] == "王**"
    assert "王小明" not in str(content)


def test_a_persons_report_is_masked(system):
    ric = make_ric(7201)
    submit(system, "CF", [penalty(7201, name="赵大海", kind="自然人", id_number=ric)])
    person = Record.objects.get(business_key__startswith=_wsh(7201)).subject
    content = compose(person)
    basic = dict(_sections(content)["basic"]["rows"])
    assert basic["姓名"] == "赵**"
    assert basic["证件号码"] == ric[:6] + "********" + ric[-4:]
    assert _column(_sections(content)["penalties"], "行政处罚决定书文号") == [_wsh(7201)]
    text = str(content)
    assert "赵大海" not in text and ric not in text


def test_the_digest_is_stable_and_follows_public_information(org, system):
    first = compose(org)
    again = compose(org, as_of=timezone.now() + dt.timedelta(minutes=5))
    assert content_digest(first) == content_digest(again)
    assert first["data_as_of"] != again["data_as_of"]
    submit(system, "CF", [penalty(7106, days_ago=2, **ORG)])
    changed = compose(org)
    assert _column(_sections(changed)["penalties"], "行政处罚决定书文号") == [
        _wsh(7106),
        _wsh(7101),
    ]
    assert content_digest(changed) != content_digest(first)


def test_notes_say_scope_cut_off_objection_and_what_is_left_out(org, settings):
    settings.PUBCREDIT_PUBLIC_URL = "https://credit.zibo.example"
    as_of = dt.datetime(2026, 12, 6, 2, 30, tzinfo=dt.UTC)  # 10:30 in Asia/Shanghai
    notes = "\n".join(compose(org, as_of=as_of)["notes"])
    assert "公共信用信息报告标准(2022年版)" in notes
    assert "信息截止时间:2026-12-06 10:30" in notes
    assert "https://credit.zibo.example/repair/" in notes
    assert "淄博市社会信用中心" in notes
    assert "已完成信用修复" in notes and "公示期已届满" in notes
    assert "淄博市市场监督管理局" in notes  # the departments behind the records


def test_compose_reads_each_section_set_based(org, system):
    """No query per row: the same number of queries for one public penalty as for four, with
    list entries and commitments of more than one row."""
    today = _today()
    for code in ("BLK_JUDGMENT_DEFAULTER", "BLK_WAGE_ARREARS"):
        identify(system, org, code, decided_on=today - dt.timedelta(days=3), today=today)
    commitkit.sign(org, day=today)
    compose(org)  # warm the process caches (catalogue fields, regions, list categories)
    with CaptureQueriesContext(connection) as before:
        compose(org)
    submit(system, "CF", [penalty(n, days_ago=5, **ORG) for n in (7111, 7112, 7113)])
    commitkit.sign(org, day=today, reason="第二份承诺")
    with CaptureQueriesContext(connection) as after:
        content = compose(org)
    assert len(_sections(content)["penalties"]["rows"]) == 4
    assert len(_sections(content)["serious"]["rows"]) == 2
    assert len(_sections(content)["commitments"]["rows"]) == 2
    assert len(after.captured_queries) == len(before.captured_queries) <= 10
