"""The demo city's reporting over time (归集): when each demo record was received, and a monthly
flow of recent decisions, so that the bulletins (通报) of past months and the big screen's monthly
trends have something to show.

- `with_flow`: besides the records `records.generate_records` draws over the last ~4 years, every
  department with a template reports every month: for each category (行政处罚, 行政许可), each
  department with a template of it and each of the FLOW_MONTHS months ending with the load day's
  month, 1 + Poisson(λ) records (λ grows with the register, FLOW_PER_SUBJECT) decided in the
  month's first three weeks, except ZERO_REPORT's department in the month before the load
  day's (its 零报送 month). They are drawn by the same template code (`records._penalties`,
  `records._licences`) from their own random stream ([seed, FLOW_STREAM]), so the other records
  and the list entries are unchanged; their document numbers continue after the other records'
  of the same prefix and year.
- `receipt_days`: a record is received a few days after its decision (0–6 days), LATE_SHARE of
  them 14–40 days after (so late: 超期报送), never after the load day; each month one
  department of the flow (in turn) sends decisions of the month before on the 11th, late;
  ZERO_REPORT's department receives nothing in its 零报送 month (what would fall in it is
  received on the 1st of the next month). Records decided years ago were received then: the
  receipts spread over the same years, and every month of the last FLOW_MONTHS holds each
  department's flow.
- `receipt_moment`: the moment of a department's submission of a day (09:00 plus a few minutes
  per department, Asia/Shanghai), never after `now`.

Deterministic: a function of the register, the seed and the load day, like the records.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import polars as pl

from pubcredit.bulletins.metrics import SHANGHAI
from pubcredit.demo.record_templates import LICENCES, PENALTIES
from pubcredit.demo.records import (
    _CF_WEIGHT,
    _XK_WEIGHT,
    DemoRecords,
    _licences,
    _penalties,
)
from pubcredit.demo.register import Register, _draw_subjects

FLOW_STREAM = 0x464C_4F57  # "FLOW"
RECEIPT_STREAM = 0x5243_5054  # "RCPT"
FLOW_MONTHS = 6
# Flow records per subject of the register over the FLOW_MONTHS months, all departments together
# (on top of one per department and month).
FLOW_PER_SUBJECT = 0.01
LATE_SHARE = 0.1
DECIDED_WITHIN_DAYS = 21
LATE_RECEIPT_DAY = 11
# A flow row's receipt day when it is set (the late reports), else drawn.
RECEIPT_HINT = "_received_hint"
# The department with a 零报送 month: nothing received in the month before the load day's.
ZERO_REPORT = "ZB-ZRZY"
DECISION_COLUMN = {"CF": "CF_JDRQ", "XK": "XK_JDRQ"}
NUMBER_COLUMN = {"CF": "CF_WSH", "XK": "XK_WSH"}
_NUMBER = re.compile(r"^(.*〕)(\d+)号$")


def month_starts(as_of: dt.date, months: int = FLOW_MONTHS) -> list[dt.date]:
    """The first days of the `months` months ending with `as_of`'s month, oldest first."""
    index = as_of.year * 12 + as_of.month - 1
    return [
        dt.date((index - back) // 12, (index - back) % 12 + 1, 1)
        for back in range(months - 1, -1, -1)
    ]


def zero_month(as_of: dt.date) -> dt.date:
    """The first day of ZERO_REPORT's 零报送 month: the month before `as_of`'s."""
    return month_starts(as_of, 2)[0]


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _flow_frame(
    rng: np.random.Generator,
    register: Register,
    code: str,
    as_of: dt.date,
    departments: dict[str, tuple[str, str]],
) -> pl.DataFrame | None:
    make, templates, weights = {
        "CF": (_penalties, PENALTIES, _CF_WEIGHT),
        "XK": (_licences, LICENCES, _XK_WEIGHT),
    }[code]
    owners = sorted({t.department for t in templates if t.department in departments})
    if not owners or len(register.ids) == 0:
        return None
    cells = len(owners) * FLOW_MONTHS
    lam = FLOW_PER_SUBJECT * len(register.ids) / (2 * cells)  # two categories share the flow
    frames = []
    skipped = zero_month(as_of)
    for d, department in enumerate(owners):
        for i, month in enumerate(month_starts(as_of)):
            wanted = 1 + int(rng.poisson(lam))
            if department == ZERO_REPORT and month == skipped:
                continue
            # Decided in the month's first three weeks: received within it. But one department
            # a month (in turn) reports decisions of the month before, late: received on the
            # 11th (LATE_RECEIPT_DAY).
            late = (d + i) % len(owners) == 0
            end = min(month + dt.timedelta(days=DECIDED_WITHIN_DAYS - 1), as_of)
            years = ((end - month).days + 1) / 365.25
            if late:
                end = month - dt.timedelta(days=12)
                years = 10 / 365.25
            # Candidates fitting one of the department's templates: a few draws per record.
            picks = _draw_subjects(rng, register, 12 * wanted + 12, weights, None)
            frame = make(
                rng,
                register.details(picks),
                end,
                {department: departments[department]},
                years=years,
            )
            if frame.height:
                hint = min(month + dt.timedelta(days=LATE_RECEIPT_DAY - 1), as_of) if late else None
                frames.append(
                    frame.sample(
                        min(wanted, frame.height), seed=int(rng.integers(1 << 31))
                    ).with_columns(pl.lit(hint, dtype=pl.Date).alias(RECEIPT_HINT))
                )
    return pl.concat(frames, how="vertical_relaxed") if frames else None


def _renumber(base: pl.DataFrame, flow: pl.DataFrame, code: str) -> pl.DataFrame:
    """Flow rows numbered after the base rows of the same prefix and year, in decision order."""
    column, decided = NUMBER_COLUMN[code], DECISION_COLUMN[code]
    pattern = _NUMBER.pattern

    def split(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.col(column).str.extract(pattern, 1).alias("_head"),
            pl.col(column).str.extract(pattern, 2).cast(pl.Int64).alias("_n"),
        )

    top = (
        split(base).group_by("_head").agg(pl.col("_n").max().alias("_top"))
        if base.height
        else pl.DataFrame(schema={"_head": pl.String, "_top": pl.Int64})
    )
    numbered = (
        split(flow)
        .with_row_index("_pos")
        .join(top, on="_head", how="left", maintain_order="left")
        .sort(["_head", decided, "_pos"])
        .with_columns(
            (pl.col("_top").fill_null(0) + pl.int_range(pl.len()).over("_head") + 1).alias("_k")
        )
        .with_columns(
            pl.when(pl.col("_head").is_not_null())
            .then(pl.concat_str([pl.col("_head"), pl.col("_k").cast(pl.String), pl.lit("号")]))
            .otherwise(pl.col(column))
            .alias(column)
        )
    )
    return numbered.sort("_pos").drop("_pos", "_head", "_n", "_top", "_k")


def with_flow(
    generated: DemoRecords,
    register: Register,
    *,
    seed: int,
    as_of: dt.date,
    departments: dict[str, tuple[str, str]],
) -> DemoRecords:
    """`generated` with the monthly flow of each category appended (see the module docstring)."""
    rng = np.random.default_rng([seed, FLOW_STREAM])
    frames = dict(generated.frames)
    for code in ("CF", "XK"):
        base = frames.get(code)
        flow = _flow_frame(rng, register, code, as_of, departments)
        if flow is None or base is None:
            continue
        flow = _renumber(base, flow.select(*base.columns, RECEIPT_HINT), code)
        base = base.with_columns(pl.lit(None, dtype=pl.Date).alias(RECEIPT_HINT))
        frames[code] = pl.concat([base, flow], how="vertical_relaxed")
    return DemoRecords(frames, generated.entries)


def receipt_days(frame: pl.DataFrame, code: str, *, seed: int, as_of: dt.date) -> pl.Series:
    """Each row's receipt day (see the module docstring), drawn from [seed, RECEIPT_STREAM, n]
    with n the category's index, so each category has its own draws."""
    n = {"CF": 1, "XK": 2}[code]
    rng = np.random.default_rng([seed, RECEIPT_STREAM, n])
    m = frame.height
    late = rng.random(m) < LATE_SHARE
    delay = np.where(late, rng.integers(14, 41, m), rng.integers(0, 7, m))
    decided = frame.get_column(DECISION_COLUMN[code]).cast(pl.Int32).to_numpy().astype(np.int64)
    top = (as_of - dt.date(1970, 1, 1)).days
    days = decided + delay
    if RECEIPT_HINT in frame.columns:
        hint = frame.get_column(RECEIPT_HINT).cast(pl.Int32).to_numpy()
        hinted = ~np.isnan(hint.astype(np.float64))
        days = np.where(hinted, np.nan_to_num(hint.astype(np.float64)).astype(np.int64), days)
    days = np.minimum(days, top)
    skipped = zero_month(as_of)
    start = (skipped - dt.date(1970, 1, 1)).days
    after = (_month_end(skipped) - dt.date(1970, 1, 1)).days + 1
    moved = (frame.get_column("department") == ZERO_REPORT).to_numpy() & (
        (days >= start) & (days < after)
    )
    days = np.where(moved, np.minimum(after, top), days)
    return pl.Series("_received_day", days.astype(np.int32)).cast(pl.Date)


def receipt_moment(day: dt.date, department_index: int, now: dt.datetime) -> dt.datetime:
    """The moment (aware, Asia/Shanghai) a department's submission of `day` was received."""
    moment = dt.datetime.combine(day, dt.time(9, 0), tzinfo=SHANGHAI) + dt.timedelta(
        minutes=(department_index * 37) % 480
    )
    return min(moment, now)
