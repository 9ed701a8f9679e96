"""The OpenAPI document at /api/v1/openapi.json describes every operation correctly: no two
schemas share a component name (django-ninja keeps the last one it meets under a name, silently,
so every other operation using that name would be documented with the wrong schema)."""

from __future__ import annotations

import typing
from collections import defaultdict

import pydantic
import pytest

from pubcredit.api import api


def _models(annotation, found: set) -> None:
    """Every pydantic model reachable from a type annotation (fields, lists, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        if annotation not in found:
            found.add(annotation)
            for field in annotation.model_fields.values():
                _models(field.annotation, found)
        return
    for argument in typing.get_args(annotation):
        _models(argument, found)


def operations():
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            yield from path_view.operations


def schemas_by_name() -> dict[str, set[str]]:
    found: set = set()
    for operation in operations():
        for model in operation.models:  # the parameters and the body
            _models(model, found)
        for model in (operation.response_models or {}).values():
            _models(model, found)
    names = defaultdict(set)
    for model in found:
        names[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    return names


def test_no_two_schemas_share_a_name():
    shared = {name: sorted(where) for name, where in schemas_by_name().items() if len(where) > 1}
    assert shared == {}


def test_the_walk_sees_the_schemas_of_every_app():
    """The test above looks where it should: it meets schemas of the apps' routers, including
    nested ones, and the one error shape."""
    names = schemas_by_name()
    assert names["ErrorOut"] == {"pubcredit.core.apitypes.ErrorOut"}
    for name in ("CheckOut", "CheckSubjectOut", "PublicSubjectOut", "EntryOut", "MeOut"):
        assert name in names


@pytest.mark.django_db
def test_the_document_names_each_component_once(client):
    document = client.get("/api/v1/openapi.json").json()
    components = set(document["components"]["schemas"])
    assert {"ErrorOut", "CheckSubjectOut", "PublicSubjectOut", "SubjectOut"} <= components
    # the check's answer documents the check's subject, not the portal's or the register's
    check = document["components"]["schemas"]["CheckOut"]["properties"]["subject"]
    assert "CheckSubjectOut" in str(check)
