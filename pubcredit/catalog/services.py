"""Catalogue services: load the versioned files into the database, write them back, and hand the
intake a category with everything it needs to map and validate a file.

The files (see `datafiles`) are the reviewed source; the database is what the platform runs on and
what an administrator may edit in the admin. `export_catalogue` turns those edits back into files
so they can be reviewed and committed; `import_catalogue` applies files to a database.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, Prefetch

from pubcredit.accounts.audit import record_event, snapshot
from pubcredit.accounts.permissions import Principal
from pubcredit.catalog import datafiles, duties
from pubcredit.catalog.datafiles import CatalogueData, CatalogueError
from pubcredit.catalog.models import Category, CodeItem, CodeList, Department, Field, Region

__all__ = [
    "CatalogueError",
    "catalogue_loaded",
    "category_spec",
    "ensure_catalogue",
    "export_catalogue",
    "import_catalogue",
]


class _Counter:
    def __init__(self) -> None:
        self.created = self.updated = self.unchanged = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _topological(rows: list[dict], key: str = "parent") -> list[dict]:
    """Rows ordered so that every parent comes before its children (file order otherwise)."""
    by_code = {r["code"]: r for r in rows}
    done: set[str] = set()
    out: list[dict] = []

    def visit(row: dict) -> None:
        if row["code"] in done:
            return
        done.add(row["code"])
        parent = by_code.get(row.get(key))
        if parent is not None:
            visit(parent)
        out.append(row)

    for row in rows:
        visit(row)
    return out


def _clean(obj: Model, where: str) -> None:
    """Model-level checks (lengths, choices) with the row named in the message. References were
    checked on the files already, so foreign keys are not re-queried here."""

    relations = [f.name for f in obj._meta.concrete_fields if f.is_relation]
    try:
        obj.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        messages = [f"{name}:{'; '.join(errs)}" for name, errs in exc.message_dict.items()]
        raise CatalogueError([f"{where}:{m}" for m in messages]) from None


class _Batch:
    """New rows of one model, inserted together (one statement per 500 rows) and then audited
    one event per row: a first import creates hundreds of regions and fields."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.rows: list[tuple[Model, str]] = []

    def add(self, obj: Model, where: str) -> None:
        self.rows.append((obj, where))

    def flush(self, principal: Principal) -> None:
        self.model.objects.bulk_create([obj for obj, _ in self.rows], batch_size=500)
        name = self.model._meta.model_name
        for obj, where in self.rows:
            record_event(
                principal, f"catalog.create_{name}", obj, after=snapshot(obj), reason=where
            )
        self.rows.clear()


def _upsert(
    principal: Principal,
    model: type[Model],
    existing: Model | None,
    values: dict,
    counter: _Counter,
    where: str,
    *,
    audit: bool = True,
    batch: _Batch | None = None,
) -> tuple[Model, bool]:
    """Create or update one row from `values` (attribute names → values). Writes the audit
    event unless `audit` is False (the caller then writes it). A new row goes into `batch` when
    one is given (saved and audited when the batch is flushed). Returns (object, changed)."""
    name = model._meta.model_name
    if existing is None:
        obj = model(**values)
        _clean(obj, where)
        counter.created += 1
        if batch is not None:
            batch.add(obj, where)
            return obj, True
        obj.save(force_insert=True)
        if audit:
            record_event(
                principal, f"catalog.create_{name}", obj, after=snapshot(obj), reason=where
            )
        return obj, True
    changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
    if not changed:
        counter.unchanged += 1
        return existing, False
    before = snapshot(existing)
    for k, v in changed.items():
        setattr(existing, k, v)
    _clean(existing, where)
    existing.save()
    counter.updated += 1
    if audit:
        record_event(
            principal,
            f"catalog.update_{name}",
            existing,
            before=before,
            after=snapshot(existing),
            reason=where,
        )
    return existing, True


def _import_regions(principal: Principal, rows: list[dict]) -> dict:
    counter = _Counter()
    batch = _Batch(Region)
    existing = {r.code: r for r in Region.objects.all()}
    for row in _topological(rows):
        values = {
            "name": row["name"],
            "level": row["level"],
            "parent_id": row["parent"],
            "valid_from": row["valid_from"],
            "valid_to": row["valid_to"],
            "is_gb2260": row["is_gb2260"],
            "name_history": row["name_history"],
        }
        current = existing.get(row["code"])
        if current is None:
            values["code"] = row["code"]
        obj, _ = _upsert(
            principal,
            Region,
            current,
            values,
            counter,
            f"导入 regions.json {row['code']}",
            batch=batch,
        )
        existing[obj.code] = obj
    batch.flush(principal)
    return counter.as_dict()


def _import_codelists(principal: Principal, rows: list[dict]) -> tuple[dict, dict, dict]:
    lists, items = _Counter(), _Counter()
    batch = _Batch(CodeItem)
    existing = {c.code: c for c in CodeList.objects.all()}
    existing_items = {(i.codelist_id, i.value): i for i in CodeItem.objects.all()}
    by_code: dict[str, CodeList] = {}
    for row in rows:
        where = f"导入 codelists.json {row['code']}"
        values = {
            "name": row["name"],
            "description": row["description"],
            "allow_other": row["allow_other"],
            "multi_value": row["multi_value"],
        }
        current = existing.get(row["code"])
        if current is None:
            values["code"] = row["code"]
        codelist, _ = _upsert(principal, CodeList, current, values, lists, where)
        by_code[codelist.code] = codelist
        for position, item in enumerate(row["items"], 1):
            values = {
                "code": item["code"],
                "synonyms": item["synonyms"],
                "description": item["description"],
                "sort_order": position,
                "active": item["active"],
            }
            current = existing_items.get((codelist.pk, item["value"]))
            if current is None:
                values.update(codelist_id=codelist.pk, value=item["value"])
            where_item = f"{where} “{item['value']}”"
            _upsert(principal, CodeItem, current, values, items, where_item, batch=batch)
    batch.flush(principal)
    return lists.as_dict(), items.as_dict(), by_code


def _import_categories(
    principal: Principal, rows: list[dict], codelists: dict[str, CodeList]
) -> tuple[dict, dict]:
    cats, fields = _Counter(), _Counter()
    batch = _Batch(Field)
    existing = {c.code: c for c in Category.objects.all()}
    existing_fields = {(f.category_id, f.code): f for f in Field.objects.all()}
    codelist_ids = {code: c.pk for code, c in codelists.items()}
    codelist_ids.update(CodeList.objects.exclude(code__in=codelists).values_list("code", "pk"))
    for row in _topological(rows):
        where = f"导入信息类别 {row['code']}"
        parent = existing.get(row["parent"]) if row["parent"] else None
        values = {
            "name": row["name"],
            "catalogue_class": row["catalogue_class"],
            "parent_id": parent.pk if parent else None,
            "subject_kinds": row["subject_kinds"],
            "publicity_class": row["publicity_class"],
            "business_key": row["business_key"],
            "legacy_prefix": row["legacy_prefix"],
            "standard": row["standard"],
            "description": row["description"],
            "sort_order": row["sort_order"],
            "fields_complete": row["fields_complete"],
            "active": row["active"],
        }
        current = existing.get(row["code"])
        if current is None:
            values["code"] = row["code"]
        category, _ = _upsert(principal, Category, current, values, cats, where)
        existing[category.code] = category
        for position, f in enumerate(row["fields"], 1):
            values = {
                "name": f["name"],
                "type": f["type"],
                "requirement": f["requirement"],
                "condition": f["condition"],
                "max_length": f["max_length"],
                "exact_length": f["exact_length"],
                "decimal_places": f["decimal_places"],
                "unit": f["unit"],
                "codelist_id": codelist_ids[f["codelist"]] if f["codelist"] else None,
                "legacy_codes": f["legacy_codes"],
                "synonyms": f["synonyms"],
                "role": f["role"],
                "disclosure": f["disclosure"],
                "description": f["description"],
                "sort_order": position,
            }
            current = existing_fields.get((category.pk, f["code"]))
            if current is None:
                values.update(category_id=category.pk, code=f["code"])
            where_field = f"{where} 字段 {f['code']}"
            _upsert(principal, Field, current, values, fields, where_field, batch=batch)
    batch.flush(principal)
    return cats.as_dict(), fields.as_dict()


def _department_snapshot(dept: Department) -> dict:
    data = snapshot(dept)
    data["submits_for"] = sorted(d.code for d in dept.submits_for.all())
    return data


def _import_departments(principal: Principal, rows: list[dict]) -> dict:
    """Two passes because departments refer to each other (parent, submits_for): first every
    row exists, then the references are set; one audit event per created or changed row."""
    counter = _Counter()
    existing = {d.code: d for d in Department.objects.prefetch_related("submits_for")}
    before = {code: _department_snapshot(d) for code, d in existing.items()}
    created: set[str] = set()
    for row in rows:
        if row["code"] in existing:
            continue
        dept = Department(
            code=row["code"],
            name=row["name"],
            short_name=row["short_name"],
            uscc=row["uscc"],
            level=row["level"],
            district_id=row["district"],
            active=row["active"],
        )
        _clean(dept, f"导入 departments.json {row['code']}")
        dept.save(force_insert=True)
        existing[dept.code] = dept
        created.add(dept.code)
    for row in rows:
        dept = existing[row["code"]]
        parent = existing[row["parent"]] if row["parent"] else None
        values = {
            "name": row["name"],
            "short_name": row["short_name"],
            "uscc": row["uscc"],
            "level": row["level"],
            "district_id": row["district"],
            "parent_id": parent.pk if parent else None,
            "active": row["active"],
        }
        if row["code"] in created:
            for k, v in values.items():
                setattr(dept, k, v)
            dept.save()
        else:
            _upsert(
                principal,
                Department,
                dept,
                values,
                _Counter(),
                f"导入 departments.json {row['code']}",
                audit=False,
            )
        wanted = set(row["submits_for"])
        have = set() if row["code"] in created else {d.code for d in dept.submits_for.all()}
        if wanted != have:
            dept.submits_for.set([existing[code] for code in sorted(wanted)])
    fresh = Department.objects.prefetch_related("submits_for").in_bulk(
        [d.pk for d in existing.values()]
    )
    for row in rows:
        dept = fresh[existing[row["code"]].pk]
        after = _department_snapshot(dept)
        reason = f"导入 departments.json {row['code']}"
        if row["code"] in created:
            counter.created += 1
            record_event(principal, "catalog.create_department", dept, after=after, reason=reason)
        elif after != before[row["code"]]:
            counter.updated += 1
            record_event(
                principal,
                "catalog.update_department",
                dept,
                before=before[row["code"]],
                after=after,
                reason=reason,
            )
        else:
            counter.unchanged += 1
    return counter.as_dict()


@transaction.atomic
def import_catalogue(principal: Principal, data_dir: Path | str | None = None) -> dict:
    """Load the catalogue files of `data_dir` (default: the shipped `catalog/data/`) into the
    database.

    Guarantees: the files are checked completely before anything is written (CatalogueError lists
    every problem); the import is one transaction; it is an upsert by natural key (region code,
    code-list code + item value, category code + field code, department code), so running it again
    changes nothing and writes no audit event; rows absent from the files are left untouched
    (never deleted: records refer to them; deactivate them instead). Every created or changed row
    gets one audit event with its state before and after.

    The reporting duties of `duties.json` (when the directory has one) are imported last, by
    (department, category, effective_from).

    Returns {"regions"|"codelists"|"codeitems"|"categories"|"fields"|"departments"|"duties":
    {"created": n, "updated": n, "unchanged": n}}.
    """
    principal.require("catalog.change")
    data = datafiles.read_catalogue(data_dir)
    counts: dict[str, dict] = {}
    counts["regions"] = _import_regions(principal, data.regions)
    counts["codelists"], counts["codeitems"], codelists = _import_codelists(
        principal, data.codelists
    )
    counts["categories"], counts["fields"] = _import_categories(
        principal, data.categories, codelists
    )
    counts["departments"] = _import_departments(principal, data.departments)
    duties_path = (Path(data_dir) if data_dir else datafiles.DATA_DIR) / duties.DUTIES_FILE
    if duties_path.exists():
        counts["duties"] = duties.import_duties(principal, duties_path)
    return counts


def catalogue_data() -> CatalogueData:
    """The database's catalogue as rows in the shape of the files."""
    data = CatalogueData()
    for r in Region.objects.order_by("code"):
        data.regions.append(
            {
                "code": r.code,
                "name": r.name,
                "level": r.level,
                "parent": r.parent_id,
                "valid_from": r.valid_from,
                "valid_to": r.valid_to,
                "is_gb2260": r.is_gb2260,
                "name_history": r.name_history,
            }
        )
    items = CodeItem.objects.order_by("sort_order", "id")
    for c in CodeList.objects.order_by("code").prefetch_related(Prefetch("items", queryset=items)):
        data.codelists.append(
            {
                "code": c.code,
                "name": c.name,
                "description": c.description,
                "allow_other": c.allow_other,
                "multi_value": c.multi_value,
                "items": [
                    {
                        "value": i.value,
                        "code": i.code,
                        "synonyms": i.synonyms,
                        "description": i.description,
                        "active": i.active,
                    }
                    for i in c.items.all()
                ],
            }
        )
    fields = Field.objects.select_related("codelist").order_by("sort_order", "id")
    categories = Category.objects.select_related("parent").prefetch_related(
        Prefetch("fields", queryset=fields)
    )
    for c in categories:
        data.categories.append(
            {
                "code": c.code,
                "name": c.name,
                "catalogue_class": c.catalogue_class,
                "parent": c.parent.code if c.parent else None,
                "subject_kinds": c.subject_kinds,
                "publicity_class": c.publicity_class,
                "business_key": c.business_key,
                "legacy_prefix": c.legacy_prefix,
                "standard": c.standard,
                "description": c.description,
                "sort_order": c.sort_order,
                "fields_complete": c.fields_complete,
                "active": c.active,
                "fields": [
                    {
                        "code": f.code,
                        "name": f.name,
                        "type": f.type,
                        "requirement": f.requirement,
                        "condition": f.condition,
                        "max_length": f.max_length,
                        "exact_length": f.exact_length,
                        "decimal_places": f.decimal_places,
                        "unit": f.unit,
                        "codelist": f.codelist.code if f.codelist else None,
                        "legacy_codes": f.legacy_codes,
                        "synonyms": f.synonyms,
                        "role": f.role,
                        "disclosure": f.disclosure,
                        "description": f.description,
                    }
                    for f in c.fields.all()
                ],
            }
        )
    departments = Department.objects.select_related("parent").prefetch_related("submits_for")
    for d in departments.order_by("code"):
        data.departments.append(
            {
                "code": d.code,
                "name": d.name,
                "short_name": d.short_name,
                "uscc": d.uscc,
                "level": d.level,
                "district": d.district_id,
                "parent": d.parent.code if d.parent else None,
                "submits_for": sorted(x.code for x in d.submits_for.all()),
                "active": d.active,
            }
        )
    return data


def export_catalogue(target_dir: Path | str) -> list[Path]:
    """Write the database's catalogue into `target_dir` in the layout and canonical form of
    `catalog/data/` and return the written paths: the catalogue files and the reporting duties
    (`duties.json`, every version). Exporting right after importing a directory reproduces its
    files byte for byte, and importing an export changes nothing. Existing files are
    overwritten; other files are left."""
    paths = datafiles.write_catalogue(catalogue_data(), target_dir)
    paths.append(duties.export_duties(target_dir))
    return paths


def catalogue_loaded() -> bool:
    """Whether a catalogue has been imported: regions, code lists, departments and at least one
    category whose fields are complete exist."""
    return (
        Region.objects.exists()
        and CodeList.objects.exists()
        and Department.objects.exists()
        and Category.objects.filter(fields_complete=True).exists()
    )


def ensure_catalogue(principal: Principal) -> bool:
    """Import the shipped catalogue when none has been imported yet (a machine before `pubcredit
    setup`), exactly as setup does; True when it imported. The database is then the one source
    of truth for every command that lists or names departments and categories: what
    `pubcredit departments` lists is what `pubcredit intake` accepts."""
    if catalogue_loaded():
        return False
    import_catalogue(principal)
    return True


def category_spec(code: str) -> Category:
    """The category `code` with its fields (in order, each with its code list and the list's
    items) prefetched, so that `header_map()`, `field.codelist.normalise(...)` and
    `field.is_required(...)` run without further queries. Raises Category.DoesNotExist with a
    Chinese message when there is no such category."""
    items = CodeItem.objects.order_by("sort_order", "id")
    fields = (
        Field.objects.select_related("codelist")
        .prefetch_related(Prefetch("codelist__items", queryset=items))
        .order_by("sort_order", "id")
    )
    try:
        return Category.objects.prefetch_related(Prefetch("fields", queryset=fields)).get(code=code)
    except Category.DoesNotExist:
        raise Category.DoesNotExist(f"信息类别 {code} 不存在") from None
