"""Public name search: a character-bigram inverted index over organisations' names.

Why bigrams: the portal must find any substring of two or more characters ("宏达", "达机") in a
million names within a few milliseconds. PostgreSQL's pg_trgm needs three characters to use its
index, and a LIKE '%宏达%' scan of a million rows takes hundreds of milliseconds. A bigram index
answers a two-character query with one index range, and a longer query by walking the posting
list of its rarest bigram, probing a second bigram and confirming the substring on each
candidate (LIKE on one short row by primary key). The same tables and the same SQL work on
SQLite, so laptops and tests exercise exactly what production runs.

Ranking without sorting: `SearchEntry.doc` numbers subjects shortest name first (then by id)
when the index is built, so every posting list read in `doc` order is already ranked — a query
that covers more of a name comes first, an exact name match before everything else it contains.
Subjects indexed incrementally get the next numbers (they rank after the rebuilt ones until the
next rebuild). Results are capped at RESULT_CAP (the count then reads "1000+"): a public portal
shows a bounded list, which also keeps any query's cost bounded.

Keeping it current:
- `rebuild_search_index()` rebuilds everything in bulk (numpy computes the bigrams, PostgreSQL
  COPY writes them): set-up, after a bulk load, or whenever the ranking should be renewed;
- `index_subjects(ids)` re-indexes a few subjects; signals call it when a subject or former name
  is saved through the ORM (register, rename), in the same transaction;
- `refresh_search_index()` catches up with bulk writes that bypass signals (the demo loader,
  intake creating subjects): subjects above the watermark, subjects changed since the last
  refresh, and entries of subjects that no longer exist. Searches also catch up by themselves
  when only a few subjects are missing (LAZY_REFRESH_LIMIT), so a site never needs a cron job to
  find a company registered a minute ago.
Natural persons are never indexed: they are found only by their full 身份证号.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from pubcredit.catalog.models import SubjectKind
from pubcredit.core import citus
from pubcredit.core.bulkload import bulk_copy, deferred_indexes
from pubcredit.portal.models import GramStat, NameGram, SearchEntry, SearchIndexState
from pubcredit.subjects.models import FormerName, Subject
from pubcredit.subjects.names import normalize_name

log = logging.getLogger("pubcredit.portal.search")

SEARCHABLE_KINDS = (SubjectKind.ORG.value, SubjectKind.INDIVIDUAL_BUSINESS.value)
# At most this many matches are counted and can be paged through.
RESULT_CAP = 1000
# A multi-character query walks at most this many postings of its rarest bigram (with the
# filters applied). Beyond that the count is reported as a lower bound ("至少"), which only
# happens for a query whose every bigram is very common while the whole string is rare.
SCAN_BUDGET = 20_000
MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 60
# A search indexes missing subjects itself when there are at most this many.
LAZY_REFRESH_LIMIT = 2_000
# Rows read and turned into bigrams at once during a rebuild (bounds memory).
REBUILD_CHUNK = 200_000
NAME_SEPARATOR = "|"  # removed by normalize_name, so it never occurs in a name or a query
_LOCK_ID = 0x50_4F_52_54  # "PORT": pg_advisory_xact_lock key for index writers


# --------------------------------------------------------------------------- bigrams


def encode_gram(pair: str) -> int:
    """Two characters as one integer: ord(a) << 21 | ord(b) (code points are < 2**21)."""
    return (ord(pair[0]) << 21) | ord(pair[1])


def decode_gram(gram: int) -> str:
    return chr(gram >> 21) + chr(gram & 0x1FFFFF)


def query_grams(norm: str) -> list[int]:
    """The distinct bigrams of a normalised query, in order of first occurrence."""
    seen: dict[int, None] = {}
    for i in range(len(norm) - 1):
        seen.setdefault(encode_gram(norm[i : i + 2]), None)
    return list(seen)


def _bigram_pairs(names: list[str], docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gram, doc) for every bigram of every name, vectorised: the names become a UTF-32 code
    point matrix (numpy pads with 0), adjacent columns are packed into one integer."""
    if not names:
        return np.empty(0, np.int64), np.empty(0, np.int32)
    width = max(1, max(len(n) for n in names))
    points = np.array(names, dtype=f"<U{width}").view(np.uint32).reshape(len(names), width)
    if width < 2:
        return np.empty(0, np.int64), np.empty(0, np.int32)
    left = points[:, :-1].astype(np.int64)
    right = points[:, 1:].astype(np.int64)
    valid = right != 0  # strings are left-aligned: a non-zero right implies a non-zero left
    grams = (left << 21) | right
    doc_matrix = np.broadcast_to(docs.astype(np.int32)[:, None], grams.shape)
    return grams[valid], doc_matrix[valid]


def _postings(entries: pl.DataFrame, former: pl.DataFrame) -> pl.DataFrame:
    """The distinct (gram, doc, kind, region) rows for `entries` (doc, kind, region, name_norm;
    docs consecutive from the first row's) and their former names (doc, name_norm), sorted by
    (gram, doc): numpy sorts and drops adjacent duplicates, kind and region are gathered by
    position (no hash join or hash-unique over millions of rows)."""
    names = entries["name_norm"].to_list() + former["name_norm"].to_list()
    docs = np.concatenate(
        [entries["doc"].to_numpy().astype(np.int32), former["doc"].to_numpy().astype(np.int32)]
    )
    gram_parts, doc_parts = [], []
    for start in range(0, len(names), REBUILD_CHUNK):
        grams, gram_docs = _bigram_pairs(
            names[start : start + REBUILD_CHUNK], docs[start : start + REBUILD_CHUNK]
        )
        gram_parts.append(grams)
        doc_parts.append(gram_docs)
    if not gram_parts or not sum(len(g) for g in gram_parts):
        return pl.DataFrame(
            schema={"gram": pl.Int64, "doc": pl.Int32, "kind": pl.String, "region": pl.String}
        )
    grams = np.concatenate(gram_parts)
    gram_docs = np.concatenate(doc_parts)
    order = np.lexsort((gram_docs, grams))
    grams, gram_docs = grams[order], gram_docs[order]
    keep = np.ones(len(grams), dtype=bool)
    keep[1:] = (grams[1:] != grams[:-1]) | (gram_docs[1:] != gram_docs[:-1])
    grams, gram_docs = grams[keep], gram_docs[keep]
    first_doc = int(entries["doc"][0])
    positions = pl.Series(gram_docs - first_doc, dtype=pl.Int64)
    return pl.DataFrame(
        {
            "gram": grams,
            "doc": gram_docs,
            "kind": entries["kind"].gather(positions),
            "region": entries["region"].gather(positions),
        }
    )


# --------------------------------------------------------------------------- reading subjects


def _frame(sql: str, params: list, schema: dict) -> pl.DataFrame:
    """A query's rows as a polars frame (PostgreSQL: COPY … TO STDOUT, parsed by polars)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            query = raw.mogrify(sql, params) if params else sql
            buf = bytearray()
            with raw.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
                for block in copy:
                    buf += block
            if not buf:
                return pl.DataFrame(schema=schema)
            frame = pl.read_csv(bytes(buf), has_header=False, schema=schema)
            # COPY writes NULL as an empty field and "" as a quoted empty string: both are "".
            return frame.with_columns(pl.col(pl.String).fill_null(""))
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


_SUBJECT_SCHEMA = {"subject_id": pl.Int64, "kind": pl.String, "region": pl.String}
_NAME_SCHEMA = {"subject_id": pl.Int64, "name_norm": pl.String}


def _subjects_frame(where: str, params: list) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(subjects: subject_id, kind, region, name_norm; former: subject_id, name_norm) of the
    searchable subjects matching `where` (SQL on the subject table, alias s)."""
    qn = connection.ops.quote_name
    subjects_table = qn(Subject._meta.db_table)
    former_table = qn(FormerName._meta.db_table)
    kinds = ", ".join(f"'{k}'" for k in SEARCHABLE_KINDS)
    subjects = _frame(
        f"SELECT s.id, s.kind, s.region, s.name_norm FROM {subjects_table} s "
        f"WHERE s.kind IN ({kinds}) AND {where}",
        params,
        _SUBJECT_SCHEMA | {"name_norm": pl.String},
    )
    former = _frame(
        f"SELECT f.subject_id, f.name_norm FROM {former_table} f "
        f"JOIN {subjects_table} s ON s.id = f.subject_id "
        f"WHERE s.kind IN ({kinds}) AND {where}",
        params,
        _NAME_SCHEMA,
    )
    return subjects, former


def _entries(subjects: pl.DataFrame, former: pl.DataFrame, first_doc: int):
    """Number the subjects in ranking order (shortest name first, then id) from `first_doc` and
    build their search text. Returns (entries frame, former names with doc)."""
    subjects = (
        subjects.with_columns(pl.col("region").fill_null(""), pl.col("name_norm").fill_null(""))
        .sort(pl.col("name_norm").str.len_chars(), "subject_id")
        .with_row_index("doc", offset=first_doc)
        .with_columns(pl.col("doc").cast(pl.Int32))
    )
    former = former.join(subjects.select("subject_id", "doc"), on="subject_id", how="inner")
    former_text = former.group_by("subject_id").agg(
        pl.col("name_norm").sort().str.join(NAME_SEPARATOR).alias("former_text")
    )
    entries = subjects.join(former_text, on="subject_id", how="left").with_columns(
        text=pl.when(pl.col("former_text").is_null())
        .then(pl.col("name_norm"))
        .otherwise(pl.concat_str("name_norm", pl.lit(NAME_SEPARATOR), "former_text"))
    )
    return entries.sort("doc"), former.select("doc", "name_norm")


# --------------------------------------------------------------------------- writing


def _lock_writers() -> SearchIndexState:
    """Serialise index writers (rebuild, refresh, signals) and return the state row."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
    state, _created = SearchIndexState.objects.select_for_update().get_or_create(pk=1)
    return state


def _write(entries: pl.DataFrame, postings: pl.DataFrame, *, fresh: bool = False) -> None:
    """Write entries and postings and count them into GramStat (`fresh`: the tables were just
    emptied, so the counts are copied in rather than added to existing rows)."""
    if entries.height:
        bulk_copy(SearchEntry, ["doc", "subject_id", "kind", "region", "text"], entries)
    if postings.height:
        bulk_copy(NameGram, ["gram", "doc", "kind", "region"], postings)
        counts = postings.group_by("gram").len("df")
        if fresh:
            bulk_copy(GramStat, ["gram", "df"], counts)
        else:
            _add_df(counts)


def _add_df(counts: pl.DataFrame) -> None:
    """GramStat.df += counts (gram, df); negative counts subtract."""
    if not counts.height:
        return
    table = connection.ops.quote_name(GramStat._meta.db_table)
    rows = list(counts.select("gram", "df").iter_rows())
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            batch = rows[start : start + 5000]
            values = ", ".join(["(%s, %s)"] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} (gram, df) VALUES {values} "
                f"ON CONFLICT (gram) DO UPDATE SET df = {table}.df + excluded.df",
                [v for row in batch for v in row],
            )


def _remove_docs(docs: list[int]) -> None:
    if not docs:
        return
    qn = connection.ops.quote_name
    grams_table = qn(NameGram._meta.db_table)
    for start in range(0, len(docs), 5000):
        batch = docs[start : start + 5000]
        marks = ", ".join(["%s"] * len(batch))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT gram, -COUNT(*) FROM {grams_table} WHERE doc IN ({marks}) GROUP BY gram",
                batch,
            )
            counts = cursor.fetchall()
            cursor.execute(f"DELETE FROM {grams_table} WHERE doc IN ({marks})", batch)
            cursor.execute(
                f"DELETE FROM {qn(SearchEntry._meta.db_table)} WHERE doc IN ({marks})", batch
            )
        if counts:
            _add_df(pl.DataFrame(counts, schema={"gram": pl.Int64, "df": pl.Int64}, orient="row"))


def _max_subject_id() -> int:
    return Subject.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@dataclass
class IndexSummary:
    indexed: int = 0
    removed: int = 0
    postings: int = 0
    seconds: float = 0.0
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "indexed": self.indexed,
            "removed": self.removed,
            "postings": self.postings,
            "seconds": round(self.seconds, 3),
            **self.details,
        }


@contextmanager
def _deferred_primary_key(model):
    """PostgreSQL, inside the rebuild's transaction, on a table just emptied: drop the primary
    key for the bulk write and add it back afterwards (one sorted index build instead of
    millions of insertions). The table stays locked until commit; a failure rolls it all back."""
    if connection.vendor != "postgresql":
        yield
        return
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'p'",
            [table],
        )
        row = cursor.fetchone()
        if row is None:
            yield
            return
        name, definition = row
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
        )


@transaction.atomic
def rebuild_search_index() -> IndexSummary:
    """Rebuild the whole name-search index from the subject register.

    Guarantees: afterwards every organisation and 个体工商户 (never a natural person) is findable
    by any substring of two or more characters of its current or former normalised names, ranked
    shortest name first; one transaction (searches see the old index or the new one, never a
    half-built one; on PostgreSQL they wait while the tables are rewritten, so run it at set-up
    or off-peak); the watermark is set so that `refresh_search_index` continues from here.
    Memory is bounded by the register's names plus their bigrams (≈1 GB for a million)."""
    started = time.perf_counter()
    now = timezone.now()
    state = _lock_writers()
    top = _max_subject_id()
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in (NameGram, SearchEntry, GramStat):
            table = qn(model._meta.db_table)
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {table}")
            else:
                cursor.execute(f"DELETE FROM {table}")
    subjects, former = _subjects_frame("s.id <= %s", [top])
    t_read = time.perf_counter()
    entries, former = _entries(subjects, former, first_doc=1)
    postings = _postings(entries, former)
    t_grams = time.perf_counter()
    with deferred_indexes(NameGram), _deferred_primary_key(NameGram):
        _write(entries, postings, fresh=True)
    state.max_subject_id = top
    state.next_doc = entries.height + 1
    state.refreshed_at = now
    state.rebuilt_at = now
    state.save()
    summary = IndexSummary(
        indexed=entries.height,
        postings=postings.height,
        seconds=time.perf_counter() - started,
        details={
            "read_seconds": round(t_read - started, 3),
            "bigram_seconds": round(t_grams - t_read, 3),
            "write_seconds": round(time.perf_counter() - t_grams, 3),
        },
    )
    log.info("search index rebuilt: %s", summary.as_dict())
    return summary


def _index(where: str, params: list, state: SearchIndexState) -> tuple[int, int]:
    """(Re-)index the searchable subjects matching `where`; returns (indexed, postings)."""
    subjects, former = _subjects_frame(where, params)
    if not subjects.height:
        return 0, 0
    ids = subjects["subject_id"].to_list()
    old = list(SearchEntry.objects.filter(subject_id__in=ids).values_list("doc", flat=True))
    _remove_docs(old)
    entries, former = _entries(subjects, former, first_doc=state.next_doc)
    postings = _postings(entries, former)
    _write(entries, postings)
    state.next_doc += entries.height
    return entries.height, postings.height


@transaction.atomic
def index_subjects(subject_ids: list[int]) -> IndexSummary:
    """Re-index these subjects now (inside the caller's transaction): a renamed subject is found
    by its new name and former names, a natural person or a removed subject disappears."""
    started = time.perf_counter()
    ids = sorted({int(i) for i in subject_ids})
    if not ids:
        return IndexSummary()
    state = _lock_writers()
    summary = _index_ids(ids, state)
    state.save(update_fields=["next_doc"])
    summary.seconds = time.perf_counter() - started
    return summary


def _index_ids(ids: list[int], state: SearchIndexState) -> IndexSummary:
    summary = IndexSummary()
    for start in range(0, len(ids), 5000):
        batch = ids[start : start + 5000]
        marks = ", ".join(["%s"] * len(batch))
        existing = set(
            Subject.objects.filter(pk__in=batch, kind__in=SEARCHABLE_KINDS).values_list(
                "pk", flat=True
            )
        )
        gone = [i for i in batch if i not in existing]
        docs = list(SearchEntry.objects.filter(subject_id__in=gone).values_list("doc", flat=True))
        _remove_docs(docs)
        summary.removed += len(docs)
        n, p = _index(f"s.id IN ({marks})", batch, state)
        summary.indexed += n
        summary.postings += p
    return summary


@transaction.atomic
def refresh_search_index(*, prune: bool = True) -> IndexSummary:
    """Catch up with writes that bypassed the signals (bulk loads): index the subjects above the
    watermark, re-index those whose name, kind or district changed since the last refresh, and
    (with `prune`) drop entries of subjects that no longer exist. Idempotent; an index that was
    never built is rebuilt."""
    started = time.perf_counter()
    state = _lock_writers()
    if state.rebuilt_at is None:
        return rebuild_search_index()
    now = timezone.now()
    top = _max_subject_id()
    summary = IndexSummary()
    if top > state.max_subject_id:
        n, p = _index("s.id > %s AND s.id <= %s", [state.max_subject_id, top], state)
        summary.indexed += n
        summary.postings += p
    since = (state.refreshed_at or now) - dt.timedelta(minutes=5)  # clock skew between servers
    changed = _changed_subjects(since, state.max_subject_id)
    if changed:
        sub = _index_ids(changed, state)
        summary.indexed += sub.indexed
        summary.removed += sub.removed
        summary.postings += sub.postings
    if prune:
        orphans = _orphan_docs()
        _remove_docs(orphans)
        summary.removed += len(orphans)
    state.max_subject_id = max(state.max_subject_id, top)
    state.refreshed_at = now
    state.save()
    summary.seconds = time.perf_counter() - started
    return summary


def _changed_subjects(since, up_to: int) -> list[int]:
    """Indexed-range subjects updated since `since` whose entry no longer matches them."""
    candidates = list(
        Subject.objects.filter(updated_at__gte=since, pk__lte=up_to).values_list(
            "pk", "kind", "region", "name_norm"
        )
    )
    if not candidates:
        return []
    entries = {
        e.subject_id: e
        for e in SearchEntry.objects.filter(subject_id__in=[c[0] for c in candidates])
    }
    formers: dict[int, list[str]] = {}
    for sid, norm in FormerName.objects.filter(
        subject_id__in=[c[0] for c in candidates]
    ).values_list("subject_id", "name_norm"):
        formers.setdefault(sid, []).append(norm)
    changed = []
    for pk, kind, region, norm in candidates:
        entry = entries.get(pk)
        searchable = kind in SEARCHABLE_KINDS
        if entry is None:
            if searchable:
                changed.append(pk)
            continue
        text = NAME_SEPARATOR.join([norm, *sorted(formers.get(pk, []))])
        if not searchable or (entry.kind, entry.region, entry.text) != (kind, region or "", text):
            changed.append(pk)
    return changed


def _orphan_docs() -> list[int]:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.doc FROM {qn(SearchEntry._meta.db_table)} e "
            f"LEFT JOIN {qn(Subject._meta.db_table)} s ON s.id = e.subject_id WHERE s.id IS NULL"
        )
        return [row[0] for row in cursor.fetchall()]


_CATCH_UP = {"at": 0.0}
# A process checks for missing subjects at most this often (two small queries).
CATCH_UP_SECONDS = 5.0


def _catch_up(*, force: bool = False) -> None:
    """Index a few missing subjects before searching (see LAZY_REFRESH_LIMIT)."""
    now = time.monotonic()
    if not force and now - _CATCH_UP["at"] < CATCH_UP_SECONDS:
        return
    _CATCH_UP["at"] = now
    state = SearchIndexState.objects.filter(pk=1).values_list("max_subject_id", "rebuilt_at")
    state = state.first()
    top = _max_subject_id()
    if state is None or state[1] is None:
        if top and Subject.objects.count() <= LAZY_REFRESH_LIMIT:
            rebuild_search_index()
        return
    if top > state[0] and top - state[0] <= LAZY_REFRESH_LIMIT:
        refresh_search_index(prune=False)


# --------------------------------------------------------------------------- querying


@dataclass(frozen=True)
class NameMatches:
    """Subject ids of one page, best first, and how many matched in all (at most RESULT_CAP;
    `more` says there are more than `total`)."""

    subject_ids: list[int]
    total: int
    more: bool


def _like_pattern(norm: str) -> str:
    escaped = norm.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_names(
    norm: str,
    *,
    region: str | None = None,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 20,
    catch_up: bool = False,
) -> NameMatches:
    """Subjects whose current or former normalised name contains `norm` (already normalised,
    at least two characters), optionally in one district and of one kind, ranked shortest name
    first. At most RESULT_CAP matches are counted and paged. Subjects registered in bulk since
    the last refresh are indexed first when few (checked every CATCH_UP_SECONDS per process,
    or now with `catch_up`)."""
    if len(norm) < MIN_QUERY_CHARS:
        return NameMatches([], 0, False)
    if kind is not None and kind not in SEARCHABLE_KINDS:
        return NameMatches([], 0, False)
    try:
        _catch_up(force=catch_up)
    except Exception:  # a failed catch-up must not break the search itself
        log.exception("search index catch-up failed")
    grams = query_grams(norm[:MAX_QUERY_CHARS])
    qn = connection.ops.quote_name
    grams_table = qn(NameGram._meta.db_table)
    entries_table = qn(SearchEntry._meta.db_table)
    filters, filter_params = "", []
    if region:
        filters += " AND g.region = %s"
        filter_params.append(region)
    if kind:
        filters += " AND g.kind = %s"
        filter_params.append(kind)

    more_in_budget = False
    if len(grams) == 1:
        sql = (
            f"SELECT g.doc FROM {grams_table} g WHERE g.gram = %s{filters} ORDER BY g.doc LIMIT %s"
        )
        params = [grams[0], *filter_params, RESULT_CAP + 1]
    else:
        df = dict(GramStat.objects.filter(gram__in=grams).values_list("gram", "df"))
        if any(df.get(g, 0) == 0 for g in grams):
            return NameMatches([], 0, False)
        ordered = sorted(grams, key=lambda g: (df[g], g))
        first, second = ordered[0], ordered[1]
        more_in_budget = df[first] > SCAN_BUDGET
        sql = (
            f"SELECT c.doc FROM (SELECT g.doc FROM {grams_table} g "
            f"WHERE g.gram = %s{filters} ORDER BY g.doc LIMIT %s) c "
            f"WHERE EXISTS (SELECT 1 FROM {grams_table} g2 WHERE g2.gram = %s AND g2.doc = c.doc) "
            f"AND EXISTS (SELECT 1 FROM {entries_table} e WHERE e.doc = c.doc "
            f"AND e.text LIKE %s ESCAPE '\\') "
            f"ORDER BY c.doc LIMIT %s"
        )
        if citus.is_citus():
            # Citus refuses a correlated EXISTS on the entries (distributed by subject) from a
            # subquery: the same steps as materialised CTEs (docs/scale.md).
            sql = (
                f"WITH c AS MATERIALIZED (SELECT g.doc FROM {grams_table} g "
                f"WHERE g.gram = %s{filters} ORDER BY g.doc LIMIT %s), "
                f"c2 AS MATERIALIZED (SELECT c.doc FROM c WHERE EXISTS (SELECT 1 FROM "
                f"{grams_table} g2 WHERE g2.gram = %s AND g2.doc = c.doc)), "
                f"hit AS MATERIALIZED (SELECT e.doc FROM {entries_table} e JOIN c2 "
                f"ON e.doc = c2.doc WHERE e.text LIKE %s ESCAPE '\\') "
                f"SELECT doc FROM hit ORDER BY doc LIMIT %s"
            )
        params = [first, *filter_params, SCAN_BUDGET, second, _like_pattern(norm), RESULT_CAP + 1]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        docs = [row[0] for row in cursor.fetchall()]
    more = len(docs) > RESULT_CAP
    docs = docs[:RESULT_CAP]
    page = docs[offset : offset + limit] if offset < len(docs) else []
    if not page:
        ids = []
    else:
        by_doc = dict(SearchEntry.objects.filter(doc__in=page).values_list("doc", "subject_id"))
        ids = [by_doc[d] for d in page if d in by_doc]
    # A budget-limited scan that found fewer than the cap may have missed some.
    return NameMatches(ids, len(docs), more or (more_in_budget and len(docs) < RESULT_CAP))


def normalize_query(query: str) -> str:
    """The matching form of what a visitor typed (the same normalisation as the register)."""
    return normalize_name((query or "").strip()[:200])[:MAX_QUERY_CHARS]
