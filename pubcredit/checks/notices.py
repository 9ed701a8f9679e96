"""Notifications to those who checked a subject (核查对象变动通知) and webhook delivery.

When a subject that was checked in the last 30 days gets a new 严重失信主体名单 entry, every
department or system that checked it is told: one `CheckNotification` per (entry, recipient),
shown in the console; a system key with a registered `CheckWebhook` also gets a POST.

Flow (nothing is sent before the entry is committed):
1. `lists.services` sends `entries_published` after commit; the receiver (models.py, checks
   section) calls `on_entries_published`, which enqueues `tasks.notify_checkers_task`;
2. `notify_checkers(entry_ids)` writes the notifications and pending deliveries in one
   transaction (idempotent: a second run for the same entries writes nothing) and, on commit,
   enqueues `tasks.deliver_webhook_task` for each delivery;
3. `deliver(delivery_id)` claims the delivery, POSTs outside any transaction (through
   `core.outbound.post`: the target is checked again and pinned, no redirect), and records the
   attempt (time, HTTP status or error, duration). A failed attempt is retried after
   RETRY_DELAYS (re-enqueued with `run_after` where the task backend supports it; in any case
   `deliver_due()` sends whatever is due, e.g. from a periodic job) until MAX_ATTEMPTS. The
   signing, claiming, attempts and retries are the shared webhook outbox's (`core.outbox`).

Recipient of a check: the API key for a system; else the user's department; else the user.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.models import ApiKey
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department
from pubcredit.checks.answers import subject_json
from pubcredit.checks.models import CheckNotification, CheckWebhook, CreditCheck, WebhookDelivery
from pubcredit.checks.services import ACTION, ALL_CHECKS_ROLES
from pubcredit.checks.tasks import deliver_webhook_task, notify_checkers_task
from pubcredit.core import outbound, outbox
from pubcredit.lists.models import EntryStatus, ListEntry, ListKind
from pubcredit.subjects.models import Subject

MAX_ATTEMPTS = outbox.MAX_ATTEMPTS
RETRY_DELAYS = outbox.RETRY_DELAYS
TIMEOUT_SECONDS = outbox.TIMEOUT_SECONDS
CLAIM_SECONDS = outbox.CLAIM_SECONDS
EVENT = "subject.blacklisted"
# A subject newly on a blacklist is notified to whoever checked it within this many days.
NOTIFY_WINDOW_DAYS = 30


# --------------------------------------------------------------------------- notifications


def on_entries_published(*, entry_ids, kinds, **kwargs) -> None:
    """Receiver of lists.signals.entries_published (sent after commit)."""
    if "black" not in set(kinds or ()):
        return
    notify_checkers_task.enqueue([int(i) for i in entry_ids])


def _recipient(row: dict) -> tuple[str, dict]:
    if row["api_key_id"]:
        return f"key:{row['api_key_id']}", {"api_key_id": row["api_key_id"]}
    if row["department_id"]:
        return f"dept:{row['department_id']}", {"department_id": row["department_id"]}
    return f"user:{row['user_id']}", {"user_id": row["user_id"]}


def _label(row: dict, names: dict) -> str:
    if row["api_key_id"]:
        return names["key"].get(row["api_key_id"]) or row["actor_label"]
    if row["department_id"]:
        return names["dept"].get(row["department_id"]) or row["actor_label"]
    return row["actor_label"]


def _message(entry, subject: dict, row: dict) -> str:
    shown = subject_json(subject)
    code = shown["uscc"] or shown["id_masked"] or "—"
    checked = timezone.localtime(row["checked_at"]).date().isoformat()
    text = _(
        "您于 %(checked)s 核查过的主体“%(name)s”(%(code)s)于 %(decided)s 被列入%(list)s"
        "(认定部门:%(authority)s"
    ) % {
        "checked": checked,
        "name": shown["name"],
        "code": code,
        "decided": entry.decided_on.isoformat(),
        "list": entry.list_type.name,
        "authority": entry.identified_by.name if entry.identified_by_id else "—",
    }
    if entry.document_number:
        text += _(",文书号:%(no)s") % {"no": entry.document_number}
    return text + _(")。请在办理相关事项时依法依规实施联合惩戒。")


def notify_checkers(entry_ids, *, now: dt.datetime | None = None) -> list[CheckNotification]:
    """Write the notifications for these entries (only published 严重失信主体名单 entries count):
    one per recipient that checked the entry's subject within NOTIFY_WINDOW_DAYS before `now`,
    pointing at that recipient's latest check; plus a pending webhook delivery for recipients
    that are system keys with an active webhook. Idempotent (unique per entry and recipient).
    Deliveries are enqueued after commit. Returns the notifications created by this call."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=NOTIFY_WINDOW_DAYS)
    entries = list(
        ListEntry.objects.filter(
            pk__in=list(entry_ids), list_type__kind=ListKind.BLACK, status=EntryStatus.PUBLISHED
        ).select_related("list_type", "identified_by")
    )
    if not entries:
        return []
    created: list[CheckNotification] = []
    deliveries: list[int] = []
    with transaction.atomic():
        for entry in entries:
            rows = (
                CreditCheck.objects.filter(
                    subject_id=entry.subject_id, checked_at__gte=since, checked_at__lte=now
                )
                .order_by("-checked_at", "-id")
                .values("id", "api_key_id", "department_id", "user_id", "actor_label", "checked_at")
            )
            latest: dict[str, tuple[dict, dict]] = {}
            for row in rows:
                key, fields = _recipient(row)
                latest.setdefault(key, (row, fields))
            if not latest:
                continue
            done = set(
                CheckNotification.objects.filter(entry=entry, recipient__in=latest).values_list(
                    "recipient", flat=True
                )
            )
            todo = {k: v for k, v in latest.items() if k not in done}
            if not todo:
                continue
            subject = Subject.objects.filter(pk=entry.subject_id).values(
                "id", "kind", "name", "uscc", "id_masked", "region"
            )[0]
            names = {
                "key": dict(
                    ApiKey.objects.filter(
                        pk__in=[f["api_key_id"] for _r, f in todo.values() if "api_key_id" in f]
                    ).values_list("id", "name")
                ),
                "dept": dict(
                    Department.objects.filter(
                        pk__in=[
                            f["department_id"] for _r, f in todo.values() if "department_id" in f
                        ]
                    ).values_list("id", "name")
                ),
            }
            hooks = {
                h.api_key_id: h
                for h in CheckWebhook.objects.filter(
                    active=True,
                    api_key_id__in=[
                        f["api_key_id"] for _r, f in todo.values() if "api_key_id" in f
                    ],
                )
            }
            for key, (row, fields) in todo.items():
                try:
                    with transaction.atomic():  # savepoint: a concurrent run wrote it first
                        note = CheckNotification.objects.create(
                            entry=entry,
                            subject_id=entry.subject_id,
                            recipient=key,
                            recipient_label=_label(row, names)[:150],
                            last_check_id=row["id"],
                            message=_message(entry, subject, row),
                            created_at=now,
                            **fields,
                        )
                except IntegrityError:
                    continue
                created.append(note)
                hook = hooks.get(fields.get("api_key_id"))
                if hook is not None:
                    delivery = WebhookDelivery.objects.create(
                        notification=note, webhook=hook, url=hook.url, next_attempt_at=now
                    )
                    deliveries.append(delivery.pk)
        if deliveries:
            transaction.on_commit(lambda: _enqueue_deliveries(deliveries))
    return created


def notifications_for(principal: Principal, *, unread_only: bool = False) -> QuerySet:
    """The notifications addressed to `principal`: a system key its own; a person those of
    their department and their own; the credit centre all."""
    principal.require(ACTION)
    qs = CheckNotification.objects.select_related("entry__list_type").order_by("-created_at", "-id")
    if principal.role not in ALL_CHECKS_ROLES:
        if principal.api_key is not None:
            qs = qs.filter(api_key=principal.api_key)
        else:
            cond = Q(user=principal.user)
            if principal.department_id:
                cond |= Q(department_id=principal.department_id)
            qs = qs.filter(cond)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def notification_json(note: CheckNotification) -> dict:
    subject = Subject.objects.filter(pk=note.subject_id).values(
        "id", "kind", "name", "uscc", "id_masked", "region"
    )[0]
    return {
        "id": note.pk,
        "subject": subject_json(subject),
        "message": note.message,
        "list_name": note.entry.list_type.name,
        "decided_on": note.entry.decided_on.isoformat(),
        "created_at": timezone.localtime(note.created_at).isoformat(),
        "read": note.read_at is not None,
    }


@transaction.atomic
def mark_read(principal: Principal, note_ids) -> int:
    """Mark these notifications (among those addressed to the principal) read; returns how
    many changed."""
    qs = notifications_for(principal).filter(pk__in=list(note_ids), read_at__isnull=True)
    return CheckNotification.objects.filter(pk__in=list(qs.values_list("pk", flat=True))).update(
        read_at=timezone.now(), read_by=principal.label[:150]
    )


# --------------------------------------------------------------------------- webhooks


def webhook_of(principal: Principal) -> CheckWebhook:
    """The calling system's webhook; DoesNotExist when it has none."""
    principal.require(ACTION)
    if principal.api_key is None:
        raise CheckWebhook.DoesNotExist(_("只有接口密钥(系统)可以登记通知地址。"))
    return CheckWebhook.objects.get(api_key=principal.api_key)


@transaction.atomic
def register_webhook(principal: Principal, url: str) -> CheckWebhook:
    """Register (or change) the calling system's notification URL. Only a system key with
    "checks.run" may; the URL must be http(s) with a host. A new webhook gets a random signing
    secret (kept when the URL changes). Audited ("checks.webhook").

    The URL's host must resolve only to public addresses (core.outbound.check_url: no
    loopback, private, link-local, multicast, reserved or unspecified address, unless
    PUBCREDIT_WEBHOOK_ALLOW_PRIVATE allows private ranges on an intranet); it is checked
    again at every delivery."""
    principal.require(ACTION)
    return save_webhook(principal, url)


@transaction.atomic
def save_webhook(principal: Principal, url: str) -> CheckWebhook:
    """`register_webhook` without its permission check, for the other notices a system gets
    at the same URL (the bulletins' reporting reminders to a department's system check their
    own): PermissionDenied unless the principal is an API key; the URL checks, the secret and
    the audit event are the same."""
    if principal.api_key is None:
        raise PermissionDenied(_("只有接口密钥(系统)可以登记通知地址。"))
    url = (url or "").strip()
    if any(c.isspace() or not c.isprintable() for c in url):
        raise ValidationError({"url": [_("通知地址应为 http:// 或 https:// 开头的完整网址。")]})
    try:
        outbound.check_url(url, allow_private=allow_private_targets())
    except outbound.UnsafeTarget as exc:
        raise ValidationError({"url": [str(exc)]}) from None
    hook = CheckWebhook.objects.select_for_update().filter(api_key=principal.api_key).first()
    before = snapshot(hook, exclude=("secret",)) if hook else None
    if hook is None:
        hook = CheckWebhook(api_key=principal.api_key, secret=secrets.token_hex(32))
    hook.url = url
    hook.active = True
    hook.save()
    record_event(
        principal, "checks.webhook", hook, before=before, after=snapshot(hook, exclude=("secret",))
    )
    return hook


def allow_private_targets() -> bool:
    """PUBCREDIT_WEBHOOK_ALLOW_PRIVATE: an intranet deployment sends to private addresses."""
    return outbox.allow_private_targets()


signature = outbox.signature


def payload(delivery: WebhookDelivery) -> dict:
    note = delivery.notification
    entry = note.entry
    check = note.last_check
    data = notification_json(note)
    return {
        "event": EVENT,
        "delivery": delivery.pk,
        "notification": note.pk,
        "subject": data["subject"],
        "entry": {
            "list_type": entry.list_type.code,
            "list_name": entry.list_type.name,
            "decided_on": entry.decided_on.isoformat(),
            "valid_from": entry.valid_from.isoformat(),
            "valid_to": entry.valid_to.isoformat() if entry.valid_to else None,
            "document_number": entry.document_number,
        },
        "last_check": {
            "id": check.pk,
            "number": check.number,
            "checked_at": timezone.localtime(check.checked_at).isoformat(),
            "matter": (check.result.get("matter") or {}).get("code"),
        },
        "message": note.message,
    }


def _outgoing(delivery_id: int) -> outbox.Message:
    delivery = WebhookDelivery.objects.select_related(
        "webhook", "notification__entry__list_type", "notification__last_check"
    ).get(pk=delivery_id)
    return outbox.Message(delivery.url, delivery.webhook.secret, payload(delivery))


# Signing, attempts, retries and backoff are the shared outbox's (pubcredit.core.outbox).
OUTBOX = outbox.Outbox(
    model=WebhookDelivery, event=EVENT, task=deliver_webhook_task, message=_outgoing
)


def _enqueue_deliveries(ids: list[int], run_after: dt.datetime | None = None) -> None:
    OUTBOX.enqueue(ids, run_after=run_after)


def deliver(delivery_id: int, *, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """One attempt to POST a delivery that is due. Returns the delivery after recording the
    attempt, or None when it was not due (delivered, failed for good, claimed elsewhere or
    scheduled later). 2xx = delivered; anything else is recorded and retried after
    RETRY_DELAYS until MAX_ATTEMPTS attempts have failed."""
    return OUTBOX.deliver(delivery_id, now=now)


def deliver_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Attempt every pending delivery whose time has come; returns how many were attempted."""
    return OUTBOX.deliver_due(now=now, limit=limit)
