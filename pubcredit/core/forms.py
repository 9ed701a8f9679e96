"""Form fields the public pages share (repair, objections, training, commitments)."""

from __future__ import annotations

from django import forms


def phone_field(label, required_message, **kwargs) -> forms.CharField:
    """A required contact phone number (up to 32 characters; a telephone keypad on phones)."""
    return forms.CharField(
        label=label,
        max_length=32,
        error_messages={"required": required_message},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        **kwargs,
    )
