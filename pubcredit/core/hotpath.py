"""The hot-path statement seam: statements run many times a second with different values (a credit
check's one read and its log row), hand-written SQL through `fetchone`.

`fetchone(sql, params)` runs on the default connection through Django's cursor (logged in debug,
seen by `CaptureQueriesContext`, `execute_wrappers` apply). Whether PostgreSQL prepares it is
the database alias's configuration, not this module's: the check server
(pubcredit.settings_checks) sets the documented OPTIONS `server_side_binding` (Django) and
`prepare_threshold` (psycopg), so psycopg prepares each statement after it ran that many times on
a connection and then only executes it: for a check's read (a subject by its code with its flags,
public records, commitments and grades, several index probes) planning costs several times the
execution. The site keeps Django's default (values bound client-side, nothing prepared) for its
varied ORM queries; SQLite runs the statement as it is.

Statements must use `%s` placeholders, list their columns (no `SELECT *`: a prepared statement
keeps its result shape) and be the same text for every call (values only as parameters), so
that one prepared statement serves every call.
"""

from __future__ import annotations

from django.db import connection


def fetchone(sql: str, params) -> tuple | None:
    """Execute `sql` with `params` on the default connection and return its first row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
