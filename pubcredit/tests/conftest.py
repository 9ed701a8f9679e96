import pytest

from pubcredit.testing.listkit import make_subject, seeded  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, _worker_media):
    """The API's small demo city with callers of every role (apiworld.py), once per module."""
    from pubcredit.testing.democity import committed_city
    from pubcredit.tests import apiworld

    with committed_city(django_db_blocker, apiworld.build, MEDIA_ROOT=_worker_media) as w:
        yield w
