"""What each role may do (actions) and on which rows (scope).

Permissions are data, not scattered `if` statements: ROLE_ACTIONS says what a role may do;
`restrict(queryset, principal, action)` narrows a queryset to the rows the principal's scope
covers, using the model's `scope_lookups` (a dict of scope kind → ORM lookup path).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from pubcredit.accounts.models import Role

# Actions are "<area>.<verb>". A role has exactly the actions listed; nothing is implied.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.PLATFORM_ADMIN: frozenset(
        {
            "catalog.view",
            "catalog.change",
            "subjects.view",
            "subjects.change",
            "subjects.view_person",
            "accounts.manage",
            "accounts.view_audit",
            "records.submit",
            "records.view",
            "checks.run",
            "console.view",
        }
    ),
    Role.CENTRE_STAFF: frozenset(
        {
            "catalog.view",
            "subjects.view",
            "subjects.change",
            "subjects.view_person",
            "records.view",
            "checks.run",
            "console.view",
            "accounts.view_audit",
        }
    ),
    Role.DEPARTMENT_CLERK: frozenset(
        {"catalog.view", "subjects.view", "records.submit", "records.view", "console.view"}
    ),
    Role.DISTRICT_ADMIN: frozenset(
        {"catalog.view", "subjects.view", "subjects.view_person", "records.view", "console.view"}
    ),
    Role.WINDOW_CLERK: frozenset({"subjects.view", "checks.run", "console.view"}),
    Role.BANK_USER: frozenset({"subjects.view", "checks.run"}),
    Role.PUBLIC: frozenset(),
}

# Roles whose rows are limited to one department / one district.
DEPARTMENT_SCOPED = frozenset({Role.DEPARTMENT_CLERK})
DISTRICT_SCOPED = frozenset({Role.DISTRICT_ADMIN})


@dataclass(frozen=True)
class Principal:
    """Who is acting: a person (user) or a system (api_key), with role and scope."""

    role: str
    label: str
    user: object | None = None
    api_key: object | None = None
    department_id: int | None = None
    district_id: str | None = None

    @classmethod
    def of(cls, actor) -> Principal:
        """Principal for a User, an ApiKey, AnonymousUser or None (the public)."""
        from pubcredit.accounts.models import ApiKey

        if actor is None or not getattr(actor, "is_authenticated", True):
            return PUBLIC
        if isinstance(actor, ApiKey):
            return cls(
                role=actor.role,
                label=f"key:{actor.prefix}",
                api_key=actor,
                department_id=actor.department_id,
                district_id=actor.district_id,
            )
        role = Role.PLATFORM_ADMIN if actor.is_superuser else actor.role
        return cls(
            role=role,
            label=actor.get_username(),
            user=actor,
            department_id=actor.department_id,
            district_id=actor.district_id,
        )

    @classmethod
    def system(cls, label: str = "system") -> Principal:
        """The platform itself (demo loader, catalogue import, scheduled jobs)."""
        return cls(role=Role.PLATFORM_ADMIN, label=label)

    def can(self, action: str) -> bool:
        return action in ROLE_ACTIONS.get(self.role, frozenset())

    def require(self, action: str) -> None:
        if not self.can(action):
            raise PermissionDenied(_("当前角色无权执行此操作:%(action)s") % {"action": action})


ALL_ROWS = "*"

PUBLIC = Principal(role=Role.PUBLIC, label="public")


def restrict(queryset: QuerySet, principal: Principal, action: str) -> QuerySet:
    """The rows of `queryset` that `principal` may act on with `action`.

    A model opts into scoping with `scope_lookups = {"department": "<path to Department id>",
    "district": "<path to district Region code>"}`; the value "*" says rows of that model are not
    owned by a department (or district) and a scoped role sees all of them (e.g. the subject
    register for a 部门报送员). A scoped role on a model without the matching lookup sees nothing:
    least privilege when in doubt.
    """
    if not principal.can(action):
        return queryset.none()
    lookups = getattr(queryset.model, "scope_lookups", {})
    if principal.role in DEPARTMENT_SCOPED:
        path = lookups.get("department")
        if path == ALL_ROWS:
            return queryset
        if path is None or principal.department_id is None:
            return queryset.none()
        return queryset.filter(**{path: principal.department_id})
    if principal.role in DISTRICT_SCOPED:
        path = lookups.get("district")
        if path == ALL_ROWS:
            return queryset
        if path is None or principal.district_id is None:
            return queryset.none()
        return queryset.filter(**{path: principal.district_id})
    return queryset
