"""Whether the default database is a Citus coordinator (distributed PostgreSQL; docs/scale.md,
"Distribution on Citus"). Asked once per database and process: a query shape that Citus plans
differently (an identifier look-up split from the by-subject reads, so those are single-shard
router queries) is chosen by it."""

from __future__ import annotations

from django.db import connection

_known: dict[tuple, bool] = {}


def is_citus() -> bool:
    """True when the default database has the citus extension (False on SQLite, on PostgreSQL
    without it)."""
    if connection.vendor != "postgresql":
        return False
    settings = connection.settings_dict
    key = (settings["HOST"], settings["PORT"], settings["NAME"])
    if key not in _known:
        # On the driver's connection, not a Django cursor: a question about the server, not one
        # of the statements a request makes (tests that count a path's queries stay exact).
        connection.ensure_connection()
        row = connection.connection.execute(
            "SELECT 1 FROM pg_extension WHERE extname = 'citus'"
        ).fetchone()
        _known[key] = row is not None
    return _known[key]
