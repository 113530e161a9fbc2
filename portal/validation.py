"""Bounds and checks shared by forms, services and the API, so that each refuses the same
input with the same message (and the database never sees a value it cannot hold)."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

# RFC 5321 §4.5.3.1: a path is at most 256 octets including the angle brackets, so an
# address is at most 254 characters; every email column is varchar(254).
EMAIL_MAX_LENGTH = 254
ASCII_ID = re.compile(r"[0-9]{1,18}")


def email_problem(value: str) -> str | None:
    """Why `value` is not an email address we can keep, or None when it is one."""
    shown = value.strip()
    if len(shown) > 60:
        shown = shown[:57] + "…"
    if len(value) > EMAIL_MAX_LENGTH:
        return _("“%(email)s” is too long: an email address has at most %(n)d characters.") % {
            "email": shown,
            "n": EMAIL_MAX_LENGTH,
        }
    try:
        validate_email(value)
    except ValidationError:
        return _("“%(email)s” is not a valid email address.") % {"email": shown}
    return None


def email_validator(value: str) -> None:
    """The same check as a Django field validator."""
    problem = email_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid")


def parse_id(value) -> int | None:
    """An id or number from a query string or hidden field: ASCII digits only (so that
    "²" or "٣" are not taken for numbers), or None."""
    text = str(value or "").strip()
    return int(text) if ASCII_ID.fullmatch(text) else None


class EmailAddressField:
    """Factory for a form field that checks an address exactly as the services do (same
    bound, same message): `EmailAddressField(label=..., required=...)`."""

    def __new__(cls, **kwargs):
        from django import forms

        class _Field(forms.CharField):
            def to_python(self, value):
                return super().to_python(value).strip().lower()

        kwargs.setdefault("validators", []).append(email_validator)
        kwargs.setdefault("widget", forms.EmailInput)
        return _Field(strip=True, **kwargs)
