"""Conditions on the records' cleaned data, vectorised (facts.condition_expr), over the texts
PostgreSQL's ->> and SQLite's json_extract give for a value: a plain value, a JSON list, a JSON
list with \\u escapes (a value Django's JSONField stored with ensure_ascii), a number."""

from __future__ import annotations

import json

import polars as pl

from pubcredit.scoring.facts import condition_expr, field_column

TYPES = field_column("CF_CFLB")
FINE = field_column("CF_NR_FK")


def matches(condition, types, fines) -> list[bool]:
    frame = pl.DataFrame({TYPES: types, FINE: fines}, schema={TYPES: pl.String, FINE: pl.String})
    return frame.select(condition_expr(condition).alias("hit")).get_column("hit").to_list()


TYPES_TEXT = [
    "罚款",
    '["罚款", "责令停产停业"]',
    json.dumps(["警告", "责令停产停业"]),  # \u escapes
    '["其他-责令改正"]',
    None,
    "[]",
]
FINES = ["5", "0.5", "100", None, "abc", "1,000"]


def test_in_not_in_and_filled_over_every_spelling():
    suspended = {"field": "CF_CFLB", "in": ["责令停产停业"]}
    assert matches(suspended, TYPES_TEXT, FINES) == [False, True, True, False, False, False]
    assert matches({"field": "CF_CFLB", "not_in": ["罚款"]}, TYPES_TEXT, FINES) == [
        False,
        False,
        True,
        True,
        True,
        True,
    ]
    assert matches({"field": "CF_CFLB", "in": ["其他"]}, TYPES_TEXT, FINES) == [
        False,
        False,
        False,
        True,
        False,
        False,
    ]
    assert matches({"field": "CF_CFLB", "filled": True}, TYPES_TEXT, FINES) == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_numbers_and_combinations():
    large = {"field": "CF_NR_FK", "gte": 5}
    assert matches(large, TYPES_TEXT, FINES) == [True, False, True, False, False, True]
    assert matches({"field": "CF_NR_FK", "lt": 5}, TYPES_TEXT, FINES) == [
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    both = {"all": [large, {"field": "CF_CFLB", "in": ["罚款"]}]}
    assert matches(both, TYPES_TEXT, FINES) == [True, False, False, False, False, False]
    either = {"any": [large, {"field": "CF_CFLB", "in": ["警告"]}]}
    assert matches(either, TYPES_TEXT, FINES) == [True, False, True, False, False, True]
