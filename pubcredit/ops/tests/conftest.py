from pubcredit.testing.loadkit import cf, department  # noqa: F401 (fixtures)
from pubcredit.testing.processes import shared_db  # noqa: F401 (fixtures)
