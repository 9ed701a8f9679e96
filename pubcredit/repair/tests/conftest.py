from pubcredit.lists.tests.kit import make_subject  # noqa: F401 (fixture)
from pubcredit.repair.tests.kit import staff, world  # noqa: F401 (fixtures)
