"""Assessing a commitment's fulfilment (履行状态认定) and the effects of a breach.

States (承诺履行状态) and who may move them (`assess_commitment`, action "commitments.assess" on
the commitment's scope: 部门报送员 only for commitments its department accepted):

    待认定 ──▶ 全部履行 | 部分履行 | 全部未履行
    全部履行 ──▶ 部分履行 | 全部未履行      (a breach found later, e.g. after a verification)
    部分履行, 全部未履行: final            (a wrong breach finding is corrected through the
                                           objection procedure, not by re-assessing)

Nothing returns to 待认定, and an assessment to the current state is refused.

A breach (部分履行 or 全部未履行) is a negative fact, in the same transaction:
- the subject is identified on the watch list WCH_COMMITMENT_BREACH 违背信用承诺重点关注对象
  (`lists.services.identify_entry`, decided on the assessment day, default validity of the list
  type, the accepting department as 认定部门, the commitment code as document number); when the
  subject is already on that list for an overlapping period, the existing entry stands;
- a broken 信用修复型 commitment lifts the repair of the record it supported: the record is
  public again until the end of its maximum publicity period. The repair app does that, as a
  receiver of `repair_commitment_broken` (below).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.commitments.changes import commitments_assessed
from pubcredit.commitments.models import (
    ASSESSED,
    BREACHES,
    Commitment,
    CommitmentEvent,
    CommitmentType,
    Performance,
)
from pubcredit.commitments.signing import REASON_MAX, TEXT_MAX, clean_text, commitment_snapshot
from pubcredit.lists.models import EntryStatus, ListEntry, ListType
from pubcredit.lists.services import default_valid_to, identify_entry

# A broken 信用修复型 commitment revokes the repair it supported. Revoking is the repair app's
# business, and repair sits above commitments in the layers (a repair application signs a
# commitment, so repair imports commitments): commitments must not import repair. So the hook is
# declared here, in the lower layer, and repair subscribes to it (RepairConfig.ready()).
# Sent in the breach's transaction with principal, record_id (the repaired record), reason and
# commitment; a receiver returns True when it revoked a repair in force. A receiver's exception
# propagates (send, not send_robust), so a failed revocation rolls the assessment back.
repair_commitment_broken = Signal()

log = logging.getLogger(__name__)


ASSESS_ACTION = "commitments.assess"


BREACH_LIST_TYPE = "WCH_COMMITMENT_BREACH"


# What may move where (module docstring).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Performance.PENDING: tuple(ASSESSED),
    Performance.FULL: tuple(BREACHES),
    Performance.PARTIAL: (),
    Performance.NONE: (),
}


def allowed_transitions(commitment: Commitment) -> tuple[str, ...]:
    """The performance values an assessment may set now (empty: final, or withdrawn)."""
    if commitment.withdrawn_at is not None:
        return ()
    return TRANSITIONS.get(commitment.performance, ())


def can_assess(principal: Principal, commitment: Commitment) -> bool:
    """Whether `principal` may assess this commitment (action and scope), whatever its state."""
    if not principal.can(ASSESS_ACTION):
        return False
    return restrict(Commitment.objects.filter(pk=commitment.pk), principal, ASSESS_ACTION).exists()


@transaction.atomic
def assess_commitment(
    principal: Principal,
    commitment: Commitment,
    performance: str,
    *,
    unfulfilled_content: str = "",
    liability_enforced: str = "",
    reason: str,
    today: dt.date | None = None,
) -> Commitment:
    """Set a commitment's fulfilment (承诺履行状态认定) and, for a breach, its effects.

    Guarantees: "commitments.assess" on the commitment's scope (a 部门报送员 only for the
    commitments its department accepted; anyone else PermissionDenied); only the three national
    values, along `TRANSITIONS` (module docstring); a reason (≤ 512); unless 全部履行, the
    unfulfilled content and the liability pursued (≤ 4000 each); not before the commitment was
    made, not for a commitment whose source record was withdrawn. Sets assessed_on (today) and
    the assessor (the assessor's department, else the accepting department). A breach
    identifies the subject on WCH_COMMITMENT_BREACH and, for a 信用修复型 commitment, revokes the
    repair of its record. Event "assess" (with the effects in its details) and audit event
    "commitments.assess", then the commitments-assessed hook (commitments.changes: the
    subject's credit grades), all in this transaction."""
    principal.require(ASSESS_ACTION)
    day = today or timezone.localdate()
    scoped = restrict(Commitment.objects.all(), principal, ASSESS_ACTION)
    locked = scoped.select_for_update().filter(pk=commitment.pk).first()
    if locked is None:
        raise PermissionDenied(_("只能认定本部门受理的信用承诺的履行情况。"))
    errors: dict[str, list[str]] = {}
    if performance not in ASSESSED:
        errors.setdefault("performance", []).append(
            _("履行状态应为全部履行、部分履行或全部未履行。")
        )
    reason = clean_text(errors, "reason", reason, REASON_MAX, missing=_("请填写认定说明。"))
    breach = performance in BREACHES
    unfulfilled = clean_text(
        errors,
        "unfulfilled_content",
        unfulfilled_content,
        TEXT_MAX,
        required=breach,
        multiline=True,
        missing=_("履行状态不是“全部履行”时,须填写未履行的承诺内容。"),
    )
    enforced = clean_text(
        errors,
        "liability_enforced",
        liability_enforced,
        TEXT_MAX,
        required=breach,
        multiline=True,
        missing=_("履行状态不是“全部履行”时,须填写违诺责任追究内容。"),
    )
    if not errors.get("performance"):
        if locked.withdrawn_at is not None:
            errors.setdefault("performance", []).append(
                _("该承诺的来源记录已被撤回,不能认定履行情况。")
            )
        elif performance == locked.performance:
            errors.setdefault("performance", []).append(
                _("履行状态已是“%(p)s”,无需重复认定。") % {"p": locked.get_performance_display()}
            )
        elif performance not in TRANSITIONS.get(locked.performance, ()):
            errors.setdefault("performance", []).append(
                _("已认定为“%(p)s”的承诺不能再改为“%(to)s”;认定有误的,请通过异议程序处理。")
                % {"p": locked.get_performance_display(), "to": performance}
            )
    if day < locked.made_on:
        errors.setdefault("performance", []).append(_("承诺作出之前不能认定其履行情况。"))
    if errors:
        raise ValidationError(errors)

    before = commitment_snapshot(locked)
    previous = locked.performance
    locked.performance = performance
    locked.unfulfilled_content = unfulfilled if breach else ""
    locked.liability_enforced = enforced if breach else ""
    locked.assessed_on = day
    locked.assessor = principal.department or locked.department
    locked.save(
        update_fields=[
            "performance",
            "unfulfilled_content",
            "liability_enforced",
            "assessed_on",
            "assessor",
            "updated_at",
        ]
    )
    details = {}
    if breach:
        details = breach_effects(locked, day, actor=principal.label, strict=True)
    CommitmentEvent.objects.create(
        commitment=locked,
        at=timezone.now(),
        actor=principal.label[:150],
        action=CommitmentEvent.Action.ASSESS,
        from_performance=previous,
        to_performance=performance,
        reason=reason,
        details=details,
    )
    record_event(
        principal,
        "commitments.assess",
        locked,
        before=before,
        after={**commitment_snapshot(locked), "effects": details},
        reason=reason,
    )
    commitments_assessed([locked])
    return locked


def breach_list_type():
    return ListType.objects.filter(code=BREACH_LIST_TYPE).first()


def _breach_basis(c: Commitment) -> str:
    text = _(
        "违背信用承诺:承诺编码 %(code)s(%(type)s,事由:%(reason)s),经%(dept)s认定为“%(perf)s”。"
        "未履行的承诺内容:%(unfulfilled)s"
    ) % {
        "code": c.code,
        "type": c.get_commitment_type_display(),
        "reason": c.reason,
        "dept": (c.assessor or c.department).name,
        "perf": c.get_performance_display(),
        "unfulfilled": c.unfulfilled_content,
    }
    return text[:4000]


def breach_effects(
    commitment: Commitment, day: dt.date, *, actor: str, strict: bool = True
) -> dict:
    """The negative facts of a breach (module docstring), in the caller's transaction. Returns
    what was done, for the event's details: {"list_entry", "already_listed", "repair_revoked"}.
    `strict`: raise ValidationError when the watch list type is missing or refuses the entry
    (a console assessment); otherwise log and carry on (intake must not fail a department's
    whole file over the platform's configuration)."""
    details: dict = {"list_entry": None, "already_listed": False, "repair_revoked": False}
    system = Principal.system(f"commitments ({actor})"[:150])
    lt = breach_list_type()
    if lt is None:
        message = _("名单类型 %(code)s(违背信用承诺重点关注对象)未导入,无法记录违诺。") % {
            "code": BREACH_LIST_TYPE
        }
        if strict:
            raise ValidationError({"performance": [message]})
        log.warning("commitment %s breached but %s is missing", commitment.code, BREACH_LIST_TYPE)
        details["error"] = message
    else:
        until = default_valid_to(lt, day)
        overlapping = ListEntry.objects.filter(
            list_type=lt, subject_id=commitment.subject_id, status=EntryStatus.PUBLISHED
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        if until is not None:
            overlapping = overlapping.filter(valid_from__lte=until)
        existing = overlapping.order_by("valid_from", "id").first()
        if existing is not None:
            details.update(list_entry=existing.pk, already_listed=True)
        else:
            try:
                with transaction.atomic():
                    entry = identify_entry(
                        system,
                        list_type=lt,
                        subject=commitment.subject,
                        basis=_breach_basis(commitment),
                        decided_on=day,
                        document_number=commitment.code,
                        department=commitment.assessor or commitment.department,
                        today=day,
                    )
                details["list_entry"] = entry.pk
            except ValidationError as exc:
                if strict:
                    raise
                log.warning("commitment %s: list entry refused: %s", commitment.code, exc)
                details["error"] = "; ".join(exc.messages)
    if commitment.commitment_type == CommitmentType.REPAIR and commitment.repaired_record_id:
        why = _("信用修复型承诺 %(code)s 经认定为“%(perf)s”,撤销信用修复,恢复公示") % {
            "code": commitment.code,
            "perf": commitment.get_performance_display(),
        }
        responses = repair_commitment_broken.send(
            sender=Commitment,
            principal=Principal.system("commitments"),
            record_id=commitment.repaired_record_id,
            reason=why,
            commitment=commitment,
        )
        details["repair_revoked"] = any(bool(revoked) for _receiver, revoked in responses)
        details["repaired_record"] = commitment.repaired_record_id
    return details
