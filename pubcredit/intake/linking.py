"""Linking a submission's rows to subjects, in SQL and in bulk, between the records writer's
classification and its write (intake.loading).

- Rows with an identifier the register does not know yet (the classification found no subject
  for their USCC or for the blind index of their document number) become subjects in bulk
  (INSERT … SELECT … ON CONFLICT DO NOTHING, so two loads creating the same subject meet on its
  unique index; on Citus on the key table's primary key, their key rows written in the same
  transaction: `subjects.keys`), their names normalised in bulk (`register_new_subjects`).
- Rows with only a name (`link_names`): a record already linked under the same name keeps its
  subject; a unique exact normalised-name match links; otherwise candidates are scored
  (subjects.services.find_subject) and anything short of certain goes to the review queue
  (MatchReview, `open_reviews`) with the record's subject left empty. A natural person is never
  linked by name alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pubcredit.catalog.models import SubjectKind
from pubcredit.core import citus, staging
from pubcredit.intake.models import MatchReview, Submission
from pubcredit.intake.preparing import RIC_TYPE, LoadPlan
from pubcredit.records.models import SubjectLink
from pubcredit.subjects import crypto, keys, names
from pubcredit.subjects import tally as subject_tally
from pubcredit.subjects.models import Subject
from pubcredit.subjects.services import find_subject

# A name-only row is linked automatically only to a single candidate with this score
# (subjects.services scores 0–100; 100 means the normalised names are equal or differ only in
# how the legal form or brackets are written).
AUTO_LINK_SCORE = 100.0
# Candidates below this score are not worth showing a reviewer.
REVIEW_MIN_SCORE = 60.0

STAGE_SUBJECT = "intake_stage_subject"
STAGE_SUBJECT_COLUMNS = (
    "kind",
    "org_category",
    "name",
    "name_norm",
    "name_key",
    "uscc",
    "id_cipher",
    "id_index",
    "id_masked",
    "id_type",
    "region",
    "legal_representative",
)


def create_stage(cursor) -> None:
    staging.create_temp_table(
        cursor,
        STAGE_SUBJECT,
        {c: "bin" if c == "id_cipher" else "text" for c in STAGE_SUBJECT_COLUMNS},
    )


def drop_stage(cursor) -> None:
    staging.drop_table(cursor, STAGE_SUBJECT)


# --------------------------------------------------------------------------- subjects


def _with_names(rows: pl.DataFrame) -> pl.DataFrame:
    """Add name_norm (normalised in bulk) to new-subject rows. `name_key`, the fuzzy-search key,
    is left empty ("") here because computing it costs more than the whole insert; the
    subjects app's backfill fills it after the load commits (intake.tasks)."""
    norms = [n[:200] for n in names.normalize_names(rows.get_column("name").to_list())]
    return rows.with_columns(
        pl.Series("name_norm", norms, dtype=pl.String),
        pl.lit("").alias("name_key"),
    )


_SUBJECTS_LOCK = 0x1C7B << 48  # pg_advisory_xact_lock key: registering subjects on Citus


def _citus_insert(cursor, cols: str, key: str, staged: pl.DataFrame) -> str:
    """The register's insert on Citus (docs/scale.md): subjects_subject is distributed by id, so
    its unique constraint on the identifier includes the id and cannot decide a conflict; the
    key table's primary key does (`subjects.keys`, written by `_claim_keys` in the same
    transaction). Loads take one transaction-scoped lock for their registrations (so that two
    loads never wait on each other's keys in opposite orders) and insert only the identifiers
    the key table does not hold yet, found by their keys (`staged`: the rows' keys, `_key`) on
    the shards that hold them."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SUBJECTS_LOCK])
    cursor.execute(
        f"SELECT key FROM {keys.TABLE} WHERE key = ANY(%s)", [staged.get_column("_key").to_list()]
    )
    held_keys = {row[0] for row in cursor.fetchall()}
    held = staged.filter(pl.col("_key").is_in(list(held_keys))).get_column(key).to_list()
    # The list is literal (the statement's two parameters are the timestamps): identifiers and
    # blind indexes are letters and digits only, checked before they are quoted.
    assert all(h.isascii() and h.isalnum() for h in held)
    unheld = f"AND {key} NOT IN ({', '.join(repr(h) for h in held)})" if held else ""
    return f"""INSERT INTO subjects_subject ({cols}, created_at, updated_at)
            SELECT {cols}, %s, %s FROM {STAGE_SUBJECT}
            WHERE {key} IS NOT NULL {unheld} RETURNING kind, region"""


def _claim_keys(cursor, returned: pl.DataFrame, key: str) -> pl.DataFrame:
    """Citus: write the key rows of the subjects just registered (`returned`: the insert's
    RETURNING, `key` and `_new_subject`) in one statement, and roll back the registration of
    any identifier another writer (`subjects.services.register_subject`, which does not take
    the loads' lock) registered meanwhile: the key table's primary key decided, and the rows
    then take that subject (the look-up in `_insert_subjects`). Returns the subjects kept."""
    won = keys.claim_many(
        cursor,
        returned.select(keys.subject_key(key, pl.col(key))).to_series().to_list(),
        returned.get_column("_new_subject").to_list(),
    )
    if len(won) == returned.height:
        return returned
    kept = pl.col("_new_subject").is_in(list(won))
    lost = returned.filter(~kept).get_column("_new_subject").to_list()
    cursor.execute("DELETE FROM subjects_subject WHERE id = ANY(%s)", [lost])
    return returned.filter(kept)


def _insert_subjects(cursor, rows: pl.DataFrame, key: str, now) -> tuple[int, pl.DataFrame]:
    """Register `rows` (STAGE_SUBJECT columns) unless a subject with the same `key` (uscc or
    id_index) exists by now (another load may have registered it meanwhile: ON CONFLICT DO
    NOTHING; on Citus the key table, `_citus_insert` and `_claim_keys`). The subjects created
    are counted in the register's kept counts (subjects.tally) by kind and district, as the
    insert reports them. Returns (subjects created, frame of key → subject id for every row)."""
    staging.write_frame(cursor, STAGE_SUBJECT, STAGE_SUBJECT_COLUMNS, _with_names(rows))
    cols = ", ".join(STAGE_SUBJECT_COLUMNS)
    insert = f"""INSERT INTO subjects_subject ({cols}, created_at, updated_at)
            SELECT {cols}, %s, %s FROM {STAGE_SUBJECT} WHERE 1 = 1
            ON CONFLICT ({key}) DO NOTHING RETURNING kind, region"""
    on_citus = citus.is_citus()
    if on_citus:
        staged = rows.select(key, keys.subject_key(key, pl.col(key)).alias("_key"))
        insert = _citus_insert(cursor, cols, key, staged)
    if staging.is_pg():
        # The new subjects' ids come back with the insert itself (COPY of its RETURNING; Citus
        # plans no COPY of a write, so rows there): no second look-up of every staged key,
        # unless another load registered some of them meanwhile (not returned), which the
        # look-up below then finds.
        schema = {"kind": pl.String, "region": pl.String, key: pl.String, "_new_subject": pl.Int64}
        read = staging.fetch_frame if on_citus else staging.copy_frame
        returned = read(cursor, f"{insert}, {key}, id", [now, now], schema)
        if on_citus:  # the keys first, then the counts (the order register_subject keeps)
            returned = _claim_keys(cursor, returned, key)
        created = returned.height
        subject_tally.add_registered(returned.select("kind", "region"))
        if created == rows.height:
            cursor.execute(f"TRUNCATE {STAGE_SUBJECT}")
            return created, returned.select(key, "_new_subject")
    else:  # SQLite: the inserted rows, then the look-up below
        cursor.execute(insert, [now, now])
        inserted = pl.DataFrame(
            cursor.fetchall(), schema={"kind": pl.String, "region": pl.String}, orient="row"
        )
        created = inserted.height
        subject_tally.add_registered(inserted)
    if on_citus:
        # Every staged identifier by its key (one probe a key, on the shards holding them).
        found = staging.fetch_frame(
            cursor,
            f"SELECT key, subject_id FROM {keys.TABLE} WHERE key = ANY(%s)",
            [staged.get_column("_key").to_list()],
            {"_key": pl.String, "_new_subject": pl.Int64},
        )
        cursor.execute(f"TRUNCATE {STAGE_SUBJECT}")
        return created, staged.join(found, on="_key").select(key, "_new_subject")
    if staging.is_pg():
        join = f"""JOIN LATERAL (
            SELECT id FROM subjects_subject j WHERE j.{key} = s.{key} LIMIT 1) j ON true"""
    else:
        join = f"JOIN subjects_subject j ON j.{key} = s.{key}"
    ids = staging.fetch_frame(
        cursor,
        f"SELECT s.{key}, j.id FROM {STAGE_SUBJECT} s {join}",
        [],
        {key: pl.String, "_new_subject": pl.Int64},
    )
    cursor.execute(f"{'TRUNCATE' if staging.is_pg() else 'DELETE FROM'} {STAGE_SUBJECT}")
    return created, ids


def register_new_subjects(cursor, rows: pl.DataFrame, now) -> tuple[pl.DataFrame, int]:
    """Rows carrying an identifier that the register does not know yet (subject_id still null
    after the classification): register those organisations (by USCC) and persons (by document
    number) in bulk and fill in their subject ids. Returns (rows, subjects created)."""
    created = 0
    orgs = rows.filter(pl.col("subject_id").is_null() & pl.col("uscc").is_not_null())
    if orgs.height:
        orgs = orgs.unique("uscc", keep="first", maintain_order=True).select(
            pl.when(pl.col("subject_kind").is_in(["org", "ind"]))
            .then(pl.col("subject_kind"))
            .when(pl.col("uscc").str.slice(0, 2) == "92")
            .then(pl.lit("ind"))
            .otherwise(pl.lit("org"))
            .alias("kind"),
            pl.col("uscc").str.slice(0, 2).alias("org_category"),
            pl.col("subject_name").alias("name"),
            pl.col("uscc"),
            pl.lit(None, dtype=pl.Binary).alias("id_cipher"),
            pl.lit(None, dtype=pl.String).alias("id_index"),
            pl.lit("").alias("id_masked"),
            pl.lit("").alias("id_type"),
            pl.col("uscc").str.slice(2, 6).alias("region"),
            pl.col("_legal").alias("legal_representative"),
        )
        n, ids = _insert_subjects(cursor, orgs, "uscc", now)
        created += n
        rows = _fill_subject(rows, ids, "uscc")

    people = rows.filter(
        pl.col("subject_id").is_null() & pl.col("uscc").is_null() & pl.col("id_index").is_not_null()
    )
    if people.height:
        people = people.unique("id_index", keep="first", maintain_order=True)
        numbers = people.get_column("_id_number").to_list()
        types = people.get_column("_id_type").to_list()
        people = people.select(
            pl.lit(SubjectKind.PERSON.value).alias("kind"),
            pl.lit("").alias("org_category"),
            pl.col("subject_name").alias("name"),
            pl.lit(None, dtype=pl.String).alias("uscc"),
            pl.Series("id_cipher", [crypto.encrypt_id(n) for n in numbers], dtype=pl.Binary),
            pl.col("id_index"),
            pl.Series("id_masked", [crypto.mask_id(n) for n in numbers], dtype=pl.String),
            pl.col("_id_type").alias("id_type"),
            pl.Series(
                "region",
                [n[:6] if t == RIC_TYPE else "" for n, t in zip(numbers, types, strict=True)],
                dtype=pl.String,
            ),
            pl.lit("").alias("legal_representative"),
        )
        n, ids = _insert_subjects(cursor, people, "id_index", now)
        created += n
        rows = _fill_subject(rows, ids, "id_index")
    return rows, created


def _fill_subject(rows: pl.DataFrame, ids: pl.DataFrame, key: str) -> pl.DataFrame:
    return (
        rows.join(ids, on=key, how="left", maintain_order="left")
        .with_columns(pl.coalesce("subject_id", "_new_subject").alias("subject_id"))
        .drop("_new_subject")
    )


@dataclass
class Review:
    name: str
    kind: str
    candidates: list[dict]

    @property
    def best(self) -> float:
        return max((c["score"] for c in self.candidates), default=0.0)


def _match_names(pending: pl.DataFrame) -> tuple[dict, dict, list]:
    """For name-only rows (distinct subject_name, subject_kind): {(name, kind): (subject id,
    link)} for certain matches, {(name, kind): Review} for uncertain ones, and the (name,
    kind) pairs to register as new subjects (an organisation nothing resembles)."""

    links: dict[tuple[str, str], tuple[int, str]] = {}
    reviews: dict[tuple[str, str], Review] = {}
    to_create: list[tuple[str, str]] = []
    for name, kind in pending.select("subject_name", "subject_kind").unique().iter_rows():
        if not names.normalize_name(name):
            reviews[(name, kind)] = Review(name, kind, [])
            continue
        if kind == SubjectKind.PERSON.value:
            kinds = [kind]
        elif kind:
            kinds = [SubjectKind.ORG.value, SubjectKind.INDIVIDUAL_BUSINESS.value]
        else:
            kinds = None
        match = find_subject(name=name, kinds=kinds, limit=5)
        candidates = [
            {
                "subject": c.subject.pk,
                "name": c.subject.name,
                "score": float(c.score),
                "reason": str(c.reason),
            }
            for c in match.candidates
            if c.score >= REVIEW_MIN_SCORE
        ]
        top = [c for c in candidates if c["score"] >= AUTO_LINK_SCORE]
        certain_kind = kind not in ("", SubjectKind.PERSON.value)
        if certain_kind and match.subject is not None:
            links[(name, kind)] = (match.subject.pk, SubjectLink.NAME.value)
        elif certain_kind and len(top) == 1:
            links[(name, kind)] = (top[0]["subject"], SubjectLink.FUZZY.value)
        elif candidates or not certain_kind:
            # A person is never linked by name alone; an unknown kind is not guessed.
            reviews[(name, kind)] = Review(name, kind, candidates)
        else:
            to_create.append((name, kind))
    return links, reviews, to_create


def link_names(rows: pl.DataFrame, reviews_out: dict) -> tuple[pl.DataFrame, int]:
    """Fill subject_id / subject_link of the name-only rows of `rows` (columns subject_name,
    subject_kind, subject_id, subject_link, old_subject_id, old_subject_name, old_link).
    Returns the rows and the number of subjects created."""
    need = pl.col("subject_id").is_null() & pl.col("uscc").is_null() & pl.col("id_index").is_null()
    # A record already linked (by staff, or earlier) under the same name keeps its subject.
    keep_old = (
        need
        & pl.col("old_subject_id").is_not_null()
        & (pl.col("old_subject_name") == pl.col("subject_name"))
    )
    rows = rows.with_columns(
        pl.when(keep_old)
        .then(pl.col("old_subject_id"))
        .otherwise(pl.col("subject_id"))
        .alias("subject_id"),
        pl.when(keep_old)
        .then(pl.col("old_link"))
        .otherwise(pl.col("subject_link"))
        .alias("subject_link"),
    )
    pending = rows.filter(need & pl.col("subject_id").is_null())
    if pending.height == 0:
        return rows, 0
    links, reviews, to_create = _match_names(pending)
    created = 0
    if to_create:
        new = [
            Subject(
                kind=kind,
                name=name,
                name_norm=names.normalize_name(name)[:200],
                name_key=names.name_keys([names.normalize_name(name)])[0][:200],
            )
            for name, kind in to_create
        ]
        Subject.objects.bulk_create(new)
        created = len(new)
        subject_tally.add_registered(
            pl.DataFrame(
                {"kind": [s.kind for s in new], "region": [s.region for s in new]},
                schema={"kind": pl.String, "region": pl.String},
            )
        )
        for (name, kind), subject in zip(to_create, new, strict=True):
            links[(name, kind)] = (subject.pk, SubjectLink.NEW.value)
    for key, review in reviews.items():
        reviews_out[key] = review
    table = pl.DataFrame(
        {
            "subject_name": [k[0] for k in links],
            "subject_kind": [k[1] for k in links],
            "_sid": [v[0] for v in links.values()],
            "_slink": [v[1] for v in links.values()],
        },
        schema={
            "subject_name": pl.String,
            "subject_kind": pl.String,
            "_sid": pl.Int64,
            "_slink": pl.String,
        },
    )
    rows = rows.join(table, on=["subject_name", "subject_kind"], how="left", maintain_order="left")
    rows = rows.with_columns(
        pl.when(need & pl.col("subject_id").is_null())
        .then(pl.col("_sid"))
        .otherwise(pl.col("subject_id"))
        .alias("subject_id"),
        pl.when(need & pl.col("subject_id").is_null())
        .then(pl.col("_slink").fill_null(SubjectLink.REVIEW.value))
        .otherwise(pl.col("subject_link"))
        .alias("subject_link"),
    ).drop("_sid", "_slink")
    return rows, created


# --------------------------------------------------------------------------- review queue


def open_reviews(
    cursor, plan: LoadPlan, submission: Submission, rows: pl.DataFrame, reviews: dict, now
) -> int:
    """Open (or refresh) one review per written record whose subject awaits confirmation."""
    waiting = rows.filter(pl.col("subject_link") == SubjectLink.REVIEW.value)
    if waiting.height == 0:
        return 0
    keys = waiting.get_column("business_key").to_list()
    ids = {}
    for offset in range(0, len(keys), 500):
        part = keys[offset : offset + 500]
        marks = ", ".join(["%s"] * len(part))
        cursor.execute(
            f"""SELECT business_key, id FROM records_record
                WHERE department_id = %s AND category_id = %s AND business_key IN ({marks})""",
            [plan.department_id, plan.category_id, *part],
        )
        ids.update(dict(cursor.fetchall()))
    wanted = {}
    for key, name, kind in waiting.select(
        "business_key", "subject_name", "subject_kind"
    ).iter_rows():
        review = reviews.get((name, kind))
        if review is not None and key in ids:
            wanted[ids[key]] = review
    existing = {
        r.record_id: r
        for r in MatchReview.objects.filter(
            record_id__in=list(wanted), status=MatchReview.Status.OPEN
        )
    }
    new, changed = [], []
    for record_id, review in wanted.items():
        norm = names.normalize_name(review.name)[:200]
        row = existing.get(record_id)
        if row is None:
            new.append(
                MatchReview(
                    record_id=record_id,
                    submission=submission,
                    subject_name=review.name,
                    name_norm=norm,
                    subject_kind=review.kind,
                    candidates=review.candidates,
                    best_score=review.best,
                    created_at=now,
                )
            )
        else:
            row.submission = submission
            row.subject_name, row.name_norm, row.subject_kind = review.name, norm, review.kind
            row.candidates, row.best_score = review.candidates, review.best
            changed.append(row)
    MatchReview.objects.bulk_create(new, batch_size=1000)
    MatchReview.objects.bulk_update(
        changed,
        ["submission", "subject_name", "name_norm", "subject_kind", "candidates", "best_score"],
        batch_size=1000,
    )
    return len(wanted)
