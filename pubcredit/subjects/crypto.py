"""Field encryption and blind index for natural persons' 身份证号.

- `encrypt_id` / `decrypt_id`: AES-256-GCM with the field key. Layout: version byte, 12-byte
  random nonce, ciphertext+tag. The version byte lets a future key rotation tell old rows apart.
- `blind_index`: HMAC-SHA256 of the normalised number with a separate index key, hex. Equal
  numbers give equal indexes, so the register finds a person without storing the clear value;
  without the index key the 10^n search space of ID numbers cannot be hashed through offline.
- `mask_id`: the public rendering (first 6 + ******** + last 4).

Keys come from settings.PUBCREDIT_FIELD_KEY / PUBCREDIT_INDEX_KEY (urlsafe base64, 32 bytes).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
NONCE_LEN = 12


def _decode_key(value: str, name: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.encode() if isinstance(value, str) else value)
    except Exception as exc:
        raise ValueError(f"{name} is not urlsafe base64") from exc
    if len(key) != 32:
        raise ValueError(f"{name} must decode to 32 bytes, got {len(key)}")
    return key


@functools.lru_cache(maxsize=4)
def _aead(field_key: str) -> AESGCM:
    return AESGCM(_decode_key(field_key, "PUBCREDIT_FIELD_KEY"))


@functools.lru_cache(maxsize=4)
def _hmac_base(index_key: str):
    return hmac.new(_decode_key(index_key, "PUBCREDIT_INDEX_KEY"), digestmod=hashlib.sha256)


def _settings():
    # Imported here: keys are read from settings at call time (tests override them).
    from django.conf import settings

    return settings


def encrypt_id(clear: str) -> bytes:
    """AES-GCM ciphertext of `clear` (UTF-8): version byte + nonce + ciphertext and tag."""
    nonce = os.urandom(NONCE_LEN)
    aead = _aead(_settings().PUBCREDIT_FIELD_KEY)
    return bytes([VERSION]) + nonce + aead.encrypt(nonce, clear.encode("utf-8"), None)


def decrypt_id(cipher: bytes) -> str:
    """The clear value of an `encrypt_id` result; raises ValueError if it was tampered with or
    encrypted under another key."""
    # Imported here: only decryption needs it.
    from cryptography.exceptions import InvalidTag

    data = bytes(cipher)
    if len(data) < 1 + NONCE_LEN + 16 or data[0] != VERSION:
        raise ValueError("unknown ciphertext format")
    nonce, body = data[1 : 1 + NONCE_LEN], data[1 + NONCE_LEN :]
    try:
        clear = _aead(_settings().PUBCREDIT_FIELD_KEY).decrypt(nonce, body, None)
    except InvalidTag as exc:
        raise ValueError("ciphertext does not authenticate under the field key") from exc
    return clear.decode("utf-8")


def blind_index(normalized_id: str) -> str:
    """HMAC-SHA256 hex (64 chars) of an already normalised number. Cheap enough for 1M calls:
    the keyed HMAC state is built once and copied."""
    h = _hmac_base(_settings().PUBCREDIT_INDEX_KEY).copy()
    h.update(normalized_id.encode("utf-8"))
    return h.hexdigest()


def blind_indexes(normalized_ids: list[str]) -> list[str]:
    """`blind_index` over a list (bulk loaders)."""
    base = _hmac_base(_settings().PUBCREDIT_INDEX_KEY)
    out = []
    for value in normalized_ids:
        h = base.copy()
        h.update(value.encode("utf-8"))
        out.append(h.hexdigest())
    return out


def mask_id(value: str) -> str:
    """First 6 + "********" + last 4 for an 18-character number ("370303********1239");
    generally, when longer than 10 characters, the first 6 and last 4 kept and the middle
    masked; shorter values are masked entirely except the last character."""
    value = value or ""
    n = len(value)
    if n > 10:
        return value[:6] + "*" * (n - 10) + value[-4:]
    if n <= 1:
        return "*" * n
    return "*" * (n - 1) + value[-1]
