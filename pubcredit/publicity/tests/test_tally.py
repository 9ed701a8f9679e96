"""The counts of what is shown (PublicityTally) follow every writer of the read model — the
records flow, a department's tier, objection and repair marks, the sweep, a full refresh — and a
rebuild from the read model gives the same numbers."""

import datetime as dt

import pytest

from pubcredit.publicity import services
from pubcredit.publicity.models import PublicityMark, PublicityTally
from pubcredit.publicity.tally import public_by_month, rebuild_publicity_tally

pytestmark = pytest.mark.django_db

D = dt.date


def shown(categories) -> dict:
    codes = {c.pk: code for code, c in categories.items()}
    return {
        (codes[c], f"{month:%Y-%m}"): n
        for c, month, n in PublicityTally.objects.exclude(n=0).values_list(
            "category_id", "month", "n"
        )
    }


def test_the_counts_follow_every_writer_and_equal_a_rebuild(make_record, categories, system):
    # Judged today by the records flow: three penalties of 5000 元 (一般: 36 months under Order
    # 58 for January, 12 under Order 36 for May) and a licence valid until 31 December 2026.
    a = make_record(decision=D(2026, 1, 10))
    b = make_record(decision=D(2026, 1, 20))
    c = make_record(decision=D(2026, 5, 6))
    make_record("XK", decision=D(2025, 12, 1), valid_to=D(2026, 12, 31))
    assert shown(categories) == {("CF", "2026-01"): 2, ("CF", "2026-05"): 1, ("XK", "2025-12"): 1}

    # The department calls c 轻微: not published under Order 36; then withdraws its setting.
    services.set_tier(system, c, "minor", "情节轻微")
    assert shown(categories) == {("CF", "2026-01"): 2, ("XK", "2025-12"): 1}
    services.set_tier(system, c, None, "认定有误")
    assert shown(categories)[("CF", "2026-05")] == 1

    # An objection keeps a shown (with its flag); a granted repair stops b, lifted it comes back.
    services.add_mark(system, a, PublicityMark.Kind.OBJECTION, "异议核查中")
    repair = services.add_mark(system, b, PublicityMark.Kind.REPAIRED, "信用修复已通过")
    assert shown(categories)[("CF", "2026-01")] == 1
    services.lift_mark(system, repair, "修复决定撤销")
    assert shown(categories)[("CF", "2026-01")] == 2

    # The sweep of 2 January 2027 ends the licence (public until 31 December), once.
    assert services.sweep_publicity(D(2027, 1, 2))["ended"] == 1
    assert services.sweep_publicity(D(2027, 1, 2))["ended"] == 0
    assert shown(categories) == {("CF", "2026-01"): 2, ("CF", "2026-05"): 1}
    # A full refresh judged on the same day changes nothing.
    services.refresh_publicity(today=D(2027, 1, 2))
    kept = shown(categories)
    assert kept == {("CF", "2026-01"): 2, ("CF", "2026-05"): 1}

    frame = public_by_month(D(2027, 1, 2), D(2026, 1, 1), [categories["CF"].pk])
    assert frame.select("month", "n").rows() == [(D(2026, 1, 1), 2), (D(2026, 5, 1), 1)]
    assert rebuild_publicity_tally() == 2
    assert shown(categories) == kept
