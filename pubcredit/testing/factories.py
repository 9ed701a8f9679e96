"""Small builders for accounts and console tests: regions, departments, users of each role,
valid identifiers and subjects (registered through the subjects service)."""

from __future__ import annotations

from types import SimpleNamespace

from pubcredit.accounts.models import Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department, Region
from pubcredit.core.identifiers import orgcode_check_char, ric_check_char, uscc_check_char

PASSWORD = "Xy7!correct-horse"


def uscc(region: str = "370303", serial: int = 1, category: str = "91") -> str:
    body = f"{serial:08d}"
    first17 = category + region + body + orgcode_check_char(body)
    return first17 + uscc_check_char(first17)


def ric(region: str = "370303", birth: str = "19900101", seq: int = 123) -> str:
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + ric_check_char(first17)


def make_regions() -> SimpleNamespace:
    province, _ = Region.objects.get_or_create(
        code="370000", defaults={"name": "山东省", "level": "province"}
    )
    city, _ = Region.objects.get_or_create(
        code="370300", defaults={"name": "淄博市", "level": "city", "parent": province}
    )
    zhangdian, _ = Region.objects.get_or_create(
        code="370303", defaults={"name": "张店区", "level": "county", "parent": city}
    )
    zichuan, _ = Region.objects.get_or_create(
        code="370302", defaults={"name": "淄川区", "level": "county", "parent": city}
    )
    return SimpleNamespace(province=province, city=city, zhangdian=zhangdian, zichuan=zichuan)


def make_department(code: str, name: str, serial: int, district=None, active=True) -> Department:
    dept, _ = Department.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "uscc": uscc("370300", serial, category="11"),
            "level": "district" if district else "city",
            "district": district,
            "active": active,
        },
    )
    return dept


def make_user(role: str, username: str | None = None, **fields) -> User:
    return User.objects.create_user(
        username=username or role, password=PASSWORD, role=role, **fields
    )


def make_world() -> SimpleNamespace:
    """Two districts, two departments, one user per role (clerk of 市场监管, admin of 张店)."""
    regions = make_regions()
    market = make_department("SCJG", "淄博市市场监督管理局", 1)
    tax = make_department("SWJ", "国家税务总局淄博市税务局", 2)
    users = {
        Role.PLATFORM_ADMIN: make_user(Role.PLATFORM_ADMIN),
        Role.CENTRE_STAFF: make_user(Role.CENTRE_STAFF),
        Role.DEPARTMENT_CLERK: make_user(Role.DEPARTMENT_CLERK, department=market),
        Role.DISTRICT_ADMIN: make_user(Role.DISTRICT_ADMIN, district=regions.zhangdian),
        Role.WINDOW_CLERK: make_user(Role.WINDOW_CLERK),
        Role.BANK_USER: make_user(Role.BANK_USER),
        Role.ENTERPRISE: make_user(Role.ENTERPRISE),
        Role.PUBLIC: make_user(Role.PUBLIC),
    }
    return SimpleNamespace(regions=regions, market=market, tax=tax, users=users)


def make_org(name: str, region: str = "370303", serial: int = 1):
    from pubcredit.subjects.services import register_subject

    return register_subject(
        Principal.system("test"), kind="org", name=name, uscc=uscc(region, serial)
    )


def make_person(name: str, region: str = "370303", seq: int = 123):
    from pubcredit.subjects.services import register_subject

    return register_subject(
        Principal.system("test"), kind="person", name=name, id_number=ric(region, seq=seq)
    )
