"""The shared cache every server process sees: rate-limit counters and the API-key revocation
generation live here (settings.CACHES, the block at the end of pubcredit/settings.py).

With Redis configured (PUBCREDIT_CACHE_URL / PUBCREDIT_REDIS_URL) Django's RedisCache is used as
is: its `add` and `incr` are atomic. Without it, the cache is this database cache, which needs
no other server: Django's `DatabaseCache` in the table `createcachetable` makes (`pubcredit
setup` and `migrate` run it, see ops.apps), with counters that are atomic across processes.

Django's own DatabaseCache stores every value pickled, so `incr` is a read and a write: two
processes counting at once lose counts. Here an integer is stored as its decimal text and
`add`, `set` and `incr` of integers are single statements (an upsert, an
`UPDATE … SET value = value + n … RETURNING value`), on SQLite and PostgreSQL alike. Other
values are stored as Django stores them. Expired counters are deleted now and then by `add`
(Django culls only in `set`, which counters do not call).
"""

from __future__ import annotations

import base64
import itertools
import pickle
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, models, router
from django.utils.timezone import now as tz_now

# An expired-counter sweep every this many new counters (per process).
PURGE_EVERY = 500


def _is_int(value) -> bool:
    return type(value) is int


# The `expires` column's converters by database alias. Django's DatabaseCache builds a field and
# an expression for them on every read, about a fifth of the read's CPU on the API-key path,
# which reads the revocation generation on every request.
_EXPIRES = models.Expression(output_field=models.DateTimeField())
_converters: dict[str, list] = {}


def _expires_converters(connection) -> tuple[models.Expression, list]:
    converters = _converters.get(connection.alias)
    if converters is None:
        converters = connection.ops.get_db_converters(_EXPIRES)
        converters += _EXPIRES.get_db_converters(connection)
        _converters[connection.alias] = converters
    return _EXPIRES, converters


class DatabaseCache(DjangoDatabaseCache):
    """Django's database cache with integers stored as text and counted atomically."""

    def __init__(self, table, params):
        super().__init__(table, params)
        self._inserts = itertools.count(1)

    # ------------------------------------------------------------------ helpers

    def _connection(self, write: bool):
        route = router.db_for_write if write else router.db_for_read
        return connections[route(self.cache_model_class)]

    def _expiry(self, connection, timeout):
        timeout = self.get_backend_timeout(timeout)
        if timeout is None:
            expires = datetime.max
        else:
            expires = datetime.fromtimestamp(timeout, tz=UTC if settings.USE_TZ else None)
        return connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))

    def _now(self, connection):
        return connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))

    # ------------------------------------------------------------------ reads

    def get_many(self, keys, version=None):
        if not keys:
            return {}
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        connection = self._connection(write=False)
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT cache_key, value, expires FROM {table} WHERE cache_key IN "
                f"({', '.join(['%s'] * len(key_map))})",
                list(key_map),
            )
            rows = cursor.fetchall()
        expression, converters = _expires_converters(connection)
        result, expired = {}, []
        now = tz_now()
        for key, value, expires in rows:
            for converter in converters:
                expires = converter(expires, expression, connection)
            if expires < now:
                expired.append(key)
                continue
            value = connection.ops.process_clob(value)
            if value.lstrip("-").isdigit():
                result[key_map[key]] = int(value)
            else:
                result[key_map[key]] = pickle.loads(base64.b64decode(value.encode()))
        self._base_delete_many(expired)
        return result

    # ------------------------------------------------------------------ writes

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        if not _is_int(value):
            return super().set(key, value, timeout, version)
        self._upsert(key, value, timeout, version, replace_live=True)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        if not _is_int(value):
            return super().add(key, value, timeout, version)
        added = self._upsert(key, value, timeout, version, replace_live=False)
        if added and next(self._inserts) % PURGE_EVERY == 0:
            self.purge_expired()
        return added

    def _upsert(self, key, value: int, timeout, version, *, replace_live: bool) -> bool:
        """Insert the integer, or replace the row (always, or only an expired one). True when
        the row was written."""
        key = self.make_and_validate_key(key, version=version)
        connection = self._connection(write=True)
        table = connection.ops.quote_name(self._table)
        now = self._now(connection)
        condition = "" if replace_live else f" WHERE {table}.expires < %s"
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
                f"ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, "
                f"expires = excluded.expires{condition}",
                [key, str(value), self._expiry(connection, timeout)]
                + ([] if replace_live else [now]),
            )
            return cursor.rowcount == 1

    def incr(self, key, delta=1, version=None):
        """Add `delta` to a live integer in one statement; ValueError if there is none."""
        key = self.make_and_validate_key(key, version=version)
        connection = self._connection(write=True)
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET value = CAST(CAST(value AS BIGINT) + %s AS TEXT) "
                f"WHERE cache_key = %s AND expires >= %s RETURNING value",
                [int(delta), key, self._now(connection)],
            )
            row = cursor.fetchone()
        if row is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(row[0])

    def count(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> int:
        """Add one to a live integer, or start it at 1 (absent or expired): one statement, the
        new value. The rate limiter's counter."""
        key = self.make_and_validate_key(key, version=version)
        connection = self._connection(write=True)
        table = connection.ops.quote_name(self._table)
        now = self._now(connection)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, '1', %s) "
                f"ON CONFLICT (cache_key) DO UPDATE SET "
                f"value = CASE WHEN {table}.expires < %s THEN '1' "
                f"ELSE CAST(CAST({table}.value AS BIGINT) + 1 AS TEXT) END, "
                f"expires = CASE WHEN {table}.expires < %s THEN excluded.expires "
                f"ELSE {table}.expires END RETURNING value",
                [key, self._expiry(connection, timeout), now, now],
            )
            value = int(cursor.fetchone()[0])
        if value == 1 and next(self._inserts) % PURGE_EVERY == 0:
            self.purge_expired()
        return value

    def decr(self, key, delta=1, version=None):
        return self.incr(key, -delta, version)

    def purge_expired(self) -> int:
        """Delete every expired row; the number deleted."""
        connection = self._connection(write=True)
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [self._now(connection)])
            return cursor.rowcount
