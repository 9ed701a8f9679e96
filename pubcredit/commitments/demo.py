"""Demo commitments for the demo city (`pubcredit demo`, pubcredit.demo.services.load_demo).

One commitment for every DEMO_STEP-th demo subject (250 for 2,000 subjects, 125,000 for a
million), generated with numpy and polars from the seed and written with `pubcredit.core.bulkload`
(PostgreSQL COPY, batched INSERTs on SQLite): no per-row ORM save and no PDF per row (demo
commitments have no letter; they stand for commitments signed at a window or online before).

Mix: 审批替代型 (with the approval matter when the matters catalogue is loaded), 证明事项型,
容缺受理型, 行业自律型, 主动型, 其他; accepted by city departments or the subject's district
credit centre; made in the two years before `as_of` (the load date by default); most
older ones assessed 全部履行, a few breached (部分履行 / 全部未履行) — each breach with its
WCH_COMMITMENT_BREACH watch-list entry, bulk-written too, and announced (lists.changes: the check
read model of those subjects is refreshed). Serial counters (CommitmentSerial) are advanced past
the demo codes so that a later signing never reuses one.

Every demo row carries `created_by = DEMO_LABEL`, which is how `remove_demo_commitments` finds
them again when the demo city is replaced.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Mod
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.commitments import assessment, services, signing
from pubcredit.commitments.models import (
    BREACHES,
    Commitment,
    CommitmentEvent,
    CommitmentSerial,
    CommitmentSource,
    CommitmentType,
    Performance,
    PublicityType,
)
from pubcredit.core.bulkload import bulk_copy, reserve_ids
from pubcredit.lists.changes import entries_changed
from pubcredit.lists.models import EntrySource, EntryStatus, ListEntry, ListEntryEvent, ListType
from pubcredit.lists.services import add_months, import_list_types
from pubcredit.measures.models import Matter
from pubcredit.subjects.models import Subject

DEMO_LABEL = "pubcredit.demo"
DEMO_STEP = 8  # one commitment per 8 demo subjects
DEMO_OFFSET = 3
SPAN_DAYS = 730
BREACH_SHARE = 0.02

CITY_DEPARTMENTS = ("ZB-XZSP", "ZB-SCJG", "ZB-ZJJ", "ZB-STHJ", "ZB-SWU", "ZB-RSJ", "ZB-JTYS")
CITY_WEIGHTS = (0.30, 0.25, 0.12, 0.10, 0.10, 0.08, 0.05)
DISTRICT_SHARE = 0.30  # accepted by the district credit centre of the subject's district

TYPES = (
    CommitmentType.APPROVAL,
    CommitmentType.CERTIFICATION,
    CommitmentType.TOLERANT,
    CommitmentType.SELF_DISCIPLINE,
    CommitmentType.VOLUNTARY,
    CommitmentType.OTHER,
)
TYPE_WEIGHTS = (0.35, 0.20, 0.10, 0.10, 0.20, 0.05)
APPROVAL_MATTERS = ("ADMIN_LICENSING", "MARKET_ACCESS", "QUALIFICATION", "FISCAL_FUNDS")

_REASONS = {
    CommitmentType.CERTIFICATION: (
        "申请办理相关事项,以承诺替代无犯罪记录证明",
        "申请办理相关事项,以承诺替代社会保险缴纳证明",
        "申请办理相关事项,以承诺替代纳税情况证明",
        "申请办理相关事项,以承诺替代生产经营场所证明",
    ),
    CommitmentType.TOLERANT: (
        "申请食品经营许可时部分材料暂缺,承诺限期补齐",
        "申请建筑工程施工许可时部分材料暂缺,承诺限期补齐",
        "申请道路运输经营许可时部分材料暂缺,承诺限期补齐",
        "申请排污许可时部分材料暂缺,承诺限期补齐",
    ),
    CommitmentType.SELF_DISCIPLINE: (
        "参加淄博市餐饮行业协会诚信经营自律公约",
        "参加淄博市建筑业协会行业自律公约",
        "参加淄博市物流与交通运输协会行业自律公约",
        "参加淄博市陶瓷行业协会行业自律公约",
    ),
    CommitmentType.VOLUNTARY: ("主动向社会作出诚信经营承诺", "主动作出守法诚信承诺"),
    CommitmentType.OTHER: ("参加政府采购活动的资格承诺", "申请财政补助资金的真实性承诺"),
    CommitmentType.APPROVAL: ("申请办理行政许可事项,以告知承诺替代部分审批材料",),
}
_CONTENTS = {
    CommitmentType.APPROVAL: "承诺已经知晓告知的全部内容,所填写的信息真实、准确,"
    "符合告知的条件、标准和要求,愿意承担不实承诺的法律责任。",
    CommitmentType.CERTIFICATION: "承诺所承诺的事项真实、准确,与证明事项的要求相符;"
    "如有不实,自愿接受相应处理并承担法律责任。",
    CommitmentType.TOLERANT: "承诺在受理之日起 30 日内补齐所欠缺的材料,补正材料与承诺一致;"
    "逾期未补齐的,同意终止办理。",
    CommitmentType.SELF_DISCIPLINE: "承诺遵守行业自律公约,依法诚信经营,不发布虚假宣传,"
    "不以不正当手段竞争,自觉接受行业组织和社会监督。",
    CommitmentType.VOLUNTARY: "承诺严格遵守法律法规,依法诚信经营,按时履行合同和纳税义务,"
    "保障产品和服务质量,主动接受社会监督。",
    CommitmentType.OTHER: "承诺所提交的材料真实有效,具备相应的资格条件,"
    "如有虚假,自愿承担相应法律责任。",
}
_UNFULFILLED = (
    "未在承诺期限内补齐承诺补正的材料。",
    "经核查,承诺的生产经营场所条件与实际不符。",
    "经核查,承诺事项与实际情况不符。",
)
_ENFORCED = "列入违背信用承诺重点关注对象名单,依法撤销相关决定,违诺情况记入信用记录。"
_SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗")
_GIVEN = ("志强", "丽娟", "建国", "秀英", "海涛", "敏", "伟", "静", "磊", "芳", "军", "艳")


def _pick(rng: np.random.Generator, values, n: int, p=None) -> np.ndarray:
    arr = np.array(values, dtype=object)
    return arr[rng.choice(len(arr), size=n, p=p)]


def _days(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def _subjects(first_id: int, last_id: int) -> pl.DataFrame:
    rows = list(
        Subject.objects.filter(id__gte=first_id, id__lte=last_id)
        .annotate(slot=Mod(F("id") - first_id, DEMO_STEP))
        .filter(slot=DEMO_OFFSET)
        .order_by("id")
        .values_list("id", "kind", "name", "uscc", "id_masked", "region")
    )
    return pl.DataFrame(
        rows,
        schema={
            "subject_id": pl.Int64,
            "kind": pl.String,
            "name": pl.String,
            "uscc": pl.String,
            "id_masked": pl.String,
            "region": pl.String,
        },
        orient="row",
    )


def _ensure_list_types(principal: Principal) -> None:
    if not ListType.objects.exists():
        import_list_types(principal)


@transaction.atomic
def load_demo_commitments(
    principal: Principal, *, first_id: int, last_id: int, seed: int, as_of: dt.date
) -> dict:
    """Generate and write the demo commitments of the demo subjects [first_id, last_id] (module
    docstring). Returns {"commitments", "breaches", "by_performance"}."""
    subjects = _subjects(first_id, last_id)
    n = subjects.height
    if n == 0:
        return {"commitments": 0, "breaches": 0, "by_performance": {}}
    _ensure_list_types(principal)
    lt = assessment.breach_list_type()
    rng = np.random.default_rng([seed, 0xC0])

    # Accepting department: the district credit centre or a city department.
    departments = {d.code: d for d in Department.objects.filter(active=True)}
    city = [c for c in CITY_DEPARTMENTS if c in departments] or sorted(departments)[:1]
    weights = np.array([CITY_WEIGHTS[CITY_DEPARTMENTS.index(c)] for c in city], dtype=float)
    dept_code = _pick(rng, city, n, weights / weights.sum())
    district_code = np.char.add("ZB-XYZX-", subjects["region"].fill_null("").to_numpy().astype(str))
    local = (rng.random(n) < DISTRICT_SHARE) & np.isin(district_code, list(departments))
    dept_code = pl.Series(np.where(local, district_code.astype(object), dept_code), dtype=pl.String)
    dept_id = dept_code.replace_strict(
        {c: d.pk for c, d in departments.items()}, return_dtype=pl.Int64
    ).to_numpy()
    dept_region = dept_code.replace_strict(
        {c: signing.region_of(d) for c, d in departments.items()}, return_dtype=pl.String
    )

    # Type, matter, reason.
    matters = list(
        Matter.objects.filter(active=True, code__in=APPROVAL_MATTERS).values_list("pk", "name")
    )
    types = _pick(rng, [t.value for t in TYPES], n, TYPE_WEIGHTS)
    approval_type = CommitmentType.APPROVAL.value
    if not matters:  # no matters catalogue: no 审批替代型 either (it needs its matter)
        types = np.where(types == approval_type, CommitmentType.CERTIFICATION.value, types)
    approval = types == approval_type
    reason = np.empty(n, dtype=object)
    matter_id = np.full(n, -1, dtype=np.int64)
    if matters:
        pick = rng.integers(0, len(matters), size=n)
        matter_id = np.where(approval, np.array([m[0] for m in matters])[pick], -1)
        texts = [f"申请办理“{name}”事项,以告知承诺替代部分审批材料" for _pk, name in matters]
        reason[approval] = np.array(texts, dtype=object)[pick][approval]
    for ctype, texts in _REASONS.items():
        if ctype == CommitmentType.APPROVAL:
            continue
        rows = types == ctype.value
        reason[rows] = _pick(rng, texts, int(rows.sum()))

    # Dates and fulfilment.
    end = _days(as_of)
    made = end - rng.integers(0, SPAN_DAYS, size=n)
    length = _pick(rng, (365, 730, 1095, 0), n, (0.60, 0.15, 0.05, 0.20)).astype(np.int64)
    valid_to = np.where(length > 0, made + length - 1, -1)
    age = end - made
    draw = rng.random(n)
    assessable = age >= 60
    performance = np.full(n, Performance.PENDING.value, dtype=object)
    full = assessable & (draw < 0.62)
    breach = assessable & (draw >= 0.62) & (draw < 0.62 + BREACH_SHARE)
    if lt is None:  # no watch list to put a breach on: demo breaches become fulfilments
        full, breach = full | breach, np.zeros(n, dtype=bool)
    performance[full] = Performance.FULL.value
    partial = breach & (rng.random(n) < 0.6)
    performance[partial] = Performance.PARTIAL.value
    performance[breach & ~partial] = Performance.NONE.value
    assessed = full | breach
    lag = 30 + (rng.random(n) * np.maximum(np.minimum(age, 365) - 30, 1)).astype(np.int64)
    assessed_on = np.where(assessed, np.minimum(made + lag, end), -1)
    unfulfilled = np.where(breach, _pick(rng, _UNFULFILLED, n), "")
    enforced = np.where(breach, _ENFORCED, "")

    publicity = _pick(
        rng, [p.value for p in PublicityType], n, (0.85, 0.10, 0.05)
    )  # 可向社会公开 / 特定范围内公开 / 不可公开
    source = _pick(rng, (CommitmentSource.ONLINE.value, CommitmentSource.WINDOW.value), n)
    person = (subjects["kind"] == SubjectKind.PERSON).to_numpy()
    signer = np.where(
        person,
        subjects["name"].to_numpy(),
        np.char.add(_pick(rng, _SURNAMES, n).astype(str), _pick(rng, _GIVEN, n).astype(str)).astype(
            object
        ),
    )
    phone = np.char.add(
        _pick(rng, ("13", "15", "17", "18"), n).astype(str),
        np.char.zfill(rng.integers(0, 10**9, size=n).astype(str), 9),
    ).astype(object)
    code_of = np.where(
        person,
        subjects["id_masked"].fill_null("").to_numpy(),
        subjects["uscc"].fill_null("").to_numpy(),
    )

    def day_or_null(days: np.ndarray) -> pl.Series:
        s = pl.Series(days.astype(np.int32))
        return pl.select(pl.when(s >= 0).then(s).otherwise(None).cast(pl.Date)).to_series()

    def id_or_null(ids: np.ndarray, keep: np.ndarray) -> pl.Series:
        s = pl.Series(ids.astype(np.int64))
        return pl.select(pl.when(pl.Series(keep)).then(s).otherwise(None)).to_series()

    kinds = pl.Series(types, dtype=pl.String)
    frame = pl.DataFrame(
        {
            "subject_id": subjects["subject_id"],
            "committer_name": subjects["name"],
            "committer_kind": subjects["kind"],
            "committer_code": pl.Series(code_of, dtype=pl.String),
            "commitment_type": kinds,
            "reason": pl.Series(reason, dtype=pl.String),
            "content": kinds.replace_strict(
                {k.value: v for k, v in _CONTENTS.items()}, return_dtype=pl.String
            ),
            "made_on": day_or_null(made),
            "valid_to": day_or_null(valid_to),
            "performance": pl.Series(performance, dtype=pl.String),
            "unfulfilled_content": pl.Series(unfulfilled, dtype=pl.String),
            "liability_enforced": pl.Series(enforced, dtype=pl.String),
            "assessed_on": day_or_null(assessed_on),
            "assessor_id": id_or_null(dept_id, assessed),
            "department_id": pl.Series(dept_id, dtype=pl.Int64),
            "publicity_type": pl.Series(publicity, dtype=pl.String),
            "source": pl.Series(source, dtype=pl.String),
            "matter_id": id_or_null(matter_id, matter_id >= 0),
            "signer_name": pl.Series(signer, dtype=pl.String),
            "signer_contact": pl.Series(phone, dtype=pl.String),
            "region": dept_region,
        }
    ).with_columns(
        pl.lit(str(signing.STANDARD_LIABILITY)).alias("liability"), pl.lit("").alias("remark")
    )

    # 承诺编码: region + YYYYMMDD + serial, serials continuing any counter already issued.
    frame = frame.with_columns(
        pl.col("made_on").dt.strftime("%Y%m%d").alias("_day"),
        pl.int_range(1, pl.len() + 1).over(["region", "made_on"]).alias("_n"),
    )
    base = _serial_base(frame)
    frame = frame.join(base, on=["region", "made_on"], how="left").with_columns(
        (pl.col("_n") + pl.col("_base").fill_null(0)).alias("_serial")
    )
    frame = frame.with_columns(
        pl.concat_str(
            [pl.col("region"), pl.col("_day"), pl.col("_serial").cast(pl.String).str.zfill(6)]
        ).alias("code")
    )
    ids = reserve_ids(Commitment, n)
    now = timezone.now()
    frame = frame.with_columns(
        pl.Series("id", np.arange(ids.start, ids.stop, dtype=np.int64)),
        pl.lit(DEMO_LABEL).alias("created_by"),
        pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"),
    )
    columns = [
        "id",
        "code",
        *services.CORE_FIELDS,
        *services.PERFORMANCE_FIELDS,
        "source",
        "matter_id",
        "signer_name",
        "signer_contact",
        "created_by",
        "created_at",
        "updated_at",
    ]
    # Indexes are kept (not deferred): the table's deferred foreign-key triggers would forbid
    # rebuilding them in this transaction, and 1/8 of the register is a small append.
    bulk_copy(Commitment, columns, frame.select(columns))
    _advance_serials(frame)

    entries = _breach_entries(frame.filter(pl.col("performance").is_in(list(BREACHES))), lt, now)
    events = frame.select(
        pl.col("id").alias("commitment_id"),
        pl.lit(now).alias("at"),
        pl.lit(DEMO_LABEL).alias("actor"),
        pl.lit(CommitmentEvent.Action.DEMO.value).alias("action"),
        pl.lit("").alias("from_performance"),
        pl.col("performance").alias("to_performance"),
        pl.lit(_("演示数据")).alias("reason"),
    ).join(entries, on="commitment_id", how="left")
    events = events.with_columns(
        pl.when(pl.col("list_entry").is_not_null())
        .then(
            pl.concat_str(
                [pl.lit('{"demo": true, "list_entry": '), pl.col("list_entry"), pl.lit("}")]
            )
        )
        .otherwise(pl.lit('{"demo": true}'))
        .alias("details")
    ).drop("list_entry")
    bulk_copy(CommitmentEvent, list(events.columns), events)

    counts = dict(frame.group_by("performance").len().iter_rows())
    summary = {
        "commitments": n,
        "breaches": entries.height,
        "by_performance": dict(sorted(counts.items())),
    }
    record_event(
        principal,
        "commitments.demo",
        object_type="commitments.commitment",
        object_repr=_("演示信用承诺"),
        after={**summary, "first_subject": first_id, "last_subject": last_id},
    )
    return summary


def _serial_base(frame: pl.DataFrame) -> pl.DataFrame:
    """(region, made_on) → the last serial already issued for it: the counter, or a code that
    arrived through intake with a higher serial."""
    days = frame.select(pl.col("made_on").min().alias("lo"), pl.col("made_on").max().alias("hi"))
    lo, hi = days.row(0)
    rows = list(
        CommitmentSerial.objects.filter(day__gte=lo, day__lte=hi).values_list(
            "region", "day", "last"
        )
    )
    rows += [
        (code[:6], dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14])), int(code[14:]))
        for code in Commitment.objects.filter(made_on__gte=lo, made_on__lte=hi).values_list(
            "code", flat=True
        )
        if len(code) == 20 and code.isdigit()
    ]
    base = pl.DataFrame(
        rows, schema={"region": pl.String, "made_on": pl.Date, "_base": pl.Int64}, orient="row"
    )
    return base.group_by("region", "made_on").agg(pl.col("_base").max())


def _advance_serials(frame: pl.DataFrame) -> None:
    last = frame.group_by("region", "made_on").agg(pl.col("_serial").max().alias("last"))
    keys = {(r, d): n for r, d, n in last.iter_rows()}
    days = [d for _r, d in keys]
    existing = {
        (s.region, s.day): s
        for s in CommitmentSerial.objects.filter(day__gte=min(days), day__lte=max(days))
    }
    update, create = [], []
    for key, n in keys.items():
        row = existing.get(key)
        if row is None:
            create.append(CommitmentSerial(region=key[0], day=key[1], last=n))
        elif row.last < n:
            row.last = n
            update.append(row)
    CommitmentSerial.objects.bulk_create(create, batch_size=2000)
    CommitmentSerial.objects.bulk_update(update, ["last"], batch_size=2000)


def _breach_entries(breached: pl.DataFrame, lt, now) -> pl.DataFrame:
    """The watch-list entries of the demo breaches, bulk-written with their events; the check
    read model refreshed for those subjects. Returns (commitment_id, list_entry)."""
    out_schema = {"commitment_id": pl.Int64, "list_entry": pl.Int64}
    if lt is None or breached.height == 0:
        return pl.DataFrame(schema=out_schema)
    today = timezone.localdate()
    ids = reserve_ids(ListEntry, breached.height)
    months = lt.default_validity_months
    decided = breached["assessed_on"].to_list()
    valid_to = [add_months(d, months) - dt.timedelta(days=1) if months else None for d in decided]
    names = dict(Department.objects.values_list("pk", "name"))
    basis = [
        _(
            "违背信用承诺:承诺编码 %(code)s(%(type)s,事由:%(reason)s),经%(dept)s认定为“%(perf)s”。"
            "未履行的承诺内容:%(unfulfilled)s"
        )
        % {
            "code": code,
            "type": ctype,
            "reason": reason,
            "dept": names.get(dept, ""),
            "perf": perf,
            "unfulfilled": unfulfilled,
        }
        for code, ctype, reason, dept, perf, unfulfilled in breached.select(
            "code",
            "commitment_type",
            "reason",
            "department_id",
            "performance",
            "unfulfilled_content",
        ).iter_rows()
    ]
    expired = [v is not None and v < today for v in valid_to]
    entries = pl.DataFrame(
        {
            "id": np.arange(ids.start, ids.stop, dtype=np.int64),
            "list_type_id": pl.Series([lt.pk] * breached.height, dtype=pl.Int64),
            "subject_id": breached["subject_id"],
            "subject_name": breached["committer_name"],
            "identified_by_id": breached["department_id"],
            "basis": pl.Series(basis, dtype=pl.String),
            "document_number": breached["code"],
            "decided_on": breached["assessed_on"],
            "valid_from": breached["assessed_on"],
            "valid_to": pl.Series(valid_to, dtype=pl.Date),
            "status": pl.Series(
                [EntryStatus.EXPIRED.value if e else EntryStatus.PUBLISHED.value for e in expired],
                dtype=pl.String,
            ),
            "status_reason": pl.Series(
                [str(_("有效期已届满")) if e else "" for e in expired], dtype=pl.String
            ),
        }
    ).with_columns(
        pl.lit(now).alias("status_changed_at"),
        pl.lit(EntrySource.CONSOLE.value).alias("source"),
        pl.lit(DEMO_LABEL).alias("created_by"),
        pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"),
    )
    bulk_copy(ListEntry, list(entries.columns), entries)
    published = entries.select(
        pl.col("id").alias("entry_id"),
        pl.lit("").alias("from_status"),
        pl.lit(EntryStatus.PUBLISHED.value).alias("to_status"),
        pl.lit(now).alias("at"),
        pl.lit(DEMO_LABEL).alias("by"),
        pl.lit(str(_("违背信用承诺(演示数据)"))).alias("reason"),
    )
    ended = entries.filter(pl.col("status") == EntryStatus.EXPIRED.value).select(
        pl.col("id").alias("entry_id"),
        pl.lit(EntryStatus.PUBLISHED.value).alias("from_status"),
        pl.lit(EntryStatus.EXPIRED.value).alias("to_status"),
        pl.lit(now).alias("at"),
        pl.lit(DEMO_LABEL).alias("by"),
        pl.col("status_reason").alias("reason"),
    )
    events = pl.concat([published, ended])
    bulk_copy(ListEntryEvent, list(events.columns), events)
    entries_changed(breached["subject_id"].to_list())
    return pl.DataFrame(
        {"commitment_id": breached["id"], "list_entry": entries["id"]}, schema=out_schema
    )


def remove_demo_commitments(first_id: int, last_id: int) -> int:
    """Delete the demo commitments of the demo subjects [first_id, last_id], their events and
    their watch-list entries (and the entries' events), in the caller's transaction; the check
    read model of those subjects is refreshed. Commitments anyone else made are left alone.
    Plain DELETEs: the ORM's collector would load every row first. Returns how many
    commitments were deleted."""
    qn = connection.ops.quote_name
    commitments = qn(Commitment._meta.db_table)
    events = qn(CommitmentEvent._meta.db_table)
    entries = qn(ListEntry._meta.db_table)
    entry_events = qn(ListEntryEvent._meta.db_table)
    span = [first_id, last_id, DEMO_LABEL]
    where = "subject_id BETWEEN %s AND %s AND created_by = %s"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT subject_id FROM {entries} WHERE {where}", span)
        listed = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            f"DELETE FROM {entry_events} WHERE entry_id IN "
            f"(SELECT id FROM {entries} WHERE {where})",
            span,
        )
        cursor.execute(f"DELETE FROM {entries} WHERE {where}", span)
        cursor.execute(
            f"DELETE FROM {events} WHERE commitment_id IN "
            f"(SELECT id FROM {commitments} WHERE {where})",
            span,
        )
        cursor.execute(f"DELETE FROM {commitments} WHERE {where}", span)
        removed = cursor.rowcount
    entries_changed(listed)
    return removed
