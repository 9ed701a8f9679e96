"""Signing a commitment (网上签署 / 窗口受理): the items it states (checked, with any 身份证号
typed into them masked), its 承诺编码 and its 信用承诺书.

An online signing does not come here directly: it is submitted (`confirmation.submit_signing`)
and signed here only when the accepting department confirms it, so the public never creates a
subject or learns what the register holds.

Every signing runs in one transaction and writes its `CommitmentEvent` and its audit event there.
The text limits here are those of every commitment text (the assessment's too).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department, SubjectKind
from pubcredit.catalog.regions import SEED_CITY
from pubcredit.commitments.letters import attach_letter
from pubcredit.commitments.models import (
    Commitment,
    CommitmentEvent,
    CommitmentSerial,
    CommitmentSource,
    CommitmentType,
    Performance,
    PublicityType,
)
from pubcredit.measures.models import Matter
from pubcredit.records.models import Record
from pubcredit.subjects.masking import redact_id_numbers
from pubcredit.subjects.models import Subject

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


def _bad_chars(text: str, multiline: bool) -> bool:
    allowed = "\n\r\t" if multiline else ""
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in text)


def clean_text(
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
    return redact_id_numbers(text)


def commitment_snapshot(commitment: Commitment) -> dict:
    return snapshot(commitment, exclude=_SNAPSHOT_EXCLUDE)


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


def _resolve_matter(value):
    if value is None or value == "":
        return None
    if isinstance(value, Matter):
        return value
    return Matter.objects.filter(code=str(value)).first()


def _resolve_record(value):
    if value is None or value == "":
        return None
    if isinstance(value, Record):
        return value
    try:
        return Record.objects.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


def check_items(
    errors: dict,
    *,
    day: dt.date,
    commitment_type: str,
    reason: str,
    content: str,
    liability: str,
    department,
    signer_name: str,
    signer_contact: str,
    publicity_type: str,
    made_on: dt.date | None,
    valid_to: dt.date | None,
    matter=None,
    remark: str = "",
) -> dict:
    """The items every signing states (online, at a window, or confirmed after an online
    submission), cleaned; problems go to `errors` by field, in Chinese. Returns the cleaned
    texts, the telephone, the department (None when invalid), made_on and the matter."""
    if commitment_type not in CommitmentType.values:
        errors.setdefault("commitment_type", []).append(
            _("承诺类型无效:%(v)s") % {"v": commitment_type or "—"}
        )
    if publicity_type not in PublicityType.values:
        errors.setdefault("publicity_type", []).append(
            _("公开类型无效:%(v)s") % {"v": publicity_type or "—"}
        )
    out = {
        "reason": clean_text(errors, "reason", reason, REASON_MAX, missing=_("请填写承诺事由。")),
        "content": clean_text(
            errors, "content", content, TEXT_MAX, multiline=True, missing=_("请填写承诺内容。")
        ),
        "liability": clean_text(
            errors,
            "liability",
            liability,
            TEXT_MAX,
            multiline=True,
            missing=_("请填写违诺责任。"),
        ),
        "remark": clean_text(errors, "remark", remark, REASON_MAX, required=False),
        "signer_name": clean_text(
            errors, "signer_name", signer_name, SIGNER_MAX, missing=_("请填写签署人姓名。")
        ),
    }
    phone = "".join(unicodedata.normalize("NFKC", signer_contact or "").split())
    if not phone:
        errors.setdefault("signer_contact", []).append(_("请填写签署人联系电话。"))
    elif not PHONE.match(phone):
        errors.setdefault("signer_contact", []).append(
            _("联系电话格式不正确:请填写 11 位手机号码或带区号的固定电话。")
        )
    out["signer_contact"] = phone
    if not isinstance(department, Department) or not department.active:
        errors.setdefault("department", []).append(_("请选择承诺受理单位。"))
        department = None
    out["department"] = department
    made_on = made_on or day
    if made_on > day:
        errors.setdefault("made_on", []).append(_("承诺作出日期不能晚于今天。"))
    if valid_to is not None and valid_to < made_on:
        errors.setdefault("valid_to", []).append(_("承诺有效期不能早于承诺作出日期。"))
    out["made_on"] = made_on
    matter_obj = _resolve_matter(matter)
    if matter not in (None, "") and (matter_obj is None or not matter_obj.active):
        errors.setdefault("matter", []).append(_("审批事项不存在或已停用。"))
    if commitment_type == CommitmentType.APPROVAL and matter_obj is None:
        errors.setdefault("matter", []).append(_("审批替代型承诺须选择所替代的审批事项。"))
    out["matter"] = matter_obj
    return out


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
    day = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if not isinstance(subject, Subject) or subject.pk is None:
        errors.setdefault("subject", []).append(_("请指定承诺主体。"))
        subject = None
    if source not in SIGN_SOURCES:
        errors.setdefault("source", []).append(_("来源应为网上签署或窗口受理。"))
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
        made_on=made_on,
        valid_to=valid_to,
        matter=matter,
        remark=remark,
    )
    department, made_on, matter_obj = items["department"], items["made_on"], items["matter"]
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
        reason=items["reason"],
        content=items["content"],
        liability=items["liability"],
        made_on=made_on,
        valid_to=valid_to,
        performance=Performance.PENDING,
        department=department,
        publicity_type=publicity_type,
        remark=items["remark"],
        source=source,
        matter=matter_obj,
        repaired_record=record,
        signer_name=items["signer_name"],
        signer_contact=items["signer_contact"],
        created_by=principal.label[:150],
    )
    attach_letter(commitment)
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
    record_event(principal, "commitments.sign", commitment, after=commitment_snapshot(commitment))
    return commitment
