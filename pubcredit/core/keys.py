"""Secrets for a laptop install: read from the environment, else from var/keys.json (created once).

Production sets PUBCREDIT_SECRET_KEY, PUBCREDIT_FIELD_KEY and PUBCREDIT_INDEX_KEY in the environment;
losing the field key makes stored 身份证号 unreadable, so var/keys.json must be backed up with the
database when it is used.
"""

import base64
import json
import os
import secrets
from pathlib import Path

_NAMES = {
    "secret_key": "PUBCREDIT_SECRET_KEY",
    "field_key": "PUBCREDIT_FIELD_KEY",
    "index_key": "PUBCREDIT_INDEX_KEY",
}


def _new_key(name: str) -> str:
    if name == "secret_key":
        # Django's deploy check wants ≥ 50 characters with ≥ 5 distinct ones (security.W009).
        return secrets.token_urlsafe(48)
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()  # AES-256 / HMAC keys


def load_or_create_keys(var_dir: Path) -> dict[str, str]:
    keys = {name: os.environ.get(env) for name, env in _NAMES.items()}
    if all(keys.values()):
        return keys
    path = var_dir / "keys.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for name in _NAMES:
        if not stored.get(name):
            stored[name] = _new_key(name)
            changed = True
    if changed:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=2))
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    return {name: keys[name] or stored[name] for name in _NAMES}
