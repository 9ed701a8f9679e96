"""信用代证 (无违法违规记录证明版): per field "无违法违规记录" or the records that count; what
counts (普通程序 penalties, serious-list entries, within the period, public today); the field file's
import; the admin's audited edits."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from pypdf import PdfReader

from pubcredit.accounts.models import AuditEvent, Role, User
from pubcredit.catalog.models import Department
from pubcredit.lists.services import add_months
from pubcredit.publicity.models import PublicityMark
from pubcredit.publicity.services import add_mark
from pubcredit.reports import noviolation, services
from pubcredit.reports.content import compose
from pubcredit.reports.models import NoViolationField, ReportChannel, ReportKind
from pubcredit.reports.noviolation import NoViolationError
from pubcredit.testing import portalkit
from pubcredit.testing.listkit import identify, make_public_penalty

pytestmark = pytest.mark.django_db

SCJG = "淄博市市场监督管理局"


@pytest.fixture
def fields(reference, system):
    return noviolation.import_fields(system)


@pytest.fixture
def org(reference):
    from pubcredit.subjects.models import Subject

    name = "淄博代证测试有限公司"
    return Subject.objects.create(
        kind="org", name=name, name_norm=name, uscc=portalkit.make_uscc(801), region="370303"
    )


def today() -> dt.date:
    return timezone.localdate()


def _penalty(subject, wsh: str, *, tier: str, days_ago: int, types: str, content: str, **data):
    """A public 行政处罚 submitted by 市场监管 and decided by it unless the 处罚机关 fields say
    otherwise, with the tier the rules gave it."""
    scjg = Department.objects.get(code="ZB-SCJG")
    data = {"CF_CFJG": scjg.name, "CF_CFJGDM": scjg.uscc, **data}
    return make_public_penalty(
        subject,
        tier=tier,
        start=today() - dt.timedelta(days=days_ago),
        wsh=wsh,
        CF_CFLB=types,
        CF_NR=content,
        **data,
    )


def _by_key(sections) -> dict:
    return {s["key"]: s for s in sections}


def test_wording_per_field_with_and_without_records(fields, org):
    _penalty(org, "淄市监罚〔2026〕7号", tier="general", days_ago=40, types="罚款",
             content="罚款人民币5万元")  # fmt: skip
    day = (today() - dt.timedelta(days=40)).isoformat()
    got = _by_key(noviolation.sections(org, fields=["tax", "market"]))
    assert list(got) == ["field:market", "field:tax"]  # the file's order, not the request's
    market, tax = got["field:market"], got["field:tax"]
    assert market["title"] == "市场监管"
    assert market["text"] == "查询期间内有以下违法违规记录(共 1 条):"
    assert market["columns"] == ["决定文书号", "决定日期", "决定机关", "类别", "内容摘要"]
    assert market["rows"] == [
        ["淄市监罚〔2026〕7号", day, SCJG, "行政处罚(罚款)", "罚款人民币5万元"]
    ]
    assert tax["title"] == "税务"
    assert tax["rows"] == [] and tax["text"] == "" and tax["empty"] == "无违法违规记录"


def test_a_summary_warning_does_not_count_an_ordinary_penalty_does(fields, org):
    _penalty(org, "淄市监简罚〔2026〕1号", tier="minor", days_ago=10, types="警告", content="警告")
    _penalty(org, "淄市监简罚〔2026〕2号", tier="minor", days_ago=11, types="罚款",
             content="罚款人民币2000元", CF_NR_FK="0.2")  # fmt: skip
    (market,) = noviolation.sections(org, fields=["market"])
    assert market["rows"] == []
    _penalty(org, "淄市监罚〔2026〕3号", tier="general", days_ago=12, types="警告、罚款",
             content="警告,并处罚款人民币8000元", CF_NR_FK="0.8")  # fmt: skip
    (market,) = noviolation.sections(org, fields=["market"])
    assert [r[0] for r in market["rows"]] == ["淄市监罚〔2026〕3号"]
    assert market["rows"][0][3] == "行政处罚(警告、罚款)"


def test_the_real_rules_tier_a_submitted_penalty(fields, system):
    """Through intake and the shipped publicity rules: a 5 万元 fine is 一般 and counts; a 警告
    under the 简易程序 (轻微) does not (not published under Order 36, not counted anyway)."""
    uscc = portalkit.make_uscc(802)
    fine = portalkit.penalty(802, name="淄博罚款测试有限公司", uscc=uscc, days_ago=20)
    warning = portalkit.penalty(803, name="淄博罚款测试有限公司", uscc=uscc, days_ago=21,
                                types="警告", fine="0")  # fmt: skip
    warning["CF_NR"] = "警告"
    portalkit.submit(system, "CF", [fine, warning])
    subject = portalkit.subject_of(uscc)
    (market,) = noviolation.sections(subject, fields=["market"])
    assert [r[0] for r in market["rows"]] == ["淄市监罚〔2026〕802号"]


def test_a_serious_list_entry_counts_in_its_field(fields, org, system):
    decided = today() - dt.timedelta(days=30)
    identify(system, org, "BLK_TAX_MAJOR", decided_on=decided, today=today(),
             document_number="淄税稽认〔2026〕5号", basis="重大税收违法案件")  # fmt: skip
    got = _by_key(noviolation.sections(org, fields=["market", "tax"]))
    assert got["field:market"]["rows"] == []
    (row,) = got["field:tax"]["rows"]
    assert row[:4] == [
        "淄税稽认〔2026〕5号",
        decided.isoformat(),
        "国家税务总局淄博市税务局",
        "严重失信主体名单(重大税收违法失信主体)",
    ]
    assert row[4].startswith("重大税收违法案件")


def test_a_record_outside_the_period_does_not_count(fields, org):
    _penalty(org, "淄市监罚〔2026〕9号", tier="general", days_ago=200, types="罚款",
             content="罚款人民币3万元")  # fmt: skip
    six_months = (add_months(today(), -6), today())
    (market,) = noviolation.sections(org, fields=["market"], period=six_months)
    assert market["rows"] == []
    (market,) = noviolation.sections(org, fields=["market"])  # default: 36 months
    assert [r[0] for r in market["rows"]] == ["淄市监罚〔2026〕9号"]


def test_a_repaired_record_does_not_count(fields, org, system):
    record = _penalty(org, "淄市监罚〔2026〕11号", tier="general", days_ago=100, types="罚款",
                      content="罚款人民币1万元")  # fmt: skip
    assert len(noviolation.sections(org, fields=["market"])[0]["rows"]) == 1
    add_mark(system, record, PublicityMark.Kind.REPAIRED, "信用修复申请已通过")
    assert noviolation.sections(org, fields=["market"])[0]["rows"] == []


def test_period_and_fields_are_checked(fields, org):
    day = today()
    with pytest.raises(NoViolationError, match="最长为 36 个月"):
        noviolation.sections(org, period=(add_months(day, -37), day))
    with pytest.raises(NoViolationError, match="起始日期不能晚于截止日期"):
        noviolation.sections(org, period=(day, day - dt.timedelta(days=1)))
    with pytest.raises(NoViolationError, match="不能晚于出具日期"):
        noviolation.sections(org, period=(day, day + dt.timedelta(days=1)))
    with pytest.raises(NoViolationError, match="nope"):
        noviolation.sections(org, fields=["market", "nope"])
    assert noviolation.default_period(dt.date(2026, 12, 6)) == (
        dt.date(2023, 12, 6),
        dt.date(2026, 12, 6),
    )


def test_compose_heads_the_fields_with_the_period_and_the_pdf_says_it(fields, org, system):
    _penalty(org, "淄市监罚〔2026〕21号", tier="serious", days_ago=5, types="吊销许可证件",
             content="吊销食品经营许可证")  # fmt: skip
    start = today() - dt.timedelta(days=90)
    period = (start, today())
    content = compose(org, kind=ReportKind.NO_VIOLATION, period=period, fields=["market", "tax"])
    basic, scope, market, tax = content["sections"]
    assert basic["key"] == "basic" and ["名称", "淄博代证测试有限公司"] in basic["rows"]
    assert scope["key"] == "scope"
    assert scope["text"].startswith(
        f"查询期间:{start.isoformat()} 至 {today().isoformat()}。查询领域:市场监管、税务(共 2 个)。"
    )
    assert scope["rows"] == [["市场监管", "有违法违规记录 1 条"], ["税务", "无违法违规记录"]]
    assert market["rows"][0][0] == "淄市监罚〔2026〕21号" and tax["rows"] == []
    report = services.issue(
        system,
        org,
        kind=ReportKind.NO_VIOLATION,
        channel=ReportChannel.CLI,
        period=period,
        fields=["market", "tax"],
    )
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report.pdf.read())).pages)
    assert "税务\n无违法违规记录" in text and "淄市监罚〔2026〕21" in text  # cells wrap


def test_import_is_idempotent_and_marks_drafts_for_review(reference, system):
    first = noviolation.import_fields(system)
    assert first["created"] == 22 and first["updated"] == first["unchanged"] == 0
    events = AuditEvent.objects.count()
    assert events == 22
    assert noviolation.import_fields(system) == {"created": 0, "updated": 0, "unchanged": 22}
    assert AuditEvent.objects.count() == events
    market = NoViolationField.objects.get(code="market")
    assert market.needs_review and "[UNCONFIRMED" not in market.policy_basis
    assert "待核实" in market.note
    assert market.counts == [{"category": "CF", "tiers": ["general", "serious"]}]


def test_a_bad_file_is_refused_whole(reference, system, tmp_path):
    document = json.loads(noviolation.FIELDS_FILE.read_text(encoding="utf-8"))
    document["fields"][3]["departments"] = ["ZB-NOPE"]
    document["fields"][5]["counts"] = [{"category": "CF", "tiers": ["petty"]}]
    bad = tmp_path / "fields.json"
    bad.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("reports", "import", "--file", str(bad))
    assert caught.value.returncode == 2
    message = str(caught.value)
    assert "领域 environment:未知的部门编码 ZB-NOPE" in message
    assert "领域 work_safety:严重程度应为" in message
    assert not NoViolationField.objects.exists()


def test_the_command_prints_counts(reference, capsys):
    call_command("reports", "import", "--json")
    assert json.loads(capsys.readouterr().out) == {"created": 22, "updated": 0, "unchanged": 0}


def test_an_admin_edit_is_checked_and_audited(fields, client):
    admin = User.objects.create_user("centre-admin", password="pw", role=Role.PLATFORM_ADMIN)
    client.force_login(admin)
    field = NoViolationField.objects.get(code="tax")
    url = f"/admin/reports/noviolationfield/{field.pk}/change/"
    assert client.get(url).status_code == 200
    assert client.get("/admin/reports/report/").status_code == 200
    form = {
        "code": "tax",
        "name": "税务",
        "active": "on",
        "sort_order": "20",
        "departments": '["ZB-SWU"]',
        "sectors": "[]",
        "counts": '[{"category": "CF", "tiers": ["serious"]}]',
        "list_types": '["BLK_TAX_MAJOR"]',
        "policy_basis": "测试依据",
        "effective_from": "2023-11-19",
        "effective_to": "",
        "note": "",
    }
    bad = client.post(url, {**form, "departments": '["ZB-NOPE"]'})
    assert bad.status_code == 200 and "未知的部门编码 ZB-NOPE" in bad.content.decode()
    assert not AuditEvent.objects.filter(action="reports.update_noviolationfield").exists()
    assert client.post(url, form).status_code == 302
    event = AuditEvent.objects.get(action="reports.update_noviolationfield")
    assert event.before["counts"] == [{"category": "CF", "tiers": ["general", "serious"]}]
    assert event.after["counts"] == [{"category": "CF", "tiers": ["serious"]}]
    assert event.actor == admin


def test_setup_imports_the_fields_once(reference, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("setup", stdout=out)
    assert "已导入无违法违规记录证明领域 22 个(信用代证)" in out.getvalue()
    NoViolationField.objects.filter(code="tax").update(name="税务(已编辑)")
    out = io.StringIO()
    call_command("setup", stdout=out)
    assert "无违法违规记录证明领域" not in out.getvalue()
    assert NoViolationField.objects.get(code="tax").name == "税务(已编辑)"


def test_a_penalty_counts_in_its_sectors_field_too(fields, org):
    """A 消防法 penalty decided by the police: 公安(治安管理) by its department, 消防 by the
    sector the publicity rules gave it; not 市场监管, which only submitted it."""
    gaj = Department.objects.get(code="ZB-GAJ")
    _penalty(org, "淄公消罚〔2026〕4号", tier="general", days_ago=15, types="罚款",
             content="罚款人民币1万元", CF_CFJG=gaj.name, CF_CFJGDM=gaj.uscc,
             CF_YJ="《中华人民共和国消防法》第六十条")  # fmt: skip
    got = _by_key(noviolation.sections(org, fields=["market", "fire", "public_security"]))
    assert got["field:market"]["rows"] == []
    for key in ("field:fire", "field:public_security"):
        assert [r[0] for r in got[key]["rows"]] == ["淄公消罚〔2026〕4号"]
        assert got[key]["rows"][0][2] == "淄博市公安局"


def test_one_query_per_category_whatever_the_number_of_fields(
    fields, org, system, django_assert_max_num_queries
):
    for n in range(3):
        _penalty(org, f"淄市监罚〔2026〕3{n}号", tier="general", days_ago=20 + n, types="罚款",
                 content="罚款人民币1万元")  # fmt: skip
    identify(system, org, "BLK_FOOD_DRUG", decided_on=today() - dt.timedelta(days=3), today=today())
    noviolation.sections(org)  # warm the category field cache
    # fields, departments, categories, CF records, list entries
    with django_assert_max_num_queries(5):
        got = _by_key(noviolation.sections(org))
    assert len(got) == 22 and len(got["field:market"]["rows"]) == 4


def test_an_issued_report_stores_the_default_period_and_fields_resolved(fields, org, system):
    report = services.issue(system, org, kind=ReportKind.NO_VIOLATION)
    day = timezone.localdate(report.issued_at)
    # The default is the 36 months up to the day of issue, and every field in force: stored so
    # that a verification later recomposes exactly what was issued.
    assert report.period_to == day
    assert report.period_from == noviolation.default_period(day)[0]
    assert report.fields == [f.code for f in noviolation.fields_in_force(day)]
    assert len(report.fields) == 22
