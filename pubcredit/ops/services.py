"""Operating services: the platform administrator's account that `pubcredit setup` creates once."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pubcredit.accounts.models import Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import create_user

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD_FILE = "admin-password.txt"


@dataclass(frozen=True)
class AdminLogin:
    username: str
    password: str | None  # None when the saved password file is missing
    password_file: Path
    created: bool
    password_changed: bool  # the saved password no longer opens the account


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def ensure_admin(principal: Principal, var_dir: Path) -> AdminLogin:
    """Create the platform administrator `admin` once, with a random password saved (mode 0600)
    in `var_dir`/admin-password.txt; afterwards change nothing and return what is saved, noting
    when the saved password no longer works (someone changed it). The account gets the
    平台管理员 role through the accounts service (one "accounts.create_user" audit event)."""
    path = Path(var_dir) / ADMIN_PASSWORD_FILE
    user = User.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        password = secrets.token_urlsafe(12)
        # The file first: if the account were created and the file not written, nobody could
        # log in. A file left by a failed creation is simply overwritten by the next run.
        _write_secret(path, password)
        create_user(
            principal,
            username=ADMIN_USERNAME,
            role=Role.PLATFORM_ADMIN,
            password=password,
            first_name="平台管理员",
        )
        return AdminLogin(ADMIN_USERNAME, password, path, created=True, password_changed=False)
    password = None
    if path.exists():
        password = path.read_text(encoding="utf-8").strip() or None
    changed = password is not None and not user.check_password(password)
    return AdminLogin(ADMIN_USERNAME, password, path, created=False, password_changed=changed)
