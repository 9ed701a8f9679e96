"""CategorySpec from the database equals the one from the files; its code lists and conditions
behave exactly like the catalogue models' own."""

from __future__ import annotations

import itertools

import polars as pl
import pytest

from pubcredit.catalog import conditions
from pubcredit.catalog.models import CodeItem, CodeList, Field
from pubcredit.catalog.services import category_spec
from pubcredit.intake.engine import CategorySpec
from pubcredit.intake.engine.validation import condition_expr

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["CF", "XK", "CN"])
def test_spec_from_db_equals_spec_from_files(catalogue, code):
    assert CategorySpec.from_db(code) == CategorySpec.from_files(code)


def test_unknown_category(catalogue):
    from pubcredit.catalog.models import Category

    with pytest.raises(Category.DoesNotExist, match="不存在"):
        CategorySpec.from_db("NOPE")


def test_spec_is_cached_until_the_catalogue_changes(catalogue, django_assert_num_queries):
    first = CategorySpec.from_db("CF")
    with django_assert_num_queries(0):
        assert CategorySpec.from_db("CF") is first
    field = Field.objects.get(category__code="CF", code="CF_XDR_MC")
    field.max_length = 100
    field.save()
    again = CategorySpec.from_db("CF")
    assert again.field("CF_XDR_MC").max_length == 100
    item = CodeItem.objects.get(codelist__code="penalty_type", value="罚款")
    item.synonyms = [*item.synonyms, "罚钱"]
    item.save()
    assert CategorySpec.from_db("CF").field("CF_CFLB").codelist.normalise("罚钱") == (["罚款"], [])


def _spellings(codelist: CodeList) -> list[str]:
    out = ["", "  ", "其他-具体类型", "其它：说明", "其他", "未知值", "其他-"]
    for item in codelist.items.all():
        out += [item.value, f" {item.value} ", item.code, *item.synonyms]
    values = [i.value for i in codelist.items.all()][:4]
    for sep in ("、", ";", "；", ",", "/", " | "):
        out.append(sep.join(values))
        out.append(sep.join([*values[:2], "未知值"]))
    return [s for s in out if s is not None]


def test_code_list_normalisation_equals_the_catalogue_models(catalogue):
    spec_lists = {}
    for code in ("CF", "XK", "CN"):
        for f in CategorySpec.from_db(code).fields:
            if f.codelist is not None:
                spec_lists[f.codelist.code] = f.codelist
    assert spec_lists
    for codelist in CodeList.objects.prefetch_related("items"):
        if codelist.code not in spec_lists:
            continue
        ours = spec_lists[codelist.code]
        for text in _spellings(codelist):
            values, unknown = ours.normalise(text)
            try:
                theirs = codelist.normalise(text)
            except ValueError:
                assert unknown, (codelist.code, text)
            else:
                assert (values, unknown) == (theirs, []), (codelist.code, text)


def test_condition_expressions_equal_catalogue_evaluation(catalogue):
    """Every conditional field of every category, on every combination of the values its
    condition refers to (plus empty and unknown), agrees with conditions.evaluate."""
    checked = 0
    for code in ("CF", "XK", "CN"):
        category = category_spec(code)
        spec = CategorySpec.from_db(code)
        for field in category.fields.all():
            if not field.condition:
                continue
            referenced = sorted(conditions.referenced_fields(field.condition))
            choices = []
            for ref in referenced:
                f = spec.field(ref)
                values = list(f.codelist.values) if f.codelist else ["x"]
                options = [None, *[[v] for v in values]]
                if f.multi_value:
                    options.append(values[:2])
                choices.append(options)
            rows = [
                dict(zip(referenced, combo, strict=True)) for combo in itertools.product(*choices)
            ]
            frame = pl.DataFrame(
                {
                    ref: pl.Series(
                        [
                            r[ref] if spec.field(ref).multi_value else (r[ref] or [None])[0]
                            for r in rows
                        ],
                        dtype=pl.List(pl.String) if spec.field(ref).multi_value else pl.String,
                    )
                    for ref in referenced
                }
            )
            got = frame.select(condition_expr(field.condition, spec, referenced)).to_series()
            expected = [conditions.evaluate(field.condition, r) for r in rows]
            assert got.to_list() == expected, (code, field.code)
            checked += 1
    assert checked >= 8


def test_condition_language_extras(catalogue):
    spec = CategorySpec.from_db("CF")
    frame = pl.DataFrame(
        {
            "CF_NR_FK": ["0.2", None, None],
            "CF_NR_WFFF": [None, "1", None],
            "CF_XDR_LB": ["自然人", "个体工商户", None],
        }
    )
    present = set(frame.columns)
    any_of = condition_expr({"any_of": ["CF_NR_FK", "CF_NR_WFFF"]}, spec, present)
    assert frame.select(any_of).to_series().to_list() == [True, True, False]
    both = {
        "all": [{"field": "CF_XDR_LB", "in": ["自然人"]}, {"field": "CF_NR_FK", "filled": True}]
    }
    assert frame.select(condition_expr(both, spec, present)).to_series().to_list() == [
        True,
        False,
        False,
    ]
    penalties = pl.DataFrame(
        {"CF_CFLB": [["警告", "罚款"], ["警告"], None]}, schema={"CF_CFLB": pl.List(pl.String)}
    )
    contains = condition_expr({"field": "CF_CFLB", "contains_any": ["罚款"]}, spec, {"CF_CFLB"})
    assert penalties.select(contains).to_series().to_list() == [True, False, False]
    # A field without a column is empty.
    missing = condition_expr({"field": "CF_CFLB", "not_in": ["罚款"]}, spec, present)
    assert frame.with_columns(c=missing)["c"].to_list() == [True, True, True]
