# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""The key table (subjects.keys) off Citus: its one encoding, its backfill statement, and the
promise that on SQLite and a single PostgreSQL it stays empty (every writer leaves it alone and
the register's own unique indexes serve the look-ups). On Citus the scale suite (`make
test-citus`) holds the rest: keys written with the subject, on one shard, found by a check."""

import pytest
from django.db import connection, transaction

from pubcredit.intake import loading
from pubcredit.subjects import crypto, keys
from pubcredit.subjects.models import Subject, SubjectKey
from pubcredit.subjects.services import find_subject, register_subject
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    accepted_frame,
    cf,
    cf_row,
    department,
    make_ric,
    make_submission,
    make_uscc,
)

pytestmark = pytest.mark.django_db

USCC = "91370303MA3C000017"  # a valid code (its check character 7)
RIC = "370303198001011234"  # a valid 身份证号 (its check character 4)


def test_a_key_is_a_prefix_and_the_identifier_as_the_register_holds_it():
    index = "ab" * 32
    assert keys.subject_key("uscc", USCC) == "U:91370303MA3C000017"
    assert keys.subject_key("id_index", index) == "I:" + "ab" * 32
    assert keys.key_sql("uscc", "s.uscc") == "'U:' || s.uscc"
    assert keys.key_sql("id_index", "id_index") == "'I:' || id_index"
    with pytest.raises(KeyError):
        keys.subject_key("name", "淄博某公司")


def test_the_encoding_applies_to_a_frame_column_too():
    import polars as pl

    frame = pl.DataFrame({"uscc": [USCC, "92370303MA3C000027"]})
    out = frame.select(keys.subject_key("uscc", pl.col("uscc"))).to_series().to_list()
    assert out == ["U:91370303MA3C000017", "U:92370303MA3C000027"]


def test_the_table_stays_empty_off_citus_and_the_register_serves_the_look_up(system):
    org = register_subject(system, kind="org", name="淄博键表示范有限公司", uscc=USCC)
    person = register_subject(system, kind="person", name="李四", id_number=RIC)
    assert not keys.maintained()
    assert SubjectKey.objects.count() == 0
    assert find_subject(uscc=USCC).subject == org
    assert find_subject(id_number=RIC).subject == person
    assert list(keys.find(Subject.objects.all(), "uscc", USCC)) == [org]
    assert list(keys.find(Subject.objects.filter(kind="person"), "uscc", USCC)) == []
    # Off Citus a registration's key is decided by the register's unique index: nothing written.
    assert keys.claim("uscc", "91370303MA3C00003D", org.pk) is True
    assert SubjectKey.objects.count() == 0


def test_intake_registers_subjects_without_keys_off_citus(make_submission):
    rows = [cf_row(1), cf_row(2, kind="自然人", name="王五")]
    with transaction.atomic():
        result = loading.load_accepted(make_submission(), accepted_frame(rows))
    assert result.subjects_created == 2
    assert Subject.objects.filter(uscc=make_uscc(1)).exists()
    index = crypto.blind_index(make_ric(2))
    assert Subject.objects.filter(id_index=index, kind="person").exists()
    assert SubjectKey.objects.count() == 0


def test_the_backfill_writes_each_identifier_once_and_nothing_the_second_time(system):
    org = register_subject(system, kind="org", name="淄博回填示范有限公司", uscc=USCC)
    person = register_subject(system, kind="person", name="赵六", id_number=RIC)
    register_subject(system, kind="org", name="淄博无码合作社")  # no identifier: no key
    with connection.cursor() as cursor:
        assert keys.fill_from_register(cursor) == 2
        assert keys.fill_from_register(cursor) == 0
    assert sorted(SubjectKey.objects.values_list("key", "subject_id")) == sorted(
        [
            ("U:91370303MA3C000017", org.pk),
            ("I:" + crypto.blind_index(RIC), person.pk),
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(keys.LOOKUP_SQL, ["U:91370303MA3C000017"])
        assert cursor.fetchall() == [(org.pk,)]
