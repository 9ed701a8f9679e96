"""A bulletin's content (`compose.compose`, plus the "number", "version", "issued_at",
"issued_on" and "issuer" that `services.issue` adds) as files: `pdf(content)` and
`xlsx(content)`.

Both read only the content dict, never the database: an issued bulletin's files can be drawn
again from its frozen JSON, and the same content gives the same bytes (the PDF's and the
workbook's dates are the issue time, not the drawing time).

The PDF is the usual 通报 layout on A4: the title with the number centred under it, the summary
paragraph, 表1 the departments ranked by composite score (the header row repeated on each page),
一、零报送单位, 二、及时率或合规率低于阈值的单位, 三、表扬, 表2 the districts, an appendix with every
formula and the scheme's weights and threshold after the issuer and the date; 第 N 页 共 M 页 in
the footer. The Chinese text is set in an embedded TrueType font (`core.pdffonts`), so every
reader shows it the same way.

The workbook has one sheet per part (汇总, 部门排名, 分类明细, 零报送, 低于阈值, 区县, 计算公式), rates
as numbers formatted as percentages, every text cell through `core.spreadsheets.formula_safe`
(department names come from data).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from pubcredit.core import pdfdocs, pdffonts
from pubcredit.core.spreadsheets import formula_safe

# The rates of the ranking table (PDF) and the district table, in column order.
TABLE_RATES = ("compliance", "timeliness", "completeness", "coverage")


def count_labels() -> dict[str, str]:
    """The Chinese column name of every count a department row carries, in column order."""
    return {
        "submissions": _("报送批次"),
        "submitted": _("报送条数"),
        "accepted": _("校验通过条数"),
        "rejected": _("未通过条数"),
        "duplicates": _("文件内重复行数"),
        "written": _("入库条数"),
        "first_reports": _("首次报送条数"),
        "corrections": _("更正条数"),
        "due": _("应按期报送条数"),
        "on_time": _("按期报送条数"),
        "late": _("超期报送条数"),
        "filled": _("已填选填项数"),
        "fillable": _("选填项总数"),
        "withdrawn": _("撤回条数"),
        "checks": _("信用核查次数"),
        "feedback_due": _("应反馈核查次数"),
        "feedback_given": _("已反馈核查次数"),
        "repair_steps": _("有期限的修复异议环节数"),
        "repair_steps_on_time": _("期限内办结环节数"),
        "objections_corrected": _("异议成立数"),
        "duties": _("应报送责任数(按月计)"),
        "duties_reported": _("有报送的责任数(按月计)"),
        "zero_duty_months": _("零报送责任数(按月计)"),
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _int(value) -> str:
    return "—" if value is None else f"{value:,}"


def _rate_labels(content: dict) -> dict[str, str]:
    """{formula name: label} as frozen in the content."""
    return {f["name"]: f["label"] for f in content["formulas"]}


def _date_text(day: dt.date) -> str:
    return _("%(year)d年%(month)d月%(day)d日") % {
        "year": day.year,
        "month": day.month,
        "day": day.day,
    }


def _issued_at(content: dict) -> dt.datetime | None:
    """When the bulletin was issued (the files' creation date), or None for a draft."""
    if content.get("issued_at"):
        return dt.datetime.fromisoformat(content["issued_at"])
    if content.get("issued_on"):
        return dt.datetime.combine(dt.date.fromisoformat(content["issued_on"]), dt.time())
    return None


def ranking_header() -> list[str]:
    return [
        _("排名"),
        _("部门"),
        _("报送条数"),
        _("校验通过"),
        _("未通过"),
        _("合规率"),
        _("及时率"),
        _("完整率"),
        _("报送覆盖率"),
        _("综合得分"),
    ]


def ranking_rows(content: dict) -> list[list[str]]:
    """The ranking table's rows as printed: counts with thousands separators, rates as
    percentages with one decimal, the score with two, "—" for what cannot be computed."""
    return [
        [
            "—" if row["rank"] is None else str(row["rank"]),
            row["name"],
            _int(row["submitted"]),
            _int(row["accepted"]),
            _int(row["rejected"]),
            *(_pct(row["rates"].get(name)) for name in TABLE_RATES),
            _score(row["score"]),
        ]
        for row in content["departments"]
    ]


def _district_rows(content: dict) -> list[list[str]]:
    return [
        [
            row["name"],
            _int(row["departments"]),
            _int(row["submitted"]),
            _int(row["accepted"]),
            _int(row["rejected"]),
            *(_pct(row["rates"].get(name)) for name in TABLE_RATES),
        ]
        for row in content["districts"]
    ]


def _zero_rows(content: dict) -> list[list[str]]:
    """零报送 grouped by department: one row per department with its categories (and, for a
    quarter or a year, the number of months with nothing)."""
    several_months = content["period"]["kind"] != "month"
    grouped: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for item in content["zero_reports"]:
        names[item["code"]] = item["name"]
        text = f"{item['category_name']}({item['category']})"
        if several_months:
            text += _("%(months)d个月") % {"months": item["months"]}
        grouped.setdefault(item["code"], []).append(text)
    return [
        [str(i), names[code], "、".join(cats)] for i, (code, cats) in enumerate(grouped.items(), 1)
    ]


def _below_rows(content: dict) -> list[list[str]]:
    return [
        [str(i), row["name"], row["label"], _pct(row["value"])]
        for i, row in enumerate(content["below_threshold"], 1)
    ]


def _praised_rows(content: dict) -> list[list[str]]:
    return [[str(row["rank"]), row["name"], _score(row["score"])] for row in content["praised"]]


def _weights_text(content: dict) -> str:
    """The weights in the formulas' order (not the dict's: the stored JSON sorts its keys, and
    the frozen content must draw the same file again)."""
    labels = _rate_labels(content)
    weights = content["scheme"]["weights"]
    order = [n for n in labels if n in weights] + sorted(set(weights) - set(labels))
    return "、".join(
        _("%(label)s %(points)s 分")
        % {"label": labels.get(name, name), "points": f"{weights[name]:g}"}
        for name in order
        if weights[name]
    )


def _method_paragraphs(content: dict) -> list[str]:
    """The appendix: every formula, then how the score, the threshold and the praise work."""
    scheme = content["scheme"]
    texts = [f["text"] for f in content["formulas"]]
    texts.append(
        _(
            "综合得分 = Σ(各项比率 × 权重)÷ 参与计算的权重之和 × 100;某项比率无可计算数据"
            "(分母为 0)时不计入,按其余各项折算为百分制。权重:%(weights)s。"
        )
        % {"weights": _weights_text(content)}
    )
    texts.append(
        _(
            "及时率或合规率低于 %(threshold)s 的单位列入通报名单;综合得分排名前 %(praise)d 位"
            "且无零报送的单位予以表扬。排名按综合得分从高到低,得分相同的名次相同。"
        )
        % {"threshold": _pct(scheme["threshold"]), "praise": scheme["praise_count"]}
    )
    texts.append(
        _("评分规则:%(name)s,%(since)s起施行。")
        % {"name": scheme["name"], "since": scheme["effective_from"]}
        + (scheme.get("note") or "")
    )
    return texts


# --------------------------------------------------------------------------- PDF


def pdf(content: dict) -> bytes:
    """The bulletin as a PDF (A4 portrait, the CJK font embedded). Fast: a table cell is a
    Paragraph only where text may wrap (names, categories); 200 departments draw in well
    under a second."""
    # Imported here: reportlab is heavy; loaded only when a PDF is drawn.
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        CondPageBreak,
        KeepTogether,
        Paragraph,
        Spacer,
        Table,
        TableStyle,
    )

    font = pdffonts.embedded_font()
    # wordWrap="CJK": a line may break between any two characters, as Chinese text does.
    body = ParagraphStyle(
        "body", fontName=font, fontSize=11.5, leading=20, firstLineIndent=23, wordWrap="CJK"
    )
    plain = ParagraphStyle("plain", parent=body, firstLineIndent=0)
    title = ParagraphStyle(
        "title", parent=plain, fontSize=19, leading=28, alignment=TA_CENTER, spaceAfter=2 * mm
    )
    number = ParagraphStyle("number", parent=plain, fontSize=11, alignment=TA_CENTER)
    heading = ParagraphStyle(
        "heading", parent=plain, fontSize=13, leading=20, spaceBefore=5 * mm, spaceAfter=2 * mm
    )
    caption = ParagraphStyle("caption", parent=heading, fontSize=11.5, alignment=TA_CENTER)
    right = ParagraphStyle("right", parent=plain, alignment=TA_RIGHT)
    note = ParagraphStyle("note", parent=plain, fontSize=10, leading=16)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    head_cell = ParagraphStyle("head", parent=cell, alignment=TA_CENTER)

    def p(text: str, style) -> Paragraph:
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)

    def table(
        header: list[str], rows: list[list[str]], widths: list[float], wrap: Iterable[int]
    ) -> Table:
        """A grid with `header` repeated on every page; the `wrap` columns wrap (Paragraph),
        a first column that does not wrap is a centred rank or number, the others are figures
        (right-aligned)."""
        wrap = set(wrap)
        data = [[p(h, head_cell) for h in header]]
        data += [[p(v, cell) if i in wrap else v for i, v in enumerate(r)] for r in rows]
        grid = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
        style = [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.92, 0.95)),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (0, 1), (-1, -1), "RIGHT"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        style += [("ALIGN", (i, 1), (i, -1), "LEFT") for i in wrap]
        if 0 not in wrap:
            style.append(("ALIGN", (0, 1), (0, -1), "CENTER"))
        grid.setStyle(TableStyle(style))
        return grid

    def listing(header: list[str], rows: list[list[str]], widths, wrap) -> list:
        return [table(header, rows, widths, wrap)] if rows else [p(_("无。"), body)]

    scheme = content["scheme"]
    story: list = [p(content["title"], title)]
    if content.get("number"):
        story.append(p(content["number"], number))
    story += [Spacer(1, 6 * mm), p(content["summary"]["text"], body)]

    story.append(p(_("表1 各部门归集情况排名(按综合得分)"), caption))
    ranking = ranking_rows(content)
    story += listing(ranking_header(), ranking, [10, 42, 15, 15, 13, 14, 14, 14, 18, 15], wrap=[1])

    story.append(CondPageBreak(30 * mm))
    story.append(p(_("一、零报送单位"), heading))
    story.append(
        p(_("以下单位有报送责任,本期未报送相应类别的信用信息:"), body)
        if content["zero_reports"]
        else p(_("本期无零报送单位。"), body)
    )
    if content["zero_reports"]:
        story += listing(
            [_("序号"), _("单位"), _("零报送类别")], _zero_rows(content), [12, 58, 100], [1, 2]
        )

    story.append(CondPageBreak(30 * mm))
    story.append(
        p(
            _("二、及时率或合规率低于阈值(%(threshold)s)的单位")
            % {"threshold": _pct(scheme["threshold"])},
            heading,
        )
    )
    story += listing(
        [_("序号"), _("单位"), _("指标"), _("数值")], _below_rows(content), [12, 88, 40, 30], [1, 2]
    )

    # The praise and the districts are short: each stays on one page with its heading.
    praise = [p(_("三、表扬"), heading)]
    if content["praised"]:
        praise.append(
            p(
                _("以下单位综合得分居前 %(count)d 位且无零报送,予以通报表扬:")
                % {"count": scheme["praise_count"]},
                body,
            )
        )
    praise += listing(
        [_("排名"), _("单位"), _("综合得分")], _praised_rows(content), [20, 110, 40], [1]
    )
    story.append(KeepTogether(praise))

    districts = [p(_("表2 各区县归集情况"), caption)]
    districts += listing(
        [
            _("区县"),
            _("部门数"),
            _("报送条数"),
            _("校验通过"),
            _("未通过"),
            _("合规率"),
            _("及时率"),
            _("完整率"),
            _("报送覆盖率"),
        ],
        _district_rows(content),
        [30, 14, 18, 18, 16, 18, 18, 18, 20],
        [0],
    )
    story.append(KeepTogether(districts))

    # The issuer and the date close the text, as in an official document; the method follows
    # as its attachment (附).
    signature = [Spacer(1, 12 * mm)]
    if content.get("issuer"):
        signature.append(p(content["issuer"], right))
    if content.get("issued_on"):
        signature.append(p(_date_text(dt.date.fromisoformat(content["issued_on"])), right))
    story.append(KeepTogether(signature))
    method = [Spacer(1, 8 * mm), p(_("附:计算方法"), heading)]
    method += [p(text, note) for text in _method_paragraphs(content)]
    story.append(KeepTogether(method))

    return pdfdocs.build_a4(
        story,
        font=font,
        title=content["title"],
        number=content.get("number", ""),
        author=content.get("issuer", ""),
        issued_at=_issued_at(content),
    )


# --------------------------------------------------------------------------- xlsx


class _Sheet:
    """One worksheet written row by row: text through `formula_safe`, numbers as numbers,
    rates as percentages, None as an empty cell."""

    def __init__(self, book, name: str, formats: dict):
        self.sheet = book.add_worksheet(name)
        self.formats = formats
        self.row = 0

    def write(self, values: list, kinds: str | None = None, fmt: str | None = None) -> None:
        """`kinds` per column: "t" text, "n" number, "p" rate (0…1), "s" score; default: by type."""
        for col, value in enumerate(values):
            kind = kinds[col] if kinds else ("t" if isinstance(value, str) else "n")
            style = self.formats.get(fmt or kind)
            if value is None:
                self.sheet.write_blank(self.row, col, None, style)
            elif kind == "t":
                self.sheet.write_string(self.row, col, formula_safe(str(value)), style)
            else:
                self.sheet.write_number(self.row, col, value, style)
        self.row += 1

    def header(self, values: list[str], widths: list[float], *, freeze_cols: int = 0) -> None:
        self.write(values, "t" * len(values), fmt="head")
        for col, width in enumerate(widths):
            self.sheet.set_column(col, col, width)
        self.sheet.freeze_panes(self.row, freeze_cols)


def xlsx(content: dict) -> bytes:
    """The bulletin as a workbook (see the module's doc for the sheets)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    issued_at = _issued_at(content)
    book.set_properties(
        {
            "title": formula_safe(content["title"]),
            "subject": formula_safe(content.get("number", "")),
            "author": formula_safe(content.get("issuer", "")),
            # The issue time, not the drawing time: the same bulletin gives the same bytes.
            "created": (issued_at or dt.datetime(2000, 1, 1)).replace(tzinfo=None),
        }
    )
    formats = {
        "head": book.add_format(
            {"bold": True, "bg_color": "#E6EBF2", "border": 1, "text_wrap": True}
        ),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "n": book.add_format({"num_format": "#,##0"}),
        "p": book.add_format({"num_format": "0.0%"}),
        "s": book.add_format({"num_format": "0.00"}),
        "label": book.add_format({"bold": True}),
    }
    labels = count_labels()
    rate_labels = _rate_labels(content)
    rate_names = list(rate_labels)
    summary = content["summary"]
    counts = [k for k in labels if k in summary["totals"]]

    # 汇总: what the bulletin says, with this period's totals beside the previous period's.
    s = _Sheet(book, _("汇总"), formats)
    s.sheet.set_column(0, 0, 26)
    s.sheet.set_column(1, 3, 16)
    s.sheet.write_string(0, 0, formula_safe(content["title"]), formats["title"])
    s.row = 2
    period = content["period"]
    for label, value in (
        (_("通报编号"), content.get("number", "")),
        (_("期间"), f"{period['label']}({period['start']} 至 {period['end']})"),
        (_("发布单位"), content.get("issuer", "")),
        (_("发布日期"), content.get("issued_on", "")),
        (_("评分规则"), content["scheme"]["name"]),
        (_("表扬单位"), "、".join(r["name"] for r in content["praised"]) or _("无")),
    ):
        s.write([label, value], "tt")
    s.sheet.merge_range(s.row, 1, s.row, 3, formula_safe(summary["text"]), formats["wrap"])
    s.sheet.write_string(s.row, 0, _("概述"), formats["label"])
    s.sheet.set_row(s.row, 150)
    s.row += 2
    s.write([_("指标"), _("本期"), _("上期"), _("增减")], "tttt", fmt="head")
    for key in counts:
        now, before = summary["totals"][key], summary["previous"].get(key)
        s.write([labels[key], now, before, None if before is None else now - before], "tnnn")
    for name in rate_names:
        now, before = summary["rates"].get(name), summary["previous_rates"].get(name)
        diff = None if now is None or before is None else now - before
        s.write([rate_labels[name], now, before, diff], "tppp")

    # 部门排名: every department's counts, rates, score and rank.
    s = _Sheet(book, _("部门排名"), formats)
    s.header(
        [
            _("排名"),
            _("部门编码"),
            _("部门"),
            _("区县"),
            *(labels[k] for k in counts),
            *(rate_labels[n] for n in rate_names),
            _("综合得分"),
            _("零报送"),
        ],
        [6, 16, 30, 14, *[12] * len(counts), *[11] * len(rate_names), 10, 8],
        freeze_cols=3,
    )
    kinds = "ntt" + "t" + "n" * len(counts) + "p" * len(rate_names) + "st"
    for row in content["departments"]:
        s.write(
            [
                row["rank"],
                row["code"],
                row["name"],
                row.get("district_name") or "",
                *(row.get(k) for k in counts),
                *(row["rates"].get(n) for n in rate_names),
                row["score"],
                _("是") if row.get("zero_report") else _("否"),
            ],
            kinds,
        )

    # 分类明细: department × category.
    names = {row["code"]: row["name"] for row in content["departments"]}
    sample = content["categories"][0] if content["categories"] else {}
    cat_counts = [k for k in labels if k in sample]
    cat_rates = [n for n in rate_names if n in sample.get("rates", {})]
    s = _Sheet(book, _("分类明细"), formats)
    s.header(
        [
            _("部门编码"),
            _("部门"),
            _("类别编码"),
            _("类别"),
            *(labels[k] for k in cat_counts),
            *(rate_labels[n] for n in cat_rates),
        ],
        [16, 30, 10, 20, *[12] * len(cat_counts), *[11] * len(cat_rates)],
        freeze_cols=2,
    )
    kinds = "tttt" + "n" * len(cat_counts) + "p" * len(cat_rates)
    for row in content["categories"]:
        s.write(
            [
                row["code"],
                names.get(row["code"], ""),
                row["category"],
                row["category_name"],
                *(row[k] for k in cat_counts),
                *(row["rates"].get(n) for n in cat_rates),
            ],
            kinds,
        )

    # 零报送: one row per duty with nothing reported.
    s = _Sheet(book, _("零报送"), formats)
    s.header(
        [_("部门编码"), _("部门"), _("类别编码"), _("类别"), _("零报送月数")], [16, 30, 10, 20, 12]
    )
    for item in content["zero_reports"]:
        s.write(
            [item["code"], item["name"], item["category"], item["category_name"], item["months"]],
            "ttttn",
        )

    # 低于阈值: 及时率 or 合规率 below the scheme's threshold.
    s = _Sheet(book, _("低于阈值"), formats)
    s.header([_("部门编码"), _("部门"), _("指标"), _("数值"), _("阈值")], [16, 30, 12, 10, 10])
    threshold = content["scheme"]["threshold"]
    for item in content["below_threshold"]:
        s.write([item["code"], item["name"], item["label"], item["value"], threshold], "tttpp")

    # 区县: the departments grouped by district.
    s = _Sheet(book, _("区县"), formats)
    d_counts = [k for k in labels if content["districts"] and k in content["districts"][0]]
    s.header(
        [
            _("区县代码"),
            _("区县"),
            _("部门数"),
            *(labels[k] for k in d_counts),
            *(rate_labels[n] for n in rate_names),
        ],
        [10, 20, 8, *[12] * len(d_counts), *[11] * len(rate_names)],
        freeze_cols=2,
    )
    kinds = "ttn" + "n" * len(d_counts) + "p" * len(rate_names)
    for row in content["districts"]:
        s.write(
            [
                row["district"] or "",
                row["name"],
                row["departments"],
                *(row.get(k) for k in d_counts),
                *(row["rates"].get(n) for n in rate_names),
            ],
            kinds,
        )

    # 计算公式: the formulas, the weights and the threshold the ranking used.
    s = _Sheet(book, _("计算公式"), formats)
    s.header([_("指标"), _("名称"), _("计算公式"), _("权重")], [20, 14, 80, 8])
    weights = content["scheme"]["weights"]
    for f in content["formulas"]:
        s.write([f["name"], f["label"], f["text"], weights.get(f["name"])], "tttn")
    s.row += 1
    for text in _method_paragraphs(content)[-3:]:
        s.sheet.merge_range(s.row, 0, s.row, 3, formula_safe(text), formats["wrap"])
        s.sheet.set_row(s.row, 36)
        s.row += 1

    book.close()
    return out.getvalue()
