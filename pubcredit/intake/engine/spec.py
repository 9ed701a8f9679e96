"""A category as the intake engine needs it: plain frozen data, no database access while a file
is processed.

`CategorySpec.from_db(code)` reads the catalogue tables once (Category, Field, CodeList,
CodeItem, prefetched by `catalog.services.category_spec`) and caches the result until any of
those tables changes. `CategorySpec.from_files(code)` builds the same spec from the versioned
catalogue files without a database (benchmarks, pure tests); both give equal specs for the same
catalogue.

Code-list matching follows `catalog.models.CodeList.normalise` exactly (tested): a cell matches a
value, item code or synonym after `normalise_value` (NFKC, case-folded, whitespace removed); a
multi-value list first tries the whole cell, then its parts split on ；;、,,/|; a list that allows
other values accepts "其他-<具体类型>" (also 其它, and ：: — – as the separator).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from pubcredit.catalog.datafiles import read_catalogue
from pubcredit.catalog.headers import normalise_header, normalise_value
from pubcredit.catalog.models import MULTI_VALUE_SEPARATORS, Category, CodeItem, CodeList, Field
from pubcredit.catalog.services import category_spec

__all__ = ["CategorySpec", "CodeListSpec", "FieldSpec", "clear_spec_cache"]

# The canonical value of the 证件类型 item meaning 居民身份证 is found by its item code.
RESIDENT_ID_ITEM_CODES = frozenset({"resident_id", "01"})


@dataclass(frozen=True)
class CodeListSpec:
    code: str
    name: str
    values: tuple[str, ...]
    # normalise_value(spelling) → canonical value, for every value, item code and synonym.
    lookup: dict[str, str] = field(hash=False, compare=True)
    allow_other: bool = False
    multi_value: bool = False
    resident_id_value: str | None = None  # the value meaning 居民身份证, in an id_type list

    def normalise(self, text: str | None) -> tuple[list[str], list[str]]:
        """(canonical values, unknown parts) of one cell; ([], []) for an empty cell."""

        text = "" if text is None else str(text).strip()
        if not text:
            return [], []
        whole = self._canonical(text)
        if whole is not None:
            return [whole], []
        if not self.multi_value:
            return [], [text]
        out: list[str] = []
        unknown: list[str] = []
        for part in MULTI_VALUE_SEPARATORS.split(text):
            if not part.strip():
                continue
            value = self._canonical(part)
            if value is None:
                unknown.append(part.strip())
            elif value not in out:
                out.append(value)
        return out, unknown

    def _canonical(self, part: str) -> str | None:
        # The catalogue's own pattern, so that intake and `CodeList.normalise` never disagree.
        from pubcredit.catalog.models import _OTHER

        found = self.lookup.get(normalise_value(part))
        if found is not None:
            return found
        if self.allow_other:
            match = _OTHER.match(part.strip())
            if match:
                return "其他-" + match.group("what").strip()
        return None


@dataclass(frozen=True)
class FieldSpec:
    code: str
    name: str
    type: str  # string, text, date, decimal, integer, uscc, id_number, code
    requirement: str = "optional"  # required, conditional, optional
    condition: Any = field(default=None, hash=False)
    max_length: int | None = None
    exact_length: int | None = None
    decimal_places: int | None = None
    unit: str = ""
    role: str = ""
    codelist: CodeListSpec | None = None
    legacy_codes: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()

    def header_keys(self) -> list[str]:
        """Normalised header spellings (code, legacy codes, name, synonyms), as the catalogue's
        `Field.header_keys`."""
        keys: list[str] = []
        for spelling in (self.code, *self.legacy_codes, self.name, *self.synonyms):
            key = normalise_header(spelling)
            if key and key not in keys:
                keys.append(key)
        return keys

    @property
    def multi_value(self) -> bool:
        return self.codelist is not None and self.codelist.multi_value


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    fields: tuple[FieldSpec, ...]
    business_key: tuple[str, ...] = ()
    legacy_prefix: str = ""

    def field(self, code: str) -> FieldSpec:
        for f in self.fields:
            if f.code == code:
                return f
        raise KeyError(code)

    def by_role(self, role: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.role == role), None)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.fields]

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_db(cls, code: str) -> CategorySpec:
        """The spec of category `code` from the database, cached until the catalogue changes.
        Raises Category.DoesNotExist (Chinese message) for an unknown code."""
        with _lock:
            cached = _cache.get(code)
        if cached is not None:
            return cached

        _connect_signals()
        category = category_spec(code)
        lists: dict[str, CodeListSpec] = {}
        fields = []
        for f in category.fields.all():
            cl = None
            if f.codelist_id is not None:
                cl = lists.get(f.codelist.code)
                if cl is None:
                    items = [
                        {
                            "value": i.value,
                            "code": i.code,
                            "synonyms": i.synonyms,
                            "active": i.active,
                        }
                        for i in f.codelist.items.all()
                    ]
                    cl = _codelist(
                        f.codelist.code,
                        f.codelist.name,
                        items,
                        f.codelist.allow_other,
                        f.codelist.multi_value,
                    )
                    lists[cl.code] = cl
            fields.append(
                FieldSpec(
                    code=f.code,
                    name=f.name,
                    type=f.type,
                    requirement=f.requirement,
                    condition=f.condition,
                    max_length=f.max_length,
                    exact_length=f.exact_length,
                    decimal_places=f.decimal_places,
                    unit=f.unit,
                    role=f.role,
                    codelist=cl,
                    legacy_codes=tuple(f.legacy_codes or ()),
                    synonyms=tuple(f.synonyms or ()),
                )
            )
        spec = cls(
            code=category.code,
            name=category.name,
            fields=tuple(fields),
            business_key=tuple(category.business_key or ()),
            legacy_prefix=category.legacy_prefix,
        )
        with _lock:
            _cache[code] = spec
        return spec

    @classmethod
    def from_files(cls, code: str, data_dir=None) -> CategorySpec:
        """The spec of category `code` from the catalogue files (default: the shipped ones)."""

        data = read_catalogue(data_dir)
        lists = {c["code"]: c for c in data.codelists}
        for row in data.categories:
            if row["code"] == code:
                return cls.from_dict(row, lists)
        raise KeyError(code)

    @classmethod
    def from_dict(cls, row: dict, codelists: dict[str, dict]) -> CategorySpec:
        """A spec from a category row of the catalogue files (with its "fields") and the code
        lists by code, in the files' format."""
        built: dict[str, CodeListSpec] = {}
        fields = []
        for f in row.get("fields") or []:
            cl = None
            if f.get("codelist"):
                cl = built.get(f["codelist"])
                if cl is None:
                    c = codelists[f["codelist"]]
                    cl = _codelist(
                        c["code"],
                        c["name"],
                        c.get("items") or [],
                        c.get("allow_other", False),
                        c.get("multi_value", False),
                    )
                    built[cl.code] = cl
            fields.append(
                FieldSpec(
                    code=f["code"],
                    name=f["name"],
                    type=f.get("type") or "string",
                    requirement=f.get("requirement") or "optional",
                    condition=f.get("condition"),
                    max_length=f.get("max_length"),
                    exact_length=f.get("exact_length"),
                    decimal_places=f.get("decimal_places"),
                    unit=f.get("unit") or "",
                    role=f.get("role") or "",
                    codelist=cl,
                    legacy_codes=tuple(f.get("legacy_codes") or ()),
                    synonyms=tuple(f.get("synonyms") or ()),
                )
            )
        return cls(
            code=row["code"],
            name=row["name"],
            fields=tuple(fields),
            business_key=tuple(row.get("business_key") or ()),
            legacy_prefix=row.get("legacy_prefix") or "",
        )


def _codelist(code, name, items, allow_other, multi_value) -> CodeListSpec:
    lookup: dict[str, str] = {}
    values: list[str] = []
    resident = None
    for item in items:
        if not item.get("active", True):
            continue
        values.append(item["value"])
        if item.get("code") in RESIDENT_ID_ITEM_CODES:
            resident = item["value"]
        for spelling in (item["value"], item.get("code"), *(item.get("synonyms") or ())):
            if spelling:
                lookup.setdefault(normalise_value(spelling), item["value"])
    return CodeListSpec(
        code=code,
        name=name,
        values=tuple(values),
        lookup=lookup,
        allow_other=bool(allow_other),
        multi_value=bool(multi_value),
        resident_id_value=resident,
    )


# --------------------------------------------------------------------------- cache

_cache: dict[str, CategorySpec] = {}
_lock = threading.Lock()


def clear_spec_cache(**_kwargs) -> None:
    with _lock:
        _cache.clear()


def _connect_signals() -> None:
    # Imported here: connected from AppConfig.ready().
    from django.db.models.signals import post_delete, post_save

    for model in (Category, Field, CodeList, CodeItem):
        post_save.connect(clear_spec_cache, sender=model, dispatch_uid=f"intake-spec-{model}")
        post_delete.connect(clear_spec_cache, sender=model, dispatch_uid=f"intake-spec-d{model}")
