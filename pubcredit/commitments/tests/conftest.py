from pubcredit.checks.tests.checkkit import person_fixture  # noqa: F401 (fixtures)
from pubcredit.commitments.tests.kit import (  # noqa: F401 (fixtures)
    fast_passwords,
    media,
    platform_lists,
    staff,
)
from pubcredit.lists.tests.kit import make_subject, seeded  # noqa: F401 (fixtures)
