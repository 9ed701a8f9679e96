"""Credit repair (信用修复), objections (异议) and repair training: the procedures and their effects.

Every write is one function here, `@transaction.atomic`, that checks the principal, moves the
procedure along its state machine (models.py), writes a `ProcedureStep` and an audit event in
the same transaction. Deadlines are working days (pubcredit.holidays) under the `RepairRule` in
force on the day the application was filed.

Effects of a granted repair, in the decision's transaction: the record's publicity stops
(`publicity.add_mark(..., "repaired")`, so the portal and the public API no longer show it and
credit checks, which read publicity, no longer hit), the list entries identified from the record
are removed (移出, so list-based measures lift and the check read model is refreshed), and the
decision letter is issued. A broken 信用修复型 commitment revokes the repair (`revoke_repair`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.core import letters
from pubcredit.holidays.services import add_workdays
from pubcredit.publicity.models import Publicity, PublicityMark, PublicityState
from pubcredit.publicity.services import add_mark, is_public_q, lift_mark
from pubcredit.records.models import Record
from pubcredit.records.models import document_number as record_document_number
from pubcredit.repair.models import (
    OPEN_OBJECTION,
    OPEN_REPAIR,
    Material,
    Objection,
    ObjectionTarget,
    ProcedureStatus,
    ProcedureStep,
    RepairApplication,
    RepairRule,
    TrainingRegistration,
    TrainingSession,
)

S = ProcedureStatus
DATA_FILE = Path(__file__).resolve().parent / "data" / "repair_rules.json"
SYSTEM = "repair"

# Query codes (查询码): no 0/O, 1/I/L, so they can be read out over the phone.
QUERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
QUERY_LENGTH = 12

MAX_MATERIAL_BYTES = 20 * 1024 * 1024
MAX_MATERIALS = 10
MATERIAL_SUFFIXES = frozenset({".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".ofd", ".zip"})


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def _text(value: str | None, field: str, label: str, limit: int, *, required=True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [_("请填写%(label)s。") % {"label": label}]})
    if len(value) > limit:
        raise ValidationError(
            {field: [_("%(label)s不能超过 %(n)s 个字。") % {"label": label, "n": limit}]}
        )
    return value


def _phone(value: str | None) -> str:
    value = _text(value, "applicant_phone", _("联系电话"), 32)
    if not all(c.isdigit() or c in "-+ " for c in value) or sum(c.isdigit() for c in value) < 7:
        raise ValidationError({"applicant_phone": [_("联系电话格式不正确。")]})
    return value


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_ALPHABET) for _ in range(QUERY_LENGTH))


def normalise_query_code(value: str | None) -> str:
    return "".join((value or "").split()).upper().replace("-", "")


# --------------------------------------------------------------------------- rules


def rule_on(day: dt.date) -> RepairRule:
    """The repair rule in force on `day` (the day an application is filed)."""
    rule = (
        RepairRule.objects.filter(effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-effective_from")
        .first()
    )
    if rule is None:
        raise ValidationError(
            _("%(d)s 没有适用的信用修复规则,请联系信用中心。") % {"d": day.isoformat()}
        )
    return rule


RULE_FIELDS = (
    "name",
    "legal_basis",
    "effective_from",
    "effective_to",
    "requires_min_period",
    "requires_obligations",
    "requires_commitment",
    "training_tiers",
    "training_valid_months",
    "deadlines",
    "note",
)
DEADLINE_KEYS = (
    "repair_accept",
    "repair_review",
    "repair_decide",
    "objection_accept",
    "objection_verify",
)


def read_rules(path: Path | str | None = None) -> list[dict]:
    """The rules of a rules file, checked: every deadline present and a whole number of working
    days ≥ 1; windows in order and not overlapping."""
    doc = json.loads(Path(path or DATA_FILE).read_text(encoding="utf-8"))
    rows = []
    for raw in doc["rules"]:
        row = {"code": raw["code"], **{f: raw.get(f) for f in RULE_FIELDS}}
        row["effective_from"] = dt.date.fromisoformat(raw["effective_from"])
        row["effective_to"] = (
            dt.date.fromisoformat(raw["effective_to"]) if raw.get("effective_to") else None
        )
        row["note"] = row["note"] or ""
        row["training_tiers"] = list(row["training_tiers"] or [])
        row["training_valid_months"] = int(row["training_valid_months"] or 12)
        for key in DEADLINE_KEYS:
            value = (row["deadlines"] or {}).get(key)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{raw['code']}: deadline {key} must be a whole number ≥ 1")
        rows.append(row)
    rows.sort(key=lambda r: r["effective_from"])
    for a, b in itertools.pairwise(rows):
        if a["effective_to"] is None or a["effective_to"] >= b["effective_from"]:
            raise ValueError(f"rules {a['code']} and {b['code']} overlap")
    return rows


@transaction.atomic
def import_rules(principal: Principal, path: Path | str | None = None) -> dict[str, int]:
    """Load the repair rules file into RepairRule (upsert by code; rules no longer in the file
    are kept, since applications refer to them). Idempotent; audited."""
    principal.require("catalog.change")
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in read_rules(path):
        current = RepairRule.objects.filter(code=row["code"]).first()
        values = {f: row[f] for f in RULE_FIELDS}
        if current is None:
            RepairRule.objects.create(code=row["code"], **values)
            counts["created"] += 1
        elif any(getattr(current, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(current, f, v)
            current.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    record_event(
        principal,
        "repair.import_rules",
        object_type="repair.rules",
        object_id=Path(path).name if path else DATA_FILE.name,
        object_repr=_("信用修复规则"),
        after=counts,
    )
    return counts


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
    from pubcredit.catalog.models import Field, PublicityClass
    from pubcredit.publicity.rules import ROLE_PENALTY

    return Field.objects.filter(
        category_id=record.category_id,
        role=ROLE_PENALTY,
        category__publicity_class=PublicityClass.PUBLIC,
    ).exists()


def training_completed(subject_id: int, since: dt.date, today: dt.date, months: int):
    """The subject's attended training registration held after `since` and no more than
    `months` before `today` (the newest), or None."""
    from pubcredit.lists.services import add_months

    earliest = max(since, add_months(today, -months))
    return (
        TrainingRegistration.objects.filter(
            subject_id=subject_id,
            attended=True,
            session__starts_at__date__gte=earliest,
            session__starts_at__date__lte=today,
        )
        .select_related("session")
        .order_by("-session__starts_at")
        .first()
    )


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
    day = _today(today)
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
        from pubcredit.subjects.access import log_person_access

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


def _move(
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
    day = _today(today)
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


def _lock(model, proc, principal: Principal, action: str):
    """The procedure, row-locked, if `principal` may do `action` on it (role and scope)."""
    principal.require(action)
    locked = (
        restrict(model.objects.all(), principal, action)
        .select_for_update()
        .filter(pk=proc.pk)
        .first()
    )
    if locked is None:
        raise PermissionDenied(_("无权办理其他部门的申请。"))
    return locked


def _new_procedure(
    model, record: Record, rule, day, stage: str, *, name: str, phone: str, **fields
):
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


def _open(proc, principal: Principal, materials, note: str, day, busy: str) -> None:
    """Save a new procedure (one open per record: the partial unique index refuses a second
    one, even a concurrent one), keep its materials, write its first step and audit event."""
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


def _refuse(model, proc, principal: Principal, reason: str, today):
    """The credit centre does not accept a procedure (不予受理), with a reason."""
    reason = _text(reason, "reason", _("不予受理的理由"), 2000)
    proc = _lock(model, proc, principal, "repair.handle")
    proc.result_reason = reason
    return _move(
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


def _withdraw(model, proc, principal: Principal, phone: str, allowed, note: str, today):
    """The applicant withdraws an open procedure (proved by the query code it holds and the
    phone number given with it)."""
    proc = model.objects.select_for_update().get(pk=proc.pk)
    _check_phone(proc, phone)
    return _move(
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


def _issue_letter(proc, number_field: str, file_field: str, number_format: str, letter) -> None:
    """Number a decided procedure's letter (`number_format` with its year and id), render the
    letter `letter(proc)` and keep it as `<query code>.pdf`."""
    setattr(proc, number_field, number_format % {"y": proc.decided_on.year, "n": f"{proc.pk:06d}"})
    pdf = letters.render_letter(letter(proc))
    getattr(proc, file_field).save(f"{proc.query_code}.pdf", ContentFile(pdf), save=False)
    proc.save(update_fields=[number_field, file_field])


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
) -> RepairApplication:
    """File a repair application (anyone may: the portal's online application, or a window clerk
    on the subject's behalf).

    Guarantees: refused with the unmet conditions, in Chinese, unless every condition of
    `repair_eligibility` holds; the applicant signs a 信用修复型 commitment with it (accepted by
    the deciding department, linked to the record); the materials are kept untouched with their
    sha256; at most one open application per record (a concurrent second one is refused);
    status 待受理 with the acceptance deadline; one step and one audit event."""
    day = _today(today)
    name = _text(applicant_name, "applicant_name", _("经办人姓名"), 64)
    phone = _phone(applicant_phone)
    statement = _text(statement, "statement", _("整改和履行义务情况说明"), 4000)
    if not accept_commitment:
        raise ValidationError({"accept_commitment": [_("须阅读并签署信用修复承诺书。")]})
    proofs = sum(1 for kind, _f in materials if kind == Material.Kind.PROOF)
    record = (
        Record.objects.select_for_update(of=("self",))
        .select_related("department", "subject")
        .get(pk=record.pk)
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
    app = _new_procedure(
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
    )
    _open(
        app,
        principal,
        materials,
        statement,
        day,
        _("该记录已有正在办理的修复申请,请凭查询码查看进度。"),
    )
    if rule.requires_commitment:
        from pubcredit.commitments.services import sign_commitment

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
    app = _lock(RepairApplication, app, principal, "repair.handle")
    return _move(
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
    return _refuse(RepairApplication, app, principal, reason, today)


@transaction.atomic
def review_application(
    principal: Principal, app: RepairApplication, *, agrees: bool, opinion: str, today=None
) -> RepairApplication:
    """The deciding department verifies the application (谁认定、谁修复) and gives its opinion.
    Needs "repair.review" on the record's department (a 部门报送员 only for its own)."""
    opinion = _text(opinion, "opinion", _("核实意见"), 2000)
    app = _lock(RepairApplication, app, principal, "repair.review")
    app.department_agrees = bool(agrees)
    app.department_opinion = opinion
    return _move(
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
    app = _lock(RepairApplication, app, principal, "repair.handle")
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
    app = _move(
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
    _issue_letter(
        app, "decision_number", "decision_letter", _("修复决字〔%(y)s〕第%(n)s号"), decision_letter
    )
    return app


def _grant_effects(app: RepairApplication) -> None:
    """What a granted repair changes, through the owners' own services (each audited)."""
    from pubcredit.lists.models import EntryStatus, ListEntry
    from pubcredit.lists.services import remove_entry

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
    return _withdraw(
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
        _move(
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


def centre_name() -> str:
    """The issuing credit centre of the city this platform runs for (PUBCREDIT_CITY_NAME)."""
    from django.conf import settings
    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")
    city = settings.PUBCREDIT_CITY_NAME_EN if english else settings.PUBCREDIT_CITY_NAME
    return _("%(city)s市社会信用中心") % {"city": city}


def decision_letter(app: RepairApplication) -> letters.Letter:
    record = app.record
    granted = app.status == S.GRANTED
    facts = [
        (_("申请主体"), public_subject_name(app)),
        (_("统一社会信用代码"), app.subject.uscc or ""),
        (_("所涉信息"), record.category.name if record.category_id else ""),
        (_("决定书文号"), document_number(record)),
        (_("认定部门"), app.department.name),
        (_("查询码"), app.query_code),
        (_("申请日期"), app.created_at.date().isoformat()),
    ]
    if granted:
        body = [
            _(
                "经审核,你(单位)已纠正失信行为、履行法定义务并作出信用承诺,符合《%(rule)s》规定的"
                "信用修复条件,决定对上述行政处罚信息予以信用修复。"
            )
            % {"rule": app.rule.title},
            _(
                "自本决定作出之日起,本平台及信用网站终止公示上述信息,停止共享,相关失信惩戒措施"
                "依法解除。"
            ),
            _(
                "你(单位)应当严格履行信用修复承诺;如违背承诺,本平台将撤销本决定,相关信息按最长"
                "公示期重新公示。"
            ),
        ]
    else:
        body = [
            _("经审核,你(单位)的申请不符合信用修复条件,决定不予信用修复。理由:%(r)s")
            % {"r": app.result_reason},
            _("如对本决定有异议,可自收到本决定之日起向本平台提出异议。"),
        ]
    return letters.Letter(
        title=_("信用修复决定书"),
        number=app.decision_number,
        issuer=centre_name(),
        issued_on=app.decided_on,
        addressee=public_subject_name(app),
        facts=facts,
        paragraphs=body,
    )


def repair_notice(record: Record, today: dt.date | None = None) -> letters.Letter:
    """信用修复告知书 ("两书同达"): served with the penalty decision, it tells the subject how long
    the record will be shown, from when and how it can be repaired."""
    from pubcredit.catalog.models import SubjectKind
    from pubcredit.subjects.names import mask_person_name

    day = _today(today)
    publicity = Publicity.objects.filter(pk=record.pk).first()
    name = record.subject_name
    if record.subject_kind == SubjectKind.PERSON:
        name = mask_person_name(name)
    rule = rule_on(day)
    repair_from = publicity.repair_from if publicity else None
    end = publicity.last_day if publicity else None
    facts = [
        (_("当事人"), name),
        (_("决定书文号"), document_number(record)),
        (_("作出决定的部门"), record.department.name),
        (_("决定日期"), record.decision_date.isoformat() if record.decision_date else ""),
        (_("严重程度"), publicity.get_tier_display() if publicity and publicity.tier else ""),
        (_("公示期限"), _("至 %(d)s") % {"d": end.isoformat()} if end else _("依规则确定")),
        (_("可申请修复日期"), repair_from.isoformat() if repair_from else _("无最短公示期要求")),
    ]
    paragraphs = [
        _(
            "根据《%(rule)s》,上述行政处罚信息将在信用网站公示。你(单位)纠正失信行为、履行法定"
            "义务并作出信用承诺后,可在最短公示期届满后申请信用修复。"
        )
        % {"rule": rule.title},
        _(
            "申请途径:登录本市信用网站“信用修复”栏目在线申请,或到政务服务大厅信用窗口办理。"
            "信用修复不收取任何费用。"
        ),
    ]
    if publicity and publicity.tier in (rule.training_tiers or []):
        paragraphs.append(_("该信息属于严重失信行为,申请修复前须参加信用修复专题培训。"))
    return letters.Letter(
        title=_("信用修复告知书"),
        number=_("修复告字〔%(y)s〕第%(n)s号") % {"y": day.year, "n": f"{record.pk:08d}"},
        issuer=record.department.name,
        issued_on=day,
        addressee=name,
        facts=facts,
        paragraphs=paragraphs,
    )


def document_number(record: Record) -> str:
    """The decision's document number (文书号): the record's first business-key field."""
    return record_document_number(record.business_key)


def public_subject_name(proc) -> str:
    from pubcredit.catalog.models import SubjectKind
    from pubcredit.subjects.names import mask_person_name

    subject = proc.subject
    return mask_person_name(subject.name) if subject.kind == SubjectKind.PERSON else subject.name


# --------------------------------------------------------------------------- objections


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
    today: dt.date | None = None,
) -> Objection:
    """File an objection (异议) against a record's content, its publicity period or a repair
    result. Anyone may (the subject through the portal, or a window clerk for it).

    Guarantees: the record has a subject and, except for an objection to a repair result, is
    shown today; at most one open objection per record; an objection to a repair result names
    a decided application of the same record; status 待受理 with the acceptance deadline."""
    day = _today(today)
    if target not in ObjectionTarget.values:
        raise ValidationError({"target": [_("请选择异议事项。")]})
    reason = _text(reason, "reason", _("异议理由"), 4000)
    correction = _text(
        requested_correction, "requested_correction", _("请求更正的内容"), 4000, required=False
    )
    name = _text(applicant_name, "applicant_name", _("经办人姓名"), 64)
    phone = _phone(applicant_phone)
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
    else:
        publicity = Publicity.objects.filter(pk=record.pk).first()
        if publicity is None or not publicity.is_public_on(day):
            raise ValidationError({"record": [_("该记录当前未在公示,无需提出异议。")]})
    rule = rule_on(day)
    obj = _new_procedure(
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
    )
    _open(
        obj,
        principal,
        list(materials),
        reason,
        day,
        _("该记录已有正在办理的异议申请,请凭查询码查看进度。"),
    )
    return obj


@transaction.atomic
def accept_objection(principal: Principal, obj: Objection, note: str = "", *, today=None):
    """The credit centre accepts the objection: the record shows 异议处理中 on the portal from now
    until the objection is settled, and the providing department must verify it within the
    verification deadline."""
    obj = _lock(Objection, obj, principal, "repair.handle")
    obj.record_version_at_acceptance = Record.objects.get(pk=obj.record_id).version
    obj.accepted_at = timezone.now()
    obj = _move(
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
    obj = _refuse(Objection, obj, principal, reason, today)
    _issue_reply(obj)
    return obj


VERIFY_OUTCOMES = (S.CORRECTED, S.RECORD_WITHDRAWN, S.UPHELD)


def _corrected_since_acceptance(obj: Objection) -> bool:
    """A correction is a new fact about the record made after the objection was accepted: a
    new version submitted through intake, a tier set by the department, or (for an objection
    to a repair result) a repair granted."""
    from pubcredit.publicity.models import TierOverride

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
    from pubcredit.records.services import withdraw_record

    if outcome not in VERIFY_OUTCOMES:
        raise ValidationError({"outcome": [_("请选择核实结果:已更正、撤回记录或维持原记录。")]})
    reason = _text(reason, "reason", _("核实意见"), 2000)
    obj = _lock(Objection, obj, principal, "repair.review")
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
    obj = _move(
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
    _issue_reply(obj)
    return obj


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
    obj = _withdraw(Objection, obj, principal, phone, OPEN_OBJECTION, _("申请人撤回异议。"), today)
    _lift_objection_mark(obj, _("申请人撤回异议。"))
    return obj


def _issue_reply(obj: Objection) -> None:
    _issue_letter(
        obj, "reply_number", "reply_letter", _("异议告字〔%(y)s〕第%(n)s号"), reply_letter
    )


def reply_letter(obj: Objection) -> letters.Letter:
    """The 异议处理结果告知书 of a settled objection (numbered)."""
    return letters.Letter(
        title=_("异议处理结果告知书"),
        number=obj.reply_number,
        issuer=centre_name(),
        issued_on=obj.decided_on,
        addressee=public_subject_name(obj),
        facts=[
            (_("异议事项"), obj.get_target_display()),
            (_("所涉记录"), document_number(obj.record)),
            (_("信息提供单位"), obj.department.name),
            (_("查询码"), obj.query_code),
            (_("处理结果"), obj.get_status_display()),
        ],
        paragraphs=[
            _("你(单位)提出的异议申请已办结。处理结果:%(s)s。") % {"s": obj.get_status_display()},
            _("理由:%(r)s") % {"r": obj.result_reason},
        ],
    )


# --------------------------------------------------------------------------- training


@transaction.atomic
def create_session(
    principal: Principal, *, title: str, starts_at, place: str, capacity: int, organiser
) -> TrainingSession:
    principal.require("repair.handle")
    title = _text(title, "title", _("培训名称"), 200)
    place = _text(place, "place", _("地点"), 200)
    if not capacity or int(capacity) < 1:
        raise ValidationError({"capacity": [_("名额至少为 1。")]})
    session = TrainingSession.objects.create(
        title=title,
        starts_at=starts_at,
        place=place,
        capacity=int(capacity),
        organiser=organiser,
        created_at=timezone.now(),
    )
    record_event(principal, "repair.training.create", session, after=snapshot(session))
    return session


@transaction.atomic
def register_for_training(
    principal: Principal, session: TrainingSession, *, subject, attendee_name: str, phone: str
) -> TrainingRegistration:
    """Register a subject's attendee for a session (the public may: portal form)."""
    session = TrainingSession.objects.select_for_update().get(pk=session.pk)
    if not session.open_for_registration or session.starts_at <= timezone.now():
        raise ValidationError({"session": [_("该场培训已停止报名。")]})
    if session.registrations.count() >= session.capacity:
        raise ValidationError({"session": [_("该场培训名额已满,请选择其他场次。")]})
    name = _text(attendee_name, "attendee_name", _("参训人姓名"), 64)
    phone = _phone(phone)
    if TrainingRegistration.objects.filter(session=session, subject=subject).exists():
        raise ValidationError({"session": [_("该主体已报名本场培训。")]})
    reg = TrainingRegistration.objects.create(
        session=session,
        subject=subject,
        attendee_name=name,
        attendee_phone=phone,
        registered_at=timezone.now(),
    )
    record_event(principal, "repair.training.register", reg, after=snapshot(reg))
    return reg


@transaction.atomic
def mark_attendance(
    principal: Principal, registration: TrainingRegistration, attended: bool = True
) -> TrainingRegistration:
    """Record attendance; an attendee gets a certificate number (结业证明) once."""
    principal.require("repair.handle")
    reg = TrainingRegistration.objects.select_for_update().get(pk=registration.pk)
    before = snapshot(reg)
    reg.attended = bool(attended)
    reg.attendance_marked_by = principal.label[:150]
    if reg.attended and not reg.certificate_number:
        # Not sequential: a certificate number must not let anyone enumerate attendees.
        reg.certificate_number = f"XF{reg.session.starts_at:%Y%m%d}{new_query_code()[:8]}"
    reg.save()
    record_event(principal, "repair.training.attendance", reg, before=before, after=snapshot(reg))
    return reg


def certificate_letter(reg: TrainingRegistration) -> letters.Letter:
    subject = reg.subject
    return letters.Letter(
        title=_("信用修复专题培训结业证明"),
        number=reg.certificate_number or "",
        issuer=reg.session.organiser.name,
        issued_on=reg.session.starts_at.date(),
        facts=[
            (_("参训主体"), subject.name if subject.kind != "person" else reg.attendee_name),
            (_("统一社会信用代码"), subject.uscc or ""),
            (_("参训人"), reg.attendee_name),
            (_("培训名称"), reg.session.title),
            (_("培训时间"), f"{timezone.localtime(reg.session.starts_at):%Y-%m-%d %H:%M}"),
            (_("培训地点"), reg.session.place),
        ],
        paragraphs=[_("兹证明上述人员已参加信用修复专题培训并结业,可作为申请信用修复的材料。")],
    )


# --------------------------------------------------------------------------- queues, statistics


def lookup(query_code: str):
    """The application or objection a query code belongs to, or None."""
    code = normalise_query_code(query_code)
    if len(code) != QUERY_LENGTH:
        return None
    return (
        RepairApplication.objects.filter(query_code=code).first()
        or Objection.objects.filter(query_code=code).first()
    )


def public_records_shown(record_ids, today=None) -> set[int]:
    """Of `record_ids`, those shown on the portal today (for tests and pages)."""
    rows = Publicity.objects.filter(pk__in=list(record_ids)).filter(
        is_public_q(_today(today), prefix="")
    )
    return set(rows.values_list("pk", flat=True))


def workdays_past(due_dates, day: dt.date) -> list[int]:
    """For each deadline, the working days `day` is past it (0 when not past, or none): one
    vectorised count for a whole queue (pubcredit.holidays.workdays_between_many)."""
    from pubcredit.holidays.services import workdays_between_many

    past = [d is not None and d < day for d in due_dates]
    if not any(past):
        return [0] * len(past)
    starts = [d if p else day for d, p in zip(due_dates, past, strict=True)]
    counts = workdays_between_many(starts, [day] * len(starts))
    return [int(c) if p else 0 for c, p in zip(counts, past, strict=True)]


def overdue_items(today: dt.date | None = None, principal: Principal | None = None) -> list[dict]:
    """Open applications and objections past their stage deadline (for the console's alerts and
    `pubcredit repair overdue`), oldest deadline first; restricted to what `principal` may see
    when given."""
    day = _today(today)
    out = []
    for model, open_states, kind in (
        (RepairApplication, OPEN_REPAIR, "repair"),
        (Objection, OPEN_OBJECTION, "objection"),
    ):
        qs = model.objects.filter(status__in=open_states, due_on__lt=day)
        if principal is not None:
            qs = restrict(qs, principal, "repair.view")
        procs = list(qs.select_related("department").order_by("due_on", "id"))
        for proc, late in zip(procs, workdays_past([p.due_on for p in procs], day), strict=True):
            out.append(
                {
                    "kind": kind,
                    "id": proc.pk,
                    "query_code": proc.query_code,
                    "status": proc.status,
                    "status_name": str(proc.get_status_display()),
                    "department": proc.department.name,
                    "due_on": proc.due_on.isoformat(),
                    "overdue_workdays": late,
                }
            )
    return out
