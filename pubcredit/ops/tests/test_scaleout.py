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
