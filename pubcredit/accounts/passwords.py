"""The password policy's own rules (settings.AUTH_PASSWORD_VALIDATORS lists them beside Django's
similarity, common-password and all-digits validators): at least 12 characters, mixing at least
three of the four kinds of character.
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The four kinds: upper-case letters, lower-case letters, digits, anything else (punctuation,
# spaces, Chinese characters…).
CHARACTER_CLASSES = (str.isupper, str.islower, str.isdigit)


def character_classes(password: str) -> int:
    """How many of the four kinds of character `password` holds."""
    kinds = sum(any(test(c) for c in password) for test in CHARACTER_CLASSES)
    other = any(not (c.isupper() or c.islower() or c.isdigit()) for c in password)
    return kinds + other


class CharacterClassesValidator:
    """At least `min_classes` (default 3) of: upper case, lower case, digits, other characters."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                _("密码应至少包含大写字母、小写字母、数字、其他符号中的 %(n)s 种。")
                % {"n": self.min_classes},
                code="password_too_simple",
                params={"min_classes": self.min_classes},
            )

    def get_help_text(self) -> str:
        return _("密码应至少包含大写字母、小写字母、数字、其他符号中的 %(n)s 种。") % {
            "n": self.min_classes
        }


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule (default here: 12), with its message in Chinese (Django's own
    Chinese catalogue lacks it)."""

    def __init__(self, min_length: int = 12):
        super().__init__(min_length)

    def get_error_message(self) -> str:
        return _("密码太短,至少应有 %(n)s 个字符。") % {"n": self.min_length}

    def get_help_text(self) -> str:
        return _("密码至少应有 %(n)s 个字符。") % {"n": self.min_length}
