"""Who is calling: a personal API token in `Authorization: Bearer <token>`, looked up on
every call (a revoked token or a suspended user is refused at once), and a per-token
rate limit. The API is stateless: sessions and cookies play no part."""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from accounts.models import ApiToken
from accounts.token_selectors import api_token_for_secret
from accounts.token_services import api_token_touch
from cases.api.errors import ApiError, unauthenticated

logger = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 60


def bearer_secret(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def authenticate(request) -> ApiToken:
    """The live token of the request, with `token.user` loaded; UNAUTHENTICATED otherwise."""
    secret = bearer_secret(request)
    if secret is None:
        raise unauthenticated()
    token = api_token_for_secret(secret)
    if token is None:
        raise unauthenticated(
            _("The API token is not valid: it is unknown, revoked, or its account is suspended.")
        )
    return token


def rate_limit(token: ApiToken) -> None:
    """At most API_RATE_LIMIT_PER_MINUTE calls per token in each minute window, counted in
    the shared cache (Redis in production). When the cache is unreachable the call is
    let through: a cache outage must not take the API down."""
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    if limit <= 0:
        return
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    key = f"api-rate:{token.pk}:{token.token_hash[:16]}:{window}"
    try:
        cache.add(key, 0, timeout=RATE_WINDOW_SECONDS + 5)
        count = cache.incr(key)
    except Exception:  # the cache backend's own errors differ per backend
        logger.warning("API rate limit not checked: cache unavailable", exc_info=True)
        return
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * RATE_WINDOW_SECONDS - now))
        raise ApiError(
            "RESOURCE_EXHAUSTED",
            _(
                "Rate limit exceeded: at most %(limit)d requests a minute per token. Retry in %(seconds)d seconds."
            )
            % {"limit": limit, "seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


def api_user_for(request):
    """Authenticate, apply the rate limit, record the use; the token's user."""
    token = authenticate(request)
    rate_limit(token)
    api_token_touch(token=token)
    return token.user
