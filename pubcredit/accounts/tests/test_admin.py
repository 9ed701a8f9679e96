"""The admin respects roles, writes through the services, shows a new key once, and keeps the
two trails read-only for everybody."""

import hashlib
import re

import pytest

from pubcredit.accounts import services
from pubcredit.accounts.models import AccessLog, ApiKey, AuditEvent, Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.subjects import access
from pubcredit.testing.factories import make_person


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "Root#pass-1234")


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users[Role.PLATFORM_ADMIN])
    return client


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        (Role.PLATFORM_ADMIN, "/admin/accounts/user/", 200),
        (Role.PLATFORM_ADMIN, "/admin/accounts/apikey/", 200),
        (Role.PLATFORM_ADMIN, "/admin/accounts/auditevent/", 200),
        (Role.PLATFORM_ADMIN, "/admin/accounts/accesslog/", 200),
        (Role.PLATFORM_ADMIN, "/admin/catalog/department/", 200),
        (Role.CENTRE_STAFF, "/admin/", 200),
        (Role.CENTRE_STAFF, "/admin/catalog/department/", 200),
        (Role.CENTRE_STAFF, "/admin/accounts/user/", 403),
        (Role.CENTRE_STAFF, "/admin/accounts/apikey/", 403),
        (Role.CENTRE_STAFF, "/admin/accounts/accesslog/", 403),
        (Role.PLATFORM_ADMIN, "/admin/subjects/subject/", 403),
        (Role.DEPARTMENT_CLERK, "/admin/", 302),
        (Role.DISTRICT_ADMIN, "/admin/accounts/user/", 302),
        (Role.BANK_USER, "/admin/", 302),
    ],
)
def test_admin_access_follows_the_role(client, world, role, url, status):
    client.force_login(world.users[role])
    response = client.get(url)
    assert response.status_code == status
    if status == 302:
        assert "/admin/login/" in response["Location"]


def test_centre_staff_admin_index_shows_only_the_catalogue(client, world):
    client.force_login(world.users[Role.CENTRE_STAFF])
    html = client.get("/admin/").content.decode()
    assert "/admin/catalog/" in html
    assert "/admin/accounts/" not in html


def test_issuing_a_key_in_the_admin_shows_it_exactly_once(admin_client, world):
    response = admin_client.post(
        "/admin/accounts/apikey/add/",
        {"name": "某银行信贷系统", "role": Role.BANK_USER, "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    assert (
        response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    )
    key = ApiKey.objects.get()
    html = response.content.decode()
    clear = re.search(r"pc_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}", html).group(0)
    assert clear.startswith(f"pc_{key.prefix}_")
    assert key.key_hash == hashlib.sha256(clear.encode()).hexdigest()
    assert key.created_by == world.users[Role.PLATFORM_ADMIN]
    assert AuditEvent.objects.filter(action="accounts.issue_api_key").count() == 1
    # Never again: not in the list, the key's page, nor a pending message.
    for url in ("/admin/accounts/apikey/", f"/admin/accounts/apikey/{key.pk}/change/"):
        assert clear not in admin_client.get(url).content.decode()
    assert clear not in str(admin_client.cookies)


def test_issue_form_refuses_platform_admin_keys_and_missing_scope(admin_client):
    response = admin_client.post(
        "/admin/accounts/apikey/add/", {"name": "x", "role": Role.PLATFORM_ADMIN}
    )
    assert response.status_code == 200 and not ApiKey.objects.exists()
    response = admin_client.post(
        "/admin/accounts/apikey/add/", {"name": "x", "role": Role.DEPARTMENT_CLERK}
    )
    assert "部门报送员必须指定所属部门" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoke_action(admin_client, admin_principal):
    key, clear = services.issue_api_key(admin_principal, name="某银行", role=Role.BANK_USER)
    response = admin_client.post(
        "/admin/accounts/apikey/",
        {"action": "revoke_keys", "_selected_action": [key.pk]},
        follow=True,
    )
    assert "已吊销 1 个密钥" in response.content.decode()
    key.refresh_from_db()
    assert not key.active
    assert services.authenticate_api_key(clear) is None
    # Keys are never edited or deleted.
    assert (
        admin_client.post(f"/admin/accounts/apikey/{key.pk}/change/", {"name": "y"}).status_code
        == 403
    )
    assert admin_client.get(f"/admin/accounts/apikey/{key.pk}/delete/").status_code == 403


def test_adding_a_user_goes_through_create_user(admin_client, world):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "clerk_tax",
            "usable_password": "true",
            "password1": "Tax#clerk-pass-99",
            "password2": "Tax#clerk-pass-99",
            "role": Role.DEPARTMENT_CLERK,
            "department": world.tax.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="clerk_tax")
    assert (user.role, user.department) == (Role.DEPARTMENT_CLERK, world.tax)
    assert user.check_password("Tax#clerk-pass-99")
    event = AuditEvent.objects.get(action="accounts.create_user")
    assert event.object_id == str(user.pk)


def test_adding_a_clerk_without_department_shows_the_rule(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"username": "c", "usable_password": "false", "role": Role.DEPARTMENT_CLERK},
    )
    assert response.status_code == 200
    assert "部门报送员必须指定所属部门" in response.content.decode()
    assert not User.objects.filter(username="c").exists()


def _change_data(user, **overrides):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "organisation": user.organisation,
        "role": user.role,
        "department": user.department_id or "",
        "district": user.district_id or "",
        "reason": "",
    }
    data.update(overrides)
    return data


def test_changing_a_role_in_the_admin_needs_a_reason(admin_client, world):
    clerk = world.users[Role.WINDOW_CLERK]
    url = f"/admin/accounts/user/{clerk.pk}/change/"
    response = admin_client.post(url, _change_data(clerk, role=Role.BANK_USER))
    assert response.status_code == 200
    assert "必须填写变更原因" in response.content.decode()
    response = admin_client.post(
        url, _change_data(clerk, role=Role.BANK_USER, organisation="某银行", reason="调往银行")
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert (clerk.role, clerk.organisation) == (Role.BANK_USER, "某银行")
    event = AuditEvent.objects.get(action="accounts.change_role")
    assert event.reason == "调往银行"
    assert AuditEvent.objects.filter(action="accounts.update_user").count() == 1


def test_password_and_deactivation_in_the_admin_are_audited(admin_client, world):
    clerk = world.users[Role.WINDOW_CLERK]
    response = admin_client.post(
        f"/admin/accounts/user/{clerk.pk}/password/",
        {
            "usable_password": "true",
            "password1": "Brand#new-pass-42",
            "password2": "Brand#new-pass-42",
        },
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.check_password("Brand#new-pass-42")
    assert AuditEvent.objects.filter(action="accounts.set_password").count() == 1

    admin_client.post(
        "/admin/accounts/user/", {"action": "deactivate_users", "_selected_action": [clerk.pk]}
    )
    clerk.refresh_from_db()
    assert not clerk.is_active
    assert admin_client.get(f"/admin/accounts/user/{clerk.pk}/delete/").status_code == 403


def test_trails_are_read_only_even_for_a_superuser(client, superuser, world, admin_principal):
    person = make_person("王五", "370303", 77)
    access.log_person_access(admin_principal, person, purpose="异议申请核实")
    services.issue_api_key(admin_principal, name="某银行", role=Role.BANK_USER)
    client.force_login(superuser)
    event = AuditEvent.objects.first()
    log = AccessLog.objects.get()
    for model, obj in (("auditevent", event), ("accesslog", log)):
        assert client.get(f"/admin/accounts/{model}/add/").status_code == 403
        assert client.get(f"/admin/accounts/{model}/{obj.pk}/delete/").status_code == 403
        assert client.post(f"/admin/accounts/{model}/{obj.pk}/change/", {}).status_code == 403
        page = client.get(f"/admin/accounts/{model}/{obj.pk}/change/")
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert AccessLog.objects.filter(pk=log.pk).exists()


def test_trails_are_searchable(admin_client, world, admin_principal):
    person = make_person("王五", "370303", 77)
    staff = Principal.of(world.users[Role.CENTRE_STAFF])
    access.log_person_access(staff, person, purpose="异议申请核实")
    access.log_person_access(admin_principal, person, purpose="信用修复审核")

    def found(model, q):
        response = admin_client.get(f"/admin/accounts/{model}/", {"q": q})
        return list(response.context["cl"].result_list)

    assert [log.purpose for log in found("accesslog", "centre_staff")] == ["异议申请核实"]
    assert len(found("accesslog", person.id_masked)) == 2  # by subject
    assert len(found("accesslog", str(person.pk))) == 2
    page = admin_client.get("/admin/accounts/accesslog/").content.decode()
    assert person.id_masked in page

    services.deactivate_user(admin_principal, world.users[Role.BANK_USER], reason="离职")
    assert [e.action for e in found("auditevent", "bank_user")] == ["accounts.deactivate_user"]
    assert [e.action for e in found("auditevent", "platform_admin")] == ["accounts.deactivate_user"]
    assert found("auditevent", "nobody-like-this") == []


def test_admin_pages_render(admin_client, world, admin_principal):
    key, _clear = services.issue_api_key(admin_principal, name="某银行", role=Role.BANK_USER)
    clerk = world.users[Role.WINDOW_CLERK]
    for url in (
        "/admin/accounts/user/add/",
        f"/admin/accounts/user/{clerk.pk}/change/",
        f"/admin/accounts/user/{clerk.pk}/password/",
        "/admin/accounts/apikey/add/",
        f"/admin/accounts/apikey/{key.pk}/change/",
        "/admin/accounts/user/?role__exact=window_clerk",
    ):
        assert admin_client.get(url).status_code == 200, url
    html = admin_client.get("/admin/accounts/apikey/add/").content.decode()
    assert 'value="platform_admin"' not in html and 'value="bank_user"' in html
