"""The test database as other processes see it: for tests that start real `pubcredit` processes
(a `db_worker` to kill, a command) against the data the test prepared.

- PostgreSQL: the test database itself (its name is pytest-django's, with the xdist suffix);
  the test must commit what the processes should see, so `shared_db` asks for a transactional
  test (flushed afterwards, the reference data put back).
- SQLite: pytest-django's test database lives in memory, where no other process can reach it;
  `share()` copies it (SQLite's backup API: schema, reference data, what the test committed so
  far) into a file the processes share. Call it once the test has prepared its data; from then
  on the test reads that file (`query`), not its own connection.

Files the test stores (raw uploads) go to MEDIA_ROOT, which is the processes' too.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection


class SharedDatabase:
    def __init__(self, tmp: Path, settings):
        self.vendor = connection.vendor
        self.path = tmp / "shared.sqlite3"
        settings.MEDIA_ROOT = tmp / "var" / "media"
        if self.vendor == "postgresql":
            s = connection.settings_dict
            auth = (s.get("USER") or "postgres") + (
                f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
            )
            host, port = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432
            self.url = f"postgres://{auth}@{host}:{port}/{s['NAME']}"
        else:
            self.url = f"sqlite:///{self.path}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "PUBCREDIT_VAR_DIR": str(tmp / "var"),
            "PUBCREDIT_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "PUBCREDIT_INTAKE_FAILPOINT": "",
        }

    def share(self) -> None:
        """Make what the test committed so far visible to the processes (see the docstring)."""
        if self.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(self.path)
            try:
                connection.connection.backup(target)
                target.execute("PRAGMA journal_mode=WAL")  # as the processes will open it
            finally:
                target.close()

    def hold_write_lock(self):
        """Take the database's write lock from another connection (as a long intake in another
        process holds it) and return the function that releases it. PostgreSQL locks rows,
        not the database: there the task results table is locked instead."""
        if self.vendor == "postgresql":
            conn = psycopg.connect(self.url, autocommit=False)
            conn.execute("LOCK TABLE django_tasks_database_dbtaskresult IN EXCLUSIVE MODE")
        else:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("BEGIN IMMEDIATE")

        def release() -> None:
            conn.rollback()
            conn.close()

        return release

    def query(self, sql: str, params=()) -> list[tuple]:
        """Rows of `sql` (placeholders `?`) as the processes' database has them now."""
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), params)
                return cursor.fetchall()
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql, params).fetchall()

    def command(self, *args: str) -> list[str]:
        """argv of a `pubcredit` management command run with this interpreter."""
        return [sys.executable, "-m", "pubcredit", *args]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args), capture_output=True, text=True, env=self.env, timeout=timeout
        )


@pytest.fixture
def shared_db(transactional_db, tmp_path, settings) -> SharedDatabase:
    return SharedDatabase(tmp_path, settings)
