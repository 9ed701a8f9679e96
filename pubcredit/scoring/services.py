"""What the rest of the platform asks of credit evaluation (信用评价).

Reading grades:
- `current_grade(subject, scorecard=None)` → `Grade` or None: the subject's current result under
  its general scorecard (公共信用综合评价 for organisations and 个体工商户, 个人信用积分 for persons),
  or under the scorecard given (a code or a Scorecard, e.g. a sector one);
- `grades_for(subject_ids, scorecard=None)` → {subject id: Grade}, in one query;
- `current_grades(subject, public_only=False)` → every current Grade of one subject (general
  scorecard first, then the sector ones), in one query; `public_only`: what the portal shows
  (public scorecards, never a person's); `grade_bands(grades)` → each one's grade bands;
- `explain(subject, scorecard=None, principal=…, purpose=…)` → the current result line by line:
  every contribution with its indicator's name, dimension and policy basis;
- `history(subject, scorecard=None, principal=…, purpose=…)` → every result, latest first.

A person's points are never public (`Grade.public` is False for them): `explain` and `history`
of a person log the staff look (subjects.access.log_person_access) and require a principal and
a purpose; callers that show `current_grade`/`grades_for` of persons to staff log it likewise.

Computing:
- `compute_all(scorecard=None, as_of=None)`: every scorecard in force (or one), in bulk;
- `compute_subjects(subject_ids, as_of=None)`: the same for some subjects (incremental), in
  the caller's transaction;
- `recompute_later(subject_ids)`: what the subscribers do with a change (scoring.subscribers):
  at once when few subjects changed, else in background tasks after commit;
- `setup_scoring(principal)`: what `pubcredit setup` does (import the shipped scorecards and
  the supervision policy once, compute every grade once).

Lists and statistics start from `results_of(scorecard, grades=None)` (current results, a
queryset); `general_scorecard(kind)` names a kind's general scorecard; `describe_result(row)`
explains any result row, history included (log a person's look yourself).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.scoring import engine
from pubcredit.scoring.current import plain_number
from pubcredit.scoring.definition import parse_definition
from pubcredit.scoring.frames import IN_LIST_MAX
from pubcredit.scoring.models import Scorecard, ScorecardVersion, ScoreResult
from pubcredit.scoring.sources import source_labels
from pubcredit.subjects.access import log_person_access
from pubcredit.subjects.masking import display_identifier, display_name
from pubcredit.subjects.models import Subject

# Up to this many changed subjects are recomputed in the transaction of the change; more are
# handed to background tasks of TASK_BATCH subjects each (the worker picks them up at once),
# and beyond FULL_AFTER the whole of every scorecard is recomputed once instead.
INLINE_MAX = 2_000
TASK_BATCH = 50_000
FULL_AFTER = 250_000


@dataclass(frozen=True)
class Grade:
    """A subject's current result under one scorecard."""

    subject_id: int
    scorecard: str  # code
    scorecard_name: str
    public: bool  # whether the portal may show it (never for persons)
    sector: str
    version: int
    score: Decimal
    grade: str
    points_grade: str  # the grade of the points, before direct downgrades
    as_of: dt.date
    computed_at: dt.datetime
    result_id: int

    @classmethod
    def of(cls, row: ScoreResult) -> Grade:
        card = row.scorecard
        return cls(
            subject_id=row.subject_id,
            scorecard=card.code,
            scorecard_name=card.name,
            public=card.public,
            sector=card.sector,
            version=row.version.version,
            score=row.score,
            grade=row.grade,
            points_grade=row.points_grade,
            as_of=row.as_of,
            computed_at=row.computed_at,
            result_id=row.pk,
        )


# --------------------------------------------------------------------------- scorecards


def _card(scorecard: Scorecard | str | None) -> Scorecard | None:
    if scorecard is None or isinstance(scorecard, Scorecard):
        return scorecard
    found = Scorecard.objects.filter(code=scorecard).first()
    if found is None:
        raise Scorecard.DoesNotExist(_("没有编码为 %(c)s 的信用评价。") % {"c": scorecard})
    return found


def general_scorecard(kind: str, cards: Iterable[Scorecard] | None = None) -> Scorecard | None:
    """The general (非行业) scorecard of a subject kind: the first active one by sort order,
    among `cards` when the caller has read them (active, in sort order) already."""
    if cards is None:
        cards = Scorecard.objects.filter(active=True, sector="").order_by("sort_order", "code")
    for card in cards:
        if not card.sector and kind in (card.subject_kinds or []):
            return card
    return None


def scorecards_in_force(
    scorecard: Scorecard | str | None = None, *, day: dt.date | None = None
) -> list[ScorecardVersion]:
    """The version in force on `day` of every active scorecard (or of the one given): per
    scorecard, the highest-numbered version whose window holds the day. One query."""
    day = day or timezone.localdate()
    versions = (
        ScorecardVersion.objects.filter(effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .select_related("scorecard")
        .order_by("scorecard__sort_order", "scorecard__code", "-version")
    )
    card = _card(scorecard)
    versions = versions.filter(scorecard=card) if card else versions.filter(scorecard__active=True)
    seen: set[int] = set()
    out = []
    for version in versions:  # a few rows: one per version of the scorecards
        if version.scorecard_id not in seen:
            seen.add(version.scorecard_id)
            out.append(version)
    return out


# --------------------------------------------------------------------------- reading


def _current(subject_ids, scorecard: Scorecard | None):
    rows = ScoreResult.objects.filter(subject_id__in=subject_ids, current=True).select_related(
        "scorecard", "version"
    )
    if scorecard is not None:
        return rows.filter(scorecard=scorecard)
    return rows.filter(scorecard__sector="", scorecard__active=True)


def current_grade(subject: Subject | int, scorecard: Scorecard | str | None = None) -> Grade | None:
    """The subject's current grade under `scorecard` (default: its general scorecard), or None
    when it has not been evaluated."""
    pk = subject.pk if isinstance(subject, Subject) else int(subject)
    rows = list(_current([pk], _card(scorecard)).order_by("scorecard__sort_order"))
    return Grade.of(rows[0]) if rows else None


def grades_for(
    subject_ids: Iterable[int], scorecard: Scorecard | str | None = None
) -> dict[int, Grade]:
    """Subject id → its current grade under `scorecard` (default: each subject's general
    scorecard), for those evaluated. One query (pass at most a page of ids)."""
    ids = sorted({int(i) for i in subject_ids})
    if not ids:
        return {}
    out: dict[int, Grade] = {}
    for row in _current(ids, _card(scorecard)).order_by("-scorecard__sort_order"):
        out[row.subject_id] = Grade.of(row)  # the first scorecard by sort order wins
    return out


def current_grades(subject: Subject, *, public_only: bool = False) -> list[Grade]:
    """Every current grade of one subject, one per active scorecard that evaluated it: its
    general scorecard first, then the sector ones, by sort order. One query. With
    `public_only`, only the grades the portal may show: scorecards marked public, and never
    a natural person's (a person's look is logged by the caller, see the module notes)."""
    if public_only and subject.is_person:
        return []
    rows = ScoreResult.objects.filter(
        subject_id=subject.pk, current=True, scorecard__active=True
    ).select_related("scorecard", "version")
    if public_only:
        rows = rows.filter(scorecard__public=True)
    grades = [Grade.of(row) for row in rows.order_by("scorecard__sort_order", "scorecard__code")]
    return sorted(grades, key=lambda g: g.sector != "")  # one per scorecard; general first


def grade_bands(grades: Iterable[Grade]) -> dict[str, list[dict]]:
    """Scorecard code → the grade bands of the version each grade was computed under
    ([{"grade", "name", "min"}], best first), for saying what a grade means. One query."""
    grades = list(grades)
    if not grades:
        return {}
    wanted = Q()
    for g in grades:
        wanted |= Q(scorecard__code=g.scorecard, version=g.version)
    out = {}
    for version in ScorecardVersion.objects.filter(wanted).select_related("scorecard"):
        defn = parse_definition(version.definition, base_points=version.base_points)
        out[version.scorecard.code] = _band_dicts(defn)
    return out


def _person_look(
    subject: Subject,
    principal: Principal | None,
    purpose: str,
    what: str,
    client_address: str | None = None,
) -> None:
    if not subject.is_person:
        return
    if principal is None:
        raise PermissionDenied(_("查看个人信用积分须由工作人员填写查询事由。"))
    log_person_access(principal, subject, purpose=purpose, what=what, client_address=client_address)


def _line(defn, item: dict, labels: dict[str, str]) -> dict:
    code = item.get("indicator", "")
    if code == engine.BOUNDS:
        label = {
            "name": _("分值上下限"),
            "dimension": "",
            "basis": _("总分超出评价的分值范围的部分不计。"),
        }
    else:
        label = defn.describe(code)
    line = {
        "indicator": code,
        "name": label["name"],
        "dimension": label["dimension"],
        "points": item.get("points"),
        "source": item.get("source", ""),
        "source_label": labels.get(item.get("source", ""), ""),
        "basis": label["basis"],
    }
    if item.get("source") == "cap":
        line["name"] = _("%(name)s(超出封顶分值的部分不计)") % {"name": label["name"]}
    for key in ("value", "grade_cap"):
        if key in item:
            line[key] = item[key]
    return line


def describe_result(row: ScoreResult) -> dict:
    """A result as the explanation shows it (no look is logged here: see `explain`)."""
    version = row.version
    defn = parse_definition(version.definition, base_points=version.base_points)
    subject = row.subject
    contributions = row.contributions or []
    labels = source_labels(item.get("source", "") for item in contributions)
    return {
        "uscc": subject.uscc or "",
        "name": display_name(subject),
        "identifier": display_identifier(subject),
        "kind": subject.kind,
        "scorecard": row.scorecard.code,
        "scorecard_name": row.scorecard.name,
        "public": row.scorecard.public,
        "version": version.version,
        "base_points": plain_number(version.base_points),
        "score": plain_number(row.score),
        "grade": row.grade,
        "points_grade": row.points_grade,
        "as_of": row.as_of.isoformat(),
        "computed_at": timezone.localtime(row.computed_at).isoformat(timespec="seconds"),
        "current": row.current,
        "bands": _band_dicts(defn),
        "contributions": [_line(defn, item, labels) for item in contributions],
    }


def _band_dicts(defn) -> list[dict]:
    """The grade bands, best first: [{"grade", "name", "min"}] (the lowest band's min None)."""
    return [
        {"grade": b.grade, "name": b.name, "min": None if b.min is None else plain_number(b.min)}
        for b in defn.bands
    ]


def explain(
    subject: Subject,
    scorecard: Scorecard | str | None = None,
    *,
    principal: Principal | None = None,
    purpose: str = "",
    client_address: str | None = None,
) -> dict | None:
    """The subject's current result under `scorecard` (default: its general scorecard) line by
    line (`describe_result`), or None when it has not been evaluated. For a person: the look
    is logged with `purpose` and `client_address` (a principal holding "subjects.view_person"
    is required) and the name is masked."""
    card = _card(scorecard) or general_scorecard(subject.kind)
    if card is None:
        return None
    row = (
        ScoreResult.objects.filter(subject=subject, scorecard=card, current=True)
        .select_related("scorecard", "version", "subject")
        .first()
    )
    if row is None:
        return None
    _person_look(subject, principal, purpose, _("个人信用积分及明细"), client_address)
    return describe_result(row)


def history(
    subject: Subject,
    scorecard: Scorecard | str | None = None,
    *,
    principal: Principal | None = None,
    purpose: str = "",
    client_address: str | None = None,
) -> list[dict]:
    """Every result of the subject under `scorecard` (default: all its scorecards), latest
    first: {"scorecard", "version", "score", "grade", "points_grade", "as_of", "computed_at",
    "current", "result_id"}. A person's history is logged like `explain`."""
    rows = ScoreResult.objects.filter(subject=subject).select_related("scorecard", "version")
    card = _card(scorecard)
    if card is not None:
        rows = rows.filter(scorecard=card)
    rows = list(rows.order_by("-computed_at", "-id"))
    if rows:
        _person_look(subject, principal, purpose, _("个人信用积分历史"), client_address)
    return [
        {
            "scorecard": r.scorecard.code,
            "scorecard_name": r.scorecard.name,
            "version": r.version.version,
            "score": plain_number(r.score),
            "grade": r.grade,
            "points_grade": r.points_grade,
            "as_of": r.as_of.isoformat(),
            "computed_at": timezone.localtime(r.computed_at).isoformat(timespec="seconds"),
            "current": r.current,
            "result_id": r.pk,
        }
        for r in rows
    ]


# --------------------------------------------------------------------------- computing


def compute_all(scorecard: Scorecard | str | None = None, *, as_of: dt.date | None = None) -> list:
    """Recompute every subject of every scorecard in force (or of one), each scorecard in its
    own transaction, set-based (engine.compute). Returns each computation's counts."""
    day = as_of or timezone.localdate()
    return [engine.compute(v, as_of=day) for v in scorecards_in_force(scorecard, day=day)]


def compute_subjects(
    subject_ids: Iterable[int],
    *,
    as_of: dt.date | None = None,
    scorecard: Scorecard | str | None = None,
) -> list:
    """Recompute these subjects under every scorecard in force that may cover them, in the
    caller's transaction (or one of its own). Returns each computation's counts."""
    ids = sorted({int(i) for i in subject_ids if i is not None})
    if not ids:
        return []
    day = as_of or timezone.localdate()
    versions = scorecards_in_force(scorecard, day=day)
    if len(ids) <= IN_LIST_MAX:
        kinds = set(Subject.objects.filter(pk__in=ids).values_list("kind", flat=True).distinct())
        versions = [v for v in versions if kinds & set(v.scorecard.subject_kinds or [])]
    with transaction.atomic(savepoint=False):  # in the caller's: an error rolls it back anyway
        return [engine.compute(v, subject_ids=ids, as_of=day) for v in versions]


def recompute_later(subject_ids: Iterable[int], *, as_of: dt.date | None = None) -> dict:
    """Bring the grades of subjects whose facts changed up to date: in the caller's
    transaction when there are at most INLINE_MAX, else through background tasks enqueued when
    it commits (a grade is fresh within a minute either way). Returns what was done."""
    from pubcredit.scoring import tasks  # tasks import this module

    ids = sorted({int(i) for i in subject_ids if i is not None})
    if not ids or not Scorecard.objects.filter(active=True).exists():
        return {"subjects": len(ids), "inline": 0, "tasks": 0}
    if len(ids) <= INLINE_MAX:
        compute_subjects(ids, as_of=as_of)
        return {"subjects": len(ids), "inline": len(ids), "tasks": 0}
    day = as_of.isoformat() if as_of else None
    if len(ids) > FULL_AFTER:
        transaction.on_commit(lambda: tasks.compute_all_task.enqueue(today=day))
        return {"subjects": len(ids), "inline": 0, "tasks": 1}
    batches = [ids[i : i + TASK_BATCH] for i in range(0, len(ids), TASK_BATCH)]
    for batch in batches:
        transaction.on_commit(
            lambda b=batch: tasks.compute_subjects_task.enqueue(subject_ids=b, today=day)
        )
    return {"subjects": len(ids), "inline": 0, "tasks": len(batches)}


def results_of(scorecard: Scorecard | str, *, grades: Iterable[str] | None = None):
    """The current results of a scorecard (a queryset), optionally of some grades: what
    supervision lists and statistics start from."""
    rows = ScoreResult.objects.filter(scorecard=_card(scorecard), current=True)
    if grades is not None:
        rows = rows.filter(grade__in=list(grades))
    return rows


def setup_scoring(principal: Principal) -> list[str]:
    """What `pubcredit setup` does for credit evaluation (idempotent, additive): import the
    shipped scorecards when none are loaded, and compute every grade once when subjects exist
    and nothing was computed yet. Returns what was done, in Chinese, for setup's summary."""
    from pubcredit.scoring.models import InspectionRatio
    from pubcredit.scoring.policyfile import import_supervision
    from pubcredit.scoring.scorecards import import_scorecards

    done = []
    if not Scorecard.objects.exists():
        counts = import_scorecards(principal)
        done.append(_("已导入信用评价规则 %(n)d 个") % {"n": counts["created"]})
    if not InspectionRatio.objects.exists():
        counts = import_supervision(principal)
        done.append(_("已导入分级分类监管抽查比例 %(n)d 条") % {"n": counts["ratios"]["created"]})
    if Subject.objects.exists() and not ScoreResult.objects.exists():
        computed = compute_all()
        subjects = sum(c["subjects"] for c in computed)
        done.append(_("已计算信用等级(%(n)s 个评价结果)") % {"n": f"{subjects:,}"})
    return done
