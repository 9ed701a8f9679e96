from pubcredit.testing.loadkit import cf, department, make_submission  # noqa: F401 (fixtures)
