from pubcredit.repair.tests.kit import staff, world  # noqa: F401 (fixtures)
from pubcredit.testing.listkit import make_subject  # noqa: F401 (fixture)
