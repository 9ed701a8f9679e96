"""The portal, its public API and the credit check show the same last day of a penalty's
publicity: the last day it is public (inclusive), "公示期 start 至 last day"."""

import datetime as dt

import pytest

from pubcredit.checks.services import run_check
from pubcredit.publicity.models import Publicity, last_public_day
from pubcredit.testing.portalkit import make_uscc, penalty, subject_of, submit

pytestmark = pytest.mark.django_db

ACME = make_uscc(731)


def test_last_public_day_is_the_day_before_the_exclusive_end():
    assert last_public_day(dt.date(2029, 5, 10)) == dt.date(2029, 5, 9)
    assert last_public_day(dt.date(2027, 1, 1)) == dt.date(2026, 12, 31)
    assert last_public_day(None) is None


def test_portal_api_and_check_agree_on_a_penalty_publicity_end(client, reference, system):
    row = penalty(1, name="淄博恒通化工有限公司", uscc=ACME, types="吊销许可证件")
    row.update(
        CF_JDRQ="2026-05-10",
        CF_YXQ="2027-05-10",
        CF_NR="吊销食品经营许可证",
        CF_NR_ZKDX="食品经营许可证 JY13703030012345",
    )
    submit(system, "CF", [row])
    subject = subject_of(ACME)
    window = Publicity.objects.get(subject=subject)
    # A serious penalty under Order 36 (from 2026-04-01) is public for at most 3 years from the
    # decision date: public from 2026-05-10 through 2029-05-09, no longer on 2029-05-10.
    assert (window.start, window.end) == (dt.date(2026, 5, 10), dt.date(2029, 5, 10))

    html = client.get(f"/subjects/{subject.pk}/", {"tab": "penalties"}).content.decode()
    assert "2026-05-10 至 2029-05-09" in html
    assert "2029-05-10" not in html

    api = client.get(f"/api/v1/public/subjects/{subject.pk}/records", {"tab": "penalties"})
    (item,) = api.json()["items"]
    assert (item["publicity_start"], item["publicity_end"]) == ("2026-05-10", "2029-05-09")

    result = run_check(system, uscc=ACME, matter="GOV_PROCUREMENT", today=dt.date(2026, 12, 1))
    (hit,) = [h for h in result.result["hits"] if h["source"] == "record"]
    assert (hit["valid_from"], hit["valid_to"]) == ("2026-05-10", "2029-05-09")
