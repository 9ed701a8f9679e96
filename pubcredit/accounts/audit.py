"""The write pattern: every service function runs in one transaction and writes its AuditEvent
there too, so a change and its trail commit or roll back together."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable

from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from pubcredit.accounts.models import AuditEvent
from pubcredit.accounts.permissions import Principal

# Fields never copied into an audit snapshot (secrets and ciphertext).
SECRET_FIELDS = frozenset({"password", "key_hash", "id_cipher", "id_index"})


def _jsonable(value):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return None
    if isinstance(value, FieldFile):  # a stored file: its name under MEDIA_ROOT
        return value.name or ""
    return value


def snapshot(obj: models.Model, exclude: Iterable[str] = ()) -> dict:
    """A JSON-safe dict of the object's concrete fields (foreign keys by id), secrets left out."""
    skip = SECRET_FIELDS | set(exclude)
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in skip:
            continue
        data[field.attname] = _jsonable(getattr(obj, field.attname))
    return data


def record_event(
    principal: Principal,
    action: str,
    obj: models.Model | None = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    object_type: str | None = None,
    object_id: str = "",
    object_repr: str = "",
) -> AuditEvent:
    """Write one audit event. Must be called inside the service's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the service's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:255]
    return AuditEvent.objects.create(
        actor=principal.user,
        api_key=principal.api_key,
        actor_label=principal.label[:150],
        action=action,
        object_type=(object_type or "")[:64],
        object_id=object_id[:64],
        object_repr=object_repr[:255],
        before=before,
        after=after,
        reason=reason[:512],
    )
