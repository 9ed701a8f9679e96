"""`pubcredit scaleout distribute` outside Citus: a clear refusal, nothing changed. (On a Citus
cluster the command is exercised by the scale suite, `make test-citus`.)"""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pubcredit.ops import scaleout

pytestmark = pytest.mark.django_db


def test_distribute_refuses_a_database_without_citus():
    with pytest.raises(CommandError) as err:
        call_command("scaleout", "distribute")
    assert "不是 Citus 协调节点" in str(err.value)
    assert err.value.returncode == 2


def test_the_plan_names_each_large_table_once():
    kinds = scaleout.plan(
        ["subjects_subject", "records_record", "django_session", "catalog_category"]
    )
    assert kinds == {
        "subjects_subject": "distributed",
        "records_record": "distributed",
        "django_session": "local",
        "catalog_category": "reference",
    }
    assert scaleout.DISTRIBUTED["records_record"] == "subject_id"
    assert not set(scaleout.DISTRIBUTED) & scaleout.LOCAL


def test_each_table_distributed_by_subject_has_a_model_that_saves_without_moving_it():
    from django.apps import apps

    from pubcredit.core.citus import ShardedBySubject

    by_table = {m._meta.db_table: m for m in apps.get_models()}
    by_subject = {t for t, column in scaleout.DISTRIBUTED.items() if column == "subject_id"}
    assert by_subject >= {"records_record", "publicity_publicity", "repair_repairapplication"}
    not_sharded = sorted(t for t in by_subject if not issubclass(by_table[t], ShardedBySubject))
    assert not_sharded == []


def test_the_key_table_is_distributed_by_its_key_in_a_group_of_its_own():
    from pubcredit.core.citus import ShardedBySubject
    from pubcredit.subjects.models import SubjectKey

    assert scaleout.KEY_TABLE == "subjects_subjectkey" == SubjectKey._meta.db_table
    assert scaleout.DISTRIBUTED["subjects_subjectkey"] == "key"
    assert SubjectKey._meta.pk.column == "key"  # the distribution column is its primary key
    # Not co-located with the register: its rows are placed by identifier, not by subject, and
    # its subject never moves a row (an UPDATE of subject_id is an ordinary one on Citus).
    assert not issubclass(SubjectKey, ShardedBySubject)
    assert scaleout.plan(["subjects_subjectkey"]) == {"subjects_subjectkey": "distributed"}


def test_a_report_with_keys_written_counts_as_a_change():
    report = scaleout.Report(citus_version="13.2-1")
    assert not report.changed
    report.keys_written = 2
    assert report.changed
    assert report.as_dict()["keys_written"] == 2
