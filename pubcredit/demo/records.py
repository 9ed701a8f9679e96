"""The demo city's credit facts: 行政许可 (XK) and 行政处罚 (CF) records, red and black list entries,
and the read models derived from them (publicity, the credit-check flags, the name-search index).

`load_demo_records` runs inside `services.load_demo`, after the subjects are written:

1. the register's (id, kind, 机构类别) are read back; subjects are drawn for the records with
   skewed weights (Pareto: a few companies carry many records, most none; natural persons and
   public bodies rarely), a few licences and penalties per hundred subjects;
2. each record gets a template (pubcredit.demo.record_templates: deciding department, 违法行为类型,
   违法事实, 处罚依据, 处罚类别 from the catalogue's code list, fines in 万元…; licences: 文书, 证书,
   许可编号, validity), a decision date within the last ~4 years (never before the subject was
   established), document numbers such as 淄市监罚〔2025〕123号 numbered per department and year
   in date order;
3. the rows are the frame intake's engine hands over (catalogue field codes, cleaned values) and
   go through `pubcredit.intake.preparing.prepare_rows`, so the data JSON, business key
   (records.models.KEY_SEPARATOR), content hash, masked 证件号码 and sealed ciphertext are exactly
   what intake would store; one demo Submission per department and category (status 已完成, as
   intake leaves it) carries them; the records are written by the records writer
   (`records.writing.insert_records`: COPY on PostgreSQL), like intake's;
4. the records-changed flow (records.changes) runs on them, judged on `as_of`: publicity computes
   their windows under the imported rules (so some penalties are public, some past their minimum
   period and repairable, some ended, and under Order 36 轻微 ones are not published; expired
   licences are not public);
5. list entries (red lists 守信激励 and black lists 严重失信主体名单, types from
   lists/data/list_types.json) are bulk-written with their events; some have expired; black-list
   entries of the sector lists follow a serious penalty of the list's department; then
   `lists.changes.entries_changed` brings the check read model of their subjects up to date.

`rebuild_demo_search_index` rebuilds the portal's name index (`portal.search`) afterwards.

Determinism: the records and entries are a function of the register (itself a function of the
subject count and seed), the seed and `as_of` (the day the demo is judged on: the load date by
default, so that the demo always has current penalties). They use their own random stream
(seeded with [seed, RECORDS_STREAM]), so adding them changed no generated subject. Vectorised:
numpy draws and polars string expressions; the only Python loops are over templates and over
the few persons whose ID numbers are decrypted for sealing.

`remove_demo_records` deletes them again (for `demo --replace`); it refuses when anything other
than the demo's own derived rows refers to a demo record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.demo.record_templates import (
    BLACK_AFTER_PENALTY,
    COURT_LIST,
    ENTRY_PREFIX,
    IND,
    LICENCES,
    ORG,
    PENALTIES,
    PERSON,
    RED_CATEGORIES,
    RED_REASON,
    RED_SUBJECT_WEIGHT,
    RED_WEIGHTS,
)

RECORDS_STREAM = 0x5245_434F  # "RECO": the records' random stream, apart from the subjects'
# Records per subject of the register (on average; skewed, see _draw_subjects).
XK_PER_SUBJECT = 0.04
CF_PER_SUBJECT = 0.025
# List entries per subject.
RED_PER_SUBJECT = 0.005
BLACK_PER_SUBJECT = 0.003
YEARS_BACK = 4
LONG_TERM = dt.date(2099, 12, 31)
DEMO_LABEL = "演示数据"
DEMO_FILE_PREFIX = "demo-city-"
KIND_LABELS = {"org": "法人及非法人组织", "ind": "个体工商户", "person": "自然人"}
_EPOCH = dt.date(1970, 1, 1)

# How likely a subject is to have a record, by 机构类别 ("" = natural person).
_CF_WEIGHT = {
    "91": 1.0,
    "92": 0.7,
    "93": 0.3,
    "12": 0.15,
    "52": 0.2,
    "51": 0.1,
    "11": 0.02,
    "N2": 0.05,
    "N3": 0.05,
    "": 0.04,
}
_XK_WEIGHT = {
    "91": 1.0,
    "92": 0.9,
    "93": 0.3,
    "12": 0.4,
    "52": 0.5,
    "51": 0.1,
    "11": 0.05,
    "N2": 0.1,
    "N3": 0.05,
    "": 0.03,
}


# ----------------------------------------------------------------------------- helpers


def _days(day: dt.date) -> int:
    return (day - _EPOCH).days


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)


def _wan(yuan: pl.Expr) -> pl.Expr:
    """Whole yuan → canonical decimal text in 万元, as intake cleans amounts ("0.5", "12",
    "0.0035")."""
    whole = (yuan // 10_000).cast(pl.String)
    frac = (yuan % 10_000).cast(pl.String).str.zfill(4).str.strip_chars_end("0")
    return (
        pl.when(yuan.is_null())
        .then(None)
        .when(frac == "")
        .then(whole)
        .otherwise(pl.concat_str([whole, pl.lit("."), frac]))
    )


def _money(yuan: pl.Expr) -> pl.Expr:
    """Yuan as a decision writes it: "3500元", "2.5万元"."""
    return (
        pl.when(yuan >= 10_000)
        .then(pl.concat_str([_wan(yuan), pl.lit("万元")]))
        .otherwise(pl.concat_str([yuan.cast(pl.String), pl.lit("元")]))
    )


def _round_yuan(yuan: np.ndarray) -> np.ndarray:
    """Amounts rounded as decisions round them: to 10, 100, 1,000 or 10,000 yuan."""
    step = np.select([yuan < 1_000, yuan < 10_000, yuan < 100_000], [10, 100, 1_000], 10_000)
    return np.maximum(np.round(yuan / step) * step, step).astype(np.int64)


def _log_uniform(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    u = rng.random(len(lo))
    return np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))


def _fill(template: pl.Expr, values: dict[str, pl.Expr]) -> pl.Expr:
    for key, value in values.items():
        template = template.str.replace_all("{" + key + "}", value, literal=True)
    return template


def _numbered(
    frame: pl.DataFrame,
    group: list[str],
    order: list[str],
    rng: np.random.Generator | None = None,
) -> pl.Series:
    """Running numbers within each group, in `order` (document numbers run in date order):
    1, 2, 3…, or with `rng` from a random start per group (the demo holds only part of a
    department's decisions: 〔2025〕137号 rather than 〔2025〕1号)."""
    ranked = (
        frame.select([*group, *order, pl.int_range(pl.len()).alias("_pos")])
        .sort([*group, *order, "_pos"])
        .with_columns((pl.int_range(pl.len()).over(group) + 1).alias("_seq"))
    )
    if rng is not None and ranked.height:
        groups = ranked.select(group).unique(maintain_order=True)
        groups = groups.with_columns(pl.Series("_base", rng.integers(0, 300, groups.height)))
        ranked = ranked.join(groups, on=group, how="left", maintain_order="left").with_columns(
            pl.col("_seq") + pl.col("_base")
        )
    return ranked.sort("_pos")["_seq"]


def _choose_templates(rng: np.random.Generator, subj: pl.DataFrame, templates) -> np.ndarray:
    """Per row, a template whose kinds include the row's kind and whose `match` the name of an
    organisation contains, drawn by weight (Gumbel-max over the eligible ones); -1 where none
    fits (such rows get no record)."""
    m, k = subj.height, len(templates)
    if m == 0 or k == 0:
        return np.full(m, -1, dtype=np.int64)
    kinds = subj["kind"].to_numpy()
    names = subj["name"].fill_null("")
    eligible = np.zeros((m, k), dtype=bool)
    for j, t in enumerate(templates):
        fits = np.isin(kinds, t.kinds)
        if t.match:
            fits &= names.str.contains(t.match).to_numpy() | (kinds == PERSON)
        eligible[:, j] = fits
    weights = np.log(np.array([t.weight for t in templates], dtype=np.float64))
    scores = np.where(eligible, weights[None, :] + rng.gumbel(size=(m, k)), -np.inf)
    pick = scores.argmax(axis=1)
    pick[~eligible.any(axis=1)] = -1
    return pick


def _choose_by_kind(
    rng: np.random.Generator,
    kinds: np.ndarray,
    options: list[tuple[tuple[str, ...], float]],
    categories: np.ndarray | None = None,
    allowed_categories: dict[int, tuple[str, ...]] | None = None,
) -> np.ndarray:
    """Per row, the index of an option whose kinds include the row's kind, drawn by weight;
    -1 where none fits. Draws in a fixed order (kinds, then the category-restricted rows)."""
    out = np.full(len(kinds), -1, dtype=np.int64)
    for kind in (ORG, IND, PERSON):
        rows = np.flatnonzero(kinds == kind)
        fits = [i for i, (ks, w) in enumerate(options) if kind in ks and w > 0]
        if not len(rows) or not fits:
            continue
        plain = [i for i in fits if not (allowed_categories and i in allowed_categories)]
        w = np.array([options[i][1] for i in fits], dtype=np.float64)
        pick = np.array(fits)[rng.choice(len(fits), size=len(rows), p=w / w.sum())]
        if allowed_categories and categories is not None:
            # A restricted option drawn for a row outside its categories falls back to the
            # plain options.
            bad = np.array(
                [
                    i in allowed_categories and categories[r] not in allowed_categories[i]
                    for i, r in zip(pick.tolist(), rows.tolist(), strict=True)
                ],
                dtype=bool,
            )
            if bad.any() and plain:
                pw = np.array([options[i][1] for i in plain], dtype=np.float64)
                pick[bad] = np.array(plain)[rng.choice(len(plain), size=bad.sum(), p=pw / pw.sum())]
            elif bad.any():
                pick[bad] = -1
        out[rows] = pick
    return out


# ----------------------------------------------------------------------------- the register


@dataclass(frozen=True)
class Register:
    """The demo subjects by position: `ids`, `kinds` (org/ind/person), `categories` (机构类别,
    "" for persons), and `details(positions)` → a frame with subject_id, kind, name, uscc,
    id_number (clear, persons only), legal_representative, region, established_on."""

    ids: np.ndarray
    kinds: np.ndarray
    categories: np.ndarray
    details: Callable[[np.ndarray], pl.DataFrame]


DETAIL_SCHEMA = {
    "subject_id": pl.Int64,
    "kind": pl.String,
    "name": pl.String,
    "uscc": pl.String,
    "id_number": pl.String,
    "legal_representative": pl.String,
    "region": pl.String,
    "established_on": pl.Date,
}


def register_from_frame(subjects: pl.DataFrame, first_id: int = 1) -> Register:
    """A Register over generated subjects (pubcredit.demo.generate frames), for tests and tools
    that do without a database."""
    frame = subjects.with_columns(
        pl.Series("subject_id", np.arange(first_id, first_id + len(subjects)))
    )

    def details(positions: np.ndarray) -> pl.DataFrame:
        return frame.select(pl.col(list(DETAIL_SCHEMA)).gather(np.asarray(positions)))

    return Register(
        ids=frame["subject_id"].to_numpy(),
        kinds=frame["kind"].to_numpy(),
        categories=frame["org_category"].fill_null("").to_numpy(),
        details=details,
    )


def _copy_frame(cursor, sql: str, params: list, schema: dict) -> pl.DataFrame:
    """PostgreSQL: a SELECT's rows as a polars frame through COPY … TO STDOUT (CSV)."""
    buf = io.BytesIO()
    with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        for block in copy:
            buf.write(block)
    if not buf.tell():
        return pl.DataFrame(schema=schema)
    buf.seek(0)
    return pl.read_csv(buf, has_header=False, new_columns=list(schema), schema=schema)


_DETAIL_COLUMNS = (
    "id",
    "kind",
    "name",
    "uscc",
    "id_cipher",
    "legal_representative",
    "region",
    "established_on",
)


def register_from_database(first_id: int, last_id: int) -> Register:
    """The Register of the subjects [first_id, last_id], read back from the subject register:
    (id, kind, 机构类别) of all of them, details only for the positions asked for; persons' ID
    numbers decrypted in memory only. PostgreSQL reads with COPY."""
    from pubcredit.subjects import crypto
    from pubcredit.subjects.models import Subject

    table = connection.ops.quote_name(Subject._meta.db_table)
    pg = connection.vendor == "postgresql"
    sql = f"SELECT id, kind, org_category FROM {table} WHERE id BETWEEN %s AND %s ORDER BY id"
    schema = {"id": pl.Int64, "kind": pl.String, "org_category": pl.String}
    with connection.cursor() as cursor:
        if pg:
            frame = _copy_frame(cursor, sql, [first_id, last_id], schema)
        else:
            cursor.execute(sql, [first_id, last_id])
            frame = pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")
    frame = frame.with_columns(pl.col("org_category").fill_null(""))
    ids = frame["id"].to_numpy()

    def details(positions: np.ndarray) -> pl.DataFrame:
        wanted = ids[np.asarray(positions, dtype=np.int64)]
        unique = np.unique(wanted).tolist()
        if pg:
            cols = ", ".join(
                "encode(id_cipher, 'hex')" if c == "id_cipher" else connection.ops.quote_name(c)
                for c in _DETAIL_COLUMNS
            )
            raw_schema = dict(DETAIL_SCHEMA) | {"id_number": pl.String}
            with connection.cursor() as cursor:
                found = _copy_frame(
                    cursor,
                    f"SELECT {cols} FROM {table} WHERE id = ANY(%s)",
                    [unique],
                    raw_schema,
                )
            ciphers = found["id_number"].to_list()
            rows = None
        else:
            rows = []
            for start in range(0, len(unique), 5000):
                batch = unique[start : start + 5000]
                rows.extend(Subject.objects.filter(pk__in=batch).values_list(*_DETAIL_COLUMNS))
            found = pl.DataFrame(
                [(*r[:4], None, *r[5:]) for r in rows], schema=DETAIL_SCHEMA, orient="row"
            )
            ciphers = [r[4] for r in rows]
        # Only persons have a cipher: a few per hundred records.
        clear = [
            None
            if c is None
            else crypto.decrypt_id(bytes.fromhex(c) if isinstance(c, str) else bytes(c))
            for c in ciphers
        ]
        found = found.with_columns(pl.Series("id_number", clear, dtype=pl.String))
        return (
            pl.DataFrame({"subject_id": wanted})
            .join(found, on="subject_id", how="left", maintain_order="left")
            .select(list(DETAIL_SCHEMA))
        )

    return Register(ids, frame["kind"].to_numpy(), frame["org_category"].to_numpy(), details)


def _draw_subjects(
    rng: np.random.Generator,
    register: Register,
    count: int,
    weights: dict[str, float],
    alpha: float | None,
) -> np.ndarray:
    """`count` positions drawn with replacement, skewed: a Pareto(alpha) propensity per subject
    (None: all alike) times the weight of its 机构类别. Sorted, so that a subject's records are
    adjacent."""
    n = len(register.ids)
    if n == 0 or count == 0:
        return np.zeros(0, dtype=np.int64)
    propensity = rng.pareto(alpha, n) + 0.02 if alpha else np.ones(n)
    factor = (
        pl.Series(register.categories, dtype=pl.String)
        .replace_strict(weights, default=0.1, return_dtype=pl.Float64)
        .to_numpy()
    )
    w = propensity * factor
    return np.sort(rng.choice(n, size=count, p=w / w.sum()))


def _decision_days(
    rng: np.random.Generator, established: pl.Series, as_of: dt.date, years: float
) -> np.ndarray:
    """Decision dates within `years` before `as_of`, never within 30 days of establishment."""
    m = len(established)
    top = _days(as_of)
    days = top - (rng.random(m) * years * 365.25).astype(np.int64)
    late = rng.random(m)
    est = established.cast(pl.Int32).fill_null(-(10**6)).to_numpy().astype(np.int64) + 30
    est = np.minimum(est, top)
    moved = est + (late * (top - est)).astype(np.int64)
    return np.where(days < est, moved, days)


# ----------------------------------------------------------------------------- generation


@dataclass(frozen=True)
class DemoRecords:
    """Generated accepted rows per category code ("XK", "CF"): catalogue field codes with the
    cleaned values the intake engine hands over, plus `subject_id`, `department` (code) and
    `serious` (CF: a decision grave enough to put its subject on a sector black list)."""

    frames: dict[str, pl.DataFrame]
    entries: pl.DataFrame


def _subject_columns(prefix: str) -> list[pl.Expr]:
    person = pl.col("kind") == PERSON
    return [
        pl.col("name").alias(f"{prefix}_XDR_MC"),
        pl.col("kind")
        .replace_strict(KIND_LABELS, return_dtype=pl.String)
        .alias(f"{prefix}_XDR_LB"),
        pl.when(person).then(None).otherwise(pl.col("uscc")).alias(f"{prefix}_XDR_SHXYM"),
        pl.when(person | (pl.col("legal_representative").fill_null("") == ""))
        .then(None)
        .otherwise(pl.col("legal_representative"))
        .alias(f"{prefix}_FRDB"),
        pl.when(person).then(pl.lit("身份证")).alias(f"{prefix}_XDR_ZJLX"),
        pl.when(person).then(pl.col("id_number")).alias(f"{prefix}_XDR_ZJHM"),
    ]


def _per_template(templates, values, dtype=pl.String) -> pl.Expr:
    """The value of each row's template (`_tpl`), from one value per template."""
    return pl.col("_tpl").replace_strict(
        list(range(len(templates))), list(values), return_dtype=dtype
    )


def _numbered_documents(
    frame: pl.DataFrame, templates, rng: np.random.Generator, **extra: list[str]
) -> pl.DataFrame:
    """`frame` with each row's `department`, document `_prefix`, `_year` and `_seq` (numbered
    per prefix and year in decision order); `extra` names further sequences: alias → groups."""
    frame = frame.with_columns(
        _per_template(templates, (t.department for t in templates)).alias("department"),
        _per_template(templates, (t.prefix for t in templates)).alias("_prefix"),
        pl.col("_decided").dt.year().alias("_year"),
    )
    return frame.with_columns(
        _numbered(frame, ["_prefix", "_year"], ["_decided"], rng).alias("_seq"),
        *(_numbered(frame, groups, ["_decided"], rng).alias(a) for a, groups in extra.items()),
    )


def _document_number() -> pl.Expr:
    """The decision's document number: prefix〔year〕seq号."""
    return pl.concat_str(
        [
            pl.col("_prefix"),
            pl.lit("〔"),
            pl.col("_year").cast(pl.String),
            pl.lit("〕"),
            pl.col("_seq").cast(pl.String),
            pl.lit("号"),
        ]
    )


def _department_columns(departments: dict, name: str, code: str) -> list[pl.Expr]:
    """The row's department as its name (`name`) and its USCC (`code`)."""
    names = {c: d[0] for c, d in departments.items()}
    usccs = {c: d[1] for c, d in departments.items()}
    return [
        pl.col("department").replace_strict(names, return_dtype=pl.String).alias(name),
        pl.col("department").replace_strict(usccs, return_dtype=pl.String).alias(code),
    ]


def _penalties(
    rng: np.random.Generator, subj: pl.DataFrame, as_of: dt.date, departments: dict
) -> pl.DataFrame:
    templates = [t for t in PENALTIES if t.department in departments]
    m = subj.height
    tpl = _choose_templates(rng, subj, templates)
    # Outcomes (处罚类别 combinations), drawn per template in template order.
    combos: list[tuple[int, tuple[str, ...]]] = []
    combo = np.zeros(m, dtype=np.int64)
    for i, t in enumerate(templates):
        rows = np.flatnonzero(tpl == i)
        base = len(combos)
        combos.extend((i, types) for types, _w in t.outcomes)
        if len(rows):
            w = np.array([w for _t, w in t.outcomes], dtype=np.float64)
            combo[rows] = base + rng.choice(len(t.outcomes), size=len(rows), p=w / w.sum())
    decided = _decision_days(rng, subj["established_on"], as_of, YEARS_BACK)
    inspected = decided - rng.integers(15, 90, m)
    lo = np.array([templates[i].fine[0] for i in np.maximum(tpl, 0)], dtype=np.float64)
    hi = np.array([templates[i].fine[1] for i in np.maximum(tpl, 0)], dtype=np.float64)
    fine = _round_yuan(_log_uniform(rng, lo, hi) * 10_000)
    gains = _round_yuan(np.exp(rng.uniform(np.log(300), np.log(50_000), m)))
    goods = _round_yuan(np.exp(rng.uniform(np.log(500), np.log(200_000), m)))
    detention = rng.integers(3, 11, m)
    late = rng.random(m) < 0.03
    licence_seq = rng.integers(1, 10**6, m)

    t_idx = pl.Series("_tpl", tpl)
    c_types = pl.Series([list(types) for _i, types in combos], dtype=pl.List(pl.String))
    frame = subj.with_columns(
        t_idx,
        pl.Series("_combo", combo),
        pl.Series("_decided", _dates(decided)),
        pl.Series("_inspected", _dates(inspected)),
        pl.Series("_fine", fine),
        pl.Series("_gains", gains),
        pl.Series("_goods", goods),
        pl.Series("_detention", detention),
        pl.Series("__late__", late),
        pl.Series("_lseq", licence_seq),
    ).filter(pl.col("_tpl") >= 0)

    def per_template(values) -> pl.Expr:
        return _per_template(templates, values)

    types = c_types.gather(frame["_combo"])
    has = {
        name: types.list.contains(name).alias(f"_has_{i}")
        for i, name in enumerate(
            (
                "罚款",
                "没收违法所得",
                "没收非法财物",
                "吊销许可证件",
                "暂扣许可证件",
                "责令停产停业",
                "行政拘留",
                "警告",
                "通报批评",
            )
        )
    }
    frame = frame.with_columns(types.alias("CF_CFLB"), *(s for s in has.values()))
    flag = {name: pl.col(s.name) for name, s in has.items()}
    confiscated = (
        pl.when(flag["没收违法所得"])
        .then(pl.col("_gains"))
        .otherwise(pl.when(flag["没收非法财物"]).then(pl.col("_goods")))
    )
    frame = _numbered_documents(frame, templates, rng)
    parts = [
        pl.when(flag["警告"]).then(pl.lit("警告")),
        pl.when(flag["通报批评"]).then(pl.lit("通报批评")),
        pl.when(flag["没收违法所得"]).then(
            pl.concat_str([pl.lit("没收违法所得人民币"), _money(pl.col("_gains"))])
        ),
        pl.when(flag["没收非法财物"]).then(
            pl.concat_str([pl.lit("没收"), per_template(t.goods for t in templates)])
        ),
        pl.when(flag["罚款"]).then(pl.concat_str([pl.lit("罚款人民币"), _money(pl.col("_fine"))])),
        pl.when(flag["暂扣许可证件"]).then(
            pl.concat_str([pl.lit("暂扣"), per_template(t.licence for t in templates)])
        ),
        pl.when(flag["吊销许可证件"]).then(
            pl.concat_str([pl.lit("吊销"), per_template(t.licence for t in templates)])
        ),
        pl.when(flag["责令停产停业"]).then(pl.lit("责令停产停业整顿")),
        pl.when(flag["行政拘留"]).then(
            pl.concat_str([pl.lit("行政拘留"), pl.col("_detention").cast(pl.String), pl.lit("日")])
        ),
    ]
    licence_affected = pl.when(flag["吊销许可证件"] | flag["暂扣许可证件"]).then(
        pl.concat_str(
            [
                per_template(t.licence for t in templates),
                pl.lit("(JY1"),
                pl.col("region"),
                pl.col("_lseq").cast(pl.String).str.zfill(6),
                pl.lit(")"),
            ]
        )
    )
    facts = _fill(
        per_template(t.facts for t in templates),
        {
            "检查日期": pl.col("_inspected").dt.strftime("%Y年%-m月%-d日"),
            "货值": pl.col("_goods").cast(pl.String),
        },
    )
    # Grave enough for a sector black list: revocation, closure or a fine of 100,000 yuan or more.
    serious = (
        flag["吊销许可证件"] | flag["责令停产停业"] | (flag["罚款"] & (pl.col("_fine") >= 100_000))
    )
    out = frame.select(
        pl.col("subject_id"),
        pl.col("department"),
        pl.col("kind"),
        *_subject_columns("CF"),
        _document_number().alias("CF_WSH"),
        per_template(t.violation for t in templates).alias("CF_WFXW"),
        facts.alias("CF_SY"),
        per_template(t.basis for t in templates).alias("CF_YJ"),
        pl.col("CF_CFLB"),
        pl.concat_str(parts, separator=";", ignore_nulls=True).alias("CF_NR"),
        pl.when(flag["罚款"]).then(_wan(pl.col("_fine"))).alias("CF_NR_FK"),
        _wan(confiscated).alias("CF_NR_WFFF"),
        licence_affected.alias("CF_NR_ZKDX"),
        pl.col("_decided").alias("CF_JDRQ"),
        pl.col("_decided").dt.offset_by("1y").alias("CF_YXQ"),
        *_department_columns(departments, "CF_CFJG", "CF_CFJGDM"),
        *_department_columns(departments, "CF_SJLY", "CF_SJLYDM"),
        pl.col("__late__"),
        serious.alias("serious"),
    )
    return out


def _licences(
    rng: np.random.Generator, subj: pl.DataFrame, as_of: dt.date, departments: dict
) -> pl.DataFrame:
    templates = [t for t in LICENCES if t.department in departments]
    m = subj.height
    tpl = _choose_templates(rng, subj, templates)
    content_pick = rng.integers(0, 1 << 30, m)
    decided = _decision_days(rng, subj["established_on"], as_of, YEARS_BACK + 1)
    inactive = rng.random(m) < 0.04
    late = rng.random(m) < 0.03
    frame = subj.with_columns(
        pl.Series("_tpl", tpl),
        pl.Series("_decided", _dates(decided)),
        pl.Series("_inactive", inactive),
        pl.Series("__late__", late),
        pl.Series("_pick", content_pick),
    ).filter(pl.col("_tpl") >= 0)

    def per_template(values, dtype=pl.String) -> pl.Expr:
        return _per_template(templates, values, dtype)

    frame = _numbered_documents(frame, templates, rng, _nseq=["_tpl"])
    # Contents: one of the template's variants.
    contents = pl.Series([list(t.contents) for t in templates], dtype=pl.List(pl.String))
    n_contents = pl.Series([len(t.contents) for t in templates], dtype=pl.Int64)
    frame = frame.with_columns(
        contents.gather(frame["_tpl"]).alias("_contents"),
        (pl.col("_pick") % n_contents.gather(frame["_tpl"])).alias("_ci"),
    )
    seq = pl.col("_nseq").cast(pl.String)
    number = _fill(
        per_template(t.number for t in templates),
        {
            "region": pl.col("region"),
            "uscc": pl.col("uscc").fill_null(""),
            "year": pl.col("_year").cast(pl.String),
            "yy": pl.col("_year").cast(pl.String).str.slice(2, 2),
            "ymd": pl.col("_decided").dt.strftime("%Y%m%d"),
            "seq4": seq.str.zfill(4),
            "seq5": seq.str.zfill(5),
            "seq6": seq.str.zfill(6),
        },
    )
    years = per_template((t.years or 0 for t in templates), pl.Int64)
    valid_to = (
        pl.when(years == 0)
        .then(pl.lit(LONG_TERM))
        .otherwise(
            pl.col("_decided").dt.offset_by(pl.concat_str([years.cast(pl.String), pl.lit("y")]))
            - pl.duration(days=1)
        )
    )
    return frame.select(
        pl.col("subject_id"),
        pl.col("department"),
        pl.col("kind"),
        *_subject_columns("XK"),
        per_template(t.title for t in templates).alias("XK_XKWS"),
        _document_number().alias("XK_WSH"),
        per_template(t.category for t in templates).alias("XK_XKLB"),
        per_template(t.certificate for t in templates).alias("XK_XKZS"),
        number.alias("XK_XKBH"),
        pl.col("_contents").list.get(pl.col("_ci")).alias("XK_NR"),
        pl.col("_decided").alias("XK_JDRQ"),
        pl.col("_decided").alias("XK_YXQZ"),
        valid_to.cast(pl.Date).alias("XK_YXQZI"),
        *_department_columns(departments, "XK_XKJG", "XK_XKJGDM"),
        pl.when(pl.col("_inactive")).then(pl.lit("无效")).otherwise(pl.lit("有效")).alias("XK_ZT"),
        *_department_columns(departments, "XK_LYDW", "XK_LYDWDM"),
        pl.col("__late__"),
    )


@dataclass(frozen=True)
class ListTypeInfo:
    code: str
    kind: str
    subject_kinds: tuple[str, ...]
    validity_months: int | None
    authority: str  # department code or ""
    authority_name: str
    legal_basis: str


ENTRY_SCHEMA = {
    "subject_id": pl.Int64,
    "subject_name": pl.String,
    "list_type": pl.String,
    "authority": pl.String,
    "basis": pl.String,
    "document_number": pl.String,
    "decided_on": pl.Date,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "status": pl.String,
}


def _entries(
    rng: np.random.Generator,
    register: Register,
    penalties: pl.DataFrame,
    types: dict[str, ListTypeInfo],
    as_of: dt.date,
) -> pl.DataFrame:
    n = len(register.ids)
    frames = []
    top = _days(as_of)
    # ---- red lists: organisations (rarely persons) without penalties, over the last 3 years.
    n_red = round(n * RED_PER_SUBJECT)
    red_codes = [c for c in RED_WEIGHTS if c in types and types[c].kind == "red"]
    punished = (
        penalties["subject_id"].unique() if penalties.height else pl.Series([], dtype=pl.Int64)
    )
    if n_red and red_codes:
        drawn = np.unique(_draw_subjects(rng, register, n_red * 2, RED_SUBJECT_WEIGHT, None))
        clean = ~pl.Series(register.ids[drawn]).is_in(punished.implode()).to_numpy()
        candidates = drawn[clean][:n_red]
        options = [
            (types[c].subject_kinds or (ORG, IND, PERSON), RED_WEIGHTS[c]) for c in red_codes
        ]
        restricted = {i: RED_CATEGORIES[c] for i, c in enumerate(red_codes) if c in RED_CATEGORIES}
        pick = _choose_by_kind(
            rng, register.kinds[candidates], options, register.categories[candidates], restricted
        )
        decided = top - (rng.random(len(candidates)) * 3 * 365.25).astype(np.int64)
        keep = pick >= 0
        if keep.any():
            subj = register.details(candidates[keep])
            codes = pl.Series([red_codes[i] for i in pick[keep].tolist()], dtype=pl.String)
            frames.append(
                subj.select(
                    "subject_id", pl.col("name").alias("subject_name"), "kind"
                ).with_columns(
                    codes.alias("list_type"),
                    pl.Series("decided_on", _dates(decided[keep])),
                    codes.replace_strict(RED_REASON, default="经评选认定").alias("_reason"),
                )
            )
    # ---- black lists: a share after a serious penalty of the list's department; the rest are
    # 失信被执行人 identified by the court.
    n_black = round(n * BLACK_PER_SUBJECT)
    if n_black:
        sector = {d: c for d, c in BLACK_AFTER_PENALTY.items() if c in types}
        after = penalties.filter(pl.col("serious") & pl.col("department").is_in(list(sector)))
        after = after.with_columns(
            pl.col("department").replace_strict(sector, return_dtype=pl.String).alias("list_type")
        )
        accepted = pl.DataFrame(
            [
                (code, kind)
                for code, t in types.items()
                for kind in (t.subject_kinds or (ORG, IND, PERSON))
            ],
            schema={"list_type": pl.String, "kind": pl.String},
            orient="row",
        )
        after = after.join(accepted, on=["list_type", "kind"], how="semi", maintain_order="left")
        order = rng.permutation(after.height)[: int(n_black * 0.4)]
        after = after.select(pl.all().gather(order))
        delay = rng.integers(20, 90, after.height)
        if after.height:
            penalised = after["CF_JDRQ"].cast(pl.Int32).to_numpy().astype(np.int64)
            frames.append(
                after.select(
                    "subject_id", pl.col("CF_XDR_MC").alias("subject_name"), "kind", "list_type"
                ).with_columns(
                    pl.Series("decided_on", _dates(np.minimum(penalised + delay, top))),
                    pl.concat_str(
                        [
                            pl.lit("因“"),
                            after["CF_WFXW"],
                            pl.lit("”受到行政处罚("),
                            after["CF_WSH"],
                            pl.lit("),情节严重,依法列入严重失信主体名单"),
                        ]
                    ).alias("_reason"),
                )
            )
        n_court = min(n_black - after.height, n)
        if n_court > 0 and COURT_LIST in types:
            positions = np.sort(rng.choice(n, size=n_court, replace=False))
            decided = top - (rng.random(n_court) * 3 * 365.25).astype(np.int64)
            subj = register.details(positions)
            frames.append(
                subj.select(
                    "subject_id", pl.col("name").alias("subject_name"), "kind"
                ).with_columns(
                    pl.lit(COURT_LIST).alias("list_type"),
                    pl.Series("decided_on", _dates(decided)),
                    pl.lit("被执行人具有履行能力而拒不履行生效法律文书确定的给付义务").alias(
                        "_reason"
                    ),
                )
            )
    if not frames:
        return pl.DataFrame(schema=ENTRY_SCHEMA)
    entries = pl.concat(frames, how="diagonal_relaxed").unique(
        ["subject_id", "list_type"], keep="first", maintain_order=True
    )
    months = {c: t.validity_months for c, t in types.items()}
    entries = entries.with_columns(
        pl.col("list_type")
        .replace_strict(months, default=None, return_dtype=pl.Int64)
        .alias("_months"),
        pl.col("decided_on").dt.year().alias("_year"),
    )
    valid_to = (
        pl.when(pl.col("_months").is_null())
        .then(None)
        .otherwise(
            pl.col("decided_on").dt.offset_by(
                pl.concat_str([pl.col("_months").cast(pl.String), pl.lit("mo")])
            )
            - pl.duration(days=1)
        )
    )
    entries = entries.with_columns(
        _numbered(entries, ["list_type", "_year"], ["decided_on"], rng).alias("_seq"),
        valid_to.cast(pl.Date).alias("valid_to"),
    )
    prefixes = {c: ENTRY_PREFIX.get(c, "淄信用认") for c in types}
    court = pl.concat_str(
        [
            pl.lit("("),
            pl.col("_year").cast(pl.String),
            pl.lit(")鲁03执"),
            pl.col("_seq").cast(pl.String),
            pl.lit("号"),
        ]
    )
    other = pl.concat_str(
        [
            pl.col("list_type").replace_strict(prefixes, return_dtype=pl.String),
            pl.lit("〔"),
            pl.col("_year").cast(pl.String),
            pl.lit("〕"),
            pl.col("_seq").cast(pl.String),
            pl.lit("号"),
        ]
    )
    bases = {c: t.legal_basis for c, t in types.items()}
    authorities = {c: t.authority for c, t in types.items()}
    day = pl.lit(as_of, dtype=pl.Date)
    return entries.select(
        pl.col("subject_id"),
        pl.col("subject_name"),
        pl.col("list_type"),
        pl.col("list_type").replace_strict(authorities, return_dtype=pl.String).alias("authority"),
        pl.concat_str(
            [
                pl.col("_reason"),
                pl.lit("。依据:"),
                pl.col("list_type").replace_strict(bases, return_dtype=pl.String),
            ]
        ).alias("basis"),
        pl.when(pl.col("list_type") == COURT_LIST)
        .then(court)
        .otherwise(other)
        .alias("document_number"),
        pl.col("decided_on"),
        pl.col("decided_on").alias("valid_from"),
        pl.col("valid_to"),
        pl.when(pl.col("valid_to").is_not_null() & (pl.col("valid_to") < day))
        .then(pl.lit("expired"))
        .otherwise(pl.lit("published"))
        .alias("status"),
    )


def generate_records(
    register: Register,
    *,
    seed: int,
    as_of: dt.date,
    departments: dict[str, tuple[str, str]],
    list_types: dict[str, ListTypeInfo],
) -> DemoRecords:
    """The demo city's licences, penalties and list entries for `register`, judged on `as_of`.
    `departments`: code → (name, 统一社会信用代码) of the seeded departments (templates of
    departments that are missing are skipped); `list_types`: code → ListTypeInfo. Pure: same
    inputs, same frames."""
    rng = np.random.default_rng([seed, RECORDS_STREAM])
    n = len(register.ids)
    cf_pos = _draw_subjects(rng, register, round(n * CF_PER_SUBJECT), _CF_WEIGHT, 2.0)
    xk_pos = _draw_subjects(rng, register, round(n * XK_PER_SUBJECT), _XK_WEIGHT, 2.5)
    cf = _penalties(rng, register.details(cf_pos), as_of, departments)
    xk = _licences(rng, register.details(xk_pos), as_of, departments)
    entries = _entries(rng, register, cf, list_types, as_of)
    return DemoRecords({"XK": xk, "CF": cf}, entries)


# ----------------------------------------------------------------------------- loading


def _departments() -> dict[str, tuple[str, str]]:
    from pubcredit.catalog.models import Department

    return {
        code: (name, uscc)
        for code, name, uscc in Department.objects.filter(active=True).values_list(
            "code", "name", "uscc"
        )
    }


def _list_types() -> tuple[dict[str, ListTypeInfo], dict[str, int]]:
    from pubcredit.lists.models import ListType

    info, ids = {}, {}
    for lt in ListType.objects.filter(active=True).select_related("authority"):
        info[lt.code] = ListTypeInfo(
            code=lt.code,
            kind=lt.kind,
            subject_kinds=tuple(lt.subject_kinds or ()),
            validity_months=lt.default_validity_months,
            authority=lt.authority.code if lt.authority_id else "",
            authority_name=lt.authority_name,
            legal_basis=lt.legal_basis,
        )
        ids[lt.code] = lt.pk
    return info, ids


def ensure_rules(principal: Principal) -> list[str]:
    """Import the publicity rules and the list types when none are loaded (what the records and
    entries are judged by). Returns what was imported."""
    from pubcredit.lists.models import ListType
    from pubcredit.lists.services import import_list_types
    from pubcredit.publicity.models import PublicityRegime
    from pubcredit.publicity.rulefile import import_rules

    done = []
    if not PublicityRegime.objects.exists():
        import_rules(principal)
        done.append("publicity_rules")
    if not ListType.objects.exists():
        import_list_types(principal)
        done.append("list_types")
    return done


def _submissions(category, frame: pl.DataFrame, dept_ids: dict, now) -> dict[str, int]:
    """One finished demo Submission per department of `frame` (bulk_create: no signals, the
    records do not exist yet), counted as intake counts them. Returns department code → id."""
    from pubcredit.intake.models import Submission

    counts = (
        frame.group_by("department")
        .agg(
            pl.len().alias("rows"),
            pl.col("late").sum().alias("late"),
            pl.col("content_hash").sort().str.join("").alias("hashes"),
        )
        .sort("department")
    )
    codes, objs = [], []
    for code, rows, late, hashes in counts.iter_rows():
        codes.append(code)
        objs.append(
            Submission(
                department_id=dept_ids[code],
                category=category,
                channel=Submission.Channel.API,
                filename=f"{DEMO_FILE_PREFIX}{code}-{category.code}.json",
                # What stands for the file's digest: the rows' content hashes.
                sha256=hashlib.sha256(hashes.encode("ascii")).hexdigest(),
                status=Submission.Status.DONE,
                progress=100,
                attempts=1,
                received_at=now,
                started_at=now,
                finished_at=now,
                submitted_by_label=DEMO_LABEL,
                rows=rows,
                accepted=rows,
                inserted=rows,
                late=late,
            )
        )
    created = Submission.objects.bulk_create(objs)
    return {code: obj.pk for code, obj in zip(codes, created, strict=True)}


def _record_rows(generated: DemoRecords, dept_ids: dict, now) -> tuple[pl.DataFrame, dict]:
    """The records of every category through intake's preparation, as the records writer takes
    them (records.writing.insert_records), with ids reserved up front. Returns the rows and
    counts per category."""
    from pubcredit.catalog.models import Category
    from pubcredit.core.bulkload import reserve_ids
    from pubcredit.intake.models import Submission
    from pubcredit.intake.preparing import ROW_COLUMN, LoadPlan, prepare_rows
    from pubcredit.records.models import Record
    from pubcredit.records.writing import timestamp_text

    total = sum(f.height for f in generated.frames.values())
    ids = reserve_ids(Record, total)
    counts = {}
    offset = ids.start
    stamp = timestamp_text(now)
    written = []
    for code, frame in generated.frames.items():
        if frame.height == 0:
            counts[code] = 0
            continue
        category = Category.objects.get(code=code)
        plan = LoadPlan.for_submission(
            Submission(category=category, department_id=0, received_at=now)
        )
        # Rows numbered per department as in that department's file (header = row 1).
        frame = frame.with_columns(
            (pl.int_range(pl.len()).over("department") + 2).alias(ROW_COLUMN)
        )
        staged = prepare_rows(frame, plan)  # keeps the row order
        staged = staged.with_columns(frame["subject_id"], frame["department"])
        submissions = _submissions(category, staged, dept_ids, now)
        person = pl.col("subject_kind") == PERSON
        rows = staged.select(
            pl.Series("id", np.arange(offset, offset + staged.height)),
            "subject_id",
            pl.when(person).then(pl.lit("id")).otherwise(pl.lit("uscc")).alias("subject_link"),
            pl.lit(category.pk, dtype=pl.Int64).alias("category_id"),
            pl.col("department")
            .replace_strict(dept_ids, return_dtype=pl.Int64)
            .alias("department_id"),
            "business_key",
            "subject_name",
            "subject_kind",
            pl.lit(1, dtype=pl.Int64).alias("version"),
            "content_hash",
            "data",
            "original",
            "sealed",
            "decision_date",
            "valid_from",
            "valid_to",
            "late",
            pl.lit("active").alias("status"),
            pl.lit("").alias("status_reason"),
            pl.col("department")
            .replace_strict(submissions, return_dtype=pl.Int64)
            .alias("submission_id"),
            "source_row",
            pl.lit(stamp).alias("received_at"),
            pl.lit(stamp).alias("created_at"),
            pl.lit(stamp).alias("updated_at"),
        )
        written.append(rows)
        offset += staged.height
        counts[code] = staged.height
    rows = pl.concat(written, how="vertical_relaxed") if written else pl.DataFrame()
    return rows, counts


EVENT_COLUMNS = ("entry_id", "from_status", "to_status", "at", "by", "reason")


def _write_entries(
    entries: pl.DataFrame, types: dict, type_ids: dict, dept_ids: dict, now
) -> dict[str, int]:
    """The list entries and their events (creation; expiry for the expired ones), bulk-written.
    Returns counts by list kind and status ("red_published", "black_expired"…)."""
    from pubcredit.core.bulkload import bulk_copy, reserve_ids
    from pubcredit.lists.models import ListEntry, ListEntryEvent
    from pubcredit.lists.services import ENTRY_DECISION_FIELDS

    if entries.height == 0:
        return {}
    ids = reserve_ids(ListEntry, entries.height)
    expired = pl.col("status") == "expired"
    rows = entries.select(
        pl.Series("id", np.arange(ids.start, ids.stop)),
        pl.col("list_type").replace_strict(type_ids, return_dtype=pl.Int64).alias("list_type_id"),
        "subject_id",
        pl.col("subject_name").str.slice(0, 200),
        pl.col("authority")
        .replace_strict(dept_ids, default=None, return_dtype=pl.Int64)
        .alias("identified_by_id"),
        "basis",
        pl.col("document_number").str.slice(0, 128),
        "decided_on",
        "valid_from",
        "valid_to",
        "status",
        pl.when(expired)
        .then(pl.lit(_("有效期已届满")))
        .otherwise(pl.lit(""))
        .alias("status_reason"),
        pl.when(expired).then(pl.lit(now)).alias("status_changed_at"),
        pl.lit("console").alias("source"),
        pl.lit(DEMO_LABEL).alias("created_by"),
    )
    bulk_copy(ListEntry, ["id", *ENTRY_DECISION_FIELDS, "source", "created_by"], rows)
    created = rows.select(
        pl.col("id").alias("entry_id"),
        pl.lit("").alias("from_status"),
        pl.lit("published").alias("to_status"),
        pl.lit(now).alias("at"),
        pl.lit(DEMO_LABEL).alias("by"),
        pl.lit(_("演示数据认定")).alias("reason"),
    )
    ended = rows.filter(expired).select(
        pl.col("id").alias("entry_id"),
        pl.lit("published").alias("from_status"),
        pl.lit("expired").alias("to_status"),
        pl.lit(now).alias("at"),
        pl.lit(DEMO_LABEL).alias("by"),
        pl.lit(_("有效期已届满")).alias("reason"),
    )
    bulk_copy(ListEntryEvent, list(EVENT_COLUMNS), pl.concat([created, ended]))
    kinds = {code: t.kind for code, t in types.items()}
    counted = (
        entries.with_columns(pl.col("list_type").replace_strict(kinds, return_dtype=pl.String))
        .group_by("list_type", "status")
        .len()
        .sort("list_type", "status")
    )
    return {f"{kind}_{status}": n for kind, status, n in counted.iter_rows()}


def _lap(timer, phase: str, since: float) -> float:
    if timer is not None:
        return timer.add(phase, since)
    return time.perf_counter()


@transaction.atomic
def load_demo_records(
    principal: Principal,
    *,
    first_id: int,
    last_id: int,
    seed: int,
    as_of: dt.date | None = None,
    timer=None,
) -> dict:
    """Generate and write the demo records, list entries and their read models for the demo
    subjects [first_id, last_id] (see the module docstring). Needs the catalogue; imports the
    publicity rules and list types when none are loaded. One transaction (the caller's).

    Returns counts: records per category, publicity states, list entries by kind and status."""
    from pubcredit.catalog.models import Department
    from pubcredit.lists.changes import entries_changed
    from pubcredit.measures.models import SubjectFlags
    from pubcredit.records.writing import insert_records

    principal.require("records.submit")
    principal.require("lists.identify")
    day = as_of or timezone.localdate()
    t = time.perf_counter()
    ensure_rules(principal)
    departments = _departments()
    dept_ids = dict(Department.objects.values_list("code", "pk"))
    types, type_ids = _list_types()
    register = register_from_database(first_id, last_id)
    generated = generate_records(
        register, seed=seed, as_of=day, departments=departments, list_types=types
    )
    t = _lap(timer, "records_generate", t)
    now = timezone.now()
    rows, counts = _record_rows(generated, dept_ids, now)
    t = _lap(timer, "records_prepare", t)
    publicity = {}
    if rows.height:
        # Written by the records writer, which runs the records flow on them (judged on `day`).
        _written, flow = insert_records(rows, today=day, reason="demo")
        publicity = flow.get("publicity") or {}
    t = _lap(timer, "records_write", t)
    entries = _write_entries(generated.entries, types, type_ids, dept_ids, now)
    entries_changed(generated.entries.get_column("subject_id").to_list())
    flags = SubjectFlags.objects.count()
    _lap(timer, "lists", t)
    return {
        "as_of": day.isoformat(),
        "records": counts,
        "publicity": dict(sorted((publicity.get("states") or {}).items())),
        "list_entries": entries,
        "subjects_flagged": flags,
    }


def rebuild_demo_search_index(timer=None) -> dict:
    """Rebuild the portal's name-search index over the whole register (after a demo load, so
    that a million subjects are searchable at once)."""
    from pubcredit.portal.search import rebuild_search_index

    t = time.perf_counter()
    summary = rebuild_search_index()
    _lap(timer, "search_index", t)
    return {"indexed": summary.indexed}


# ----------------------------------------------------------------------------- removal


def _demo_submissions():
    from pubcredit.intake.models import Submission

    return Submission.objects.filter(
        filename__startswith=DEMO_FILE_PREFIX, submitted_by_label=DEMO_LABEL
    )


def remove_demo_records(first_id: int, last_id: int) -> dict:
    """Delete what `load_demo_records` wrote for the subjects [first_id, last_id]: the demo list
    entries and their events, the check flags of those subjects, the demo records with their
    publicity rows and events, and the demo submissions left empty. Plain DELETEs (the ORM's
    collector would load every row first). Must run inside the caller's transaction.

    Refuses (ValidationError, Chinese) when anything else refers to a demo record (a repair, an
    objection mark, a tier set by a department, a newer version submitted through intake…):
    such facts are not the demo's to delete."""
    from pubcredit.lists.models import ListEntry, ListEntryEvent
    from pubcredit.measures.models import SubjectFlags
    from pubcredit.publicity.models import Publicity, PublicityEvent
    from pubcredit.records.models import Record

    qn = connection.ops.quote_name
    span = [first_id, last_id]
    submissions = list(_demo_submissions().values_list("pk", flat=True))
    entry_table, event_table = qn(ListEntry._meta.db_table), qn(ListEntryEvent._meta.db_table)
    demo_entries = (
        f"SELECT id FROM {entry_table} WHERE subject_id BETWEEN %s AND %s "
        f"AND created_by = %s AND source = 'console'"
    )
    removed = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {event_table} WHERE entry_id IN ({demo_entries})", [*span, DEMO_LABEL]
        )
        cursor.execute(
            f"DELETE FROM {entry_table} WHERE id IN ({demo_entries})", [*span, DEMO_LABEL]
        )
        removed["list_entries"] = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {qn(SubjectFlags._meta.db_table)} WHERE subject_id BETWEEN %s AND %s",
            span,
        )
    if not submissions:
        removed["records"] = 0
        return removed
    records = Record.objects.filter(
        submission_id__in=submissions, subject_id__gte=first_id, subject_id__lte=last_id
    )
    sub_sql, sub_params = records.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        for model in (PublicityEvent, Publicity):
            cursor.execute(
                f"DELETE FROM {qn(model._meta.db_table)} WHERE record_id IN ({sub_sql})",
                sub_params,
            )
    refs = []
    for rel in Record._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        model = rel.related_model
        if model in (Publicity, PublicityEvent):
            continue
        if model._base_manager.filter(
            **{f"{rel.field.attname}__in": records.values("id")}
        ).exists():
            refs.append(str(model._meta.verbose_name))
    if refs:
        raise ValidationError(
            _(
                "演示信用记录已被其他数据引用(%(tables)s),不能替换;"
                "如需重新生成演示数据,请使用一个新的数据库。"
            )
            % {"tables": "、".join(sorted(set(refs)))}
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {qn(Record._meta.db_table)} WHERE id IN ({sub_sql})", sub_params
        )
        removed["records"] = cursor.rowcount
    _demo_submissions().exclude(
        pk__in=Record.objects.filter(submission_id__in=submissions).values("submission_id")
    ).delete()
    return removed


__all__ = [
    "CF_PER_SUBJECT",
    "DEMO_LABEL",
    "XK_PER_SUBJECT",
    "DemoRecords",
    "Register",
    "generate_records",
    "load_demo_records",
    "rebuild_demo_search_index",
    "register_from_database",
    "register_from_frame",
    "remove_demo_records",
]
