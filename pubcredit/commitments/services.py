"""Commitments arriving through intake: the commitments stated by CN (信用承诺) records, created,
refreshed or withdrawn with their records (`commitments_from_records`, called by the receivers
in pubcredit/commitments/signals.py).

Signing is in `commitments.signing`, fulfilment and breaches in `commitments.assessment`, the
register and the commitments in force in `commitments.queries`. (This module keeps the name
`services` because `commitments_from_records` and `category_id` are referenced by their dotted
path `pubcredit.commitments.services.…`.)
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Category, Department, SubjectKind
from pubcredit.commitments.assessment import TRANSITIONS, breach_effects
from pubcredit.commitments.models import (
    ASSESSED,
    BREACHES,
    Commitment,
    CommitmentEvent,
    CommitmentSource,
    CommitmentType,
    Performance,
    PublicityType,
)
from pubcredit.commitments.signing import REASON_MAX, TEXT_MAX
from pubcredit.core import identifiers
from pubcredit.records.models import Record, RecordStatus
from pubcredit.subjects import crypto
from pubcredit.subjects.masking import redact_id_numbers

CATEGORY = "CN"


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
    return redact_id_numbers(str(value).strip())[:limit]


def category_id() -> int | None:
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
