"""Preparing a submission's accepted rows for the records writer (pure polars, no database).

The engine (pubcredit.intake.engine) hands over the accepted rows as a polars frame: per row the
file row number (`__row__`), whether it was reported late (`__late__`), the cleaned value of each
mapped catalogue field in a column named by the field code, and the cell as written in
`<code>__original`. `prepare_rows` builds, per row, the canonical business key, the record's
JSON (`data`; `original` with the cells whose cleaned value differs), the content hash, and the
subject's identity. Document numbers (证件号码) are masked in the JSON, AES-GCM encrypted in
`sealed` and enter the business key and the hash by their keyed blind index, never in clear.

`LoadPlan` is what preparing needs to know about a category (its fields and their roles, the
business key, the receipt date). The demo city prepares its generated rows here too, so its
records are exactly what intake would store.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
import polars as pl
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.catalog.models import Field, SubjectKind
from pubcredit.holidays.services import workdays_between_many
from pubcredit.intake.models import Submission
from pubcredit.records.models import KEY_SEPARATOR
from pubcredit.records.writing import WriteError, record_tails
from pubcredit.subjects import crypto
from pubcredit.subjects.services import person_id_index

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


class LoadError(WriteError):
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

    people = people.with_columns(
        pl.Series(
            "id_index",
            [person_id_index(n, t) for n, t in people.select("_id_number", "_id_type").iter_rows()],
            dtype=pl.String,
        )
    )
    staged = staged.join(people, on=["_id_number", "_id_type"], how="left", maintain_order="left")
    if constants is not None:
        staged = staged.with_columns(record_tails(staged, constants))
    return staged
