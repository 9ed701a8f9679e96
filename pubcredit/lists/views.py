"""Console pages of credit lists (信用名单), mounted under /console/lists/ (namespace
"console:lists").

- entries list: the entries the principal may identify and remove (`restrict(...,
  "lists.identify")`: a 部门报送员 sees the entries its department identified, the credit centre
  all), filtered by list kind, list type, status, department and a search box;
- entry page: the entry, its subject (natural persons masked: 张*, 370303********1239), where it
  came from (the console or a submission), its history (ListEntryEvent), its documents
  (downloads), and the 移出 form while it is published;
- 认定 form: list type, subject by 统一社会信用代码 or 身份证号 (looked up in the register), basis,
  document number, decision date, validity, documents (认定材料, uploaded with the entry);
- 移出: a reason, then `services.remove_entry`.

The forms are POSTed, so a typed 身份证号 never lands in a URL. Thin: every write goes through
`lists.services` (identify_entry with the uploaded documents, remove_entry).
"""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pubcredit.accounts.permissions import Principal, restrict
from pubcredit.catalog.models import Department, Region
from pubcredit.core import identifiers
from pubcredit.lists import services
from pubcredit.lists.models import (
    EntryStatus,
    ListEntry,
    ListEntryDocument,
    ListKind,
    ListType,
)
from pubcredit.records.models import Record
from pubcredit.subjects import crypto
from pubcredit.subjects.masking import display_identifier, display_name
from pubcredit.subjects.models import Subject
from pubcredit.subjects.services import person_id_index

ACTION = services.ENTRY_ACTION
ENTRIES_PER_PAGE = 30
# 认定材料: scans and documents of the decision.
DOCUMENT_SUFFIXES = (".pdf", ".ofd", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAX_DOCUMENTS = 10


def _principal(request) -> Principal:
    principal = Principal.of(request.user)
    if not (principal.can("console.view") and principal.can(ACTION)):
        raise PermissionDenied(
            _("您的账号没有认定和移出信用名单的权限。如需开通,请联系平台管理员。")
        )
    return principal


def _entries(principal: Principal):
    return restrict(ListEntry.objects.all(), principal, ACTION).select_related(
        "list_type", "identified_by", "subject"
    )


def _shown(entry: ListEntry) -> ListEntry:
    """The entry with what a list may show of its subject (persons masked)."""
    entry.shown_name = display_name(entry.subject)
    entry.shown_code = display_identifier(entry.subject)
    return entry


def _list_type_groups(*, active_only: bool = False) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(kind label, [(code, name), …]), …]: the list types grouped by kind, for a select."""
    groups = []
    types = ListType.objects.order_by("kind", "sort_order", "code")
    if active_only:
        types = types.filter(active=True)
    types = list(types)
    for kind, label in ListKind.choices:
        options = [(t.code, t.name) for t in types if t.kind == kind]
        if options:
            groups.append((label, options))
    return groups


# --------------------------------------------------------------------------- entries


STATUS_FILTERS = [("", gettext_lazy("全部状态")), *EntryStatus.choices]
KIND_FILTERS = [("", gettext_lazy("全部类别")), *ListKind.choices]


@login_required
def entry_list(request):
    principal = _principal(request)
    entries = _entries(principal)
    kind = request.GET.get("kind", "")
    if kind in ListKind.values:
        entries = entries.filter(list_type__kind=kind)
    else:
        kind = ""
    list_type = request.GET.get("list_type", "")
    if list_type:
        entries = entries.filter(list_type__code=list_type)
    status = request.GET.get("status", "")
    if status in EntryStatus.values:
        entries = entries.filter(status=status)
    else:
        status = ""
    department = request.GET.get("department", "")
    if department and not principal.is_department_scoped:
        entries = entries.filter(identified_by__code=department)
    # The big screen's district bars open the entries of that district's subjects.
    region = request.GET.get("region", "").strip()[:12]
    if region:
        entries = entries.filter(subject__region=region)
    q = request.GET.get("q", "").strip()[:100]
    if q:
        code = identifiers.normalize_identifier(q)
        entries = entries.filter(
            Q(subject_name__icontains=q) | Q(document_number__icontains=q) | Q(subject__uscc=code)
        )
    page = Paginator(entries.order_by("-decided_on", "-id"), ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for entry in page.object_list:
        _shown(entry)
    query = request.GET.copy()
    query.pop("page", None)
    response = render(
        request,
        "lists/entry_list.html",
        {
            "page": page,
            "kind": kind,
            "kind_filters": KIND_FILTERS,
            "list_type": list_type,
            "list_type_groups": _list_type_groups(),
            "status": status,
            "status_filters": STATUS_FILTERS,
            "department": department,
            "departments": None
            if principal.is_department_scoped
            else Department.objects.order_by("code"),
            "scope_department": principal.department if principal.is_department_scoped else None,
            "region": region,
            "region_name": Region.objects.filter(code=region).values_list("name", flat=True).first()
            if region
            else "",
            "q": q,
            "query": query.urlencode(),
        },
    )
    add_never_cache_headers(response)
    return response


def _entry(principal: Principal, pk: int) -> ListEntry:
    """The entry, if the principal's scope covers it (404 otherwise, as if it did not exist)."""
    return get_object_or_404(_entries(principal), pk=pk)


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("移出原因"),
        max_length=512,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "例如:信用修复后移出、认定决定被撤销、履行完毕;移出后该条目不再参与信用核查。"
        ),
        error_messages={"required": gettext_lazy("请填写移出原因。")},
    )


def _detail(request, principal: Principal, entry: ListEntry, remove_form=None, status=200):
    _shown(entry)
    record = None
    if entry.record_id:
        record = (
            Record.objects.filter(pk=entry.record_id)
            .select_related("category", "department")
            .first()
        )
    response = render(
        request,
        "lists/entry_detail.html",
        {
            "entry": entry,
            "subject": entry.subject,
            "record": record,
            "can_view_submission": record is not None and _can_view_submission(record, principal),
            "events": entry.events.order_by("at", "id"),
            "documents": entry.documents.order_by("uploaded_at", "id"),
            "remove_form": remove_form
            if remove_form is not None
            else (RemoveForm() if entry.status == EntryStatus.PUBLISHED else None),
            "active_today": entry.active_on(timezone.localdate()),
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


def _can_view_submission(record, principal: Principal) -> bool:
    """Whether the principal may open the submission the record came from (a link on the page).
    The submission model is reached through the record's own relation: lists sits beside
    intake, not above it."""
    submissions = Record._meta.get_field("submission").related_model.objects
    return restrict(submissions.filter(pk=record.submission_id), principal, "records.view").exists()


@login_required
def entry_detail(request, pk: int):
    principal = _principal(request)
    return _detail(request, principal, _entry(principal, pk))


@login_required
@require_POST
def entry_remove(request, pk: int):
    principal = _principal(request)
    entry = _entry(principal, pk)
    form = RemoveForm(request.POST)
    if not form.is_valid():
        return _detail(request, principal, entry, remove_form=form, status=422)
    try:
        services.remove_entry(principal, entry, form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("已将该主体移出名单“%(name)s”。") % {"name": entry.list_type.name}
        )
    return redirect("console:lists:entry_detail", pk=entry.pk)


@login_required
def document_download(request, pk: int, doc_pk: int):
    principal = _principal(request)
    entry = _entry(principal, pk)
    document = get_object_or_404(ListEntryDocument, entry=entry, pk=doc_pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("认定材料文件不存在。")) from None
    response = FileResponse(handle, as_attachment=True, filename=document.name)
    add_never_cache_headers(response)
    return response


# --------------------------------------------------------------------------- 认定


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class DocumentsField(forms.FileField):
    """Several uploaded files (认定材料), each checked for its type and size."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > MAX_DOCUMENTS:
            raise ValidationError(
                _("一次最多上传 %(n)d 个认定材料文件。") % {"n": MAX_DOCUMENTS}, code="too_many"
            )
        out = []
        for upload in files:
            upload = super().clean(upload, initial)
            if Path(upload.name).suffix.lower() not in DOCUMENT_SUFFIXES:
                raise ValidationError(
                    _("文件“%(f)s”的类型不支持;认定材料可上传 %(types)s 文件。")
                    % {"f": upload.name, "types": "、".join(s[1:] for s in DOCUMENT_SUFFIXES)},
                    code="type",
                )
            if upload.size > MAX_DOCUMENT_BYTES:
                raise ValidationError(
                    _("文件“%(f)s”超过 %(mb)d MB。")
                    % {"f": upload.name, "mb": MAX_DOCUMENT_BYTES // (1024 * 1024)},
                    code="size",
                )
            out.append(upload)
        return out


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class IdentifyForm(forms.Form):
    list_type = forms.ChoiceField(
        label=gettext_lazy("名单类型"),
        choices=(),
        error_messages={"required": gettext_lazy("请选择名单类型。")},
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("认定部门"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=gettext_lazy("名单类型的认定部门"),
        help_text=gettext_lazy("不选择时为名单类型的认定部门。"),
    )
    subject = forms.CharField(
        label=gettext_lazy("统一社会信用代码或身份证号"),
        max_length=40,
        help_text=gettext_lazy(
            "主体须已在主体库中。组织和个体工商户填写统一社会信用代码,自然人填写身份证号。"
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": gettext_lazy("请填写统一社会信用代码或身份证号。")},
    )
    basis = forms.CharField(
        label=gettext_lazy("认定依据"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("认定所依据的法律、法规、规章或政策文件及条款,以及认定的事实。"),
        error_messages={"required": gettext_lazy("请填写认定依据。")},
    )
    document_number = forms.CharField(
        label=gettext_lazy("认定文书号"),
        max_length=128,
        error_messages={"required": gettext_lazy("请填写认定文书号。")},
    )
    decided_on = forms.DateField(
        label=gettext_lazy("认定日期"),
        widget=DateInput(),
        error_messages={
            "required": gettext_lazy("请填写认定日期。"),
            "invalid": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
        },
    )
    valid_from = forms.DateField(
        label=gettext_lazy("有效期自"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("为空时自认定日期起。"),
        error_messages={"invalid": gettext_lazy("日期格式应为 YYYY-MM-DD。")},
    )
    valid_to = forms.DateField(
        label=gettext_lazy("有效期至"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy(
            "含当日。为空时按名单类型的默认有效期计算(默认直至移出的名单则直至移出)。"
        ),
        error_messages={"invalid": gettext_lazy("日期格式应为 YYYY-MM-DD。")},
    )
    documents = DocumentsField(
        label=gettext_lazy("认定材料"),
        help_text=gettext_lazy(
            "认定决定书等材料,可选择多个文件(pdf、ofd、图片、Word 或 Excel,每个不超过 20 MB)。"
        ),
        error_messages={"required": gettext_lazy("请上传认定决定书等认定材料。")},
    )

    def __init__(self, *args, principal: Principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.principal = principal
        self.subject_obj: Subject | None = None
        self.fields["list_type"].choices = [
            ("", _("请选择名单类型")),
            *_list_type_groups(active_only=True),
        ]
        if principal.is_department_scoped:
            del self.fields["department"]
        else:
            self.fields["department"].queryset = Department.objects.filter(active=True).order_by(
                "code"
            )

    def clean_list_type(self):
        code = self.cleaned_data["list_type"]
        list_type = ListType.objects.filter(code=code, active=True).first()
        if list_type is None:
            raise ValidationError(_("名单类型不存在或已停用。"))
        return list_type

    def clean_subject(self):
        text = self.cleaned_data["subject"].strip()
        verdict = identifiers.check_identifier(text)
        if not verdict.valid:
            raise ValidationError(verdict.errors)
        register = restrict(Subject.objects.all(), self.principal, "subjects.view")
        if verdict.kind == "ric":
            subject = register.filter(id_index=person_id_index(verdict.normalized)).first()
            missing = _("主体库中没有身份证号为 %(id)s 的自然人。") % {
                "id": crypto.mask_id(verdict.normalized)
            }
        else:
            subject = register.filter(uscc=verdict.normalized).first()
            missing = _("主体库中没有统一社会信用代码为 %(code)s 的主体。") % {
                "code": verdict.normalized
            }
        if subject is None:
            raise ValidationError(
                missing
                + _("主体随归集报送的信用信息登记入库;请先报送,或请信用中心登记该主体后再认定。")
            )
        self.subject_obj = subject
        return verdict.normalized


@login_required
def identify(request):
    principal = _principal(request)
    status = 200
    if request.method == "POST":
        form = IdentifyForm(request.POST, request.FILES, principal=principal)
        if form.is_valid():
            entry = _identify(principal, form)
            if entry is not None:
                messages.success(
                    request,
                    _("已认定:%(subject)s 列入“%(name)s”,有效期 %(period)s。")
                    % {
                        "subject": display_name(entry.subject),
                        "name": entry.list_type.name,
                        "period": _period(entry),
                    },
                )
                return redirect("console:lists:entry_detail", pk=entry.pk)
        status = 422
    else:
        initial = {"decided_on": timezone.localdate()}
        if request.GET.get("list_type"):
            initial["list_type"] = request.GET["list_type"]
        form = IdentifyForm(principal=principal, initial=initial)
    response = render(
        request,
        "lists/identify.html",
        {
            "form": form,
            "scope_department": principal.department if principal.is_department_scoped else None,
            "list_types": ListType.objects.filter(active=True).select_related("authority"),
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


def _period(entry: ListEntry) -> str:
    end = entry.valid_to.isoformat() if entry.valid_to else _("移出为止")
    return f"{entry.valid_from.isoformat()} — {end}"


def _identify(principal: Principal, form: IdentifyForm) -> ListEntry | None:
    """Call the service; its errors go to the form's fields (or the form)."""
    data = form.cleaned_data
    list_type = data["list_type"]
    department = data.get("department") or (
        None if principal.is_department_scoped else list_type.authority
    )
    try:
        return services.identify_entry(
            principal,
            list_type=list_type,
            subject=form.subject_obj,
            basis=data["basis"],
            decided_on=data["decided_on"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            document_number=data["document_number"],
            department=department,
            documents=data["documents"],
        )
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
    return None
