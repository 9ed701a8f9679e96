"""Masking of personal data, one place for every rendering that leaves the staff's own eyes: the
public portal and its API, files a clerk downloads, lists in the console.

- a natural person's name: surname kept, the rest masked (张*), `names.mask_person_name`;
- a 身份证号: first 6 + last 4 (`crypto.mask_id`);
- free text: anything that looks like a valid 18-character 身份证号 is masked
  (`redact_id_numbers`), a last line of defence against IDs typed into 违法事实.

It lives in `subjects` (the lowest layer that knows identifiers) so that every domain app may use
it without importing the portal or the console.
"""

from __future__ import annotations

import re

from pubcredit.catalog.models import SubjectKind
from pubcredit.core.identifiers import ric_check_char
from pubcredit.subjects import crypto
from pubcredit.subjects.names import mask_person_name

# 17 digits + check character, not inside a longer run of letters or digits.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")


def is_valid_ric(value: str) -> bool:
    """18 characters, a plausible birth date and a correct GB 11643 check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    year, month, day = int(value[6:10]), int(value[10:12]), int(value[12:14])
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    return ric_check_char(value[:17]) == value[17].upper()


def redact_id_numbers(text: str) -> str:
    """`text` with every valid-looking 18-character 身份证号 masked (first 6 + last 4)."""
    if not text or len(text) < 18:
        return text

    def mask(match: re.Match) -> str:
        value = match.group(1)
        return crypto.mask_id(value) if is_valid_ric(value) else value

    return _ID_LIKE.sub(mask, text)


def mask_code(value: str) -> str:
    """A 脱敏公开 value: kept when it is already masked, else first 6 + last 4 (crypto.mask_id)."""
    value = str(value or "")
    if not value or "*" in value:
        return value
    return crypto.mask_id(value)


def public_name(name: str, kind: str) -> str:
    return mask_person_name(name) if kind == SubjectKind.PERSON else name


def display_name(subject) -> str:
    """How a subject's name appears in lists: persons masked (张*), everyone else in full."""
    return mask_person_name(subject.name) if subject.is_person else subject.name


def display_identifier(subject) -> str:
    return subject.id_masked if subject.is_person else (subject.uscc or "")
