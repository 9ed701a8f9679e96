"""Accounts services: issuing and checking API keys, logging access to personal data."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.models import AccessLog, ApiKey
from pubcredit.accounts.permissions import Principal

KEY_PREFIX_LEN = 8


def _hash_key(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


@transaction.atomic
def issue_api_key(
    principal: Principal, *, name: str, role: str, department=None, district=None, expires_at=None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its clear secret, which is never stored or shown again."""
    principal.require("accounts.manage")
    secret = secrets.token_urlsafe(32)
    prefix = secrets.token_hex(KEY_PREFIX_LEN // 2)
    clear = f"pc_{prefix}_{secret}"
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
    principal.require("accounts.manage")
    before = snapshot(key)
    key.active = False
    key.save(update_fields=["active"])
    record_event(
        principal, "accounts.revoke_api_key", key, before=before, after=snapshot(key), reason=reason
    )
    return key


def authenticate_api_key(clear: str) -> ApiKey | None:
    """The active, unexpired key whose hash matches, or None. Constant-time on the hash."""
    if not clear or not clear.startswith("pc_"):
        return None
    parts = clear.split("_", 2)
    if len(parts) != 3:
        return None
    key = (
        ApiKey.objects.select_related("department", "district")
        .filter(prefix=parts[1], active=True)
        .first()
    )
    if key is None or not secrets.compare_digest(key.key_hash, _hash_key(clear)):
        return None
    now = timezone.now()
    if key.expires_at is not None and key.expires_at <= now:
        return None
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def log_person_access(
    principal: Principal, subject, *, purpose: str, what: str = "", client_address=None
) -> AccessLog:
    """Record that a staff member or system looked at a natural person's data, and why.
    Refuses a look without a purpose."""
    purpose = (purpose or "").strip()
    if not purpose:
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError(_("查看自然人信息必须填写查询事由。"))
    return AccessLog.objects.create(
        actor=principal.user,
        api_key=principal.api_key,
        actor_label=principal.label[:150],
        subject=subject,
        purpose=purpose[:255],
        what=what[:255],
        client_address=client_address,
    )
