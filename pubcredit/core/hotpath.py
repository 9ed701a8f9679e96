"""The hot-path statement seam: statements run many times a second with different values (a credit
check's one read and its log row) run as server-side prepared statements on PostgreSQL.

PostgreSQL parses and plans such a statement once per connection and then only executes it:
for a check's read (a subject by its code with its flags, public records and commitments, four
index probes) planning costs several times the execution. Django runs every query with
client-side binding (the values inlined, nothing prepared: `server_side_binding` is off for the
rest of the project, whose queries are ORM-built and varied), so this module keeps a
server-binding psycopg cursor on the same connection, in the same transaction, and executes with
`prepare=True`. The statement still goes through Django's cursor wrapper: it is logged in debug
and seen by `CaptureQueriesContext`, and `execute_wrappers` apply. On SQLite it is an ordinary
`connection.cursor()`.

Statements must use `%s` placeholders, list their columns (no `SELECT *`: a prepared statement
keeps its result shape) and be the same text for every call (values only as parameters).
"""

from __future__ import annotations

import psycopg
from django.db import connection


class _PreparedCursor(psycopg.Cursor):
    """A server-binding psycopg cursor whose every statement is prepared."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def _raw_connection():
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's preparation off (None), which also ignores prepare=True. A
        # threshold no statement reaches keeps every other query unprepared, as Django wants.
        raw.prepare_threshold = 2**31 - 1
    return raw


def fetchone(sql: str, params) -> tuple | None:
    """Execute `sql` (prepared on PostgreSQL) and return its first row. On PostgreSQL the
    server-binding cursor is kept with its connection and reused (a connection is one thread's),
    wrapped anew by Django each time as `cursor()` is."""
    if connection.vendor != "postgresql":
        with connection.cursor() as c:
            c.execute(sql, params)
            return c.fetchone()
    raw = _raw_connection()
    kept = getattr(connection, "_hotpath_cursor", None)
    if kept is None or kept.connection is not raw or kept.closed:
        kept = connection._hotpath_cursor = _PreparedCursor(raw)
    c = connection._prepare_cursor(kept)
    c.execute(sql, params)
    return c.fetchone()
