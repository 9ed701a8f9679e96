from pubcredit.testing.listkit import make_subject, seeded  # noqa: F401 (fixtures)
from pubcredit.testing.scorekit import scorecards  # noqa: F401 (fixtures)
