"""分级分类监管 lists: per department, the evaluated subjects in its field with their grade and the
inspection ratio of that grade, and per grade how many subjects 双随机 sampling inspects.

A department's field (监管领域) under a scorecard S (`SupervisionField`, shipped in
`data/supervision.json`, editable in the admin):
- every organisation and 个体工商户 evaluated under S, when S is one of the department's
  `scorecards` (市场监管 → 公共信用综合评价: every market subject; 商务 → 家政服务; 住建 → 建筑市场);
- otherwise, when `by_reports` (the default, also for a department without a row): the subjects
  evaluated under S for which the department reported an active record or identified a
  published list entry.
Natural persons are never in a supervision list (only kinds org and ind are selected).

The inspection ratio of a grade is the `InspectionRatio` in force on the day (the latest
effective date whose window holds the day). The number to inspect of a grade is
ceil(count × ratio / 100); a grade without a ratio has none (None).

Who sees which list (action "scoring.supervision", docs/roles.md): 平台管理员 and 信用中心 any
department; a 部门报送员 its own department only (another one: `OutOfScope`, a 404); a 区县管理员
any department's list limited to the subjects of its district (another district: `OutOfScope`).

Everything is set-based: the list is one query over the current results (partial index
scoreresult_current_grade) with semi-joins on the department's records and entries; the summary
one grouped query; the download streams the rows into a polars frame (`frames.read_frame`).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass
from decimal import Decimal

import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.catalog.models import Department, Region, SubjectKind
from pubcredit.core.spreadsheets import formula_safe, formula_safe_frame
from pubcredit.lists.models import EntryStatus, ListEntry
from pubcredit.records.models import Record, RecordStatus
from pubcredit.scoring.definition import parse_definition
from pubcredit.scoring.frames import read_frame
from pubcredit.scoring.models import InspectionRatio, Scorecard, ScoreResult, SupervisionField
from pubcredit.scoring.services import general_scorecard, scorecards_in_force
from pubcredit.subjects.models import Subject
from pubcredit.subjects.names import mask_person_name

ACTION = "scoring.supervision"
# Only market subjects are supervised by grade; persons are never listed.
KINDS = (SubjectKind.ORG.value, SubjectKind.INDIVIDUAL_BUSINESS.value)
PAGE_MAX = 1000
# The download is written in the request, about 8 s per 100,000 rows on two shared cores
# (PostgreSQL, 1M subjects): beyond this many rows it holds the first ones and says so (filter
# by district or grade, or page through the API, for the rest). An xlsx sheet could hold
# 1,048,575.
XLSX_MAX_ROWS = 200_000


class OutOfScope(LookupError):
    """The department or district asked for is not one the principal may see (or does not
    exist): answered as "not found"."""


@dataclass(frozen=True)
class Field:
    department: Department
    scorecards: tuple[str, ...]
    by_reports: bool


@dataclass(frozen=True)
class Selection:
    """What one supervision list shows: a department's field under a scorecard (None when no
    scorecard applies yet), optionally one district and some grades, as of a day."""

    department: Department
    field: Field
    scorecard: Scorecard | None
    district: str | None
    grades: tuple[str, ...]
    day: dt.date


# --------------------------------------------------------------------------- the field


def field_of(department: Department) -> Field:
    row = SupervisionField.objects.filter(department=department).first()
    if row is None:
        return Field(department, (), True)
    return Field(department, tuple(row.scorecards or ()), row.by_reports)


def scorecard_choices(field: Field) -> list[Scorecard]:
    """The scorecards a department's list may be drawn under: its own first (in its order),
    then every other active scorecard of organisations (general first)."""
    cards = [
        c
        for c in Scorecard.objects.filter(active=True).order_by("sort_order", "code")
        if set(c.subject_kinds or []) & set(KINDS)
    ]
    own = [c for code in field.scorecards for c in cards if c.code == code]
    return own + [c for c in cards if c not in own]


def default_scorecard(field: Field) -> Scorecard | None:
    for code in field.scorecards:
        card = Scorecard.objects.filter(code=code, active=True).first()
        if card is not None:
            return card
    return general_scorecard(SubjectKind.ORG.value)


def select(
    principal: Principal,
    department: str | Department,
    *,
    scorecard: str | None = None,
    district: str | None = None,
    grades=None,
    day: dt.date | None = None,
) -> Selection:
    """The list `principal` may see for `department` (a code or a Department). Raises
    PermissionDenied without the action, OutOfScope for a department or district outside the
    principal's scope (or unknown), ValidationError for an unknown scorecard."""
    principal.require(ACTION)
    if not isinstance(department, Department):
        department = Department.objects.filter(code=str(department or "")).first()
        if department is None:
            raise OutOfScope(department)
    if principal.is_department_scoped and department.pk != principal.department_id:
        raise OutOfScope(department.code)
    district = (district or "").strip() or None
    if principal.is_district_scoped:
        if district not in (None, principal.district_id):
            raise OutOfScope(district)
        district = principal.district_id
        if district is None:
            raise PermissionDenied(_("账号未设置所属区县。"))
    field = field_of(department)
    if scorecard:
        card = next((c for c in scorecard_choices(field) if c.code == scorecard), None)
        if card is None:
            raise ValidationError(_("没有编码为 %(c)s 的企业信用评价。") % {"c": scorecard})
    else:
        card = default_scorecard(field)
    wanted = tuple(dict.fromkeys(str(g).strip() for g in (grades or ()) if str(g).strip()))
    return Selection(department, field, card, district, wanted, day or timezone.localdate())


def results(selection: Selection, *, with_grades: bool = True):
    """The current results of the subjects in the selection (a queryset of ScoreResult). With
    `with_grades` False the grade filter is not applied (the summary covers every grade)."""
    card = selection.scorecard
    if card is None:
        return ScoreResult.objects.none()
    rows = ScoreResult.objects.filter(scorecard=card, current=True, subject__kind__in=KINDS)
    if card.code not in selection.field.scorecards:
        if not selection.field.by_reports:
            return rows.none()
        department = selection.department
        reported = Record.objects.filter(
            department=department, status=RecordStatus.ACTIVE, subject__isnull=False
        ).values("subject_id")
        identified = ListEntry.objects.filter(
            identified_by=department, status=EntryStatus.PUBLISHED
        ).values("subject_id")
        rows = rows.filter(Q(subject_id__in=reported) | Q(subject_id__in=identified))
    if selection.district:
        rows = rows.filter(subject__region=selection.district)
    if with_grades and selection.grades:
        rows = rows.filter(grade__in=selection.grades)
    return rows


# --------------------------------------------------------------------------- ratios, summary


def ratios_in_force(scorecard: Scorecard | None, day: dt.date | None = None) -> dict[str, Decimal]:
    """Grade → inspection ratio (percent) of `scorecard` in force on `day`."""
    if scorecard is None:
        return {}
    day = day or timezone.localdate()
    rows = (
        InspectionRatio.objects.filter(scorecard=scorecard, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("grade", "-effective_from")
        .values_list("grade", "ratio")
    )
    out: dict[str, Decimal] = {}
    for grade, ratio in rows:  # a few rows per scorecard
        out.setdefault(grade, ratio)
    return out


def bands(scorecard: Scorecard | None, day: dt.date) -> list[tuple[str, str]]:
    """(grade, name) of the scorecard's version in force, best first."""
    if scorecard is None:
        return []
    versions = scorecards_in_force(scorecard, day=day)
    if not versions:
        version = scorecard.versions.order_by("-version").first()
        if version is None:
            return []
    else:
        version = versions[0]
    defn = parse_definition(version.definition, base_points=version.base_points)
    return [(b.grade, b.name) for b in defn.bands]


def to_inspect(count: int, ratio: Decimal | None) -> int | None:
    if ratio is None:
        return None
    return math.ceil(Decimal(count) * Decimal(ratio) / 100)


def summary(selection: Selection) -> dict:
    """Per grade (best first, every grade of the scorecard even when none holds it): {"grade",
    "name", "count", "ratio" (percent, None when not set), "inspect"}, and the totals. Counts
    the selection's subjects of every grade (its grade filter narrows the rows only). One
    grouped query."""
    counts = dict(
        results(selection, with_grades=False)
        .order_by()
        .values_list("grade")
        .annotate(n=Count("id"))
        .values_list("grade", "n")
    )
    ratios = ratios_in_force(selection.scorecard, selection.day)
    order = bands(selection.scorecard, selection.day)
    order += [(g, "") for g in sorted(set(counts) - {g for g, _n in order})]
    grades = []
    for grade, name in order:
        n = int(counts.get(grade, 0))
        ratio = ratios.get(grade)
        grades.append(
            {
                "grade": grade,
                "name": name,
                "count": n,
                "ratio": ratio,
                "inspect": to_inspect(n, ratio),
            }
        )
    return {
        "grades": grades,
        "count": sum(g["count"] for g in grades),
        "inspect": sum(g["inspect"] or 0 for g in grades),
    }


# --------------------------------------------------------------------------- rows

COLUMNS = (
    "subject_id",
    "subject__uscc",
    "subject__name",
    "subject__kind",
    "subject__region",
    "grade",
    "score",
    "as_of",
)


def _region_names(codes) -> dict[str, str]:
    codes = {c for c in codes if c}
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name"))


def page(selection: Selection, *, after: int | None = None, limit: int = 50) -> dict:
    """One page of the list in subject id order, after the subject id `after` (a cursor):
    {"items": [{"subject_id", "uscc", "name", "kind", "region", "region_name", "grade",
    "score", "as_of", "ratio"}], "next": the cursor of the next page or None}."""
    limit = max(1, min(int(limit), PAGE_MAX))
    rows = results(selection)
    if after:
        rows = rows.filter(subject_id__gt=after)
        # The same bound on the joined register, so that PostgreSQL's merge join starts both
        # index scans at the cursor (without it a page deep in a million rows reads the register
        # from its start: 0.8 s instead of a millisecond). Django would trim `subject__id` to
        # the results' own column, hence the table's name.
        rows = rows.extra(where=[f"{Subject._meta.db_table}.id > %s"], params=[int(after)])
    found = list(rows.order_by("subject_id").values_list(*COLUMNS)[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return {
        "items": items(selection, found),
        "next": found[-1][0] if more else None,
    }


def items(selection: Selection, found: list[tuple]) -> list[dict]:
    """Rows of COLUMNS as the list shows them (a page: a few hundred at most)."""
    ratios = ratios_in_force(selection.scorecard, selection.day)
    card_name = selection.scorecard.name if selection.scorecard else ""
    names = _region_names(r[4] for r in found)
    kinds = dict(SubjectKind.choices)
    out = []
    for subject_id, uscc, name, kind, region, grade, score, as_of in found:
        if kind == SubjectKind.PERSON:  # never selected (KINDS); masked should it ever be
            name = mask_person_name(name)
        out.append(
            {
                "subject_id": subject_id,
                "uscc": uscc or "",
                "name": name,
                "kind": kind,
                "kind_label": str(kinds.get(kind, kind)),
                "region": region or "",
                "region_name": names.get(region, region or ""),
                "grade": grade,
                "score": score,
                "as_of": as_of,
                "ratio": ratios.get(grade),
                "scorecard_name": card_name,
            }
        )
    return out


# --------------------------------------------------------------------------- download


def frame(selection: Selection, *, limit: int | None = None) -> pl.DataFrame:
    """The rows of the selection (the first `limit`) as a frame in subject id order, streamed
    (COPY on PostgreSQL)."""
    query = results(selection).order_by("subject_id").values_list(*COLUMNS)
    if limit is not None:
        query = query[:limit]
    if selection.scorecard is None:
        sql, params = None, ()
    else:
        sql, params = query.query.sql_with_params()
    schema = {
        "subject_id": pl.Int64,
        "uscc": pl.String,
        "name": pl.String,
        "kind": pl.String,
        "region": pl.String,
        "grade": pl.String,
        "score": pl.Float64,
        "as_of": pl.Date,
    }
    if sql is None:
        return pl.DataFrame(schema=schema)
    with connection.cursor() as cursor:
        return read_frame(cursor, sql, params, schema)


def workbook(selection: Selection) -> bytes:
    """The list as an xlsx: a sheet of every subject (统一社会信用代码, 名称, 主体类别, 所在区县,
    信用等级, 分值, 评价基准日, 抽查比例(%); the first XLSX_MAX_ROWS, the summary sheet says
    when there are more) and a sheet of the summary per grade. Every text cell passes
    formula_safe."""
    import xlsxwriter

    rows = frame(selection, limit=XLSX_MAX_ROWS)
    ratios = {g: float(r) for g, r in ratios_in_force(selection.scorecard, selection.day).items()}
    regions = _region_names(rows["region"].unique().to_list()) if rows.height else {}
    kinds = {k: str(label) for k, label in SubjectKind.choices}
    headers = {
        "uscc": _("统一社会信用代码"),
        "name": _("名称"),
        "kind": _("主体类别"),
        "region": _("所在区县"),
        "grade": _("信用等级"),
        "score": _("分值"),
        "as_of": _("评价基准日"),
        "ratio": _("抽查比例(%)"),
    }
    subjects = rows.select(
        pl.col("uscc").fill_null(""),
        pl.col("name"),
        pl.col("kind").replace_strict(kinds, default=pl.col("kind")),
        pl.col("region").fill_null("").replace_strict(regions, default=pl.col("region")),
        pl.col("grade"),
        pl.col("score"),
        pl.col("as_of"),
        pl.col("grade")
        .replace_strict(ratios, default=None, return_dtype=pl.Float64)
        .alias("ratio"),
    )
    subjects = formula_safe_frame(subjects)
    total = summary(selection)
    listed = listed_count(selection, total)
    cut = listed > rows.height
    # constant_memory: rows go to a temporary file as written (bounded memory, about twice as
    # fast as polars' write_excel, which formats cell by cell).
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True})
    sheet = book.add_worksheet(str(_("监管对象")))
    day_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, [str(v) for v in headers.values()])
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 36)
    sheet.set_column(6, 6, 12)
    for i, row in enumerate(subjects.iter_rows(), start=1):
        sheet.write_row(i, 0, row[:6])
        sheet.write_datetime(i, 6, row[6], day_format)
        if row[7] is not None:
            sheet.write_number(i, 7, row[7])
    sheet = book.add_worksheet(str(_("分级汇总")))
    head = [_("信用等级"), _("等级名称"), _("主体数"), _("抽查比例(%)"), _("应抽查数")]
    sheet.write_row(0, 0, [str(h) for h in head])
    for i, g in enumerate(total["grades"], start=1):
        ratio = float(g["ratio"]) if g["ratio"] is not None else None
        sheet.write_row(
            i,
            0,
            [formula_safe(g["grade"]), formula_safe(g["name"]), g["count"], ratio, g["inspect"]],
        )
    last = len(total["grades"]) + 1
    sheet.write_row(last, 0, [str(_("合计")), "", total["count"], None, total["inspect"]])
    info = last + 2
    card = selection.scorecard
    sheet.write_row(info, 0, [str(_("部门")), formula_safe(selection.department.name)])
    sheet.write_row(info + 1, 0, [str(_("信用评价")), formula_safe(card.name if card else "")])
    sheet.write_row(info + 2, 0, [str(_("统计日期")), selection.day.isoformat()])
    if cut:
        note = _(
            "名单共 %(n)s 个主体,超过一次下载的上限,“监管对象”表只含前 %(max)s 个;"
            "完整名单请按区县或信用等级分别下载,或通过接口分页获取。"
        ) % {"n": f"{listed:,}", "max": f"{rows.height:,}"}
        sheet.write_row(info + 3, 0, [str(_("说明")), note])
    book.close()
    return buffer.getvalue()


def listed_count(selection: Selection, figures: dict) -> int:
    """How many subjects the selection lists (its grade filter applied), from its summary."""
    return sum(
        g["count"]
        for g in figures["grades"]
        if not selection.grades or g["grade"] in selection.grades
    )


def filename(selection: Selection) -> str:
    code = selection.scorecard.code if selection.scorecard else "NONE"
    return f"supervision-{selection.department.code}-{code}-{selection.day.isoformat()}.xlsx"
