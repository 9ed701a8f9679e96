"""The publicity rules as one in-memory `RuleSet`, and their vectorised evaluation over a frame of
records (`derive`): tier, sector, regime, window and state of every row, in polars, without a
Python loop per record.

What a record's window follows from (see models.py for the rule tables):
- Categories whose catalogue has a 处罚类别 field (role "penalty_types", i.e. 行政处罚) are judged as
  penalties: the regime in force on the decision date; the deciding department (the department
  whose 统一社会信用代码 is the record's 处罚机关代码, else the submitting department); the sector
  (first matching SectorRule); the tier of each penalty type (first matching TierRule) unless the
  department set the tier (TierOverride); per candidate tier the period (first matching
  PeriodRule); the decision takes the candidate with the longest period (then the longer
  minimum, then the more serious tier). start = decision date, repair_from = start + minimum,
  end = start + maximum.
- Other public categories (行政许可 …) are public while valid: start = decision date (else 有效期自),
  end = the day after 有效期至; no 有效期至, or one on/after the long-term threshold, is open-ended.
  A licence whose 当前状态 is one of the inactive values is 已失效.
- Categories whose 公开属性 is not 公开 are never published.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import polars as pl

from pubcredit.catalog.models import Category, Department, Field, PublicityClass
from pubcredit.publicity.models import (
    TIER_RANK,
    PeriodRule,
    PublicityOption,
    PublicityRegime,
    PublicityState,
    SectorRule,
    Tier,
    TierRule,
)

ROLE_PENALTY = "penalty_types"
ROLE_FINE = "fine_amount"
ROLE_AUTHORITY = "authority_uscc"
ROLE_VIOLATION = "violation_type"
ROLE_STATUS = "status"

MODE_PENALTY = "penalty"
MODE_VALIDITY = "validity"
MODE_HIDDEN = "hidden"

DEFAULT_LONG_TERM_FROM = dt.date(2099, 1, 1)
DEFAULT_INACTIVE_VALUES = ("无效", "2")
# A 处罚类别 cell that was not split into a list by intake may still hold several values.
_TYPE_SEPARATORS = r"[、;；,，/\s]+"
FIELD_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")

# The frame `derive` reads: one row per record.
INPUT_SCHEMA = {
    "record_id": pl.Int64,
    "subject_id": pl.Int64,
    "category_id": pl.Int64,
    "department_id": pl.Int64,
    "status": pl.String,
    "version": pl.Int64,
    "subject_kind": pl.String,
    "decision_date": pl.Date,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
# What `derive` returns (the Publicity columns it decides).
OUTPUT_COLUMNS = (
    "record_id",
    "subject_id",
    "category_id",
    "department_id",
    "tier",
    "tier_source",
    "rule",
    "sector",
    "regime_id",
    "start",
    "repair_from",
    "end",
    "state",
    "record_version",
)


def field_column(code: str) -> str:
    """The input frame's column carrying the text of data[code]."""
    return f"f_{code}"


@dataclass(frozen=True)
class RegimeSpec:
    id: int
    code: str
    effective_from: dt.date
    effective_to: dt.date | None


@dataclass(frozen=True)
class PeriodSpec:
    code: str
    regime_id: int
    tier: str
    sectors: tuple[str, ...]
    departments: tuple[str, ...]
    published: bool
    min_months: int
    max_months: int


@dataclass(frozen=True)
class TierSpec:
    code: str
    tier: str
    penalty_types: tuple[str, ...]
    min_amount: float | None
    max_amount: float | None
    subject_kinds: tuple[str, ...]
    departments: tuple[str, ...]
    sectors: tuple[str, ...]
    regimes: tuple[str, ...]


@dataclass(frozen=True)
class SectorSpec:
    code: str
    sector: str
    departments: tuple[str, ...]
    keywords: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class CategorySpec:
    id: int
    code: str
    mode: str
    penalty_field: str | None = None
    fine_field: str | None = None
    authority_field: str | None = None
    violation_field: str | None = None
    status_field: str | None = None
    field_codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RuleSet:
    regimes: tuple[RegimeSpec, ...]
    periods: tuple[PeriodSpec, ...]
    tiers: tuple[TierSpec, ...]
    sectors: tuple[SectorSpec, ...]
    categories: dict[int, CategorySpec]
    department_codes: dict[int, str]
    department_by_uscc: dict[str, str]
    long_term_from: dt.date = DEFAULT_LONG_TERM_FROM
    inactive_values: tuple[str, ...] = DEFAULT_INACTIVE_VALUES
    sector_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> RuleSet:
        """The rules as stored now (a handful of small tables)."""

        regimes = tuple(
            RegimeSpec(r.pk, r.code, r.effective_from, r.effective_to)
            for r in PublicityRegime.objects.order_by("effective_from")
        )
        periods = tuple(
            PeriodSpec(
                p.code,
                p.regime_id,
                p.tier,
                tuple(p.sectors or ()),
                tuple(p.departments or ()),
                p.published,
                p.min_months,
                p.max_months,
            )
            for p in PeriodRule.objects.order_by("regime__effective_from", "order", "code")
        )
        tiers = tuple(
            TierSpec(
                t.code,
                t.tier,
                tuple(t.penalty_types or ()),
                float(t.min_amount) if t.min_amount is not None else None,
                float(t.max_amount) if t.max_amount is not None else None,
                tuple(t.subject_kinds or ()),
                tuple(t.departments or ()),
                tuple(t.sectors or ()),
                tuple(t.regimes or ()),
            )
            for t in TierRule.objects.filter(active=True).order_by("order", "code")
        )
        sector_rows = list(SectorRule.objects.filter(active=True).order_by("order", "code"))
        sectors = tuple(
            SectorSpec(
                s.code,
                s.sector,
                tuple(s.departments or ()),
                tuple(s.keywords or ()),
                tuple(s.fields or ()),
            )
            for s in sector_rows
        )
        roles: dict[int, dict[str, str]] = {}
        codes: dict[int, set[str]] = {}
        for category_id, code, role in Field.objects.values_list("category_id", "code", "role"):
            codes.setdefault(category_id, set()).add(code)
            if role:
                roles.setdefault(category_id, {})[role] = code
        categories = {}
        for c in Category.objects.all():
            r = roles.get(c.pk, {})
            if c.publicity_class != PublicityClass.PUBLIC:
                mode = MODE_HIDDEN
            elif ROLE_PENALTY in r:
                mode = MODE_PENALTY
            else:
                mode = MODE_VALIDITY
            categories[c.pk] = CategorySpec(
                c.pk,
                c.code,
                mode,
                penalty_field=r.get(ROLE_PENALTY),
                fine_field=r.get(ROLE_FINE),
                authority_field=r.get(ROLE_AUTHORITY),
                violation_field=r.get(ROLE_VIOLATION),
                status_field=r.get(ROLE_STATUS),
                field_codes=frozenset(codes.get(c.pk, ())),
            )
        departments = list(Department.objects.values_list("pk", "code", "uscc"))
        options = dict(PublicityOption.objects.values_list("key", "value"))
        long_term = options.get("long_term_from")
        return cls(
            regimes=regimes,
            periods=periods,
            tiers=tiers,
            sectors=sectors,
            categories=categories,
            department_codes={pk: code for pk, code, _u in departments},
            department_by_uscc={u: code for _pk, code, u in departments if u},
            long_term_from=dt.date.fromisoformat(long_term)
            if long_term
            else DEFAULT_LONG_TERM_FROM,
            inactive_values=tuple(
                str(v) for v in options.get("inactive_status_values", DEFAULT_INACTIVE_VALUES)
            ),
            sector_names={s.sector: s.sector_name for s in sector_rows},
        )

    def extract_codes(self) -> list[str]:
        """The data fields the evaluation reads (to extract from records' JSON)."""
        wanted: set[str] = set()
        for c in self.categories.values():
            if c.mode == MODE_PENALTY:
                wanted |= {
                    f
                    for f in (c.penalty_field, c.fine_field, c.authority_field, c.violation_field)
                    if f
                }
                for s in self.sectors:
                    wanted |= set(s.fields) & c.field_codes
            elif c.mode == MODE_VALIDITY and c.status_field:
                wanted.add(c.status_field)
        return sorted(code for code in wanted if FIELD_CODE.match(code))


# --------------------------------------------------------------------------- helpers


def _first(pairs: list[tuple[pl.Expr, object]], default) -> pl.Expr:
    """The value of the first pair whose condition holds (a when/then chain)."""
    if not pairs:
        return pl.lit(default)
    cond, value = pairs[0]
    expr = pl.when(cond).then(pl.lit(value))
    for cond, value in pairs[1:]:
        expr = expr.when(cond).then(pl.lit(value))
    return expr.otherwise(pl.lit(default))


def _by_category(rs: RuleSet, attr: str, mode: str, dtype=pl.String) -> pl.Expr:
    """Per row, the text of the field that carries `attr` (a CategorySpec attribute) in the
    row's category (of `mode`); null when the category has none."""
    pairs = []
    for c in rs.categories.values():
        if c.mode != mode:
            continue
        code = getattr(c, attr)
        if code and FIELD_CODE.match(code):
            pairs.append((pl.col("category_id") == c.id, pl.col(field_column(code))))
    if not pairs:
        return pl.lit(None, dtype=dtype)
    cond, value = pairs[0]
    expr = pl.when(cond).then(value)
    for cond, value in pairs[1:]:
        expr = expr.when(cond).then(value)
    return expr.otherwise(pl.lit(None, dtype=dtype))


def _in(column: str, values: tuple[str, ...]) -> pl.Expr:
    return pl.col(column).is_in(list(values))


def _months(expr: pl.Expr, months: pl.Expr) -> pl.Expr:
    """`expr` (a date) plus a number of calendar months (clamped to the month's last day)."""
    return expr.dt.offset_by(pl.format("{}mo", months))


def _penalty_types(text: pl.Expr) -> pl.Expr:
    """A 处罚类别 value (JSON list text, or a plain text possibly holding several values) → list
    of types (possibly with empty strings, see `_candidates`). JSON is decoded only when it has
    escapes (values stored with \\uXXXX); otherwise brackets and quotes are simply dropped,
    which is several times faster and exact for the code list's values."""
    raw = text.str.strip_chars()
    escaped = raw.str.starts_with("[") & raw.str.contains("\\", literal=True)
    decoded = (
        pl.when(escaped)
        .then(raw)
        .otherwise(None)
        .str.json_decode(pl.List(pl.String))
        .list.join("|")
    )
    plain = pl.when(escaped).then(decoded).otherwise(raw.str.replace_all(r'[\[\]"]', ""))
    return plain.str.replace_all(_TYPE_SEPARATORS, "|").str.split("|")


def _candidates(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """One row per (record, penalty type) from `_types` (a list column); "其他-…" counts as 其他;
    a record without any type keeps one row with a null type (the default rules judge it)."""
    exploded = frame.select(*columns, "_types").explode("_types").rename({"_types": "_type"})
    t = pl.col("_type").str.strip_chars()
    exploded = exploded.with_columns(
        pl.when(t.str.starts_with("其他") | t.str.starts_with("其它"))
        .then(pl.lit("其他"))
        .when(t == "")
        .then(None)
        .otherwise(t)
        .alias("_type")
    )
    typed = exploded.filter(pl.col("_type").is_not_null())
    untyped = frame.select(*columns).join(typed.select("record_id"), on="record_id", how="anti")
    return pl.concat(
        [typed, untyped.with_columns(pl.lit(None, dtype=pl.String).alias("_type"))],
        how="vertical_relaxed",
    )


# --------------------------------------------------------------------------- evaluation


def derive(
    frame: pl.DataFrame,
    rs: RuleSet,
    today: dt.date,
    overrides: pl.DataFrame | None = None,
    marks: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The Publicity columns (OUTPUT_COLUMNS) of every record in `frame` (INPUT_SCHEMA plus one
    `f_<code>` text column per `rs.extract_codes()`), judged on `today`.

    `overrides`: record_id, override_tier (a department's explicit tier). `marks`: record_id,
    repaired, objection (open publicity marks). Pure: no database access."""
    for code in rs.extract_codes():
        if field_column(code) not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(field_column(code)))
    mode_pairs = [(pl.col("category_id") == c.id, c.mode) for c in rs.categories.values()]
    frame = frame.with_columns(_first(mode_pairs, MODE_HIDDEN).alias("_mode"))

    penalties = frame.filter(pl.col("_mode") == MODE_PENALTY)
    others = frame.filter(pl.col("_mode") != MODE_PENALTY)
    parts = []
    if penalties.height:
        parts.append(_derive_penalties(penalties, rs, overrides))
    if others.height:
        parts.append(_derive_validity(others, rs))
    if not parts:
        return pl.DataFrame(schema=_output_schema())
    out = pl.concat(parts, how="diagonal_relaxed")

    if marks is not None and marks.height:
        out = out.join(marks, on="record_id", how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Boolean).alias("repaired"))
        out = out.with_columns(pl.lit(None, dtype=pl.Boolean).alias("objection"))
    day = pl.lit(today, dtype=pl.Date)
    S = PublicityState
    state = (
        pl.when(pl.col("status") == "withdrawn")
        .then(pl.lit(S.WITHDRAWN.value))
        .when((pl.col("status") == "expired") | pl.col("_inactive").fill_null(False))
        .then(pl.lit(S.EXPIRED.value))
        .when(pl.col("repaired").fill_null(False))
        .then(pl.lit(S.REPAIRED.value))
        .when(~pl.col("_published").fill_null(False) | pl.col("start").is_null())
        .then(pl.lit(S.NOT_PUBLISHED.value))
        .when(pl.col("start") > day)
        .then(pl.lit(S.PENDING.value))
        .when(pl.col("end").is_not_null() & (pl.col("end") <= day))
        .then(pl.lit(S.ENDED.value))
        .when(pl.col("objection").fill_null(False))
        .then(pl.lit(S.OBJECTION.value))
        .otherwise(pl.lit(S.PUBLIC.value))
    )
    return out.with_columns(state.alias("state"), pl.col("version").alias("record_version")).select(
        pl.col(c).cast(t) for c, t in _output_schema().items()
    )


def _output_schema() -> dict:
    return {
        "record_id": pl.Int64,
        "subject_id": pl.Int64,
        "category_id": pl.Int64,
        "department_id": pl.Int64,
        "tier": pl.String,
        "tier_source": pl.String,
        "rule": pl.String,
        "sector": pl.String,
        "regime_id": pl.Int64,
        "start": pl.Date,
        "repair_from": pl.Date,
        "end": pl.Date,
        "state": pl.String,
        "record_version": pl.Int64,
    }


def _derive_validity(frame: pl.DataFrame, rs: RuleSet) -> pl.DataFrame:
    status = _by_category(rs, "status_field", MODE_VALIDITY).str.strip_chars()
    open_ended = pl.col("valid_to").is_null() | (
        pl.col("valid_to") >= pl.lit(rs.long_term_from, dtype=pl.Date)
    )
    return frame.with_columns(
        pl.lit("").alias("tier"),
        pl.lit("").alias("tier_source"),
        pl.lit("").alias("rule"),
        pl.lit("").alias("sector"),
        pl.lit(None, dtype=pl.Int64).alias("regime_id"),
        pl.coalesce("decision_date", "valid_from").alias("start"),
        pl.lit(None, dtype=pl.Date).alias("repair_from"),
        pl.when(open_ended)
        .then(pl.lit(None, dtype=pl.Date))
        .otherwise(pl.col("valid_to").dt.offset_by("1d"))
        .alias("end"),
        (pl.col("_mode") == MODE_VALIDITY).alias("_published"),
        status.is_in(list(rs.inactive_values)).fill_null(False).alias("_inactive"),
    )


def _derive_penalties(
    frame: pl.DataFrame, rs: RuleSet, overrides: pl.DataFrame | None
) -> pl.DataFrame:
    # Regime in force on the decision date; before the first regime, the first one applies.
    date = pl.col("decision_date")
    regime_pairs = [
        (
            (date >= r.effective_from)
            if r.effective_to is None
            else ((date >= r.effective_from) & (date <= r.effective_to)),
            r.code,
        )
        for r in rs.regimes
    ]
    if rs.regimes:
        regime_pairs.append((date < rs.regimes[0].effective_from, rs.regimes[0].code))
    regime_ids = {r.code: r.id for r in rs.regimes}

    # Deciding department: by the 处罚机关 code, else the submitting department.
    submitted = pl.col("department_id").replace_strict(
        rs.department_codes, default=None, return_dtype=pl.String
    )
    authority = (
        _by_category(rs, "authority_field", MODE_PENALTY).str.strip_chars().str.to_uppercase()
    )
    decider = pl.coalesce(
        authority.replace_strict(rs.department_by_uscc, default=None, return_dtype=pl.String),
        submitted,
    )
    frame = frame.with_columns(
        _first(regime_pairs, None).cast(pl.String).alias("_regime"),
        decider.alias("_decider"),
        _by_category(rs, "penalty_field", MODE_PENALTY).alias("_types_text"),
        _by_category(rs, "fine_field", MODE_PENALTY)
        .str.strip_chars()
        .str.replace_all(",", "")
        .cast(pl.Float64, strict=False)
        .alias("_amount"),
    )

    # Sector: first matching rule (deciding department and/or keywords in given fields).
    sector_pairs = []
    for s in rs.sectors:
        cond = pl.lit(True)
        if s.departments:
            cond = cond & _in("_decider", s.departments)
        if s.keywords:
            found = pl.lit(False)
            for c in rs.categories.values():
                if c.mode != MODE_PENALTY:
                    continue
                codes = [f for f in s.fields if f in c.field_codes] or (
                    [c.violation_field] if c.violation_field else []
                )
                for code in codes:
                    if not FIELD_CODE.match(code):
                        continue
                    hit = pl.col(field_column(code)).str.contains_any(list(s.keywords))
                    found = found | ((pl.col("category_id") == c.id) & hit.fill_null(False))
            cond = cond & found
        sector_pairs.append((cond, s.sector))
    frame = frame.with_columns(_first(sector_pairs, "").alias("sector"))

    # One candidate per penalty type (a decision without types gives one null candidate).
    candidates = _candidates(
        frame.with_columns(_penalty_types(pl.col("_types_text")).alias("_types")),
        ["record_id", "subject_kind", "_regime", "_decider", "sector", "_amount"],
    )
    tier_pairs = []
    for i, t in enumerate(rs.tiers):
        cond = pl.lit(True)
        if t.penalty_types:
            cond = cond & _in("_type", t.penalty_types)
        if t.min_amount is not None:
            cond = cond & (pl.col("_amount") >= t.min_amount).fill_null(False)
        if t.max_amount is not None:
            cond = cond & (pl.col("_amount") <= t.max_amount).fill_null(False)
        if t.subject_kinds:
            cond = cond & _in("subject_kind", t.subject_kinds)
        if t.departments:
            cond = cond & _in("_decider", t.departments)
        if t.sectors:
            cond = cond & _in("sector", t.sectors)
        if t.regimes:
            cond = cond & _in("_regime", t.regimes)
        tier_pairs.append((cond, i))
    tier_table = pl.DataFrame(
        {
            "_tier_rule": list(range(len(rs.tiers))),
            "tier": [t.tier for t in rs.tiers],
            "rule": [t.code for t in rs.tiers],
        },
        schema={"_tier_rule": pl.Int64, "tier": pl.String, "rule": pl.String},
    )
    candidates = (
        candidates.with_columns(_first(tier_pairs, None).cast(pl.Int64).alias("_tier_rule"))
        .join(tier_table, on="_tier_rule", how="left")
        .with_columns(
            pl.col("tier").fill_null(Tier.GENERAL.value),
            pl.col("rule").fill_null(""),
            pl.lit("rule").alias("tier_source"),
        )
    )
    if overrides is not None and overrides.height:
        overridden = overrides.select("record_id", "override_tier")
        ids = overridden.get_column("record_id")
        fixed = (
            candidates.filter(pl.col("record_id").is_in(ids.implode()))
            .unique("record_id", keep="first")
            .join(overridden, on="record_id", how="left")
            .with_columns(
                pl.col("override_tier").alias("tier"),
                pl.lit("override").alias("rule"),
                pl.lit("override").alias("tier_source"),
            )
            .drop("override_tier")
        )
        candidates = pl.concat(
            [candidates.filter(~pl.col("record_id").is_in(ids.implode())), fixed]
        )

    # The period of each candidate; the decision keeps the longest.
    period_pairs = []
    for i, p in enumerate(rs.periods):
        regime_code = next((r.code for r in rs.regimes if r.id == p.regime_id), None)
        cond = (pl.col("_regime") == regime_code) & (pl.col("tier") == p.tier)
        if p.sectors:
            cond = cond & _in("sector", p.sectors)
        if p.departments:
            cond = cond & _in("_decider", p.departments)
        period_pairs.append((cond, i))
    period_table = pl.DataFrame(
        {
            "_period": list(range(len(rs.periods))),
            "_published": [p.published for p in rs.periods],
            "_min": [p.min_months for p in rs.periods],
            "_max": [max(p.max_months, p.min_months) for p in rs.periods],
        },
        schema={"_period": pl.Int64, "_published": pl.Boolean, "_min": pl.Int64, "_max": pl.Int64},
    )
    keep = ["record_id", "tier", "tier_source", "rule", "_published", "_min", "_max"]
    candidates = (
        candidates.with_columns(_first(period_pairs, None).cast(pl.Int64).alias("_period"))
        .join(period_table, on="_period", how="left")
        .with_columns(pl.col("_published").fill_null(False))
    )
    # Most decisions have one candidate; only the others are ranked: published first, then the
    # longest maximum, the longest minimum, the more serious tier.
    several = candidates.get_column("record_id").is_duplicated()
    ranked = (
        candidates.filter(several)
        .with_columns(
            (
                pl.col("_published").cast(pl.Int64) * 10**9
                + pl.col("_max").fill_null(0) * 10**5
                + pl.col("_min").fill_null(0) * 10
                + pl.col("tier").replace_strict(TIER_RANK, default=0, return_dtype=pl.Int64)
            ).alias("_score")
        )
        .sort(["record_id", "_score"], descending=[False, True])
        .unique("record_id", keep="first")
    )
    candidates = pl.concat([candidates.filter(~several).select(keep), ranked.select(keep)])
    out = frame.join(candidates, on="record_id", how="left")
    start = pl.col("decision_date")
    return out.with_columns(
        pl.col("_regime")
        .replace_strict(regime_ids, default=None, return_dtype=pl.Int64)
        .alias("regime_id"),
        start.alias("start"),
        _months(start, pl.col("_min").fill_null(0)).alias("repair_from"),
        pl.when(pl.col("_published"))
        .then(_months(start, pl.col("_max").fill_null(0)))
        .otherwise(start)
        .alias("end"),
        pl.lit(False).alias("_inactive"),
    )
