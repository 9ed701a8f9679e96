import pytest

from pubcredit.accounts.permissions import Principal
from pubcredit.testing.factories import make_world


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def admin_principal(world):
    return Principal.of(world.users["platform_admin"])
