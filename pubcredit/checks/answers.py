"""The answer of a credit check as the API shows it and its log row keeps: the subject (persons
masked), the hits, the measures with their legal basis, the outcome and its plain Chinese
conclusion. Single checks (`checks.services.run_check`) and batch rows (`checks.batch`) build
their answers here, so every logged check has one shape."""

from __future__ import annotations

import datetime as dt
import functools
import json
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.checks.models import CheckOutcome, CreditCheck, check_number
from pubcredit.core.identifiers import region_label
from pubcredit.lists.models import ListKind
from pubcredit.measures.applicability import Applicability
from pubcredit.measures.models import IncentiveCategory, MeasureClass
from pubcredit.publicity.models import Tier
from pubcredit.subjects.models import Subject
from pubcredit.subjects.names import mask_person_name

# Choice labels by value, built once (an enum's `.values` builds a new list on every call); the
# labels are lazy and translated when shown.
_SUBJECT_KIND_LABELS = dict(SubjectKind.choices)
_TIER_LABELS = dict(Tier.choices)
_CLASS_LABELS = dict(MeasureClass.choices)
_INCENTIVE_LABELS = dict(IncentiveCategory.choices)
_OUTCOME_LABELS = dict(CheckOutcome.choices)


# Inside `labels_translated_once()` each choice label is translated once (a batch renders
# 100,000 answers in one language; a lazy label's translation costs tens of µs each time).
_TRANSLATED_LABELS: ContextVar[dict | None] = ContextVar("translated_labels", default=None)


@contextmanager
def labels_translated_once():
    token = _TRANSLATED_LABELS.set({})
    try:
        yield
    finally:
        _TRANSLATED_LABELS.reset(token)


def _label(labels: dict, value, default: str = "") -> str:
    label = labels.get(value)
    if label is None:
        return default
    translated = _TRANSLATED_LABELS.get()
    if translated is None:
        return str(label)
    key = (id(labels), value)
    text = translated.get(key)
    if text is None:
        text = translated[key] = str(label)
    return text


@functools.lru_cache(maxsize=4096)
def _region_name(code: str) -> str:
    return region_label(code) if code else ""


def subject_json(subject: Subject | dict) -> dict:
    """A subject as checks show it: persons masked (name 张*, 身份证号 first 6 + last 4)."""
    get = subject.get if isinstance(subject, dict) else lambda k: getattr(subject, k)
    kind = get("kind")
    is_person = kind == SubjectKind.PERSON
    region = get("region") or ""
    return {
        "id": get("id"),
        "kind": kind,
        "kind_label": _label(_SUBJECT_KIND_LABELS, kind, kind),
        "name": mask_person_name(get("name")) if is_person else get("name"),
        "uscc": None if is_person else get("uscc"),
        "id_masked": get("id_masked") if is_person else None,
        "region": region,
        "region_name": _region_name(region),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


_KIND_LABELS = {
    ListKind.RED.value: ListKind.RED.label,
    ListKind.BLACK.value: ListKind.BLACK.label,
    ListKind.WATCH.value: ListKind.WATCH.label,
    "negative": _("失信记录"),
}


def hit_json(hit) -> dict:
    return {
        "ref": hit.ref,
        "source": hit.source,
        "kind": hit.kind,
        "kind_label": _label(_KIND_LABELS, hit.kind, hit.kind),
        "code": hit.code,
        "name": hit.name,
        "authority": hit.authority,
        "decided_on": _iso(hit.decided_on),
        "valid_from": _iso(hit.valid_from),
        "valid_to": _iso(hit.valid_to),
        "document_number": hit.document_number,
        "tier": hit.tier,
        "tier_label": _label(_TIER_LABELS, hit.tier),
        "title": hit.title,
    }


def _measure_json(m) -> dict:
    cls = m.measure_class
    cat = m.incentive_category
    return {
        "code": m.code,
        "name": m.name,
        "kind": m.kind,
        "measure_class": cls,
        "class_label": _label(_CLASS_LABELS, cls),
        "incentive_category": cat,
        "incentive_category_label": _label(_INCENTIVE_LABELS, cat),
        "content": m.content,
        "legal_basis": m.legal_basis,
        "departments": list(m.departments),
        "triggered_by": list(m.triggered_by),
    }


def _names(items) -> str:
    return "、".join(dict.fromkeys(i.name for i in items))


def conclusion_for(
    app: Applicability | None, matter_name: str, *, subject_text: str = ""
) -> tuple[str, str]:
    """(outcome, plain Chinese conclusion) for a subject that was identified."""
    lead = subject_text
    if app is None or not app.hits:
        text = lead + _("未发现失信信息。")
        return CheckOutcome.CLEAR, text + _("办理“%(m)s”时无适用的奖惩措施。") % {"m": matter_name}
    black = [h for h in app.hits if h.kind == ListKind.BLACK]
    watch = [h for h in app.hits if h.kind == ListKind.WATCH]
    red = [h for h in app.hits if h.kind == ListKind.RED]
    records = [h for h in app.hits if h.source == "record"]
    facts = []
    if black:
        facts.append(_("该主体在严重失信主体名单内(%(n)s)") % {"n": _names(black)})
    if watch:
        facts.append(_("列入重点关注名单(%(n)s)") % {"n": _names(watch)})
    if records:
        facts.append(
            _("有 %(n)d 条公示中的失信记录(%(c)s)") % {"n": len(records), "c": _names(records)}
        )
    negative = bool(facts)
    if red:
        red_text = _("在守信激励名单内(%(n)s)") % {"n": _names(red)}
        facts.append(red_text if negative else _("该主体") + red_text)
    text = lead + ("" if negative else _("未发现失信信息,")) + ",".join(facts)
    parts = []
    if app.punishments:
        parts.append(
            _("办理“%(m)s”时适用以下惩戒措施:%(x)s")
            % {"m": matter_name, "x": _names(app.punishments)}
        )
    if app.rewards:
        parts.append(_("可适用以下激励措施:%(x)s") % {"x": _names(app.rewards)})
    if app.withheld_rewards:
        parts.append(
            _("因在严重失信主体名单内,暂不适用激励措施(%(x)s)")
            % {"x": _names(app.withheld_rewards)}
        )
    if not app.punishments and not app.rewards:
        parts.append(_("办理“%(m)s”时无适用的奖惩措施") % {"m": matter_name})
    text += ";" + ";".join(parts) + "。"
    if app.punishments:
        outcome = CheckOutcome.PUNISH
    elif negative:
        outcome = CheckOutcome.HITS
    elif app.rewards:
        outcome = CheckOutcome.REWARD
    else:
        outcome = CheckOutcome.CLEAR
    return outcome, text


def json_text(data) -> str:
    """Compact JSON with Chinese as it is (the answer's and the log's one serialisation)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


QUERY_KEYS = {"uscc": "uscc", "id": "id_number", "name": "name"}


def name_caution() -> str:
    """Appended to the conclusion of a check that found its subject by name only."""
    return _("名称核查结果请以统一社会信用代码复核。")


def measures_json(app: Applicability) -> dict:
    """The measures of an answer (punishments, rewards, withheld rewards), with their legal
    basis."""
    return {
        "punishments": [_measure_json(m) for m in app.punishments],
        "rewards": [_measure_json(m) for m in app.rewards],
        "withheld_rewards": [_measure_json(m) for m in app.withheld_rewards],
    }


def applicability_json(app: Applicability | None) -> dict:
    """The hits and the measures of an answer (empty when no subject was identified)."""
    if app is None:
        return {"hits": [], "punishments": [], "rewards": [], "withheld_rewards": []}
    return {"hits": [hit_json(h) for h in app.hits], **measures_json(app)}


def answer_own(
    *,
    day: dt.date,
    query: dict,
    match: str,
    subject,
    candidates: list[dict],
    commitments: list[dict],
    grades: list[dict] = (),
) -> dict:
    """The part of an answer that is this check's own: what was asked, whom it found, the
    subject's commitments in force and its credit grades (`grades`: the subject's current
    grades as `scoring.current.grade_dicts` gives them, the general scorecard first, already
    limited to what the caller may see: see `checks.services`)."""
    return {
        "checked_on": day.isoformat(),
        "query": query,
        "match": match,
        "subject": subject_json(subject) if subject is not None else None,
        "candidates": candidates,
        "commitments": commitments,
        **grades_json(grades),
    }


def grades_json(grades: list[dict]) -> dict:
    """{"grade": the general scorecard's grade (公共信用综合评价, or a person's 个人信用积分 where
    shown) or None when not evaluated (or not shown), "sector_grades": the sector scorecards'
    grades}."""
    general = next((g for g in grades if not g["sector"]), None)
    return {"grade": general, "sector_grades": [g for g in grades if g["sector"]]}


def answer_shared(*, matter, parts: dict, outcome: str, conclusion: str, rules_version: int):
    """The part of an answer that every check of the same matter with the same facts shares:
    hits, measures (`parts` is `applicability_json(...)`) and conclusion."""
    return {
        "matter": {"code": matter.code, "name": matter.name},
        **parts,
        "outcome": str(outcome),
        "outcome_label": _label(_OUTCOME_LABELS, outcome),
        "conclusion": conclusion,
        "rules_version": rules_version,
    }


def answer_json(*, own: dict, shared: dict) -> dict:
    """The answer of one check as the API shows it and its log row keeps (without the log's id
    and time). Single checks and batch rows are logged in this one shape (`answer_own` +
    `answer_shared`), so reading a check, feedback, notifications and the console read every
    check alike."""
    return {**own, **shared}


def answer_head(pk: int, row) -> dict:
    """The answer's first fields: the log row's id, number, time, channel and who ran it
    (`row`: the row's values by attname, or the CreditCheck)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    checked_at = get("checked_at")
    return {
        "id": pk,
        "number": check_number(pk, checked_at),
        "checked_at": timezone.localtime(checked_at).isoformat(),
        "channel": get("channel"),
        "client": get("client"),
        "checked_by": get("actor_label"),
    }


def check_json(check: CreditCheck) -> dict:
    """The API answer for a logged check: its id, number, time, channel and who ran it, then
    the result as it was shown at the time."""
    return {**answer_head(check.pk, check), **check.result}
