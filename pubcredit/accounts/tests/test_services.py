"""Accounts services: scope rules, permission, one audit event each, rollback together."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from pubcredit.accounts import services
from pubcredit.accounts.audit import record_event
from pubcredit.accounts.models import ApiKey, AuditEvent, Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.testing.factories import make_department


def events(action=None):
    qs = AuditEvent.objects.order_by("id")
    return list(qs.filter(action=action) if action else qs)


# --- users ----------------------------------------------------------------------------------


def test_create_user_writes_one_event_without_secrets(world, admin_principal):
    before = AuditEvent.objects.count()
    user = services.create_user(
        admin_principal,
        username="clerk2",
        role=Role.DEPARTMENT_CLERK,
        department=world.tax,
        password="Vq9#long-enough-pass",
        first_name="小明",
        last_name="王",
    )
    assert user.check_password("Vq9#long-enough-pass")
    assert not user.is_staff
    assert AuditEvent.objects.count() == before + 1
    event = events("accounts.create_user")[-1]
    assert event.actor == world.users[Role.PLATFORM_ADMIN]
    assert event.object_id == str(user.pk)
    assert event.before is None
    assert event.after["role"] == Role.DEPARTMENT_CLERK
    assert event.after["department_id"] == world.tax.pk
    assert "password" not in event.after


def test_create_user_without_password_cannot_log_in(world, admin_principal):
    user = services.create_user(admin_principal, username="nopass", role=Role.WINDOW_CLERK)
    assert not user.has_usable_password()


@pytest.mark.parametrize(
    ("role", "scope", "field", "message"),
    [
        (Role.DEPARTMENT_CLERK, {}, "department", "部门报送员必须指定所属部门"),
        (Role.DISTRICT_ADMIN, {}, "district", "区县管理员必须指定所属区县"),
        (Role.WINDOW_CLERK, {"department": "market"}, "department", "只有部门报送员"),
        (Role.CENTRE_STAFF, {"district": "zhangdian"}, "district", "只有区县管理员"),
        (Role.DISTRICT_ADMIN, {"district": "city"}, "district", "不是区县或功能区"),
        ("superhero", {}, "role", "未知角色"),
    ],
)
def test_create_user_enforces_scope(world, admin_principal, role, scope, field, message):
    objects = {
        "market": world.market,
        "zhangdian": world.regions.zhangdian,
        "city": world.regions.city,
    }
    kwargs = {k: objects[v] for k, v in scope.items()}
    count = User.objects.count()
    with pytest.raises(ValidationError) as info:
        services.create_user(admin_principal, username="x", role=role, **kwargs)
    assert message in " ".join(info.value.message_dict[field])
    assert User.objects.count() == count


def test_inactive_department_gets_no_new_clerk(world, admin_principal):
    closed = make_department("CLOSED", "已撤并的局", 9, active=False)
    with pytest.raises(ValidationError, match="已停用"):
        services.create_user(
            admin_principal, username="x", role=Role.DEPARTMENT_CLERK, department=closed
        )


def test_duplicate_username_and_weak_password(world, admin_principal):
    with pytest.raises(ValidationError, match="已被使用"):
        services.create_user(admin_principal, username="WINDOW_CLERK", role=Role.WINDOW_CLERK)
    with pytest.raises(ValidationError):
        services.create_user(
            admin_principal, username="weak", role=Role.WINDOW_CLERK, password="123"
        )
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.parametrize("role", [r for r in Role if r != Role.PLATFORM_ADMIN])
def test_only_accounts_manage_may_manage(world, role):
    principal = Principal.of(world.users[role])
    target = world.users[Role.WINDOW_CLERK]
    calls = [
        lambda: services.create_user(principal, username="y", role=Role.WINDOW_CLERK),
        lambda: services.change_role(principal, target, Role.BANK_USER, reason="调岗"),
        lambda: services.deactivate_user(principal, target),
        lambda: services.update_user(principal, target, organisation="x"),
        lambda: services.set_user_password(principal, target, None),
        lambda: services.issue_api_key(principal, name="s", role=Role.BANK_USER),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert AuditEvent.objects.count() == 0


def test_change_role_records_before_after_and_reason(world, admin_principal):
    user = world.users[Role.WINDOW_CLERK]
    user = services.change_role(
        admin_principal,
        user,
        Role.DISTRICT_ADMIN,
        district=world.regions.zichuan,
        reason="调任淄川区信用办",
    )
    assert (user.role, user.district_id) == (Role.DISTRICT_ADMIN, "370302")
    (event,) = events("accounts.change_role")
    assert event.before["role"] == Role.WINDOW_CLERK and event.before["district_id"] is None
    assert event.after["role"] == Role.DISTRICT_ADMIN and event.after["district_id"] == "370302"
    assert event.reason == "调任淄川区信用办"

    # Asking for what is already there changes nothing and writes nothing.
    services.change_role(
        admin_principal, user, Role.DISTRICT_ADMIN, district=world.regions.zichuan, reason="重复"
    )
    assert len(events("accounts.change_role")) == 1


def test_change_role_needs_reason_scope_and_not_self(world, admin_principal):
    clerk = world.users[Role.WINDOW_CLERK]
    with pytest.raises(ValidationError, match="变更原因"):
        services.change_role(admin_principal, clerk, Role.BANK_USER, reason="  ")
    with pytest.raises(ValidationError, match="必须指定所属部门"):
        services.change_role(admin_principal, clerk, Role.DEPARTMENT_CLERK, reason="调岗")
    with pytest.raises(ValidationError, match="自己的角色"):
        services.change_role(
            admin_principal, world.users[Role.PLATFORM_ADMIN], Role.PUBLIC, reason="退休"
        )
    clerk.refresh_from_db()
    assert clerk.role == Role.WINDOW_CLERK
    assert not events()


def test_promotion_to_centre_staff_opens_the_admin(world, admin_principal):
    clerk = world.users[Role.DEPARTMENT_CLERK]
    user = services.change_role(admin_principal, clerk, Role.CENTRE_STAFF, reason="借调信用中心")
    user.refresh_from_db()
    assert user.is_staff and user.department_id is None


def test_deactivate_and_reactivate(world, admin_principal):
    user = world.users[Role.BANK_USER]
    services.deactivate_user(admin_principal, user, reason="离职")
    user.refresh_from_db()
    assert not user.is_active
    assert Principal.of(user).role == Role.PUBLIC
    services.deactivate_user(admin_principal, user)  # idempotent
    (event,) = events("accounts.deactivate_user")
    assert event.before["is_active"] is True and event.after["is_active"] is False
    assert event.reason == "离职"
    services.reactivate_user(admin_principal, user)
    user.refresh_from_db()
    assert user.is_active
    with pytest.raises(ValidationError, match="不能停用自己"):
        services.deactivate_user(admin_principal, world.users[Role.PLATFORM_ADMIN])


def test_update_user_and_set_password(world, admin_principal):
    user = world.users[Role.WINDOW_CLERK]
    services.update_user(admin_principal, user, organisation="张店区政务服务中心", email="")
    (event,) = events("accounts.update_user")
    assert (
        event.before["organisation"] == "" and event.after["organisation"] == "张店区政务服务中心"
    )
    with pytest.raises(TypeError):
        services.update_user(admin_principal, user, role=Role.PLATFORM_ADMIN)
    services.set_user_password(admin_principal, user, "New#pass-for-window-1")
    user.refresh_from_db()
    assert user.check_password("New#pass-for-window-1")
    (event,) = events("accounts.set_password")
    assert event.after == {"has_usable_password": True}
    assert "New#pass" not in str(event.before) + str(event.after)


# --- API keys -------------------------------------------------------------------------------


def test_issue_api_key_stores_only_the_hash(world, admin_principal):
    key, clear = services.issue_api_key(
        admin_principal,
        name="市场监管局报送系统",
        role=Role.DEPARTMENT_CLERK,
        department=world.market,
    )
    assert clear.startswith(f"pc_{key.prefix}_")
    row = ApiKey.objects.filter(pk=key.pk).values().get()
    assert row["key_hash"] == hashlib.sha256(clear.encode()).hexdigest()
    secret = clear.split("_", 2)[2]
    assert not any(secret in str(value) for value in row.values())
    (event,) = events("accounts.issue_api_key")
    assert "key_hash" not in event.after
    assert secret not in str(event.after)
    assert services.authenticate_api_key(clear) == key


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": Role.PLATFORM_ADMIN}, "不能使用角色"),
        ({"role": Role.PUBLIC}, "不能使用角色"),
        ({"role": Role.DEPARTMENT_CLERK}, "必须指定所属部门"),
        ({"role": Role.BANK_USER, "name": " "}, "系统名称"),
        ({"role": Role.BANK_USER, "expires_at": "past"}, "晚于现在"),
    ],
)
def test_issue_api_key_validation(world, admin_principal, kwargs, message):
    kwargs = {"name": "某银行", **kwargs}
    if kwargs.get("expires_at") == "past":
        kwargs["expires_at"] = timezone.now() - timezone.timedelta(days=1)
    with pytest.raises(ValidationError, match=message):
        services.issue_api_key(admin_principal, **kwargs)
    assert not ApiKey.objects.exists()


def test_revoke_and_expiry_stop_a_key(world, admin_principal):
    key, clear = services.issue_api_key(admin_principal, name="某银行", role=Role.BANK_USER)
    services.revoke_api_key(admin_principal, key, reason="系统下线")
    services.revoke_api_key(admin_principal, key)  # idempotent
    assert services.authenticate_api_key(clear) is None
    (event,) = events("accounts.revoke_api_key")
    assert event.before["active"] is True and event.after["active"] is False

    key2, clear2 = services.issue_api_key(
        admin_principal,
        name="短期",
        role=Role.BANK_USER,
        expires_at=timezone.now() + timezone.timedelta(hours=1),
    )
    assert services.authenticate_api_key(clear2) == key2
    key2.expires_at = timezone.now()
    key2.save(update_fields=["expires_at"])  # through the ORM: the cache drops the key at once
    assert services.authenticate_api_key(clear2) is None
    assert services.authenticate_api_key(clear2[:-1] + ("A" if clear2[-1] != "A" else "B")) is None
    assert services.authenticate_api_key("not-a-key") is None


# --- the trail and its transaction ----------------------------------------------------------


def test_a_failing_service_rolls_back_its_change_and_its_event(world, admin_principal, monkeypatch):
    real = services.record_event

    def record_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "record_event", record_then_fail)
    user = world.users[Role.WINDOW_CLERK]
    with pytest.raises(RuntimeError):
        services.change_role(admin_principal, user, Role.BANK_USER, reason="调岗")
    with pytest.raises(RuntimeError):
        services.issue_api_key(admin_principal, name="x", role=Role.BANK_USER)
    user.refresh_from_db()
    assert user.role == Role.WINDOW_CLERK
    assert not ApiKey.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_record_event_outside_a_transaction_raises():
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        record_event(Principal.system("t"), "x.y", object_type="x")
    with transaction.atomic():
        record_event(Principal.system("t"), "x.y", object_type="x")
    assert AuditEvent.objects.count() == 1


def test_key_cache_sees_outside_changes_within_its_ttl(
    world, admin_principal, monkeypatch, settings
):
    """A change made outside the ORM (another process, SQL) is seen once the cached entry is
    older than PUBCREDIT_API_KEY_CACHE_SECONDS; until then the key is served from the cache."""
    settings.PUBCREDIT_API_KEY_CACHE_SECONDS = 10
    key, clear = services.issue_api_key(admin_principal, name="缓存", role=Role.BANK_USER)
    clock = [1000.0]
    monkeypatch.setattr(services.time, "monotonic", lambda: clock[0])
    assert services.authenticate_api_key(clear) == key
    ApiKey.objects.filter(pk=key.pk).update(active=False)
    clock[0] += 9.5
    assert services.authenticate_api_key(clear) == key
    clock[0] += 1.0
    assert services.authenticate_api_key(clear) is None
    ApiKey.objects.filter(pk=key.pk).update(active=True)
    settings.PUBCREDIT_API_KEY_CACHE_SECONDS = 0  # no cache: every call reads the key
    assert services.authenticate_api_key(clear) == key
    ApiKey.objects.filter(pk=key.pk).update(active=False)
    assert services.authenticate_api_key(clear) is None
