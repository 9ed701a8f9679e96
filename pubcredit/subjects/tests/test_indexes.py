"""The register's indexes on PostgreSQL: no `varchar_pattern_ops` twin where nothing searches
by LIKE / startswith (name_norm, uscc, id_index, region), name_key's kept for the fuzzy search's
prefix probes, and the unique constraints under their names."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'subjects_subject'"
        else:
            sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'subjects_subject'"
        cursor.execute(sql)
        return {name: definition or "" for name, definition in cursor.fetchall()}


def test_only_name_key_keeps_a_pattern_ops_twin():
    indexes = _indexes()
    if connection.vendor != "postgresql":
        # SQLite has no pattern-ops twins (the migration does nothing there); the identifiers
        # stay unique (its automatic indexes) and the name and district stay indexed.
        assert not [name for name in indexes if name.endswith("_like")]
        assert any("name_norm" in sql for sql in indexes.values())
        assert any("region" in sql for sql in indexes.values())
        return
    twins = sorted(name for name, sql in indexes.items() if "varchar_pattern_ops" in sql)
    assert twins == ["subjects_subject_name_key_09c93bca_like"]
    assert "subjects_subject_uscc_key" in indexes
    assert "subjects_subject_id_index_key" in indexes
    assert "subjects_subject_name_norm_a1d00a12" in indexes
    assert "subjects_subject_region_775c4813" in indexes
    assert len(indexes) == 8


def test_the_key_table_has_its_primary_key_and_the_subject_index_only():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'subjects_subjectkey'"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'subjects_subjectkey' AND sql IS NOT NULL"
            )
        names = sorted(name for (name,) in cursor.fetchall())
    # No text_pattern_ops twin of the key (migration 0006): looked up by equality only. (SQLite's
    # own index of a text primary key is automatic, without SQL, and not listed.)
    expected = ["subjects_subjectkey_subject_id_7aa98b78"]
    if connection.vendor == "postgresql":
        expected = ["subjects_subjectkey_pkey", *expected]
    assert names == expected
