from pubcredit.testing.scorekit import scorecards  # noqa: F401 (fixtures)
