"""A bulletin's content (`compose.compose`) as files: `pdf(content)` and `xlsx(content)`.

First cut: the ranking table and the summary; the full layout follows."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


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


def ranking_rows(content: dict) -> list[list]:
    return [
        [
            row["rank"] if row["rank"] is not None else "—",
            row["name"],
            row["submitted"],
            row["accepted"],
            row["rejected"],
            _pct(row["rates"]["compliance"]),
            _pct(row["rates"]["timeliness"]),
            _pct(row["rates"]["completeness"]),
            _pct(row["rates"]["coverage"]),
            "—" if row["score"] is None else f"{row['score']:.2f}",
        ]
        for row in content["departments"]
    ]


def pdf(content: dict) -> bytes:
    from pubcredit.core import letters

    letter = letters.Letter(
        title=content["title"],
        number=content.get("number", ""),
        issuer=content.get("issuer", ""),
        issued_on=__import__("datetime").date.fromisoformat(
            content.get("issued_on") or content["period"]["end"]
        ),
        paragraphs=[content["summary"]["text"]]
        + ["  ".join(str(c) for c in r) for r in [ranking_header(), *ranking_rows(content)]],
    )
    return letters.render_letter(letter)


def xlsx(content: dict) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(_("部门排名"))
    sheet.write_row(0, 0, ranking_header())
    for i, row in enumerate(ranking_rows(content), start=1):
        sheet.write_row(i, 0, row)
    book.close()
    return out.getvalue()
