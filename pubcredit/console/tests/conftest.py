from pubcredit.testing.commitkit import (  # noqa: F401 (fixtures)
    fast_passwords,
    media,
    staff,
)
from pubcredit.testing.listkit import make_subject, seeded  # noqa: F401 (fixtures)
