"""Addresses and ids in mail: the per-case reply address and the Message-IDs that thread
every mail about one case together. Pure functions, no database."""

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

TOKEN_LENGTH = 12
_SALT = "notifications.reply-address"


def _token(number: int, secret: str | None = None) -> str:
    return salted_hmac(_SALT, str(number), secret=secret, algorithm="sha256").hexdigest()[:TOKEN_LENGTH]


def reply_address(number: int) -> str:
    """`reply+40000123.3f9c0a1b2c4d@portal.example`: the case number and a token that only
    the portal can make, so nobody can write to a case by guessing its address."""
    return f"{settings.REPLY_EMAIL_LOCALPART}+{number}.{_token(number)}@{settings.REPLY_EMAIL_DOMAIN}"


def reply_address_case_number(address: str) -> int | None:
    """The case number a reply address names, or None when it is not one of ours or its
    token is wrong. Addresses made with a key in SECRET_KEY_FALLBACKS still work."""
    match = re.fullmatch(
        rf"{re.escape(settings.REPLY_EMAIL_LOCALPART)}\+(\d{{1,18}})\.([0-9a-f]{{{TOKEN_LENGTH}}})"
        rf"@{re.escape(settings.REPLY_EMAIL_DOMAIN)}",
        (address or "").strip().strip("<>").lower(),
    )
    if match is None:
        return None
    number, token = int(match.group(1)), match.group(2)
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if constant_time_compare(token, _token(number, secret)):
            return number
    return None


def thread_id(number: int) -> str:
    """The Message-ID of the filing mail, which every later mail about the case answers."""
    return f"<case-{number}@{settings.REPLY_EMAIL_DOMAIN}>"


def new_message_id(number: int, event_id: int) -> str:
    return f"<case-{number}.{event_id}.{secrets.token_hex(6)}@{settings.REPLY_EMAIL_DOMAIN}>"


def is_our_message_id(message_id: str) -> bool:
    return (message_id or "").strip().lower().endswith(f"@{settings.REPLY_EMAIL_DOMAIN}>")


@dataclass(frozen=True)
class ThreadHeaders:
    message_id: str
    in_reply_to: str | None


def thread_headers(*, number: int, message_id: str) -> ThreadHeaders:
    root = thread_id(number)
    return ThreadHeaders(message_id=message_id, in_reply_to=None if message_id == root else root)
