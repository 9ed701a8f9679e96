"""The applicability engine: list type × matter → measures, validity boundaries, removed and
expired entries, rewards withheld by a black-list hit."""

import datetime as dt

import pytest

from pubcredit.lists.tests.kit import identify
from pubcredit.measures.services import UnknownMatter, applicable_measures

pytestmark = pytest.mark.django_db

D = dt.date(2025, 3, 1)


def codes(measures) -> set[str]:
    return {m.code for m in measures}


def test_black_list_entry_triggers_procurement_restriction(seeded, make_subject, system):
    subject = make_subject()
    identify(system, subject, "BLK_WAGE_ARREARS")
    result = applicable_measures(subject.pk, "GOV_PROCUREMENT", D)
    assert [h.code for h in result.hits] == ["BLK_WAGE_ARREARS"]
    assert "P_RESTRICT_PROCUREMENT" in codes(result.punishments)
    assert all(m.legal_basis for m in result.punishments)
    assert result.rewards == ()


def test_unknown_matter(seeded, make_subject):
    with pytest.raises(UnknownMatter):
        applicable_measures(make_subject().pk, "NOPE", D)
