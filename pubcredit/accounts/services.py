"""Accounts services: people, API keys and the personal-data access log.

Every function that changes something takes the acting Principal first, checks it holds
"accounts.manage", runs in one transaction and writes exactly one AuditEvent there (a call that
changes nothing writes none). Role and scope are checked by `validate_scope`, the same rule the
database's check constraints enforce, so users get a Chinese message instead of an IntegrityError.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.models import ApiKey, Role, User
from pubcredit.accounts.permissions import (
    API_KEY_ROLES,
    DEPARTMENT_SCOPED,
    DISTRICT_SCOPED,
    Principal,
)

KEY_PREFIX_LEN = 8
# A purpose like "信用核查" (4 characters) is the least that says why; "查询" says nothing.
PURPOSE_MIN_LENGTH = 4
PROFILE_FIELDS = ("first_name", "last_name", "email", "organisation")


# --- role and scope -------------------------------------------------------------------------


def validate_scope(role: str, department=None, district=None) -> None:
    """Raise ValidationError unless `role` is known and its scope is complete and unambiguous:
    a 部门报送员 has an active department, a 区县管理员 a district (区县 or 功能区), and no
    other role carries a scope it would not be restricted by (that would only mislead)."""
    errors: dict[str, str] = {}
    if role not in Role.values:
        raise ValidationError({"role": _("未知角色:%(role)s") % {"role": role}})
    if role in DEPARTMENT_SCOPED:
        if department is None:
            errors["department"] = _("部门报送员必须指定所属部门。")
        elif not department.active:
            errors["department"] = _("部门“%(name)s”已停用,不能再分配报送员。") % {
                "name": department.name
            }
    elif department is not None:
        errors["department"] = _("只有部门报送员需要指定所属部门,其他角色请留空。")
    if role in DISTRICT_SCOPED:
        if district is None:
            errors["district"] = _("区县管理员必须指定所属区县。")
        elif not district.is_district:
            errors["district"] = _("“%(name)s”不是区县或功能区,不能作为区县管理员的范围。") % {
                "name": district.name
            }
    elif district is not None:
        errors["district"] = _("只有区县管理员需要指定所属区县,其他角色请留空。")
    if errors:
        raise ValidationError(errors)


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写变更原因。")})
    return reason


def _refuse_self(principal: Principal, user: User, message: str) -> None:
    # An administrator who demotes or deactivates themself can lock everybody out.
    if principal.user is not None and principal.user.pk == user.pk:
        raise ValidationError(message)


# --- users ----------------------------------------------------------------------------------


@transaction.atomic
def create_user(
    principal: Principal,
    *,
    username: str,
    role: str,
    department=None,
    district=None,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    organisation: str = "",
) -> User:
    """Create a user account with a role and its scope. Without a password the account cannot
    log in until one is set (set_user_password). Writes one "accounts.create_user" event."""
    principal.require("accounts.manage")
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": _("请填写用户名。")})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("用户名“%(name)s”已被使用。") % {"name": username}})
    validate_scope(role, department, district)
    user = User(
        username=username,
        role=role,
        department=department,
        district=district,
        email=(email or "").strip(),
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
        organisation=(organisation or "").strip(),
    )
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    record_event(principal, "accounts.create_user", user, after=snapshot(user))
    return user


@transaction.atomic
def change_role(
    principal: Principal, user: User, role: str, department=None, district=None, *, reason: str
) -> User:
    """Give `user` a new role and scope (the scope a role needs: see validate_scope). A reason is
    required and nobody changes their own role. Returns the user unchanged, with no event, when
    role and scope are already those asked for; otherwise writes one "accounts.change_role"."""
    principal.require("accounts.manage")
    reason = _require_reason(reason)
    _refuse_self(principal, user, _("不能修改自己的角色,请由其他平台管理员操作。"))
    validate_scope(role, department, district)
    user = User.objects.select_for_update().get(pk=user.pk)
    new_department_id = department.pk if department is not None else None
    new_district_id = district.pk if district is not None else None
    if (user.role, user.department_id, user.district_id) == (
        role,
        new_department_id,
        new_district_id,
    ):
        return user
    before = snapshot(user)
    user.role = role
    user.department = department
    user.district = district
    user.save(update_fields=["role", "department", "district"])
    record_event(
        principal, "accounts.change_role", user, before=before, after=snapshot(user), reason=reason
    )
    return user


@transaction.atomic
def update_user(principal: Principal, user: User, **changes) -> User:
    """Change profile fields (first_name, last_name, email, organisation) — never role, scope,
    password or status, which have their own services. One "accounts.update_user" event, none
    when nothing changes."""
    principal.require("accounts.manage")
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"update_user cannot change {sorted(unknown)}")
    user = User.objects.select_for_update().get(pk=user.pk)
    before = snapshot(user)
    changed = []
    for field, value in changes.items():
        value = (value or "").strip()
        if getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if not changed:
        return user
    user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    user.save(update_fields=changed)
    record_event(principal, "accounts.update_user", user, before=before, after=snapshot(user))
    return user


@transaction.atomic
def set_user_password(principal: Principal, user: User, password: str | None) -> User:
    """Set (or, with None, disable) `user`'s password after Django's password validators.
    The event records only that a password was set, never the password or its hash."""
    principal.require("accounts.manage")
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"has_usable_password": user.has_usable_password()}
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    record_event(
        principal,
        "accounts.set_password",
        user,
        before=before,
        after={"has_usable_password": user.has_usable_password()},
    )
    return user


@transaction.atomic
def deactivate_user(principal: Principal, user: User, *, reason: str = "") -> User:
    """Stop `user` from logging in or acting (Principal.of treats an inactive user as the
    public). Accounts are never deleted: the trails refer to them. Idempotent."""
    return _set_active(principal, user, False, reason, "accounts.deactivate_user")


@transaction.atomic
def reactivate_user(principal: Principal, user: User, *, reason: str = "") -> User:
    """Undo deactivate_user. Idempotent."""
    return _set_active(principal, user, True, reason, "accounts.reactivate_user")


def _set_active(principal: Principal, user: User, active: bool, reason: str, action: str) -> User:
    principal.require("accounts.manage")
    _refuse_self(principal, user, _("不能停用自己的账号。"))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return user
    before = snapshot(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    record_event(principal, action, user, before=before, after=snapshot(user), reason=reason)
    return user


# --- API keys -------------------------------------------------------------------------------


def _hash_key(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


@transaction.atomic
def issue_api_key(
    principal: Principal,
    *,
    name: str,
    role: str,
    department=None,
    district=None,
    expires_at=None,
) -> tuple[ApiKey, str]:
    """Create a key for a system and return it with its clear secret `pc_<prefix>_<secret>`.
    Only the SHA-256 of the clear key is stored; the caller shows the clear key once and it can
    never be recovered. Keys never carry 平台管理员. Writes one "accounts.issue_api_key" event."""
    principal.require("accounts.manage")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写使用密钥的系统名称。")})
    if role not in API_KEY_ROLES:
        raise ValidationError(
            {
                "role": _("接口密钥不能使用角色“%(role)s”。")
                % {"role": Role(role).label if role in Role.values else role}
            }
        )
    validate_scope(role, department, district)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("过期时间必须晚于现在。")})
    prefix = secrets.token_hex(KEY_PREFIX_LEN // 2)
    while ApiKey.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(KEY_PREFIX_LEN // 2)
    clear = f"pc_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name,
        role=role,
        department=department,
        district=district,
        expires_at=expires_at,
        prefix=prefix,
        key_hash=_hash_key(clear),
        created_by=principal.user,
    )
    record_event(principal, "accounts.issue_api_key", key, after=snapshot(key))
    return key, clear


@transaction.atomic
def revoke_api_key(principal: Principal, key: ApiKey, reason: str = "") -> ApiKey:
    """Make `key` unusable from now on. Keys are never deleted (the trails refer to them).
    Idempotent: revoking a revoked key writes no event."""
    principal.require("accounts.manage")
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if not key.active:
        return key
    before = snapshot(key)
    key.active = False
    key.save(update_fields=["active"])
    record_event(
        principal, "accounts.revoke_api_key", key, before=before, after=snapshot(key), reason=reason
    )
    return key


# Keys seen recently, by the SHA-256 of the whole key: systems authenticate every request (a
# credit check is a few milliseconds of work) and reading the key with its scope and building
# its principal costs more than that. Each entry is stamped with the revocation generation, a
# counter in the shared cache (settings.CACHES["shared"]: the database cache, or Redis) that
# every change to a key saved through the ORM (revoked, re-scoped, expiry changed: the console,
# the admin, `pubcredit apikey`) bumps, in its transaction and again after it commits. A cached
# key is used only while the generation is the one it was read under, so a revocation takes
# effect on the very next request in every process; PUBCREDIT_API_KEY_CACHE_SECONDS bounds how
# long a change made outside the ORM (SQL) goes unseen. The price: one read of the shared cache
# per authenticated request (a primary-key SELECT on the database cache, a GET on Redis).
_key_cache: dict[str, tuple[float, object, ApiKey]] = {}
_KEY_CACHE_MAX = 10_000
GENERATION_KEY = "pubcredit:apikeys:generation"
logger = logging.getLogger("pubcredit.accounts")


def _key_cache_seconds() -> float:
    return float(getattr(settings, "PUBCREDIT_API_KEY_CACHE_SECONDS", 10))


def clear_api_key_cache(*_args, **_kwargs) -> None:
    """Forget every key cached by this process."""
    _key_cache.clear()


def key_generation() -> int | None:
    """The revocation generation every process reads; None when the shared cache has none (it
    was flushed) or cannot be reached, and then no cached key is trusted."""
    try:
        return caches["shared"].get(GENERATION_KEY)
    except Exception:
        logger.exception("API keys: the shared cache did not answer; reading keys every time")
        return None


def _bump_generation() -> None:
    cache = caches["shared"]
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # none yet (or flushed): start from a random value, never a past one
        if not cache.add(GENERATION_KEY, secrets.randbits(48), timeout=None):
            cache.incr(GENERATION_KEY)


def api_key_changed(*_args, **_kwargs) -> None:
    """A key was saved or deleted (connected to ApiKey's post_save / post_delete): every
    process re-reads its keys on their next use. Bumped now (with the database cache, in the
    same transaction as the change) and again after commit (a process that read the key
    between the first bump and the commit stamped it with the new generation)."""
    clear_api_key_cache()
    _bump_generation()
    transaction.on_commit(_bump_generation)


def authenticate_api_key(clear: str) -> ApiKey | None:
    """The active, unexpired key whose hash matches, or None. Constant-time on the hash.
    Served from a per-process cache while the revocation generation is unchanged, for up to
    PUBCREDIT_API_KEY_CACHE_SECONDS (default 10); active and expiry are checked on every call."""
    if not clear or not clear.startswith("pc_"):
        return None
    parts = clear.split("_", 2)
    if len(parts) != 3:
        return None
    digest = _hash_key(clear)
    ttl = _key_cache_seconds()
    tick = time.monotonic()
    cached = _key_cache.get(digest) if ttl > 0 else None
    generation = key_generation() if ttl > 0 else None
    if (
        cached is not None
        and generation is not None
        and cached[1] == generation
        and tick - cached[0] < ttl
    ):
        key = cached[2]
    else:
        key = (
            ApiKey.objects.select_related("department", "district")
            .filter(prefix=parts[1], active=True)
            .first()
        )
        if key is None or not secrets.compare_digest(key.key_hash, digest):
            _key_cache.pop(digest, None)
            return None
        if ttl > 0 and generation is not None:
            if len(_key_cache) >= _KEY_CACHE_MAX:
                _key_cache.clear()
            _key_cache[digest] = (tick, generation, key)
    if not key.active:
        return None
    now = timezone.now()
    if key.expires_at is not None and key.expires_at <= now:
        return None
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        key.last_used_at = now
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


# --- personal data --------------------------------------------------------------------------


def validate_purpose(purpose: str) -> str:
    """The stripped purpose, or ValidationError if it is missing or too short to say why."""
    purpose = (purpose or "").strip()
    if len(purpose) < PURPOSE_MIN_LENGTH:
        raise ValidationError(
            {
                "purpose": _("查看自然人信息必须填写查询事由(至少 %(n)d 个字)。")
                % {"n": PURPOSE_MIN_LENGTH}
            }
        )
    return purpose
