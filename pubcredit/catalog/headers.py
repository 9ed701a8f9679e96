"""How a department's column header or code value is compared with the catalogue.

Departments write the same header in many ways: full-width or half-width brackets, stray spaces,
a trailing colon, a "*" marking a required column, upper or lower case legacy codes
(`cf_wsh`, `CF_WSH`). Both the catalogue's consistency checks (no two fields may share a key) and
header mapping at intake use the same normal form, so what the checks accept is exactly what
intake can resolve without ambiguity.
"""

from __future__ import annotations

import re
import unicodedata

_DROP = re.compile(r"[\s*＊:：]+")


def normalise_header(text: str) -> str:
    """The comparison key of a column header: NFKC (full-width → half-width), case-folded, with
    whitespace, asterisks and colons removed. `罚款金额（万元）`, ` 罚款金额(万元)* ` → `罚款金额(万元)`;
    `cf_wsh` → `cf_wsh`."""
    if text is None:
        return ""
    return _fixpoint(str(text), _DROP)


def normalise_value(text: str) -> str:
    """The comparison key of a code-list value: NFKC, case-folded, whitespace removed."""
    if text is None:
        return ""
    return _fixpoint(str(text), _SPACE)


_SPACE = re.compile(r"\s+")


def _fixpoint(text: str, drop: re.Pattern) -> str:
    """NFKC, case fold, drop characters, repeated until stable: case folding can undo NFKC
    ("Ū" folds to "u" + a combining macron) and dropping a character can bring a base letter
    next to a combining mark, so one pass is not always a normal form."""
    for _ in range(5):
        out = unicodedata.normalize(
            "NFKC", drop.sub("", unicodedata.normalize("NFKC", text).casefold())
        )
        if out == text:
            break
        text = out
    return text
