"""Public pages of credit repair (信用修复), objections (异议) and repair training, under the portal
(/repair/, namespace "portal:repair").

- landing page: what repair is, its conditions, the ways in;
- a record's repair application: the record (as the public sees it, persons masked), the repair
  conditions ✓/✗ with their explanations and, only when every condition can be met, the form
  (经办人, 电话, statement, declaration, materials by kind, the commitment to sign);
- a record's objection form;
- progress by 查询码: status, every step, the current deadline, the letter once issued, and a
  withdrawal form (proved by the phone number given with the application);
- training: upcoming sessions with a registration form, and the certificate by its number.

Thin: parse, call `repair.services` / `objections` / `training`, render. The forms post; every write is a service call made
by `Principal.of(request.user)` (the public, or a staff member filing for a subject).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import SubjectKind
from pubcredit.core import identifiers, letters, ratelimit
from pubcredit.core.forms import phone_field
from pubcredit.portal import disclosure
from pubcredit.records.models import Record
from pubcredit.repair import objections, procedures, queries, rules, services
from pubcredit.repair.letters import (
    certificate_letter,
    document_number,
    public_grade,
    public_subject_name,
)
from pubcredit.repair.models import (
    OPEN_OBJECTION,
    OPEN_REPAIR,
    Material,
    ObjectionTarget,
    ProcedureStatus,
    RepairApplication,
    TrainingRegistration,
    TrainingSession,
)
from pubcredit.repair.training import register_for_training
from pubcredit.subjects.models import Subject
from pubcredit.subjects.names import normalize_name

S = ProcedureStatus
NAV = "services"  # the portal's 信用服务 section
ACCEPT = ",".join(sorted(procedures.MATERIAL_SUFFIXES))
# Which step a procedure's action is, for the public history.


# --------------------------------------------------------------------------- helpers


def _principal(request) -> Principal:
    return Principal.of(request.user)


def _limited(request, scope: str = "repair"):
    """A 429 page when the client exceeds the public rate (the portal's limiter), else None."""
    decision = ratelimit.check(request, scope)
    if decision.allowed:
        return None
    response = render(request, "portal/ratelimited.html", status=429)
    response["Retry-After"] = str(decision.retry_after)
    return response


def _private_page(request, template: str, context: dict):
    """A page that shows what a subject filed or may file: never cached."""
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response


def add_service_errors(form: forms.Form, exc: ValidationError, aliases: dict | None = None):
    """Put a service's ValidationError next to the form's fields (by key; `aliases` maps a
    service key to a field), the rest above the form."""
    aliases = aliases or {}
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            field = aliases.get(key, key)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _public_record(record_id: int):
    """The record as the public sees it today (persons masked), or 404."""
    found = disclosure.public_record_detail(record_id)
    if found is None:
        raise Http404(_("该信息不存在或已不在公示期内"))
    return found


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _check_files(form: forms.Form, names: list[str]) -> None:
    """The services' limits on materials, checked per input so errors stand next to it."""
    count = 0
    for name in names:
        for upload in form.cleaned_data.get(name) or []:
            count += 1
            suffix = ("." + upload.name.rsplit(".", 1)[-1].lower()) if "." in upload.name else ""
            if suffix not in procedures.MATERIAL_SUFFIXES:
                form.add_error(
                    name,
                    _("材料“%(f)s”的格式不支持,请上传 PDF、图片(JPG/PNG)、Word、OFD 或 ZIP。")
                    % {"f": upload.name},
                )
            elif upload.size > procedures.MAX_MATERIAL_BYTES:
                form.add_error(name, _("材料“%(f)s”超过 20 MB。") % {"f": upload.name})
            elif upload.size == 0:
                form.add_error(name, _("材料“%(f)s”是空文件。") % {"f": upload.name})
    if count > procedures.MAX_MATERIALS:
        form.add_error(None, _("最多上传 %(n)s 份材料。") % {"n": procedures.MAX_MATERIALS})


def _materials(form: forms.Form, names: dict[str, str]) -> list[tuple[str, object]]:
    return [(kind, f) for name, kind in names.items() for f in form.cleaned_data.get(name) or []]


# --------------------------------------------------------------------------- landing


def index(request):
    rule = None
    try:
        rule = rules.rule_on(timezone.localdate())
    except ValidationError:
        pass
    return render(request, "repair/portal/index.html", {"rule": rule, "nav_current": NAV})


# --------------------------------------------------------------------------- repair application

MATERIAL_INPUTS = {f"material_{kind}": kind for kind in Material.Kind.values}


def _applicant_name_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("经办人"),
        max_length=64,
        error_messages={"required": gettext_lazy("请填写经办人姓名。")},
    )


class ApplicationForm(forms.Form):
    applicant_name = _applicant_name_field()
    applicant_phone = phone_field(
        gettext_lazy("联系电话"),
        gettext_lazy("请填写联系电话。"),
        help_text=gettext_lazy("用于联系和撤回申请,请如实填写。"),
    )
    statement = forms.CharField(
        label=gettext_lazy("整改和履行义务情况说明"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": gettext_lazy("请填写整改和履行义务情况说明。")},
        help_text=gettext_lazy(
            "说明已如何纠正失信行为、履行行政处罚决定规定的义务(如缴纳罚款的日期)。"
        ),
    )
    obligations_declared = forms.BooleanField(
        label=gettext_lazy("本主体已纠正失信行为,并已履行行政处罚决定规定的全部法定义务。"),
        error_messages={"required": gettext_lazy("须已纠正失信行为、履行法定义务后方可申请。")},
    )
    material_proof = MultipleFileField(
        label=Material.Kind.PROOF.label,
        help_text=gettext_lazy("必须上传,如罚款缴纳凭证、整改报告、相关部门出具的证明。"),
    )
    material_form = MultipleFileField(label=Material.Kind.FORM.label)
    material_licence = MultipleFileField(label=Material.Kind.LICENCE.label)
    material_authorisation = MultipleFileField(
        label=Material.Kind.AUTHORISATION.label,
        help_text=gettext_lazy("经办人不是法定代表人时上传。"),
    )
    material_other = MultipleFileField(label=Material.Kind.OTHER.label)
    accept_commitment = forms.BooleanField(
        label=gettext_lazy("本人已阅读上述信用修复承诺书,代表申请主体作出以上承诺。"),
        error_messages={"required": gettext_lazy("须阅读并签署信用修复承诺书。")},
    )

    def clean(self):
        data = super().clean()
        if not self.errors.get("material_proof") and not data.get("material_proof"):
            self.add_error("material_proof", _("请上传至少一份履行法定义务的证明材料。"))
        _check_files(self, list(MATERIAL_INPUTS))
        return data

    def material_fields(self):
        return [self[name] for name in MATERIAL_INPUTS]


# Where a service's error about a key the form does not have is shown (the commitment signed
# with the application reports its signer's fields).
APPLICATION_ERROR_FIELDS = {
    "materials": "material_proof",
    "signer_name": "applicant_name",
    "signer_contact": "applicant_phone",
}


def apply(request, record_id: int):
    """A record's repair application: conditions first, the form only when they can be met."""
    shown = _public_record(record_id)
    record = Record.objects.select_related("department").get(pk=record_id)
    check = services.repair_eligibility(record)
    form = None
    if check.eligible:
        if request.method == "POST":
            limited = _limited(request)
            if limited:
                return limited
            form = ApplicationForm(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    app = services.apply_for_repair(
                        _principal(request),
                        record,
                        applicant_name=data["applicant_name"],
                        applicant_phone=data["applicant_phone"],
                        statement=data["statement"],
                        obligations_declared=data["obligations_declared"],
                        materials=_materials(form, MATERIAL_INPUTS),
                        accept_commitment=data["accept_commitment"],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc, APPLICATION_ERROR_FIELDS)
                else:
                    return redirect("portal:repair:submitted", code=app.query_code)
        else:
            form = ApplicationForm()
    return _private_page(
        request,
        "repair/portal/apply.html",
        {
            "record": shown,
            "check": check,
            "form": form,
            "commitment_text": services.REPAIR_COMMITMENT_TEXT,
            "liability_text": services.REPAIR_LIABILITY_TEXT,
            "nav_current": NAV,
        },
    )


# --------------------------------------------------------------------------- objection

OBJECTION_INPUTS = {"material_proof": Material.Kind.PROOF, "material_other": Material.Kind.OTHER}


class ObjectionForm(forms.Form):
    target = forms.ChoiceField(
        label=gettext_lazy("异议事项"),
        choices=ObjectionTarget.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择异议事项。")},
    )
    reason = forms.CharField(
        label=gettext_lazy("异议理由"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": gettext_lazy("请填写异议理由。")},
    )
    requested_correction = forms.CharField(
        label=gettext_lazy("请求更正的内容"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    applicant_name = _applicant_name_field()
    applicant_phone = phone_field(gettext_lazy("联系电话"), gettext_lazy("请填写联系电话。"))
    score_result = forms.TypedChoiceField(
        label=gettext_lazy("有异议的信用评价等级"),
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("异议事项为“对信用评价等级有异议”时选择。"),
    )
    material_proof = MultipleFileField(
        label=gettext_lazy("证明材料"), help_text=gettext_lazy("能证明信息有误的材料(选填)。")
    )
    material_other = MultipleFileField(label=Material.Kind.OTHER.label)

    def __init__(self, *args, targets=None, grades=(), **kwargs):
        super().__init__(*args, **kwargs)
        if targets is not None:
            self.fields["target"].choices = [c for c in ObjectionTarget.choices if c[0] in targets]
        self.grades = {row.pk: row for row in grades}
        self.fields["score_result"].choices = [
            (pk, _grade_label(r)) for pk, r in self.grades.items()
        ]
        if not self.grades:
            del self.fields["score_result"]

    def clean(self):
        data = super().clean()
        _check_files(self, list(OBJECTION_INPUTS))
        if data.get("target") == ObjectionTarget.GRADE:
            if not data.get("score_result"):
                self.add_error("score_result", _("请选择有异议的信用评价等级。"))
        else:
            data["score_result"] = None
        return data

    def material_fields(self):
        return [self[name] for name in OBJECTION_INPUTS]


def _grade_label(row) -> str:
    """A current result as the objection form names it: the scorecard and, when public, the
    grade (a person's points are never shown)."""
    shown = public_grade(row)
    if shown is None:
        return row.scorecard.name
    return _("%(card)s:%(grade)s") % {"card": row.scorecard.name, "grade": shown}


def _disputable_grades(principal: Principal, record_id: int) -> list:
    """The current results of the record's subject an objection may name here: the public
    grades of an organisation or 个体工商户 for anyone; a person's points only for staff who may
    see a person's data (they file for the person at the window; the service logs the look)."""
    from pubcredit.scoring.models import ScoreResult

    subject_id = Record.objects.filter(pk=record_id).values_list("subject_id", flat=True).first()
    if subject_id is None:
        return []
    rows = (
        ScoreResult.objects.filter(subject_id=subject_id, current=True, scorecard__active=True)
        .select_related("scorecard", "subject")
        .order_by("scorecard__sort_order", "scorecard__code")
    )
    staff = principal.can("subjects.view_person")
    return [r for r in rows if staff or (r.scorecard.public and not r.subject.is_person)]


def _decided_application(record_id: int):
    return (
        RepairApplication.objects.filter(
            record_id=record_id, status__in=(S.GRANTED, S.DENIED, S.REFUSED, S.REVOKED)
        )
        .select_related("subject", "department", "record")
        .order_by("-decided_on", "-id")
        .first()
    )


def objection(request, record_id: int):
    """Object to a record shown today (its content or period) or to the result of its repair
    (the record may no longer be shown then: only what the decision letter says is shown)."""
    shown = disclosure.public_record_detail(record_id)
    decided = _decided_application(record_id)
    if shown is None and decided is None:
        raise Http404(_("该信息不存在或已不在公示期内"))
    targets = [
        t for t in ObjectionTarget.values if shown is not None or t == ObjectionTarget.REPAIR
    ]
    if decided is None:
        targets.remove(ObjectionTarget.REPAIR)
    grades = _disputable_grades(_principal(request), record_id) if shown is not None else []
    if not grades and ObjectionTarget.GRADE in targets:
        targets.remove(ObjectionTarget.GRADE)
    form = ObjectionForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        targets=targets,
        grades=grades,
        initial={"target": targets[0]} if len(targets) == 1 else None,
    )
    if request.method == "POST":
        limited = _limited(request)
        if limited:
            return limited
        if form.is_valid():
            data = form.cleaned_data
            record = Record.objects.get(pk=record_id)
            try:
                obj = objections.file_objection(
                    _principal(request),
                    record,
                    target=data["target"],
                    reason=data["reason"],
                    requested_correction=data["requested_correction"],
                    applicant_name=data["applicant_name"],
                    applicant_phone=data["applicant_phone"],
                    materials=_materials(form, OBJECTION_INPUTS),
                    score_result=form.grades.get(data.get("score_result")),
                )
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                add_service_errors(form, exc, {"materials": "material_proof"})
            else:
                return redirect("portal:repair:submitted", code=obj.query_code)
    return _private_page(
        request,
        "repair/portal/objection.html",
        {
            "record": shown,
            "decided": decided,
            "decided_subject": public_subject_name(decided) if decided else "",
            "decided_document": document_number(decided.record) if decided else "",
            "form": form,
            "nav_current": NAV,
        },
    )


# --------------------------------------------------------------------------- progress


def _procedure(code: str):
    proc = queries.lookup(code)
    if proc is None:
        return None
    model = type(proc)
    return (
        model.objects.select_related("subject", "department", "record", "record__category")
        .defer("record__data", "record__original", "record__sealed")
        .get(pk=proc.pk)
    )


def _letter_field(proc):
    field = proc.decision_letter if isinstance(proc, RepairApplication) else proc.reply_letter
    return field if field else None


def submitted(request, code: str):
    """After filing: the 查询码, prominently, and what happens next."""
    proc = _procedure(code)
    if proc is None:
        raise Http404(_("查询码不存在"))
    return _private_page(
        request,
        "repair/portal/submitted.html",
        {
            "proc": proc,
            "is_application": isinstance(proc, RepairApplication),
            "nav_current": NAV,
        },
    )


def progress(request):
    """Follow an application or objection by its 查询码 (a GET form: the code is a random
    12-character token, not personal data)."""
    raw = request.GET.get("code", "").strip()[:40]
    context = {"code": raw, "proc": None, "nav_current": NAV}
    if raw:
        limited = _limited(request)
        if limited:
            return limited
        proc = _procedure(raw)
        if proc is None:
            context["not_found"] = True
        else:
            is_application = isinstance(proc, RepairApplication)
            open_states = OPEN_REPAIR if is_application else OPEN_OBJECTION
            context.update(
                {
                    "proc": proc,
                    "code": proc.query_code,
                    "is_application": is_application,
                    "subject_name": public_subject_name(proc),
                    "document_number": document_number(proc.record),
                    "steps": queries.steps(proc),
                    "is_open": proc.status in open_states,
                    "overdue": proc.is_overdue(timezone.localdate()),
                    "has_letter": _letter_field(proc) is not None,
                    **_grade_progress(proc),
                }
            )
    return _private_page(request, "repair/portal/progress.html", context)


def _grade_progress(proc) -> dict:
    """An objection to a grade: the scorecard and, when the grade is public, the grade before
    and (once settled) after (a person's points are never shown here)."""
    result = getattr(proc, "score_result", None)
    if result is None:
        return {}
    return {
        "grade_card": result.scorecard.name,
        "grade_before": public_grade(result),
        "grade_after": public_grade(proc.result_after),
    }


def letter(request, code: str):
    """The decision letter (信用修复决定书) or the objection reply letter, once issued."""
    proc = _procedure(code)
    field = _letter_field(proc) if proc is not None else None
    if field is None:
        raise Http404(_("尚未出具文书"))
    return letters.stored_pdf_download(field, f"{proc.query_code}.pdf")


def withdraw(request, code: str):
    proc = _procedure(code)
    if proc is None:
        raise Http404(_("查询码不存在"))
    target = reverse("portal:repair:progress") + f"?code={proc.query_code}"
    if request.method != "POST":
        return redirect(target)
    limited = _limited(request)
    if limited:
        return limited
    phone = request.POST.get("phone", "")
    call = (
        services.withdraw_application
        if isinstance(proc, RepairApplication)
        else objections.withdraw_objection
    )
    try:
        call(_principal(request), proc, phone=phone)
    except (PermissionDenied, ValidationError) as exc:
        text = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        for message in text:
            messages.error(request, message)
    else:
        messages.success(request, _("申请已撤回。"))
    return redirect(target)


# --------------------------------------------------------------------------- training


class RegistrationForm(forms.Form):
    session = forms.ModelChoiceField(
        label=gettext_lazy("培训场次"),
        queryset=TrainingSession.objects.none(),
        empty_label=gettext_lazy("请选择场次"),
        error_messages={
            "required": gettext_lazy("请选择培训场次。"),
            "invalid_choice": gettext_lazy("该场培训已停止报名。"),
        },
    )
    uscc = forms.CharField(
        label=gettext_lazy("统一社会信用代码"),
        max_length=40,
        error_messages={"required": gettext_lazy("请填写统一社会信用代码。")},
    )
    subject_name = forms.CharField(
        label=gettext_lazy("主体名称"),
        max_length=200,
        error_messages={"required": gettext_lazy("请填写主体名称。")},
    )
    attendee_name = forms.CharField(
        label=gettext_lazy("参训人姓名"),
        max_length=64,
        error_messages={"required": gettext_lazy("请填写参训人姓名。")},
    )
    phone = phone_field(gettext_lazy("联系电话"), gettext_lazy("请填写联系电话。"))

    def __init__(self, *args, sessions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = sessions if sessions is not None else upcoming()
        self.fields["session"].label_from_instance = lambda s: (
            f"{timezone.localtime(s.starts_at):%Y-%m-%d %H:%M} {s.title}({s.place})"
        )

    def clean(self):
        """The subject by its code, and the name given must be its name (so nobody registers
        someone else by a code alone)."""
        data = super().clean()
        code = identifiers.normalize_identifier(data.get("uscc") or "")
        name = data.get("subject_name") or ""
        if not code or not name:
            return data
        result = identifiers.check_uscc(code)
        if not result.valid:
            self.add_error("uscc", result.errors)
            return data
        subject = (
            Subject.objects.filter(uscc=result.normalized).exclude(kind=SubjectKind.PERSON).first()
        )
        if subject is None or normalize_name(subject.name) != normalize_name(name):
            self.add_error(
                "subject_name",
                _("统一社会信用代码与主体名称不一致,请核对(须与营业执照一致)。"),
            )
        else:
            data["subject"] = subject
        return data


def upcoming():
    return (
        TrainingSession.objects.filter(open_for_registration=True, starts_at__gt=timezone.now())
        .select_related("organiser")
        .annotate(registered=Count("registrations"))
        .order_by("starts_at")
    )


def training(request):
    sessions = upcoming()
    form = RegistrationForm(request.POST or None, sessions=sessions)
    if request.method == "POST":
        limited = _limited(request)
        if limited:
            return limited
        if form.is_valid():
            data = form.cleaned_data
            try:
                reg = register_for_training(
                    _principal(request),
                    data["session"],
                    subject=data["subject"],
                    attendee_name=data["attendee_name"],
                    phone=data["phone"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc, {"attendee_phone": "phone"})
            else:
                messages.success(
                    request,
                    _(
                        "报名成功:%(name)s 参加“%(title)s”(%(at)s,%(place)s)。"
                        "参训后凭结业证明编号和联系电话下载结业证明。"
                    )
                    % {
                        "name": reg.attendee_name,
                        "title": reg.session.title,
                        "at": f"{timezone.localtime(reg.session.starts_at):%Y-%m-%d %H:%M}",
                        "place": reg.session.place,
                    },
                )
                return redirect("portal:repair:training")
    rows = list(sessions)
    for session in rows:
        session.remaining = max(0, session.capacity - session.registered)
    return _private_page(
        request, "repair/portal/training.html", {"sessions": rows, "form": form, "nav_current": NAV}
    )


class CertificateForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("结业证明编号"),
        max_length=32,
        error_messages={"required": gettext_lazy("请填写结业证明编号。")},
    )
    phone = forms.CharField(
        label=gettext_lazy("参训人联系电话"),
        max_length=32,
        help_text=gettext_lazy("报名时填写的联系电话。"),
        error_messages={"required": gettext_lazy("请填写报名时的联系电话。")},
    )


def _digits(value: str) -> str:
    return "".join(c for c in value or "" if c.isdigit())


def certificate(request):
    """A training certificate (结业证明) as PDF, by its number and the attendee's phone number
    (the number alone is sequential: it must not let anyone collect names)."""
    form = CertificateForm(request.POST or None)
    if form.is_bound:
        limited = _limited(request)
        if limited:
            return limited
        if form.is_valid():
            number = form.cleaned_data["number"].strip().upper()
            reg = (
                TrainingRegistration.objects.filter(certificate_number=number, attended=True)
                .select_related("session", "session__organiser", "subject")
                .first()
            )
            if reg is None or _digits(reg.attendee_phone) != _digits(form.cleaned_data["phone"]):
                form.add_error(None, _("未找到该结业证明,请核对编号和联系电话。"))
            else:
                pdf = letters.render_letter(certificate_letter(reg))
                return letters.pdf_download(pdf, f"{reg.certificate_number}.pdf")
    return _private_page(
        request, "repair/portal/certificate.html", {"form": form, "nav_current": NAV}
    )
