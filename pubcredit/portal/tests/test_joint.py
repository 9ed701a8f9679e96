"""The public 联合奖惩 section: red and black lists with their entries in force, the measures
catalogue, and the same through the public API. Lists and measures are the shipped seed files."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from pubcredit.catalog.models import SubjectKind
from pubcredit.testing.listkit import identify
from pubcredit.testing.portalkit import make_ric, today

pytestmark = pytest.mark.django_db

BLACK = "BLK_JUDGMENT_DEFAULTER"  # 失信被执行人
RED = "RED_TAX_A"


@pytest.fixture(autouse=True)
def _lists(seeded):
    pass


def _on(system, subject, code, *, days_ago=10, **kwargs):
    decided = today() - dt.timedelta(days=days_ago)
    return identify(system, subject, code, decided_on=decided, today=today(), **kwargs)


def _table(html: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert match, table_id
    return match.group(0)


def test_seed_list_codes_used_here_exist():
    from pubcredit.lists.models import ListType

    assert ListType.objects.get(code=BLACK).kind == "black"
    assert ListType.objects.get(code=RED).kind == "red"


def test_overview_shows_red_and_black_list_types_with_entries_in_force(
    client, system, make_subject
):
    from pubcredit.lists.models import ListType

    a, b = make_subject(), make_subject()
    _on(system, a, BLACK)
    _on(system, b, BLACK)
    _on(system, a, RED)
    # An entry whose validity ended yesterday is not in force and not counted.
    _on(system, make_subject(), BLACK, days_ago=40, valid_to=today() - dt.timedelta(days=1))
    html = client.get(reverse("portal:measures")).content.decode()

    red, black = _table(html, "red-lists"), _table(html, "black-lists")
    for t in ListType.objects.filter(kind="red", active=True):
        assert t.name in red and t.name not in black
    for t in ListType.objects.filter(kind="black", active=True):
        assert t.name in black
    # 重点关注名单 are internal: never on the public site.
    for t in ListType.objects.filter(kind="watch"):
        assert t.name not in html
        assert reverse("portal:list_entries", args=[t.code]) not in html
    row = re.search(
        rf'href="{reverse("portal:list_entries", args=[BLACK])}".*?</tr>', black, re.S
    ).group(0)
    assert re.search(r'<td class="num">2</td>', row), row
    assert ListType.objects.get(code=BLACK).legal_basis.splitlines()[0] in black
    assert 'href="/measures/" aria-current="page"' in html


def test_a_retired_list_type_is_not_shown(client, system):
    from pubcredit.lists.models import ListType

    ListType.objects.filter(code=RED).update(effective_to=today() - dt.timedelta(days=1))
    html = client.get(reverse("portal:measures")).content.decode()
    assert ListType.objects.get(code=RED).name not in html
    assert client.get(reverse("portal:list_entries", args=[RED])).status_code == 404


def test_list_page_shows_entries_in_force_newest_first(client, system, make_subject):
    from pubcredit.lists.services import remove_entry

    older = make_subject(name="淄博较早认定有限公司")
    newer = make_subject(name="淄博最近认定有限公司")
    removed = make_subject(name="淄博已移出有限公司")
    ended = make_subject(name="淄博已到期有限公司")
    last_day = make_subject(name="淄博今日到期有限公司")
    _on(system, older, BLACK, days_ago=30, document_number="(2026)鲁03执100号")
    _on(system, newer, BLACK, days_ago=3, document_number="(2026)鲁03执200号")
    remove_entry(system, _on(system, removed, BLACK), "已履行")
    _on(system, ended, BLACK, days_ago=40, valid_to=today() - dt.timedelta(days=1))
    _on(system, last_day, BLACK, days_ago=40, valid_to=today())

    response = client.get(reverse("portal:list_entries", args=[BLACK]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/measures/" aria-current="page"' in html
    rows = _table(html, "list-entries")
    names = re.findall(r"淄博[^<]*有限公司", rows)
    assert names == ["淄博最近认定有限公司", "淄博较早认定有限公司", "淄博今日到期有限公司"]
    assert "(2026)鲁03执200号" in rows
    assert f'href="{reverse("portal:subject", args=[newer.pk])}"' in rows
    assert "共 3 条" in html


def test_a_person_on_a_list_is_masked_and_not_linked(client, system, make_subject):
    number = make_ric(1)
    person = make_subject(SubjectKind.PERSON, name="王小明")
    _on(system, person, BLACK, basis=f"被执行人王小明(身份证号{number})拒不履行")
    rows = _table(
        client.get(reverse("portal:list_entries", args=[BLACK])).content.decode(), "list-entries"
    )
    assert "王**" in rows
    assert "王小明" not in rows and number not in rows
    assert "/subjects/" not in rows


def test_list_pages_are_paginated(client, system, make_subject):
    for _ in range(23):
        _on(system, make_subject(), RED)
    first = client.get(reverse("portal:list_entries", args=[RED])).content.decode()
    second = client.get(reverse("portal:list_entries", args=[RED]) + "?page=2").content.decode()
    assert len(re.findall(r"<tr>", _table(first, "list-entries"))) == 1 + 20
    assert len(re.findall(r"<tr>", _table(second, "list-entries"))) == 1 + 3
    assert 'rel="next" href="?page=2"' in first


def test_internal_and_unknown_lists_are_not_found(client, system, make_subject):
    from pubcredit.lists.models import ListType

    watch = ListType.objects.filter(kind="watch").first()
    subject = make_subject()
    _on(system, subject, watch.code)
    assert client.get(reverse("portal:list_entries", args=[watch.code])).status_code == 404
    assert client.get(reverse("portal:list_entries", args=["NO_SUCH_LIST"])).status_code == 404
    assert client.get("/measures/lists/BLK%00/").status_code == 404
    assert client.get("/api/v1/public/lists/%00/entries").status_code == 404
    assert subject.name not in client.get(reverse("portal:measures")).content.decode()


def test_measure_catalogue_lists_measures_in_force_with_their_basis(client):
    from pubcredit.lists.models import ListType
    from pubcredit.measures.models import Measure

    punishments = list(Measure.objects.filter(kind="punishment", active=True))
    rewards = list(Measure.objects.filter(kind="reward", active=True))
    assert punishments and rewards
    retired, disabled = punishments[0], punishments[1]
    retired.effective_to = today() - dt.timedelta(days=1)
    retired.save()
    disabled.active = False
    disabled.save()

    html = client.get(reverse("portal:measure_catalogue")).content.decode()
    assert 'href="/measures/" aria-current="page"' in html
    shown = re.findall(r'<li class="record" id="m-([A-Z0-9_]+)"', html)
    assert shown == [m.code for m in sorted(punishments[2:], key=lambda m: (m.sort_order, m.code))]
    assert retired.name not in html and disabled.name not in html
    sample = punishments[2]
    block = re.search(rf'id="m-{sample.code}".*?</li>', html, re.S).group(0)
    assert sample.legal_basis.splitlines()[0] in block
    assert sample.get_measure_class_display() in block
    for department in sample.departments.all():
        assert department.name in block
    for trigger in sample.list_types.exclude(kind="watch"):  # watch lists: never named
        assert trigger.name in block

    # Internal 重点关注名单 are never named, not even as a measure's trigger.
    for watch in ListType.objects.filter(kind="watch"):
        assert watch.name not in html

    reward_html = client.get(reverse("portal:measure_catalogue") + "?kind=reward").content.decode()
    shown = re.findall(r'<li class="record" id="m-([A-Z0-9_]+)"', reward_html)
    assert sorted(shown) == sorted(m.code for m in rewards)
    assert client.get(reverse("portal:measure_catalogue") + "?kind=x").status_code == 200


def test_record_conditions_are_described_in_chinese(client):
    from pubcredit.measures.models import Measure

    measure = Measure.objects.filter(kind="punishment", active=True).first()
    measure.record_conditions = [{"category": "CF", "tier_in": ["严重"]}]
    measure.save()
    html = client.get(reverse("portal:measure_catalogue")).content.decode()
    block = re.search(rf'id="m-{measure.code}".*?</li>', html, re.S).group(0)
    assert "行政处罚记录(严重,公示期内)" in block


def test_overview_counts_the_measures_in_force(client):
    from pubcredit.measures.models import Measure

    Measure.objects.filter(kind="reward").update(active=False)
    n = Measure.objects.filter(kind="punishment", active=True).count()
    html = client.get(reverse("portal:measures")).content.decode()
    assert f"现行惩戒措施 {n} 项" in html
    assert "现行激励措施 0 项" in html


# --------------------------------------------------------------------------- public API


def test_api_lists_and_entries(client, system, make_subject):
    from pubcredit.lists.models import ListType

    person = make_subject(SubjectKind.PERSON, name="李大成")
    org = make_subject()
    _on(system, person, BLACK, days_ago=2)
    _on(system, org, BLACK, days_ago=5)
    body = client.get("/api/v1/public/lists").json()
    codes = [t["code"] for t in body["items"]]
    assert set(codes) == set(
        ListType.objects.filter(kind__in=["red", "black"], active=True).values_list(
            "code", flat=True
        )
    )
    assert next(t for t in body["items"] if t["code"] == BLACK)["entries"] == 2

    page = client.get(f"/api/v1/public/lists/{BLACK}/entries?limit=1").json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["list_type"]["code"] == BLACK
    assert page["items"][0]["subject_name"] == "李**" and page["items"][0]["subject_ref"] is None
    rest = client.get(f"/api/v1/public/lists/{BLACK}/entries?limit=1&offset=1").json()
    assert rest["items"][0]["subject_ref"] == str(org.pk)

    watch = ListType.objects.filter(kind="watch").first().code
    missing = client.get(f"/api/v1/public/lists/{watch}/entries")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_api_measures(client):
    from pubcredit.measures.models import Measure

    body = client.get("/api/v1/public/measures?kind=reward").json()
    assert {m["code"] for m in body["items"]} == set(
        Measure.objects.filter(kind="reward", active=True).values_list("code", flat=True)
    )
    assert all(m["legal_basis"] for m in body["items"])
    bad = client.get("/api/v1/public/measures?kind=bonus")
    assert bad.status_code == 422
