"""A report's content as one JSON-ready dict: what the API returns and what the PDF draws.

    {
      "title": "法人和非法人组织公共信用信息报告" | "自然人公共信用信息报告" | …(无违法违规记录证明版),
      "kind": "standard" | "no_violation",
      "subject": {"kind", "kind_label", "name", "identifier", …}   (a person's masked),
      "data_as_of": ISO datetime (信息截止时间),
      "notes": [paragraphs of 报告说明],
      "sections": [{"key", "title", "columns": [...], "rows": [[...], ...], "empty": "暂无",
                    "text": optional paragraph, "widths": relative column widths}, ...],
    }

`services.issue` adds the head ("number", "issued_at", "issuer", "valid_until", "verify_url").
`sections` is what `content_digest` covers: the subject's public credit information, so the
verification page can say whether it changed since issue (the head's times never count).

The standard report (公共信用信息报告标准 2022年版), sections in this order:
登记基础信息, 行政许可, 行政处罚, 严重失信主体名单, 重点关注名单, 守信激励, 信用承诺, 信用评价, 其他.

What it holds is exactly what the portal shows of the subject today, selected the same way:
- records (行政许可, 行政处罚, honours, 其他): `publicity.services.public_records`, the
  publicity read model's "public today" (repaired, withdrawn, expired, not published, ended
  or not yet started are out), rendered by `publicity.public.public_record_joined` (catalogue
  fields marked 不公开 never shown, 脱敏公开 masked, persons' names masked, 身份证号 scrubbed);
  one query for every record section;
- list entries (严重失信主体名单, 重点关注名单, 守信激励): entries in force today
  (`lists.services.active_entries_q`), one query for the three sections; the carrier
  categories' records (SXJL, YZSX, SXBZXR, JYYC, XZGXF) are shown as these entries only;
- 信用承诺: the public commitment register (`commitments.queries.public_commitments`), breached
  and expired ones included with their fulfilment (履行状态);
- 信用评价: the current grades under public scorecards (`scoring.services.current_grades(…,
  public_only=True)`). A natural person's report adds the person's own 个人信用积分 (never
  public): such a report is issued only by staff with `subjects.view_person`, to the person
  or for a purpose the person allowed, and `services.issue` logs the look
  (subjects.access) before anything is drawn. Grades other authorities gave (纳税信用等级,
  社会组织评估等级; `scoring.grades.given_grades`) are records of their categories: they appear
  under 其他 when their category is public (社会组织评估等级) and the record is public today;
  纳税信用等级 is a 共享 category, not public, and is left out of a report anyone may download.
- 其他: the public records of every other category (建筑市场信用信息, 社会组织评估等级, …).

Deterministic: rows are sorted (newest first, then by id), nothing in a section depends on the
clock but the day the publicity rules are applied for (`as_of`'s date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from pubcredit.catalog.models import SubjectKind
from pubcredit.commitments.queries import public_commitments
from pubcredit.core.letters import centre_name
from pubcredit.lists import services as list_services
from pubcredit.lists.models import ListEntry, ListKind
from pubcredit.publicity import services as publicity_services
from pubcredit.publicity.models import PublicityState
from pubcredit.publicity.public import (
    PublicSubject,
    category_fields,
    public_record_joined,
    public_subject,
)
from pubcredit.reports import noviolation
from pubcredit.reports.models import ReportKind
from pubcredit.scoring import services as scoring
from pubcredit.subjects.masking import redact_id_numbers
from pubcredit.subjects.models import Subject

# Catalogue class of 诚实守信相关荣誉信息: its categories' records are honours (守信激励).
HONOURS_CLASS = 10
# Categories with a section of their own (the rest of the public records go to 其他).
LICENCES, PENALTIES, COMMITMENTS = "XK", "CF", "CN"
# Portal path of 信用修复与异议 (served by the portal; named here, not imported: reports sit
# below the portal).
OBJECTION_PATH = "/repair/"


def title_of(kind: str, subject_kind: str) -> str:
    if subject_kind == SubjectKind.PERSON:
        return _("自然人公共信用信息报告")
    if kind == ReportKind.NO_VIOLATION:
        return _("法人和非法人组织公共信用信息报告(无违法违规记录证明版)")
    return _("法人和非法人组织公共信用信息报告")


def section(key: str, title: str, columns: list[str], rows: list[list[str]], **extra) -> dict:
    """One section: every cell a plain string; `widths` (relative) a hint for the PDF. A date
    column gets at least 11% of the width: "2026-08-29" then fits on one line at the PDF's
    cell size."""
    out = {
        "key": key,
        "title": title,
        "columns": [str(c) for c in columns],
        "rows": [[_cell(v) for v in row] for row in rows],
        "empty": _("暂无"),
    }
    out.update({k: v for k, v in extra.items() if v})
    return out


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return redact_id_numbers(str(value))


def _iso(day) -> str:
    return day.isoformat() if day else ""


# --------------------------------------------------------------------------- 登记基础信息


def basic_section(subject: Subject, shown: PublicSubject) -> dict:
    if subject.is_person:
        rows = [
            [_("姓名"), shown.name],
            [_("证件类型"), shown.id_type],
            [_("证件号码"), shown.id_masked],
            [_("所属地区"), shown.region_name or shown.region],
        ]
    else:
        formers = list(
            subject.former_names.order_by("-used_until", "name").values_list("name", flat=True)
        )
        rows = [
            [_("名称"), shown.name],
            [_("统一社会信用代码"), shown.uscc],
            [_("主体类别"), shown.kind_label],
            [_("法定代表人/负责人/经营者"), shown.legal_representative],
            [_("成立日期"), shown.established_on],
            [_("所属地区"), shown.region_name or shown.region],
            [_("曾用名"), "、".join(formers)],
        ]
    rows = [[k, v or "—"] for k, v in rows]
    return section("basic", _("登记基础信息"), [_("项目"), _("内容")], rows, widths=[1, 3])


# --------------------------------------------------------------------------- records


class _Rendered:
    """A public record with its values by role (masked, scrubbed: publicity.public)."""

    def __init__(self, record):
        self.record = record
        self.public = public_record_joined(record)
        _category, fields = category_fields(record.category_id)
        by_code = {f.code: f.value for f in self.public.fields}
        self.labels = {f.role: f.name for f in fields if f.role}
        self.roles = {f.role: by_code.get(f.code, "") for f in fields if f.role}

    def get(self, *roles: str) -> str:
        return next((self.roles[r] for r in roles if self.roles.get(r)), "")

    @property
    def category_name(self) -> str:
        return self.public.category_name

    @property
    def department(self) -> str:
        return self.get("authority_name") or self.public.department

    @property
    def flag(self) -> str:
        if self.public.publicity_state == PublicityState.OBJECTION:
            return str(PublicityState.OBJECTION.label)
        return ""


def _public_records(subject: Subject, day: dt.date) -> list[_Rendered]:
    """Every record of the subject public on `day` (the portal's selection), in one query,
    newest publicity first: the caller sorts each section again."""
    rows = publicity_services.public_records(subject.pk, today=day)
    return [_Rendered(r) for r in rows]


def _by_date(items, date_of):
    """Newest first, then the higher id first: a total order (stable digests)."""
    return sorted(items, key=lambda x: (date_of(x) or "", x.public.id), reverse=True)


def licences_section(items: list[_Rendered]) -> dict:
    rows = [
        [
            r.get("document_number"),
            r.get("licence_certificate", "document_title"),
            r.get("licence_number"),
            r.get("content"),
            r.public.decision_date,
            r.get("valid_to") or _("长期"),
            r.department,
        ]
        for r in _by_date(items, lambda r: r.public.decision_date)
    ]
    columns = [
        _("行政许可决定文书号"),
        _("许可证书名称"),
        _("许可编号"),
        _("许可内容"),
        _("许可决定日期"),
        _("有效期至"),
        _("许可机关"),
    ]
    return section("licences", _("行政许可"), columns, rows, widths=[3, 2.5, 2.5, 4, 2.4, 2.4, 3])


def penalties_section(items: list[_Rendered]) -> dict:
    rows = [
        [
            r.get("document_number"),
            r.get("violation_type"),
            r.get("penalty_types"),
            r.get("content"),
            r.public.decision_date,
            r.department,
            r.public.publicity_end or _("长期"),
            r.flag,
        ]
        for r in _by_date(items, lambda r: r.public.decision_date)
    ]
    columns = [
        _("行政处罚决定书文号"),
        _("违法行为类型"),
        _("处罚类别"),
        _("处罚内容"),
        _("处罚决定日期"),
        _("处罚机关"),
        _("公示截止日期"),
        _("备注"),
    ]
    return section(
        "penalties", _("行政处罚"), columns, rows, widths=[3, 2.8, 1.6, 3.8, 2.4, 2.8, 2.4, 2.2]
    )


# The roles that say what a record of another category is about, in order.
_DETAIL_ROLES = ("credit_grade", "record_type", "severity", "content", "reason")


def _detail(r: _Rendered) -> str:
    parts = [f"{r.labels[role]}:{r.roles[role]}" for role in _DETAIL_ROLES if r.roles.get(role)]
    return ";".join(parts)


def others_section(items: list[_Rendered]) -> dict:
    rows = [
        [
            r.category_name,
            r.get("document_number", "record_number"),
            _detail(r),
            r.public.decision_date,
            r.department,
            r.get("valid_to") or r.public.publicity_end or _("长期"),
        ]
        for r in sorted(
            items,
            key=lambda r: (r.category_name, r.public.decision_date or "", r.public.id),
            reverse=True,
        )
    ]
    rows.sort(key=lambda row: row[0])  # by category, each newest first (sort is stable)
    columns = [
        _("信息类别"),
        _("文书号/编号"),
        _("主要内容"),
        _("决定/认定日期"),
        _("认定部门"),
        _("有效期至"),
    ]
    return section("others", _("其他"), columns, rows, widths=[3, 3, 4.6, 2.2, 3, 2.2])


# --------------------------------------------------------------------------- list entries


def _entries(subject: Subject, day: dt.date) -> list[ListEntry]:
    """The subject's entries in force on `day` of every list kind, one query."""
    return list(
        ListEntry.objects.filter(list_services.active_entries_q(day), subject_id=subject.pk)
        .select_related("list_type", "identified_by")
        .order_by("-decided_on", "-id")
    )


def _entry_authority(entry: ListEntry) -> str:
    if entry.identified_by_id:
        return entry.identified_by.name
    return entry.list_type.authority_label


def _list_columns() -> list[str]:
    return [
        _("名单名称"),
        _("认定文书号"),
        _("认定部门"),
        _("认定日期"),
        _("有效期至"),
        _("认定依据"),
    ]


def _entry_row(entry: ListEntry) -> list[str]:
    return [
        entry.list_type.name,
        entry.document_number,
        _entry_authority(entry),
        _iso(entry.decided_on),
        _iso(entry.valid_to) or _("长期"),
        entry.basis,
    ]


def list_section(key: str, title: str, entries: list[ListEntry]) -> dict:
    rows = [_entry_row(e) for e in entries]
    return section(key, title, _list_columns(), rows, widths=[3, 3, 3, 2, 2, 4])


def incentives_section(entries: list[ListEntry], honours: list[_Rendered]) -> dict:
    """守信激励: red-list entries in force, then honours (诚实守信相关荣誉) public today."""
    rows = [_entry_row(e) for e in entries]
    rows += [
        [
            r.category_name,
            r.get("document_number", "record_number"),
            r.department,
            r.public.decision_date,
            r.get("valid_to") or r.public.publicity_end or _("长期"),
            _detail(r),
        ]
        for r in _by_date(honours, lambda r: r.public.decision_date)
    ]
    columns = _list_columns()
    columns[0] = _("名单/荣誉名称")
    return section("incentives", _("守信激励"), columns, rows, widths=[3, 3, 3, 2, 2, 4])


# --------------------------------------------------------------------------- commitments


def commitments_section(subject: Subject, day: dt.date) -> dict:
    rows = [
        [
            c.code,
            c.get_commitment_type_display(),
            c.reason,
            _iso(c.made_on),
            _iso(c.valid_to) or _("长期"),
            c.department.name,
            c.get_performance_display(),
            _iso(c.assessed_on),
            c.unfulfilled_content,
        ]
        for c in public_commitments(subject.pk, day)  # newest first, then by id
    ]
    columns = [
        _("承诺编码"),
        _("承诺类型"),
        _("承诺事由"),
        _("承诺作出日期"),
        _("承诺有效期至"),
        _("承诺受理单位"),
        _("履行状态"),
        _("履行状态认定日期"),
        _("未履行的承诺内容"),
    ]
    return section(
        "commitments",
        _("信用承诺及履行情况"),
        columns,
        rows,
        widths=[3.2, 2, 3.3, 2.7, 2.7, 3, 2, 2.7, 2.4],
    )


# --------------------------------------------------------------------------- grades


def _band_name(bands: dict, grade) -> str:
    for band in bands.get(grade.scorecard, []):
        if band["grade"] == grade.grade:
            return band["name"] or ""
    return ""


def grades_section(subject: Subject) -> dict:
    """The public grades (公共信用综合评价 and public sector ones); for a person, the person's
    own 个人信用积分 (see the module notes: issued by staff only, the look logged)."""
    if subject.is_person:
        grade = scoring.current_grade(subject)
        grades = [grade] if grade else []
    else:
        grades = scoring.current_grades(subject, public_only=True)
    bands = scoring.grade_bands(grades)
    rows = []
    for g in grades:
        meaning = _band_name(bands, g)
        row = [g.scorecard_name, f"{g.grade}({meaning})" if meaning else g.grade, _iso(g.as_of)]
        if subject.is_person:  # the person's own points; the public sees grades only
            row.insert(2, f"{g.score.normalize():f}")
        rows.append(row)
    columns = [_("评价名称"), _("评价结果"), _("评价基准日")]
    widths = [4, 2, 2]
    if subject.is_person:
        columns.insert(2, _("积分"))
        widths = [4, 2, 2, 2]
    text = (
        _("个人信用积分不向社会公开,仅在本人申请或经本人授权时出具。")
        if subject.is_person and rows
        else ""
    )
    return section("grades", _("信用评价"), columns, rows, widths=widths, text=text)


# --------------------------------------------------------------------------- 报告说明


def notes_for(subject: Subject, as_of: dt.datetime, departments: list[str]) -> list[str]:
    """The paragraphs of 报告说明 (not part of the digest: wording may change between releases)."""
    centre = centre_name()
    city = settings.PUBCREDIT_CITY_NAME
    portal = settings.PUBCREDIT_PUBLIC_URL.rstrip("/") + OBJECTION_PATH
    local = timezone.localtime(as_of)
    notes = [
        _(
            "一、本报告由%(centre)s依据《全国公共信用信息基础目录》及本市补充目录,根据%(city)s市"
            "公共信用信息平台归集的公共信用信息出具,格式参照国家公共信用信息中心《公共信用信息"
            "报告标准(2022年版)》。本报告仅包含依法可以向社会公开的公共信用信息。"
        )
        % {"centre": centre, "city": city},
        _(
            "二、信息来源:本报告所载信息由国家机关和法律、法规授权的具有管理公共事务职能的组织"
            "在履行职责过程中产生并报送,由报送单位对其真实性、准确性负责。"
        ),
        _("三、信息截止时间:%(time)s。此后新增或变更的信息不在本报告中反映。")
        % {"time": local.strftime("%Y-%m-%d %H:%M")},
        _(
            "四、本报告不包含公示期已届满、已完成信用修复、已被撤销或撤回、已失效的信息,"
            "以及尚未开始公示的信息;名单信息仅列出截止时间仍在有效期内的名单。"
        ),
        _(
            "五、异议处理:信用主体认为本报告所载信息存在错误、遗漏的,可通过 %(url)s"
            "(信用修复与异议)在线提出异议申请,或向%(centre)s提出。"
        )
        % {"url": portal, "centre": centre},
        _(
            "六、有效期与核验:本报告自出具之日起 %(days)s 日内有效;可扫描首页二维码或访问核验"
            "地址,核对报告真伪及出具后主体公共信用信息是否发生变化。"
        )
        % {"days": settings.PUBCREDIT_REPORT_VALID_DAYS},
    ]
    if departments:
        notes[1] += _("本报告所载信息的报送、认定单位:%(names)s。") % {
            "names": "、".join(departments)
        }
    if subject.is_person:
        notes.append(
            _(
                "七、本报告含个人信息,自然人姓名、证件号码已作脱敏处理;仅供本人或经本人授权的"
                "用途使用,不得向第三方提供。"
            )
        )
    return notes


# --------------------------------------------------------------------------- compose


def head(subject: Subject, *, kind: str, as_of: dt.datetime) -> dict:
    """The content's head: title, kind, the subject as shown (masked for a person), data_as_of."""
    shown = public_subject(subject)
    return {
        "title": title_of(kind, subject.kind),
        "kind": str(kind),
        "subject": {
            "kind": subject.kind,
            "kind_label": shown.kind_label,
            "name": shown.name,
            "identifier": shown.uscc or shown.id_masked,
        },
        "data_as_of": timezone.localtime(as_of).isoformat(timespec="seconds"),
        "notes": [],
        "sections": [],
    }


def standard_sections(subject: Subject, day: dt.date) -> tuple[list[dict], list[str]]:
    """The standard report's sections on `day`, and the departments behind them (sorted)."""
    records = _public_records(subject, day)
    carriers = list_services.list_category_ids()
    licences, penalties, honours, others = [], [], [], []
    for r in records:
        code = r.public.category
        if code == LICENCES:
            licences.append(r)
        elif code == PENALTIES:
            penalties.append(r)
        elif code == COMMITMENTS or r.record.category_id in carriers:
            continue  # shown as the commitment register / list entries
        elif r.record.category.catalogue_class == HONOURS_CLASS:
            honours.append(r)
        else:
            others.append(r)
    entries = _entries(subject, day)
    by_kind = {kind: [e for e in entries if e.list_type.kind == kind] for kind in ListKind.values}
    sections = [
        basic_section(subject, public_subject(subject)),
        licences_section(licences),
        penalties_section(penalties),
        list_section("serious", _("严重失信主体名单"), by_kind[ListKind.BLACK]),
        list_section("watch", _("重点关注名单"), by_kind[ListKind.WATCH]),
        incentives_section(by_kind[ListKind.RED], honours),
        commitments_section(subject, day),
        grades_section(subject),
        others_section(others),
    ]
    departments = {r.department for r in records if r.department}
    departments |= {_entry_authority(e) for e in entries if _entry_authority(e)}
    return sections, sorted(departments)


def compose(
    subject: Subject,
    *,
    kind: str = ReportKind.STANDARD,
    as_of: dt.datetime | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    fields: list[str] | None = None,
) -> dict:
    """The content of a report on `subject` as of `as_of` (default now)."""
    as_of = as_of or timezone.now()
    content = head(subject, kind=kind, as_of=as_of)
    if kind == ReportKind.NO_VIOLATION:
        # 信用代证: who the subject is, the period and fields, then per field 无违法违规记录 or
        # the records that count.
        content["sections"] = [basic_section(subject, public_subject(subject))]
        content["sections"] += noviolation.report_sections(
            subject, period=period, fields=fields, as_of=as_of
        )
        content["notes"] = notes_for(subject, as_of, [])
        return content
    sections, departments = standard_sections(subject, timezone.localdate(as_of))
    content["sections"] = sections
    content["notes"] = notes_for(subject, as_of, departments)
    return content


# What the digest covers of a section: its data, not its wording or layout (a title or column
# retranslated, or a width tuned, must not make every issued report read "changed").
DIGEST_KEYS = ("key", "rows", "text")


def content_digest(content: dict) -> str:
    """sha256 of the content's sections (the subject's information), canonical JSON."""
    sections = [{k: s.get(k) for k in DIGEST_KEYS if k in s} for s in content.get("sections", [])]
    body = json.dumps(sections, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()
