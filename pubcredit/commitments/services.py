"""Commitment services: sign (网上签署 / 窗口受理), assess fulfilment (履行状态认定), commitments
arriving through intake, the commitments in force for credit checks, and the public register.

Every write runs in one transaction, writes its `CommitmentEvent` and its audit event there.

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
- a broken 信用修复型 commitment lifts the repair of the record it supported
  (`repair.services.revoke_repair`): the record is public again until the end of its maximum
  publicity period.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
import unicodedata

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.catalog.regions import SEED_CITY
from pubcredit.commitments.models import (
    ASSESSED,
    BREACHES,
    Commitment,
    CommitmentEvent,
    CommitmentSerial,
    CommitmentSource,
    CommitmentType,
    Performance,
    PublicityType,
)
from pubcredit.subjects import crypto, identifiers

log = logging.getLogger(__name__)

ASSESS_ACTION = "commitments.assess"
VIEW_ACTION = "repair.view"
BREACH_LIST_TYPE = "WCH_COMMITMENT_BREACH"
CATEGORY = "CN"

# Types a subject signs alone on the portal. 信用修复型 goes through the repair application
# (pubcredit.repair), which calls `sign_commitment` itself with the record to repair.
ONLINE_TYPES = (
    CommitmentType.VOLUNTARY,
    CommitmentType.SELF_DISCIPLINE,
    CommitmentType.TOLERANT,
    CommitmentType.CERTIFICATION,
    CommitmentType.APPROVAL,
    CommitmentType.OTHER,
)
SIGN_SOURCES = (CommitmentSource.ONLINE, CommitmentSource.WINDOW)

# What may move where (module docstring).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Performance.PENDING: tuple(ASSESSED),
    Performance.FULL: tuple(BREACHES),
    Performance.PARTIAL: (),
    Performance.NONE: (),
}

STANDARD_LIABILITY = gettext_lazy(
    "如违反上述承诺,承诺人愿意承担相应的法律责任,接受有关部门依法依规采取的失信约束措施;"
    "同意将违诺情况记入信用记录,列入违背信用承诺重点关注对象名单,并依法依规向社会公开。"
    "信用修复型承诺违诺的,同意原失信信息按最长公示期限重新公示。"
)

REASON_MAX = 512
TEXT_MAX = 4000
SIGNER_MAX = 50
# 手机号 (11 digits, 1[3-9]…) or 固定电话 (区号-号码[-分机]).
PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$")
SERIAL_MAX = 999_999
_SNAPSHOT_EXCLUDE = ("letter", "letter_token", "signer_contact", "created_at", "updated_at")


# --------------------------------------------------------------------------- helpers


def _redact(text: str) -> str:
    from pubcredit.subjects.masking import redact_id_numbers

    return redact_id_numbers(text)


def _bad_chars(text: str, multiline: bool) -> bool:
    allowed = "\n\r\t" if multiline else ""
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in text)


def _clean_text(
    errors: dict,
    field: str,
    value,
    limit: int,
    *,
    required: bool = True,
    multiline: bool = False,
    missing: str = "",
) -> str:
    """The value stripped, checked and with any 身份证号 typed into it masked; problems go to
    `errors[field]` in Chinese."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").strip() if multiline else " ".join(text.split())
    if _bad_chars(text, multiline):
        errors.setdefault(field, []).append(_("含有控制字符等无效字符,请重新填写。"))
        return ""
    if not text:
        if required:
            errors.setdefault(field, []).append(missing or _("此项为必填项。"))
        return ""
    if len(text) > limit:
        errors.setdefault(field, []).append(
            _("不能超过 %(limit)d 字(现为 %(n)d 字)。") % {"limit": limit, "n": len(text)}
        )
    return _redact(text)


def _snapshot(commitment: Commitment) -> dict:
    return snapshot(commitment, exclude=_SNAPSHOT_EXCLUDE)


def _event(commitment, action, actor, *, at, reason="", before="", after="", details=None):
    return CommitmentEvent(
        commitment=commitment,
        at=at,
        actor=actor[:150],
        action=action,
        from_performance=before,
        to_performance=after,
        reason=(reason or "")[:512],
        details=details or {},
    )


def committer_code(subject) -> str:
    """The committer's code as stored: the USCC of an organisation or 个体工商户, the masked
    身份证号 (first 6 + last 4) of a natural person (the clear number never leaves the
    subject register's ciphertext)."""
    if subject.kind == SubjectKind.PERSON:
        return subject.id_masked or ""
    return subject.uscc or ""


def region_of(department) -> str:
    """The 6-digit 行政区划 a department accepts commitments in: its district, else the city."""
    code = getattr(department, "district_id", None) or ""
    code = code[:6]
    return code if len(code) == 6 and code.isdigit() else SEED_CITY


# --------------------------------------------------------------------------- codes


def allocate_code(region: str, day: dt.date) -> str:
    """The next 承诺编码 for (region, day): region (6 digits) + YYYYMMDD + 6-digit serial.

    Safe under concurrency: the (region, day) counter row is created once (a concurrent
    creation meets the unique index) and locked with SELECT … FOR UPDATE while the serial is
    taken, so two signings never get the same code. A serial already used by a commitment
    that arrived through intake (departments number their own) is skipped. Must run in the
    caller's transaction (the code is only reserved when it commits)."""
    if not (len(region) == 6 and region.isdigit()):
        raise ValueError(f"region must be 6 digits, got {region!r}")
    with transaction.atomic():
        if not CommitmentSerial.objects.filter(region=region, day=day).exists():
            try:
                with transaction.atomic():
                    CommitmentSerial.objects.create(region=region, day=day, last=0)
            except IntegrityError:
                pass  # created meanwhile by a concurrent signing
        row = CommitmentSerial.objects.select_for_update().get(region=region, day=day)
        prefix = f"{region}{day:%Y%m%d}"
        serial = row.last
        while True:
            serial += 1
            if serial > SERIAL_MAX:
                raise ValidationError(
                    {"code": [_("当日承诺编码流水号已用完(%(p)s)。") % {"p": prefix}]}
                )
            code = f"{prefix}{serial:06d}"
            if not Commitment.objects.filter(code=code).exists():
                break
        row.last = serial
        row.save(update_fields=["last"])
    return code


# --------------------------------------------------------------------------- the letter


def build_letter(commitment: Commitment):
    """The 信用承诺书 of a commitment (pubcredit.core.letters.Letter)."""
    from pubcredit.core.letters import Letter

    c = commitment
    facts = [
        (_("承诺编码"), c.code),
        (_("承诺人名称"), c.committer_name),
        (_("承诺人类别"), c.get_committer_kind_display()),
        (
            _("承诺人代码") if c.committer_kind != SubjectKind.PERSON else _("身份证号码"),
            c.committer_code,
        ),
        (_("承诺类型"), c.get_commitment_type_display()),
        (_("承诺事由"), c.reason),
        (_("承诺作出日期"), c.made_on.isoformat()),
        (_("承诺有效期至"), c.valid_to.isoformat() if c.valid_to else _("长期")),
        (_("承诺受理单位"), c.department.name),
        (_("公开类型"), c.get_publicity_type_display()),
    ]
    if c.matter_id:
        facts.append((_("替代的审批事项"), c.matter.name))
    paragraphs = [
        _("承诺人自愿作出以下信用承诺,并对承诺内容的真实性负责:"),
        c.content,
        _("违诺责任:") + c.liability,
        _(
            "承诺人知悉:本承诺书由承诺受理单位保存并认定履行情况,承诺及其履行情况记入承诺人的"
            "信用记录,按公开类型公开;违背承诺的,依法依规承担违诺责任。"
        ),
    ]
    signature = _("承诺人:%(name)s") % {"name": c.committer_name}
    if c.signer_name:
        signature += "  " + _("签署人:%(name)s") % {"name": c.signer_name}
    return Letter(
        title=_("信用承诺书"),
        number=_("承诺编码:%(code)s") % {"code": c.code},
        issuer=c.department.name,
        issued_on=c.made_on,
        addressee=c.department.name,
        facts=facts,
        paragraphs=paragraphs,
        signature=signature,
    )


def _attach_letter(commitment: Commitment) -> None:
    from pubcredit.core.letters import render_letter

    pdf = render_letter(build_letter(commitment))
    commitment.letter_sha256 = hashlib.sha256(pdf).hexdigest()
    commitment.letter_token = secrets.token_urlsafe(24)
    commitment.letter.save(f"{commitment.code}.pdf", ContentFile(pdf), save=False)
    commitment.save(update_fields=["letter", "letter_sha256", "letter_token", "updated_at"])


# --------------------------------------------------------------------------- signing


def _resolve_matter(value):
    from pubcredit.measures.models import Matter

    if value is None or value == "":
        return None
    if isinstance(value, Matter):
        return value
    return Matter.objects.filter(code=str(value)).first()


def _resolve_record(value):
    from pubcredit.records.models import Record

    if value is None or value == "":
        return None
    if isinstance(value, Record):
        return value
    try:
        return Record.objects.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


@transaction.atomic
def sign_commitment(
    principal: Principal,
    *,
    subject,
    commitment_type: str,
    reason: str,
    content: str,
    liability: str,
    department,
    signer_name: str,
    signer_contact: str,
    publicity_type: str = PublicityType.PUBLIC,
    made_on: dt.date | None = None,
    valid_to: dt.date | None = None,
    matter=None,
    repaired_record=None,
    source: str = CommitmentSource.ONLINE,
    remark: str = "",
    today: dt.date | None = None,
) -> Commitment:
    """Record a commitment a subject makes (online on the portal, or at a service window) and
    return it, with its 承诺编码 and its 信用承诺书 (PDF).

    Anyone may call it: the public signs online (PUBLIC principal). Guarantees:
    - every item is validated, problems raised together as ValidationError({field: [中文]}):
      required texts and their lengths (事由 ≤ 512, 内容 and 违诺责任 ≤ 4000), the type,
      publicity type and source among their values, an active accepting department, the
      signer's name and a valid telephone number, made_on not after today, valid_to not before
      made_on; 审批替代型 names the approval matter it replaces; 信用修复型 names the record
      to repair, which must belong to the same subject (and only 信用修复型 may name one);
    - a 身份证号 typed into any text is masked; a person's code is stored masked;
    - the code is allocated in the accepting department's region (its district, else the city
      370300) on the day the commitment is made; fulfilment starts 待认定;
    - the letter is rendered (pubcredit.core.letters) and stored under MEDIA_ROOT with its sha256;
      a random token names its download address;
    - one CommitmentEvent "sign" and one audit event "commitments.sign", in this transaction.
    """
    from pubcredit.subjects.models import Subject

    day = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if not isinstance(subject, Subject) or subject.pk is None:
        errors.setdefault("subject", []).append(_("请指定承诺主体。"))
        subject = None
    if commitment_type not in CommitmentType.values:
        errors.setdefault("commitment_type", []).append(
            _("承诺类型无效:%(v)s") % {"v": commitment_type or "—"}
        )
    if publicity_type not in PublicityType.values:
        errors.setdefault("publicity_type", []).append(
            _("公开类型无效:%(v)s") % {"v": publicity_type or "—"}
        )
    if source not in SIGN_SOURCES:
        errors.setdefault("source", []).append(_("来源应为网上签署或窗口受理。"))
    reason = _clean_text(errors, "reason", reason, REASON_MAX, missing=_("请填写承诺事由。"))
    content = _clean_text(
        errors, "content", content, TEXT_MAX, multiline=True, missing=_("请填写承诺内容。")
    )
    liability = _clean_text(
        errors, "liability", liability, TEXT_MAX, multiline=True, missing=_("请填写违诺责任。")
    )
    remark = _clean_text(errors, "remark", remark, REASON_MAX, required=False)
    signer_name = _clean_text(
        errors, "signer_name", signer_name, SIGNER_MAX, missing=_("请填写签署人姓名。")
    )
    phone = "".join(unicodedata.normalize("NFKC", signer_contact or "").split())
    if not phone:
        errors.setdefault("signer_contact", []).append(_("请填写签署人联系电话。"))
    elif not PHONE.match(phone):
        errors.setdefault("signer_contact", []).append(
            _("联系电话格式不正确:请填写 11 位手机号码或带区号的固定电话。")
        )
    if not isinstance(department, Department) or not department.active:
        errors.setdefault("department", []).append(_("请选择承诺受理单位。"))
        department = None
    made_on = made_on or day
    if made_on > day:
        errors.setdefault("made_on", []).append(_("承诺作出日期不能晚于今天。"))
    if valid_to is not None and valid_to < made_on:
        errors.setdefault("valid_to", []).append(_("承诺有效期不能早于承诺作出日期。"))
    matter_obj = _resolve_matter(matter)
    if matter not in (None, "") and (matter_obj is None or not matter_obj.active):
        errors.setdefault("matter", []).append(_("审批事项不存在或已停用。"))
    if commitment_type == CommitmentType.APPROVAL and matter_obj is None:
        errors.setdefault("matter", []).append(_("审批替代型承诺须选择所替代的审批事项。"))
    record = _resolve_record(repaired_record)
    if commitment_type == CommitmentType.REPAIR:
        if record is None:
            errors.setdefault("repaired_record", []).append(
                _("信用修复型承诺须指明申请修复的信用记录。")
            )
        elif subject is not None and record.subject_id != subject.pk:
            errors.setdefault("repaired_record", []).append(
                _("申请修复的信用记录不属于该承诺主体。")
            )
    elif repaired_record not in (None, ""):
        errors.setdefault("repaired_record", []).append(
            _("只有信用修复型承诺可以指明申请修复的信用记录。")
        )
    if errors:
        raise ValidationError(errors)

    code = allocate_code(region_of(department), made_on)
    commitment = Commitment.objects.create(
        code=code,
        subject=subject,
        committer_name=subject.name,
        committer_kind=subject.kind,
        committer_code=committer_code(subject),
        commitment_type=commitment_type,
        reason=reason,
        content=content,
        liability=liability,
        made_on=made_on,
        valid_to=valid_to,
        performance=Performance.PENDING,
        department=department,
        publicity_type=publicity_type,
        remark=remark,
        source=source,
        matter=matter_obj,
        repaired_record=record,
        signer_name=signer_name,
        signer_contact=phone,
        created_by=principal.label[:150],
    )
    _attach_letter(commitment)
    now = timezone.now()
    CommitmentEvent.objects.create(
        commitment=commitment,
        at=now,
        actor=principal.label[:150],
        action=CommitmentEvent.Action.SIGN,
        to_performance=Performance.PENDING,
        reason=_("%(source)s,受理单位:%(dept)s")
        % {"source": commitment.get_source_display(), "dept": department.name},
        details={"letter_sha256": commitment.letter_sha256},
    )
    record_event(principal, "commitments.sign", commitment, after=_snapshot(commitment))
    return commitment


def subject_for_signing(
    kind: str, name: str, *, uscc: str | None = None, id_number: str | None = None
):
    """The subject an online signer names: an organisation or 个体工商户 by its 统一社会信用代码,
    a natural person by name and 身份证号. A subject not yet in the register is registered
    (`subjects.services.register_subject`, acting as the platform, reason 网上签署信用承诺);
    call it inside the signing transaction so a refused signing registers nobody.

    Refused (ValidationError by field, Chinese): an invalid code; a code whose kind is not the
    one chosen; a registered person whose name is not the one given (the number is never
    echoed); an organisation whose registered name (or a former name) is not the one given."""
    from pubcredit.subjects import names
    from pubcredit.subjects.services import find_subject, register_subject

    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": [_("请填写承诺人名称或姓名。")]})
    if kind not in SubjectKind.values:
        raise ValidationError({"kind": [_("请选择承诺人类别。")]})
    system = Principal.system("portal commitments")
    if kind == SubjectKind.PERSON:
        check = identifiers.check_ric(id_number or "")
        if not check.valid:
            raise ValidationError({"id_number": [_("身份证号码有误,请核对后重新填写。")]})
        found = find_subject(id_number=check.normalized).subject
        if found is None:
            return register_subject(
                system,
                kind=kind,
                name=name,
                id_number=check.normalized,
                reason=_("网上签署信用承诺"),
            )
        if found.kind != SubjectKind.PERSON or names.normalize_name(
            found.name
        ) != names.normalize_name(name):
            raise ValidationError({"name": [_("姓名与身份证号码不一致,请核对。")]})
        return found
    check = identifiers.check_uscc(uscc or "")
    if not check.valid:
        raise ValidationError({"uscc": check.errors})
    code = check.normalized
    if identifiers.subject_kind_for_uscc(code) != kind:
        raise ValidationError(
            {
                "kind": [
                    _("以 92 开头的统一社会信用代码属于个体工商户,请核对承诺人类别。")
                    if code.startswith("92")
                    else _("个体工商户的统一社会信用代码应以 92 开头,请核对承诺人类别。")
                ]
            }
        )
    found = find_subject(uscc=code).subject
    if found is None:
        return register_subject(
            system, kind=kind, name=name, uscc=code, reason=_("网上签署信用承诺")
        )
    norm = names.normalize_name(name)
    known = {names.normalize_name(found.name)} | set(
        found.former_names.values_list("name_norm", flat=True)
    )
    if norm not in known:
        raise ValidationError(
            {
                "name": [
                    _("该统一社会信用代码登记的名称为“%(name)s”,请核对承诺人名称。")
                    % {"name": found.name}
                ]
            }
        )
    return found


# --------------------------------------------------------------------------- assessment


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
    "commitments.assess", all in this transaction."""
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
    reason = _clean_text(errors, "reason", reason, REASON_MAX, missing=_("请填写认定说明。"))
    breach = performance in BREACHES
    unfulfilled = _clean_text(
        errors,
        "unfulfilled_content",
        unfulfilled_content,
        TEXT_MAX,
        required=breach,
        multiline=True,
        missing=_("履行状态不是“全部履行”时,须填写未履行的承诺内容。"),
    )
    enforced = _clean_text(
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

    before = _snapshot(locked)
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
        after={**_snapshot(locked), "effects": details},
        reason=reason,
    )
    return locked


def breach_list_type():
    from pubcredit.lists.models import ListType

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
    from pubcredit.lists.models import EntryStatus, ListEntry
    from pubcredit.lists.services import default_valid_to, identify_entry

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
        from pubcredit.repair.services import revoke_repair

        why = _("信用修复型承诺 %(code)s 经认定为“%(perf)s”,撤销信用修复,恢复公示") % {
            "code": commitment.code,
            "perf": commitment.get_performance_display(),
        }
        details["repair_revoked"] = bool(
            revoke_repair(
                Principal.system("commitments"),
                commitment.repaired_record_id,
                why,
                source=commitment,
            )
        )
        details["repaired_record"] = commitment.repaired_record_id
    return details


# --------------------------------------------------------------------------- intake

_KIND_BY_LABEL = {
    "法人及非法人组织": SubjectKind.ORG.value,
    "个体工商户": SubjectKind.INDIVIDUAL_BUSINESS.value,
    "自然人": SubjectKind.PERSON.value,
} | {value: value for value in SubjectKind.values}


def _date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10].replace("/", "-"))
    except ValueError:
        return None


def _str(data: dict, code: str, limit: int) -> str:
    value = data.get(code)
    if value is None:
        return ""
    if isinstance(value, list):
        value = "、".join(str(v) for v in value)
    return _redact(str(value).strip())[:limit]


def category_id() -> int | None:
    from pubcredit.catalog.models import Category

    return Category.objects.filter(code=CATEGORY).values_list("pk", flat=True).first()


def _intake_values(record, departments_by_uscc: dict, subject_id: int) -> dict | None:
    """The commitment a CN record states (None when it cannot be one)."""
    data = record.data or {}
    kind = _KIND_BY_LABEL.get(str(data.get("CN_CNRLB") or "").strip()) or record.subject_kind
    ctype = str(data.get("CN_CNLX") or "").strip()
    made_on = _date(data.get("CN_ZCRQ")) or record.decision_date
    if ctype not in CommitmentType.values or made_on is None or kind not in SubjectKind.values:
        return None
    valid_to = _date(data.get("CN_YXQ")) or record.valid_to
    if valid_to is not None and valid_to < made_on:
        valid_to = made_on
    performance = str(data.get("CN_LXZT") or "").strip()
    if performance not in ASSESSED:
        performance = Performance.PENDING
    publicity = str(data.get("CN_GKLX") or "").strip()
    if publicity not in PublicityType.values:
        publicity = PublicityType.NOT_PUBLIC  # in doubt, not published
    raw_code = identifiers.normalize_identifier(str(data.get("CN_CNRDM") or ""))
    if kind == SubjectKind.PERSON:
        code = raw_code if "*" in raw_code else (crypto.mask_id(raw_code) if raw_code else "")
    else:
        code = raw_code[:18]
    breach = performance in BREACHES
    missing = _("(报送数据未填写)")
    department = departments_by_uscc.get(str(data.get("CN_SLDWDM") or "").strip().upper())
    assessor = departments_by_uscc.get(str(data.get("CN_RDDWDM") or "").strip().upper())
    return {
        "subject_id": subject_id,
        "committer_name": (_str(data, "CN_CNRMC", 200) or record.subject_name)[:200],
        "committer_kind": kind,
        "committer_code": code[:32],
        "commitment_type": ctype,
        "reason": _str(data, "CN_CNSY", REASON_MAX) or missing,
        "content": _str(data, "CN_CNNR", TEXT_MAX) or missing,
        "liability": _str(data, "CN_WNZR", TEXT_MAX) or missing,
        "made_on": made_on,
        "valid_to": valid_to,
        "performance": performance,
        "unfulfilled_content": (_str(data, "CN_WLXNR", TEXT_MAX) or missing) if breach else "",
        "liability_enforced": (_str(data, "CN_ZJNR", TEXT_MAX) or missing) if breach else "",
        "assessed_on": _date(data.get("CN_RDRQ")) if performance != Performance.PENDING else None,
        "assessor_id": (assessor.pk if assessor else None)
        if performance != Performance.PENDING
        else None,
        "department_id": department.pk if department else record.department_id,
        "publicity_type": publicity,
        "remark": _str(data, "BZ", REASON_MAX),
    }


# A commitment's own fields (what a 承诺 record sets) and its assessment (履约) fields.
CORE_FIELDS = (
    "subject_id",
    "committer_name",
    "committer_kind",
    "committer_code",
    "commitment_type",
    "reason",
    "content",
    "liability",
    "made_on",
    "valid_to",
    "department_id",
    "publicity_type",
    "remark",
)
PERFORMANCE_FIELDS = (
    "performance",
    "unfulfilled_content",
    "liability_enforced",
    "assessed_on",
    "assessor_id",
)


def _resolve_subjects(records) -> dict[int, int]:
    """record id → subject id. Intake links a CN record's subject by its 承诺人代码 like any
    other category's identifier (the USCC, or a person's document number through its blind
    index; pubcredit.intake.linking), so the record's own link is the answer; records still
    waiting in the name-review queue have none yet."""
    return {r.pk: r.subject_id for r in records if r.subject_id}


@transaction.atomic
def commitments_from_records(
    record_ids, *, principal: Principal | None = None, today: dt.date | None = None
) -> dict[str, int]:
    """Create or refresh the commitments stated by CN (信用承诺) records, matched by 承诺编码.

    Set-based: a handful of queries and bulk writes whatever the number of records; one audit
    event per call that changed anything. Rules:
    - a new code becomes a commitment (source 部门归集, the record as provenance): subject from
      the record's link (intake links it by the 承诺人代码); the accepting
      department by 承诺受理单位代码, else the submitting department; a person's code masked;
    - an existing code is refreshed when the record comes from its accepting department (or a
      department allowed to submit for it) and names the same subject; otherwise the row is
      counted as a conflict and left alone. A commitment that came through intake takes every
      item from the record; one signed online or at a window takes only the fulfilment items;
    - fulfilment follows the assessment rules (TRANSITIONS): a breach is final, so a record that
      would undo one is counted as refused for that part. A breach arriving here has the same
      effects as one assessed in the console (breach_effects, logged rather than raised);
    - a withdrawn record withdraws the commitment it brought (no longer published or counted);
    - records of other categories, without a resolvable subject or without a usable type or
      date are skipped.
    Returns counts {"created", "updated", "unchanged", "withdrawn", "conflicts", "refused",
    "skipped", "breaches"}."""
    from pubcredit.records.models import Record, RecordStatus

    principal = principal or Principal.system("commitments intake")
    day = today or timezone.localdate()
    counts = dict.fromkeys(
        (
            "created",
            "updated",
            "unchanged",
            "withdrawn",
            "conflicts",
            "refused",
            "skipped",
            "breaches",
        ),
        0,
    )
    cn = category_id()
    ids = list(record_ids)
    if cn is None or not ids:
        return counts
    records = list(
        Record.objects.filter(pk__in=ids, category_id=cn)
        .select_related("department")
        .order_by("id")
    )
    if not records:
        return counts
    codes = {}
    for r in records:
        code = str((r.data or {}).get("CN_CNBM") or r.business_key or "").strip()
        if len(code) == 20:
            codes[r.pk] = code
    existing = {
        c.code: c
        for c in Commitment.objects.select_for_update().filter(code__in=list(codes.values()))
    }
    departments = {d.uscc.upper(): d for d in Department.objects.all()}
    allowed_for: dict[int, set[int]] = {}
    for dept_id, other in Department.submits_for.through.objects.values_list(
        "from_department_id", "to_department_id"
    ):
        allowed_for.setdefault(dept_id, set()).add(other)
    live = [r for r in records if r.status == RecordStatus.ACTIVE]
    subjects = _resolve_subjects(live)

    now = timezone.now()
    actor = principal.label[:150]
    to_create: list[Commitment] = []
    to_update: dict[int, Commitment] = {}
    events: list[CommitmentEvent] = []
    breached: list[Commitment] = []
    seen_codes: set[str] = set()
    for record in records:
        code = codes.get(record.pk)
        if code is None or code in seen_codes:
            counts["skipped"] += 1
            continue
        seen_codes.add(code)
        current = existing.get(code)
        if record.status != RecordStatus.ACTIVE:
            if (
                current is not None
                and current.record_id == record.pk
                and current.source == CommitmentSource.INTAKE
                and current.withdrawn_at is None
            ):
                current.withdrawn_at = now
                to_update[current.pk] = current
                events.append(
                    _event(
                        current,
                        CommitmentEvent.Action.WITHDRAW,
                        actor,
                        at=now,
                        reason=record.status_reason
                        or _("来源记录%(s)s") % {"s": record.get_status_display()},
                        details={"record": record.pk},
                    )
                )
                counts["withdrawn"] += 1
            else:
                counts["unchanged"] += 1
            continue
        subject_id = subjects.get(record.pk)
        if subject_id is None:
            counts["skipped"] += 1
            continue
        values = _intake_values(record, departments, subject_id)
        if values is None:
            counts["skipped"] += 1
            continue
        if current is None:
            c = Commitment(
                code=code,
                **values,
                source=CommitmentSource.INTAKE,
                record_id=record.pk,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
            to_create.append(c)
            if c.performance in BREACHES:
                breached.append(c)
            counts["created"] += 1
            continue
        permitted = {record.department_id} | allowed_for.get(record.department_id, set())
        if current.department_id not in permitted or current.subject_id != subject_id:
            counts["conflicts"] += 1
            continue
        own = current.source == CommitmentSource.INTAKE
        fields = (CORE_FIELDS if own else ()) + PERFORMANCE_FIELDS
        changed = {k: values[k] for k in fields if getattr(current, k) != values[k]}
        previous = current.performance
        if "performance" in changed:
            if values["performance"] not in TRANSITIONS.get(previous, ()):
                counts["refused"] += 1
                for k in PERFORMANCE_FIELDS:
                    changed.pop(k, None)
        elif previous in BREACHES or values["performance"] == Performance.PENDING:
            # The fulfilment stands as assessed; only its wording would change.
            for k in PERFORMANCE_FIELDS:
                changed.pop(k, None)
        if current.record_id is None:
            changed["record_id"] = record.pk
        if own and current.withdrawn_at is not None:
            changed["withdrawn_at"] = None
        if not changed:
            counts["unchanged"] += 1
            continue
        for k, v in changed.items():
            setattr(current, k, v)
        current.updated_at = now
        to_update[current.pk] = current
        counts["updated"] += 1
        new_perf = current.performance
        events.append(
            _event(
                current,
                CommitmentEvent.Action.UPDATE,
                actor,
                at=now,
                reason=_("%(dept)s报送更新") % {"dept": record.department.name},
                before=previous if new_perf != previous else "",
                after=new_perf if new_perf != previous else "",
                details={
                    "record": record.pk,
                    "fields": sorted(k for k in changed if k != "record_id"),
                },
            )
        )
        if new_perf != previous and new_perf in BREACHES:
            breached.append(current)

    if to_create:
        Commitment.objects.bulk_create(to_create, batch_size=1000)
        if to_create[0].pk is None:  # backends without RETURNING on bulk insert
            pks = dict(
                Commitment.objects.filter(code__in=[c.code for c in to_create]).values_list(
                    "code", "pk"
                )
            )
            for c in to_create:
                c.pk = c.id = pks[c.code]
        for c in to_create:
            events.append(
                _event(
                    c,
                    CommitmentEvent.Action.INTAKE,
                    actor,
                    at=now,
                    after=c.performance,
                    reason=_("部门归集报送"),
                    details={"record": c.record_id},
                )
            )
    if to_update:
        Commitment.objects.bulk_update(
            list(to_update.values()),
            [*(f.removesuffix("_id") for f in CORE_FIELDS), "record", "withdrawn_at"]
            + [f.removesuffix("_id") for f in PERFORMANCE_FIELDS]
            + ["updated_at"],
            batch_size=500,
        )
    for c in breached:
        details = breach_effects(c, c.assessed_on or day, actor=actor, strict=False)
        counts["breaches"] += 1
        events.append(
            _event(
                c,
                CommitmentEvent.Action.ASSESS,
                actor,
                at=now,
                after=c.performance,
                reason=_("经归集报送的违诺认定"),
                details=details,
            )
        )
    CommitmentEvent.objects.bulk_create(events, batch_size=2000)
    if any(counts[k] for k in ("created", "updated", "withdrawn")):
        record_event(
            principal,
            "commitments.intake",
            object_type="commitments.commitment",
            object_repr=_("归集信用承诺"),
            after={**counts, "records": len(records)},
        )
    return counts


# --------------------------------------------------------------------------- reads


def in_force_q(day: dt.date, *, prefix: str = "") -> Q:
    """Commitments in force on `day`: made on or before it, valid through it (or open-ended),
    not breached, not withdrawn."""
    p = prefix
    return (
        Q(**{f"{p}made_on__lte": day, f"{p}withdrawn_at__isnull": True})
        & (Q(**{f"{p}valid_to__isnull": True}) | Q(**{f"{p}valid_to__gte": day}))
        & ~Q(**{f"{p}performance__in": list(BREACHES)})
    )


def public_q(day: dt.date) -> Q:
    """What the public register shows on `day`: 可向社会公开 commitments made on or before it,
    not withdrawn (breached and expired ones included: a fulfilment record stays public)."""
    return Q(publicity_type=PublicityType.PUBLIC, made_on__lte=day, withdrawn_at__isnull=True)


def public_commitments(subject_id: int, today: dt.date | None = None) -> QuerySet[Commitment]:
    """The subject's commitments in the public register today, newest first (served by the
    (subject, made_on) index)."""
    day = today or timezone.localdate()
    return (
        Commitment.objects.filter(public_q(day), subject_id=subject_id)
        .select_related("department", "assessor", "matter")
        .order_by("-made_on", "-id")
    )


COMMITMENT_COLUMNS = (
    "subject_id",
    "code",
    "commitment_type",
    "reason",
    "made_on",
    "valid_to",
    "department_id",
    "performance",
    "id",
)


def commitments_sql(subject_condition: str, day: dt.date) -> tuple[str, list]:
    """The SELECT (COMMITMENT_COLUMNS) of the commitments in force on `day` (made on or before
    it, valid through it or long-term, not breached, not withdrawn) of the subjects matching
    `subject_condition` (SQL on the commitments table, e.g. "subject_id = s.id"), with its
    parameters. Served by the (subject, made_on) index."""
    table = connection.ops.quote_name(Commitment._meta.db_table)
    sql = (
        f"SELECT {', '.join(COMMITMENT_COLUMNS)} FROM {table} WHERE {subject_condition} "
        f"AND made_on <= %s AND (valid_to IS NULL OR valid_to >= %s) "
        f"AND performance NOT IN (%s, %s) AND withdrawn_at IS NULL"
    )
    d = connection.ops.adapt_datefield_value(day)
    return sql, [d, d, *BREACHES]


def _iso_text(value) -> str | None:
    if not value:
        return None
    return value if isinstance(value, str) else value.isoformat()


def commitment_dicts(rows) -> dict[int, list[dict]]:
    """{subject id: [commitment]} from rows of `commitments_sql`, newest first, department
    names from the rules cache."""
    if not rows:
        return {}
    names = _department_names({r[6] for r in rows})
    rows = sorted(rows, key=lambda r: (r[0], _iso_text(r[4]) or "", r[8]), reverse=True)
    out: dict[int, list[dict]] = {}
    for sid, code, ctype, reason, made, until, dept, perf, _pk in rows:
        out.setdefault(sid, []).append(
            {
                "code": code,
                "commitment_type": ctype,
                "reason": reason,
                "made_on": _iso_text(made),
                "valid_to": _iso_text(until),
                "department": names.get(dept, ""),
                "performance": perf,
            }
        )
    return out


# Subjects per query of `commitments_in_force` (a batch check asks for up to 100,000).
IN_FORCE_CHUNK = 2000


def commitments_in_force(subject_ids, today: dt.date | None = None) -> dict[int, list[dict]]:
    """{subject id: [commitment in force on `today`]} for credit checks: each with code, type,
    reason, made_on, valid_to (ISO dates; None = long-term), accepting department and
    performance, newest first. One query per IN_FORCE_CHUNK subjects, served by the (subject,
    made_on) index; department names come from the rules cache. Subjects without any are
    absent."""
    ids = sorted({int(s) for s in subject_ids if s is not None})
    day = today or timezone.localdate()
    rows = []
    with connection.cursor() as cursor:
        for i in range(0, len(ids), IN_FORCE_CHUNK):
            chunk = ids[i : i + IN_FORCE_CHUNK]
            sql, params = commitments_sql(f"subject_id IN ({', '.join(['%s'] * len(chunk))})", day)
            cursor.execute(sql, [*chunk, *params])
            rows += cursor.fetchall()
    return commitment_dicts(rows)


def _department_names(ids: set[int]) -> dict[int, str]:
    from pubcredit.measures.rules import current_rules

    known = current_rules().departments or {}
    names = {i: known[i] for i in ids if i in known}
    missing = [i for i in ids if i not in names]
    if missing:  # a department created since the rules were cached
        names.update(Department.objects.filter(pk__in=missing).values_list("pk", "name"))
    return names


def visible_commitments(principal: Principal) -> QuerySet[Commitment]:
    """The commitments `principal` may see in the console and the API ("repair.view", scoped:
    a 部门报送员 its department's, a 区县管理员 its district's subjects')."""
    return restrict(Commitment.objects.all(), principal, VIEW_ACTION)
