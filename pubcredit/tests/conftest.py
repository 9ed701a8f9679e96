from pubcredit.testing.listkit import make_subject, seeded  # noqa: F401 (fixtures)
