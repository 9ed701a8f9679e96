"""Long background jobs that survive their worker: leases, heartbeats, the sweeper, and retries of
writes that meet a locked SQLite database.

A *job* is one run of a task over one row (an intake submission, a batch check, a bulletin…),
described by a `JobKind`: the task that runs it (called with the row's primary key), whether the
row is finished, and how to fail it. The task runs its work through `run_leased`, which

1. takes the job's lease (a `JobLease` row, one per job): the worker's process token
   (host:pid:start time), an expiry `PUBCREDIT_JOB_LEASE_SECONDS` ahead, and one more attempt;
   a lease that a live worker holds is left alone (the job is running already: nothing is done);
2. keeps it alive from a heartbeat thread (every quarter of the lease) while the work runs;
3. deletes it when the work ends, well or badly (the job's own code records a failure).

When a worker dies mid-job (kill -9, the OOM killer, a power cut) its lease stays behind. The
sweeper (`sweep`, run every few minutes by the scheduler, `pubcredit sweep_jobs` by hand) finds
leases whose holder is dead: on this host the process is gone (checked at once, by pid and
start time), on another host the lease has expired. For each it marks the dead worker's task
result (django-tasks-db) failed, then re-enqueues the job, or, once `PUBCREDIT_JOB_MAX_ATTEMPTS`
runs have died, fails the job with a Chinese message. A job's task must therefore be safe to run
again after a crash (intake's load and the batch check are all or nothing).

A lease lives in its own table, not on the job's row, so that the heartbeat never waits for the
job's own row lock (intake locks its submission row for the whole load on PostgreSQL). On SQLite
the heartbeat waits while the job holds the write lock; there the sweeper relies on the process
check (one host).

`retry_locked` retries a write that met SQLite's "database is locked" (another process held the
write lock longer than the busy timeout), with back-off, outside any transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from pubcredit.core.models import JobLease

log = logging.getLogger("pubcredit.core.jobs")

T = TypeVar("T")

LOCK_ATTEMPTS = 6  # 0.25 + 0.5 + 1 + 2 + 4 s of back-off, on top of SQLite's busy timeout
LOCK_DELAY = 0.25
WORKER_LOST = "pubcredit.core.jobs.WorkerLost"


def lease_seconds() -> int:
    return int(getattr(settings, "PUBCREDIT_JOB_LEASE_SECONDS", 120))


def max_attempts() -> int:
    return int(getattr(settings, "PUBCREDIT_JOB_MAX_ATTEMPTS", 3))


# --------------------------------------------------------------------------- locked database


def is_locked(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database table is locked"."""
    return isinstance(exc, OperationalError) and "is locked" in str(exc).lower()


def retry_locked(
    fn: Callable[..., T] | None = None, *, attempts: int = LOCK_ATTEMPTS, delay: float = LOCK_DELAY
):
    """Decorator (`@retry_locked` or `@retry_locked(attempts=…)`): call again, after a growing
    pause (`delay`, doubled each time, ±25 %), when the call fails because the database is
    locked; the last failure is raised. Inside a transaction it calls once: a failed statement
    cannot be retried alone, so the caller's transaction is the one to retry."""

    def decorate(func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(*args, **kwargs) -> T:
            for attempt in range(1, attempts + 1):
                try:
                    return func(*args, **kwargs)
                except OperationalError as exc:
                    if attempt == attempts or not is_locked(exc) or connection.in_atomic_block:
                        raise
                    pause = delay * 2 ** (attempt - 1) * random.uniform(0.75, 1.25)
                    log.warning("database locked (%s); retry %d in %.2fs", func, attempt, pause)
                    time.sleep(pause)
            raise AssertionError("unreachable")

        return wrapper

    return decorate(fn) if fn is not None else decorate


# --------------------------------------------------------------------------- process tokens


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot) and None if it is gone or a zombie;
    "" where /proc does not tell (not Linux)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    if fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent
        return None
    return fields[19]  # field 22 of stat: starttime


def _host() -> str:
    return socket.gethostname()[:40]  # a token fits django-tasks-db's 64-character worker ids


def process_token(pid: int | None = None) -> str:
    """host:pid:start time of this process (or of `pid`): names a process, even after its pid is
    reused."""
    pid = pid or os.getpid()
    return f"{_host()}:{pid}:{_start_time(pid) or ''}"


def process_alive(token: str) -> bool | None:
    """Whether the process a token names still runs; None when it ran on another host."""
    try:
        host, pid_text, start = token.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return None
    if host != _host():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    now = _start_time(pid)
    if now is None:
        return False
    return not (start and now and now != start)


# --------------------------------------------------------------------------- kinds and leases


@dataclass(frozen=True)
class JobKind:
    """A kind of long job. `path`: dotted path of this object (what a lease records, so the
    sweeper finds it); `task`: dotted path of the django-tasks task that runs one job, called
    with the row's primary key; `label`: what one job is, in Chinese; `finished(pk)`: the row
    needs no more work; `fail(pk, message)`: mark the row failed with a Chinese message."""

    path: str
    task: str
    label: str
    finished: Callable[[int], bool]
    fail: Callable[[int, str], None]


def _dead(lease: JobLease, now) -> bool:
    if not lease.holder:
        return False  # waiting in the queue for a worker
    alive = process_alive(lease.holder)
    if alive is not None:
        return not alive
    return lease.expires_at is None or lease.expires_at < now


@retry_locked
@transaction.atomic
def _take(kind: JobKind, object_id: int, holder: str, task_result_id: str) -> JobLease | None:
    now = timezone.now()
    lease, _created = JobLease.objects.select_for_update().get_or_create(
        kind=kind.path, object_id=object_id
    )
    if lease.holder and lease.holder != holder and not _dead(lease, now):
        return None
    lease.holder = holder
    lease.attempts += 1
    lease.task_result_id = str(task_result_id or "")[:64]
    lease.started_at = lease.heartbeat_at = now
    lease.expires_at = now + dt.timedelta(seconds=lease_seconds())
    lease.save()
    return lease


@retry_locked
def _release(lease_id: int, holder: str) -> None:
    JobLease.objects.filter(pk=lease_id, holder=holder).delete()


def beat(lease_id: int, holder: str) -> bool:
    """Push the lease's expiry forward; False when the lease is not this holder's any more."""
    now = timezone.now()
    return bool(
        JobLease.objects.filter(pk=lease_id, holder=holder).update(
            heartbeat_at=now, expires_at=now + dt.timedelta(seconds=lease_seconds())
        )
    )


class _Heartbeat(threading.Thread):
    def __init__(self, lease_id: int, holder: str, every: float):
        super().__init__(name=f"lease-{lease_id}", daemon=True)
        self.lease_id, self.holder, self.every = lease_id, holder, every
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.wait(self.every):
                try:
                    beat(self.lease_id, self.holder)
                except Exception as exc:  # locked by the job itself on SQLite: next beat
                    log.info("lease %s: heartbeat skipped (%s)", self.lease_id, exc)
        finally:
            connections.close_all()  # this thread's own connection

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=30)


def run_leased(
    kind: JobKind, object_id: int, work: Callable[[], T], *, task_result_id: str = ""
) -> T | None:
    """Run `work()` holding the job's lease (see the module docstring); None, without running
    it, when a live worker holds the lease already. Inside a transaction (tests with the
    immediate task backend) no heartbeat runs: nobody else can see the lease anyway."""
    holder = process_token()
    lease = _take(kind, object_id, holder, task_result_id)
    if lease is None:
        log.warning("%s %s is being run by another worker; not run again", kind.path, object_id)
        return None
    heart = None
    if not connection.in_atomic_block:
        heart = _Heartbeat(lease.pk, holder, max(1.0, lease_seconds() / 4))
        heart.start()
    try:
        result = work()
    except Exception:
        _stop_then_release(heart, lease.pk, holder)
        raise
    except BaseException:  # the worker is being shut down: the sweeper takes the job over
        if heart is not None:
            heart.stop()
        raise
    _stop_then_release(heart, lease.pk, holder)
    return result


def _stop_then_release(heart: _Heartbeat | None, lease_id: int, holder: str) -> None:
    if heart is not None:
        heart.stop()
    _release(lease_id, holder)


# --------------------------------------------------------------------------- the sweeper


@dataclass(frozen=True)
class Swept:
    """What the sweeper did with one dead worker's job: "requeued", "failed" (attempts used
    up) or "released" (the job had finished; only the lease was left); or, for a task run
    without a lease whose worker (named by its process token, see `pubcredit db_worker`) died
    on this host: "task_failed" (`kind` is then the task's path, `object_id` 0)."""

    kind: str
    object_id: int
    action: str
    attempts: int
    holder: str
    task_result_id: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def fail_task_result(task_result_id: str, holder: str) -> bool:
    """Mark the django-tasks-db result of a dead worker's run failed (it stays RUNNING
    otherwise). True when there was such a running result."""
    if not task_result_id:
        return False
    note = _("执行该任务的后台进程(%(p)s)已意外终止,任务由清理程序标记为失败。") % {"p": holder}
    return bool(
        DBTaskResult.objects.filter(id=task_result_id, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path=WORKER_LOST,
            traceback=f"{WORKER_LOST}: {note}\n",
            return_value=None,
        )
    )


def exhausted_message(kind: JobKind, attempts: int) -> str:
    return _(
        "后台处理进程在处理该%(label)s时已连续 %(n)d 次意外终止(例如被强制结束或内存不足),"
        "已停止自动重试;请联系平台管理员排查后重新处理。"
    ) % {"label": kind.label, "n": attempts}


def sweep(now=None) -> list[Swept]:
    """Take over the jobs whose worker died (see the module docstring); what was done, per job.
    Safe to run at any time, from any number of processes."""
    now = now or timezone.now()
    out = []
    for lease in JobLease.objects.exclude(holder="").order_by("pk"):
        if not _dead(lease, now):
            continue
        try:
            done = _sweep_one(lease.pk, now)
        except Exception:  # one broken kind must not stop the others
            log.exception("sweeper: could not take over %s", lease)
            continue
        if done is not None:
            out.append(done)
            log.warning("sweeper: %s %s %s", done.action, done.kind, done.object_id)
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    for result_id, task_path, workers in running.values_list("id", "task_path", "worker_ids"):
        holder = str(workers[-1]) if workers else ""
        if process_alive(holder) is False and fail_task_result(str(result_id), holder):
            out.append(Swept(task_path, 0, "task_failed", 0, holder, str(result_id)))
    return out


@retry_locked
@transaction.atomic
def _sweep_one(lease_id: int, now) -> Swept | None:
    lease = JobLease.objects.select_for_update(skip_locked=True).filter(pk=lease_id).first()
    if lease is None or not _dead(lease, now):
        return None  # another sweeper has it, or a live worker took it meanwhile
    kind: JobKind = import_string(lease.kind)
    fail_task_result(lease.task_result_id, lease.holder)
    swept = functools.partial(
        Swept,
        kind=lease.kind,
        object_id=lease.object_id,
        attempts=lease.attempts,
        holder=lease.holder,
        task_result_id=lease.task_result_id,
    )
    if kind.finished(lease.object_id):
        lease.delete()
        return swept(action="released")
    if lease.attempts >= max_attempts():
        kind.fail(lease.object_id, exhausted_message(kind, lease.attempts))
        lease.delete()
        return swept(action="failed")
    # The lease waits, holder-less, for the next run (which counts one more attempt). Saved
    # before enqueueing: an immediate backend runs the job, and deletes the lease, right there.
    lease.holder = ""
    lease.expires_at = None
    lease.save(update_fields=["holder", "expires_at"])
    result = import_string(kind.task).enqueue(lease.object_id)
    JobLease.objects.filter(pk=lease.pk, holder="").update(task_result_id=str(result.id))
    return swept(action="requeued")
