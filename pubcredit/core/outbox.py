"""The webhook outbox: signed POSTs to the systems of departments and banks, each attempt recorded,
retried with backoff. One implementation behind every webhook the platform sends (credit checks'
notices, the bulletins' reporting reminders); the apps own their delivery tables and payloads.

A delivery is a row of a model with the fields of `OutboxDelivery` (abstract): url, status,
attempt_count, attempts ([{"at", "status_code", "error", "ms"}]), next_attempt_at,
delivered_at. An `Outbox` names that model, the event, the task that makes one attempt, and how
to build a delivery's message (URL, signing secret, JSON payload). Then:

- `deliver(pk)` claims the delivery (so two workers never send it at once), builds its body,
  POSTs it outside any transaction through `core.outbound.post` (the target is checked again
  and pinned, no redirect) with `X-Pubcredit-Event`, `X-Pubcredit-Delivery` and
  `X-Pubcredit-Signature: sha256=<HMAC-SHA256 of the body with the secret>`, and records the
  attempt. 2xx is delivered; anything else is retried after RETRY_DELAYS (re-enqueued with
  `run_after` where the task backend supports it) until MAX_ATTEMPTS attempts have failed;
- `deliver_due()` attempts whatever is due (a periodic job: the safety net for backends that
  cannot defer a task, and for a worker that died mid-attempt);
- `enqueue(ids)` queues a first attempt for new deliveries (call it on commit).

The target may be private only with PUBCREDIT_WEBHOOK_ALLOW_PRIVATE (an intranet deployment).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pubcredit.core import outbound

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
RETRY_DELAYS = (30, 120, 600, 3600, 6 * 3600)  # seconds after attempt 1, 2, …
TIMEOUT_SECONDS = 5
CLAIM_SECONDS = 60  # a claimed delivery is not picked up again for this long
USER_AGENT = "pubcredit-webhook/1"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")


class OutboxDelivery(models.Model):
    """The fields of a webhook delivery (see the module docstring)."""

    url = models.URLField(_("通知地址"), max_length=500)
    status = models.CharField(
        _("状态"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    attempts = models.JSONField(_("发送记录"), default=list, blank=True)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        abstract = True


def allow_private_targets() -> bool:
    """PUBCREDIT_WEBHOOK_ALLOW_PRIVATE: an intranet deployment sends to private addresses."""
    return bool(getattr(settings, "PUBCREDIT_WEBHOOK_ALLOW_PRIVATE", False))


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Message:
    """What one delivery sends: to `url`, `payload` as JSON, signed with `secret`."""

    url: str
    secret: str
    payload: dict


@dataclass(frozen=True)
class Outbox:
    """The deliveries of one event (see the module docstring). `message(pk)` loads delivery
    `pk` and returns its Message; `task` is a django-tasks task taking the delivery's pk that
    calls `deliver`."""

    model: type[models.Model]
    event: str
    task: object
    message: Callable[[int], Message]
    max_attempts: int = MAX_ATTEMPTS
    retry_delays: tuple[int, ...] = RETRY_DELAYS
    timeout: float = TIMEOUT_SECONDS
    claim_seconds: int = CLAIM_SECONDS

    def enqueue(self, ids, run_after: dt.datetime | None = None) -> None:
        """Queue one attempt per delivery id (for a retry: not before `run_after`; skipped on a
        backend that cannot defer, where `deliver_due` picks it up)."""
        for pk in ids:
            task = self.task
            if run_after is not None:
                if not task.get_backend().supports_defer:
                    continue
                task = task.using(run_after=run_after)
            task.enqueue(pk)

    def claim(self, pk: int, now: dt.datetime) -> bool:
        """Take the delivery for one attempt (so two workers never send it at the same time)."""
        return bool(
            self.model.objects.filter(pk=pk, status=DeliveryStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .update(next_attempt_at=now + dt.timedelta(seconds=self.claim_seconds))
        )

    def deliver(self, pk: int, *, now: dt.datetime | None = None):
        """One attempt to POST a delivery that is due. Returns the delivery after recording the
        attempt, or None when it was not due (delivered, failed for good, claimed elsewhere or
        scheduled later)."""
        now = now or timezone.now()
        if not self.claim(pk, now):
            return None
        message = self.message(pk)
        body = json.dumps(message.payload, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Pubcredit-Event": self.event,
            "X-Pubcredit-Delivery": str(pk),
            "X-Pubcredit-Signature": signature(message.secret, body),
        }
        started = time.monotonic()
        status_code, error = None, ""
        try:
            # Checked again now and sent to the checked address; a redirect is not followed.
            status_code = outbound.post(
                message.url,
                body,
                headers,
                timeout=self.timeout,
                allow_private=allow_private_targets(),
            )
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except outbound.UnsafeTarget as exc:
            error = f"refused: {exc}"[:500]
        except Exception as exc:  # network errors of every kind are recorded, never raised
            error = f"{type(exc).__name__}: {exc}"[:500]
        elapsed = round((time.monotonic() - started) * 1000)
        ok = status_code is not None and 200 <= status_code < 300
        return self.record_attempt(pk, ok, status_code, error, elapsed)

    def record_attempt(self, pk: int, ok: bool, status_code, error: str, elapsed_ms: int):
        with transaction.atomic():
            delivery = self.model.objects.select_for_update().get(pk=pk)
            at = timezone.now()
            delivery.attempts = [
                *delivery.attempts,
                {
                    "at": at.isoformat(),
                    "status_code": status_code,
                    "error": error,
                    "ms": elapsed_ms,
                },
            ]
            delivery.attempt_count += 1
            if ok:
                delivery.status = DeliveryStatus.DELIVERED
                delivery.delivered_at = at
                delivery.next_attempt_at = None
            elif delivery.attempt_count >= self.max_attempts:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
            else:
                delay = self.retry_delays[
                    min(delivery.attempt_count - 1, len(self.retry_delays) - 1)
                ]
                delivery.next_attempt_at = at + dt.timedelta(seconds=delay)
                retry_at = delivery.next_attempt_at
                transaction.on_commit(lambda: self.enqueue([pk], run_after=retry_at))
            delivery.save()
        if not ok:
            log.warning("webhook delivery %s failed: %s", pk, error or status_code)
        return delivery

    def deliver_due(self, *, now: dt.datetime | None = None, limit: int = 500) -> int:
        """Attempt every pending delivery whose time has come; returns how many were attempted."""
        now = now or timezone.now()
        ids = list(
            self.model.objects.filter(status=DeliveryStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        return sum(1 for pk in ids if self.deliver(pk, now=now) is not None)
