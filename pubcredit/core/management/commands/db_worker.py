"""`pubcredit db_worker …`: django-tasks-db's task worker (same options), hardened for long jobs.

- Its worker id is its process token (host:pid:start time, `pubcredit.core.jobs.process_token`)
  unless `--worker-id` is given, so the sweeper can tell a task result whose worker died.
- It sweeps once when it starts (`pubcredit.core.jobs.sweep`): a worker restarted after a crash
  takes over the jobs the dead one left at once, instead of at the scheduler's next sweep.
- A "database is locked" while it polls the queue (SQLite: another process held the write lock
  longer than the busy timeout, e.g. a long intake load) makes it wait and poll again; the
  original worker exits on it.

`core` comes before django_tasks_db in INSTALLED_APPS, so this command is the one that runs.
"""

from __future__ import annotations

import logging
import time

from django.db import OperationalError
from django_tasks_db.management.commands import db_worker

from pubcredit.core.jobs import is_locked, process_token, sweep

log = logging.getLogger("pubcredit.core.jobs")


class Worker(db_worker.Worker):
    def run(self) -> None:
        try:
            for swept in sweep():
                log.warning("worker start: %s %s %s", swept.action, swept.kind, swept.object_id)
        except Exception:  # the queue still has to be served
            log.exception("worker start: the sweep failed")
        while True:
            try:
                return super().run()
            except OperationalError as exc:
                if not is_locked(exc) or not self.running:
                    raise
                log.warning("worker %s: database locked; polling again", self.worker_id)
                time.sleep(max(self.interval, 1.0))


class Command(db_worker.Command):
    help = (
        "Run a database background worker (pubcredit: the worker id names the process, a sweep "
        "on start takes over the jobs of dead workers, a locked SQLite database is waited out)"
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=process_token())

    def handle(self, *args, **options) -> None:
        original = db_worker.Worker
        db_worker.Worker = Worker  # the base command builds db_worker.Worker by name
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original
