import pytest

from pubcredit.catalog import services


@pytest.fixture
def catalogue(db, system):
    """The shipped catalogue imported into the test database; returns the import counts."""
    return services.import_catalogue(system)
