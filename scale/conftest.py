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
        call_command("scaleout", "distribute", verbosity=0)
    yield


@pytest.fixture
def system():
    from pubcredit.accounts.permissions import Principal

    return Principal.system("test")


@pytest.fixture(scope="session", autouse=True)
def _worker_media(tmp_path_factory):
    from django.test import override_settings

    media = tmp_path_factory.mktemp("media")
    with override_settings(MEDIA_ROOT=media):
        yield media


@pytest.fixture(scope="session", autouse=True)
def _worker_signing_key(tmp_path_factory):
    from django.test import override_settings

    folder = tmp_path_factory.mktemp("signing")
    with override_settings(
        PUBCREDIT_SIGNING_DIR=folder, PUBCREDIT_SIGNING_KEY="", PUBCREDIT_SIGNING_CERT=""
    ):
        yield folder


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    yield
    from pubcredit.holidays import services as holidays
    from pubcredit.testing import reference as refdata

    refdata.clear_caches()
    holidays.clear_cache()


@pytest.fixture
def reference(db):
    """The shipped reference data, imported once by `django_db_setup`."""
    return None


@pytest.fixture
def catalogue(reference):
    return None
