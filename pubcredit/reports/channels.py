"""What every channel (portal, API, console, CLI, batch) needs around `services.issue`: finding the
subject from what a caller typed, the kind, period and fields of a 无违法违规记录证明版, who may
read an issued report back, and the report's JSON for the API.

Who gets what (docs/roles.md): an organisation's or 个体工商户's report holds only public
information: anyone may download it from the portal (rate-limited), and the roles with
"reports.issue" (平台管理员, 信用中心工作人员, 窗口核查员, 金融机构用户 and their keys) issue it through
the console, the API or a batch. A natural person's report only for a principal holding
"subjects.view_person" as well, with a 查询事由 (the look logged by `services.issue`); never from
the portal, never in a batch (a batch takes 统一社会信用代码 only).

An issued report is read back (JSON, PDF) by whoever issued it (the same user or key, matched by
the label `services.issue` records) and by the centre (平台管理员, 信用中心工作人员); anyone else
gets "does not exist" (404), as for a report number nobody issued.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.models import Role
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import SubjectKind
from pubcredit.core import identifiers
from pubcredit.reports import noviolation, services
from pubcredit.reports.models import Report, ReportChannel, ReportKind
from pubcredit.subjects.models import Subject
from pubcredit.subjects.services import person_id_index

ACTION = services.ACTION_ISSUE  # "reports.issue"
PERSON_ACTION = "subjects.view_person"
# The roles that read every issued report; the others read their own.
CENTRE_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.CENTRE_STAFF})
ORG_KINDS = (SubjectKind.ORG, SubjectKind.INDIVIDUAL_BUSINESS)


# --------------------------------------------------------------------------- kind, period, fields


def parse_kind(value: str | None) -> str:
    """ "standard" / "no_violation" ("no-violation" as the CLI spells it); ValidationError."""
    text = (value or ReportKind.STANDARD).strip().lower().replace("-", "_")
    if text not in ReportKind.values:
        raise ValidationError(
            {"kind": [_("报告类型应为 standard(标准版)或 no_violation(无违法违规记录证明版)。")]}
        )
    return text


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The default period of a 无违法违规记录证明版 (noviolation's: the last 36 months)."""
    return noviolation.default_period(today or timezone.localdate())


def resolve_period(
    kind: str,
    period_from: dt.date | None,
    period_to: dt.date | None,
    today: dt.date | None = None,
) -> tuple[dt.date, dt.date] | None:
    """The period of a 无违法违规记录证明版 (None for a standard report): the given dates, a
    missing start 36 months before the end, a missing end today; checked by
    `noviolation.resolve_period` (ValidationError with its message)."""
    if kind != ReportKind.NO_VIOLATION:
        return None
    today = today or timezone.localdate()
    end = period_to or today
    start = period_from or noviolation.default_period(end)[0]
    try:
        return noviolation.resolve_period((start, end), today)
    except noviolation.NoViolationError as exc:
        raise ValidationError({"period": [str(exc)]}) from None


def field_choices(today: dt.date | None = None) -> list[tuple[str, str]]:
    """(code, name) of the fields (领域) in force a 无违法违规记录证明版 may be limited to."""
    return [(f.code, f.name) for f in noviolation.fields_in_force(today or timezone.localdate())]


def clean_fields(kind: str, codes, today: dt.date | None = None) -> list[str] | None:
    """The chosen field codes (None: every field in force); unknown ones are refused."""
    codes = [str(c).strip() for c in (codes or []) if str(c).strip()]
    if kind != ReportKind.NO_VIOLATION or not codes:
        return None
    try:
        chosen = noviolation.choose_fields(codes, today or timezone.localdate())
    except noviolation.NoViolationError as exc:
        raise ValidationError({"fields": [str(exc)]}) from None
    return [f.code for f in chosen]


# --------------------------------------------------------------------------- subjects


def organisation_by_uscc(value: str | None) -> Subject:
    """The organisation or 个体工商户 with this 统一社会信用代码. ValidationError (one Chinese line)
    for an invalid code or one the register does not hold."""
    result = identifiers.check_uscc(value or "")
    if not result.valid:
        raise ValidationError({"uscc": [";".join(result.errors)]})
    subject = Subject.objects.filter(uscc=result.normalized, kind__in=ORG_KINDS).first()
    if subject is None:
        raise ValidationError(
            {
                "uscc": [
                    _("主体库中没有统一社会信用代码为 %(c)s 的主体。") % {"c": result.normalized}
                ]
            }
        )
    return subject


def person_by_id_number(principal: Principal, value: str | None) -> Subject:
    """The natural person with this 身份证号, for a principal holding "subjects.view_person"
    (PermissionDenied before anything is looked up otherwise)."""
    principal.require(PERSON_ACTION)
    result = identifiers.check_ric(value or "")
    if not result.valid:
        raise ValidationError({"id_number": [";".join(result.errors)]})
    subject = Subject.objects.filter(
        kind=SubjectKind.PERSON, id_index=person_id_index(result.normalized)
    ).first()
    if subject is None:
        raise ValidationError({"id_number": [_("主体库中没有该身份证号的自然人。")]})
    return subject


def issue_for(
    principal: Principal,
    *,
    channel: str,
    uscc: str | None = None,
    id_number: str | None = None,
    kind: str | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    fields=None,
    purpose: str = "",
    client_address: str | None = None,
) -> Report:
    """Issue a report through the console, the API or the CLI: exactly one of `uscc` /
    `id_number`; requires "reports.issue" (and "subjects.view_person" plus a purpose for a
    person). ValidationError / PermissionDenied with a Chinese message."""
    principal.require(ACTION)
    if bool(uscc) == bool(id_number):
        raise ValidationError(_("请提供统一社会信用代码或身份证号中的一项。"))
    kind = parse_kind(kind)
    if id_number:
        subject = person_by_id_number(principal, id_number)
        if not (purpose or "").strip():
            raise ValidationError({"purpose": [_("出具自然人公共信用信息报告须填写查询事由。")]})
        if kind != ReportKind.STANDARD:
            raise ValidationError({"kind": [_("无违法违规记录证明版只适用于法人和非法人组织。")]})
    else:
        subject = organisation_by_uscc(uscc)
    return services.issue(
        principal,
        subject,
        kind=kind,
        channel=channel,
        purpose=(purpose or "").strip(),
        client_address=client_address,
        period=resolve_period(kind, period_from, period_to),
        fields=clean_fields(kind, fields),
    )


def issue_public(
    subject: Subject,
    *,
    kind: str | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    fields=None,
    client_address: str | None = None,
) -> Report:
    """A report from the portal: anyone, an organisation or 个体工商户 only (PermissionDenied for
    a person: the portal answers 404)."""
    from pubcredit.accounts.permissions import PUBLIC

    if subject.is_person:
        raise PermissionDenied(_("门户网站不出具自然人公共信用信息报告。"))
    kind = parse_kind(kind)
    return services.issue(
        PUBLIC,
        subject,
        kind=kind,
        channel=ReportChannel.PORTAL,
        client_address=client_address,
        period=resolve_period(kind, period_from, period_to),
        fields=clean_fields(kind, fields),
    )


# --------------------------------------------------------------------------- reading back


def visible_reports(principal: Principal) -> QuerySet:
    """The reports `principal` may read back: every one for the centre, its own for the other
    roles with "reports.issue", none for the rest."""
    if not principal.can(ACTION):
        return Report.objects.none()
    if principal.role in CENTRE_ROLES:
        return Report.objects.all()
    return Report.objects.filter(requested_by=principal.label[:150])


def get_report(principal: Principal, number: str) -> Report:
    """An issued report by number (PermissionDenied without "reports.issue";
    Report.DoesNotExist when it is not one `principal` may read)."""
    principal.require(ACTION)
    reports = visible_reports(principal)
    if not principal.can(PERSON_ACTION):
        reports = reports.exclude(subject_kind=SubjectKind.PERSON)
    return reports.get(number=(number or "").strip().upper()[:32])


def pdf_filename(report: Report) -> str:
    return f"{report.number}.pdf"


def report_json(report: Report) -> dict:
    """The API's answer for an issued report: the head and the frozen content."""
    return {
        "number": report.number,
        "kind": report.kind,
        "sha256": report.pdf_sha256,
        "verify_url": services.verify_url(report.number),
        "valid_until": report.valid_until.isoformat(),
        "issued_at": timezone.localtime(report.issued_at).isoformat(timespec="seconds"),
        "content": report.content,
    }
