"""Credit checks (信用核查): who a subject is, what counts against (or for) it today, which reward
and punishment measures apply to the matter at hand, in plain Chinese, and a log of every check.

`run_check` is the one path for a single check (API, window page, CLI); `check_batch.run_batch`
checks a file set-based with the same rules. Both read only narrow indexed tables: the subject
register by 统一社会信用代码 / blind index, the `SubjectFlags` read model, the publicity read model
and the commitments and the current grades, with the rules cached in memory. A single check is
two statements: one read (`measures.applicability.read_subject_facts`: the subject and all it
needs, five index probes in one statement, pubcredit.core.hotpath) and the INSERT of
its log row (on Citus three, each a router query to one shard: the identifier's key in the key
table first, subjects.keys; docs/scale.md).

Credit grades (信用评价, pubcredit.scoring): every answer has `grade`, the subject's current
grade under its general scorecard ({"scorecard", "scorecard_name", "sector", "sector_name",
"public", "version", "score", "grade", "points_grade", "as_of", "computed_at"}; None when the
subject was never evaluated, shown as 未评价, or when no subject was identified), and
`sector_grades`, its grades under sector scorecards (家政服务, 建筑市场), read in the same
statement (`scoring.current`, an index probe on the current results). Grades given by other
authorities (纳税信用等级, …) are records of their categories and are not part of a check.
For organisations and 个体工商户 the grade and its score are shown to every caller. A natural
person's grade is the 个人信用积分, which is never public: it is shown only to a staff member
signed in (not a system key, not the CLI) whose role may see persons' data
("subjects.view_person": 信用中心工作人员, 平台管理员) and whose scope holds the person
(`may_see_points`); that look is logged with `subjects.access.log_person_access` (purpose
"信用核查:<事项>") in the transaction of the check's log row. To anyone else (窗口核查员,
金融机构用户, systems) a person's `grade` is None and `sector_grades` empty. Batch checks never
show persons' points (a results file is a download).

How a subject is identified, and what a check will assert:
- by 统一社会信用代码 or 身份证号: the identifier is validated first (an invalid one is an error,
  never "not found"); an identifier that is valid but not in the register gives outcome
  `not_found` with no hits and no measures: the platform says it has no information, not that
  the subject is clean;
- by name only (decision, documented in docs and tests): a name is not an identifier, so a
  name-only check asserts a subject, its hits and its measures ONLY when the normalised name
  equals the CURRENT name of exactly one organisation or 个体工商户 in the register. Any other
  outcome (several equal names, a former name, a similar name) returns `candidates` with scores
  and NOTHING about any candidate's hits or measures (outcome `candidates`), and the conclusion
  asks for a check by code. Natural persons are never identified by name (many people share a
  name): a name-only check looks only at organisations and 个体工商户;
- natural persons: the name is masked (张*) and the 身份证号 shown masked (first 6 + last 4)
  everywhere in the result and in the log; the clear number is never stored.

Every check writes one `CreditCheck` row (who: user or API key; channel and client; matter;
subject; outcome and counts; the result as shown). That row is the trail of the look; a check
is a read, so no AuditEvent is written. Feedback (`checks.feedback.record_feedback`), a write,
is audited. The answer's content (JSON, labels, conclusion) is built by `checks.answers`, for
single and batch checks alike.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import SubjectKind
from pubcredit.checks.answers import (
    QUERY_KEYS,
    answer_head,
    answer_json,
    answer_own,
    answer_shared,
    applicability_json,
    conclusion_for,
    json_text,
    name_caution,
    subject_json,
)
from pubcredit.checks.models import CheckChannel, CheckOutcome, CreditCheck
from pubcredit.commitments.queries import COMMITMENT_COLUMNS, commitment_dicts, commitments_sql
from pubcredit.core import hotpath, identifiers
from pubcredit.measures import rules as rules_mod
from pubcredit.measures.applicability import (
    Applicability,
    SubjectFacts,
    applicability_of,
    read_subject_facts,
)
from pubcredit.scoring.current import GRADE_COLUMNS, current_grades_sql, grade_dicts
from pubcredit.subjects import crypto
from pubcredit.subjects.access import log_person_access
from pubcredit.subjects.models import Subject
from pubcredit.subjects.names import normalize_name
from pubcredit.subjects.services import find_subject, person_id_index

ACTION = "checks.run"
PERSON_ACTION = "subjects.view_person"
CANDIDATE_LIMIT = 5
# Roles that see every check (the credit centre runs the platform); others see their own
# department's checks (people) or their own (systems, people without a department).
ALL_CHECKS_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.CENTRE_STAFF})
NAME_KINDS = (SubjectKind.ORG, SubjectKind.INDIVIDUAL_BUSINESS)
SUBJECT_FIELDS = ("id", "kind", "name", "uscc", "id_masked", "region")
_CHANNELS = frozenset(CheckChannel.values)


# --------------------------------------------------------------------------- input


# Unicode's control characters (category Cc: U+0000–U+001F, U+007F–U+009F) and surrogates (Cs),
# as one character class (a test holds it to unicodedata, code point for code point).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_WHITESPACE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _bad_char(text: str) -> bool:
    """Control characters (NUL …) but tab and newlines, and lone surrogates: no identifier or
    name contains them, and PostgreSQL refuses NUL in text."""
    return _CONTROL_BUT_WHITESPACE.search(text) is not None


def plain_text(value: str | None, limit: int) -> str:
    """`value` without control characters and lone surrogates, cut to `limit` (for free text
    such as a client name or a note, which is kept, not rejected)."""
    return " ".join(_CONTROL.sub("", value or "").split())[:limit]


@dataclass(frozen=True)
class CheckQuery:
    """A validated request: `kind` uscc / id / name, `value` the normalised identifier or the
    name, `shown` what may be echoed and logged (an ID number masked)."""

    kind: str
    value: str
    shown: str


def parse_query(
    *, uscc: str | None = None, id_number: str | None = None, name: str | None = None
) -> CheckQuery:
    """Exactly one of uscc / id_number / name, validated. Raises ValidationError keyed by the
    field with the identifier's own Chinese messages (e.g. the wrong check character)."""
    given = {k: v for k, v in (("uscc", uscc), ("id_number", id_number), ("name", name)) if v}
    given = {k: str(v).strip() for k, v in given.items() if str(v).strip()}
    if len(given) != 1:
        raise ValidationError(
            {
                "subject": [
                    _("请提供统一社会信用代码(uscc)、身份证号(id_number)或名称(name)中的一项。")
                ]
            }
        )
    field, raw = next(iter(given.items()))
    if _bad_char(raw):
        raise ValidationError({field: [_("输入中含有控制字符等无效字符,请重新输入。")]})
    if field == "uscc":
        result = identifiers.check_uscc(raw)
        if not result.valid:
            raise ValidationError({"uscc": result.errors})
        return CheckQuery("uscc", result.normalized, result.normalized)
    if field == "id_number":
        result = identifiers.check_ric(raw)
        if not result.valid:
            raise ValidationError({"id_number": result.errors})
        return CheckQuery("id", result.normalized, crypto.mask_id(result.normalized))
    text = " ".join(raw.split())
    if len(text) > 200:
        raise ValidationError({"name": [_("名称过长(不超过 200 字)。")]})
    if len(normalize_name(text)) < 2:
        raise ValidationError({"name": [_("名称至少应有 2 个字。")]})
    return CheckQuery("name", text, text)


def resolve_matter(code: str | None) -> rules_mod.CompiledMatter:
    """The active matter with this code; ValidationError (Chinese, key "matter") otherwise."""
    code = (code or "").strip()
    if not code:
        raise ValidationError({"matter": [_("请选择核查事项(matter)。")]})
    if _bad_char(code):
        code = plain_text(code, 64)
    matter = rules_mod.current_rules().matter(code)
    if matter is None or not matter.active:
        raise ValidationError(
            {
                "matter": [
                    _("未知的核查事项编码:%(code)s(可用 `pubcredit matters` 查看事项目录)")
                    % {"code": code}
                ]
            }
        )
    return matter


# --------------------------------------------------------------------------- the check


class CheckResult:
    """A finished check: its log row (`check`), the answer as the API returns it (`data`) and
    that answer serialised (`body`, UTF-8 JSON). The answer is serialised once, for the log row
    and the response alike; the model instance and the dict are built only when asked for."""

    def __init__(self, pk: int, row: dict, result: dict, result_text: str):
        self.pk = pk
        self.row = row  # the log row's values by attname, but `result`
        self.result = result
        self.result_text = result_text

    @property
    def outcome(self) -> str:
        return self.row["outcome"]

    @functools.cached_property
    def check(self) -> CreditCheck:
        check = CreditCheck(pk=self.pk, result=self.result, **self.row)
        check._state.adding = False
        check._state.db = connection.alias
        return check

    @functools.cached_property
    def data(self) -> dict:
        return {**answer_head(self.pk, self.row), **self.result}

    @property
    def body(self) -> bytes:
        head = json_text(answer_head(self.pk, self.row))
        return f"{head[:-1]},{self.result_text[1:]}".encode()


def _facts(column: str, value, day: dt.date) -> SubjectFacts | None:
    """The subject and everything a check says about it, in one query (services docstring):
    `extra[0]` its commitments in force, `extra[1]` its current grades."""
    sql, params = commitments_sql("subject_id = s.id", day)
    grades_sql, grades_params = current_grades_sql("r.subject_id = s.id")
    return read_subject_facts(
        column,
        value,
        SUBJECT_FIELDS,
        day,
        extra=[
            (sql, params, COMMITMENT_COLUMNS),
            (grades_sql, grades_params, GRADE_COLUMNS),
        ],
    )


def _grades(facts: SubjectFacts | None) -> list[dict]:
    """The subject's current grades read with its facts (`scoring.current.grade_dicts`)."""
    if facts is None:
        return []
    return grade_dicts(facts.extra[1]).get(facts.subject["id"], [])


def may_see_points(principal: Principal, subject_id: int) -> bool:
    """Whether a check by `principal` shows a natural person's 个人信用积分: only to a staff
    member (a person signed in, not a system key or the CLI) whose role may see persons' data
    ("subjects.view_person") and whose scope holds the person. Its look is then logged
    (`_log_points_look`). One query."""
    if principal.user is None or not principal.can(PERSON_ACTION):
        return False
    return restrict(Subject.objects.filter(pk=subject_id), principal, PERSON_ACTION).exists()


def _log_points_look(principal: Principal, subject: dict, matter_name: str) -> None:
    person = Subject(pk=subject["id"], kind=subject["kind"])
    log_person_access(
        principal,
        person,
        purpose=_("信用核查:%(m)s") % {"m": matter_name},
        what=_("个人信用积分(信用核查)"),
    )


def _find(query: CheckQuery, day: dt.date) -> tuple[SubjectFacts | None, list[dict], str]:
    """(the subject's facts or None, candidates, match kind)."""
    if query.kind in ("uscc", "id"):
        column, value = (
            ("uscc", query.value)
            if query.kind == "uscc"
            else ("id_index", person_id_index(query.value))
        )
        facts = _facts(column, value, day)
        match = "uscc" if query.kind == "uscc" else "id_number"
        return facts, [], match if facts is not None else "not_found"
    match = find_subject(name=query.value, kinds=NAME_KINDS, limit=CANDIDATE_LIMIT)
    norm = normalize_name(query.value)[:200]
    exact = match.subject
    namesakes = [c for c in match.candidates if exact is None or c.subject.pk != exact.pk]
    namesakes = [c for c in namesakes if c.score >= 100]
    if exact is not None and exact.name_norm == norm and not namesakes:
        # Unique equal current name (find_subject sets `subject` only when unique) that no
        # other subject used before; a former name or a near name is never asserted.
        facts = _facts("id", exact.pk, day)
        if facts is not None:
            return facts, [], "name_exact"
    candidates = [
        {
            "subject": subject_json(c.subject),
            "score": float(c.score),
            "reason": str(c.reason),
        }
        for c in match.candidates
    ]
    return None, candidates, "candidates" if candidates else "not_found"


def _not_identified_conclusion(query: CheckQuery, match: str, candidates: list) -> str:
    if match == "candidates":
        return _(
            "仅凭名称无法唯一确定主体:找到 %(n)d 个名称相同或相近的候选主体。本次核查未对任何候选"
            "主体作出结论,请以统一社会信用代码或身份证号重新核查。"
        ) % {"n": len(candidates)}
    if query.kind == "uscc":
        return _(
            "主体库中没有统一社会信用代码为 %(code)s 的主体,平台未归集到其信用信息,无法作出核查"
            "结论。请核对代码。"
        ) % {"code": query.value}
    if query.kind == "id":
        return _(
            "主体库中没有该证件号码(%(id)s)对应的自然人,平台未归集到其信用信息,无法作出核查结论。"
        ) % {"id": query.shown}
    return _(
        "未找到名称为“%(name)s”的组织或个体工商户,无法作出核查结论。请以统一社会信用代码或"
        "身份证号核查(自然人不能仅凭姓名核查)。"
    ) % {"name": query.value}


def build_result(
    query: CheckQuery,
    matter: rules_mod.CompiledMatter,
    day: dt.date,
    facts: SubjectFacts | None,
    candidates: list[dict],
    match: str,
    grades: list[dict] = (),
) -> tuple[dict, Applicability | None]:
    """The JSON answer (without the log's id and time) for an identified subject or not, with
    `grades` (the subject's current grades the caller may see)."""
    app = None
    subject = facts.subject if facts is not None else None
    if facts is not None:
        app = applicability_of(facts, matter.code, day, subject_kind=subject["kind"])
        lead = ""
        if match == "name_exact":
            shown = subject_json(subject)
            lead = _("按名称精确匹配到唯一主体“%(name)s”(统一社会信用代码 %(code)s),") % {
                "name": shown["name"],
                "code": shown["uscc"] or "—",
            }
        outcome, conclusion = conclusion_for(app, matter.name, subject_text=lead)
        if match == "name_exact":
            conclusion += name_caution()
    else:
        outcome = CheckOutcome.CANDIDATES if match == "candidates" else CheckOutcome.NOT_FOUND
        conclusion = _not_identified_conclusion(query, match, candidates)
    own = answer_own(
        day=day,
        query={QUERY_KEYS[query.kind]: query.shown},
        match=match,
        subject=subject,
        candidates=candidates,
        # Credit commitments (信用承诺) in force on the day (not breached): one indexed query.
        commitments=(
            commitment_dicts(facts.extra[0]).get(subject["id"], []) if facts is not None else []
        ),
        grades=grades,
    )
    shared = answer_shared(
        matter=matter,
        parts=applicability_json(app),
        outcome=outcome,
        conclusion=conclusion,
        rules_version=app.rules_version if app else rules_mod.current_rules().version,
    )
    data = answer_json(own=own, shared=shared)
    return data, app


def run_check(
    principal: Principal,
    *,
    uscc: str | None = None,
    id_number: str | None = None,
    name: str | None = None,
    matter: str,
    channel: str = CheckChannel.API,
    client: str = "",
    today: dt.date | None = None,
) -> CheckResult:
    """Check one subject for one matter and log the check.

    Guarantees: requires "checks.run"; exactly one of uscc / id_number / name, validated
    (ValidationError with the identifier's Chinese message) and an active matter (ValidationError
    keyed "matter"); hits are exactly the list entries valid on `today` (default: today in
    Asia/Shanghai; valid through D hits on D, not on D+1) and the negative records public that
    day, so expired, removed, repaired, ended and withdrawn facts never hit; measures are those
    in force for the matter and the subject's kind, rewards and punishments apart, each with
    its legal basis and class; a name-only check asserts nothing about a subject unless the
    name is the current name of exactly one organisation / 个体工商户 (module docstring);
    persons are masked. One CreditCheck row is written (in its own transaction) whatever the
    outcome, with the answer as shown; its id and number are in the result."""
    principal.require(ACTION)
    if channel not in _CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    query = parse_query(uscc=uscc, id_number=id_number, name=name)
    compiled = resolve_matter(matter)
    now = timezone.now()
    day = today or timezone.localdate(now)
    facts, candidates, match = _find(query, day)
    subject = facts.subject if facts is not None else None
    grades = _grades(facts)
    points_look = False
    if grades and subject["kind"] == SubjectKind.PERSON:
        # A person's points are never public: shown to staff allowed to see persons, logged.
        points_look = may_see_points(principal, subject["id"])
        if not points_look:
            grades = []
    data, _app = build_result(query, compiled, day, facts, candidates, match, grades)
    row = {
        "checked_at": now,
        "checked_on": day,
        "channel": channel,
        "client": plain_text(client, 150),
        "user_id": principal.user.pk if principal.user is not None else None,
        "api_key_id": principal.api_key.pk if principal.api_key is not None else None,
        "actor_label": principal.label[:150],
        "department_id": principal.department_id,
        "matter_id": compiled.id,
        "query_kind": query.kind,
        "query_value": query.shown[:200],
        "subject_id": subject["id"] if subject else None,
        "outcome": data["outcome"],
        "hit_count": min(len(data["hits"]), 32767),
        "punishment_count": len(data["punishments"]),
        "reward_count": len(data["rewards"]),
        "batch_id": None,
    }
    text = json_text(data)
    if points_look:
        # The look at the person's points is logged with the check, or neither is written.
        with transaction.atomic():
            _log_points_look(principal, subject, compiled.name)
            return CheckResult(_insert_check(row, text), row, data, text)
    return CheckResult(_insert_check(row, text), row, data, text)


# Every column of the log row but the id, in the model's field order; `result` is written as
# the JSON text of the answer (the one serialisation of it).
_LOG_FIELDS = tuple(f for f in CreditCheck._meta.concrete_fields if not f.primary_key)
_RESULT_FIELD = CreditCheck._meta.get_field("result")
_INSERT_SQL = (
    f"INSERT INTO {CreditCheck._meta.db_table} ({', '.join(f.column for f in _LOG_FIELDS)}) "
    f"VALUES ({', '.join(['%s'] * len(_LOG_FIELDS))}) RETURNING id"
)


def _insert_check(row: dict, result_text: str) -> int:
    """Write the check's log row and return its id: one INSERT … RETURNING id in autocommit
    (atomic by itself, one round trip less than BEGIN … COMMIT; pubcredit.core.hotpath),
    because Model.save costs more than the rest of a check. `row` holds every other field by
    attname (a KeyError otherwise); the values are the fields' own conversions, so the row is
    what the ORM would write."""
    return hotpath.fetchone(_INSERT_SQL, _insert_values(row, result_text))[0]


def _insert_values(row: dict, result_text: str) -> list:
    """The INSERT's parameters: `row`'s values converted as each field converts them."""
    conn = connections[DEFAULT_DB_ALIAS]
    return [
        result_text if f is _RESULT_FIELD else f.get_db_prep_save(row[f.attname], conn)
        for f in _LOG_FIELDS
    ]


# --------------------------------------------------------------------------- reading the log


def visible_checks(principal: Principal) -> QuerySet[CreditCheck]:
    """The checks `principal` may read: the credit centre (and the platform admin) all; a
    system key its own; a person their department's, or their own without a department."""
    if not principal.can(ACTION):
        return CreditCheck.objects.none()
    qs = CreditCheck.objects.all()
    if principal.role in ALL_CHECKS_ROLES:
        return qs
    if principal.api_key is not None:
        return qs.filter(api_key=principal.api_key)
    if principal.department_id:
        return qs.filter(department_id=principal.department_id)
    if principal.user is not None:
        return qs.filter(user=principal.user)
    return qs.none()


def get_check(principal: Principal, check_id: int) -> CreditCheck:
    """One check the principal may read; CreditCheck.DoesNotExist otherwise (not revealing
    whether someone else's check exists)."""
    principal.require(ACTION)
    return visible_checks(principal).get(pk=check_id)


def check_or_404(principal: Principal, check_id: int) -> CreditCheck:
    try:
        return get_check(principal, check_id)
    except (CreditCheck.DoesNotExist, ValueError, TypeError):
        raise ObjectDoesNotExist(_("核查记录不存在或无权查看。")) from None
