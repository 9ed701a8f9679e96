"""Objections (异议) against a record's content, its publicity period, a repair result or a
credit grade (信用评价等级).

    submitted 待受理 → verifying 核实中 (the record shows 异议处理中) →
        corrected 已更正 | record_withdrawn 记录已撤回 | upheld 维持原记录
    submitted → refused 不予受理;  open → withdrawn 已撤回

Every write is `@transaction.atomic` and moves the objection through `repair.procedures` (a
`ProcedureStep` and an audit event each); settling or refusing one issues the 异议处理结果告知书.

An objection to a grade names the result it disputes (a current `scoring.ScoreResult`) and the
record of the subject it says is wrong (a fact that counts in the grade, or a record shown
today); it follows the same procedure (the record shows 异议处理中 while it is verified, the
providing department settles it and makes any correction through the usual paths). Whatever the
outcome, its conclusion recomputes the subject's grades (`scoring.services.compute_subjects`) in
the same transaction and keeps the grade before (`score_result`) and after (`result_after`),
with an audit event `repair.objection.regrade`. A person's points are never public: only staff
holding "subjects.view_person" file an objection to them, for the person at the centre's
window (the look is logged), and public pages and letters do not show the points.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal
from pubcredit.publicity.models import Publicity, PublicityMark, TierOverride
from pubcredit.publicity.services import add_mark, lift_mark
from pubcredit.records.models import Record
from pubcredit.records.services import withdraw_record
from pubcredit.repair.letters import reply_letter
from pubcredit.repair.models import (
    OPEN_OBJECTION,
    Objection,
    ObjectionTarget,
    ProcedureStatus,
    RepairApplication,
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
from pubcredit.scoring.models import ScoreResult
from pubcredit.scoring.services import compute_subjects
from pubcredit.subjects.access import log_person_access

S = ProcedureStatus


@transaction.atomic
def file_objection(
    principal: Principal,
    record: Record,
    *,
    target: str,
    reason: str,
    requested_correction: str = "",
    applicant_name: str,
    applicant_phone: str,
    materials: list[tuple[str, object]] = (),
    repair_application: RepairApplication | None = None,
    score_result: ScoreResult | None = None,
    today: dt.date | None = None,
    external_id: str = "",
) -> Objection:
    """File an objection (异议) against a record's content, its publicity period, a repair
    result or a credit grade. Anyone may (the subject through the portal, or a window clerk for
    it), except for a person's points (see `_checked_grade`).

    Guarantees: the record has a subject and, except for an objection to a repair result, is
    shown today (or, for a grade, counts in it); at most one open objection per record; an
    objection to a repair result names a decided application of the same record; an objection
    to a grade names the current result of the record's subject; status 待受理 with the
    acceptance deadline. `external_id`: the filing system's reference (one objection per filer
    and reference)."""
    day = day_or_today(today)
    external_id = checked_reference(external_id)
    if target not in ObjectionTarget.values:
        raise ValidationError({"target": [_("请选择异议事项。")]})
    reason = checked_text(reason, "reason", _("异议理由"), 4000)
    correction = checked_text(
        requested_correction, "requested_correction", _("请求更正的内容"), 4000, required=False
    )
    name = checked_text(applicant_name, "applicant_name", _("经办人姓名"), 64)
    phone = checked_phone(applicant_phone)
    record = (
        Record.objects.select_for_update(of=("self",))
        .select_related("department")
        .get(pk=record.pk)
    )
    if record.subject_id is None:
        raise ValidationError(_("该记录尚未关联主体,请联系信用中心。"))
    if target == ObjectionTarget.REPAIR:
        if repair_application is None:
            repair_application = (
                RepairApplication.objects.filter(
                    record=record, status__in=(S.GRANTED, S.DENIED, S.REFUSED, S.REVOKED)
                )
                .order_by("-decided_on", "-id")
                .first()
            )
        if repair_application is None or repair_application.record_id != record.pk:
            raise ValidationError({"target": [_("该记录没有已办结的信用修复申请。")]})
    elif target == ObjectionTarget.GRADE:
        score_result = _checked_grade(principal, record, score_result, name, day)
    else:
        publicity = Publicity.objects.filter(pk=record.pk).first()
        if publicity is None or not publicity.is_public_on(day):
            raise ValidationError({"record": [_("该记录当前未在公示,无需提出异议。")]})
    if target != ObjectionTarget.GRADE:
        score_result = None
    rule = rule_on(day)
    obj = new_procedure(
        Objection,
        record,
        rule,
        day,
        "objection_accept",
        name=name,
        phone=phone,
        target=target,
        reason=reason,
        requested_correction=correction,
        repair_application=repair_application,
        score_result=score_result,
        external_id=external_id,
    )
    open_procedure(
        obj,
        principal,
        list(materials),
        reason,
        day,
        _("该记录已有正在办理的异议申请,请凭查询码查看进度。"),
    )
    return obj


def _checked_grade(
    principal: Principal, record: Record, result: ScoreResult | None, applicant: str, day
) -> ScoreResult:
    """The result an objection to a grade disputes: the current result of the record's subject,
    which the record counts in (or, if it does not, the record is shown today: a fact the
    objector says should count differently). A person's points are never public: only staff
    holding "subjects.view_person" file for the person, and the look is logged."""
    if result is None:
        raise ValidationError({"score_result": [_("请选择有异议的信用评价等级。")]})
    result = (
        ScoreResult.objects.select_related("scorecard", "subject")
        .filter(pk=result.pk, current=True, subject_id=record.subject_id)
        .first()
    )
    if result is None:
        raise ValidationError(
            {"score_result": [_("该信用评价结果不是该记录所涉主体的当前评价,请刷新后重试。")]}
        )
    if result.subject.is_person:
        if not principal.can("subjects.view_person"):
            raise PermissionDenied(
                _("个人信用积分不公开:请本人持有效身份证件到信用中心窗口提出异议。")
            )
        log_person_access(
            principal,
            result.subject,
            purpose=_("登记本人对个人信用积分的异议(经办人 %(n)s)") % {"n": applicant},
            what=_("个人信用积分"),
        )
    elif not result.scorecard.public and not principal.can("repair.handle"):
        raise PermissionDenied(_("该信用评价结果不公开:请到信用中心窗口提出异议。"))
    counted = any(c.get("source") == f"record:{record.pk}" for c in result.contributions or [])
    if not counted:
        publicity = Publicity.objects.filter(pk=record.pk).first()
        if publicity is None or not publicity.is_public_on(day):
            raise ValidationError(
                {"record": [_("该记录未计入该信用评价,且当前未在公示,无需提出异议。")]}
            )
    return result


@transaction.atomic
def accept_objection(principal: Principal, obj: Objection, note: str = "", *, today=None):
    """The credit centre accepts the objection: the record shows 异议处理中 on the portal from now
    until the objection is settled, and the providing department must verify it within the
    verification deadline."""
    obj = lock_procedure(Objection, obj, principal, "repair.handle")
    obj.record_version_at_acceptance = Record.objects.get(pk=obj.record_id).version
    obj.accepted_at = timezone.now()
    obj = move_procedure(
        obj,
        principal,
        "accept",
        (S.SUBMITTED,),
        S.VERIFYING,
        note=(note or "").strip() or _("予以受理,转信息提供单位核实。"),
        next_stage="objection_verify",
        today=today,
        label=_("受理"),
    )
    if obj.target != ObjectionTarget.REPAIR:
        add_mark(
            Principal.system(SYSTEM),
            obj.record_id,
            PublicityMark.Kind.OBJECTION,
            _("异议处理中(查询码 %(c)s)") % {"c": obj.query_code},
            source=obj,
        )
    return obj


@transaction.atomic
def refuse_objection(principal: Principal, obj: Objection, reason: str, *, today=None):
    obj = refuse_procedure(Objection, obj, principal, reason, today)
    _issue_reply(obj)
    return obj


VERIFY_OUTCOMES = (S.CORRECTED, S.RECORD_WITHDRAWN, S.UPHELD)


def _corrected_since_acceptance(obj: Objection) -> bool:
    """A correction is a new fact about the record made after the objection was accepted: a
    new version submitted through intake, a tier set by the department, or (for an objection
    to a repair result) a repair granted."""
    record = Record.objects.get(pk=obj.record_id)
    if obj.record_version_at_acceptance is not None and (
        record.version > obj.record_version_at_acceptance
    ):
        return True
    if TierOverride.objects.filter(
        record_id=obj.record_id, created_at__gte=obj.accepted_at
    ).exists():
        return True
    return RepairApplication.objects.filter(
        record_id=obj.record_id, status=S.GRANTED, updated_at__gte=obj.accepted_at
    ).exists()


@transaction.atomic
def verify_objection(
    principal: Principal, obj: Objection, *, outcome: str, reason: str, today=None
) -> Objection:
    """The providing department settles the objection: 已更正 (it has corrected the record — a
    new version through intake, a tier it set, or a repair granted since the acceptance),
    记录已撤回 (the record is withdrawn here, with the reason) or 维持原记录 (upheld). The
    异议处理中 flag is lifted and the reply letter issued, in this transaction. Needs
    "repair.review" on the record's department."""
    if outcome not in VERIFY_OUTCOMES:
        raise ValidationError({"outcome": [_("请选择核实结果:已更正、撤回记录或维持原记录。")]})
    reason = checked_text(reason, "reason", _("核实意见"), 2000)
    obj = lock_procedure(Objection, obj, principal, "repair.review")
    if (
        obj.status == S.VERIFYING
        and outcome == S.CORRECTED
        and not _corrected_since_acceptance(obj)
    ):
        raise ValidationError(
            {
                "outcome": [
                    _(
                        "尚未更正:请先通过数据归集报送更正后的记录(形成新版本)或认定严重程度,"
                        "再选择“已更正”。"
                    )
                ]
            }
        )
    obj.result_reason = reason
    obj = move_procedure(
        obj,
        principal,
        "verify",
        (S.VERIFYING,),
        outcome,
        note=reason,
        today=today,
        terminal=True,
        label=_("核实办结"),
    )
    system = Principal.system(SYSTEM)
    if outcome == S.RECORD_WITHDRAWN:
        record = Record.objects.get(pk=obj.record_id)
        withdraw_record(system, record, _("异议核实后撤回:%(r)s") % {"r": reason})
    _lift_objection_mark(obj, _("异议已办结:%(o)s") % {"o": obj.get_status_display()})
    if obj.target == ObjectionTarget.GRADE:
        _regrade(principal, obj)
    _issue_reply(obj)
    return obj


def grade_summary(result: ScoreResult | None) -> dict | None:
    """What the conclusion of an objection to a grade keeps of a result (audit, letters)."""
    if result is None:
        return None
    return {
        "result": result.pk,
        "scorecard": result.scorecard.code,
        "version": result.version.version,
        "score": str(result.score),
        "grade": result.grade,
        "as_of": result.as_of.isoformat(),
    }


def _regrade(principal: Principal, obj: Objection) -> None:
    """The conclusion of an objection to a grade: recompute the subject's grades as of today
    (whatever the outcome, so the grade is current with any correction made through the usual
    paths; a back-dated conclusion does not back-date the grade) and keep the result current
    after it beside the one disputed."""
    before = obj.score_result
    compute_subjects([obj.subject_id])
    after = (
        ScoreResult.objects.select_related("scorecard", "version")
        .filter(subject_id=obj.subject_id, scorecard_id=before.scorecard_id, current=True)
        .first()
    )
    obj.result_after = after
    obj.save(update_fields=["result_after"])
    record_event(
        principal,
        "repair.objection.regrade",
        obj,
        before={"grade": grade_summary(before)},
        after={"grade": grade_summary(after)},
        reason=_("异议办结后重新计算信用评价等级。"),
    )


def _lift_objection_mark(obj: Objection, why: str) -> None:
    mark = PublicityMark.objects.filter(
        record_id=obj.record_id,
        kind=PublicityMark.Kind.OBJECTION,
        lifted_at__isnull=True,
        source_type=Objection._meta.label_lower,
        source_id=str(obj.pk),
    ).first()
    if mark is not None:
        lift_mark(Principal.system(SYSTEM), mark, why)


@transaction.atomic
def withdraw_objection(principal: Principal, obj: Objection, *, phone: str, today=None):
    obj = withdraw_procedure(
        Objection, obj, principal, phone, OPEN_OBJECTION, _("申请人撤回异议。"), today
    )
    _lift_objection_mark(obj, _("申请人撤回异议。"))
    return obj


def _issue_reply(obj: Objection) -> None:
    issue_letter(obj, "reply_number", "reply_letter", _("异议告字〔%(y)s〕第%(n)s号"), reply_letter)
