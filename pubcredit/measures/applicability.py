"""The applicability engine: which reward and punishment measures apply to a subject for a matter
on a day, and why; and the `SubjectFlags` read model that makes answering it cheap.

A check (`applicable_measures`) reads one `SubjectFlags` row by primary key and evaluates the
compiled rules (`rules.current_rules()`, cached per process) in memory:
1. hits = the subject's list entries valid on the day (valid_from ≤ day ≤ valid_to, the list type
   in force) and its negative records public on the day (publicity start ≤ day < end, state
   公示中/异议处理中); expired, removed, repaired, ended and withdrawn facts are never in the
   read model as hitting on a later day;
2. measures = the active measures in force on the day, for the matter (or for every matter),
   for the subject's kind, triggered by a hit's list type or by a record condition;
3. rewards are withheld while the subject has an active 严重失信主体名单 hit (守信激励 presupposes
   no serious breach of trust; settings.PUBCREDIT_REWARDS_WITHHELD_BY_BLACK, default True).

The read model is kept by `measures.services.refresh_subject_flags`; the matters catalogue and its
seed file are in `measures.catalogue`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.core import citus, hotpath
from pubcredit.measures import rules as rules_mod
from pubcredit.measures.models import SubjectFlags
from pubcredit.publicity.models import PUBLIC_STATES, Publicity, last_public_day
from pubcredit.records.models import Record, document_number
from pubcredit.subjects import keys
from pubcredit.subjects.models import Subject

CHUNK = 2000  # subjects per query of `applicable_measures_many`


class UnknownMatter(ValueError):
    """The matter code is not in the matters catalogue (or is inactive)."""

    def __init__(self, code: str):
        super().__init__(_("未知的核查事项编码:%s") % code)
        self.code = code


@dataclass(frozen=True)
class Hit:
    """A fact that counts against (or for) the subject on the day."""

    source: str  # "list" (a list entry) or "record" (a negative public record)
    id: int  # ListEntry id or Record id
    kind: str  # red / black / watch for list entries; "negative" for records
    code: str  # ListType code or Category code
    name: str  # ListType name or Category name
    authority: str  # 认定部门 / 作出决定的部门
    decided_on: dt.date | None
    valid_from: dt.date | None  # entry validity / first public day
    valid_to: dt.date | None  # last day (inclusive); None = open
    document_number: str = ""
    tier: str = ""  # records: minor / general / serious
    state: str = ""  # records: publicity state (public / objection)
    title: str = ""  # records: 违法行为类型 or similar
    list_type_id: int | None = None

    @property
    def ref(self) -> str:
        return f"{'entry' if self.source == 'list' else 'record'}:{self.id}"


@dataclass(frozen=True)
class ApplicableMeasure:
    code: str
    name: str
    kind: str  # reward / punishment
    measure_class: int | None
    incentive_category: str
    content: str
    legal_basis: str
    departments: tuple[str, ...]
    triggered_by: tuple[str, ...]  # Hit.ref values


@dataclass(frozen=True)
class Applicability:
    subject_id: int
    matter_code: str | None
    matter_name: str
    day: dt.date
    hits: tuple[Hit, ...]
    rewards: tuple[ApplicableMeasure, ...]
    punishments: tuple[ApplicableMeasure, ...]
    withheld_rewards: tuple[ApplicableMeasure, ...] = field(default=())
    rules_version: int = 0

    @property
    def red_hits(self) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.kind == "red")

    @property
    def negative_hits(self) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.kind != "red")

    @property
    def has_black(self) -> bool:
        return any(h.kind == "black" for h in self.hits)

    def as_dict(self) -> dict:
        """JSON-ready (dates as ISO strings)."""

        def conv(value):
            if isinstance(value, dt.date):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: conv(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [conv(v) for v in value]
            return value

        return conv(
            {
                "subject_id": self.subject_id,
                "matter": self.matter_code,
                "matter_name": self.matter_name,
                "day": self.day,
                "hits": [asdict(h) for h in self.hits],
                "rewards": [asdict(m) for m in self.rewards],
                "punishments": [asdict(m) for m in self.punishments],
                "withheld_rewards": [asdict(m) for m in self.withheld_rewards],
            }
        )


# --------------------------------------------------------------------------- evaluation


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _within(day: dt.date, start, end) -> bool:
    """start/end are ISO strings (end inclusive, None = open)."""
    iso = day.isoformat()
    return (start is None or start <= iso) and (end is None or iso <= end)


def _hits(
    flags: _Flags | None, records: list[tuple], rules: rules_mod.RuleSet, day: dt.date
) -> list[Hit]:
    hits: list[Hit] = []
    for e in flags.entries if flags is not None else ():
        lt = rules.list_types.get(e["type"])
        if lt is None or not lt.in_force_on(day) or not _within(day, e["from"], e["to"]):
            continue
        hits.append(
            Hit(
                source="list",
                id=e["id"],
                kind=lt.kind,
                code=lt.code,
                name=lt.name,
                authority=e.get("authority") or lt.authority,
                decided_on=_date(e.get("decided_on")),
                valid_from=_date(e["from"]),
                valid_to=_date(e["to"]),
                document_number=e.get("document_number", ""),
                list_type_id=lt.id,
            )
        )
    for rid, _sid, category_id, tier, state, start, end, decided, dept_id, key in records:
        code, name = rules.categories.get(category_id, ("", ""))
        hits.append(
            Hit(
                source="record",
                id=rid,
                kind="negative",
                code=code,
                name=name,
                authority=rules.departments.get(dept_id, ""),
                decided_on=decided,
                valid_from=start,
                valid_to=last_public_day(end),
                document_number=document_number(key),
                tier=tier,
                state=state,
            )
        )
    order = {"black": 0, "watch": 1, "negative": 2, "red": 3}
    hits.sort(key=lambda h: (order.get(h.kind, 9), -(h.decided_on or dt.date.min).toordinal()))
    return hits


class _Flags(NamedTuple):
    subject_kind: str
    entries: list


def _fetch_flags(subject_ids: list[int]) -> dict[int, _Flags]:
    """SubjectFlags rows by primary key, with hand-written SQL: a check is on the hot path and
    the ORM's query compilation costs more than the indexed read itself."""
    table = SubjectFlags._meta.db_table
    marks = ", ".join(["%s"] * len(subject_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT subject_id, subject_kind, entries FROM {table} WHERE subject_id IN ({marks})",
            subject_ids,
        )
        rows = cursor.fetchall()
    return {sid: _Flags(kind, json_value(entries)) for sid, kind, entries in rows}


def negative_records_sql(
    subject_condition: str, rules: rules_mod.RuleSet, day: dt.date
) -> tuple[str, list] | None:
    """The SELECT of public negative records (columns as `_public_negative_records` returns
    them) for the publicity rows `p` matching `subject_condition` (SQL, e.g. "p.subject_id =
    s.id"), with its parameters; None when no category can hit."""
    if not rules.record_category_ids:
        return None
    sql = _negative_records_text(
        subject_condition, len(PUBLIC_STATES), len(rules.record_category_ids), connection.vendor
    )
    d = connection.ops.adapt_datefield_value(day)
    return sql, [*PUBLIC_STATES, d, d, *rules.record_category_ids]


@functools.lru_cache(maxsize=64)
def _negative_records_text(subject_condition: str, states: int, categories: int, vendor: str):
    """The text of `negative_records_sql` (built once per shape: checks run it many times)."""
    qn = connection.ops.quote_name
    return (
        f"SELECT p.record_id, p.subject_id, p.category_id, p.tier, p.state, p.start, "
        f"p.{qn('end')}, r.decision_date, p.department_id, r.business_key "
        f"FROM {Publicity._meta.db_table} p JOIN {Record._meta.db_table} r ON r.id = p.record_id "
        # The subject too: on Citus the two tables are co-located by it (docs/scale.md).
        f"AND r.subject_id = p.subject_id "
        f"WHERE {subject_condition} AND p.state IN ({', '.join(['%s'] * states)}) "
        # COALESCE, not "end IS NULL OR end > day": the planner would AND the subjects' index
        # with a scan of the `end` index over every running publicity (millions of rows).
        f"AND p.start <= %s AND COALESCE(p.{qn('end')}, '9999-12-31') > %s "
        f"AND p.category_id IN ({', '.join(['%s'] * categories)})"
    )


def negative_record_rows(rows: list) -> list[tuple]:
    """Rows of `negative_records_sql` with dates as dates (SQLite, and JSON aggregates, return
    them as text)."""
    if not rows or not isinstance(rows[0][5], str):
        return [tuple(r) for r in rows]
    to_date = dt.date.fromisoformat
    return [
        (
            *r[:5],
            to_date(r[5]),
            to_date(r[6]) if r[6] else None,
            to_date(r[7]) if r[7] else None,
            *r[8:],
        )
        for r in rows
    ]


def _public_negative_records(
    subject_ids: list[int], rules: rules_mod.RuleSet, day: dt.date
) -> list[tuple]:
    """The subjects' records of the negative categories public on `day`, read from the
    publicity read model (state 公示中/异议处理中, start ≤ day < end: the conditions of
    `publicity.services.is_public_q`): repaired, ended, withdrawn and not-yet-public records are
    never returned. One query served by the (subject, state) index, the record joined by primary
    key. Rows: (record_id, subject_id, category_id, tier, state, start, end, decision_date,
    department_id, business_key)."""
    if not subject_ids:
        return []
    marks = ", ".join(["%s"] * len(subject_ids))
    query = negative_records_sql(f"p.subject_id IN ({marks})", rules, day)
    if query is None:
        return []
    sql, params = query
    with connection.cursor() as cursor:
        cursor.execute(sql, [*subject_ids, *params])
        rows = cursor.fetchall()
    return negative_record_rows(rows)


def _evaluate(
    subject_id: int,
    flags: _Flags | None,
    records: list[tuple],
    matter: rules_mod.CompiledMatter | None,
    day: dt.date,
    rules: rules_mod.RuleSet,
    subject_kind: str = "",
) -> Applicability:
    hits = _hits(flags, records, rules, day)
    kind = subject_kind or (flags.subject_kind if flags is not None else "")
    rewards: list[ApplicableMeasure] = []
    punishments: list[ApplicableMeasure] = []
    if hits:
        list_hits: dict[int, list[str]] = {}
        for h in hits:
            if h.source == "list":
                list_hits.setdefault(h.list_type_id, []).append(h.ref)
        record_hits = [h for h in hits if h.source == "record"]
        matter_id = matter.id if matter else None
        for m in rules.measures:
            if not m.in_force_on(day) or not m.applies_to_matter(matter_id):
                continue
            if m.subject_kinds and kind and kind not in m.subject_kinds:
                continue
            refs = [ref for lt_id in m.list_type_ids for ref in list_hits.get(lt_id, ())]
            refs += [h.ref for h in record_hits if m.triggered_by_record(h.code, h.tier)]
            if not refs:
                continue
            applicable = ApplicableMeasure(
                code=m.code,
                name=m.name,
                kind=m.kind,
                measure_class=m.measure_class,
                incentive_category=m.incentive_category,
                content=m.content,
                legal_basis=m.legal_basis,
                departments=m.departments,
                triggered_by=tuple(refs),
            )
            (rewards if m.kind == "reward" else punishments).append(applicable)
    withheld: list[ApplicableMeasure] = []
    if rewards and getattr(settings, "PUBCREDIT_REWARDS_WITHHELD_BY_BLACK", True):
        if any(h.kind == "black" for h in hits):
            withheld, rewards = rewards, []
    return Applicability(
        subject_id=subject_id,
        matter_code=matter.code if matter else None,
        matter_name=matter.name if matter else "",
        day=day,
        hits=tuple(hits),
        rewards=tuple(rewards),
        punishments=tuple(punishments),
        withheld_rewards=tuple(withheld),
        rules_version=rules.version,
    )


def _matter(rules: rules_mod.RuleSet, matter_code: str | None) -> rules_mod.CompiledMatter | None:
    if matter_code is None:
        return None
    matter = rules.matter(matter_code)
    if matter is None or not matter.active:
        raise UnknownMatter(matter_code)
    return matter


def applicable_measures(
    subject_id: int,
    matter_code: str | None,
    today: dt.date | None = None,
    *,
    subject_kind: str = "",
) -> Applicability:
    """The hits and applicable measures for one subject and matter on `today` (default: today in
    Asia/Shanghai). `matter_code=None` means every matter. Pass `subject_kind` (org / ind /
    person) when known: measures limited to some kinds (限制出境 → persons) need it for subjects
    with only record hits. Raises UnknownMatter for a code that is not an active matter.

    Cost: two indexed reads — the SubjectFlags row by primary key (list entries) and the
    subject's public negative records in the publicity read model — plus, at most every few
    seconds, one read of the rules version."""
    rules = rules_mod.current_rules()
    matter = _matter(rules, matter_code)
    day = today or timezone.localdate()
    flags = _fetch_flags([subject_id]).get(subject_id)
    records = _public_negative_records([subject_id], rules, day)
    return _evaluate(subject_id, flags, records, matter, day, rules, subject_kind)


RECORD_COLUMNS = (
    "record_id",
    "subject_id",
    "category_id",
    "tier",
    "state",
    "start",
    "end",
    "decision_date",
    "department_id",
    "business_key",
)


def json_rows_sql(select_sql: str, columns: Iterable[str]) -> str:
    """A scalar subquery giving the rows of `select_sql` (whose columns are `columns`) as one
    JSON array of arrays (NULL on PostgreSQL, [] on SQLite when there are none)."""
    return _json_rows_text(select_sql, tuple(columns), connection.vendor)


@functools.lru_cache(maxsize=64)
def _json_rows_text(select_sql: str, columns: tuple[str, ...], vendor: str) -> str:
    qn = connection.ops.quote_name
    cols = ", ".join(f"x.{qn(c)}" for c in columns)
    if vendor == "postgresql":
        agg = f"json_agg(json_build_array({cols}))"
    else:
        agg = f"json_group_array(json_array({cols}))"
    return f"(SELECT {agg} FROM ({select_sql}) x)"


def json_value(value):
    """A JSON column or aggregate as Python (drivers return it parsed or as text)."""
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


@dataclass
class SubjectFacts:
    """What a check needs about one subject, read in one round trip by `read_subject_facts`:
    the subject's register row, its SubjectFlags entries, its public negative records, and the
    rows of the extra aggregates asked for (e.g. commitments in force)."""

    subject: dict
    flags: _Flags | None
    records: list[tuple]
    extra: list[list]


def read_subject_facts(
    column: str,
    value,
    fields: tuple[str, ...],
    day: dt.date,
    extra: Iterable[tuple[str, list, tuple[str, ...]]] = (),
) -> SubjectFacts | None:
    """The subject whose `column` (uscc, id_index or id) equals `value`, its `fields`, its
    SubjectFlags row and its negative records public on `day`, plus each `extra` (a SELECT on
    `s.id` with its parameters and columns) as JSON rows: ONE query and one round trip (the
    reads of a check are index probes; the round trips and the statements cost more). None
    when no such subject."""
    rules = rules_mod.current_rules()
    flags_table = SubjectFlags._meta.db_table
    pinned = citus.is_citus()
    if pinned and column != "id":
        # On Citus the subject is found by its identifier first, on its own, in the key table
        # (distributed by the identifier, subjects.keys: a router query to one shard; the
        # register itself is distributed by id): the reads below are then one single-shard
        # router query too.
        found = hotpath.fetchone(keys.LOOKUP_SQL, [keys.subject_key(column, value)])
        if found is None:
            return None
        column, value = "id", found[0]
    # On Citus every by-subject read names the subject's id itself, not `s.id`: the router
    # planner sends a query to one shard only when each distributed table in it is filtered by
    # a constant on its distribution column (docs/scale.md, "Distribution on Citus"). Each
    # part's subject condition is its first placeholder (negative_records_sql, commitments_sql,
    # current_grades_sql put it first in their WHERE).
    parts = [*(f"s.{f}" for f in fields), "f.entries", "f.subject_kind"]
    params: list = []
    records = negative_records_sql(
        "p.subject_id = %s" if pinned else "p.subject_id = s.id", rules, day
    )
    if records is not None:
        parts.append(json_rows_sql(records[0], RECORD_COLUMNS))
        params += [value, *records[1]] if pinned else records[1]
    else:
        parts.append("NULL")
    extra = list(extra)
    for sql, extra_params, columns in extra:
        if pinned:
            sql, extra_params = sql.replace("= s.id", "= %s", 1), [value, *extra_params]
        parts.append(json_rows_sql(sql, columns))
        params += extra_params
    flags_on = "%s" if pinned else "s.id"
    if pinned:
        params.append(value)
    sql = (
        f"SELECT {', '.join(parts)} FROM {Subject._meta.db_table} s "
        f"LEFT JOIN {flags_table} f ON f.subject_id = {flags_on} WHERE s.{column} = %s LIMIT 1"
    )
    row = hotpath.fetchone(sql, [*params, value])
    if row is None:
        return None
    n = len(fields)
    entries, flags_kind, record_rows = row[n], row[n + 1], json_value(row[n + 2]) or []
    return SubjectFacts(
        subject=dict(zip(fields, row[:n], strict=True)),
        flags=_Flags(flags_kind, json_value(entries)) if flags_kind is not None else None,
        records=negative_record_rows(record_rows),
        extra=[json_value(v) or [] for v in row[n + 3 :]],
    )


def applicability_of(
    facts: SubjectFacts, matter_code: str | None, today: dt.date, *, subject_kind: str = ""
) -> Applicability:
    """`applicable_measures` from facts already read (`read_subject_facts`)."""
    rules = rules_mod.current_rules()
    matter = _matter(rules, matter_code)
    sid = facts.subject["id"]
    return _evaluate(sid, facts.flags, facts.records, matter, today, rules, subject_kind)


def applicable_measures_many(
    subject_ids: Iterable[int],
    matter_code: str | None,
    today: dt.date | None = None,
    *,
    subject_kinds: dict[int, str] | None = None,
) -> dict[int, Applicability]:
    """`applicable_measures` for many subjects (batch checks): two queries per 2,000 subjects.
    `subject_kinds` maps subject id → kind where known."""
    rules = rules_mod.current_rules()
    matter = _matter(rules, matter_code)
    day = today or timezone.localdate()
    kinds = subject_kinds or {}
    ids = list(dict.fromkeys(subject_ids))
    out: dict[int, Applicability] = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Compiling the look-ups of 2,000 subjects costs more than running them.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            found = _fetch_flags(chunk)
            by_subject: dict[int, list[tuple]] = {}
            for row in _public_negative_records(chunk, rules, day):
                by_subject.setdefault(row[1], []).append(row)
            for sid in chunk:
                out[sid] = _evaluate(
                    sid,
                    found.get(sid),
                    by_subject.get(sid, []),
                    matter,
                    day,
                    rules,
                    kinds.get(sid, ""),
                )
    return out
