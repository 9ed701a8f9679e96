"""Set-based loading of a submission's accepted rows into records.

The engine (pubcredit.intake.engine) hands over the accepted rows as a polars frame: per row the
file row number (`__row__`), whether it was reported late (`__late__`), the cleaned value of each
mapped catalogue field in a column named by the field code, and the cell as written in
`<code>__original`. `load_accepted` writes them without one
ORM save per row, inside the caller's transaction (one per submission: all or nothing), in
chunks of CHUNK_ROWS rows so memory stays bounded whatever the file size:

1. polars builds, per row, the canonical business key, the record's JSON (`data`; `original`
   with the cells whose cleaned value differs), the content hash, and the subject's identity.
   Document numbers (证件号码) are masked in the JSON, AES-GCM encrypted in `sealed` and enter
   the business key and the hash by their keyed blind index, never in clear. A worker thread
   prepares the next chunk while the database works on the current one.
2. The keys, hashes and identifiers (a narrow row) are bulk-written into a TEMP staging table
   (PostgreSQL COPY; SQLite executemany).
3. Subjects are linked in SQL: by 统一社会信用代码, then by the blind index of a person's
   document number. Identifiers not yet in the register become subjects in bulk (INSERT … SELECT
   … ON CONFLICT DO NOTHING, so two loads creating the same subject meet on its unique index),
   their names normalised in bulk. Rows with only a name: a unique exact normalised-name match
   links; otherwise candidates are scored (subjects.services.find_subject) and anything short of
   certain goes to the review queue (MatchReview) with the record's subject left empty. A
   natural person is never linked by name alone.
4. One SQL join classifies every staged row against the current records: new key, same content
   (unchanged: nothing is written), or changed content. New keys are bulk-written straight into
   the records table (COPY), the cheapest write PostgreSQL has. For changed keys the current
   versions are copied into RecordVersion and the new content is written by
   `INSERT … SELECT … ON CONFLICT (category, department, business_key) DO UPDATE … WHERE
   content_hash differs`, which bumps `version`.

Concurrency: a transaction-scoped advisory lock per (category, department) on PostgreSQL (SQLite
serialises writers by itself) makes two loads into the same key space run one after the other,
so the classification is exact and the history copy always sees the version it supersedes; the
unique constraint on (department, category, business_key) makes a duplicate record impossible in
any case: a write that would create one fails and rolls the whole submission back.

Counts: `inserted` and `updated` are the row counts the database reports for those writes,
checked against the classification (a disagreement aborts the transaction rather than report a
wrong figure); `unchanged` is counted by the classifying query.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import os
import signal
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.catalog.models import Field, SubjectKind
from pubcredit.intake.models import MatchReview, Submission
from pubcredit.records.changes import RecordsChanged, records_changed
from pubcredit.records.models import KEY_SEPARATOR, RecordStatus, SubjectLink
from pubcredit.subjects import crypto, names
from pubcredit.subjects.models import Subject

ROW_COLUMN = "__row__"
LATE_COLUMN = "__late__"
# The engine keeps the cell as written beside each cleaned value, in "<code>__original".
ORIGINAL_SUFFIXES = ("__original", "__orig")

# Semantic roles of catalogue fields (Field.role) that loading reads.
ROLE_NAME = "subject_name"
ROLE_KIND = "subject_kind"
ROLE_USCC = "subject_uscc"
ROLE_ID_NUMBER = "subject_id_number"
ROLE_ID_TYPE = "subject_id_type"
# One column holding the USCC of an organisation or the document number of a person, as the
# national 信用承诺 template's 承诺人代码 does: split by the row's subject kind, and sealed like a
# document number on the rows of natural persons.
ROLE_CODE = "subject_code"
ROLE_LEGAL_REP = "legal_representative"
ROLE_DECISION_DATE = "decision_date"
ROLE_VALID_FROM = "valid_from"
ROLE_VALID_TO = "valid_to"

RIC_TYPE = "身份证"
# 双公示: online within 7 working days of the decision (the engine counts `late` the same way).
LATE_AFTER_WORKDAYS = 7
# The engine hands over 行政相对人类别 as the code list's standard value (the Chinese label); the
# stored values themselves are accepted too.
KIND_BY_LABEL = {
    "法人及非法人组织": SubjectKind.ORG.value,
    "个体工商户": SubjectKind.INDIVIDUAL_BUSINESS.value,
    "自然人": SubjectKind.PERSON.value,
} | {value: value for value in SubjectKind.values}
# A name-only row is linked automatically only to a single candidate with this score
# (subjects.services scores 0–100; 100 means the normalised names are equal or differ only in
# how the legal form or brackets are written).
AUTO_LINK_SCORE = 100.0
# Candidates below this score are not worth showing a reviewer.
REVIEW_MIN_SCORE = 60.0
# Rows prepared and written per round (bounds memory; a round is a few set-based statements).
CHUNK_ROWS = 50_000
_COPY_BATCH = 25_000
_ADVISORY_NAMESPACE = 0x1C7A  # "intake" key space for pg_advisory_xact_lock

STAGE = "intake_stage"
STAGE_SUBJECT = "intake_stage_subject"
STAGE_UPDATE = "intake_stage_update"


def _failpoint(name: str) -> None:
    """Fault injection for the kill tests: with PUBCREDIT_INTAKE_FAILPOINT=<name> in the
    environment the process kills itself (SIGKILL, as `kill -9` or the OOM killer would) at that
    point of the load. Without the variable this does nothing."""
    if os.environ.get("PUBCREDIT_INTAKE_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


class LoadError(Exception):
    """The accepted rows cannot be loaded as they are (a bug upstream or a concurrent change,
    not a clerk's mistake); the transaction rolls back and the submission fails with it."""


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class FieldPlan:
    code: str
    type: str
    role: str


@dataclass(frozen=True)
class LoadPlan:
    """What loading needs to know about a category: its fields (sorted by code, so the JSON and
    the content hash do not depend on the catalogue's display order), the business-key fields,
    the field carrying each semantic role, and the receipt date (for `late`)."""

    category_id: int
    department_id: int
    fields: tuple[FieldPlan, ...]
    key_codes: tuple[str, ...]
    roles: dict[str, str]
    receipt_date: dt.date | None = None

    @classmethod
    def for_submission(cls, submission: Submission) -> LoadPlan:
        category = submission.category
        rows = Field.objects.filter(category=category).values_list("code", "type", "role")
        fields = tuple(sorted((FieldPlan(c, t, r or "") for c, t, r in rows), key=lambda f: f.code))
        roles = {f.role: f.code for f in fields if f.role}
        key_codes = tuple(category.business_key or ())
        known = {f.code for f in fields}
        if not key_codes or not set(key_codes) <= known:
            raise LoadError(
                _("信息类别 %(c)s 未定义有效的业务主键字段,无法入库。") % {"c": category.code}
            )
        if ROLE_NAME not in roles:
            raise LoadError(
                _("信息类别 %(c)s 没有标记“主体名称”角色的字段,无法关联主体。")
                % {"c": category.code}
            )
        receipt = timezone.localtime(submission.received_at).date()
        return cls(category.pk, submission.department_id, fields, key_codes, roles, receipt)


@dataclass
class LoadResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    review: int = 0
    subjects_created: int = 0
    timings: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- preparing rows


def _as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A cleaned value as text: what it is compared with (the original cell) and keyed by."""
    if dtype == pl.Date:
        return expr.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return expr.dt.to_string("%Y-%m-%d %H:%M:%S")
    if isinstance(dtype, pl.List):
        return expr.cast(pl.List(pl.String)).list.join(";")
    if dtype == pl.String:
        return expr
    return expr.cast(pl.String)


def _json_string(expr: pl.Expr) -> pl.Expr:
    """A JSON string literal of a text column, escaped by polars string kernels (faster than
    a struct encoder). Control characters other than \\n \\r \\t never reach here: the
    caller checks the chunk and falls back to the encoder when it has any."""
    escaped = (
        expr.str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all('"', '\\"', literal=True)
        .str.replace_all("\n", "\\n", literal=True)
        .str.replace_all("\r", "\\r", literal=True)
        .str.replace_all("\t", "\\t", literal=True)
    )
    return pl.concat_str([pl.lit('"'), escaped, pl.lit('"')])


def _json_member(expr: pl.Expr, dtype: pl.DataType, code: str, fast: bool) -> pl.Expr:
    """`"CODE":<value>` (null when the value is null): one member of the row's JSON object."""
    if fast and dtype == pl.String:
        value = _json_string(expr)
    elif dtype == pl.Date:
        value = pl.concat_str([pl.lit('"'), expr.dt.to_string("%Y-%m-%d"), pl.lit('"')])
    else:
        # Lists (multi-value codes), numbers, anything unusual: polars' JSON encoder.
        value = pl.struct(expr.alias("v")).struct.json_encode().str.slice(5).str.head(-1)
    return pl.concat_str([pl.lit(f'"{code}":'), value])


def _json_object(members: list[pl.Expr]) -> pl.Expr:
    if not members:
        return pl.lit("{}")
    body = pl.concat_str(members, separator=",", ignore_nulls=True)
    return pl.concat_str([pl.lit("{"), body, pl.lit("}")])


_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def _has_control_characters(frame: pl.DataFrame, columns: list[str]) -> bool:
    strings = [c for c in columns if frame.schema[c] == pl.String]
    if not strings:
        return False
    found = frame.select(pl.any_horizontal(pl.col(c).str.contains(_CONTROL) for c in strings).any())
    return bool(found.item())


def _sealed_lookup(values: pl.Series) -> pl.DataFrame:
    """Per distinct clear document number: masked form, blind index, AES-GCM ciphertext.
    Encrypting once per distinct value keeps a million rows cheap; equal ciphertexts for equal
    values reveal nothing the blind index does not."""
    distinct = values.drop_nulls().unique().to_list()
    return pl.DataFrame(
        {
            "clear": distinct,
            "masked": [crypto.mask_id(v) for v in distinct],
            "index": crypto.blind_indexes(distinct),
            "cipher": [
                base64.urlsafe_b64encode(crypto.encrypt_id(v)).decode("ascii") for v in distinct
            ],
        },
        schema={"clear": pl.String, "masked": pl.String, "index": pl.String, "cipher": pl.String},
    )


def content_hashes(texts: pl.Series) -> pl.Series:
    """SHA-1 (hex, first 32 characters) of each text: a change detector, not a secret."""
    sha1 = hashlib.sha1
    values = [sha1(b).hexdigest()[:32] for b in texts.cast(pl.Binary).to_list()]
    return pl.Series("content_hash", values, dtype=pl.String)


def _escape_key(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
        KEY_SEPARATOR, "\\" + KEY_SEPARATOR, literal=True
    )


def _late_flags(dates: pl.Series, receipt: dt.date | None) -> pl.Series:
    """Per row: decision date more than 7 working days before the receipt date."""
    if receipt is None or dates.dtype != pl.Date or dates.len() == 0:
        return pl.Series("late", [False] * dates.len(), dtype=pl.Boolean)
    from pubcredit.holidays.services import workdays_between_many

    distinct = dates.drop_nulls().unique()
    if distinct.len() == 0:
        return pl.Series("late", [False] * dates.len(), dtype=pl.Boolean)
    starts = distinct.to_numpy().astype("datetime64[D]")
    ends = np.full(starts.shape, np.datetime64(receipt, "D"))
    late = workdays_between_many(starts, ends) > LATE_AFTER_WORKDAYS
    table = dict(zip(distinct.to_list(), late.tolist(), strict=True))
    return dates.replace_strict(table, default=False, return_dtype=pl.Boolean).rename("late")


def prepare_rows(
    frame: pl.DataFrame, plan: LoadPlan, constants: dict[str, str] | None = None
) -> pl.DataFrame:
    """Columns of the records and of the staging table for `frame` (accepted rows, see the
    module docstring). Pure polars apart from the per-distinct-value crypto and one hash call
    per row; no database access (it runs in a worker thread: the holiday table must already be
    cached). With `constants` (PostgreSQL), `_tail` holds each record's COPY text after its
    subject columns, so that the database thread only prepends the subject once it is known."""
    schema = frame.schema
    present = [f for f in plan.fields if f.code in schema]
    if ROW_COLUMN not in schema:
        raise LoadError("accepted rows lack the row-number column")
    missing_keys = [c for c in plan.key_codes if c not in schema]
    if len(missing_keys) == len(plan.key_codes):
        raise LoadError(_("文件缺少业务主键字段:%(f)s") % {"f": "、".join(missing_keys)})

    originals = {}
    for f in present:
        for suffix in ORIGINAL_SUFFIXES:
            if f.code + suffix in schema:
                originals[f.code] = f.code + suffix
                break
    keep = [ROW_COLUMN] + [f.code for f in present] + list(originals.values())
    if LATE_COLUMN in schema:
        keep.append(LATE_COLUMN)
    cleaned = frame.select(keep)
    # An empty string is no value (the engine gives null, but be strict about what is stored).
    cleaned = cleaned.with_columns(
        pl.when(pl.col(f.code).str.strip_chars() == "")
        .then(None)
        .otherwise(pl.col(f.code))
        .alias(f.code)
        for f in present
        if schema[f.code] == pl.String
    )

    # Document numbers: masked in the JSON, their ciphertext in `sealed`, their blind index in
    # the key and the hash (never the clear value: a hash of known fields plus an 18-digit number
    # with a guessable birth date would be reversible).
    sealed = [f.code for f in present if f.type == Field.Type.ID_NUMBER]
    mixed = plan.roles.get(ROLE_CODE)
    kind_field = plan.roles.get(ROLE_KIND)
    if mixed in cleaned.schema and kind_field in cleaned.schema and mixed not in sealed:
        person_row = (
            pl.col(kind_field)
            .cast(pl.String)
            .str.strip_chars()
            .replace_strict(KIND_BY_LABEL, default=None, return_dtype=pl.String)
            == SubjectKind.PERSON.value
        ).fill_null(False)
        code_text = pl.col(mixed).cast(pl.String).str.strip_chars().str.to_uppercase()
        cleaned = cleaned.with_columns(
            pl.when(person_row).then(code_text).alias("__code_person"),
            pl.when(~person_row).then(code_text).alias("__code_org"),
        )
        sealed.append(mixed)
    else:
        mixed = None
    for code in sealed:
        source = "__code_person" if code == mixed else code
        lookup = _sealed_lookup(cleaned.get_column(source).cast(pl.String)).rename(
            {
                "clear": code,
                "masked": f"{code}__masked",
                "index": f"{code}__index",
                "cipher": f"{code}__cipher",
            }
        )
        if code == mixed:
            lookup = lookup.rename({code: source})
        cleaned = cleaned.join(lookup, on=source, how="left", maintain_order="left")

    fast = not _has_control_characters(cleaned, [f.code for f in present])
    data_members, original_members = [], []
    for f in present:
        dtype = cleaned.schema[f.code]
        if f.code in sealed:
            masked = pl.col(f"{f.code}__masked")
            if f.code == mixed:  # an organisation's USCC is public: kept as it is
                masked = pl.coalesce(masked, pl.col("__code_org"))
            data_members.append(_json_member(masked, pl.String, f.code, fast))
            continue  # a document number's original is not kept in clear either
        data_members.append(_json_member(pl.col(f.code), dtype, f.code, fast))
        orig = originals.get(f.code)
        if orig is not None:
            text = _as_text(pl.col(f.code), dtype)
            # An empty cell (cleaned value null) is no information worth keeping.
            written = pl.col(orig).str.strip_chars().str.len_bytes() > 0
            differs = written.fill_null(False) & (text.is_null() | (pl.col(orig) != text))
            original_members.append(
                pl.when(differs).then(_json_member(pl.col(orig), pl.String, f.code, fast))
            )
    sealed_members = [_json_member(pl.col(f"{c}__cipher"), pl.String, c, True) for c in sealed]
    index_text = (
        pl.concat_str(
            [pl.concat_str([pl.lit(c + "="), pl.col(f"{c}__index")]) for c in sealed],
            separator=",",
            ignore_nulls=True,
        )
        if sealed
        else pl.lit("")
    )

    # A document number in the key is its blind index (keys are stored in clear and indexed).
    # Several key fields are joined with "|"; an empty part stays empty (CF's key is 文号 +
    # 统一社会信用代码 + 证件号码, of which a row has one of the last two).
    key_exprs = [
        pl.coalesce(pl.col(f"{c}__index"), pl.col("__code_org"))
        if c == mixed
        else pl.col(f"{c}__index")
        if c in sealed
        else (
            _as_text(pl.col(c), cleaned.schema[c])
            if c in cleaned.schema
            else pl.lit(None, dtype=pl.String)
        )
        for c in plan.key_codes
    ]
    if len(key_exprs) == 1:
        business_key = key_exprs[0]
    else:
        business_key = (
            pl.when(pl.all_horizontal([e.is_null() for e in key_exprs]))
            .then(None)
            .otherwise(
                pl.concat_str(
                    [_escape_key(e).fill_null("") for e in key_exprs], separator=KEY_SEPARATOR
                )
            )
        )

    def role(name: str) -> pl.Expr:
        code = plan.roles.get(name)
        if code is None and mixed is not None and name in (ROLE_USCC, ROLE_ID_NUMBER):
            return pl.col("__code_org" if name == ROLE_USCC else "__code_person")
        if code is None or code not in cleaned.schema:
            return pl.lit(None, dtype=pl.String)
        return _as_text(pl.col(code), cleaned.schema[code])

    def role_date(name: str) -> pl.Expr:
        code = plan.roles.get(name)
        if code is None or code not in cleaned.schema or cleaned.schema[code] != pl.Date:
            return pl.lit(None, dtype=pl.Date)
        return pl.col(code)

    uscc = role(ROLE_USCC).str.strip_chars().str.to_uppercase()
    id_number = role(ROLE_ID_NUMBER).str.strip_chars().str.to_uppercase()
    kind = (
        role(ROLE_KIND)
        .str.strip_chars()
        .replace_strict(KIND_BY_LABEL, default=None, return_dtype=pl.String)
        .fill_null(
            pl.when(uscc.str.slice(0, 2) == "92")
            .then(pl.lit(SubjectKind.INDIVIDUAL_BUSINESS.value))
            .when(uscc.is_not_null())
            .then(pl.lit(SubjectKind.ORG.value))
            .when(id_number.is_not_null())
            .then(pl.lit(SubjectKind.PERSON.value))
        )
        .fill_null("")
    )

    staged = cleaned.select(
        pl.col(ROW_COLUMN).cast(pl.Int64).alias("source_row"),
        business_key.alias("business_key"),
        _json_object(data_members).alias("data"),
        _json_object(original_members).alias("original"),
        (
            pl.when(pl.any_horizontal([pl.col(f"{c}__cipher").is_not_null() for c in sealed]))
            .then(_json_object(sealed_members))
            .otherwise(None)
            if sealed
            else pl.lit(None, dtype=pl.String)
        ).alias("sealed"),
        index_text.alias("_index_text"),
        role(ROLE_NAME).str.strip_chars().fill_null("").str.slice(0, 200).alias("subject_name"),
        kind.alias("subject_kind"),
        uscc.alias("uscc"),
        id_number.alias("_id_number"),
        role(ROLE_ID_TYPE).str.strip_chars().fill_null(RIC_TYPE).alias("_id_type"),
        role(ROLE_LEGAL_REP).str.strip_chars().fill_null("").str.slice(0, 100).alias("_legal"),
        role_date(ROLE_DECISION_DATE).alias("decision_date"),
        role_date(ROLE_VALID_FROM).alias("valid_from"),
        role_date(ROLE_VALID_TO).alias("valid_to"),
    )
    keys = staged.get_column("business_key")
    if keys.null_count():
        raise LoadError(_("有通过校验的行缺少业务主键值。"))
    if keys.n_unique() != staged.height:
        raise LoadError(_("通过校验的行中存在重复的业务主键。"))

    hash_input = staged.select(
        pl.concat_str([pl.col("data"), pl.col("_index_text")], separator="\x1f")
    ).to_series()
    late = (
        cleaned.get_column(LATE_COLUMN).cast(pl.Boolean).fill_null(False).alias("late")
        if LATE_COLUMN in cleaned.schema
        else _late_flags(staged.get_column("decision_date"), plan.receipt_date)
    )
    staged = staged.with_columns(content_hashes(hash_input), late).drop("_index_text")

    # A person (no USCC) is found by the blind index of the document number, typed as the
    # subject register keys it.
    is_person = (pl.col("subject_kind") == SubjectKind.PERSON.value) & pl.col("uscc").is_null()
    staged = staged.with_columns(
        pl.when(is_person).then(pl.col("_id_number")).otherwise(None).alias("_id_number")
    )
    people = (
        staged.filter(pl.col("_id_number").is_not_null()).select("_id_number", "_id_type").unique()
    )
    from pubcredit.subjects.services import person_id_index

    people = people.with_columns(
        pl.Series(
            "id_index",
            [person_id_index(n, t) for n, t in people.select("_id_number", "_id_type").iter_rows()],
            dtype=pl.String,
        )
    )
    staged = staged.join(people, on=["_id_number", "_id_type"], how="left", maintain_order="left")
    if constants is not None:
        tail = _record_columns(staged, constants).drop("subject_id", "subject_link")
        staged = staged.with_columns(
            tail.select(_copy_lines(tail, tail.columns)).to_series().alias("_tail")
        )
    return staged


# --------------------------------------------------------------------------- database plumbing


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _types() -> dict[str, str]:
    if _pg():
        return {
            "text": "text",
            "int": "bigint",
            "bool": "boolean",
            "date": "date",
            "ts": "timestamptz",
            "bin": "bytea",
        }
    return {
        "text": "TEXT",
        "int": "INTEGER",
        "bool": "INTEGER",
        "date": "TEXT",
        "ts": "TEXT",
        "bin": "BLOB",
    }


STAGE_COLUMNS = ("pos", "business_key", "content_hash", "uscc", "id_index")
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
# The records' own columns, in the order rows are written (COPY and the update staging table).
RECORD_COLUMNS = (
    "subject_id",
    "subject_link",
    "category_id",
    "department_id",
    "business_key",
    "subject_name",
    "subject_kind",
    "version",
    "content_hash",
    "data",
    "original",
    "sealed",
    "decision_date",
    "valid_from",
    "valid_to",
    "late",
    "status",
    "status_reason",
    "submission_id",
    "source_row",
    "received_at",
    "created_at",
    "updated_at",
)
_RECORD_TYPES = {
    "category_id": "int",
    "department_id": "int",
    "subject_id": "int",
    "version": "int",
    "submission_id": "int",
    "source_row": "int",
    "decision_date": "date",
    "valid_from": "date",
    "valid_to": "date",
    "late": "bool",
    "received_at": "ts",
    "created_at": "ts",
    "updated_at": "ts",
}


def _create_temp_tables(cursor) -> None:
    t = _types()
    ddl = {
        STAGE: f"pos {t['int']} NOT NULL, business_key {t['text']} NOT NULL, "
        f"content_hash {t['text']} NOT NULL, uscc {t['text']}, id_index {t['text']}",
        STAGE_SUBJECT: ", ".join(
            f"{c} {t['bin'] if c == 'id_cipher' else t['text']}" for c in STAGE_SUBJECT_COLUMNS
        ),
        STAGE_UPDATE: ", ".join(f"{c} {t[_RECORD_TYPES.get(c, 'text')]}" for c in RECORD_COLUMNS),
    }
    for table, columns in ddl.items():
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMP TABLE {table} ({columns})")


def _drop_temp_tables(cursor) -> None:
    for table in (STAGE, STAGE_SUBJECT, STAGE_UPDATE):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _copy_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A column in COPY's text format: \\N for NULL, backslash escapes for the backslash and
    the three characters that would break a line or a field."""
    if dtype == pl.Date:
        value = expr.dt.to_string("%Y-%m-%d")
    elif dtype == pl.Binary:
        value = pl.concat_str([pl.lit("\\\\x"), expr.bin.encode("hex")])
    elif dtype == pl.Boolean or dtype.is_numeric():
        value = expr.cast(pl.String)
    else:
        value = (
            expr.cast(pl.String)
            .str.replace_all("\\", "\\\\", literal=True)
            .str.replace_all("\n", "\\n", literal=True)
            .str.replace_all("\r", "\\r", literal=True)
            .str.replace_all("\t", "\\t", literal=True)
        )
    return value.fill_null("\\N")


def _copy_lines(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Expr:
    return pl.concat_str([_copy_text(pl.col(c), frame.schema[c]) for c in columns], separator="\t")


def _copy(cursor, table: str, columns: Sequence[str], lines: pl.Series) -> int:
    """COPY ready-made text lines into `table`; returns the row count PostgreSQL reports."""
    raw = cursor.cursor
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for offset in range(0, lines.len(), _COPY_BATCH):
            block = lines.slice(offset, _COPY_BATCH).str.join("\n").item()
            copy.write((block + "\n").encode())
    return raw.rowcount


def _write(cursor, table: str, columns: Sequence[str], frame: pl.DataFrame) -> int:
    """Bulk-write `frame` (its `columns`, in order) into `table`: COPY on PostgreSQL, batched
    executemany elsewhere. Returns the row count the database reported."""
    columns = list(columns)
    if frame.height == 0:
        return 0
    if _pg():
        return _copy(cursor, table, columns, frame.select(_copy_lines(frame, columns)).to_series())
    frame = frame.select(columns)
    frame = frame.with_columns(
        [pl.col(c).dt.to_string("%Y-%m-%d") for c in columns if frame.schema[c] == pl.Date]
        + [pl.col(c).cast(pl.Int8) for c in columns if frame.schema[c] == pl.Boolean]
    )
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    for offset in range(0, frame.height, 20_000):
        cursor.executemany(sql, frame.slice(offset, 20_000).rows())
    return frame.height


def _fetch_frame(cursor, sql: str, params, schema: dict) -> pl.DataFrame:
    cursor.execute(sql, params)
    return pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")


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


def _insert_subjects(cursor, rows: pl.DataFrame, key: str, now) -> tuple[int, pl.DataFrame]:
    """Register `rows` (STAGE_SUBJECT columns) unless a subject with the same `key` (uscc or
    id_index) exists by now (another load may have registered it meanwhile: ON CONFLICT DO
    NOTHING). Returns (subjects created, frame of key → subject id for every row)."""
    _write(cursor, STAGE_SUBJECT, STAGE_SUBJECT_COLUMNS, _with_names(rows))
    cols = ", ".join(STAGE_SUBJECT_COLUMNS)
    cursor.execute(
        f"""INSERT INTO subjects_subject ({cols}, created_at, updated_at)
            SELECT {cols}, %s, %s FROM {STAGE_SUBJECT} WHERE 1 = 1
            ON CONFLICT ({key}) DO NOTHING""",
        [now, now],
    )
    created = max(cursor.rowcount, 0)
    if _pg():
        join = f"""JOIN LATERAL (
            SELECT id FROM subjects_subject j WHERE j.{key} = s.{key} LIMIT 1) j ON true"""
    else:
        join = f"JOIN subjects_subject j ON j.{key} = s.{key}"
    ids = _fetch_frame(
        cursor,
        f"SELECT s.{key}, j.id FROM {STAGE_SUBJECT} s {join}",
        [],
        {key: pl.String, "_new_subject": pl.Int64},
    )
    cursor.execute(f"{'TRUNCATE' if _pg() else 'DELETE FROM'} {STAGE_SUBJECT}")
    return created, ids


def _register_new_subjects(cursor, rows: pl.DataFrame, now) -> tuple[pl.DataFrame, int]:
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
class _Review:
    name: str
    kind: str
    candidates: list[dict]

    @property
    def best(self) -> float:
        return max((c["score"] for c in self.candidates), default=0.0)


def _match_names(pending: pl.DataFrame) -> tuple[dict, dict, list]:
    """For name-only rows (distinct subject_name, subject_kind): {(name, kind): (subject id,
    link)} for certain matches, {(name, kind): _Review} for uncertain ones, and the (name,
    kind) pairs to register as new subjects (an organisation nothing resembles)."""
    from pubcredit.subjects.services import find_subject

    links: dict[tuple[str, str], tuple[int, str]] = {}
    reviews: dict[tuple[str, str], _Review] = {}
    to_create: list[tuple[str, str]] = []
    for name, kind in pending.select("subject_name", "subject_kind").unique().iter_rows():
        if not names.normalize_name(name):
            reviews[(name, kind)] = _Review(name, kind, [])
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
            reviews[(name, kind)] = _Review(name, kind, candidates)
        else:
            to_create.append((name, kind))
    return links, reviews, to_create


def _link_names(rows: pl.DataFrame, reviews_out: dict) -> tuple[pl.DataFrame, int]:
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


# --------------------------------------------------------------------------- records


def _lock_key_space(cursor, plan: LoadPlan) -> None:
    """PostgreSQL: loads into the same (category, department) wait for each other's commit."""
    if _pg():
        key = (_ADVISORY_NAMESPACE << 48) | (plan.category_id << 24) | plan.department_id
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


_CLASSIFY_SCHEMA = {
    "pos": pl.Int64,
    "subject_id": pl.Int64,
    "record_id": pl.Int64,
    "same": pl.Int64,
    "old_subject_id": pl.Int64,
    "old_subject_name": pl.String,
    "old_link": pl.String,
}


def _classify(cursor, plan: LoadPlan, probe_records: bool) -> pl.DataFrame:
    """Per staged row: the current record of its key if any (with that record's subject when
    the row has only a name) and, for rows that will be written, its subject by identifier.
    `probe_records` False skips the record look-ups (the key space was empty when the load
    began). PostgreSQL streams the answer back through COPY straight into polars."""
    name_only = "s.uscc IS NULL AND s.id_index IS NULL"
    written = "(r.id IS NULL OR r.content_hash <> s.content_hash)"
    record = f"""r.department_id = {int(plan.department_id)}
         AND r.category_id = {int(plan.category_id)}
         AND r.business_key = s.business_key"""
    if not probe_records:
        records = """LEFT JOIN (SELECT NULL AS id, NULL AS content_hash, NULL AS subject_id,
                   NULL AS subject_name, NULL AS subject_link) r ON false"""
    elif _pg():
        records = f"""LEFT JOIN LATERAL (
            SELECT r.id, r.content_hash, r.subject_id, r.subject_name, r.subject_link
            FROM records_record r WHERE {record} LIMIT 1
        ) r ON true"""
    else:
        records = f"LEFT JOIN records_record r ON {record}"
    if _pg():
        # LATERAL … LIMIT 1 keeps every look-up an index probe: the planner's statistics know
        # nothing of the rows this transaction has written, and would otherwise hash-join whole
        # tables once per chunk. A row whose content is unchanged probes nothing more.
        subjects = f"""
        LEFT JOIN LATERAL (
            SELECT id FROM subjects_subject WHERE uscc = s.uscc AND {written} LIMIT 1
        ) ju ON true
        LEFT JOIN LATERAL (
            SELECT id FROM subjects_subject
            WHERE id_index = s.id_index AND s.uscc IS NULL AND {written} LIMIT 1
        ) ji ON true"""
    else:
        subjects = f"""
        LEFT JOIN subjects_subject ju ON ju.uscc = s.uscc AND {written}
        LEFT JOIN subjects_subject ji ON ji.id_index = s.id_index AND s.uscc IS NULL
             AND {written}"""
    sql = f"""SELECT s.pos, COALESCE(ju.id, ji.id), r.id,
               CASE WHEN r.content_hash = s.content_hash THEN 1 ELSE 0 END,
               CASE WHEN {name_only} THEN r.subject_id END,
               CASE WHEN {name_only} THEN r.subject_name END,
               CASE WHEN {name_only} THEN r.subject_link END
        FROM {STAGE} s {records} {subjects}"""
    if _pg():
        buffer = io.BytesIO()
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for block in copy:
                buffer.write(block)
        if buffer.tell() == 0:
            return pl.DataFrame(schema=_CLASSIFY_SCHEMA)
        buffer.seek(0)
        return pl.read_csv(buffer, has_header=False, schema=_CLASSIFY_SCHEMA)
    return _fetch_frame(cursor, sql, [], _CLASSIFY_SCHEMA)


def _record_constants(plan: LoadPlan, submission: Submission, now) -> dict[str, object]:
    """The values every record of this load shares, in the form the backend stores."""
    if _pg():
        received, stamp = submission.received_at.isoformat(sep=" "), now.isoformat(sep=" ")
    else:
        adapt = connection.ops.adapt_datetimefield_value
        received, stamp = adapt(submission.received_at), adapt(now)
    return {
        "category_id": plan.category_id,
        "department_id": plan.department_id,
        "submission_id": submission.pk,
        "received_at": str(received),
        "stamp": str(stamp),
    }


def _record_columns(rows: pl.DataFrame, constants: dict) -> pl.DataFrame:
    """RECORD_COLUMNS of a version-1 record for each row."""
    subject = pl.col("subject_id") if "subject_id" in rows.columns else pl.lit(None, dtype=pl.Int64)
    link = pl.col("subject_link") if "subject_link" in rows.columns else pl.lit(None, pl.String)
    return rows.select(
        subject.alias("subject_id"),
        link.alias("subject_link"),
        pl.lit(constants["category_id"], dtype=pl.Int64).alias("category_id"),
        pl.lit(constants["department_id"], dtype=pl.Int64).alias("department_id"),
        pl.col("business_key"),
        pl.col("subject_name"),
        pl.col("subject_kind"),
        pl.lit(1, dtype=pl.Int64).alias("version"),
        pl.col("content_hash"),
        pl.col("data"),
        pl.col("original"),
        pl.col("sealed"),
        pl.col("decision_date"),
        pl.col("valid_from"),
        pl.col("valid_to"),
        pl.col("late"),
        pl.lit(RecordStatus.ACTIVE.value).alias("status"),
        pl.lit("").alias("status_reason"),
        pl.lit(constants["submission_id"], dtype=pl.Int64).alias("submission_id"),
        pl.col("source_row"),
        pl.lit(constants["received_at"]).alias("received_at"),
        pl.lit(constants["stamp"]).alias("created_at"),
        pl.lit(constants["stamp"]).alias("updated_at"),
    )


def _write_records(cursor, table: str, rows: pl.DataFrame, constants: dict) -> int:
    """Write version-1 record rows (with their subject) into `table`."""
    if rows.height == 0:
        return 0
    if _pg() and "_tail" in rows.columns:
        head = pl.concat_str(
            [
                _copy_text(pl.col("subject_id"), pl.Int64),
                _copy_text(pl.col("subject_link"), pl.String),
                pl.col("_tail"),
            ],
            separator="\t",
        )
        return _copy(cursor, table, RECORD_COLUMNS, rows.select(head).to_series())
    return _write(cursor, table, RECORD_COLUMNS, _record_columns(rows, constants))


def _current_join() -> str:
    """Join each staged update row `u` to its current record `r` (index probes on PostgreSQL,
    see _classify)."""
    if _pg():
        return """JOIN LATERAL (
                SELECT * FROM records_record x
                WHERE x.department_id = u.department_id AND x.category_id = u.category_id
                  AND x.business_key = u.business_key
                LIMIT 1
            ) r ON true"""
    return """JOIN records_record r
              ON r.department_id = u.department_id AND r.category_id = u.category_id
             AND r.business_key = u.business_key"""


def _archive_superseded(cursor, now) -> int:
    cursor.execute(
        f"""INSERT INTO records_recordversion
              (record_id, version, content_hash, data, original, sealed, subject_id,
               subject_name, subject_kind, submission_id, source_row, received_at, created_at,
               superseded_at)
            SELECT r.id, r.version, r.content_hash, r.data, r.original, r.sealed, r.subject_id,
                   r.subject_name, r.subject_kind, r.submission_id, r.source_row, r.received_at,
                   r.updated_at, %s
            FROM {STAGE_UPDATE} u {_current_join()}
            WHERE r.content_hash <> u.content_hash""",
        [now],
    )
    return max(cursor.rowcount, 0)


def _upsert_changed(cursor) -> int:
    """The upsert of changed content: a new version where the hash differs, nothing where it
    does not. Returns the number of records written, as the database counts them."""
    json = "::jsonb" if _pg() else ""
    cols = ", ".join(RECORD_COLUMNS)
    select = ", ".join(
        f"u.{c}{json}" if c in ("data", "original", "sealed") else f"u.{c}" for c in RECORD_COLUMNS
    )
    sql = f"""
        INSERT INTO records_record ({cols})
        SELECT {select} FROM {STAGE_UPDATE} u WHERE 1 = 1
        ON CONFLICT (category_id, department_id, business_key) DO UPDATE SET
            subject_id = excluded.subject_id,
            subject_link = excluded.subject_link,
            subject_name = excluded.subject_name,
            subject_kind = excluded.subject_kind,
            version = records_record.version + 1,
            content_hash = excluded.content_hash,
            data = excluded.data,
            original = excluded.original,
            sealed = excluded.sealed,
            decision_date = excluded.decision_date,
            valid_from = excluded.valid_from,
            valid_to = excluded.valid_to,
            submission_id = excluded.submission_id,
            source_row = excluded.source_row,
            received_at = excluded.received_at,
            updated_at = excluded.updated_at
        WHERE records_record.content_hash <> excluded.content_hash"""
    if _pg():
        cursor.execute(
            f"WITH written AS ({sql} RETURNING version) "
            "SELECT COUNT(*) FILTER (WHERE version > 1), COUNT(*) FROM written"
        )
        updated, total = cursor.fetchone()
        if updated != total:
            raise LoadError("a changed record was missing when its new version was written")
        return int(updated)
    cursor.execute(sql)
    return max(cursor.rowcount, 0)


def _open_reviews(
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


# --------------------------------------------------------------------------- entry point


def _chunks(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for offset in range(0, frame.height, CHUNK_ROWS):
        yield frame.slice(offset, CHUNK_ROWS)


def load_accepted(
    submission: Submission,
    accepted: pl.DataFrame,
    plan: LoadPlan | None = None,
) -> LoadResult:
    """Write `accepted` (see the module docstring) as records of `submission`'s category and
    department. Must run inside `transaction.atomic`: on any exception nothing of it remains.

    Guarantees: a row whose content equals its record's current version changes nothing
    (`unchanged`); changed content bumps `version` and keeps the replaced version in
    RecordVersion; never two records for one business key, whatever runs concurrently; the
    counts are the database's.
    """
    from pubcredit.holidays.services import workdays_between_many

    if not connection.in_atomic_block:
        raise RuntimeError("load_accepted must run inside the submission's transaction")
    if connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 35):
        # INSERT … ON CONFLICT DO UPDATE … WHERE and RETURNING (bulk_create ids).
        raise LoadError(
            _("SQLite 版本过旧(%(v)s),入库需要 3.35 或更高版本。")
            % {"v": connection.Database.sqlite_version}
        )
    plan = plan or LoadPlan.for_submission(submission)
    result = LoadResult()
    timings = result.timings
    now = timezone.now()
    ts = connection.ops.adapt_datetimefield_value(now)
    constants = _record_constants(plan, submission, now)
    reviews: dict[tuple[str, str], _Review] = {}
    # The worker thread must not query: load the holiday table into its cache here.
    workdays_between_many(np.array([], "datetime64[D]"), np.array([], "datetime64[D]"))
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        t = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + t - clock, 3)
        clock = t

    def prepare(chunk: pl.DataFrame | None):
        if chunk is None:
            return None
        return pool.submit(prepare_rows, chunk, plan, constants if _pg() else None)

    with connection.cursor() as cursor, ThreadPoolExecutor(max_workers=1) as pool:
        _lock_key_space(cursor, plan)
        if _pg():
            cursor.execute("SET LOCAL jit = off")  # compiling the joins costs more than it saves
        _create_temp_tables(cursor)
        # A key space with no records yet (a department's first submission of a category, often
        # its backlog) needs no look-ups: every key of the file is new, and the lock above keeps
        # it so until this transaction ends.
        cursor.execute(
            "SELECT 1 FROM records_record WHERE department_id = %s AND category_id = %s LIMIT 1",
            [plan.department_id, plan.category_id],
        )
        probe_records = cursor.fetchone() is not None
        lap("load_setup")
        chunks = _chunks(accepted)
        upcoming = prepare(next(chunks, None))
        while upcoming is not None:
            rows = upcoming.result()
            lap("load_prepare_wait")
            # The worker prepares the next chunk while the database works on this one.
            upcoming = prepare(next(chunks, None))
            rows = rows.with_row_index("pos").with_columns(pl.col("pos").cast(pl.Int64))

            cursor.execute(f"{'TRUNCATE' if _pg() else 'DELETE FROM'} {STAGE}")
            _write(cursor, STAGE, STAGE_COLUMNS, rows)
            lap("load_stage")
            found = _classify(cursor, plan, probe_records)
            lap("load_classify")
            rows = rows.join(found, on="pos", how="left")
            unchanged = int((rows.get_column("same") == 1).sum())
            rows = rows.filter(pl.col("same") != 1)
            rows, created = _register_new_subjects(cursor, rows, ts)
            result.subjects_created += created
            lap("load_subjects")
            rows = rows.with_columns(
                pl.when(pl.col("subject_id").is_null())
                .then(None)
                .when(pl.col("uscc").is_not_null())
                .then(pl.lit(SubjectLink.USCC.value))
                .otherwise(pl.lit(SubjectLink.ID_NUMBER.value))
                .alias("subject_link")
            )
            rows, created = _link_names(rows, reviews)
            result.subjects_created += created
            lap("load_link_names")

            inserts = rows.filter(pl.col("record_id").is_null())
            changes = rows.filter(pl.col("record_id").is_not_null())
            inserted = _write_records(cursor, "records_record", inserts, constants)
            if inserted != inserts.height:
                raise LoadError("the records table took fewer rows than were new")
            _failpoint("records_written")
            lap("load_insert")
            updated = 0
            if changes.height:
                cursor.execute(f"{'TRUNCATE' if _pg() else 'DELETE FROM'} {STAGE_UPDATE}")
                _write_records(cursor, STAGE_UPDATE, changes, constants)
                archived = _archive_superseded(cursor, ts)
                updated = _upsert_changed(cursor)
                if archived != changes.height or updated != changes.height:
                    raise LoadError(
                        _("入库时记录发生了并发变化(预期更新 %(e)d 条,实际 %(w)d 条),请重新处理。")
                        % {"e": changes.height, "w": updated}
                    )
            lap("load_update")
            result.inserted += inserted
            result.updated += updated
            result.unchanged += unchanged
            result.review += _open_reviews(cursor, plan, submission, rows, reviews, now)
            lap("load_reviews")
        _drop_temp_tables(cursor)
    # What derives from the records follows them in this transaction (records.changes).
    records_changed(
        RecordsChanged.loaded(
            submission_id=submission.pk,
            department_id=plan.department_id,
            category_id=plan.category_id,
        )
    )
    lap("derived")
    return result
