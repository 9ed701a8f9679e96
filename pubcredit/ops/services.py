"""Operating services: the platform administrator's account that `pubcredit setup` creates once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from pubcredit.accounts.models import Role, User
from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import create_user

ADMIN_USERNAME = "admin"
ADMIN_FIRST_NAME = "平台管理员"
# Where setup used to keep the administrator's password in clear; removed when found.
LEGACY_PASSWORD_FILE = "admin-password.txt"


@dataclass(frozen=True)
class AdminLogin:
    username: str
    password: str | None  # only on the run that created the account; never stored
    created: bool
    removed_file: Path | None = None  # a clear-text password file an older setup left, deleted


def new_password() -> str:
    """A random password that the password policy accepts (settings.AUTH_PASSWORD_VALIDATORS)."""
    account = User(username=ADMIN_USERNAME, first_name=ADMIN_FIRST_NAME)
    while True:
        password = secrets.token_urlsafe(15)  # 20 characters of A-Z a-z 0-9 - _
        try:
            validate_password(password, account)
        except ValidationError:
            continue  # rarely: fewer than three kinds of character
        return password


def ensure_admin(principal: Principal, var_dir: Path) -> AdminLogin:
    """Create the platform administrator `admin` once, with a random password that is returned
    to be shown once and stored nowhere but as the account's hash; afterwards change nothing
    (`pubcredit changepassword admin` sets a new password). The account gets the 平台管理员 role
    through the accounts service (one "accounts.create_user" audit event). A clear-text password
    file an older `setup` left in `var_dir` is deleted."""
    legacy = Path(var_dir) / LEGACY_PASSWORD_FILE
    removed = None
    if legacy.exists():
        legacy.unlink()
        removed = legacy
    if User.objects.filter(username=ADMIN_USERNAME).exists():
        return AdminLogin(ADMIN_USERNAME, None, created=False, removed_file=removed)
    password = new_password()
    create_user(
        principal,
        username=ADMIN_USERNAME,
        role=Role.PLATFORM_ADMIN,
        password=password,
        first_name=ADMIN_FIRST_NAME,
    )
    return AdminLogin(ADMIN_USERNAME, password, created=True, removed_file=removed)
