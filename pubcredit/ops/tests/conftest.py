from pubcredit.testing.loadkit import department  # noqa: F401 (fixtures)
from pubcredit.testing.processes import shared_db  # noqa: F401 (fixtures)
