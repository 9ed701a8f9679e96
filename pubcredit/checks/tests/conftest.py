from pubcredit.testing.listkit import make_subject, seeded  # noqa: F401 (fixtures)
from pubcredit.testing.processes import shared_db  # noqa: F401 (fixtures)
