"""Console pages of credit repair (信用修复), objections (异议) and repair training, under
/console/repair/ (namespace "console:repair").

- queue: the applications and objections the principal may see, those it can act on first (the
  credit centre: 待受理 and 待决定; a department: 待部门核实 / 核实中 of its own records), with
  deadlines and overdue items highlighted;
- an application's and an objection's page: record, subject, eligibility snapshot, materials,
  steps, and the action forms the principal's role allows;
- the 两书同达 repair notice of a record (PDF);
- training sessions: list, create, registrations with attendance, certificates;
- statistics by department and month (table + ECharts).

Thin: check the principal, call the writes (`repair.services`, `repair.objections`,
`repair.training`) or the reads (`repair.queries`), render.
Errors from the services are shown as messages.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import Department
from pubcredit.core import letters
from pubcredit.publicity.models import Publicity
from pubcredit.publicity.public import public_record
from pubcredit.records.models import Record
from pubcredit.repair import objections, procedures, queries, services
from pubcredit.repair.letters import certificate_letter, document_number, repair_notice
from pubcredit.repair.models import (
    Material,
    Objection,
    ProcedureStatus,
    RepairApplication,
    TrainingRegistration,
    TrainingSession,
)
from pubcredit.repair.training import create_session, mark_attendance
from pubcredit.scoring.services import Grade
from pubcredit.subjects.access import log_person_access

S = ProcedureStatus
CENTRE_DEPARTMENT = "ZB-XYZX"


def _principal(request, action: str = "repair.view") -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(action)):
        raise PermissionDenied(
            _("您的账号没有办理信用修复和异议的权限。如需开通,请联系平台管理员。")
        )
    return principal


def _report(request, exc: Exception) -> None:
    """A service's refusal as error messages."""
    if isinstance(exc, ValidationError):
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.error(request, str(exc))


def _private_page(request, template: str, context: dict):
    """A console page naming subjects: never cached."""
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- queue


@login_required
def queue(request):
    principal = _principal(request)
    today = timezone.localdate()
    kind = request.GET.get("kind", "")
    kind = kind if kind in queries.KINDS else ""
    status = request.GET.get("status", "open")
    if status not in ("open", "all", *queries.STATUS_FILTERS):
        status = "open"
    department = request.GET.get("department", "")
    department_id = int(department) if department.isdigit() else None
    overdue = request.GET.get("overdue") == "1"
    due_today = request.GET.get("due") == "today"
    result = queries.queue(
        principal,
        kind=kind,
        status=status,
        department_id=department_id,
        overdue_only=overdue,
        due_today=due_today,
        today=today,
    )
    departments = Department.objects.filter(active=True).order_by("code")
    if principal.is_department_scoped:
        departments = departments.filter(pk=principal.department_id)
    return _private_page(
        request,
        "repair/console/queue.html",
        {
            "queue": result,
            "today": today,
            "kind": kind,
            "status": status,
            "department_id": department_id,
            "overdue": overdue,
            "due_today": due_today,
            "departments": departments.only("pk", "name"),
            "statuses": [(s, S(s).label) for s in queries.STATUS_FILTERS],
            "overdue_total": queries.overdue_count(principal, today),
        },
    )


# --------------------------------------------------------------------------- details


def _record_context(principal: Principal, proc) -> dict:
    record = Record.objects.select_related("department", "category").get(pk=proc.record_id)
    publicity = Publicity.objects.filter(pk=record.pk).first()
    shown = public_record(
        record,
        include_subject=True,
        department_name=record.department.name,
        publicity_start=publicity.start if publicity else None,
        publicity_end=publicity.end if publicity else None,
    )
    return {
        "record": record,
        "shown": shown,
        "publicity": publicity,
        "document_number": document_number(record),
        "subject_name": queries.public_name(proc.subject),
        "can_see_subject": principal.can("subjects.view"),
        "can_notice": principal.can("records.view")
        and restrict(Record.objects.filter(pk=record.pk), principal, "records.view").exists(),
        "today": timezone.localdate(),
        "overdue_days": queries.overdue_workdays(proc, timezone.localdate()),
    }


def _detail_context(principal: Principal, proc) -> dict:
    """What the application and the objection pages both show of their procedure."""
    return {
        "proc": proc,
        "materials": proc.materials.all(),
        "steps": queries.steps(proc),
        "can_accept": proc.status == S.SUBMITTED and principal.can("repair.handle"),
        **_record_context(principal, proc),
    }


@login_required
def application_detail(request, pk: int):
    principal = _principal(request)
    app = get_object_or_404(
        procedures.visible_applications(principal).select_related(
            "subject", "department", "rule", "commitment"
        ),
        pk=pk,
    )
    if request.method == "POST":
        _act(request, principal, app, _application_action)
        return redirect("console:repair:application", pk=app.pk)
    context = {
        **_detail_context(principal, app),
        "app": app,
        "objections": app.objections.all(),
        "can_review": app.status == S.ACCEPTED and principal.can("repair.review"),
        "can_decide": app.status == S.REVIEWED and principal.can("repair.handle"),
    }
    return _private_page(request, "repair/console/application.html", context)


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _act(request, principal: Principal, proc, do) -> None:
    """Do the POSTed action on `proc`: `do(request, principal, proc, action, text)` does it and
    returns the message to show; a refusal is shown as error messages."""
    try:
        done = do(
            request, principal, proc, request.POST.get("action", ""), request.POST.get("text", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        _report(request, exc)
    else:
        messages.success(request, done)


def _application_action(
    request, principal: Principal, app: RepairApplication, action: str, text: str
) -> str:
    if action == "accept":
        services.accept_application(principal, app, text)
        return _("已受理,转认定部门核实。")
    if action == "refuse":
        services.refuse_application(principal, app, text)
        return _("已作出不予受理决定。")
    if action == "review":
        agrees = _yes_no(request.POST.get("agrees"))
        if agrees is None:
            raise ValidationError(_("请选择核实意见:同意修复或不同意修复。"))
        services.review_application(principal, app, agrees=agrees, opinion=text)
        return _("核实意见已提交信用中心。")
    if action == "decide":
        grant = _yes_no(request.POST.get("grant"))
        if grant is None:
            raise ValidationError(_("请选择决定:准予修复或不予修复。"))
        services.decide_application(principal, app, grant=grant, reason=text)
        return _("已作出信用修复决定,决定书已生成。")
    raise ValidationError(_("未知的操作。"))


@login_required
def objection_detail(request, pk: int):
    principal = _principal(request)
    obj = get_object_or_404(
        procedures.visible_objections(principal).select_related(
            "subject",
            "department",
            "rule",
            "repair_application",
            "score_result__scorecard",
            "score_result__version",
            "result_after__scorecard",
            "result_after__version",
        ),
        pk=pk,
    )
    if request.method == "POST":
        _act(request, principal, obj, _objection_action)
        return redirect("console:repair:objection", pk=obj.pk)
    context = {
        **_detail_context(principal, obj),
        "obj": obj,
        "can_verify": obj.status == S.VERIFYING and principal.can("repair.review"),
        "outcomes": [(s, S(s).label) for s in objections.VERIFY_OUTCOMES],
        **_grade_context(request, principal, obj),
    }
    return _private_page(request, "repair/console/objection.html", context)


def _grade_context(request, principal: Principal, obj: Objection) -> dict:
    """An objection to a grade: the grade disputed and the grade after the conclusion. A
    person's points only for staff who may see a person's data, the look logged."""
    if obj.score_result_id is None:
        return {}
    before, after = obj.score_result, obj.result_after
    shown = {"grade_card": before.scorecard.name, "grade_shown": True}
    if obj.subject.is_person:
        if not principal.can("subjects.view_person"):
            return {**shown, "grade_shown": False}
        log_person_access(
            principal,
            obj.subject,
            purpose=_("办理异议申请(查询码 %(c)s)") % {"c": obj.query_code},
            what=_("个人信用积分"),
            client_address=request.META.get("REMOTE_ADDR"),
        )
    return {
        **shown,
        "grade_before": Grade.of(before),
        "grade_after": Grade.of(after) if after is not None else None,
    }


def _objection_action(request, principal: Principal, obj: Objection, action: str, text: str) -> str:
    if action == "accept":
        objections.accept_objection(principal, obj, text)
        return _("已受理,该信息在公示时标注“异议处理中”,转信息提供单位核实。")
    if action == "refuse":
        objections.refuse_objection(principal, obj, text)
        return _("已作出不予受理决定,告知书已生成。")
    if action == "verify":
        objections.verify_objection(
            principal, obj, outcome=request.POST.get("outcome", ""), reason=text
        )
        return _("核实结果已办结,告知书已生成。")
    raise ValidationError(_("未知的操作。"))


@login_required
def material(request, pk: int):
    """An uploaded material, for staff who may see the application or objection it belongs to."""
    principal = _principal(request)
    found = get_object_or_404(Material, pk=pk)
    try:
        procedures.open_material(principal, found, client_address=request.META.get("REMOTE_ADDR"))
    except PermissionDenied as exc:
        raise Http404(_("材料不存在或无权查看。")) from exc
    response = FileResponse(found.file.open("rb"), as_attachment=True, filename=found.name)
    add_never_cache_headers(response)
    return response


def _issued_letter(file, query_code: str, not_yet: str):
    """A procedure's letter, named by its 查询码; 404 with `not_yet` before it is issued."""
    if not file:
        raise Http404(not_yet)
    return letters.stored_pdf_download(file, f"{query_code}.pdf")


@login_required
def application_letter(request, pk: int):
    principal = _principal(request)
    app = get_object_or_404(procedures.visible_applications(principal), pk=pk)
    return _issued_letter(app.decision_letter, app.query_code, _("尚未出具信用修复决定书。"))


@login_required
def objection_letter(request, pk: int):
    principal = _principal(request)
    obj = get_object_or_404(procedures.visible_objections(principal), pk=pk)
    return _issued_letter(obj.reply_letter, obj.query_code, _("尚未出具异议处理结果告知书。"))


@login_required
def notice(request, record_id: int):
    """The 信用修复告知书 of a record (两书同达), for staff who may see the record."""
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can("records.view")):
        raise PermissionDenied(_("您的账号没有查看信用信息的权限。"))
    record = get_object_or_404(
        restrict(Record.objects.select_related("department"), principal, "records.view"),
        pk=record_id,
    )
    try:
        letter = repair_notice(record)
    except ValidationError as exc:
        _report(request, exc)
        return redirect("console:repair:queue")
    return letters.pdf_download(letters.render_letter(letter), f"repair-notice-{record.pk}.pdf")


# --------------------------------------------------------------------------- training


class SessionForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("培训名称"),
        max_length=200,
        initial=gettext_lazy("信用修复专题培训"),
        error_messages={"required": gettext_lazy("请填写培训名称。")},
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("开始时间"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": gettext_lazy("请填写开始时间。"),
            "invalid": gettext_lazy("开始时间格式不正确。"),
        },
    )
    place = forms.CharField(
        label=gettext_lazy("地点"),
        max_length=200,
        error_messages={"required": gettext_lazy("请填写地点。")},
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("名额"),
        min_value=1,
        initial=100,
        error_messages={
            "required": gettext_lazy("请填写名额。"),
            "min_value": gettext_lazy("名额至少为 1。"),
        },
    )
    organiser = forms.ModelChoiceField(
        label=gettext_lazy("组织单位"),
        queryset=Department.objects.none(),
        empty_label=None,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organiser"].queryset = Department.objects.filter(active=True).order_by("code")
        centre = Department.objects.filter(code=CENTRE_DEPARTMENT).first()
        if centre is not None:
            self.fields["organiser"].initial = centre.pk

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        if value <= timezone.now():
            raise ValidationError(_("开始时间须晚于当前时间。"))
        return value


@login_required
def training(request):
    principal = _principal(request, "repair.handle")
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = create_session(principal, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for key, errors in exc.message_dict.items():
                    form.add_error(key if key in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, _("已创建培训场次“%(t)s”。") % {"t": session.title})
            return redirect("console:repair:session", pk=session.pk)
    sessions = (
        TrainingSession.objects.select_related("organiser")
        .annotate(
            registered=Count("registrations"),
            attended=Count("registrations", filter=Q(registrations__attended=True)),
        )
        .order_by("-starts_at")[:100]
    )
    return render(
        request,
        "repair/console/training.html",
        {"form": form, "sessions": sessions, "now": timezone.now()},
    )


@login_required
def session_detail(request, pk: int):
    principal = _principal(request, "repair.handle")
    session = get_object_or_404(TrainingSession.objects.select_related("organiser"), pk=pk)
    registrations = list(session.registrations.select_related("subject").order_by("registered_at"))
    if request.method == "POST":
        wanted = {int(i) for i in request.POST.getlist("attended") if i.isdigit()}
        changed = 0
        try:
            for reg in registrations:
                if (reg.pk in wanted) != reg.attended:
                    mark_attendance(principal, reg, reg.pk in wanted)
                    changed += 1
        except (ValidationError, PermissionDenied) as exc:
            _report(request, exc)
        else:
            messages.success(request, _("已更新 %(n)s 人的参训情况。") % {"n": changed})
        return redirect("console:repair:session", pk=session.pk)
    return render(
        request,
        "repair/console/session.html",
        {"session": session, "registrations": registrations},
    )


@login_required
def certificate(request, pk: int):
    _principal(request, "repair.handle")
    reg = get_object_or_404(
        TrainingRegistration.objects.select_related("session", "session__organiser", "subject"),
        pk=pk,
    )
    if not (reg.attended and reg.certificate_number):
        raise Http404(_("该报名尚未登记参训,没有结业证明。"))
    pdf = letters.render_letter(certificate_letter(reg))
    return letters.pdf_download(pdf, f"{reg.certificate_number}.pdf")


# --------------------------------------------------------------------------- statistics


@login_required
def stats(request):
    principal = _principal(request)
    since = _date(request.GET.get("since"))
    until = _date(request.GET.get("until"))
    data = queries.statistics(principal, since=since, until=until)
    months = data["by_month"]
    chart = {
        "months": [m["label"] for m in months],
        "series": [
            {"name": _("修复申请"), "type": "bar", "data": [m["app_received"] for m in months]},
            {"name": _("异议申请"), "type": "bar", "data": [m["obj_received"] for m in months]},
            {
                "name": _("办结"),
                "type": "bar",
                "data": [m["app_decided"] + m["obj_decided"] for m in months],
            },
            {
                "name": _("超期率(%)"),
                "type": "line",
                "data": [m["late_rate"] for m in months],
            },
        ],
    }
    return render(
        request,
        "repair/console/stats.html",
        {
            "stats": data,
            "chart": chart,
            "since": data["since"],
            "until": data["until"],
            "queue_url": reverse("console:repair:queue"),
        },
    )
