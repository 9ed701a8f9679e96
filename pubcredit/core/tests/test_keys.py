"""Secrets generated for a laptop install (core.keys)."""

import base64
import json

from pubcredit.core.keys import load_or_create_keys


def test_generated_keys_are_fit_for_their_use(tmp_path, monkeypatch):
    for env in ("PUBCREDIT_SECRET_KEY", "PUBCREDIT_FIELD_KEY", "PUBCREDIT_INDEX_KEY"):
        monkeypatch.delenv(env, raising=False)
    keys = load_or_create_keys(tmp_path)
    # Django's deploy check (security.W009): at least 50 characters, at least 5 distinct.
    assert len(keys["secret_key"]) >= 50 and len(set(keys["secret_key"])) >= 5
    # AES-256-GCM and the HMAC index take 32 bytes.
    assert len(base64.urlsafe_b64decode(keys["field_key"])) == 32
    assert len(base64.urlsafe_b64decode(keys["index_key"])) == 32
    # Stored once (mode 0600) and read back unchanged.
    path = tmp_path / "keys.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_keys(tmp_path) == keys == json.loads(path.read_text())


def test_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("PUBCREDIT_SECRET_KEY", "s" * 60)
    monkeypatch.setenv("PUBCREDIT_FIELD_KEY", "f")
    monkeypatch.setenv("PUBCREDIT_INDEX_KEY", "i")
    assert load_or_create_keys(tmp_path) == {
        "secret_key": "s" * 60,
        "field_key": "f",
        "index_key": "i",
    }
    assert not (tmp_path / "keys.json").exists()
