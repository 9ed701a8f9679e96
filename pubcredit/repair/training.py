"""Repair training (信用修复专题培训): sessions created by the credit centre, registration by the
subject, attendance marked by the centre with a certificate number (结业证明). Where the rule
requires training for a record's tier, repair needs an attended session (`training_completed`).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.lists.services import add_months
from pubcredit.repair.models import TrainingRegistration, TrainingSession
from pubcredit.repair.procedures import checked_phone, checked_text, new_query_code


def training_completed(subject_id: int, since: dt.date, today: dt.date, months: int):
    """The subject's attended training registration held after `since` and no more than
    `months` before `today` (the newest), or None."""
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


@transaction.atomic
def create_session(
    principal: Principal, *, title: str, starts_at, place: str, capacity: int, organiser
) -> TrainingSession:
    principal.require("repair.handle")
    title = checked_text(title, "title", _("培训名称"), 200)
    place = checked_text(place, "place", _("地点"), 200)
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
    name = checked_text(attendee_name, "attendee_name", _("参训人姓名"), 64)
    phone = checked_phone(phone)
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
