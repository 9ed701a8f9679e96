"""How a drill-down's rows are shown and downloaded: the columns of each kind of row
(submissions, record versions, duties, credit checks, procedure steps), each cell with the
console page it opens, persons' names masked (`subjects.masking`), and the CSV every text cell of
which goes through `core.spreadsheets.formula_safe`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.accounts.permissions import Principal
from pubcredit.bulletins import drilldown as dd
from pubcredit.catalog.models import ReportingDuty
from pubcredit.core.spreadsheets import formula_safe
from pubcredit.records.models import document_number
from pubcredit.repair.models import ProcedureStatus, StepAction
from pubcredit.subjects.masking import public_name
from pubcredit.subjects.names import mask_person_name


@dataclass(frozen=True)
class Cell:
    text: str | int
    url: str = ""
    num: bool = False


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _day(value) -> str:
    return value.isoformat() if value else ""


def header(kind: str) -> list[Cell]:
    """The column titles of `kind`'s rows (`num` marks the numeric columns)."""
    titles = {
        dd.SUBMISSIONS: [
            (_("批次编号"), True),
            (_("接收时间"), False),
            (_("信息类别"), False),
            (_("文件名"), False),
            (_("状态"), False),
            (_("数据行数"), True),
            (_("校验通过"), True),
            (_("拒收"), True),
            (_("文件内重复行"), True),
            (_("拒收行"), False),
        ],
        dd.VERSIONS: [
            (_("记录编号"), True),
            (_("版本"), True),
            (_("信息类别"), False),
            (_("文书号"), False),
            (_("主体名称"), False),
            (_("决定日期"), False),
            (_("接收时间"), False),
            (_("状态"), False),
            (_("报送批次"), True),
            (_("文件行号"), True),
            (_("已填选填项"), True),
        ],
        dd.DUTIES: [
            (_("月份"), False),
            (_("信息类别"), False),
            (_("报送频次"), False),
            (_("报送期限"), False),
            (_("报送情况"), False),
        ],
        dd.CHECKS: [
            (_("核查时间"), False),
            (_("核查事项"), False),
            (_("查询方式"), False),
            (_("核查对象"), False),
            (_("核查结论"), False),
            (_("惩戒措施数"), True),
            (_("激励措施数"), True),
            (_("已反馈"), False),
        ],
        dd.STEPS: [
            (_("办理日期"), False),
            (_("事项"), False),
            (_("操作"), False),
            (_("新状态"), False),
            (_("环节期限"), False),
            (_("是否超期"), False),
            (_("办理人"), False),
        ],
    }[kind]
    return [Cell(title, num=num) for title, num in titles]


def _submission(row, principal: Principal) -> list[Cell]:
    detail = reverse("console:intake:submission_detail", args=[row.pk])
    errors = f"{detail}?severity=error#errors" if row.rejected else ""
    return [
        Cell(f"#{row.pk}", detail, True),
        Cell(_when(row.received_at)),
        Cell(row.category.name),
        Cell(row.filename, detail),
        Cell(str(row.get_status_display())),
        Cell(row.rows, num=True),
        Cell(row.accepted, num=True),
        Cell(row.rejected, num=True),
        Cell(row.duplicates, num=True),
        Cell(_("查看拒收行") if errors else "", errors),
    ]


_VERSION_STATE = {
    dd.CURRENT: lambda: _("当前版本"),
    dd.SUPERSEDED: lambda: _("已被更正替代"),
    dd.WITHDRAWN: lambda: _("已撤回"),
}


def _version(row: dict, principal: Principal) -> list[Cell]:
    submission = row["row_submission"]
    state = str(_VERSION_STATE[row["row_kind"]]())
    if row["row_kind"] != dd.CURRENT and row["row_changed"]:
        state = f"{state}({_when(row['row_changed'])})"
    return [
        Cell(row["row_record"], num=True),
        Cell(row["row_version"], num=True),
        Cell(row["row_category"]),
        Cell(document_number(row["row_key"])),
        Cell(public_name(row["row_subject"], row["row_subject_kind"])),
        Cell((row["row_decision"] or "")[:10]),
        Cell(_when(row["row_received"])),
        Cell(state),
        Cell(
            f"#{submission}" if submission else "",
            reverse("console:intake:submission_detail", args=[submission]) if submission else "",
            True,
        ),
        Cell(row["row_source_row"], num=True),
        Cell(row["row_filled"], num=True),
    ]


def _deadline(duty: ReportingDuty) -> str:
    if duty.rhythm == ReportingDuty.Rhythm.WITHIN:
        return _("决定后%(n)d个工作日内") % {"n": duty.workdays}
    return _("次月第%(n)d个工作日前") % {"n": duty.monthday}


def _duty(row: dict, principal: Principal) -> list[Cell]:
    duty = row["duty"]
    return [
        Cell(f"{row['month']:%Y-%m}"),
        Cell(f"{row['category'].code} {row['category'].name}"),
        Cell(str(duty.get_rhythm_display())),
        Cell(_deadline(duty)),
        Cell(_("已报送") if row["reported"] else _("零报送")),
    ]


def _check(row, principal: Principal) -> list[Cell]:
    if row.subject_id and row.subject is not None:
        target = public_name(row.subject.name, row.subject.kind)
    elif row.query_kind == "name":
        target = mask_person_name(row.query_value)  # may name a person: never shown whole
    else:
        target = row.query_value  # a code, or an ID number kept masked
    url = reverse("console:checks:result", args=[row.pk]) if principal.can("checks.run") else ""
    return [
        Cell(_when(row.checked_at), url),
        Cell(row.matter.name if row.matter_id else ""),
        Cell(str(row.get_query_kind_display())),
        Cell(target),
        Cell(str(row.get_outcome_display())),
        Cell(row.punishment_count, num=True),
        Cell(row.reward_count, num=True),
        Cell(_("是") if getattr(row, "has_feedback", False) else _("否")),
    ]


def _step(row, principal: Principal) -> list[Cell]:
    if row.application_id:
        subject = _("信用修复申请 #%(n)d") % {"n": row.application_id}
        url = reverse("console:repair:application", args=[row.application_id])
    else:
        subject = _("异议申请 #%(n)d") % {"n": row.objection_id}
        url = reverse("console:repair:objection", args=[row.objection_id])
    return [
        Cell(_day(row.day)),
        Cell(subject, url),
        Cell(str(StepAction(row.action).label) if row.action in StepAction.values else row.action),
        Cell(
            str(ProcedureStatus(row.to_status).label)
            if row.to_status in ProcedureStatus.values
            else row.to_status
        ),
        Cell(_day(row.stage_due_on)),
        Cell(_("超期") if row.late else _("按期")),
        Cell(row.actor_label),
    ]


_CELLS = {
    dd.SUBMISSIONS: _submission,
    dd.VERSIONS: _version,
    dd.DUTIES: _duty,
    dd.CHECKS: _check,
    dd.STEPS: _step,
}


def cells(kind: str, rows: Iterable, principal: Principal) -> list[list[Cell]]:
    """The cells of `rows` (one page of them) as `principal` may follow their links."""
    make = _CELLS[kind]
    return [make(row, principal) for row in rows]


def csv_lines(kind: str, rows: Iterable, principal: Principal) -> Iterator[str]:
    """The CSV (UTF-8 with BOM, for Excel), line by line: the header, then every row, text cells
    formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow([formula_safe(str(c.text)) for c in header(kind)])
    yield "\ufeff" + flush()
    make = _CELLS[kind]
    for row in rows:  # written out as it streams: the file is as long as the figure
        writer.writerow([formula_safe(c.text) for c in make(row, principal)])
        yield flush()
