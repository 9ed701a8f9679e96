"""The public read API (/api/v1/public/…): no key needed, paginated, rate-limited, masked."""

import re

import pytest

from pubcredit.testing.portalkit import licence, make_ric, make_uscc, penalty, subject_of, submit

pytestmark = pytest.mark.django_db

API = "/api/v1/public"
ACME = make_uscc(301)
PERSON_ID = make_ric(302, birth="19900101")


@pytest.fixture
def city(platform, system):
    submit(
        system,
        "CF",
        [
            penalty(1, name="淄博宏达机械制造有限公司", uscc=ACME),
            penalty(2, name="淄博宏达机械制造有限公司", uscc=ACME, days_ago=2000),
            penalty(3, name="李小龙", kind="自然人", id_number=PERSON_ID),
        ],
    )
    submit(system, "XK", [licence(4, name="淄博宏达机械制造有限公司", uscc=ACME)])


def test_search_needs_no_key_and_returns_public_subjects(client, city):
    response = client.get(f"{API}/search", {"q": "宏达"})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "name" and body["total"] == 1 and body["more"] is False
    [item] = body["items"]
    assert item["name"] == "淄博宏达机械制造有限公司"
    assert item["uscc"] == ACME
    assert item["ref"] == str(subject_of(ACME).pk)
    assert "id_masked" not in item or item["id_masked"] is None


def test_search_by_uscc(client, city):
    body = client.get(f"{API}/search", {"q": ACME}).json()
    assert body["mode"] == "uscc" and [i["uscc"] for i in body["items"]] == [ACME]


def test_limit_is_capped_at_50(client, city):
    response = client.get(f"{API}/search", {"q": "宏达", "limit": 51})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request" and body["message"]
    assert client.get(f"{API}/search", {"q": "宏达", "limit": 50}).status_code == 200


def test_a_person_is_never_found_by_name_and_id_numbers_stay_out_of_urls(client, city):
    assert client.get(f"{API}/search", {"q": "李小龙"}).json()["items"] == []
    refused = client.get(f"{API}/search", {"q": PERSON_ID})
    assert refused.status_code == 422 and refused.json()["code"] == "use_post"
    assert PERSON_ID not in refused.content.decode()


def test_person_lookup_by_exact_id_number_is_masked(client, city):
    response = client.post(
        f"{API}/persons/lookup", {"id_number": PERSON_ID}, content_type="application/json"
    )
    body = response.json()
    assert response.status_code == 200
    assert PERSON_ID not in response.content.decode()
    [item] = body["items"]
    assert item["name"] == "李**"
    assert item["id_masked"] == PERSON_ID[:6] + "********" + PERSON_ID[-4:]
    assert item["ref"].startswith("p-")
    records = client.get(f"{API}/subjects/{item['ref']}/records", {"tab": "penalties"}).json()
    assert records["total"] == 1
    assert PERSON_ID not in str(records)
    fields = {f["code"]: f["value"] for f in records["items"][0]["fields"]}
    assert "CF_XDR_MC" not in fields  # the subject's own fields are in the subject part
    assert records["items"][0]["subject_name"] == "李**"


def test_subject_by_plain_id_never_resolves_a_person(client, city):
    from pubcredit.subjects.models import Subject

    person = Subject.objects.get(kind="person")
    response = client.get(f"{API}/subjects/{person.pk}")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "请求的对象不存在。", "details": []}


def test_subject_and_tab_counts(client, city):
    subject = subject_of(ACME)
    body = client.get(f"{API}/subjects/{subject.pk}").json()
    assert body["subject"]["name"] == "淄博宏达机械制造有限公司"
    counts = {t["slug"]: t["count"] for t in body["tabs"]}
    assert counts == {
        "basic": None,
        "licences": 1,
        "penalties": 1,
        "red": 0,
        "serious": 0,
        "commitments": 0,
    }


def test_subject_records_are_only_the_public_ones_and_paginated(client, city):
    subject = subject_of(ACME)
    body = client.get(f"{API}/subjects/{subject.pk}/records", {"tab": "penalties"}).json()
    assert body["total"] == 1 and body["limit"] == 20
    item = body["items"][0]
    assert item["category"] == "CF" and item["publicity_start"]
    assert {f["code"] for f in item["fields"]} >= {"CF_WSH", "CF_CFLB", "CF_SY"}
    bad = client.get(f"{API}/subjects/{subject.pk}/records", {"tab": "basic"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_tab"
    empty = client.get(
        f"{API}/subjects/{subject.pk}/records", {"tab": "penalties", "offset": 5}
    ).json()
    assert empty["items"] == [] and empty["total"] == 1


def test_publicity_list_and_one_record(client, city):
    body = client.get(f"{API}/publicity", {"category": "CF"}).json()
    assert body["total"] == 2
    names = [item["subject_name"] for item in body["items"]]
    assert set(names) == {"淄博宏达机械制造有限公司", "李**"}
    person_item = next(i for i in body["items"] if i["subject_kind"] == "person")
    assert person_item["subject_ref"] is None  # no link to a person from a list
    fields = {f["code"]: f["value"] for f in person_item["fields"]}
    assert fields["CF_XDR_MC"] == "李**"
    assert fields["CF_XDR_ZJHM"] == PERSON_ID[:6] + "********" + PERSON_ID[-4:]
    one = client.get(f"{API}/publicity/{person_item['id']}")
    assert one.status_code == 200 and one.json()["subject_name"] == "李**"
    assert client.get(f"{API}/publicity", {"category": "XX"}).status_code == 422
    assert client.get(f"{API}/publicity", {"department": "ZB-STHJ"}).json()["total"] == 0
    assert client.get(f"{API}/publicity", {"since": "2099-01-01"}).json()["total"] == 0


def test_news_endpoints(client, platform, system):
    from pubcredit.portal import news

    draft = news.save_article(system, section="news", title="草稿", body="未发布")
    published = news.save_article(
        system, section="notices", title="关于信用修复的通知", body="正文"
    )
    news.publish_article(system, published)
    body = client.get(f"{API}/news").json()
    assert [a["title"] for a in body["items"]] == ["关于信用修复的通知"]
    assert client.get(f"{API}/news", {"section": "news"}).json()["total"] == 0
    assert client.get(f"{API}/news", {"section": "nope"}).status_code == 422
    detail = client.get(f"{API}/news/{published.pk}").json()
    assert detail["body"] == "正文" and detail["section_label"] == "通知公告"
    assert client.get(f"{API}/news/{draft.pk}").status_code == 404


def test_rate_limit_is_per_client_address_with_the_error_shape(client, city, settings):
    settings.PUBCREDIT_PUBLIC_RATE = "2/60"
    assert client.get(f"{API}/search", {"q": "宏达"}).status_code == 200
    assert client.get(f"{API}/news").status_code == 200
    response = client.get(f"{API}/search", {"q": "宏达"})
    assert response.status_code == 429
    assert response.json() == {
        "code": "throttled",
        "message": "请求过于频繁,请稍后再试。",
        "details": [],
    }
    assert client.get(f"{API}/news", REMOTE_ADDR="192.0.2.1").status_code == 200
    # X-Forwarded-For is not trusted unless configured: it cannot dodge the limit.
    spoofed = client.get(f"{API}/news", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert spoofed.status_code == 429


QUIET_ID = make_ric(303, birth="19800101")  # in the register, nothing public
UNKNOWN_ID = make_ric(304, birth="19800101")  # not in the register


def _lookup(client, number):
    return client.post(
        f"{API}/persons/lookup", {"id_number": number}, content_type="application/json"
    )


def test_a_person_with_nothing_public_is_answered_like_an_unknown_number(client, city, system):
    """Finding 7: the lookup never confirms that someone is in the register."""
    submit(
        system, "CF", [penalty(5, name="王静", kind="自然人", id_number=QUIET_ID, days_ago=2000)]
    )
    from pubcredit.subjects.models import Subject

    assert Subject.objects.filter(kind="person").count() == 2  # both are registered
    quiet, unknown = _lookup(client, QUIET_ID), _lookup(client, UNKNOWN_ID)
    assert quiet.status_code == unknown.status_code == 200
    expected = {
        "mode": "id",
        "total": 0,
        "more": False,
        "offset": 0,
        "limit": 1,
        "message": "",
        "items": [],
    }
    assert {k: v for k, v in quiet.json().items() if k != "query"} == expected
    assert {k: v for k, v in unknown.json().items() if k != "query"} == expected
    assert quiet.json()["query"] == QUIET_ID[:6] + "********" + QUIET_ID[-4:]
    # The portal form answers alike too.
    pages = [client.post("/search/", {"q": n}) for n in (QUIET_ID, UNKNOWN_ID)]
    assert [p.status_code for p in pages] == [200, 200]
    texts = [
        p.content.decode().replace(n[:6] + "********" + n[-4:], "ID")
        for p, n in zip(pages, (QUIET_ID, UNKNOWN_ID), strict=True)
    ]
    texts = [re.sub(r'(csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]*"', "", t) for t in texts]
    assert texts[0] == texts[1] and "王*" not in texts[0]
    # Someone with something public is still found.
    assert [i["name"] for i in _lookup(client, PERSON_ID).json()["items"]] == ["李**"]


def test_an_id_number_in_a_search_address_is_refused(client, city):
    page = client.get("/search/", {"q": PERSON_ID})
    html = page.content.decode()
    assert page.status_code == 400
    assert "按身份证号码查询请在上方查询框中输入号码" in html
    assert PERSON_ID not in html and "李**" not in html
    assert 'method="post"' in html  # the form to use instead
    api = client.get(f"{API}/search", {"q": PERSON_ID})
    assert api.status_code == 422 and "POST" in api.json()["message"]
