"""The personal-data access log: no look without the action, the scope and a purpose."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pubcredit.accounts import services
from pubcredit.accounts.models import AccessLog, Role
from pubcredit.accounts.permissions import Principal
from pubcredit.subjects import access
from pubcredit.testing.factories import make_org, make_person, make_world, ric


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def admin_principal(world):
    return Principal.of(world.users["platform_admin"])


@pytest.fixture
def people(world):
    return {
        "zhangdian": make_person("张三", "370303", 101),
        "zichuan": make_person("李四", "370302", 102),
    }


def test_reveal_logs_then_returns_the_clear_number(world, people):
    staff = Principal.of(world.users[Role.CENTRE_STAFF])
    number = access.reveal_id_number(
        staff, people["zhangdian"], purpose="  行政审批信用核查 ", client_address="10.0.0.8"
    )
    assert number == ric("370303", seq=101)
    log = AccessLog.objects.get()
    assert (log.actor, log.subject, log.purpose, log.what, log.client_address) == (
        world.users[Role.CENTRE_STAFF],
        people["zhangdian"],
        "行政审批信用核查",
        "身份证号",
        "10.0.0.8",
    )


@pytest.mark.parametrize("purpose", ["", "   ", "查询", "看看"])
def test_no_purpose_no_look(world, people, purpose):
    staff = Principal.of(world.users[Role.CENTRE_STAFF])
    with pytest.raises(ValidationError, match="查询事由"):
        access.reveal_id_number(staff, people["zhangdian"], purpose=purpose)
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.WINDOW_CLERK, Role.BANK_USER, Role.DEPARTMENT_CLERK, Role.PUBLIC]
)
def test_roles_without_view_person_cannot_look(world, people, role):
    principal = Principal.of(world.users[role])
    with pytest.raises(PermissionDenied):
        access.reveal_id_number(principal, people["zhangdian"], purpose="行政审批信用核查")
    assert not AccessLog.objects.exists()


def test_district_admin_looks_only_within_its_district(world, people):
    district = Principal.of(world.users[Role.DISTRICT_ADMIN])
    assert access.reveal_id_number(district, people["zhangdian"], purpose="异议申请核实")
    with pytest.raises(PermissionDenied, match="管辖范围"):
        access.reveal_id_number(district, people["zichuan"], purpose="异议申请核实")
    assert AccessLog.objects.count() == 1


def test_organisations_are_not_logged(world):
    org = make_org("淄博张店宏达机械有限公司", "370303", 11)
    staff = Principal.of(world.users[Role.CENTRE_STAFF])
    with pytest.raises(ValueError):
        access.log_person_access(staff, org, purpose="行政审批信用核查")


def test_api_key_looks_are_logged_with_the_key(world, people, admin_principal):
    key, _clear = services.issue_api_key(
        admin_principal,
        name="张店区信用平台",
        role=Role.DISTRICT_ADMIN,
        district=world.regions.zhangdian,
    )
    access.log_person_access(Principal.of(key), people["zhangdian"], purpose="异议申请核实")
    log = AccessLog.objects.get()
    assert log.actor is None and log.api_key == key and log.actor_label == f"key:{key.prefix}"
