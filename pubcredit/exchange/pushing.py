"""The push client: POST a batch to the configured exchange endpoint, every attempt recorded,
retried with back-off (core.outbox's delays and attempt limit), the receipt recorded.

The endpoint is the active `ExchangeEndpoint` (the first by name), or the settings
PUBCREDIT_EXCHANGE_URL / PUBCREDIT_EXCHANGE_TOKEN. The body is JSON: the batch's manifest and
its json files' rows by file stem ({"manifest": {...}, "files": {"XK": [...], ...}}), with
`Authorization: Bearer <token>`, `X-Pubcredit-Batch: <batch id>`, `X-Pubcredit-Digest` and
`X-Pubcredit-Signature: sha256=<HMAC of the body with the token>`. The same batch is sent with
the same id and digest every time, so the receiver can discard a repeat.

Answers: 200/201 acknowledge the batch (status 已确认: the watermark moves to its `until`);
202 means received, acknowledgement to follow (status 已发送, `acknowledge` records it later);
anything else, a network error or a refused target is a failed attempt, retried after
core.outbox.RETRY_DELAYS until core.outbox.MAX_ATTEMPTS attempts have failed (status 发送失败).
The target goes through core.outbound (checked and pinned, no redirect; private addresses only
with PUBCREDIT_WEBHOOK_ALLOW_PRIVATE).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from pubcredit.core import outbound, outbox
from pubcredit.exchange.exporting import export_batch, manifest
from pubcredit.exchange.models import BatchStatus, ExchangeEndpoint, ExportBatch

log = logging.getLogger(__name__)

USER_AGENT = "pubcredit-exchange/1"
ACKNOWLEDGING = (200, 201)
ACCEPTED = 202


class NoEndpoint(Exception):
    """No exchange endpoint is configured."""


def endpoint() -> tuple[ExchangeEndpoint | None, str, str]:
    """(endpoint row or None, url, token)."""
    row = ExchangeEndpoint.objects.filter(active=True).order_by("name").first()
    if row is not None:
        return row, row.url, row.token
    url = getattr(settings, "PUBCREDIT_EXCHANGE_URL", "")
    if not url:
        raise NoEndpoint("no exchange endpoint")
    return None, url, getattr(settings, "PUBCREDIT_EXCHANGE_TOKEN", "")


def body_of(batch: ExportBatch) -> bytes:
    directory = Path(batch.directory)
    files = {
        name[: -len(".json")]: json.loads((directory / name).read_text(encoding="utf-8"))
        for name in sorted(batch.files)
        if name.endswith(".json")
    }
    return json.dumps(
        {"manifest": manifest(batch), "files": files}, ensure_ascii=False, sort_keys=True
    ).encode("utf-8")


def _claim(pk: int, now: dt.datetime) -> bool:
    return bool(
        ExportBatch.objects.filter(pk=pk, status=BatchStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + dt.timedelta(seconds=outbox.CLAIM_SECONDS))
    )


def push(pk: int, *, now: dt.datetime | None = None) -> ExportBatch | None:
    """One attempt to send a pending batch that is due; returns it after recording the attempt,
    or None when it was not due (sent, acknowledged, failed for good, claimed elsewhere)."""
    now = now or timezone.now()
    if not _claim(pk, now):
        return None
    batch = ExportBatch.objects.get(pk=pk)
    row, url, token = endpoint()
    body = body_of(batch)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Authorization": f"Bearer {token}",
        "X-Pubcredit-Batch": batch.batch_id,
        "X-Pubcredit-Digest": batch.digest,
        "X-Pubcredit-Signature": outbox.signature(token, body),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        status_code = outbound.post(
            url, body, headers, timeout=30, allow_private=outbox.allow_private_targets()
        )
        if status_code not in (*ACKNOWLEDGING, ACCEPTED):
            error = f"HTTP {status_code}"
    except outbound.UnsafeTarget as exc:
        error = f"refused: {exc}"[:500]
    except Exception as exc:  # network errors of every kind are recorded, never raised
        error = f"{type(exc).__name__}: {exc}"[:500]
    elapsed = round((time.monotonic() - started) * 1000)
    return _record_attempt(pk, row, url, status_code, error, elapsed)


def _record_attempt(pk, row, url, status_code, error, elapsed_ms) -> ExportBatch:
    with transaction.atomic():
        batch = ExportBatch.objects.select_for_update().get(pk=pk)
        at = timezone.now()
        batch.attempts = [
            *batch.attempts,
            {"at": at.isoformat(), "url": url, "status_code": status_code, "error": error,
             "ms": elapsed_ms},
        ]  # fmt: skip
        batch.attempt_count += 1
        batch.endpoint = row
        if status_code in ACKNOWLEDGING:
            batch.status = BatchStatus.ACKNOWLEDGED
            batch.acknowledged_at = at
            batch.receipt = {"status_code": status_code, "at": at.isoformat(), "url": url}
            batch.next_attempt_at = None
        elif status_code == ACCEPTED:
            batch.status = BatchStatus.SENT
            batch.next_attempt_at = None
        elif batch.attempt_count >= outbox.MAX_ATTEMPTS:
            batch.status = BatchStatus.FAILED
            batch.next_attempt_at = None
        else:
            delays = outbox.RETRY_DELAYS
            delay = delays[min(batch.attempt_count - 1, len(delays) - 1)]
            batch.next_attempt_at = at + dt.timedelta(seconds=delay)
            retry_at = batch.next_attempt_at
            transaction.on_commit(lambda: _enqueue(pk, retry_at))
        batch.save()
    if error:
        log.warning("exchange batch %s: attempt failed: %s", batch.batch_id, error)
    return batch


def _enqueue(pk: int, run_after: dt.datetime | None) -> None:
    t = push_batch_task
    if run_after is not None:
        if not t.get_backend().supports_defer:
            return  # push_due (the daily job) picks it up
        t = t.using(run_after=run_after)
    t.enqueue(pk)


@transaction.atomic
def acknowledge(batch: ExportBatch, receipt: dict) -> ExportBatch:
    """Record the receiver's later acknowledgement of a sent batch (moves the watermark)."""
    batch = ExportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in (BatchStatus.SENT, BatchStatus.PENDING):
        raise ValueError(f"batch {batch.batch_id} is {batch.status}")
    batch.status = BatchStatus.ACKNOWLEDGED
    batch.acknowledged_at = timezone.now()
    batch.receipt = receipt
    batch.save(update_fields=["status", "acknowledged_at", "receipt"])
    return batch


def push_due(*, now: dt.datetime | None = None) -> int:
    """Attempt every pending batch whose time has come; returns how many were attempted."""
    now = now or timezone.now()
    ids = list(
        ExportBatch.objects.filter(status=BatchStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("sequence")
        .values_list("pk", flat=True)
    )
    return sum(1 for pk in ids if push(pk, now=now) is not None)


@task()
def push_batch_task(pk: int) -> str:
    batch = push(pk)
    return batch.status if batch else "skipped"


@task()
def exchange_push_task() -> str:
    """The daily job: export what changed since the watermark (the same batch again while one
    is unacknowledged) and send whatever is due."""
    try:
        endpoint()
    except NoEndpoint:
        return "no endpoint"
    batch = export_batch(skip_empty=True)
    attempted = push_due()
    return f"{batch.batch_id if batch else 'no changes'}: {attempted} attempted"
