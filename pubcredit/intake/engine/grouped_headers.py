"""Two-level headers: a group cell spanning columns over generic column names.

Many exports head their table with two rows, a group over the names that belong to it:

    | 行政相对人                   | 处罚决定书文号 | 处罚机关               |
    | 名称 | 类别 | 统一社会信用代码 |                | 名称 | 统一社会信用代码 |

The group and the name together are the catalogue's field (行政相对人 + 名称 → 行政相对人名称,
处罚机关 + 统一社会信用代码 → 处罚机关统一社会信用代码); the generic name alone would be wrong
(统一社会信用代码 alone is the 行政相对人's) or nothing (名称). `find_grouped_header` recognises
such a pair of rows next to the header row the search found, and gives one combined header per
column, which is what mapping, the mapping screen and a saved mapping then see.

A merged group cell comes in two layouts and both are understood: the value repeated in every
column it spans (HTML colspan read by some tools, some writers), or the value in its first column
and blanks after (xlsx and xls merged cells, SpreadsheetML MergeAcross, HTML colspan as read
here). A blank group cell takes the group on its left when both columns have a name below; a
column whose name spans both rows (处罚决定书文号 above, blank or the same text below) keeps it.

For each column, with group g and name n: n when g is blank, g when n is blank or equal to g;
else g+n when that names a field (by the department's saved mapping, a code, a name or a synonym,
as the header search scores), else n when n names one (a decorative group such as 基本信息), else
g+n (shown as the combined name, for the clerk to map by hand). The pair is taken only when at
least one column is named by its combination and the combined row names more distinct fields
than the header row alone, so a title over the header, or a row of codes under it, is never
mistaken for a group row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["GroupedHeader", "combine_rows", "find_grouped_header"]

HeaderScore = Callable[[Sequence[str | None]], float]


@dataclass(frozen=True)
class GroupedHeader:
    """`top`: index of the group row; `row`: index of the name row (data starts below it);
    `cells`: the combined header text per column."""

    top: int
    row: int
    cells: list[str | None]
    combined: int  # columns named by their group and name together


def _text(row: Sequence[str | None], i: int) -> str:
    if i >= len(row) or row[i] is None:
        return ""
    return str(row[i]).strip()


def combine_rows(
    upper: Sequence[str | None], lower: Sequence[str | None], names_field: Callable[[str], bool]
) -> tuple[list[str | None], int]:
    """(combined header per column, number of columns named by group + name) for a group row
    over a name row; `names_field(text)` tells whether a header text names a field."""
    width = max(len(upper), len(lower))
    group = [_text(upper, i) for i in range(width)]
    name = [_text(lower, i) for i in range(width)]
    for i in range(1, width):
        # A merged group cell with its value in its first column only (not a column whose own
        # name spans both rows, as 处罚决定书文号 above a blank or above itself).
        left_is_group = name[i - 1] and group[i - 1] not in ("", name[i - 1])
        if not group[i] and name[i] and left_is_group:
            group[i] = group[i - 1]
    cells: list[str | None] = []
    combined = 0
    for g, n in zip(group, name, strict=True):
        if not g or not n or g == n:
            cells.append(n or g or None)
        elif names_field(g + n):
            cells.append(g + n)
            combined += 1
        elif names_field(n):
            cells.append(n)
        else:
            cells.append(g + n)
    return cells, combined


def find_grouped_header(
    rows: Sequence[Sequence[str | None]], header: int, header_score: HeaderScore | None
) -> GroupedHeader | None:
    """The two-level header around `rows[header]` (the row the header search chose, which may be
    the group row or the name row), or None when the header is a single row."""
    if header_score is None:
        return None
    known: dict[str, bool] = {}

    def names_field(text: str) -> bool:
        if text not in known:
            known[text] = header_score([text]) > 0
        return known[text]

    def distinct_fields(cells: Sequence[str | None]) -> int:
        texts = {str(c).strip() for c in cells if c is not None and str(c).strip()}
        return sum(1 for t in texts if names_field(t))

    best: GroupedHeader | None = None
    best_score = distinct_fields(rows[header])
    for top in (header - 1, header):
        if top < 0 or top + 1 >= len(rows):
            continue
        cells, combined = combine_rows(rows[top], rows[top + 1], names_field)
        if not combined:
            continue
        score = distinct_fields(cells)
        if score > best_score:
            best, best_score = GroupedHeader(top, top + 1, cells, combined), score
    return best
