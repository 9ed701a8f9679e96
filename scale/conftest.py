"""The scale suite (`make test-citus`): the platform on a real Citus cluster, a coordinator and
two workers (`../shared/vendor/citus/cluster.sh start`), reached through DATABASE_URL naming the
coordinator and a database of the suite's own (`postgres://postgres@127.0.0.1:5440/pubcredit_scale`).

pytest-django does not create the test database here: Citus does not create a database on the
workers (CREATE DATABASE is not propagated), so the session fixture below drops and creates the
named database on the coordinator and on every worker the coordinator's `postgres` database
lists (pg_dist_node), creates the extension in each, registers the workers in it, then runs
the real `migrate`, imports the shipped reference data through the services (as `setup` does)
and runs `pubcredit scaleout distribute`. Each test then runs in a transaction rolled back at its
end, as in the main suite. Outside `make test`: pyproject's testpaths name only `pubcredit/`."""

from __future__ import annotations

import os

import pytest


def _nodes(url: dict) -> list[tuple[str, int]]:
    import psycopg

    with psycopg.connect(
        host=url["HOST"], port=url["PORT"], user=url["USER"], dbname="postgres", autocommit=True
    ) as conn:
        rows = conn.execute(
            "SELECT nodename, nodeport FROM pg_dist_node WHERE noderole = 'primary' "
            "AND nodeport <> %s ORDER BY nodeid",
            [int(url["PORT"])],
        ).fetchall()
    return [(host, port) for host, port in rows]


def _distributed(url: dict) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            host=url["HOST"], port=url["PORT"], user=url["USER"], dbname=url["NAME"]
        ) as conn:
            return bool(conn.execute("SELECT count(*) FROM pg_dist_partition").fetchone()[0])
    except psycopg.Error:
        return False


def _fresh_database(url: dict) -> None:
    """The suite's database, new, on the coordinator and every worker, with Citus in it."""
    import psycopg

    name = url["NAME"]
    coordinator = (url["HOST"], int(url["PORT"]))
    workers = _nodes(url)
    assert workers, "the coordinator lists no worker: run cluster.sh start"
    for host, port in [coordinator, *workers]:
        with psycopg.connect(
            host=host, port=port, user=url["USER"], dbname="postgres", autocommit=True
        ) as conn:
            conn.execute("SET client_min_messages = warning")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(
            host=host, port=port, user=url["USER"], dbname=name, autocommit=True
        ) as conn:
            conn.execute("SET client_min_messages = warning")
            conn.execute("CREATE EXTENSION citus")
    with psycopg.connect(
        host=coordinator[0], port=coordinator[1], user=url["USER"], dbname=name, autocommit=True
    ) as conn:
        conn.execute("SELECT citus_set_coordinator_host(%s, %s)", list(coordinator))
        for host, port in workers:
            conn.execute("SELECT citus_add_node(%s, %s)", [host, port])


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker):
    from django.conf import settings
    from django.core.management import call_command

    from pubcredit.accounts.permissions import Principal
    from pubcredit.testing import reference as refdata

    url = settings.DATABASES["default"]
    assert url["ENGINE"] == "django.db.backends.postgresql", "the scale suite needs Citus"
    with django_db_blocker.unblock():
        if os.environ.get("PUBCREDIT_SCALE_REUSE") == "1" and _distributed(url):
            yield  # a developer's re-run on the database the last run left
            return
        _fresh_database(url)
        call_command("migrate", verbosity=0, interactive=False)
        refdata.import_all(Principal.system("scale"))
        _register_before_distribution()
        call_command("scaleout", "distribute", verbosity=0)
    yield


# Subjects in the register before `distribute`, without key rows: a register moved from a single
# PostgreSQL (where the key table is empty) onto Citus. `distribute` backfills their keys
# (test_scale.py::test_distribute_backfills_the_keys_of_the_subjects_registered_before).
BEFORE_ORG = ("淄博分布前示范有限公司", 88_001)  # name, loadkit.make_uscc seed
BEFORE_PERSON = ("周八", 88_002)  # name, loadkit.make_ric seed


def _register_before_distribution() -> None:
    from pubcredit.subjects import names
    from pubcredit.subjects.models import Subject, SubjectKey
    from pubcredit.subjects.services import person_id_fields
    from pubcredit.testing.loadkit import make_ric, make_uscc

    def fields(name):
        norm = names.normalize_name(name)
        return {"name": name, "name_norm": norm, "name_key": names.name_keys([norm])[0]}

    code = make_uscc(BEFORE_ORG[1])
    Subject.objects.create(
        kind="org", uscc=code, org_category="91", region="370303", **fields(BEFORE_ORG[0])
    )
    Subject.objects.create(
        kind="person",
        id_type="身份证",
        region="370303",
        **person_id_fields(make_ric(BEFORE_PERSON[1])),
        **fields(BEFORE_PERSON[0]),
    )
    assert SubjectKey.objects.count() == 0  # the ORM's create writes no key: as on PostgreSQL


# The project's own per-process fixtures (pubcredit/conftest.py, which pytest does not load for a
# directory outside the package): media and signing key in temporary folders, tasks run at once,
# the default language, process caches dropped after each test, the system principal.
from pubcredit.conftest import (  # noqa: E402, F401
    _default_language,
    _fresh_process_caches,
    _immediate_tasks,
    _worker_media,
    _worker_signing_key,
    system,
)


@pytest.fixture
def reference(db):
    """The shipped reference data, imported once by `django_db_setup`."""
    return None


@pytest.fixture
def catalogue(reference):
    return None
