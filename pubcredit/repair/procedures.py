"""The procedure both a repair application and an objection follow (the state machine is in
models.py): the applicant's query code (查询码) and fields, the materials kept with a procedure,
and the moves from stage to stage.

A move locks the procedure row, checks the principal's role and scope, closes the current stage
(late if past its deadline), opens the next one with its deadline in working days under the
procedure's `RepairRule`, and writes a `ProcedureStep` and an audit event, in the caller's
transaction. What each procedure does at each stage is in `repair.services` (repair
applications) and `repair.objections`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.core import letters
from pubcredit.holidays.services import add_workdays
from pubcredit.records.models import Record
from pubcredit.repair.models import (
    Material,
    Objection,
    ProcedureStatus,
    ProcedureStep,
    RepairApplication,
)
from pubcredit.subjects.access import log_person_access

S = ProcedureStatus
# The actor of the effects a procedure has on other apps' data (publicity marks, list entries).
SYSTEM = "repair"

# Query codes (查询码): no 0/O, 1/I/L, so they can be read out over the phone.
QUERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
QUERY_LENGTH = 12

MAX_MATERIAL_BYTES = 20 * 1024 * 1024
MAX_MATERIALS = 10
MATERIAL_SUFFIXES = frozenset({".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".ofd", ".zip"})


def day_or_today(today: dt.date | None) -> dt.date:
    """`today` when given (tests, back-dated entries), else the local date."""
    return today or timezone.localdate()


def checked_text(value: str | None, field: str, label: str, limit: int, *, required=True) -> str:
    """`value` stripped; ValidationError({field: [中文]}) when missing (if required) or too long."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [_("请填写%(label)s。") % {"label": label}]})
    if len(value) > limit:
        raise ValidationError(
            {field: [_("%(label)s不能超过 %(n)s 个字。") % {"label": label, "n": limit}]}
        )
    return value


def checked_phone(value: str | None) -> str:
    value = checked_text(value, "applicant_phone", _("联系电话"), 32)
    if not all(c.isdigit() or c in "-+ " for c in value) or sum(c.isdigit() for c in value) < 7:
        raise ValidationError({"applicant_phone": [_("联系电话格式不正确。")]})
    return value


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_ALPHABET) for _ in range(QUERY_LENGTH))


def normalise_query_code(value: str | None) -> str:
    return "".join((value or "").split()).upper().replace("-", "")


# --------------------------------------------------------------------------- materials


def _store_materials(owner: models.Model, files: list[tuple[str, object]]) -> list[Material]:
    """Keep each uploaded file untouched with its sha256. `files`: (kind, UploadedFile)."""
    if len(files) > MAX_MATERIALS:
        raise ValidationError({"materials": [_("最多上传 %(n)s 份材料。") % {"n": MAX_MATERIALS}]})
    out = []
    now = timezone.now()
    for kind, upload in files:
        name = Path(getattr(upload, "name", "") or "").name[:200]
        if kind not in Material.Kind.values:
            raise ValidationError({"materials": [_("材料类型无效。")]})
        if Path(name).suffix.lower() not in MATERIAL_SUFFIXES:
            raise ValidationError(
                {
                    "materials": [
                        _("材料“%(f)s”的格式不支持,请上传 PDF、图片(JPG/PNG)、Word、OFD 或 ZIP。")
                        % {"f": name or "?"}
                    ]
                }
            )
        size = getattr(upload, "size", None) or 0
        if size > MAX_MATERIAL_BYTES:
            raise ValidationError({"materials": [_("材料“%(f)s”超过 20 MB。") % {"f": name}]})
        if size == 0:
            raise ValidationError({"materials": [_("材料“%(f)s”是空文件。") % {"f": name}]})
        digest = hashlib.sha256()
        chunks = []
        for chunk in upload.chunks():
            digest.update(chunk)
            chunks.append(chunk)
        material = Material(kind=kind, name=name, sha256=digest.hexdigest(), size=size)
        material.uploaded_at = now
        if isinstance(owner, RepairApplication):
            material.application = owner
        else:
            material.objection = owner
        material.file.save(name, ContentFile(b"".join(chunks)), save=False)
        material.save()
        out.append(material)
    return out


@transaction.atomic
def open_material(principal: Principal, material: Material, *, client_address=None) -> Material:
    """A staff member opens an applicant's material (it may hold ID copies): allowed when the
    application or objection it belongs to is visible to the principal; every opening is in the
    audit trail, and for a natural person also in the personal-data access log."""
    if material.application_id:
        owner = visible_applications(principal).filter(pk=material.application_id).first()
    else:
        owner = visible_objections(principal).filter(pk=material.objection_id).first()
    if owner is None:
        raise PermissionDenied(_("材料不存在或无权查看。"))
    purpose = _("办理信用修复或异议申请(查询码 %(c)s)") % {"c": owner.query_code}
    if owner.subject.is_person:
        log_person_access(
            principal,
            owner.subject,
            purpose=purpose,
            what=_("申请材料:%(n)s") % {"n": material.name},
            client_address=client_address,
            action="repair.view",
        )
    record_event(principal, "repair.material.open", material, reason=purpose)
    return material


# --------------------------------------------------------------------------- transitions


def _snapshot(proc) -> dict:
    return snapshot(proc, exclude=("eligibility",))


def _step(
    proc,
    principal: Principal,
    action: str,
    from_status: str,
    note: str,
    day,
    late: bool,
    stage_due: dt.date | None = None,
):
    owner = {"application": proc} if isinstance(proc, RepairApplication) else {"objection": proc}
    return ProcedureStep.objects.create(
        **owner,
        action=action,
        from_status=from_status,
        to_status=proc.status,
        actor_label=principal.label[:150],
        department_id=principal.department_id,
        note=note,
        day=day,
        stage_due_on=stage_due,
        late=late,
        at=timezone.now(),
    )


def move_procedure(
    proc,
    principal: Principal,
    action: str,
    allowed: tuple[str, ...],
    to: str,
    *,
    note: str = "",
    next_stage: str | None = None,
    today: dt.date | None = None,
    terminal: bool = False,
    label: str,
):
    """Move a locked procedure from one of `allowed` to `to`: close the current stage (late if
    past its deadline), open the next one with its deadline, write the step and the audit event.
    """
    day = day_or_today(today)
    if proc.status not in allowed:
        raise ValidationError(
            {
                "status": [
                    _("当前状态为“%(s)s”,不能%(a)s。")
                    % {"s": proc.get_status_display(), "a": label}
                ]
            }
        )
    before = _snapshot(proc)
    from_status = proc.status
    late = proc.due_on is not None and day > proc.due_on
    stage_due = proc.due_on
    proc.status = to
    proc.stage_started_on = day
    proc.due_on = add_workdays(day, proc.rule.days(next_stage)) if next_stage else None
    if terminal:
        proc.decided_on = day
    proc.updated_at = timezone.now()
    proc.save()
    _step(proc, principal, action, from_status, note, day, late, stage_due)
    kind = "application" if isinstance(proc, RepairApplication) else "objection"
    record_event(
        principal,
        f"repair.{kind}.{action}",
        proc,
        before=before,
        after=_snapshot(proc),
        reason=note,
    )
    return proc


def lock_procedure(model, proc, principal: Principal, action: str):
    """The procedure, row-locked, if `principal` may do `action` on it (role and scope)."""
    principal.require(action)
    locked = (
        restrict(model.objects.all(), principal, action)
        .select_for_update()
        # The subject too: on Citus a row lock must name the distribution column (docs/scale.md).
        .filter(pk=proc.pk, subject_id=proc.subject_id)
        .first()
    )
    if locked is None:
        raise PermissionDenied(_("无权办理其他部门的申请。"))
    return locked


def new_procedure(model, record: Record, rule, day, stage: str, *, name: str, phone: str, **fields):
    """A new (unsaved) procedure of `record` by the applicant `name`/`phone`, 待受理 from `day`
    with the deadline of its first `stage`; `fields` are the model's own."""
    return model(
        query_code=_new_code(model),
        record=record,
        subject_id=record.subject_id,
        department=record.department,
        rule=rule,
        applicant_name=name,
        applicant_phone=phone,
        status=S.SUBMITTED,
        stage_started_on=day,
        due_on=add_workdays(day, rule.days(stage)),
        created_at=timezone.now(),
        updated_at=timezone.now(),
        **fields,
    )


def open_procedure(proc, principal: Principal, materials, note: str, day, busy: str) -> None:
    """Save a new procedure (one open per record: the partial unique index refuses a second
    one, even a concurrent one), keep its materials, write its first step and audit event.
    The filer (`principal.label`) is kept with it: another system follows what it filed."""
    proc.filed_by = principal.label[:150]
    try:
        with transaction.atomic():
            proc.save()
    except IntegrityError as exc:
        raise ValidationError({"record": [busy]}) from exc
    _store_materials(proc, materials)
    _step(proc, principal, "submit", "", note[:200], day, False)
    kind = "application" if isinstance(proc, RepairApplication) else "objection"
    record_event(principal, f"repair.{kind}.submit", proc, after=_snapshot(proc))


def _check_phone(proc, phone: str | None) -> None:
    """The applicant proves itself with the query code it holds and the phone number it gave."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    if digits != "".join(c for c in proc.applicant_phone if c.isdigit()):
        raise PermissionDenied(_("联系电话与申请时填写的不一致。"))


def refuse_procedure(model, proc, principal: Principal, reason: str, today):
    """The credit centre does not accept a procedure (不予受理), with a reason."""
    reason = checked_text(reason, "reason", _("不予受理的理由"), 2000)
    proc = lock_procedure(model, proc, principal, "repair.handle")
    proc.result_reason = reason
    return move_procedure(
        proc,
        principal,
        "refuse",
        (S.SUBMITTED,),
        S.REFUSED,
        note=reason,
        today=today,
        terminal=True,
        label=_("不予受理"),
    )


def withdraw_procedure(model, proc, principal: Principal, phone: str, allowed, note: str, today):
    """The applicant withdraws an open procedure (proved by the query code it holds and the
    phone number given with it)."""
    proc = model.objects.select_for_update().get(pk=proc.pk)
    _check_phone(proc, phone)
    return move_procedure(
        proc,
        principal,
        "withdraw",
        allowed,
        S.WITHDRAWN,
        note=note,
        today=today,
        terminal=True,
        label=_("撤回"),
    )


def issue_letter(proc, number_field: str, file_field: str, number_format: str, letter) -> None:
    """Number a decided procedure's letter (`number_format` with its year and id), render the
    letter `letter(proc)` and keep it as `<query code>.pdf`."""
    setattr(proc, number_field, number_format % {"y": proc.decided_on.year, "n": f"{proc.pk:06d}"})
    pdf = letters.render_letter(letter(proc))
    getattr(proc, file_field).save(f"{proc.query_code}.pdf", ContentFile(pdf), save=False)
    proc.save(update_fields=[number_field, file_field])


# --------------------------------------------------------------------------- filing for others
# (issue 19, procedures API) Another system (a 政务服务 hall, a department's system) files for
# an applicant with "repair.file"; a department-scoped filer only objections to its own
# department's records. A filer follows what it filed; "repair.view" shows the rest in scope.


def checked_reference(value: str | None) -> str:
    """The filing system's own reference (外部系统业务编号), optional, at most 64 characters."""
    return checked_text(value, "external_id", _("外部系统业务编号"), 64, required=False)


def check_filer(principal: Principal, record: Record, *, objection: bool) -> None:
    """PermissionDenied unless `principal` may file this procedure for an applicant."""
    principal.require("repair.file")
    if not principal.is_department_scoped:
        return
    if not objection:
        raise PermissionDenied(
            _(
                "部门报送员只能代为提交本部门记录的异议申请;信用修复申请请到信用中心或政务服务窗口办理。"
            )
        )
    if record.department_id != principal.department_id:
        raise PermissionDenied(
            _("只能代为提交本部门记录的异议申请(record_id 所指记录属于其他部门)。")
        )


def filed_with_reference(model, principal: Principal, external_id: str, record: Record):
    """The procedure `principal` filed earlier with `external_id` (a retried filing), or None;
    ValidationError when that reference was used for another record."""
    if not external_id:
        return None
    found = model.objects.filter(filed_by=principal.label[:150], external_id=external_id).first()
    if found is not None and found.record_id != record.pk:
        raise ValidationError(
            {
                "external_id": [
                    _("外部系统业务编号“%(r)s”已用于另一条记录的申请。") % {"r": external_id}
                ]
            }
        )
    return found


def followed(model, principal: Principal):
    """The procedures `principal` may follow: those in its "repair.view" scope and those it
    filed itself (with "repair.file")."""
    visible = restrict(model.objects.all(), principal, "repair.view")
    if principal.can("repair.file"):
        visible = visible | model.objects.filter(filed_by=principal.label[:150])
    return visible


def visible_applications(principal: Principal):
    return restrict(RepairApplication.objects.all(), principal, "repair.view")


def visible_objections(principal: Principal):
    return restrict(Objection.objects.all(), principal, "repair.view")


def _new_code(model) -> str:
    for _attempt in range(8):
        code = new_query_code()
        if not model.objects.filter(query_code=code).exists():
            return code
    raise RuntimeError("could not allocate a query code")  # pragma: no cover - 31^12 codes
