"""Console pages of credit reports, mounted under /console/reports/ (namespace "reports").

- the window page: issue a report of an organisation (by 统一社会信用代码) or of a natural person
  (by 身份证号, for roles with "subjects.view_person", with a 查询事由: the look is logged), and
  the reports issued (a window clerk's own, all of them for the centre), each downloadable;
- batches: upload a list of 统一社会信用代码, follow the progress, download the zip.

Thin: check the principal, call `reports.channels` / `reports.batch`, render. The forms POST, so
an ID number never lands in a URL or a log.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import SubjectKind
from pubcredit.core.letters import stored_pdf_download
from pubcredit.core.ratelimit import client_ip
from pubcredit.reports import batch as report_batch
from pubcredit.reports import channels
from pubcredit.reports.models import Report, ReportBatch, ReportChannel, ReportKind

LIST_LIMIT = 100


def _principal(request) -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(channels.ACTION)):
        raise PermissionDenied(_("您的账号没有出具信用报告的权限。如需开通,请联系平台管理员。"))
    return principal


class _PeriodFields(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("报告类型"), choices=ReportKind.choices, initial=ReportKind.STANDARD
    )
    period_from = forms.DateField(
        label=gettext_lazy("查询期间自"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("仅无违法违规记录证明版;默认为最近 36 个月。"),
    )
    period_to = forms.DateField(
        label=gettext_lazy("查询期间至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    fields = forms.MultipleChoiceField(
        label=gettext_lazy("证明领域"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("不选表示全部领域。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = channels.field_choices()
        if choices:
            self.fields["fields"].choices = choices
        else:  # no field catalogue yet: a 无违法违规记录证明版 covers every field
            del self.fields["fields"]


class IssueForm(_PeriodFields):
    subject_kind = forms.ChoiceField(
        label=gettext_lazy("主体类别"),
        choices=(
            ("org", gettext_lazy("法人和非法人组织、个体工商户")),
            ("person", gettext_lazy("自然人")),
        ),
        initial="org",
        widget=forms.RadioSelect,
    )
    code = forms.CharField(
        label=gettext_lazy("统一社会信用代码或身份证号"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    purpose = forms.CharField(
        label=gettext_lazy("用途或查询事由"),
        max_length=256,
        required=False,
        help_text=gettext_lazy("自然人报告必填(记录查看日志)。"),
    )
    field_order = ["subject_kind", "code", "kind", "period_from", "period_to", "fields", "purpose"]

    def __init__(self, *args, person_allowed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not person_allowed:
            del self.fields["subject_kind"]
            self.fields["code"].label = gettext_lazy("统一社会信用代码")


class BatchForm(_PeriodFields):
    file = forms.FileField(
        label=gettext_lazy("统一社会信用代码清单"),
        help_text=gettext_lazy(
            "xlsx、xls 或 csv,最多 5000 行;表头为“统一社会信用代码”,或只有一列代码。"
            "无效或重复的代码逐行列出,不影响其他行。"
        ),
    )
    field_order = ["file", "kind", "period_from", "period_to", "fields"]


def _issue(request, principal: Principal, form: IssueForm) -> Report:
    data = form.cleaned_data
    person = data.get("subject_kind") == "person"
    return channels.issue_for(
        principal,
        channel=ReportChannel.WINDOW,
        uscc=None if person else data["code"],
        id_number=data["code"] if person else None,
        kind=data["kind"],
        period_from=data.get("period_from"),
        period_to=data.get("period_to"),
        fields=data.get("fields"),
        purpose=data.get("purpose", ""),
        client_address=client_ip(request),
    )


@login_required
def window(request):
    principal = _principal(request)
    person_allowed = principal.can(channels.PERSON_ACTION)
    form = IssueForm(request.POST or None, person_allowed=person_allowed)
    if request.method == "POST" and form.is_valid():
        try:
            report = _issue(request, principal, form)
        except (ValidationError, PermissionDenied) as exc:
            for message in getattr(exc, "messages", None) or [str(exc)]:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("已出具报告 %(n)s(%(name)s)。")
                % {"n": report.number, "name": report.subject_name},
            )
            return redirect("reports:window")
    reports = channels.visible_reports(principal)
    if not person_allowed:
        reports = reports.exclude(subject_kind=SubjectKind.PERSON)
    response = render(
        request,
        "reports/window.html",
        {
            "form": form,
            "reports": reports.only(
                "number",
                "kind",
                "subject_kind",
                "subject_name",
                "identifier",
                "issued_at",
                "valid_until",
                "channel",
                "requested_by",
            )[:LIST_LIMIT],
            "all_reports": principal.role in channels.CENTRE_ROLES,
        },
    )
    add_never_cache_headers(response)
    return response


@login_required
def download(request, number: str):
    principal = _principal(request)
    try:
        report = channels.get_report(principal, number)
    except Report.DoesNotExist:
        raise Http404(_("报告不存在或无权查看。")) from None
    return stored_pdf_download(
        report.pdf, channels.pdf_filename(report), missing=_("报告文件不存在。")
    )


@login_required
def batches(request):
    principal = _principal(request)
    form = BatchForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = report_batch.submit_batch(
                principal,
                upload=data["file"],
                filename=data["file"].name,
                kind=data["kind"],
                period_from=data.get("period_from"),
                period_to=data.get("period_to"),
                fields=data.get("fields"),
                client_address=client_ip(request),
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("已提交 %(n)d 行,正在后台出具报告。") % {"n": batch.rows},
            )
            return redirect("reports:batches")
    rows = report_batch.visible_batches(principal)[:50]
    return render(request, "reports/batches.html", {"form": form, "batches": rows})


@login_required
def batch_zip(request, pk: int):
    principal = _principal(request)
    try:
        batch = report_batch.get_batch(principal, pk)
    except ReportBatch.DoesNotExist:
        raise Http404 from None
    if not batch.zip_file:
        raise Http404(_("压缩包尚未生成。"))
    return FileResponse(
        batch.zip_file.open("rb"),
        as_attachment=True,
        filename=report_batch.zip_filename(batch),
        content_type="application/zip",
    )
