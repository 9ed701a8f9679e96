"""Catalogue API: departments, categories with their fields, code lists."""

from ninja import Router, Schema

from pubcredit.catalog.models import Department

router = Router(tags=["信息目录"])


class DepartmentOut(Schema):
    code: str
    name: str
    uscc: str
    level: str
    district: str | None


@router.get("/departments", response=list[DepartmentOut], auth=None, summary="部门列表")
def list_departments(request):
    return [
        DepartmentOut(code=d.code, name=d.name, uscc=d.uscc, level=d.level, district=d.district_id)
        for d in Department.objects.filter(active=True).order_by("code")
    ]
