"""The role matrix and row scoping: what each role may do, and on which rows."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import (
    ACTIONS,
    PUBLIC,
    ROLE_ACTIONS,
    Principal,
    restrict,
    role_has_admin_access,
)
from pubcredit.catalog.models import Department
from pubcredit.subjects.models import Subject
from pubcredit.testing.factories import make_org, make_person

# What each role must be able to do (✓) and must not (✗): the explicit expectations the
# matrix is checked against, written independently of ROLE_ACTIONS.
EXPECTED = {
    Role.PLATFORM_ADMIN: set(ACTIONS),
    Role.CENTRE_STAFF: {
        "catalog.view",
        "catalog.change",
        "subjects.view",
        "subjects.change",
        "subjects.view_person",
        "records.view",
        "checks.run",
        "scoring.view",
        "console.view",
        "news.change",
        "lists.identify",
        "lists.change",
        "measures.change",
        "commitments.assess",
        "repair.view",
        "repair.handle",
        "repair.file",  # issue 19: files repairs and objections for applicants (API)
        "bulletins.view",
        "bulletins.issue",
        "scoring.supervision",
        "reports.issue",
        "financing.manage",
    },
    Role.DEPARTMENT_CLERK: {
        "catalog.view",
        "subjects.view",
        "scoring.view",
        "records.submit",
        "records.view",
        "console.view",
        "lists.identify",
        "commitments.assess",
        "repair.view",
        "repair.review",
        "repair.file",  # issue 19: objections to its own department's records only
        "bulletins.view",
        "scoring.supervision",
    },
    Role.DISTRICT_ADMIN: {
        "catalog.view",
        "subjects.view",
        "subjects.view_person",
        "scoring.view",
        "records.view",
        "console.view",
        "repair.view",
        "bulletins.view",
        "scoring.supervision",
    },
    Role.WINDOW_CLERK: {
        "subjects.view",
        "checks.run",
        "console.view",
        "scoring.view",
        "reports.issue",
        "repair.file",  # issue 19: a 政务服务 hall files for applicants
    },
    Role.BANK_USER: {"subjects.view", "checks.run", "reports.issue", "financing.lend"},
    Role.ENTERPRISE: {"financing.apply"},
    Role.PUBLIC: set(),
}
# Issue 19, part 4 (共享): department systems and the centre query; the centre reads statistics.
EXPECTED[Role.CENTRE_STAFF] |= {"sharing.query", "sharing.statistics"}
EXPECTED[Role.DEPARTMENT_CLERK] |= {"sharing.query"}


def test_every_role_is_in_the_matrix_and_every_action_is_described():
    assert set(ROLE_ACTIONS) == set(Role)
    for actions in ROLE_ACTIONS.values():
        assert actions <= set(ACTIONS), actions - set(ACTIONS)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_role_action_matrix(role, action):
    principal = Principal(role=role, label="t")
    assert principal.can(action) is (action in EXPECTED[role])


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.WINDOW_CLERK, "records.submit", False),
        (Role.BANK_USER, "subjects.view_person", False),
        (Role.BANK_USER, "console.view", False),
        (Role.DEPARTMENT_CLERK, "subjects.view_person", False),
        (Role.CENTRE_STAFF, "accounts.manage", False),
        (Role.CENTRE_STAFF, "accounts.view_audit", False),
        (Role.DISTRICT_ADMIN, "subjects.view_person", True),
        # 谁认定、谁修复: the centre accepts and decides, the deciding department verifies.
        (Role.CENTRE_STAFF, "repair.review", False),
        (Role.DEPARTMENT_CLERK, "repair.handle", False),
        (Role.WINDOW_CLERK, "repair.view", False),
        (Role.DISTRICT_ADMIN, "repair.file", False),
        (Role.BANK_USER, "repair.file", False),
        (Role.PUBLIC, "subjects.view", False),
        # Organisations' reports are public (the portal); the console/API issue is for the
        # centre, the windows and the banks, not for departments or districts.
        (Role.DEPARTMENT_CLERK, "reports.issue", False),
        (Role.DISTRICT_ADMIN, "reports.issue", False),
        (Role.BANK_USER, "reports.issue", True),
    ],
)
def test_explicit_expectations(role, action, allowed):
    principal = Principal(role=role, label="t")
    assert principal.can(action) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied) as info:
            principal.require(action)
        assert "无权" in str(info.value)


def test_only_admin_roles_enter_the_django_admin():
    assert {r for r in Role if role_has_admin_access(r)} == {
        Role.PLATFORM_ADMIN,
        Role.CENTRE_STAFF,
    }


def test_principal_of_people_and_keys(world):
    assert Principal.of(None) is PUBLIC
    assert Principal.of(AnonymousUser()) is PUBLIC
    clerk = world.users[Role.DEPARTMENT_CLERK]
    p = Principal.of(clerk)
    assert (p.role, p.label, p.department_id) == (
        Role.DEPARTMENT_CLERK,
        "department_clerk",
        world.market.pk,
    )
    assert p.department == world.market
    assert p.district is None

    clerk.is_active = False
    assert Principal.of(clerk) is PUBLIC

    public = world.users[Role.PUBLIC]
    public.is_superuser = True
    assert Principal.of(public).role == Role.PLATFORM_ADMIN


def test_department_clerk_sees_only_its_departments_rows(empty_reference, world, monkeypatch):
    # Department stands in for a department-owned model: its own id is the owning department.
    monkeypatch.setattr(Department, "scope_lookups", {"department": "id"}, raising=False)
    clerk = Principal.of(world.users[Role.DEPARTMENT_CLERK])
    rows = restrict(Department.objects.all(), clerk, "records.view")
    assert list(rows) == [world.market]
    # A role without the action sees nothing, scoped or not.
    assert not restrict(Department.objects.all(), clerk, "subjects.change").exists()
    # Unscoped roles see every row.
    staff = Principal.of(world.users[Role.CENTRE_STAFF])
    assert restrict(Department.objects.all(), staff, "records.view").count() == 2


def test_scoped_role_on_a_model_without_lookup_sees_nothing(world, monkeypatch):
    monkeypatch.setattr(Department, "scope_lookups", {}, raising=False)
    clerk = Principal.of(world.users[Role.DEPARTMENT_CLERK])
    district = Principal.of(world.users[Role.DISTRICT_ADMIN])
    assert not restrict(Department.objects.all(), clerk, "catalog.view").exists()
    assert not restrict(Department.objects.all(), district, "catalog.view").exists()


def test_district_admin_sees_only_its_districts_subjects(world):
    zhangdian_org = make_org("淄博张店宏达机械有限公司", "370303", 11)
    zichuan_org = make_org("淄博淄川华泰陶瓷有限公司", "370302", 12)
    zhangdian_person = make_person("张三", "370303", 101)
    zichuan_person = make_person("李四", "370302", 102)

    district = Principal.of(world.users[Role.DISTRICT_ADMIN])
    assert set(restrict(Subject.objects.all(), district, "subjects.view")) == {
        zhangdian_org,
        zhangdian_person,
    }
    assert list(
        restrict(Subject.objects.all(), district, "subjects.view_person").filter(kind="person")
    ) == [zhangdian_person]
    # The register is shared with department clerks ("*"), and unscoped roles see it all.
    clerk = Principal.of(world.users[Role.DEPARTMENT_CLERK])
    everyone = {zhangdian_org, zichuan_org, zhangdian_person, zichuan_person}
    assert set(restrict(Subject.objects.all(), clerk, "subjects.view")) == everyone
    bank = Principal.of(world.users[Role.BANK_USER])
    assert set(restrict(Subject.objects.all(), bank, "subjects.view")) == everyone
    assert not restrict(Subject.objects.all(), bank, "subjects.view_person").exists()
    assert not restrict(Subject.objects.all(), PUBLIC, "subjects.view").exists()


def test_scoped_principal_without_scope_sees_nothing():
    orphan = Principal(role=Role.DISTRICT_ADMIN, label="orphan", district_id=None)
    assert restrict(Subject.objects.all(), orphan, "subjects.view").query.is_empty()


def test_user_has_django_perms_from_role_only(world):
    admin = world.users[Role.PLATFORM_ADMIN]
    staff = world.users[Role.CENTRE_STAFF]
    clerk = world.users[Role.DEPARTMENT_CLERK]
    assert admin.is_staff and staff.is_staff and not clerk.is_staff
    assert admin.has_perm("accounts.change_user")
    assert admin.has_perm("accounts.view_accesslog")
    assert not admin.has_perm("accounts.delete_user")
    assert not admin.has_perm("accounts.change_auditevent")
    assert not admin.has_perm("subjects.view_subject")  # persons only through the console
    assert staff.has_perm("catalog.change_department")
    assert staff.has_perm("catalog.add_codeitem")
    assert not staff.has_perm("catalog.delete_department")
    assert not staff.has_perm("accounts.view_user")
    assert staff.has_module_perms("catalog") and not staff.has_module_perms("accounts")
    assert not clerk.has_perm("catalog.view_department")

    # is_staff follows the role on every save.
    clerk.role, clerk.department = Role.CENTRE_STAFF, None
    clerk.save(update_fields=["role", "department"])
    clerk.refresh_from_db()
    assert clerk.is_staff
