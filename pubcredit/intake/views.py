"""Console pages of aggregation (归集), mounted under /console/intake/.

- upload (部门报送员: own department only; a role with "records.submit" and no department scope:
  any department): choose the category and the file. If the department's saved mapping already
  covers every header of the file, the file is submitted at once; otherwise (or when the clerk
  asks) it is staged and the mapping screen shows each header with the engine's proposal.
- mapping screen: confirm or fix each column (or ignore it); on confirm the file is submitted
  with that mapping (intake.services.submit_file), which saves it per department and category
  for next time. Small files are processed in the request, large ones by the task worker.
- submission page: status and progress polled with htmx every second until done, then the
  counts, the error table (paginated) and the error report in xlsx and JSON.
- submissions list, scoped (a clerk sees only the department's submissions).
- review queue (MatchReview): staff confirm a candidate subject or register a new one.

Thin: every write goes through intake.services (and subjects.services for a new subject).
"""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import Category, Department, SubjectKind
from pubcredit.core.identifiers import check_uscc, subject_kind_for_uscc
from pubcredit.intake import services, uploads
from pubcredit.intake.engine.reading import UnreadableFile
from pubcredit.intake.models import MatchReview, RowError, Submission
from pubcredit.subjects.masking import display_identifier, display_name
from pubcredit.subjects.models import Subject
from pubcredit.subjects.services import register_subject

ERRORS_PER_PAGE = 50
SUBMISSIONS_PER_PAGE = 30
REVIEWS_PER_PAGE = 20
IGNORE = ""  # the select value meaning "ignore this column"


def _principal(request, action: str, message: str) -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(action)):
        raise PermissionDenied(message)
    return principal


def _submitter(request) -> Principal:
    return _principal(
        request, "records.submit", _("您的账号没有报送数据的权限。如需开通,请联系平台管理员。")
    )


def _viewer(request) -> Principal:
    return _principal(
        request, "records.view", _("您的账号没有查看报送批次的权限。如需开通,请联系平台管理员。")
    )


def _visible_submissions(principal: Principal):
    return restrict(Submission.objects.all(), principal, "records.view").select_related(
        "department", "category"
    )


def _departments_for(principal: Principal):
    """The departments the principal may submit for: a department-scoped role only its own."""
    active = Department.objects.filter(active=True).order_by("code")
    if principal.is_department_scoped:
        return active.filter(pk=principal.department_id)
    return active


# --------------------------------------------------------------------------- upload


class UploadForm(forms.Form):
    department = forms.ModelChoiceField(
        label=gettext_lazy("报送部门"),
        queryset=Department.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": gettext_lazy("只能为本部门(或有权代报的部门)报送数据。")},
    )
    category = forms.ModelChoiceField(
        label=gettext_lazy("信息类别"),
        queryset=Category.objects.none(),
        empty_label=gettext_lazy("请选择信息类别"),
        error_messages={
            "required": gettext_lazy("请选择信息类别。"),
            "invalid_choice": gettext_lazy("该信息类别暂不能接收数据。"),
        },
    )
    file = forms.FileField(
        label=gettext_lazy("数据文件"),
        help_text=gettext_lazy(
            "支持 xlsx、xls、csv(UTF-8 或 GBK/GB18030)和 json;表头可用国家标准字段名称或字段编码,"
            "表头上方的标题行、空行会被自动跳过。"
        ),
        error_messages={"required": gettext_lazy("请选择要上传的文件。")},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(uploads.ALLOWED_SUFFIXES)}),
    )
    review_mapping = forms.BooleanField(
        label=gettext_lazy("上传后先确认列映射(即使各列都已有保存的映射)"), required=False
    )

    def __init__(self, *args, principal: Principal, **kwargs):
        super().__init__(*args, **kwargs)
        departments = _departments_for(principal)
        self.fields["department"].queryset = departments
        if principal.is_department_scoped:
            self.fields["department"].help_text = _("部门报送员只能报送本部门的数据。")
        self.fields["category"].queryset = uploads.submittable_categories()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            uploads.check_upload(upload.name, upload.size)
        except uploads.UploadRefused as exc:
            raise ValidationError(str(exc)) from exc
        return upload


def _too_large(request) -> bool:
    """Refuse an oversized upload from its Content-Length, before reading the body."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > uploads.max_upload_bytes() + 64 * 1024


@login_required
def upload(request):
    principal = _submitter(request)
    status = 200
    page_error = ""
    if request.method == "POST" and _too_large(request):
        # Refused from the Content-Length alone: the body is never read.
        form = UploadForm(principal=principal)
        page_error = _("文件过大,单个文件不能超过 %(limit)s;请拆分后分批上传。") % {
            "limit": uploads.human_size(uploads.max_upload_bytes())
        }
        status = 413
    elif request.method == "POST":
        form = UploadForm(request.POST, request.FILES, principal=principal)
        if form.is_valid():
            response = _receive(request, principal, form)
            if response is not None:
                return response
        status = 422 if form.errors else 200
    else:
        initial = {}
        if principal.is_department_scoped:
            initial["department"] = principal.department_id
        if request.GET.get("category"):
            initial["category"] = Category.objects.filter(code=request.GET["category"]).first()
        form = UploadForm(principal=principal, initial=initial)
    return render(
        request,
        "intake/upload.html",
        {
            "form": form,
            "page_error": page_error,
            "max_size": uploads.human_size(uploads.max_upload_bytes()),
            "inline_size": uploads.human_size(services.INLINE_MAX_BYTES),
        },
        status=status,
    )


def _receive(request, principal: Principal, form: UploadForm):
    """Submit the file at once when its mapping is known, else stage it for the mapping
    screen. Returns a redirect, or None with the problem added to the form."""

    department = form.cleaned_data["department"]
    category = form.cleaned_data["category"]
    upload_file = form.cleaned_data["file"]
    try:
        services.check_can_submit(principal, department, category)
    except (PermissionDenied, ValidationError) as exc:
        form.add_error(None, _messages(exc))
        return None
    try:
        preview = uploads.preview_mapping(upload_file, upload_file.name, department, category)
    except UnreadableFile as exc:
        form.add_error("file", str(exc))
        return None
    if preview.needs_confirmation or form.cleaned_data["review_mapping"]:
        staged = uploads.stage_upload(
            upload_file,
            filename=upload_file.name,
            size=upload_file.size,
            department=department,
            category=category,
            user=request.user,
        )
        return redirect("console:intake:mapping", token=staged.token)
    upload_file.seek(0)
    submission = _submit(request, principal, form, department, category, upload_file, None)
    if submission is None:
        return None
    messages.success(request, _("已按保存的列映射接收文件“%(f)s”。") % {"f": submission.filename})
    return redirect("console:intake:submission_detail", pk=submission.pk)


def _messages(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("无权执行此操作。")


def _submit(request, principal, form, department, category, source, mapping, filename=None):
    try:
        return services.submit_file(
            principal,
            department=department,
            category=category,
            source=source,
            filename=filename or source.name,
            channel=Submission.Channel.UPLOAD,
            mapping=mapping,
        )
    except (PermissionDenied, ValidationError) as exc:
        if form is not None:
            form.add_error(None, _messages(exc))
        else:
            messages.error(request, _messages(exc))
        return None


# --------------------------------------------------------------------------- mapping screen


def _field_choices(preview: uploads.MappingPreview) -> list[tuple[str, str]]:
    choices = [(IGNORE, _("(忽略该列)"))]
    for f in preview.fields:
        mark = _("(必填)") if f.requirement == "required" else ""
        choices.append((f.code, f"{f.name}{mark} [{f.code}]"))
    return choices


def _chosen_mapping(request, preview, valid_codes) -> tuple[dict, dict, list[str]]:
    """The clerk's choice per column: ({header: code or None}, {index: code}, errors)."""
    chosen: dict[int, str] = {}
    errors: list[str] = []
    for column in preview.columns:
        if not column.mappable:
            continue
        value = request.POST.get(f"col-{column.index}", IGNORE)
        if value != IGNORE and value not in valid_codes:
            errors.append(
                _("第 %(n)d 列“%(h)s”选择的字段无效。")
                % {"n": column.index + 1, "h": column.header}
            )
            value = IGNORE
        chosen[column.index] = value
    used: dict[str, list[int]] = {}
    for index, code in chosen.items():
        if code:
            used.setdefault(code, []).append(index)
    for code, indexes in used.items():
        if len(indexes) > 1:
            errors.append(
                _("字段“%(f)s”被第 %(cols)s 列同时使用,一个字段只能对应一列。")
                % {
                    "f": preview.field_names.get(code, code),
                    "cols": "、".join(str(i + 1) for i in indexes),
                }
            )
    mapping = {
        column.header: (chosen.get(column.index) or None)
        for column in preview.columns
        if column.mappable
    }
    return mapping, chosen, errors


@login_required
def mapping(request, token: str):

    principal = _submitter(request)
    staged = uploads.load_staged(token, request.user)
    if staged is None:
        messages.error(request, _("待确认的上传文件不存在或已过期,请重新上传。"))
        return redirect("console:intake:upload")
    department, category = staged.department, staged.category
    if request.method == "POST" and request.POST.get("action") == "cancel":
        uploads.discard_staged(staged)
        messages.info(request, _("已取消上传“%(f)s”。") % {"f": staged.filename})
        return redirect("console:intake:upload")
    try:
        with staged.open() as fh:
            preview = uploads.preview_mapping(fh, staged.filename, department, category)
    except UnreadableFile as exc:  # pragma: no cover - it was readable when staged
        uploads.discard_staged(staged)
        messages.error(request, str(exc))
        return redirect("console:intake:upload")

    errors: list[str] = []
    chosen = {c.index: (c.field_code or IGNORE) for c in preview.columns}
    status = 200
    if request.method == "POST":
        valid = {f.code for f in preview.fields}
        override, chosen, errors = _chosen_mapping(request, preview, valid)
        if not errors:
            with staged.open() as fh:
                submission = _submit(
                    request, principal, None, department, category, fh, override, staged.filename
                )
            if submission is not None:
                uploads.discard_staged(staged)
                messages.success(
                    request,
                    _(
                        "已确认列映射并接收文件“%(f)s”;该映射已保存,下次上传相同表头的文件时自动使用。"
                    )
                    % {"f": submission.filename},
                )
                return redirect("console:intake:submission_detail", pk=submission.pk)
            return redirect("console:intake:mapping", token=token)
        status = 422
    mapped = {code for code in chosen.values() if code}
    context = {
        "staged": staged,
        "department": department,
        "category": category,
        "preview": preview,
        "rows": [(c, chosen.get(c.index, IGNORE)) for c in preview.columns],
        "choices": _field_choices(preview),
        "errors": errors,
        "missing_required": [
            f for f in preview.fields if f.requirement == "required" and f.code not in mapped
        ],
        "size": uploads.human_size(staged.size),
        "background": staged.size > services.INLINE_MAX_BYTES,
    }
    response = render(request, "intake/mapping.html", context, status=status)
    add_never_cache_headers(response)
    return response


# --------------------------------------------------------------------------- submissions


STATUS_FILTERS = [("", gettext_lazy("全部状态")), *Submission.Status.choices]


@login_required
def submission_list(request):
    principal = _viewer(request)
    submissions = _visible_submissions(principal)
    status = request.GET.get("status", "")
    if status in Submission.Status.values:
        submissions = submissions.filter(status=status)
    fix = request.GET.get("fix") == "1"
    if fix:
        # The dashboard's "submissions to fix" (console.worklist counts the same rows).
        submissions = submissions.filter(Submission.to_fix_q(timezone.localdate()))
    category = request.GET.get("category", "")
    if category:
        submissions = submissions.filter(category__code=category)
    department = request.GET.get("department", "")
    if department and not principal.is_department_scoped:
        submissions = submissions.filter(department__code=department)
    page = Paginator(submissions.order_by("-received_at", "-id"), SUBMISSIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "intake/submission_list.html",
        {
            "page": page,
            "status": status,
            "fix": fix,
            "status_filters": STATUS_FILTERS,
            "category": category,
            "categories": Category.objects.filter(active=True).order_by(
                "catalogue_class", "sort_order"
            ),
            "department": department,
            "departments": None
            if principal.is_department_scoped
            else Department.objects.order_by("code"),
            "scope_department": principal.department if principal.is_department_scoped else None,
            "can_submit": principal.can("records.submit"),
            "query": query.urlencode(),
        },
    )


def _submission(request, pk: int) -> Submission:
    """The submission, if the viewer's scope covers it (404 otherwise, as if it did not exist)."""
    return get_object_or_404(_visible_submissions(_viewer(request)), pk=pk)


def _error_page(request, submission: Submission):

    rows = RowError.objects.filter(submission=submission).order_by("row", "id")
    severity = request.GET.get("severity", "")
    if severity in RowError.Severity.values:
        rows = rows.filter(severity=severity)
    else:
        severity = ""
    return Paginator(rows, ERRORS_PER_PAGE).get_page(request.GET.get("page")), severity


def _result_context(request, submission: Submission) -> dict:
    names = {}
    columns = (submission.mapping or {}).get("columns", [])
    if columns and submission.is_finished:
        names = dict(submission.category.fields.values_list("code", "name"))
    context = {
        "submission": submission,
        "columns": [
            {
                **c,
                "field_name": names.get(c.get("field"), ""),
                "method_label": str(uploads.METHOD_LABELS.get(c.get("method"), c.get("method"))),
            }
            for c in columns
        ],
        "background": submission.size > services.INLINE_MAX_BYTES,
    }
    if submission.status == Submission.Status.DONE:
        page, severity = _error_page(request, submission)
        context.update({"errors": page, "severity": severity})
    return context


@login_required
def submission_detail(request, pk: int):
    submission = _submission(request, pk)
    response = render(
        request, "intake/submission_detail.html", _result_context(request, submission)
    )
    add_never_cache_headers(response)
    return response


@login_required
def submission_status(request, pk: int):
    """The status block alone (polled by htmx every second until the submission is finished)."""
    submission = _submission(request, pk)
    response = render(request, "intake/_status.html", _result_context(request, submission))
    add_never_cache_headers(response)
    return response


@login_required
def submission_errors(request, pk: int):
    """One page of the error table (htmx); a plain request goes to the submission page."""
    submission = _submission(request, pk)
    if not request.headers.get("HX-Request"):
        url = reverse("console:intake:submission_detail", args=[pk])
        query = request.GET.urlencode()
        return HttpResponseRedirect(f"{url}?{query}#errors" if query else url)
    if submission.status != Submission.Status.DONE:
        raise Http404
    response = render(request, "intake/_errors.html", _result_context(request, submission))
    add_never_cache_headers(response)
    return response


@login_required
def errors_xlsx(request, pk: int):
    submission = _submission(request, pk)
    if submission.status != Submission.Status.DONE:
        raise Http404(_("报送批次尚未处理完成,暂无错误报告。"))
    return uploads.error_report_xlsx_response(submission)


@login_required
def errors_json(request, pk: int):
    submission = _submission(request, pk)
    if submission.status != Submission.Status.DONE:
        raise Http404(_("报送批次尚未处理完成,暂无错误报告。"))
    total, items = uploads.error_items(submission)
    response = JsonResponse(
        {
            "submission": submission.pk,
            "summary": submission.summary(),
            "count": total,
            "items": items,
            "note": submission.errors_note,
            "totals": submission.error_totals or [],
        },
        json_dumps_params={"ensure_ascii": False},
    )
    response["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(
        uploads.error_report_name(submission, ".json")
    )
    return response


def _quote(name: str) -> str:

    return quote(name)


# --------------------------------------------------------------------------- review queue


def _reviewer(request) -> Principal:
    return _principal(
        request,
        "subjects.change",
        _("您的账号没有确认主体匹配的权限。主体匹配由信用中心工作人员确认。"),
    )


def _open_reviews(principal: Principal):
    return restrict(MatchReview.objects.all(), principal, "subjects.change").select_related(
        "record", "record__department", "record__category", "submission"
    )


class NewSubjectForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("主体名称"), max_length=200)
    uscc = forms.CharField(
        label=gettext_lazy("统一社会信用代码"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("已知代码时填写;该代码已登记时直接关联到已登记的主体。"),
    )


@login_required
def review_list(request):

    principal = _reviewer(request)
    reviews = _open_reviews(principal).filter(status=MatchReview.Status.OPEN)
    page = Paginator(reviews.order_by("-best_score", "id"), REVIEWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    ids = {c.get("subject") for r in page for c in (r.candidates or [])}
    visible = restrict(Subject.objects.all(), principal, "subjects.view")
    subjects = {s.pk: s for s in visible.filter(pk__in=[i for i in ids if i])}
    items = []
    for review in page:
        candidates = []
        for c in review.candidates or []:
            subject = subjects.get(c.get("subject"))
            if subject is None:
                continue
            candidates.append(
                {
                    "subject": subject,
                    "name": display_name(subject),
                    "identifier": display_identifier(subject),
                    "score": c.get("score", 0),
                    "reason": c.get("reason", ""),
                }
            )
        items.append(
            {
                "review": review,
                "candidates": candidates,
                "form": NewSubjectForm(
                    initial={"name": review.subject_name}, prefix=f"r{review.pk}"
                ),
            }
        )
    return render(
        request,
        "intake/review_list.html",
        {
            "page": page,
            "items": items,
            "resolved_count": _open_reviews(principal)
            .filter(status=MatchReview.Status.RESOLVED)
            .count(),
        },
    )


def _review(principal, pk) -> MatchReview:
    return get_object_or_404(_open_reviews(principal), pk=pk)


@login_required
@require_POST
def review_resolve(request, pk: int):
    """Confirm one candidate (`subject`) for the record waiting in the review."""
    principal = _reviewer(request)
    review = _review(principal, pk)
    candidate_ids = {c.get("subject") for c in review.candidates or []}
    try:
        subject_id = int(request.POST.get("subject", ""))
    except ValueError:
        subject_id = None
    visible = restrict(Subject.objects.all(), principal, "subjects.view")
    subject = visible.filter(pk=subject_id).first() if subject_id in candidate_ids else None
    if subject is None:
        messages.error(request, _("请选择一个候选主体。"))
        return redirect("console:intake:review_list")
    try:
        services.resolve_match(principal, review, subject)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _messages(exc))
    else:
        messages.success(
            request,
            _("已确认“%(name)s”的记录属于主体“%(subject)s”。")
            % {"name": review.subject_name, "subject": subject.name},
        )
    return redirect("console:intake:review_list")


@login_required
@require_POST
def review_new_subject(request, pk: int):
    """Register the review's subject (or find it by the USCC staff typed) and link the record
    to it: subjects.services.register_subject then intake.services.resolve_match, in one
    transaction."""

    principal = _reviewer(request)
    review = _review(principal, pk)
    form = NewSubjectForm(request.POST, prefix=f"r{review.pk}")
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("console:intake:review_list")
    name = form.cleaned_data["name"]
    uscc = form.cleaned_data["uscc"].strip() or None
    kind = review.subject_kind or SubjectKind.ORG
    if uscc:
        checked = check_uscc(uscc)
        if not checked.valid:
            messages.error(request, " ".join(checked.errors))
            return redirect("console:intake:review_list")
        uscc = checked.normalized
        kind = subject_kind_for_uscc(uscc) or kind
    if kind == SubjectKind.PERSON:
        messages.error(request, _("自然人主体须凭证件号码登记,不能在此按名称新建。"))
        return redirect("console:intake:review_list")
    try:
        with transaction.atomic():
            subject = register_subject(
                principal,
                kind=kind,
                name=name,
                uscc=uscc,
                reason=_("主体匹配确认:记录 %(r)s") % {"r": review.record_id},
            )
            services.resolve_match(principal, review, subject)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _messages(exc))
    else:
        messages.success(
            request,
            _("已将“%(name)s”的记录关联到主体“%(subject)s”。")
            % {"name": review.subject_name, "subject": subject.name},
        )
    return redirect("console:intake:review_list")
