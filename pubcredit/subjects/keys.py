"""The key table (`SubjectKey`, docs/scale.md "The key table"): a subject's identifier → its id,
distributed by the identifier on Citus, so that a look-up by 统一社会信用代码 or by a person's
blind index is a router query to one shard and the identifier is unique across shards.

Kept only when `core.citus.is_citus()` (`maintained()`); on SQLite and a single PostgreSQL the
table stays empty and every function here that writes does nothing, while `find` filters the
register by its own unique index.

The encoding is `subject_key`, the one function every writer and reader uses:
- an organisation's or 个体工商户's code: "U:" + the USCC as the register holds it (18
  characters, normalised and upper case: `core.identifiers.check_uscc`);
- a natural person's document number: "I:" + its blind index as the register holds it
  (`id_index`: 64 hex digits, HMAC-SHA256; a document other than a 身份证 is already prefixed
  with its type inside the hash, `subjects.services.person_id_index`).
The prefixes keep the two namespaces apart; a subject has at most one key of each.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from pubcredit.core import citus
from pubcredit.subjects.models import Subject, SubjectKey

# The register's identifier columns and the prefix of their keys.
PREFIXES: dict[str, str] = {"uscc": "U:", "id_index": "I:"}

TABLE = SubjectKey._meta.db_table
REGISTER = Subject._meta.db_table

# The check's look-up (measures.applicability.read_subject_facts): one shard on Citus.
LOOKUP_SQL = f"SELECT subject_id FROM {TABLE} WHERE key = %s"


def subject_key(field: str, value):
    """The key of the register's identifier `field` ("uscc" or "id_index") with `value`: a str,
    or a polars string expression (intake's frames) giving one key a row."""
    return PREFIXES[field] + value


def key_sql(field: str, column: str) -> str:
    """`subject_key` as a SQL expression on `column` (set-based writers)."""
    return f"'{subject_key(field, '')}' || {column}"


def maintained() -> bool:
    """Whether the key table is kept (and read) here: on Citus only."""
    return citus.is_citus()


def find(queryset: QuerySet, field: str, value: str) -> QuerySet:
    """`queryset` (of subjects) narrowed to the subject whose `field` is `value`. On Citus the
    subject id is looked up in the key table first (one shard), then the register by id (the
    subject's shard; the identifier is still compared, so a stale key finds nothing); elsewhere
    the register's own unique index."""
    if not maintained():
        return queryset.filter(**{field: value})
    subject_id = (
        SubjectKey.objects.filter(key=subject_key(field, value))
        .values_list("subject_id", flat=True)
        .first()
    )
    if subject_id is None:
        return queryset.none()
    return queryset.filter(pk=subject_id, **{field: value})


def subject_id_of(field: str, value: str) -> int | None:
    """The id of the subject whose `field` is `value`, from the key table (Citus only)."""
    with connection.cursor() as cursor:
        cursor.execute(LOOKUP_SQL, [subject_key(field, value)])
        row = cursor.fetchone()
    return row[0] if row else None


def claim(field: str, value: str, subject_id: int) -> bool:
    """Write the key of a subject just registered (Citus only; True elsewhere, where the
    register's unique index has decided). False when another subject holds the identifier: the
    caller registered a duplicate and must roll it back and use that subject (a concurrent
    registration won; ON CONFLICT waits for it to commit or roll back)."""
    if not maintained():
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (key, subject_id) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
            [subject_key(field, value), subject_id],
        )
        return cursor.rowcount == 1


def claim_many(cursor, keys: list[str], subject_ids: list[int]) -> set[int]:
    """Write the keys (`subject_key` values) of subjects just registered, `subject_ids` in the
    same order, in one statement (Citus only). Returns the ids whose key was written; a subject
    missing from it is a duplicate of one another writer registered meanwhile."""
    if not keys:
        return set()
    cursor.execute(
        f"""INSERT INTO {TABLE} (key, subject_id)
            SELECT k, s FROM unnest(%s::text[], %s::bigint[]) AS n(k, s)
            ON CONFLICT (key) DO NOTHING RETURNING subject_id""",
        [keys, subject_ids],
    )
    return {row[0] for row in cursor.fetchall()}


def fill_from_register(cursor, where: str = "TRUE", params: list | tuple = ()) -> int:
    """Write the keys of the register's subjects matching `where` (a condition on the register's
    columns) that have none yet, set-based (INSERT … SELECT … ON CONFLICT DO NOTHING): the
    backfill of `pubcredit scaleout distribute`, and the demo city's bulk load. An identifier
    held by several subjects (possible on Citus before the key table) keys the earliest. Returns
    the number of keys written (0 when run again). Callers decide that the table is kept."""
    # The keys written are counted on the table (Citus's rowcount of an INSERT … SELECT counts
    # the rows offered, the conflicting ones too; RETURNING would send every key back).
    cursor.execute(f"SELECT count(*) FROM {TABLE}")
    before = cursor.fetchone()[0]
    for field in PREFIXES:
        cursor.execute(
            f"""INSERT INTO {TABLE} (key, subject_id)
                SELECT {key_sql(field, field)}, min(id) FROM {REGISTER}
                WHERE {field} IS NOT NULL AND ({where}) GROUP BY {field}
                ON CONFLICT (key) DO NOTHING""",
            [*params],
        )
    cursor.execute(f"SELECT count(*) FROM {TABLE}")
    return cursor.fetchone()[0] - before


def drop_for_subjects(cursor, first_id: int, last_id: int) -> int:
    """Remove the keys of the subjects with ids first_id..last_id (the demo city's removal;
    nothing elsewhere, where the table is empty). Returns the number removed."""
    if not maintained():
        return 0
    cursor.execute(f"DELETE FROM {TABLE} WHERE subject_id BETWEEN %s AND %s", [first_id, last_id])
    return cursor.rowcount
