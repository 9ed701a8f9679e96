"""`pubcredit setup` on a production site: the administrator's password shown once and stored
nowhere; no demo city unless asked for; demo staff accounts (published password) only with
DEBUG on."""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from pubcredit.accounts.models import User
from pubcredit.demo.services import DEMO_PASSWORD, ensure_demo_accounts
from pubcredit.subjects.models import Subject

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = {
    "demo_centre",
    "demo_clerk",
    "demo_clerk2",
    "demo_district",
    "demo_district2",
    "demo_window",
    "demo_bank",
    "demo_enterprise",
}


def _setup(*args: str) -> str:
    out = io.StringIO()
    call_command("setup", *args, stdout=out)
    return out.getvalue()


def _demo_users() -> set[str]:
    return set(User.objects.filter(username__startswith="demo_").values_list("username", flat=True))


def test_the_admin_password_is_printed_once_and_stored_nowhere(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first = _setup()
    password = re.search(r"管理员密码:  (\S+)", first).group(1)
    assert "仅显示这一次" in first
    assert User.objects.get(username="admin").check_password(password)
    assert len(password) >= 12
    # Nothing under VAR_DIR holds it (the old setup wrote admin-password.txt there).
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and password in p.read_text()]

    second = _setup()
    assert password not in second
    assert "pubcredit changepassword admin" in second
    assert "已创建管理员账号" not in second
    assert User.objects.filter(username="admin").count() == 1


def test_setup_deletes_the_clear_text_password_file_an_older_setup_left(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    _setup()
    legacy = tmp_path / "admin-password.txt"
    legacy.write_text("an-old-Password-1\n")
    out = _setup()
    assert not legacy.exists()
    assert "已删除旧版本保存的明文管理员密码文件" in out
    assert "an-old-Password-1" not in out


def test_setup_loads_no_demo_city_and_no_demo_accounts_unless_asked(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = True
    out = _setup()
    assert not Subject.objects.exists()
    assert _demo_users() == set()
    assert "演示账号" not in out and DEMO_PASSWORD not in out


def test_demo_accounts_are_never_created_without_debug(settings, tmp_path, system):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = False
    out = _setup("--demo-subjects", "100")
    assert Subject.objects.count() == 100  # the demo city was asked for
    assert _demo_users() == set()  # its accounts were not
    assert "未创建演示账号" in out and DEMO_PASSWORD not in out
    with pytest.raises(ValidationError, match="调试模式"):
        ensure_demo_accounts(system)
    assert _demo_users() == set()


def test_demo_accounts_with_debug_and_a_warning_once_debug_is_off(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = True
    out = _setup("--demo-subjects", "100")
    assert _demo_users() == DEMO_USERNAMES
    assert DEMO_PASSWORD in out
    settings.DEBUG = False
    out = _setup("--demo-subjects", "100")
    assert DEMO_PASSWORD not in out
    assert "警告:演示账号" in out and "demo_bank" in out
