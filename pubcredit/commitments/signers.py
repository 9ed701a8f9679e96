"""The person who signed a commitment (签署人): name and telephone, kept for the accepting
department and never published. Console pages show them masked (张*, 138****1234); the full
values come only through `reveal_signer`, which logs the look with its purpose first."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from pubcredit.accounts.audit import record_event
from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import validate_purpose
from pubcredit.commitments.queries import VIEW_ACTION
from pubcredit.subjects.access import log_person_access
from pubcredit.subjects.names import mask_person_name


def mask_phone(value: str) -> str:
    """A telephone number with its middle hidden: 13812341234 → 138****1234 (the first three and
    the last four kept; a short number keeps only its last two)."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) >= 8:
        return value[:3] + "****" + value[-4:]
    return "*" * max(len(value) - 2, 1) + value[-2:]


@dataclass(frozen=True)
class Signer:
    name: str
    contact: str


def masked_signer(obj) -> Signer:
    """The signer of a commitment or an online submission as console pages show it."""
    return Signer(mask_person_name(obj.signer_name), mask_phone(obj.signer_contact))


@transaction.atomic
def reveal_signer(principal: Principal, obj, *, purpose: str, client_address=None) -> Signer:
    """The signer's full name and telephone, after logging the look: in the personal-data
    access log (`subjects.access.log_person_access`, action "repair.view") when the committer
    is a registered natural person, and always in the audit trail ("commitments.signer.view",
    with the purpose). Refused without a purpose (ValidationError) or without the right to see
    the commitment (PermissionDenied)."""
    if not principal.can(VIEW_ACTION):
        raise PermissionDenied(_("您的账号没有查看信用承诺的权限。"))
    purpose = validate_purpose(purpose)
    subject = getattr(obj, "subject", None)
    if subject is not None and subject.is_person:
        log_person_access(
            principal,
            subject,
            purpose=purpose,
            what=_("信用承诺签署人姓名和联系电话"),
            client_address=client_address,
            action=VIEW_ACTION,
        )
    record_event(principal, "commitments.signer.view", obj, reason=purpose[:255])
    return Signer(obj.signer_name, obj.signer_contact)
