"""Addresses and ids in mail: the per-recipient reply addresses and the Message-IDs that thread
every mail about one case together. Pure functions, no database."""

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

TOKEN_LENGTH = 16
_SALT = "notifications.reply-address.v2"


class RecipientKind:
    USER = "u"  # a portal account (creator, contact with an account)
    SUBSCRIBER = "s"  # an address the case is shared with (a CaseSubscriber row)


@dataclass(frozen=True)
class ReplyTarget:
    """What a reply address names: a case, and the one recipient it was issued to."""

    number: int
    kind: str
    recipient_id: int
    token: str


def _token(number: int, kind: str, recipient_id: int, epoch: str, secret: str | None = None) -> str:
    value = f"{number}:{kind}{recipient_id}:{epoch.strip().lower()}"
    return salted_hmac(_SALT, value, secret=secret, algorithm="sha256").hexdigest()[:TOKEN_LENGTH]


def user_epoch(*, sign_in_address: str, mail_address: str) -> str:
    """What a user's reply address is bound to besides the account: its addresses. A changed
    notification address issues new reply addresses, and the old ones stop working."""
    return f"{sign_in_address}|{mail_address}"


def reply_address(*, number: int, kind: str, recipient_id: int, epoch: str) -> str:
    """`reply+40000123.u42.3f9c0a1b2c4d5e6f@portal.example`: the case, the recipient the mail
    went to, and a token over both and the recipient's epoch that only the portal can make.
    Each recipient has their own address, so a reply proves whose mailbox it came from
    (when the address leaked, only that recipient can be impersonated, and only while
    they still may comment: `inbound_services` checks access when the reply arrives)."""
    token = _token(number, kind, recipient_id, epoch)
    return f"{settings.REPLY_EMAIL_LOCALPART}+{number}.{kind}{recipient_id}.{token}@{settings.REPLY_EMAIL_DOMAIN}"


def parse_reply_address(address: str) -> ReplyTarget | None:
    """The case and recipient a reply address names, or None when it does not have the shape
    of one of ours. The token is checked against the recipient's epoch by `reply_token_valid`."""
    match = re.fullmatch(
        rf"{re.escape(settings.REPLY_EMAIL_LOCALPART)}\+(\d{{1,18}})\.([us])(\d{{1,18}})\.([0-9a-f]{{{TOKEN_LENGTH}}})"
        rf"@{re.escape(settings.REPLY_EMAIL_DOMAIN)}",
        (address or "").strip().strip("<>").lower(),
    )
    if match is None:
        return None
    return ReplyTarget(int(match.group(1)), match.group(2), int(match.group(3)), match.group(4))


def reply_token_valid(target: ReplyTarget, *, epoch: str) -> bool:
    """Does the token match the recipient as it is now? Addresses made with a key in
    SECRET_KEY_FALLBACKS still work."""
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        expected = _token(target.number, target.kind, target.recipient_id, epoch, secret)
        if constant_time_compare(target.token, expected):
            return True
    return False


def reply_address_case_number(address: str) -> int | None:
    """The case number of an address shaped like one of our reply addresses (for the
    listener's RCPT check and loop detection; the token is checked on receipt)."""
    target = parse_reply_address(address)
    return target.number if target else None


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
