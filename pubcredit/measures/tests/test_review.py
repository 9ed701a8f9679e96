"""Drafting notes ("[UNCONFIRMED …]") of the shipped seed data never reach the public: an import
keeps them in the admin-only note, flags the row 待核实 and ships a measure whose content or
legal basis is unconfirmed inactive; the public 联合奖惩 pages show neither the notes nor an
inactive measure."""

import pytest

from pubcredit.core.drafting import split_unconfirmed
from pubcredit.lists.models import ListType
from pubcredit.measures.models import Measure

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = (
    "/measures/",
    "/measures/catalogue/?kind=punishment",
    "/measures/catalogue/?kind=reward",
    "/api/v1/public/measures?kind=punishment",
    "/api/v1/public/measures?kind=reward",
    "/api/v1/public/lists",
)


def test_split_unconfirmed():
    assert split_unconfirmed("优先考虑 [UNCONFIRMED]。") == ("优先考虑。", [""])
    assert split_unconfirmed("第三十三条 [UNCONFIRMED 条款];《意见》") == (
        "第三十三条;《意见》",
        ["条款"],
    )
    assert split_unconfirmed("已核对的依据") == ("已核对的依据", [])


def test_a_measure_with_an_unconfirmed_content_ships_inactive_and_flagged(reference):
    m = Measure.objects.get(code="R_HIRING_PRIORITY")
    assert (m.active, m.needs_review) == (False, True)
    assert m.content == "诚信道德模范和身边好人在公职人员招录、国有企业招聘中同等条件下优先考虑。"
    assert m.legal_basis == (
        "《山东省社会信用条例》第三十条至第三十三条;《国务院关于建立完善守信联合激励和失信联合惩戒制度"
        "加快推进社会诚信建设的指导意见》(国发〔2016〕33号)"
    )
    assert m.note.splitlines() == [
        "是否有法定依据需核对;公务员录用以考试成绩为准。",
        "措施内容待核实",
        "依据待核实:条款",
        "待核实",
    ]
    civil = Measure.objects.get(code="P_RESTRICT_CIVIL_SERVICE")
    assert (civil.active, civil.needs_review) == (False, True)
    assert civil.note == "依据待核实:事业单位依据"


def test_a_marker_only_in_the_admin_note_flags_but_keeps_the_measure(reference):
    m = Measure.objects.get(code="P_RESTRICT_PROCUREMENT")
    assert (m.active, m.needs_review) == (True, True)
    assert m.note == (
        "“较大数额罚款”以严重程度为“严重”的行政处罚近似。\n待核实:金额标准按各行业规定"
    )
    assert not Measure.objects.get(code="P_RESTRICT_BIDDING").needs_review


def test_the_shipped_measures_flagged_and_inactive(reference):
    flagged = set(Measure.objects.filter(needs_review=True).values_list("code", flat=True))
    inactive = set(Measure.objects.filter(active=False).values_list("code", flat=True))
    assert inactive == {
        "P_RESTRICT_MARKET_ACCESS",
        "P_RESTRICT_CIVIL_SERVICE",
        "R_TOLERANT_ACCEPTANCE",
        "R_GREEN_CHANNEL",
        "R_HONOURS_PRIORITY",
        "R_FISCAL_PRIORITY",
        "R_DEPOSIT_WAIVER",
        "R_HIRING_PRIORITY",
    }
    assert flagged == inactive | {"P_RESTRICT_PROCUREMENT", "P_RESTRICT_LAND"}
    for m in Measure.objects.all():
        for text in (m.name, m.content, m.legal_basis, m.note):
            assert "UNCONFIRMED" not in text, m.code


def test_list_types_lose_the_notes_but_stay_in_force(reference):
    lt = ListType.objects.get(code="BLK_PROCUREMENT")
    assert (lt.active, lt.needs_review) == (True, True)
    assert lt.legal_basis.endswith("(财库〔2015〕150号)")
    assert lt.note.splitlines()[-1] == "认定依据待核实:条款"
    for lt in ListType.objects.all():
        assert "UNCONFIRMED" not in lt.legal_basis + lt.name + lt.note, lt.code


def test_public_pages_show_no_drafting_note_and_no_inactive_measure(client, reference):
    for url in PUBLIC_PAGES:
        text = client.get(url).content.decode("unicode_escape" if "/api/" in url else "utf-8")
        assert "UNCONFIRMED" not in text, url
        assert "同等条件下优先录用" not in text, url  # R_HIRING_PRIORITY, inactive
        assert "限制录用为公务员、事业单位工作人员" not in text, url  # P_RESTRICT_CIVIL_SERVICE
    catalogue = client.get("/measures/catalogue/?kind=punishment").content.decode()
    assert "限制参与政府采购活动" in catalogue


def test_the_admin_lists_show_the_review_flag(admin_client, reference):
    html = admin_client.get("/admin/measures/measure/?needs_review__exact=1").content.decode()
    assert "待核实" in html and "同等条件下优先录用" in html
    assert "限制参与政府采购活动" in html
    assert "限制参与招标投标" not in html
    html = admin_client.get("/admin/lists/listtype/?needs_review__exact=1").content.decode()
    assert "待核实" in html and "政府采购严重违法失信主体" in html
