"""pubcredit.core.bulkload on the database under test (SQLite by default, PostgreSQL with
DATABASE_URL): values round-trip exactly, defaults are filled, ids are reserved, indexes are
deferred and rebuilt, and a failing load leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import json
import threading

import polars as pl
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pubcredit.accounts.models import AuditEvent
from pubcredit.core.bulkload import (
    bulk_copy,
    deferred_indexes,
    estimated_rows,
    prepare_rows,
    reserve_ids,
)
from pubcredit.subjects.models import FormerName, Subject

pytestmark = pytest.mark.django_db

# Values that trip naive serialisers: CSV quotes, separators, newlines, backslashes, PostgreSQL's
# end-of-data marker, the text "NULL", leading/trailing spaces, non-BMP characters.
TRICKY = ['他说"你好",再见', "a,b\nc", "C:\\dir\\file", "\\.", "NULL", "  空格  ", "𠀀𪚥"]

COLUMNS = [
    "kind",
    "org_category",
    "name",
    "name_norm",
    "uscc",
    "id_cipher",
    "id_index",
    "id_masked",
    "id_type",
    "region",
    "legal_representative",
    "established_on",
]


def _rows():
    rows = []
    for i, text in enumerate(TRICKY):
        person = i % 2 == 1
        rows.append(
            (
                "person" if person else "org",
                "" if person else "91",
                f"名称{i}{text}",
                f"名称{i}",
                None if person else f"91370303MA{i:07d}X",
                bytes([0, 1, 2, 255, 92, 44, 34, 10, i]) if person else None,
                f"idx{i}" if person else None,
                "" if not person else f"370303********{i:04d}",
                "身份证" if person else "",
                "370303",
                text,
                None if i % 3 == 0 else dt.date(1999, 12, 31) - dt.timedelta(days=i),
            )
        )
    # An empty byte string and an empty name part are values, not NULLs.
    rows.append(
        ("person", "", "空值", "空值", None, b"", "idx-empty", "", "身份证", "370303", "", None)
    )
    return rows


def _frame(rows) -> pl.DataFrame:
    schema = {
        "kind": pl.String,
        "org_category": pl.String,
        "name": pl.String,
        "name_norm": pl.String,
        "uscc": pl.String,
        "id_cipher": pl.Binary,
        "id_index": pl.String,
        "id_masked": pl.String,
        "id_type": pl.String,
        "region": pl.String,
        "legal_representative": pl.String,
        "established_on": pl.Date,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _read_back():
    out = []
    for s in Subject.objects.order_by("id"):
        out.append(
            (
                s.kind,
                s.org_category,
                s.name,
                s.name_norm,
                s.uscc,
                None if s.id_cipher is None else bytes(s.id_cipher),
                s.id_index,
                s.id_masked,
                s.id_type,
                s.region,
                s.legal_representative,
                s.established_on,
            )
        )
    return out


@pytest.mark.parametrize("shape", ["frame", "tuples"])
def test_round_trip_is_exact(shape):
    rows = _rows()
    before = timezone.now()
    data = _frame(rows) if shape == "frame" else iter(rows)
    written = bulk_copy(Subject, COLUMNS, data, batch_size=3)
    assert written == len(rows)
    assert _read_back() == rows
    # Fields left out were filled like Model() would fill them.
    for s in Subject.objects.all():
        assert before - dt.timedelta(seconds=5) <= s.created_at <= timezone.now()
        assert s.updated_at == s.created_at
        if any(f.name == "name_key" for f in Subject._meta.concrete_fields):
            assert s.name_key == ""


def test_frame_with_extra_columns_and_other_order():
    rows = _rows()
    frame = _frame(rows).with_columns(pl.lit("ignored").alias("something_else"))
    frame = frame.select(list(reversed(frame.columns)))
    bulk_copy(Subject, COLUMNS, frame)
    assert _read_back() == rows


def test_foreign_keys_by_attname_and_name():
    bulk_copy(Subject, ["id", *COLUMNS], [(10_001, *_rows()[0])])
    bulk_copy(
        FormerName,
        ["subject_id", "name", "name_norm", "used_until"],
        [(10_001, "旧名", "旧名", None)],
    )
    bulk_copy(
        FormerName,
        ["subject", "name", "name_norm", "used_until"],
        pl.DataFrame(
            {
                "subject": [10_001],
                "name": ["更旧的名"],
                "name_norm": ["更旧的名"],
                "used_until": [dt.date(2001, 2, 3)],
            }
        ),
    )
    names = dict(FormerName.objects.filter(subject_id=10_001).values_list("name", "used_until"))
    assert names == {"旧名": None, "更旧的名": dt.date(2001, 2, 3)}


@pytest.mark.parametrize("shape", ["frame", "tuples"])
def test_json_and_datetimes(shape):
    at = dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC)
    before = {"名称": "淄博宏达", "n": 3, "list": [1, "二"], "quote": 'a"b'}
    rows = [("系统", "demo.test", "subjects.subject", "1", "淄博宏达", before, None, "", at)]
    columns = [
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
        "reason",
        "at",
    ]
    if shape == "frame":
        frame = pl.DataFrame(
            {
                "actor_label": ["系统"],
                "action": ["demo.test"],
                "object_type": ["subjects.subject"],
                "object_id": ["1"],
                "object_repr": ["淄博宏达"],
                # JSON given as text (what intake holds after its own serialisation)…
                "before": [json.dumps(before, ensure_ascii=False)],
                # …or as a polars struct, encoded by polars.
                "after": pl.Series([{"a": 1, "b": "二"}]),
                "reason": [""],
                "at": pl.Series([at]).dt.convert_time_zone("Asia/Shanghai"),
            }
        )
        bulk_copy(AuditEvent, columns, frame)
    else:
        bulk_copy(AuditEvent, columns, rows)
    event = AuditEvent.objects.get(action="demo.test")
    assert event.before == before
    assert event.after == ({"a": 1, "b": "二"} if shape == "frame" else None)
    assert event.at == at  # the listed value wins over auto_now_add


def test_naive_datetimes_are_read_in_the_current_time_zone():
    naive = dt.datetime(2026, 1, 1, 8, 0, 0)
    frame = pl.DataFrame(
        {"actor_label": ["x"], "action": ["demo.naive"], "object_type": ["t"], "at": [naive]}
    )
    bulk_copy(AuditEvent, ["actor_label", "action", "object_type", "at"], frame)
    event = AuditEvent.objects.get(action="demo.naive")
    assert event.at == timezone.make_aware(naive)  # 08:00 Asia/Shanghai = 00:00 UTC
    assert event.at.astimezone(dt.UTC).hour == 0


def test_a_failing_load_leaves_nothing():
    rows = _rows()
    duplicate = [*rows, rows[0]]  # same USCC twice
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_copy(Subject, COLUMNS, _frame(duplicate))
    assert Subject.objects.count() == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_copy(Subject, COLUMNS, iter(duplicate))
    assert Subject.objects.count() == 0


def test_bad_input_is_refused_before_writing():
    with pytest.raises(ValueError, match="no concrete field"):
        bulk_copy(Subject, ["nope"], [("x",)])
    with pytest.raises(ValueError, match="listed twice"):
        bulk_copy(Subject, ["name", "name"], [("x", "y")])
    with pytest.raises(ValueError, match="values, expected"):
        bulk_copy(Subject, COLUMNS, [("org",)])
    with pytest.raises(ValueError, match="lacks columns"):
        bulk_copy(Subject, COLUMNS, pl.DataFrame({"kind": ["org"]}))
    with pytest.raises(TypeError, match="Binary"):
        frame = _frame(_rows()).with_columns(pl.col("id_cipher").bin.encode("hex"))
        bulk_copy(Subject, COLUMNS, frame)
    assert Subject.objects.count() == 0


def test_empty_inputs():
    assert bulk_copy(Subject, COLUMNS, _frame([])) == 0
    assert bulk_copy(Subject, COLUMNS, []) == 0


def test_reserve_ids_gives_disjoint_contiguous_blocks():
    with transaction.atomic():
        Subject.objects.create(kind="org", name="先有的", name_norm="先有的", region="370303")
        first = reserve_ids(Subject, 5)
        second = reserve_ids(Subject, 3)
        assert len(first) == 5 and len(second) == 3
        assert first.start > Subject.objects.get().id
        assert second.start >= first.stop
        rows = [(i, "org", f"主体{i}", f"主体{i}", "370303") for i in first]
        bulk_copy(Subject, ["id", "kind", "name", "name_norm", "region"], rows)
        # The ORM's next id comes after every reserved block, never inside one.
        later = Subject.objects.create(
            kind="org", name="后来的", name_norm="后来的", region="370303"
        )
        assert later.id >= second.stop


@pytest.mark.django_db(transaction=True)
def test_reserve_ids_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="transaction"):
        reserve_ids(Subject, 1)


def _index_definitions() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = %s", [Subject._meta.db_table]
            )
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
                [Subject._meta.db_table],
            )
        return {row[0] for row in cursor.fetchall() if row[0]}


def test_deferred_indexes_are_rebuilt_identically_and_constraints_stay():
    before = _index_definitions()
    with transaction.atomic():
        with deferred_indexes(Subject) as dropped:
            during = _index_definitions()
            bulk_copy(Subject, COLUMNS, _frame(_rows()))
            # Uniqueness is still enforced while the plain indexes are gone.
            with pytest.raises(IntegrityError), transaction.atomic():
                bulk_copy(Subject, COLUMNS, _frame(_rows()[:1]))
        after = _index_definitions()
    assert after == before
    if connection.vendor == "postgresql":
        assert dropped, "plain indexes such as name_norm's are deferred"
        assert not any("UNIQUE" in d for d in before - during)
        assert not any(d for d in before - during if "pkey" in d)
        assert any("name_norm" in d for d in before - during)
    else:
        assert dropped == [] and during == before
    assert Subject.objects.count() == len(_rows())


def test_estimated_rows():
    if connection.vendor != "postgresql":
        assert estimated_rows(Subject) == 0
    bulk_copy(Subject, COLUMNS, _frame(_rows()))
    if connection.vendor == "postgresql":
        # The planner's estimate (pg_class.reltuples), current after ANALYZE.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Subject._meta.db_table}")
    assert estimated_rows(Subject) == len(_rows())


def test_prepared_rows_written_later_and_bound_to_their_model():
    # Prepared in a worker thread (no database there), written in the test's transaction.
    out = {}
    worker = threading.Thread(
        target=lambda: out.update(rows=prepare_rows(Subject, COLUMNS, _frame(_rows())))
    )
    worker.start()
    worker.join()
    rows = out["rows"]
    with pytest.raises(ValueError, match="another model"):
        bulk_copy(FormerName, [], rows)
    assert bulk_copy(Subject, [], rows) == len(_rows())
    assert _read_back() == _rows()
