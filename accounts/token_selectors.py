"""Reads about personal API tokens."""

import hashlib

from django.db.models import QuerySet

from accounts.models import ApiToken, User

TOKEN_PREFIX = "rsp_"
MAX_TOKEN_LENGTH = 200


def api_token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_for_secret(secret: str) -> ApiToken | None:
    """The live token a request presents, with its user and domain; None when it is
    unknown, revoked, or its user is suspended. Checked on every call, so a revocation
    or a suspension takes effect at once."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH or not secret.isascii():
        return None
    return (
        ApiToken.objects.select_related("user__domain")
        .filter(token_hash=api_token_hash(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """A user's own tokens, live ones first, newest first."""
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-id")
