"""Credit repair (信用修复) applications: whether a record can be repaired, and the application
from filing to decision.

Every write is one function here, `@transaction.atomic`, that checks the principal, moves the
application along its state machine (models.py, through `repair.procedures`), writes a
`ProcedureStep` and an audit event in the same transaction. Deadlines are working days
(pubcredit.holidays) under the `RepairRule` in force on the day the application was filed.

Effects of a granted repair, in the decision's transaction: the record's publicity stops
(`publicity.add_mark(..., "repaired")`, so the portal and the public API no longer show it and
credit checks, which read publicity, no longer hit), the list entries identified from the record
are removed (移出, so list-based measures lift and the check read model is refreshed), and the
decision letter is issued. A broken 信用修复型 commitment revokes the repair (`revoke_repair`,
subscribed to the commitments app's `repair_commitment_broken` in RepairConfig.ready()).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Field, PublicityClass
from pubcredit.commitments.models import Commitment
from pubcredit.commitments.signing import sign_commitment
from pubcredit.lists.models import EntryStatus, ListEntry
from pubcredit.lists.services import remove_entry
from pubcredit.publicity.models import Publicity, PublicityMark, PublicityState
from pubcredit.publicity.rules import ROLE_PENALTY
from pubcredit.publicity.services import add_mark, lift_mark
from pubcredit.records.models import Record
from pubcredit.repair.letters import decision_letter
from pubcredit.repair.models import (
    OPEN_REPAIR,
    Material,
    ProcedureStatus,
    RepairApplication,
    RepairRule,
)
from pubcredit.repair.procedures import (
    SYSTEM,
    checked_phone,
    checked_reference,
    checked_text,
    day_or_today,
    issue_letter,
    lock_procedure,
    move_procedure,
    new_procedure,
    open_procedure,
    refuse_procedure,
    withdraw_procedure,
)
from pubcredit.repair.rules import rule_on
from pubcredit.repair.training import training_completed

S = ProcedureStatus

# --------------------------------------------------------------------------- eligibility


@dataclass(frozen=True)
class Condition:
    """One repair condition: `met` True / False, or None when it is satisfied by the
    application itself (a declaration, a commitment signed with it)."""

    code: str
    label: str
    met: bool | None
    explanation: str

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "met": self.met,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Eligibility:
    record: Record
    rule: RepairRule | None
    publicity: Publicity | None
    conditions: tuple[Condition, ...]

    @property
    def eligible(self) -> bool:
        return all(c.met is not False for c in self.conditions)

    @property
    def unmet(self) -> list[Condition]:
        return [c for c in self.conditions if c.met is False]


def _is_penalty(record: Record) -> bool:
    """A penalty record: its category is public and carries 处罚类别 (the publicity rules'
    penalty mode), asked of the catalogue in one query."""
    return Field.objects.filter(
        category_id=record.category_id,
        role=ROLE_PENALTY,
        category__publicity_class=PublicityClass.PUBLIC,
    ).exists()


def repair_eligibility(
    record: Record,
    today: dt.date | None = None,
    *,
    obligations_declared: bool | None = None,
    proofs: int = 0,
) -> Eligibility:
    """Whether the record can be repaired on `today`, condition by condition, each explained in
    plain Chinese (what the 信用中国 button's grey state means). Read-only.

    Conditions: the record is a penalty shown today; the minimum publicity period is over; the
    obligations are fulfilled (declared, with proof, when the rule requires it); a repair
    commitment (signed with the application); repair training attended when the rule requires
    it for the record's tier; no other application for it open."""
    day = day_or_today(today)
    publicity = Publicity.objects.filter(pk=record.pk).first()
    try:
        rule = rule_on(day)
    except ValidationError:
        rule = None
    out: list[Condition] = []
    add = out.append
    if rule is None:
        add(Condition("rule", _("适用规则"), False, _("当前没有适用的信用修复规则。")))
        return Eligibility(record, None, publicity, tuple(out))

    if not _is_penalty(record):
        add(
            Condition(
                "penalty",
                _("修复对象"),
                False,
                _("在线信用修复仅适用于行政处罚信息;名单信息请向认定部门申请移出。"),
            )
        )
    shown = publicity is not None and publicity.is_public_on(day)
    if shown:
        explain = _("该记录正在公示。")
    elif publicity is not None and publicity.state == PublicityState.REPAIRED:
        explain = _("该记录已完成信用修复,不再公示。")
    elif publicity is not None and publicity.state == PublicityState.ENDED:
        explain = _("该记录公示期已满,已自动停止公示,无需申请修复。")
    else:
        explain = _("该记录当前未在公示,无需申请修复。")
    add(Condition("public", _("正在公示"), shown, explain))

    if rule.requires_min_period:
        repair_from = publicity.repair_from if publicity else None
        if repair_from is None:
            reached, explain = shown, _("该记录没有最短公示期要求。")
        elif repair_from <= day:
            reached = True
            explain = _("最短公示期已于 %(d)s 届满。") % {
                "d": (repair_from - dt.timedelta(days=1)).isoformat()
            }
        else:
            reached = False
            explain = _("最短公示期尚未届满,自 %(d)s 起方可申请修复。") % {
                "d": repair_from.isoformat()
            }
        add(Condition("min_period", _("最短公示期届满"), reached, explain))

    if rule.requires_obligations:
        if obligations_declared is None:
            met, explain = None, _("申请时须声明已纠正失信行为、履行法定义务,并上传证明材料。")
        elif obligations_declared and proofs > 0:
            met, explain = (
                True,
                _("申请人已声明履行法定义务并提交证明材料 %(n)s 份。") % {"n": proofs},
            )
        elif not obligations_declared:
            met, explain = False, _("须纠正失信行为、履行法定义务后方可申请。")
        else:
            met, explain = False, _("须上传履行法定义务的证明材料(如缴款凭证、整改报告)。")
        add(Condition("obligations", _("已履行法定义务"), met, explain))

    if rule.requires_commitment:
        add(
            Condition(
                "commitment",
                _("作出信用修复承诺"),
                None,
                _("提交申请时在线签署信用修复承诺书,承诺所提交材料真实并承担违诺责任。"),
            )
        )

    tier = publicity.tier if publicity else ""
    if tier and tier in (rule.training_tiers or []):
        since = record.decision_date or dt.date.min
        done = training_completed(record.subject_id, since, day, rule.training_valid_months)
        if done is not None:
            met, explain = (
                True,
                _("已于 %(d)s 参加“%(t)s”,结业证明编号 %(n)s。")
                % {
                    "d": done.session.starts_at.date().isoformat(),
                    "t": done.session.title,
                    "n": done.certificate_number or "",
                },
            )
        else:
            met, explain = (
                False,
                _(
                    "严重失信行为的修复须先参加信用修复专题培训(处罚决定之后、近 %(m)s 个月内)。"
                    "请在“信用修复培训”栏目报名。"
                )
                % {"m": rule.training_valid_months},
            )
        add(Condition("training", _("参加信用修复专题培训"), met, explain))

    open_app = RepairApplication.objects.filter(record=record, status__in=OPEN_REPAIR).first()
    add(
        Condition(
            "no_open",
            _("无正在办理的申请"),
            open_app is None,
            _("该记录没有正在办理的修复申请。")
            if open_app is None
            else _("该记录已有正在办理的修复申请,请凭查询码查看进度。"),
        )
    )
    return Eligibility(record, rule, publicity, tuple(out))


# --------------------------------------------------------------------------- repair


@transaction.atomic
def apply_for_repair(
    principal: Principal,
    record: Record,
    *,
    applicant_name: str,
    applicant_phone: str,
    statement: str,
    obligations_declared: bool,
    materials: list[tuple[str, object]],
    accept_commitment: bool,
    today: dt.date | None = None,
    external_id: str = "",
) -> RepairApplication:
    """File a repair application (anyone may: the portal's online application, or a window clerk
    on the subject's behalf).

    Guarantees: refused with the unmet conditions, in Chinese, unless every condition of
    `repair_eligibility` holds; the applicant signs a 信用修复型 commitment with it (accepted by
    the deciding department, linked to the record); the materials are kept untouched with their
    sha256; at most one open application per record (a concurrent second one is refused);
    status 待受理 with the acceptance deadline; one step and one audit event. `external_id`: the
    filing system's reference (one application per filer and reference)."""
    day = day_or_today(today)
    external_id = checked_reference(external_id)
    name = checked_text(applicant_name, "applicant_name", _("经办人姓名"), 64)
    phone = checked_phone(applicant_phone)
    statement = checked_text(statement, "statement", _("整改和履行义务情况说明"), 4000)
    if not accept_commitment:
        raise ValidationError({"accept_commitment": [_("须阅读并签署信用修复承诺书。")]})
    proofs = sum(1 for kind, _f in materials if kind == Material.Kind.PROOF)
    record = (
        Record.objects.select_for_update(of=("self",))
        .select_related("department", "subject")
        # The subject too: on Citus a row lock must name the distribution column (docs/scale.md).
        .get(pk=record.pk, subject_id=record.subject_id)
    )
    if record.subject_id is None:
        raise ValidationError(_("该记录尚未关联主体,暂不能申请修复,请联系信用中心。"))
    check = repair_eligibility(
        record, day, obligations_declared=bool(obligations_declared), proofs=proofs
    )
    if not check.eligible:
        raise ValidationError(
            {"record": [c.explanation for c in check.unmet]},
        )
    rule = check.rule
    app = new_procedure(
        RepairApplication,
        record,
        rule,
        day,
        "repair_accept",
        name=name,
        phone=phone,
        statement=statement,
        obligations_declared=bool(obligations_declared),
        eligibility=[c.as_json() for c in check.conditions],
        external_id=external_id,
    )
    open_procedure(
        app,
        principal,
        materials,
        statement,
        day,
        _("该记录已有正在办理的修复申请,请凭查询码查看进度。"),
    )
    if rule.requires_commitment:
        app.commitment = sign_commitment(
            principal,
            subject=record.subject,
            commitment_type="信用修复型",
            reason=_("申请修复行政处罚信息(%(key)s)") % {"key": record.business_key[:200]},
            content=REPAIR_COMMITMENT_TEXT,
            liability=REPAIR_LIABILITY_TEXT,
            department=record.department,
            signer_name=name,
            signer_contact=phone,
            publicity_type="可向社会公开",
            made_on=day,
            repaired_record=record,
        )
        app.save(update_fields=["commitment"])
    return app


REPAIR_COMMITMENT_TEXT = (
    "本主体已纠正相关失信行为,履行了行政处罚决定规定的法定义务;所提交的申请材料真实、准确、"
    "完整;修复后将依法诚信经营,不再发生同类失信行为。"
)
REPAIR_LIABILITY_TEXT = (
    "如违背上述承诺,自愿接受撤销信用修复决定、相关失信信息按最长公示期重新公示、"
    "纳入重点关注对象等违诺责任,并依法承担相应法律责任。"
)


@transaction.atomic
def accept_application(
    principal: Principal, app: RepairApplication, note: str = "", *, today=None
) -> RepairApplication:
    """The credit centre accepts (受理) the application and forwards it to the deciding
    department, which must verify it within the review deadline. Needs "repair.handle"."""
    app = lock_procedure(RepairApplication, app, principal, "repair.handle")
    return move_procedure(
        app,
        principal,
        "accept",
        (S.SUBMITTED,),
        S.ACCEPTED,
        note=(note or "").strip() or _("材料齐全,予以受理,转认定部门核实。"),
        next_stage="repair_review",
        today=today,
        label=_("受理"),
    )


@transaction.atomic
def refuse_application(
    principal: Principal, app: RepairApplication, reason: str, *, today=None
) -> RepairApplication:
    """The credit centre does not accept the application (不予受理), with a reason."""
    return refuse_procedure(RepairApplication, app, principal, reason, today)


@transaction.atomic
def review_application(
    principal: Principal, app: RepairApplication, *, agrees: bool, opinion: str, today=None
) -> RepairApplication:
    """The deciding department verifies the application (谁认定、谁修复) and gives its opinion.
    Needs "repair.review" on the record's department (a 部门报送员 only for its own)."""
    opinion = checked_text(opinion, "opinion", _("核实意见"), 2000)
    app = lock_procedure(RepairApplication, app, principal, "repair.review")
    app.department_agrees = bool(agrees)
    app.department_opinion = opinion
    return move_procedure(
        app,
        principal,
        "review",
        (S.ACCEPTED,),
        S.REVIEWED,
        note=opinion,
        next_stage="repair_decide",
        today=today,
        label=_("核实"),
    )


@transaction.atomic
def decide_application(
    principal: Principal, app: RepairApplication, *, grant: bool, reason: str = "", today=None
) -> RepairApplication:
    """The credit centre decides, following the deciding department's opinion: it may grant
    only what the department agreed to and must deny what it did not. A grant stops publicity,
    removes the list entries identified from the record and issues the decision letter, in this
    transaction."""
    app = lock_procedure(RepairApplication, app, principal, "repair.handle")
    if app.status == S.REVIEWED and bool(grant) != bool(app.department_agrees):
        raise ValidationError(
            {
                "grant": [
                    _("认定部门的核实意见为“同意修复”,不能作出不予修复的决定。")
                    if app.department_agrees
                    else _("认定部门的核实意见为“不同意修复”,不能准予修复。")
                ]
            }
        )
    reason = (reason or "").strip() or (
        _("经核实,申请人已纠正失信行为并履行法定义务,符合信用修复条件。")
        if grant
        else app.department_opinion
    )
    app.result_reason = reason
    app = move_procedure(
        app,
        principal,
        "decide",
        (S.REVIEWED,),
        S.GRANTED if grant else S.DENIED,
        note=reason,
        today=today,
        terminal=True,
        label=_("作出决定"),
    )
    if grant:
        _grant_effects(app)
    issue_letter(
        app, "decision_number", "decision_letter", _("修复决字〔%(y)s〕第%(n)s号"), decision_letter
    )
    return app


def _grant_effects(app: RepairApplication) -> None:
    """What a granted repair changes, through the owners' own services (each audited)."""
    system = Principal.system(SYSTEM)
    why = _("信用修复决定(查询码 %(c)s)") % {"c": app.query_code}
    add_mark(system, app.record_id, PublicityMark.Kind.REPAIRED, why, source=app)
    for entry in ListEntry.objects.filter(record_id=app.record_id, status=EntryStatus.PUBLISHED):
        remove_entry(system, entry, why)


@transaction.atomic
def withdraw_application(
    principal: Principal, app: RepairApplication, *, phone: str, today=None
) -> RepairApplication:
    """The applicant withdraws an open application (proved by the query code it holds and the
    phone number given with it)."""
    return withdraw_procedure(
        RepairApplication, app, principal, phone, OPEN_REPAIR, _("申请人撤回申请。"), today
    )


@transaction.atomic
def revoke_repair(
    principal: Principal, record, reason: str, *, source: models.Model | None = None
) -> bool:
    """A repaired record goes back into publicity (a broken 信用修复型 commitment): the open
    repair mark is lifted, so the record is public again until the end of its maximum period,
    and the granted application becomes 已撤销. Returns False when the record has no repair in
    force. Audited (lift_mark and the application's step)."""
    pk = record.pk if hasattr(record, "pk") else record
    mark = PublicityMark.objects.filter(
        record_id=pk, kind=PublicityMark.Kind.REPAIRED, lifted_at__isnull=True
    ).first()
    if mark is None:
        return False
    why = reason
    if source is not None:
        why = _("%(reason)s(依据:%(source)s)") % {"reason": reason, "source": source}
    lift_mark(principal, mark, why)
    app = (
        RepairApplication.objects.select_for_update()
        .filter(record_id=pk, status=S.GRANTED)
        .order_by("-decided_on", "-id")
        .first()
    )
    if app is not None:
        app.result_reason = why
        move_procedure(
            app,
            principal,
            "revoke",
            (S.GRANTED,),
            S.REVOKED,
            note=why,
            terminal=True,
            label=_("撤销"),
        )
    return True


def revoke_repair_of_broken_commitment(
    sender, *, principal: Principal, record_id: int, reason: str, commitment: Commitment, **kwargs
) -> bool:
    """Receiver of `commitments.assessment.repair_commitment_broken` (connected in
    RepairConfig.ready()): a breached 信用修复型 commitment revokes the repair of its record."""
    return revoke_repair(principal, record_id, reason, source=commitment)
