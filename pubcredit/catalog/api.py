"""Catalogue API: departments, categories with their fields, code lists. Read-only and public: the
catalogue describes what is collected and how, not anybody's data. The lists are small and
bounded (tens of rows), so they are returned whole."""

from django.db.models import Count, Prefetch
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from pubcredit.catalog.models import Category, CodeItem, CodeList, Department, Field
from pubcredit.core.apitypes import ErrorOut, SmallInt

router = Router(tags=["信息目录"])


class DepartmentOut(Schema):
    code: str
    name: str
    uscc: str
    level: str
    district: str | None


class CodeItemOut(Schema):
    value: str
    code: str
    synonyms: list[str]
    description: str
    active: bool


class CodeListOut(Schema):
    code: str
    name: str
    description: str
    allow_other: bool
    multi_value: bool
    items: list[CodeItemOut]


class FieldOut(Schema):
    code: str
    name: str
    type: str
    requirement: str
    condition: dict | None
    max_length: int | None
    exact_length: int | None
    decimal_places: int | None
    unit: str
    codelist: str | None
    legacy_codes: list[str]
    synonyms: list[str]
    role: str
    disclosure: str
    description: str


class CategorySummaryOut(Schema):
    code: str
    name: str
    catalogue_class: int
    parent: str | None
    subject_kinds: list[str]
    publicity_class: str
    fields_complete: bool
    field_count: int
    active: bool
    description: str


class CategoryOut(CategorySummaryOut):
    business_key: list[str]
    legacy_prefix: str
    standard: str
    fields: list[FieldOut]
    codelists: list[CodeListOut]


def _codelist_out(c: CodeList) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "description": c.description,
        "allow_other": c.allow_other,
        "multi_value": c.multi_value,
        "items": [
            {
                "value": i.value,
                "code": i.code,
                "synonyms": i.synonyms,
                "description": i.description,
                "active": i.active,
            }
            for i in c.items.all()
        ],
    }


def _field_out(f: Field) -> dict:
    return {
        "code": f.code,
        "name": f.name,
        "type": f.type,
        "requirement": f.requirement,
        "condition": f.condition,
        "max_length": f.max_length,
        "exact_length": f.exact_length,
        "decimal_places": f.decimal_places,
        "unit": f.unit,
        "codelist": f.codelist.code if f.codelist else None,
        "legacy_codes": f.legacy_codes,
        "synonyms": f.synonyms,
        "role": f.role,
        "disclosure": f.disclosure,
        "description": f.description,
    }


def _summary(c: Category, field_count: int) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "catalogue_class": c.catalogue_class,
        "parent": c.parent.code if c.parent else None,
        "subject_kinds": c.subject_kinds,
        "publicity_class": c.publicity_class,
        "fields_complete": c.fields_complete,
        "field_count": field_count,
        "active": c.active,
        "description": c.description,
    }


def _not_found(message: str):
    return Status(404, {"code": "not_found", "message": message, "details": []})


_ITEMS = Prefetch("items", queryset=CodeItem.objects.order_by("sort_order", "id"))


@router.get("/departments", response=list[DepartmentOut], auth=None, summary="部门列表")
def list_departments(request):
    return [
        DepartmentOut(code=d.code, name=d.name, uscc=d.uscc, level=d.level, district=d.district_id)
        for d in Department.objects.filter(active=True).order_by("code")
    ]


@router.get("/categories", response=list[CategorySummaryOut], auth=None, summary="信息类别列表")
def list_categories(request, catalogue_class: SmallInt | None = None, complete: bool | None = None):
    """All information categories in catalogue order; filter by 基础目录大类 (`catalogue_class`)
    or by whether their fields are complete (`complete`)."""
    qs = Category.objects.select_related("parent").annotate(n=Count("fields"))
    if catalogue_class is not None:
        qs = qs.filter(catalogue_class=catalogue_class)
    if complete is not None:
        qs = qs.filter(fields_complete=complete)
    return [_summary(c, c.n) for c in qs.order_by("catalogue_class", "sort_order", "code")]


@router.get(
    "/categories/{code}",
    response={200: CategoryOut, 404: ErrorOut},
    auth=None,
    summary="信息类别详情(数据项和代码表)",
)
def get_category(request, code: str):
    fields = Field.objects.select_related("codelist").order_by("sort_order", "id")
    category = (
        Category.objects.select_related("parent")
        .prefetch_related(Prefetch("fields", queryset=fields))
        .filter(code=code)
        .first()
    )
    if category is None:
        return _not_found(_("信息类别 %(code)s 不存在") % {"code": code})
    field_list = list(category.fields.all())
    used = sorted({f.codelist.code for f in field_list if f.codelist})
    codelists = CodeList.objects.filter(code__in=used).prefetch_related(_ITEMS).order_by("code")
    return Status(
        200,
        {
            **_summary(category, len(field_list)),
            "business_key": category.business_key,
            "legacy_prefix": category.legacy_prefix,
            "standard": category.standard,
            "fields": [_field_out(f) for f in field_list],
            "codelists": [_codelist_out(c) for c in codelists],
        },
    )


@router.get("/codelists", response=list[CodeListOut], auth=None, summary="代码表列表")
def list_codelists(request):
    return [_codelist_out(c) for c in CodeList.objects.prefetch_related(_ITEMS).order_by("code")]


@router.get(
    "/codelists/{code}",
    response={200: CodeListOut, 404: ErrorOut},
    auth=None,
    summary="代码表详情",
)
def get_codelist(request, code: str):
    codelist = CodeList.objects.prefetch_related(_ITEMS).filter(code=code).first()
    if codelist is None:
        return _not_found(_("代码表 %(code)s 不存在") % {"code": code})
    return Status(200, _codelist_out(codelist))
