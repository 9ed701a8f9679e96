"""Encryption, blind index and masking of ID numbers."""

import base64

import pytest

from pubcredit.subjects import crypto


def test_round_trip_and_random_nonce():
    clear = "370303198001011237"
    a, b = crypto.encrypt_id(clear), crypto.encrypt_id(clear)
    assert a != b  # fresh nonce each time
    assert a[0] == crypto.VERSION
    assert len(a) == 1 + 12 + len(clear) + 16
    assert clear.encode() not in a
    assert crypto.decrypt_id(a) == crypto.decrypt_id(memoryview(b)) == clear


def test_tampering_and_wrong_key_are_detected(settings):
    cipher = bytearray(crypto.encrypt_id("370303198001011237"))
    cipher[-1] ^= 1
    with pytest.raises(ValueError):
        crypto.decrypt_id(bytes(cipher))
    good = crypto.encrypt_id("370303198001011237")
    settings.PUBCREDIT_FIELD_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
    with pytest.raises(ValueError):
        crypto.decrypt_id(good)
    with pytest.raises(ValueError):
        crypto.decrypt_id(b"\x02" + good[1:])


def test_blind_index_is_keyed_and_stable(settings):
    a = crypto.blind_index("370303198001011237")
    assert a == crypto.blind_index("370303198001011237")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != crypto.blind_index("370303198001011245")
    assert crypto.blind_indexes(["370303198001011237"]) == [a]
    settings.PUBCREDIT_INDEX_KEY = base64.urlsafe_b64encode(b"i" * 32).decode()
    assert crypto.blind_index("370303198001011237") != a


def test_bad_key_is_refused(settings):
    settings.PUBCREDIT_INDEX_KEY = base64.urlsafe_b64encode(b"short").decode()
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.blind_index("x")


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("370303198001011237", "370303********1237"),
        ("G12345678901", "G12345**8901"),
        ("E1234567", "*******7"),
        ("", ""),
    ],
)
def test_mask_id(value, masked):
    assert crypto.mask_id(value) == masked
