"""Online signing with the accepting department's confirmation (网上签署,受理部门确认).

A member of the public who signs a commitment on the portal neither creates a subject nor learns
anything about the register: `submit_signing` checks what can be checked without the register
(the items, the code's form and checksum, the kind the code belongs to), keeps the submission as
a `SigningRequest` (a 身份证号 only encrypted, indexed and masked) and the signer always gets the
same answer, "承诺已提交,待受理部门确认". The accepting department's clerk then sees how the
stated subject compares with the register (`register_match`) and either confirms
(`confirm_signing`: the subject is linked, or registered through `subjects.services`, and the
commitment signed through `signing.sign_commitment`) or rejects with a reason
(`reject_signing`). Each step is one transaction with its audit event.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import SubjectKind
from pubcredit.commitments.assessment import ASSESS_ACTION
from pubcredit.commitments.models import Commitment, CommitmentSource, SigningRequest
from pubcredit.commitments.queries import VIEW_ACTION
from pubcredit.commitments.signing import (
    ONLINE_TYPES,
    REASON_MAX,
    check_items,
    clean_text,
    sign_commitment,
)
from pubcredit.core import identifiers
from pubcredit.subjects import names
from pubcredit.subjects.crypto import decrypt_id
from pubcredit.subjects.models import Subject
from pubcredit.subjects.services import find_subject, person_id_fields, register_subject

NAME_MAX = 200
# What the signer is told, whatever the register holds.
SUBMITTED = gettext_lazy("承诺已提交,待受理部门确认")
_SNAPSHOT_EXCLUDE = ("id_cipher", "id_index", "token", "signer_name", "signer_contact")


def request_snapshot(req: SigningRequest) -> dict:
    return snapshot(req, exclude=_SNAPSHOT_EXCLUDE)


def _identifier(errors: dict, kind: str, uscc: str | None, id_number: str | None) -> dict:
    """The stated code, checked without looking at the register: a valid USCC whose category
    fits the kind, or a valid 身份证号 (kept only encrypted, indexed and masked)."""
    if kind not in SubjectKind.values:
        errors.setdefault("kind", []).append(_("请选择承诺人类别。"))
        return {}
    if kind == SubjectKind.PERSON:
        check = identifiers.check_ric(id_number or "")
        if not check.valid:
            errors.setdefault("id_number", []).append(_("身份证号码有误,请核对后重新填写。"))
            return {}
        return person_id_fields(check.normalized)
    check = identifiers.check_uscc(uscc or "")
    if not check.valid:
        errors.setdefault("uscc", []).extend(check.errors)
        return {}
    code = check.normalized
    if identifiers.subject_kind_for_uscc(code) != kind:
        errors.setdefault("kind", []).append(
            _("以 92 开头的统一社会信用代码属于个体工商户,请核对承诺人类别。")
            if code.startswith("92")
            else _("个体工商户的统一社会信用代码应以 92 开头,请核对承诺人类别。")
        )
        return {}
    return {"uscc": code}


@transaction.atomic
def submit_signing(
    principal: Principal,
    *,
    kind: str,
    name: str,
    uscc: str | None = None,
    id_number: str | None = None,
    commitment_type: str,
    reason: str,
    content: str,
    liability: str,
    department,
    signer_name: str,
    signer_contact: str,
    publicity_type: str,
    valid_to: dt.date | None = None,
    matter=None,
    today: dt.date | None = None,
) -> SigningRequest:
    """Keep an online signing for the accepting department to confirm and return it.

    Anyone may call it (the public signs on the portal). Nothing in the subject register is
    read or written: problems raised (ValidationError by field, Chinese) are only those of the
    submission itself (the items as `signing.check_items` checks them, an online type, the
    name, the code's form and checksum and the kind it belongs to), never whether a name and a
    code match. The name is kept as typed text. One audit event "commitments.submit"."""
    day = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if commitment_type not in ONLINE_TYPES:
        errors.setdefault("commitment_type", []).append(
            _("承诺类型无效:%(v)s") % {"v": commitment_type or "—"}
        )
    name = clean_text(errors, "name", name, NAME_MAX, missing=_("请填写承诺人名称或姓名。"))
    code = _identifier(errors, kind, uscc, id_number)
    items = check_items(
        errors,
        day=day,
        commitment_type=commitment_type,
        reason=reason,
        content=content,
        liability=liability,
        department=department,
        signer_name=signer_name,
        signer_contact=signer_contact,
        publicity_type=publicity_type,
        made_on=day,
        valid_to=valid_to,
        matter=matter,
    )
    if errors:
        raise ValidationError(errors)
    req = SigningRequest.objects.create(
        token=secrets.token_urlsafe(32),
        committer_kind=kind,
        committer_name=name,
        uscc=code.get("uscc", ""),
        id_cipher=code.get("id_cipher"),
        id_index=code.get("id_index", ""),
        id_masked=code.get("id_masked", ""),
        commitment_type=commitment_type,
        reason=items["reason"],
        content=items["content"],
        liability=items["liability"],
        made_on=items["made_on"],
        valid_to=valid_to,
        publicity_type=publicity_type,
        matter=items["matter"],
        department=items["department"],
        signer_name=items["signer_name"],
        signer_contact=items["signer_contact"],
        submitted_at=timezone.now(),
    )
    record_event(principal, "commitments.submit", req, after=request_snapshot(req))
    return req


# --------------------------------------------------------------------------- the department


def visible_requests(principal: Principal) -> QuerySet[SigningRequest]:
    """The submissions a principal may see: a department's clerk those its department is to
    accept, a district those of its district's departments, the credit centre all."""
    return restrict(SigningRequest.objects.all(), principal, VIEW_ACTION).select_related(
        "department", "matter", "commitment"
    )


def can_decide(principal: Principal, req: SigningRequest) -> bool:
    """Whether `principal` may confirm or reject this submission (the accepting department)."""
    if not principal.can(ASSESS_ACTION):
        return False
    return restrict(SigningRequest.objects.filter(pk=req.pk), principal, ASSESS_ACTION).exists()


@dataclass(frozen=True)
class RegisterMatch:
    """How a submission's stated subject compares with the register (shown to the clerk only).
    verdict: "new" (not registered: confirming registers it), "same" (registered under this
    name or a former one), "differs" (registered under another name), "kind" (the code is
    registered as another kind of subject)."""

    verdict: str
    subject: Subject | None


def register_match(req: SigningRequest) -> RegisterMatch:
    if req.is_person:
        found = Subject.objects.filter(id_index=req.id_index).first() if req.id_index else None
    else:
        found = find_subject(uscc=req.uscc).subject if req.uscc else None
    if found is None:
        return RegisterMatch("new", None)
    if found.kind != req.committer_kind:
        return RegisterMatch("kind", found)
    norm = names.normalize_name(req.committer_name)
    known = {names.normalize_name(found.name)}
    if not found.is_person:
        known |= set(found.former_names.values_list("name_norm", flat=True))
    return RegisterMatch("same" if norm in known else "differs", found)


def _pending(principal: Principal, req: SigningRequest) -> SigningRequest:
    principal.require(ASSESS_ACTION)
    if not can_decide(principal, req):
        raise PermissionDenied(_("只能办理本部门受理的网上签署。"))
    locked = SigningRequest.objects.select_for_update().get(pk=req.pk)
    if locked.status != SigningRequest.Status.PENDING:
        raise ValidationError(_("该网上签署已办理(%(s)s)。") % {"s": locked.get_status_display()})
    return locked


@transaction.atomic
def confirm_signing(
    principal: Principal, req: SigningRequest, *, note: str = "", today: dt.date | None = None
) -> Commitment:
    """The accepting department confirms a submission: the stated subject is linked (found by
    its code) or, when not registered, registered through `subjects.services.register_subject`
    (as the platform, reason 网上签署信用承诺, confirmed by the clerk), and the commitment is
    signed (`signing.sign_commitment`, source 网上签署, made on the day it was submitted).
    Refused when the code is registered under another name or as another kind (the clerk
    rejects those). Audit event "commitments.confirm"."""
    req = _pending(principal, req)
    errors: dict[str, list[str]] = {}
    note = clean_text(errors, "note", note, REASON_MAX, required=False)
    if errors:
        raise ValidationError(errors)
    before = request_snapshot(req)
    match = register_match(req)
    if match.verdict == "kind":
        raise ValidationError({"name": [_("该代码在主体库中登记为其他类别的主体,请驳回。")]})
    if match.verdict == "differs":
        raise ValidationError(
            {"name": [_("承诺人名称与主体库登记的名称不一致,请核实后驳回,或请签署人重新签署。")]}
        )
    subject = match.subject
    if subject is None:
        registrar = Principal.system("commitments confirmation")
        reason = _("网上签署信用承诺(%(who)s确认)") % {"who": principal.label}
        if req.is_person:
            subject = register_subject(
                registrar,
                kind=req.committer_kind,
                name=req.committer_name,
                id_number=decrypt_id(bytes(req.id_cipher)),
                reason=reason[:255],
            )
        else:
            subject = register_subject(
                registrar,
                kind=req.committer_kind,
                name=req.committer_name,
                uscc=req.uscc,
                reason=reason[:255],
            )
    commitment = sign_commitment(
        principal,
        subject=subject,
        commitment_type=req.commitment_type,
        reason=req.reason,
        content=req.content,
        liability=req.liability,
        department=req.department,
        signer_name=req.signer_name,
        signer_contact=req.signer_contact,
        publicity_type=req.publicity_type,
        made_on=req.made_on,
        valid_to=req.valid_to,
        matter=req.matter,
        source=CommitmentSource.ONLINE,
        today=today,
    )
    req.status = SigningRequest.Status.CONFIRMED
    req.subject = subject
    req.commitment = commitment
    req.decided_at = timezone.now()
    req.decided_by = principal.label[:150]
    req.decision_note = note
    req.save()
    record_event(principal, "commitments.confirm", req, before=before, after=request_snapshot(req))
    return commitment


@transaction.atomic
def reject_signing(principal: Principal, req: SigningRequest, *, reason: str) -> SigningRequest:
    """The accepting department does not accept a submission; the reason (required) is what the
    signer reads. Audit event "commitments.reject"."""
    req = _pending(principal, req)
    errors: dict[str, list[str]] = {}
    reason = clean_text(errors, "reason", reason, REASON_MAX, missing=_("请填写不予受理的理由。"))
    if errors:
        raise ValidationError(errors)
    before = request_snapshot(req)
    req.status = SigningRequest.Status.REJECTED
    req.decided_at = timezone.now()
    req.decided_by = principal.label[:150]
    req.decision_note = reason
    req.save()
    record_event(principal, "commitments.reject", req, before=before, after=request_snapshot(req))
    return req
