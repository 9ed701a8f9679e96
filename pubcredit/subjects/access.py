"""A staff member's or a system's look at a natural person's data: every look is logged with who
and why (accounts.AccessLog) before anything is shown, and a clear 身份证号 is only ever read
through `reveal_id_number`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from pubcredit.accounts.models import AccessLog
from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.accounts.services import validate_purpose
from pubcredit.subjects.crypto import decrypt_id
from pubcredit.subjects.models import Subject


@transaction.atomic
def log_person_access(
    principal: Principal,
    subject,
    *,
    purpose: str,
    what: str = "",
    client_address=None,
    action: str = "subjects.view_person",
) -> AccessLog:
    """Record that a staff member or system looked at a natural person's data, and why.
    Refuses (and logs nothing) unless the principal holds `action` ("subjects.view_person", or
    the action of the procedure that shows the data, e.g. "repair.view" for an applicant's
    materials), the subject is a natural person within the principal's scope, and the purpose
    says why."""
    principal.require(action)
    if not subject.is_person:
        raise ValueError("log_person_access is for natural persons only")
    in_scope = restrict(Subject.objects.filter(pk=subject.pk), principal, action)
    if not in_scope.exists():
        raise PermissionDenied(_("该自然人不在您的管辖范围内。"))
    purpose = validate_purpose(purpose)
    return AccessLog.objects.create(
        actor=principal.user,
        api_key=principal.api_key,
        actor_label=principal.label[:150],
        subject=subject,
        purpose=purpose[:255],
        what=what[:255],
        client_address=client_address,
    )


@transaction.atomic
def reveal_id_number(principal: Principal, subject, *, purpose: str, client_address=None) -> str:
    """A natural person's clear 身份证号, after logging the look (log_person_access's checks
    apply). The only path from ciphertext to a person's clear ID in a staff-facing view: no log,
    no number."""
    log_person_access(
        principal, subject, purpose=purpose, what=_("身份证号"), client_address=client_address
    )
    if not subject.id_cipher:
        return ""
    return decrypt_id(subject.id_cipher)
