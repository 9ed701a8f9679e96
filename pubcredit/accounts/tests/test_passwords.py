"""The password policy (settings.AUTH_PASSWORD_VALIDATORS): 12 characters, 3 of the 4 kinds of
character, not like the username, not common, not all digits; every message in Chinese."""

import pytest
from django.core.exceptions import ValidationError

from pubcredit.accounts import services
from pubcredit.accounts.models import Role, User
from pubcredit.accounts.passwords import character_classes


def _refusals(admin_principal, username: str, password: str) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        services.create_user(
            admin_principal, username=username, role=Role.CENTRE_STAFF, password=password
        )
    assert not User.objects.filter(username=username).exists()
    return exc.value.messages


def test_a_password_equal_to_the_username_is_refused(admin_principal):
    messages = _refusals(admin_principal, "Zhang.San-2026", "Zhang.San-2026")
    assert messages == ["密码跟 用户名 太相似了。"]


def test_an_all_digit_password_is_refused(admin_principal):
    messages = _refusals(admin_principal, "lisi", "20261231987654")
    assert "密码只包含数字。" in messages
    assert "密码应至少包含大写字母、小写字母、数字、其他符号中的 3 种。" in messages


def test_a_short_password_is_refused(admin_principal):
    assert _refusals(admin_principal, "lisi", "Ab1-Ab1-Ab1") == ["密码太短,至少应有 12 个字符。"]


def test_two_kinds_of_character_are_not_enough(admin_principal):
    assert _refusals(admin_principal, "lisi", "zibocreditcentre2026") == [
        "密码应至少包含大写字母、小写字母、数字、其他符号中的 3 种。"
    ]


def test_a_common_password_is_refused(admin_principal):
    assert "这个密码太常见了。" in _refusals(admin_principal, "lisi", "Password1234")


def test_a_long_mixed_password_is_accepted_and_can_be_changed_to_another(admin_principal):
    user = services.create_user(
        admin_principal, username="lisi", role=Role.CENTRE_STAFF, password="Zibo-credit-2026"
    )
    assert user.check_password("Zibo-credit-2026")
    with pytest.raises(ValidationError):
        services.set_user_password(admin_principal, user, "123456789012")
    services.set_user_password(admin_principal, user, "信用淄博-centre-7")
    user.refresh_from_db()
    assert user.check_password("信用淄博-centre-7")


@pytest.mark.parametrize(
    ("password", "kinds"),
    [
        ("abcdefghijkl", 1),
        ("abcdefABCDEF", 2),
        ("abc123ABC123", 3),
        ("abc-123-ABC!", 4),
        ("信用淄博abc123", 3),  # Chinese characters count as "other"
        ("", 0),
    ],
)
def test_character_classes(password, kinds):
    assert character_classes(password) == kinds
