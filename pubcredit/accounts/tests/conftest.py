import pytest

from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.tests.factories import make_world


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # PBKDF2's deliberate slowness costs seconds per test that creates users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def admin_principal(world):
    return Principal.of(world.users["platform_admin"])
