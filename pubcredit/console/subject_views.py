"""Console pages where staff look up a subject.

- `/console/subjects/`: search by 统一社会信用代码, 身份证号 or name (subjects.services.find_subject
  over the principal's restricted register). Natural persons are always masked in the list.
- `/console/subjects/<id>/`: an organisation's data; for a natural person, masked data, and for a
  role with "subjects.view_person" a 查询事由 form whose submission logs the look
  (subjects.access.reveal_id_number) and then shows the full name and clear 身份证号. Below, what
  the platform holds about the subject (`console.subject_overview`: credit records, list
  entries, recent checks, commitments, each a short table with counts and links, as far as the
  principal may see them); for a natural person only after the logged look, which logs them too
  (subjects.access.log_person_access). Above them, the subject's credit grades
  (`console.subject_overview.credit_grades`: each scorecard's grade, its explanation line by
  line, the history, and grades given by other authorities); a person's 个人信用积分 likewise
  only after the look, each look at the points logged with the same purpose.

The search form is POSTed so a typed 身份证号 never lands in a URL, a server log or the browser
history; names and codes may also come in the query string (links).
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.accounts.services import PURPOSE_MIN_LENGTH
from pubcredit.catalog.models import Region, SubjectKind
from pubcredit.console.subject_overview import credit_grades, subject_overview
from pubcredit.core import identifiers
from pubcredit.subjects.access import log_person_access, reveal_id_number
from pubcredit.subjects.masking import display_identifier, display_name
from pubcredit.subjects.models import Subject
from pubcredit.subjects.services import find_subject

SEARCH_LIMIT = 20
# Offered as suggestions; any purpose of PURPOSE_MIN_LENGTH characters or more is accepted.
COMMON_PURPOSES = (
    gettext_lazy("行政审批信用核查"),
    gettext_lazy("异议申请核实"),
    gettext_lazy("信用修复审核"),
    gettext_lazy("投诉举报核实"),
    gettext_lazy("数据质量核对"),
)


def _staff_principal(request) -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can("subjects.view")):
        raise PermissionDenied(_("您的账号没有查询主体库的权限。如需开通,请联系平台管理员。"))
    return principal


class SubjectSearchForm(forms.Form):
    uscc = forms.CharField(label=gettext_lazy("统一社会信用代码"), required=False, max_length=40)
    id_number = forms.CharField(label=gettext_lazy("身份证号"), required=False, max_length=40)
    name = forms.CharField(label=gettext_lazy("名称或姓名"), required=False, max_length=200)
    kind = forms.ChoiceField(
        label=gettext_lazy("主体类别"),
        required=False,
        choices=[("", gettext_lazy("全部")), *SubjectKind.choices],
    )

    def clean_uscc(self):
        value = self.cleaned_data["uscc"].strip()
        if value:
            result = identifiers.check_uscc(value)
            if not result.valid:
                raise ValidationError(result.errors)
            return result.normalized
        return value

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip()
        if value:
            result = identifiers.check_ric(value)
            if not result.valid:
                raise ValidationError(result.errors)
            return result.normalized
        return value

    def clean(self):
        data = super().clean()
        if not self.errors and not any(data.get(f) for f in ("uscc", "id_number", "name")):
            raise ValidationError(_("请至少填写统一社会信用代码、身份证号或名称中的一项。"))
        return data


@dataclass(frozen=True)
class ResultRow:
    subject: Subject
    score: float
    reason: str
    display_name: str
    display_id: str
    region_name: str


@login_required
def subject_search(request):
    principal = _staff_principal(request)
    if request.method == "POST":
        form = SubjectSearchForm(request.POST)
    elif request.GET.get("uscc") or request.GET.get("name"):
        # Links may carry a code or a name; an ID number is never read from a URL.
        form = SubjectSearchForm({k: request.GET.get(k, "") for k in ("uscc", "name", "kind")})
    else:
        form = SubjectSearchForm()
    rows = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        match = find_subject(
            uscc=data["uscc"] or None,
            id_number=data["id_number"] or None,
            name=data["name"] or None,
            kinds=[data["kind"]] if data["kind"] else None,
            limit=SEARCH_LIMIT,
            queryset=restrict(Subject.objects.all(), principal, "subjects.view"),
        )
        regions = _region_names([c.subject for c in match.candidates])
        rows = [
            ResultRow(
                c.subject,
                c.score,
                c.reason,
                display_name(c.subject),
                display_identifier(c.subject),
                regions.get(c.subject.region, ""),
            )
            for c in match.candidates
        ]
    response = render(request, "console/subjects/search.html", {"form": form, "rows": rows})
    add_never_cache_headers(response)
    return response


def _region_names(subjects) -> dict[str, str]:
    codes = {s.region for s in subjects if s.region}
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name"))


def _region_label(code: str) -> str:
    if not code:
        return ""
    region = Region.objects.filter(code=code).only("name").first()
    return f"{code} {region.name}" if region else f"{code} {identifiers.region_label(code)}".strip()


class PurposeForm(forms.Form):
    purpose = forms.CharField(
        label=gettext_lazy("查询事由"),
        max_length=255,
        min_length=PURPOSE_MIN_LENGTH,
        help_text=gettext_lazy("说明为什么需要查看此人的完整信息;本次查看将被记录。"),
        error_messages={"required": gettext_lazy("请填写查询事由。")},
    )


@login_required
def subject_detail(request, pk: int):
    principal = _staff_principal(request)
    subject = get_object_or_404(restrict(Subject.objects.all(), principal, "subjects.view"), pk=pk)
    context = {"subject": subject, "region_label": _region_label(subject.region)}
    if not subject.is_person:
        context["former_names"] = subject.former_names.order_by("-used_until")
        context["sections"] = subject_overview(principal, subject)
        context["credit"] = credit_grades(principal, subject)
        return render(request, "console/subjects/organisation.html", context)

    can_reveal = principal.can("subjects.view_person")
    form = None
    revealed = None
    if can_reveal:
        form = PurposeForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            purpose = form.cleaned_data["purpose"]
            address = request.META.get("REMOTE_ADDR") or None
            try:
                clear_id = reveal_id_number(
                    principal, subject, purpose=purpose, client_address=address
                )
            except ValidationError as exc:
                form.add_error("purpose", exc.messages)
            else:
                revealed = {"name": subject.name, "id_number": clear_id, "purpose": purpose}
                sections = subject_overview(principal, subject)
                if sections:
                    log_person_access(
                        principal,
                        subject,
                        purpose=purpose,
                        what=_("信用记录、名单条目、信用核查和信用承诺"),
                        client_address=address,
                    )
                context["sections"] = sections
                context["credit"] = credit_grades(
                    principal, subject, purpose=purpose, client_address=address
                )
    context.update(
        {
            "display_name": display_name(subject),
            "can_reveal": can_reveal,
            "form": form,
            "revealed": revealed,
            "common_purposes": [str(p) for p in COMMON_PURPOSES],
        }
    )
    response = render(request, "console/subjects/person.html", context)
    add_never_cache_headers(response)
    return response
