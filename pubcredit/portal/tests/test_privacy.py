"""No public page and no public API response ever shows a 身份证号 in clear.

A small demo city (pubcredit.demo: organisations, 个体工商户 and natural persons with valid ID
numbers) gets records through intake that carry persons' ID numbers everywhere a department
might put them: as the subject of a penalty, licence or 信用承诺, as a legal representative's ID
(a 不公开 field), as 承诺人代码 (脱敏公开), and typed into free text. News written by staff quotes
one too. Then a crawler walks every public page it can reach from the home page (every link,
every page of every list, every tab of every subject), posts every person's ID number to the
search form and the API, reads every public API list to its last page and every item, and fails
on any valid-checksum 18-character 身份证号 in any response.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest

from pubcredit.subjects.masking import is_valid_ric
from pubcredit.testing.portalkit import licence, penalty, submit, today

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
MASKED = re.compile(r"\d{6}\*{8}[\dXx]{4}")
SKIP_PREFIXES = ("/static/", "/admin/", "/console/", "/accounts/", "/i18n/", "/jsi18n/")
MAX_PAGES = 3000


def clear_ids(text: str) -> list[str]:
    return [m for m in ID_LIKE.findall(text) if is_valid_ric(m.upper())]


def commitment(n: int, *, name: str, kind: str, code: str, department) -> dict:
    made = today() - dt.timedelta(days=15)
    return {
        "CN_CNBM": f"370300{made:%Y%m%d}{n:06d}",
        "CN_CNRMC": name,
        "CN_CNRLB": kind,
        "CN_CNRDM": code,
        "CN_CNLX": "信用修复型",
        "CN_CNSY": "申请信用修复",
        "CN_CNNR": f"本人(证件号码{code})承诺所提交材料真实有效",
        "CN_WNZR": "承担相应法律责任",
        "CN_ZCRQ": made.isoformat(),
        "CN_LXZT": "全部履行",
        "CN_SLDW": department.name,
        "CN_SLDWDM": department.uscc,
        "CN_GKLX": "可向社会公开",
    }


@pytest.fixture
def demo_city(platform, system, settings):
    """~300 demo subjects, and records about some organisations and every tenth person."""
    from pubcredit.catalog.models import Department
    from pubcredit.demo.services import load_demo
    from pubcredit.portal import news
    from pubcredit.subjects import crypto
    from pubcredit.subjects.models import Subject

    settings.PUBCREDIT_PUBLIC_RATE = "0"  # the crawler is one very busy client
    load_demo(system, subjects=300, seed=7)
    department = Department.objects.get(code="ZB-SCJG")
    persons = list(Subject.objects.filter(kind="person").order_by("pk"))
    orgs = list(Subject.objects.filter(kind="org", uscc__isnull=False).order_by("pk")[:12])
    inds = list(Subject.objects.filter(kind="ind", uscc__isnull=False).order_by("pk")[:4])
    ids = {p.pk: crypto.decrypt_id(p.id_cipher) for p in persons}
    assert len(ids) >= 40 and all(is_valid_ric(i) for i in ids.values())

    chosen = persons[::10]
    cf, xk, cn = [], [], []
    n = 1000
    for person in chosen:
        n += 1
        number = ids[person.pk]
        cf.append(
            penalty(
                n,
                name=person.name,
                kind="自然人",
                id_number=number,
                facts=f"当事人{person.name}(公民身份号码{number})无证经营",
            )
        )
        xk.append(licence(n, name=person.name, kind="自然人", id_number=number))
        cn.append(
            commitment(n, name=person.name, kind="自然人", code=number, department=department)
        )
    for i, org in enumerate(orgs + inds):
        n += 1
        kind = "个体工商户" if org.kind == "ind" else "法人及非法人组织"
        witness = ids[persons[i].pk]
        row = penalty(n, name=org.name, kind=kind, uscc=org.uscc, facts=f"员工身份证{witness}")
        row |= {"CF_FR_ZJLX": "身份证", "CF_FR_ZJHM": ids[persons[i + 1].pk]}
        cf.append(row)
        xk.append(licence(n, name=org.name, kind=kind, uscc=org.uscc))
        cn.append(commitment(n, name=org.name, kind=kind, code=org.uscc, department=department))
    submit(system, "CF", cf)
    submit(system, "XK", xk)
    submit(system, "CN", cn)

    # Credit lists: a person on a 严重失信主体名单 (ID number in the basis), an organisation on a
    # 红名单.
    from pubcredit.lists.models import ListType
    from pubcredit.lists.services import identify_entry, import_list_types

    import_list_types(system)
    types = list(ListType.objects.filter(active=True).order_by("code"))
    black = next(t for t in types if t.kind == "black" and t.accepts_kind("person"))
    red = next(t for t in types if t.kind == "red" and t.accepts_kind("org"))
    decided = today() - dt.timedelta(days=5)
    for person in chosen[:3]:
        identify_entry(
            system,
            list_type=black,
            subject=person,
            basis=f"被执行人{person.name}(身份证号{ids[person.pk]})拒不履行",
            decided_on=decided,
            department=department,
        )
    identify_entry(
        system,
        list_type=red,
        subject=orgs[0],
        basis="纳税信用A级",
        decided_on=decided,
        department=department,
    )

    article = news.save_article(
        system,
        section="notices",
        title="关于公示信用修复结果的通知",
        body=f"经审核,申请人(身份证号{ids[persons[-1].pk]})的信用修复申请符合条件。",
        summary=f"申请人{ids[persons[-2].pk]}",
    )
    news.publish_article(system, article)
    return {"ids": ids, "persons": persons, "chosen": chosen, "orgs": orgs + inds}


class Crawler:
    def __init__(self, client):
        self.client = client
        self.seen: set[str] = set()
        self.leaks: list[tuple[str, list[str]]] = []
        self.masked_seen = 0
        self.responses = 0

    def check(self, label: str, text: str) -> None:
        self.responses += 1
        found = clear_ids(text)
        if found:
            self.leaks.append((label, found))
        self.masked_seen += len(MASKED.findall(text))

    def get(self, url: str):
        response = self.client.get(url)
        self.check(f"GET {url}", response.content.decode("utf-8", "replace"))
        return response

    def post(self, url: str, data: dict, *, json_body: bool = False):
        if json_body:
            response = self.client.post(url, json.dumps(data), content_type="application/json")
        else:
            response = self.client.post(url, data)
        self.check(f"POST {url}", response.content.decode("utf-8", "replace"))
        return response

    def crawl(self, *starts: str) -> None:
        queue = deque(starts)
        while queue and len(self.seen) < MAX_PAGES:
            url = queue.popleft()
            if url in self.seen:
                continue
            self.seen.add(url)
            response = self.get(url)
            if response.status_code in (301, 302):
                queue.append(response["Location"])
                continue
            if "text/html" not in response.get("Content-Type", ""):
                continue
            for href in re.findall(r'href="([^"#]*)"', response.content.decode()):
                target = urljoin(url, href.replace("&amp;", "&"))
                parts = urlsplit(target)
                if parts.netloc or not parts.path.startswith("/"):
                    continue
                if parts.path.startswith(SKIP_PREFIXES):
                    continue
                link = parts.path + (f"?{parts.query}" if parts.query else "")
                if link not in self.seen:
                    queue.append(link)

    def api_pages(self, path: str, **params) -> list[dict]:
        items, offset = [], 0
        while True:
            query = "&".join(
                f"{k}={v}" for k, v in {**params, "limit": 50, "offset": offset}.items()
            )
            response = self.get(f"{path}?{query}")
            assert response.status_code == 200, (path, query, response.content[:300])
            body = response.json()
            items += body["items"]
            offset += 50
            if offset >= min(body["total"], 1000):
                return items


def test_no_public_page_or_api_response_shows_an_id_number(client, demo_city):
    ids = demo_city["ids"]
    crawler = Crawler(client)

    # Every person looked up by the full number, through the form and the API.
    person_pages = []
    for number in ids.values():
        html = crawler.post("/search/", {"q": number}).content.decode()
        person_pages += re.findall(r'href="(/subjects/p-[^"]+)"', html)
        body = crawler.post("/api/v1/public/persons/lookup", {"id_number": number}, json_body=True)
        for item in body.json()["items"]:
            for tab in ("licences", "penalties", "red", "serious", "commitments"):
                crawler.get(f"/api/v1/public/subjects/{item['ref']}/records?tab={tab}")
        crawler.post("/api/v1/public/search", {"q": number}, json_body=True)
        crawler.get(f"/api/v1/public/search?q={number}")
    # An old 15-digit number, whose upgraded 18-digit form the error message would name.
    fifteen = next(iter(ids.values()))
    crawler.post("/search/", {"q": fifteen[:6] + fifteen[8:17]})
    # Only persons with something public are found (the others are answered like unknown
    # numbers): at least every person given records above.
    assert len(person_pages) >= len(demo_city["chosen"])

    # Every page reachable from the home page, the person pages and the search results.
    searches = [f"/search/?q={org.name[2:4]}" for org in demo_city["orgs"]]
    searches += [f"/search/?q={org.uscc}" for org in demo_city["orgs"]]
    searches += ["/search/?q=%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8"]  # 有限公司: many pages
    tabs = ["", "?tab=licences", "?tab=penalties", "?tab=red", "?tab=serious", "?tab=commitments"]
    starts = ["/", "/disclosure/?category=CF", "/disclosure/?category=XK", "/notices/"]
    starts += [page + tab for page in person_pages for tab in tabs]
    crawler.crawl(*starts, *searches)

    # Every public API list to its end, and every item.
    api = "/api/v1/public"
    for category in ("CF", "XK"):
        for item in crawler.api_pages(f"{api}/publicity", category=category):
            crawler.get(f"{api}/publicity/{item['id']}")
    for item in crawler.api_pages(f"{api}/news"):
        crawler.get(f"{api}/news/{item['id']}")
    for list_type in crawler.get(f"{api}/lists").json()["items"]:
        crawler.api_pages(f"{api}/lists/{list_type['code']}/entries")
    for kind in ("punishment", "reward"):
        crawler.get(f"{api}/measures?kind={kind}")
    for org in demo_city["orgs"]:
        for item in crawler.get(f"{api}/search?q={org.uscc}").json()["items"]:
            crawler.get(f"{api}/subjects/{item['ref']}")
            for tab in ("licences", "penalties", "red", "serious", "commitments"):
                crawler.api_pages(f"{api}/subjects/{item['ref']}/records", tab=tab)
    crawler.api_pages(f"{api}/search", q="%E6%9C%89%E9%99%90")
    crawler.get("/api/v1/openapi.json")

    assert crawler.leaks == []
    # The crawl really reached persons' data (masked) and many pages.
    assert crawler.masked_seen > len(ids) * 3
    assert len(crawler.seen) > 100, len(crawler.seen)
    assert any("/disclosure/records/" in url for url in crawler.seen)
    assert any("tab=commitments" in url for url in crawler.seen)
    assert any("tab=serious" in url for url in crawler.seen)
    assert any(url.startswith("/measures/lists/BLK_") for url in crawler.seen)


def test_the_detector_finds_a_planted_id_number(demo_city):
    number = next(iter(demo_city["ids"].values()))
    assert clear_ids(f"<td>{number}</td>") == [number]
    assert clear_ids(f'"id": "{number}"') == [number]
    assert clear_ids(f"{number[:6]}********{number[-4:]}") == []
