"""The hot path's statements are prepared on PostgreSQL by the check server's alias options
(pubcredit.settings_checks: Django's `server_side_binding`, psycopg's `prepare_threshold`), not by
anything in pubcredit.core.hotpath; the site's default options prepare nothing."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper

from pubcredit.core import hotpath

pytestmark = pytest.mark.django_db

SQL = "SELECT id, kind, name FROM subjects_subject WHERE uscc = %s"


def _prepared(wrapper) -> list[str]:
    """The connection's prepared statements (but this query, which repeats too)."""
    with wrapper.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements "
            "WHERE statement NOT LIKE '%%pg_prepared_statements%%' ORDER BY prepare_time"
        )
        return [r[0] for r in cursor.fetchall()]


def _wrapper(options: dict) -> DatabaseWrapper:
    settings_dict = {**connection.settings_dict, "OPTIONS": options}
    return DatabaseWrapper(settings_dict, alias="hotpath-probe")


def _no_prepare_options(settings_module: str) -> bool:
    """SQLite: psycopg's options must not reach it (sqlite3 would refuse them)."""
    module = importlib.import_module(settings_module)
    return "server_side_binding" not in module.DATABASES["default"].get("OPTIONS", {})


def test_the_check_servers_alias_prepares_what_it_repeats():
    checks_settings = importlib.import_module("pubcredit.settings_checks")
    options = checks_settings.CHECKS_DATABASE_OPTIONS
    assert options == {"server_side_binding": True, "prepare_threshold": 1}
    if connection.vendor != "postgresql":
        assert _no_prepare_options("pubcredit.settings_checks")
        return
    wrapper = _wrapper(dict(options))
    try:
        with wrapper.cursor() as cursor:
            cursor.execute(SQL, ["91370300MA3C00000X"])
            assert _prepared(wrapper) == []  # once: not yet (threshold 1)
            cursor.execute(SQL, ["91370300MA3C00001X"])
            cursor.execute(SQL, ["91370300MA3C00002X"])
        assert _prepared(wrapper) == ["SELECT id, kind, name FROM subjects_subject WHERE uscc = $1"]
    finally:
        wrapper.close()


def test_the_sites_alias_prepares_nothing():
    if connection.vendor != "postgresql":
        assert _no_prepare_options("pubcredit.settings")
        return
    wrapper = _wrapper({})
    try:
        with wrapper.cursor() as cursor:
            for code in ("91370300MA3C00000X", "91370300MA3C00001X", "91370300MA3C00002X"):
                cursor.execute(SQL, [code])
        assert _prepared(wrapper) == []
    finally:
        wrapper.close()


def test_fetchone_is_the_first_row_on_the_default_connection():
    from pubcredit.subjects.models import Subject

    company = Subject.objects.create(
        kind="org",
        name="淄博热路径有限公司",
        name_norm="淄博热路径有限公司",
        uscc="91370303MA3C0HP01X",
    )
    assert hotpath.fetchone(SQL, [company.uscc]) == (company.pk, "org", company.name)
    assert hotpath.fetchone(SQL, ["91370300MA3C00000X"]) is None
