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
   what intake would store; one demo Submission per department, category and receipt day
   (status 已完成, as intake leaves it; receipts and a monthly flow of recent decisions in
   `demo.reporting`) carries them; the records are written by the records writer
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
from dataclasses import dataclass

import numpy as np
import polars as pl

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
from pubcredit.demo.register import Register, _days, _decision_days, _draw_subjects

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
    rng: np.random.Generator,
    subj: pl.DataFrame,
    as_of: dt.date,
    departments: dict,
    years: float = YEARS_BACK,
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
    decided = _decision_days(rng, subj["established_on"], as_of, years)
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
    rng: np.random.Generator,
    subj: pl.DataFrame,
    as_of: dt.date,
    departments: dict,
    years: float = YEARS_BACK + 1,
) -> pl.DataFrame:
    templates = [t for t in LICENCES if t.department in departments]
    m = subj.height
    tpl = _choose_templates(rng, subj, templates)
    content_pick = rng.integers(0, 1 << 30, m)
    decided = _decision_days(rng, subj["established_on"], as_of, years)
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
