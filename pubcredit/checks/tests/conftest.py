from pubcredit.lists.tests.kit import make_subject, seeded  # noqa: F401 (fixtures)
