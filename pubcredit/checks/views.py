"""Console pages of credit checks (included under /console/checks/, namespace "console:checks").

- window page: one box to type or scan a 统一社会信用代码 / 身份证号 (or a name), the matter, and
  the result; the form is POSTed so an ID number never lands in a URL or a log;
- result page of a logged check with the feedback form (which measures were actually applied),
  and the subject's credit grade with its date and scorecard and a link to its explanation
  (scoring:explain) for roles with "scoring.view";
- print sheet (核查结果): a print-friendly page with the check number and time;
- batch checks: upload, progress, results file;
- notifications: subjects checked in the last 30 days that got a new black-list entry;
- statistics of joint reward and punishment cases by unit and measure (table + ECharts).

Thin: check the principal, call `checks` / `check_batch` / `check_notices`, render.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import SubjectKind
from pubcredit.checks import batch as check_batch
from pubcredit.checks import feedback as check_feedback
from pubcredit.checks import notices as check_notices
from pubcredit.checks import services as checks
from pubcredit.checks.answers import check_json
from pubcredit.checks.models import CheckChannel, CheckFeedback, CreditCheck
from pubcredit.core import identifiers
from pubcredit.measures.catalogue import matters_catalogue

_IDENTIFIER = re.compile(r"[0-9A-Z]{15,18}")
SCORING_ACTION = "scoring.view"  # opens a grade's explanation (pubcredit.scoring.views)


def _principal(request) -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(checks.ACTION)):
        raise PermissionDenied(_("您的账号没有开展信用核查的权限。如需开通,请联系平台管理员。"))
    return principal


def _matter_choices():
    """The active matters by their Chinese names; the code is only the submitted value."""
    return [("", gettext_lazy("请选择事项"))] + [
        (m["code"], m["name"]) for m in matters_catalogue()
    ]


class CheckForm(forms.Form):
    query = forms.CharField(
        label=gettext_lazy("统一社会信用代码、身份证号或名称"),
        max_length=200,
        help_text=gettext_lazy(
            "可扫码枪录入。仅凭名称核查时,只有名称与唯一主体完全一致才作出结论。"
        ),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    matter = forms.ChoiceField(label=gettext_lazy("核查事项"), choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["matter"].choices = _matter_choices()

    def subject_args(self) -> dict:
        """{"uscc": …} / {"id_number": …} / {"name": …} from the one box."""
        text = self.cleaned_data["query"].strip()
        code = identifiers.normalize_identifier(text)
        if _IDENTIFIER.fullmatch(code):
            # The subjects app's detection: 18 digits with a plausible birth date are an ID
            # number, other codes a USCC, so the error explains the right identifier.
            kind = identifiers.check_identifier(code).kind
            return {"id_number": code} if kind == "ric" else {"uscc": code}
        return {"name": text}


@login_required
def window(request):
    principal = _principal(request)
    form = CheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = getattr(request.user, "organisation", "") or ""
        try:
            result = checks.run_check(
                principal,
                matter=form.cleaned_data["matter"],
                channel=CheckChannel.WINDOW,
                client=organisation or _("窗口"),
                **form.subject_args(),
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("query" if "matter" not in str(message) else None, message)
        else:
            return redirect("console:checks:result", pk=result.check.pk)
    recent = checks.visible_checks(principal).filter(channel=CheckChannel.WINDOW)
    if principal.user is not None:
        recent = recent.filter(user=principal.user)
    response = render(
        request,
        "checks/check_window.html",
        {"form": form, "recent": recent.select_related("matter")[:10]},
    )
    add_never_cache_headers(response)
    return response


def _check(principal: Principal, pk: int) -> CreditCheck:
    try:
        return checks.get_check(principal, pk)
    except CreditCheck.DoesNotExist:
        raise Http404(_("核查记录不存在或无权查看。")) from None


def _shown_grade(grade: dict | None, subject_id: int, explain: bool) -> dict | None:
    """A grade of the answer for the page: its dates as dates (the badge formats them), and the
    link to its explanation (scoring:explain) when the viewer may open it."""
    if not grade:
        return None
    shown = dict(grade)
    shown["as_of"] = dt.date.fromisoformat(grade["as_of"])
    shown["computed_at"] = dt.datetime.fromisoformat(grade["computed_at"])
    if explain:
        url = reverse("scoring:explain", kwargs={"subject_id": subject_id})
        shown["explain_url"] = f"{url}?{urlencode({'scorecard': grade['scorecard']})}"
    return shown


def _context(check: CreditCheck, principal: Principal, *, links: bool = True) -> dict:
    data = check_json(check)
    feedback = {
        f.measure.code: f
        for f in CheckFeedback.objects.filter(credit_check=check).select_related("measure")
    }
    subject = data.get("subject")
    explain = links and subject is not None and principal.can(SCORING_ACTION)
    sid = subject["id"] if subject else None
    return {
        "check": check,
        "data": data,
        "feedback": feedback,
        "measures": [*data.get("punishments", []), *data.get("rewards", [])],
        # Checks logged before grades were part of the answer have no "grade" at all.
        "grade_shown": "grade" in data,
        "grade": _shown_grade(data.get("grade"), sid, explain),
        "sector_grades": [_shown_grade(g, sid, explain) for g in data.get("sector_grades") or []],
        "points_hidden": bool(
            subject
            and subject["kind"] == SubjectKind.PERSON
            and not data.get("grade")
            and not (principal.user is not None and principal.can(checks.PERSON_ACTION))
        ),
    }


@login_required
def result(request, pk: int):
    principal = _principal(request)
    context = _context(_check(principal, pk), principal)
    response = render(request, "checks/check_result.html", context)
    add_never_cache_headers(response)
    return response


@login_required
def print_sheet(request, pk: int):
    principal = _principal(request)
    context = _context(_check(principal, pk), principal, links=False)
    response = render(request, "checks/check_print.html", context)
    add_never_cache_headers(response)
    return response


@login_required
def feedback(request, pk: int):
    principal = _principal(request)
    check = _check(principal, pk)
    if request.method != "POST":
        return redirect("console:checks:result", pk=pk)
    data = check_json(check)
    items = []
    for m in (*data.get("punishments", []), *data.get("rewards", [])):
        answer = request.POST.get(f"applied_{m['code']}", "")
        if answer in ("yes", "no"):
            note = request.POST.get(f"note_{m['code']}", "")
            items.append(check_feedback.FeedbackItem(m["code"], answer == "yes", note))
    try:
        check_feedback.record_feedback(principal, check, items)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已记录 %(n)d 项措施的实施情况。") % {"n": len(items)})
    return redirect("console:checks:result", pk=pk)


# --------------------------------------------------------------------------- batches


class BatchForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("核查名单文件"),
        help_text=gettext_lazy(
            "xlsx、xls 或 csv,最多 100000 行;表头含“统一社会信用代码”“身份证号”“代码”或“名称”列,"
            "可含“事项”列(事项编码或名称)。"
        ),
    )
    matter = forms.ChoiceField(
        label=gettext_lazy("核查事项"),
        choices=(),
        required=False,
        help_text=gettext_lazy("文件中没有“事项”列或该列为空时使用。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["matter"].choices = _matter_choices()


@login_required
def batches(request):
    principal = _principal(request)
    form = BatchForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = check_batch.submit_batch(
                principal,
                upload,
                filename=upload.name,
                matter=form.cleaned_data["matter"] or None,
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("file", message)
        else:
            messages.success(
                request, _("文件“%(name)s”已提交,正在后台核查。") % {"name": batch.filename}
            )
            return redirect("console:checks:batches")
    rows = check_batch.visible_batches(principal).select_related("matter")[:50]
    return render(request, "checks/check_batches.html", {"form": form, "batches": rows})


@login_required
def batch_download(request, pk: int):
    principal = _principal(request)
    try:
        batch = check_batch.get_batch(principal, pk)
    except check_batch.CheckBatch.DoesNotExist:
        raise Http404 from None
    if not batch.result_file:
        raise Http404(_("结果文件尚未生成。"))
    return FileResponse(
        batch.result_file.open("rb"),
        as_attachment=True,
        filename=check_batch.result_filename(batch),
    )


# --------------------------------------------------------------------------- notifications


@login_required
def notifications(request):
    principal = _principal(request)
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
        n = check_notices.mark_read(principal, ids)
        messages.success(request, _("已将 %(n)d 条通知标为已读。") % {"n": n})
        return redirect("console:checks:notifications")
    rows = check_notices.notifications_for(principal).select_related("last_check__matter")[:200]
    return render(request, "checks/check_notifications.html", {"rows": rows})


# --------------------------------------------------------------------------- statistics


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def stats(request):
    principal = _principal(request)
    since = _date(request.GET.get("since"))
    until = _date(request.GET.get("until"))
    data = check_feedback.feedback_statistics(principal, since=since, until=until)
    chart = {
        "units": [d["department"] for d in data["by_department"]],
        "series": [
            {"name": _("惩戒案例"), "data": [d["punishment"] for d in data["by_department"]]},
            {"name": _("激励案例"), "data": [d["reward"] for d in data["by_department"]]},
        ],
    }
    return render(
        request,
        "checks/check_stats.html",
        {"stats": data, "chart": chart, "since": since, "until": until},
    )
