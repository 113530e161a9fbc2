"""Page tokens: opaque, signed, and bound to the request that made them.

A token holds the sort key of the last row served (keyset paging, never OFFSET), so a
page costs the same at any depth and rows do not shift while new cases arrive. It also
holds a fingerprint of the method, parent and filter: a token replayed with another
filter is refused, as Google refuses it, instead of silently paging something else."""

import hashlib

from django.core import signing
from django.utils.translation import gettext as _

from portal.errors import InvalidInput

_SALT = "cases.api.page-token"
MAX_TOKEN_LENGTH = 1000


def fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:16]


def encode(key: list, *, context: str) -> str:
    return signing.dumps({"k": key, "c": context}, salt=_SALT, compress=True)


def decode(token: str | None, *, context: str) -> list | None:
    """The key a token carries, None for no token; InvalidInput for a forged, damaged or
    foreign one."""
    if not token:
        return None
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidInput(_("The page token is not valid."))
    try:
        payload = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise InvalidInput(_("The page token is not valid.")) from None
    if not isinstance(payload, dict) or payload.get("c") != context or not isinstance(payload.get("k"), list):
        raise InvalidInput(
            _("The page token belongs to another request. Repeat the same parameters with a page token.")
        )
    return payload["k"]
