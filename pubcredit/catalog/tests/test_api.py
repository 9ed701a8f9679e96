"""The public, read-only catalogue API."""

import pytest

pytestmark = pytest.mark.django_db

BASE = "/api/v1/catalog"


def test_departments(client, catalogue):
    resp = client.get(f"{BASE}/departments")
    assert resp.status_code == 200
    rows = resp.json()
    assert len(rows) == 48
    zhangdian = next(r for r in rows if r["code"] == "ZB-XYZX-370303")
    assert zhangdian["level"] == "district" and zhangdian["district"] == "370303"
    assert set(rows[0]) == {"code", "name", "uscc", "level", "district"}


def test_categories_list_and_filters(client, catalogue):
    rows = client.get(f"{BASE}/categories").json()
    by_code = {r["code"]: r for r in rows}
    assert {"XK", "CF", "CN", "ML01", "ML11", "YZSX"} <= set(by_code)
    assert by_code["CF"]["field_count"] == 30 and by_code["CF"]["fields_complete"]
    assert by_code["CF"]["parent"] == "ML03"
    assert by_code["YZSX"]["field_count"] == 20 and by_code["YZSX"]["fields_complete"]
    assert by_code["GGXYPJ"]["field_count"] == 0 and not by_code["GGXYPJ"]["fields_complete"]
    assert [r["catalogue_class"] for r in rows] == sorted(r["catalogue_class"] for r in rows)
    complete = client.get(f"{BASE}/categories", {"complete": "true"}).json()
    assert sorted(r["code"] for r in complete) == [
        "CF",
        "CN",
        "GYXW",
        "JYYC",
        "JZFW",
        "JZSC",
        "NSXYDJ",
        "SHZZPG",
        "SXBZXR",
        "SXJL",
        "XK",
        "XZGXF",
        "YZSX",
    ]
    class3 = client.get(f"{BASE}/categories", {"catalogue_class": 3}).json()
    assert {"XK", "CF", "ML03"} <= {r["code"] for r in class3}
    assert all(r["catalogue_class"] == 3 for r in class3)


def test_category_detail(client, catalogue):
    resp = client.get(f"{BASE}/categories/CF")
    assert resp.status_code == 200
    body = resp.json()
    assert body["business_key"] == ["CF_WSH", "CF_XDR_SHXYM", "CF_XDR_ZJHM"]
    fields = {f["code"]: f for f in body["fields"]}
    assert next(iter(fields)) == "CF_XDR_MC"
    fine = fields["CF_NR_FK"]
    assert fine["condition"] == {"field": "CF_CFLB", "in": ["罚款"]}
    assert fine["decimal_places"] == 6 and fine["unit"] == "万元"
    assert fields["CF_CFLB"]["codelist"] == "penalty_type"
    lists = {c["code"]: c for c in body["codelists"]}
    assert set(lists) == {"subject_kind", "id_type", "penalty_type"}
    assert lists["penalty_type"]["multi_value"]
    assert lists["penalty_type"]["items"][0]["value"] == "警告"


def test_unknown_category_and_codelist_are_404_with_error_body(client, catalogue):
    resp = client.get(f"{BASE}/categories/NOPE")
    assert resp.status_code == 404
    assert resp.json() == {"code": "not_found", "message": "信息类别 NOPE 不存在", "details": []}
    resp = client.get(f"{BASE}/codelists/nope")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"


def test_codelists(client, catalogue):
    resp = client.get(f"{BASE}/codelists/commitment_type")
    assert resp.status_code == 200
    body = resp.json()
    assert [i["value"] for i in body["items"]][-2:] == ["主动型", "其他"]
    assert "主动公示型" in body["items"][5]["synonyms"]
    # 8 + 名单类型 of 5 list categories + 6 of the categories that feed the scorecards
    assert len(client.get(f"{BASE}/codelists").json()) == 19


def test_catalogue_api_is_read_only(client, catalogue):
    assert client.post(f"{BASE}/categories", {}).status_code == 405
