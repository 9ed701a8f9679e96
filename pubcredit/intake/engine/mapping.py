"""Map a file's column headers to the fields of a category.

Order of trust, for each header: a mapping the department saved (or the clerk just confirmed),
then the field's code or a legacy code (any letter case: `cf_wsh`, `CF_XDR_MC`, `Xk_Xkws`), the
field's name, a synonym, the same three after dropping decorations (bracketed notes such as
"(万元)"/"（必填）"/"(YYYY-MM-DD)", the words 必填/选填, asterisks), and last a fuzzy match
(rapidfuzz ratio ≥ `FUZZY_THRESHOLD`, on the decorated-free forms). A field is never given to two
columns: the better method wins (then the higher score, then the left-most column); the loser is
reported with a note and ignored like any extra column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from rapidfuzz import fuzz, process

from pubcredit.catalog.headers import normalise_header
from pubcredit.intake.engine.spec import CategorySpec

__all__ = [
    "FUZZY_THRESHOLD",
    "METHODS",
    "ColumnMatch",
    "auto_map",
    "header_key",
    "make_header_score",
    "relaxed_key",
]

FUZZY_THRESHOLD = 80.0
# Methods from most to least trusted.
METHODS = ("saved", "legacy", "exact", "synonym", "fuzzy", "none")
_RANK = {m: i for i, m in enumerate(METHODS)}

_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|<[^<>]*>|《[^《》]*》")
_DECORATION = re.compile(r"必填项?|选填项?|非必填|[*★☆※#]")


@dataclass(frozen=True)
class ColumnMatch:
    """How one column of the file is used. `field_code` is None for a column that is ignored
    (method "none"); `score` is 100 for a match by name, code or synonym, the similarity for a
    fuzzy match, 0 otherwise; `note` says why a column that looked like a field was ignored."""

    header: str
    column: str
    field_code: str | None
    method: str
    score: float = 0.0
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "header": self.header,
            "column": self.column,
            "field": self.field_code,
            "method": self.method,
            "score": round(self.score, 1),
            "note": self.note,
        }


def header_key(text: str | None) -> str:
    """The comparison key of a header (the catalogue's `normalise_header`: NFKC, case-folded,
    whitespace, asterisks and colons removed)."""
    return normalise_header(text or "")


def relaxed_key(text: str | None) -> str:
    """`header_key` without bracketed notes, 必填/选填 and marks: "罚款金额（万元）（必填）" and
    "处罚决定日期(YYYY-MM-DD)" → "罚款金额", "处罚决定日期"."""
    key = header_key(text)
    previous = None
    while previous != key:
        previous, key = key, _BRACKETED.sub("", key)
    key = _DECORATION.sub("", key)
    return key.strip("_-.、")


class _Terms:
    """The spelling tables of one spec, built once per call."""

    def __init__(self, spec: CategorySpec):
        self.by_method: dict[str, dict[str, str]] = {"legacy": {}, "exact": {}, "synonym": {}}
        self.relaxed: dict[str, dict[str, set[str]]] = {"exact": {}, "synonym": {}}
        for f in spec.fields:
            for spelling in (f.code, *f.legacy_codes):
                self.by_method["legacy"].setdefault(header_key(spelling), f.code)
            self.by_method["exact"].setdefault(header_key(f.name), f.code)
            self.relaxed["exact"].setdefault(relaxed_key(f.name), set()).add(f.code)
            for spelling in f.synonyms:
                self.by_method["synonym"].setdefault(header_key(spelling), f.code)
                self.relaxed["synonym"].setdefault(relaxed_key(spelling), set()).add(f.code)
        # Fuzzy candidates: the decoration-free name and synonyms of every field.
        self.fuzzy_terms: list[str] = []
        self.fuzzy_fields: list[str] = []
        for f in spec.fields:
            for spelling in (f.name, *f.synonyms):
                key = relaxed_key(spelling)
                if key:
                    self.fuzzy_terms.append(key)
                    self.fuzzy_fields.append(f.code)

    def lookup(self, text: str | None) -> tuple[str | None, str]:
        """(field code, method) by code, name or synonym, exact then relaxed; (None, "none")."""
        key = header_key(text)
        if not key:
            return None, "none"
        for method in ("legacy", "exact", "synonym"):
            code = self.by_method[method].get(key)
            if code is not None:
                return code, method
        relaxed = relaxed_key(text)
        if relaxed:
            for method in ("exact", "synonym"):
                codes = self.relaxed[method].get(relaxed, set())
                if len(codes) == 1:
                    return next(iter(codes)), method
        return None, "none"


def _saved_table(saved: Mapping[str, str | None] | None, spec: CategorySpec) -> dict:
    known = set(spec.codes)
    out: dict[str, str | None] = {}
    for header, code in (saved or {}).items():
        if code is None or code in known:  # a field since removed from the catalogue is dropped
            out[header_key(header)] = code
    return out


def make_header_score(
    spec: CategorySpec, saved: Mapping[str, str | None] | None = None
) -> Callable[[Sequence[str | None]], float]:
    """A function rating a row of cells as a header row: how many cells name a field (by a saved
    mapping, code, name or synonym; fuzzy matches do not count)."""
    terms = _Terms(spec)
    table = _saved_table(saved, spec)

    def score(cells: Sequence[str | None]) -> float:
        n = 0
        for cell in cells:
            if cell is None or not str(cell).strip():
                continue
            key = header_key(cell)
            if table.get(key) is not None or terms.lookup(cell)[0] is not None:
                n += 1
        return float(n)

    return score


def auto_map(
    headers: Sequence[str],
    spec: CategorySpec,
    saved: Mapping[str, str | None] | None = None,
    *,
    columns: Sequence[str] | None = None,
    subheaders: Sequence[str] | None = None,
    fuzzy_threshold: float = FUZZY_THRESHOLD,
) -> list[ColumnMatch]:
    """One ColumnMatch per header, in order. `saved` maps header texts (compared by
    `header_key`) to a field code, or to None for a column to ignore. `columns` are the frame's
    column names (default: the headers); `subheaders` a second header row (e.g. codes under
    names) tried when a header itself does not match."""
    columns = list(columns or headers)
    terms = _Terms(spec)
    table = _saved_table(saved, spec)
    proposals: list[tuple[str | None, str, float]] = []
    for i, header in enumerate(headers):
        key = header_key(header)
        if key and key in table:
            proposals.append((table[key], "saved", 100.0))
            continue
        code, method = terms.lookup(header)
        if code is None and subheaders is not None and i < len(subheaders):
            code, method = terms.lookup(subheaders[i])
        proposals.append((code, method, 100.0 if code else 0.0))

    # Resolve exact claims on the same field: best method, then left-most.
    winner: dict[str, int] = {}
    for i, (code, method, _score) in enumerate(proposals):
        if code is None:
            continue
        j = winner.get(code)
        if j is None or _RANK[method] < _RANK[proposals[j][1]]:
            winner[code] = i
    notes: dict[int, str] = {}
    for i, (code, _method, _score) in enumerate(proposals):
        if code is not None and winner[code] != i:
            notes[i] = _("与第 %(n)d 列“%(header)s”对应同一字段,已忽略") % {
                "n": winner[code] + 1,
                "header": headers[winner[code]],
            }
            proposals[i] = (None, "none", 0.0)

    # Fuzzy matching for the rest (never for a column the saved mapping says to ignore).
    open_cols = [
        i
        for i, (code, method, _s) in enumerate(proposals)
        if code is None and method != "saved" and i not in notes and relaxed_key(headers[i])
    ]
    taken = set(winner)
    if open_cols and terms.fuzzy_terms:
        queries = [relaxed_key(headers[i]) for i in open_cols]
        matrix = process.cdist(queries, terms.fuzzy_terms, scorer=fuzz.ratio)
        pairs = []
        for qi, i in enumerate(open_cols):
            best: dict[str, float] = {}
            for ti, score in enumerate(matrix[qi]):
                if score >= fuzzy_threshold:
                    code = terms.fuzzy_fields[ti]
                    best[code] = max(best.get(code, 0.0), float(score))
            pairs.extend((score, -i, i, code) for code, score in best.items())
        assigned: set[int] = set()
        for score, _neg, i, code in sorted(pairs, reverse=True):
            if i in assigned:
                continue
            if code in taken:
                if not notes.get(i):
                    owner = winner.get(code)
                    notes[i] = _("近似于字段“%(field)s”,但该字段已由第 %(n)d 列使用") % {
                        "field": spec.field(code).name,
                        "n": (owner + 1) if owner is not None else 0,
                    }
                continue
            proposals[i] = (code, "fuzzy", score)
            assigned.add(i)
            taken.add(code)
            winner[code] = i
            notes.pop(i, None)

    return [
        ColumnMatch(
            header=headers[i],
            column=columns[i],
            field_code=code,
            method=method if code is not None or method == "saved" else "none",
            score=score,
            note=notes.get(i, ""),
        )
        for i, (code, method, score) in enumerate(proposals)
    ]
