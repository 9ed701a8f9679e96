"""Console subject pages: search with masked persons, organisation pages, and the 查询事由 gate
in front of a natural person's clear 身份证号."""

import pytest

from pubcredit.accounts.models import AccessLog, Role
from pubcredit.testing.factories import make_org, make_person, make_world, ric

SEARCH = "/console/subjects/"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    world = make_world()
    world.org = make_org("淄博张店宏达机械有限公司", "370303", 11)
    world.other_org = make_org("淄博淄川华泰陶瓷有限公司", "370302", 12)
    world.person = make_person("张三丰", "370303", 101)
    world.other_person = make_person("李四", "370302", 102)
    world.clear_id = ric("370303", seq=101)
    return world


def login(client, world, role):
    client.force_login(world.users[role])
    return client


def detail(subject):
    return f"/console/subjects/{subject.pk}/"


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(SEARCH)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", [Role.BANK_USER, Role.PUBLIC])
def test_roles_without_console_or_register_get_403(client, world, role):
    login(client, world, role)
    assert client.get(SEARCH).status_code == 403
    assert client.get(detail(world.org)).status_code == 403


def test_search_by_uscc(client, world):
    login(client, world, Role.WINDOW_CLERK)
    response = client.post(SEARCH, {"uscc": world.org.uscc.lower()})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r.subject for r in rows] == [world.org]
    html = response.content.decode()
    assert "淄博张店宏达机械有限公司" in html and world.org.uscc in html
    assert detail(world.org) in html
    assert "no-store" in response["Cache-Control"]


def test_search_by_name_lists_scored_candidates(client, world):
    login(client, world, Role.CENTRE_STAFF)
    response = client.get(SEARCH, {"name": "宏达机械"})
    rows = response.context["rows"]
    assert rows and rows[0].subject == world.org
    assert 0 < rows[0].score <= 100
    assert f"{rows[0].score:.1f}" in response.content.decode()


def test_persons_are_masked_in_results(client, world):
    login(client, world, Role.CENTRE_STAFF)  # even a role that may look at persons
    response = client.post(SEARCH, {"id_number": world.clear_id})
    (row,) = response.context["rows"]
    assert row.subject == world.person
    assert (row.display_name, row.display_id) == ("张**", "370303********" + world.clear_id[-4:])
    html = response.content.decode()
    assert world.clear_id not in html.replace(f'value="{world.clear_id}"', "")
    assert "张三丰" not in html
    response = client.post(SEARCH, {"name": "张三丰"})
    assert response.context["rows"][0].display_name == "张**"
    assert "张三丰" not in response.content.decode().replace('value="张三丰"', "")
    assert not AccessLog.objects.exists()


def test_an_id_number_is_never_read_from_the_url(client, world):
    login(client, world, Role.CENTRE_STAFF)
    response = client.get(SEARCH, {"id_number": world.clear_id})
    assert response.context["rows"] is None
    assert not response.context["form"].is_bound


def test_invalid_identifiers_and_empty_search_explain_themselves(client, world):
    login(client, world, Role.WINDOW_CLERK)
    response = client.post(SEARCH, {"uscc": world.org.uscc[:-1] + "0"})
    assert response.context["rows"] is None
    assert response.context["form"].errors["uscc"]
    response = client.post(SEARCH, {})
    assert "请至少填写" in response.content.decode()


def test_district_admin_searches_and_opens_only_its_district(client, world):
    login(client, world, Role.DISTRICT_ADMIN)
    response = client.post(SEARCH, {"uscc": world.other_org.uscc})
    assert response.context["rows"] == []
    assert "没有找到" in response.content.decode()
    assert client.get(detail(world.other_org)).status_code == 404
    assert client.get(detail(world.other_person)).status_code == 404
    assert client.get(detail(world.org)).status_code == 200


def test_organisation_page_shows_its_data(client, world):
    login(client, world, Role.DEPARTMENT_CLERK)
    response = client.get(detail(world.org))
    html = response.content.decode()
    assert response.status_code == 200
    assert "淄博张店宏达机械有限公司" in html and world.org.uscc in html
    assert "张店区" in html
    assert not AccessLog.objects.exists()


def test_person_page_asks_for_a_purpose_first(client, world):
    login(client, world, Role.CENTRE_STAFF)
    response = client.get(detail(world.person))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="purpose"' in html
    assert world.clear_id not in html and "张三丰" not in html
    assert world.person.id_masked in html and "张**" in html
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("purpose", ["", "查询"])
def test_a_missing_or_short_purpose_reveals_nothing(client, world, purpose):
    login(client, world, Role.CENTRE_STAFF)
    response = client.post(detail(world.person), {"purpose": purpose})
    html = response.content.decode()
    assert response.context["form"].errors["purpose"]
    assert world.clear_id not in html and "张三丰" not in html
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("role", [Role.CENTRE_STAFF, Role.DISTRICT_ADMIN, Role.PLATFORM_ADMIN])
def test_a_purpose_logs_one_look_and_shows_the_clear_id(client, world, role):
    login(client, world, role)
    response = client.post(
        detail(world.person), {"purpose": "行政审批信用核查"}, REMOTE_ADDR="10.1.2.3"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert world.clear_id in html and "张三丰" in html
    assert "本次查看已记录" in html
    assert "no-store" in response["Cache-Control"]
    # One row for the clear 身份证号, one for the person's records, entries, checks and
    # commitments the page now shows below it (each thing shown is logged with the purpose).
    logs = AccessLog.objects.order_by("pk")
    assert [(g.actor, g.subject, g.purpose, g.client_address, g.what) for g in logs] == [
        (world.users[role], world.person, "行政审批信用核查", "10.1.2.3", "身份证号"),
        (
            world.users[role],
            world.person,
            "行政审批信用核查",
            "10.1.2.3",
            "信用记录、名单条目、信用核查和信用承诺",
        ),
    ]
    # Each look is new entries; reloading the page without a purpose shows nothing again.
    assert world.clear_id not in client.get(detail(world.person)).content.decode()
    assert AccessLog.objects.count() == 2


@pytest.mark.parametrize("role", [Role.WINDOW_CLERK, Role.DEPARTMENT_CLERK])
def test_roles_without_view_person_never_see_the_clear_id(client, world, role):
    login(client, world, role)
    for response in (
        client.get(detail(world.person)),
        client.post(detail(world.person), {"purpose": "行政审批信用核查"}),
    ):
        html = response.content.decode()
        assert response.status_code == 200
        assert world.clear_id not in html and "张三丰" not in html
        assert 'name="purpose"' not in html
        assert world.person.id_masked in html
    assert not AccessLog.objects.exists()
