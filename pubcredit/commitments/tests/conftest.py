from pubcredit.testing.checkkit import person_fixture  # noqa: F401 (fixtures)
from pubcredit.testing.commitkit import (  # noqa: F401 (fixtures)
    fast_passwords,
    media,
    platform_lists,
    staff,
)
from pubcredit.testing.listkit import make_subject, seeded  # noqa: F401 (fixtures)
