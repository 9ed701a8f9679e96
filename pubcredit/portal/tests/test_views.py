"""Portal pages over real records: search, a subject's tabs (only what is public today), the
双公示 lists and record pages, the posted search form, the rate limit."""

import re

import pytest
from django.urls import reverse

from pubcredit.testing.portalkit import licence, make_ric, make_uscc, penalty, subject_of, submit

pytestmark = pytest.mark.django_db

ACME = make_uscc(101)
PERSON_ID = make_ric(202, birth="19850307")


@pytest.fixture
def city(platform, system):
    submit(
        system,
        "CF",
        [
            penalty(1, name="淄博宏达机械制造有限公司", uscc=ACME, facts="生产不合格产品"),
            penalty(2, name="淄博宏达机械制造有限公司", uscc=ACME, days_ago=2000, fine="0.5"),
            penalty(3, name="张三丰", kind="自然人", id_number=PERSON_ID),
        ],
    )
    submit(system, "XK", [licence(4, name="淄博宏达机械制造有限公司", uscc=ACME)])


def test_search_page_lists_the_company_and_links_to_its_page(client, city):
    html = client.get("/search/", {"q": "宏达"}).content.decode()
    assert "淄博宏达机械制造有限公司" in html
    subject = subject_of(ACME)
    assert f'href="/subjects/{subject.pk}/"' in html
    assert ACME in html
    assert "找到 1 个主体" in html


def test_posted_name_search_redirects_to_a_bookmarkable_address(client, city):
    response = client.post("/search/", {"q": "宏达", "district": "", "kind": "org"})
    assert response.status_code == 302
    assert response["Location"] == "/search/?q=%E5%AE%8F%E8%BE%BE&kind=org"


def test_posted_id_number_is_answered_in_place_and_masked(client, city):
    response = client.post("/search/", {"q": PERSON_ID})
    html = response.content.decode()
    assert response.status_code == 200
    assert PERSON_ID not in html
    assert "张**" in html and "张三丰" not in html
    assert PERSON_ID[:6] + "********" + PERSON_ID[-4:] in html


def test_a_person_cannot_be_found_by_name(client, city):
    html = client.get("/search/", {"q": "张三丰"}).content.decode()
    assert "没有找到符合条件的主体" in html
    assert "张" not in re.sub(r"<[^>]+>", "", html.split('id="search-summary"')[1])[:200]


def test_subject_page_shows_only_what_is_public_today(client, city):
    subject = subject_of(ACME)
    html = client.get(f"/subjects/{subject.pk}/").content.decode()
    assert "淄博宏达机械制造有限公司" in html and ACME in html
    # Tab counts: the 2000-day-old penalty is past its publicity.
    assert re.search(r'data-tab="penalties">行政处罚 <span class="count">1</span>', html)
    assert re.search(r'data-tab="licences">行政许可 <span class="count">1</span>', html)
    penalties = client.get(f"/subjects/{subject.pk}/", {"tab": "penalties"}).content.decode()
    assert "淄市监罚〔2026〕1号" in penalties
    assert "淄市监罚〔2026〕2号" not in penalties
    assert "生产不合格产品" in penalties
    licences = client.get(f"/subjects/{subject.pk}/", {"tab": "licences"}).content.decode()
    assert "食品经营许可证" in licences
    red = client.get(f"/subjects/{subject.pk}/", {"tab": "red"}).content.decode()
    assert "暂无公示信息" in red


def test_a_penalty_disappears_when_its_publicity_ends(client, city):
    import datetime as dt

    from pubcredit.publicity.services import sweep_publicity
    from pubcredit.testing.portalkit import today

    subject = subject_of(ACME)
    url = f"/subjects/{subject.pk}/?tab=penalties"
    assert "淄市监罚〔2026〕1号" in client.get(url).content.decode()
    sweep_publicity(today=today() + dt.timedelta(days=3 * 366))
    html = client.get(url).content.decode()
    assert "淄市监罚〔2026〕1号" not in html
    assert "暂无公示信息" in html


def test_person_page_is_reachable_only_through_the_signed_reference(client, city):
    from pubcredit.subjects.models import Subject

    person = Subject.objects.get(kind="person")
    assert client.get(f"/subjects/{person.pk}/").status_code == 404
    html = client.post("/search/", {"q": PERSON_ID}).content.decode()
    ref = re.search(r'href="/subjects/(p-[^/"]+)/"', html).group(1)
    page = client.get(f"/subjects/{ref}/?tab=penalties").content.decode()
    assert "张**" in page and "张三丰" not in page
    assert PERSON_ID not in page
    assert "淄市监罚〔2026〕3号" in page
    assert client.get(f"/subjects/{ref[:-2]}xx/").status_code == 404


def test_expired_person_reference_says_so(client, city, settings, monkeypatch):
    from pubcredit.publicity import public

    html = client.post("/search/", {"q": PERSON_ID}).content.decode()
    ref = re.search(r'href="/subjects/(p-[^/"]+)/"', html).group(1)
    monkeypatch.setattr(public, "PERSON_REF_SECONDS", -1)
    response = client.get(f"/subjects/{ref}/")
    assert response.status_code == 410
    assert "链接已过期" in response.content.decode()


def test_publicity_lists_latest_first_by_department_and_date(client, city):
    html = client.get("/disclosure/", {"category": "CF"}).content.decode()
    assert "淄市监罚〔2026〕1号" in html and "淄市监罚〔2026〕2号" not in html
    assert "张**" in html and "张三丰" not in html
    rows = re.findall(r"淄市监罚〔2026〕(\d)号", html)
    assert rows == ["3", "1"] or rows == ["1", "3"]
    assert "淄博市市场监督管理局" in html
    other = client.get("/disclosure/", {"category": "CF", "department": "ZB-STHJ"})
    assert "淄市监罚" not in other.content.decode()
    future = client.get("/disclosure/", {"category": "CF", "since": "2099-01-01"})
    assert "暂无公示信息" in future.content.decode()
    licences = client.get("/disclosure/", {"category": "XK"}).content.decode()
    assert "淄市监许〔2026〕4号" in licences


def test_record_page_shows_a_public_record_and_hides_an_ended_one(client, city):
    from pubcredit.records.models import Record

    current = Record.objects.get(business_key__startswith="淄市监罚〔2026〕1号")
    ended = Record.objects.get(business_key__startswith="淄市监罚〔2026〕2号")
    html = client.get(f"/disclosure/records/{current.pk}/").content.decode()
    assert "生产不合格产品" in html and "李四" in html
    assert client.get(f"/disclosure/records/{ended.pk}/").status_code == 404


def test_hidden_catalogue_fields_are_never_shown(client, platform, system):
    submit(
        system,
        "CF",
        [
            penalty(7, name="淄博隐藏字段有限公司", uscc=make_uscc(7))
            | {"CF_FR_ZJLX": "身份证", "CF_FR_ZJHM": make_ric(77)}
        ],
    )
    subject = subject_of(make_uscc(7))
    html = client.get(f"/subjects/{subject.pk}/?tab=penalties").content.decode()
    assert "法定代表人证件号码" not in html
    assert make_ric(77) not in html and make_ric(77)[-4:] + "<" not in html


def test_an_id_number_typed_into_free_text_is_masked(client, platform, system):
    number = make_ric(88)
    submit(
        system,
        "CF",
        [
            penalty(
                8,
                name="淄博文本有限公司",
                uscc=make_uscc(8),
                facts=f"员工王五(身份证号{number})无证上岗",
            )
        ],
    )
    subject = subject_of(make_uscc(8))
    html = client.get(f"/subjects/{subject.pk}/?tab=penalties").content.decode()
    assert number not in html
    assert f"王五(身份证号{number[:6]}********{number[-4:]})" in html


def test_search_page_rate_limit_answers_429_in_chinese(client, city, settings):
    settings.PUBCREDIT_PUBLIC_RATE = "3/60"
    for _ in range(3):
        assert client.get("/search/", {"q": "宏达"}).status_code == 200
    response = client.get("/search/", {"q": "宏达"})
    assert response.status_code == 429
    assert "请求过于频繁" in response.content.decode()
    assert int(response["Retry-After"]) >= 1
    # Another address is not affected.
    assert client.get("/search/", {"q": "宏达"}, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_district_and_kind_filters_are_offered_and_applied(client, city):
    from pubcredit.catalog.models import Region

    html = client.get("/search/", {"q": "宏达"}).content.decode()
    assert '<option value="370303">张店区</option>' in html
    assert Region.objects.filter(code="370303").exists()
    region = subject_of(ACME).region
    other = "370302" if region != "370302" else "370303"
    assert (
        "找到 1 个主体"
        in client.get("/search/", {"q": "宏达", "district": region}).content.decode()
    )
    assert "没有找到" in client.get("/search/", {"q": "宏达", "district": other}).content.decode()
    assert "没有找到" in client.get("/search/", {"q": "宏达", "kind": "ind"}).content.decode()


def test_every_link_on_a_subject_page_works(client, city):
    subject = subject_of(ACME)
    html = client.get(reverse("portal:subject", args=[subject.pk])).content.decode()
    for link in set(re.findall(r'href="([?/][^"]*)"', html)):
        if link.startswith("/static/"):
            continue
        url = link if link.startswith("/") else f"/subjects/{subject.pk}/{link}"
        assert client.get(url.replace("&amp;", "&")).status_code == 200, link


def test_red_and_serious_list_tabs_show_entries_in_force(client, city, system):
    import datetime as dt

    from pubcredit.catalog.models import Department
    from pubcredit.lists.models import ListType
    from pubcredit.lists.services import identify_entry
    from pubcredit.subjects.models import Subject
    from pubcredit.testing.portalkit import today

    subject = subject_of(ACME)
    types = list(ListType.objects.filter(active=True).order_by("code"))
    red = next(t for t in types if t.kind == "red" and t.accepts_kind("org"))
    black = next(t for t in types if t.kind == "black" and t.accepts_kind("person"))
    department = Department.objects.get(code="ZB-SCJG")
    identify_entry(
        system,
        list_type=red,
        subject=subject,
        basis="年度纳税信用评价为A级",
        decided_on=today() - dt.timedelta(days=30),
        document_number="淄税信〔2026〕1号",
        department=department,
    )
    person = Subject.objects.get(kind="person")
    identify_entry(
        system,
        list_type=black,
        subject=person,
        basis=f"拒不履行(身份证号{PERSON_ID})",
        decided_on=today() - dt.timedelta(days=10),
        department=department,
    )
    html = client.get(f"/subjects/{subject.pk}/?tab=red").content.decode()
    assert red.name in html and "淄税信〔2026〕1号" in html
    assert re.search(r'data-tab="red">守信激励\(红名单\) <span class="count">1</span>', html)
    assert "暂无公示信息" in client.get(f"/subjects/{subject.pk}/?tab=serious").content.decode()
    page = client.post("/search/", {"q": PERSON_ID}).content.decode()
    ref = re.search(r'href="/subjects/(p-[^/"]+)/"', page).group(1)
    serious = client.get(f"/subjects/{ref}/?tab=serious").content.decode()
    assert black.name in serious and PERSON_ID not in serious and "张三丰" not in serious
