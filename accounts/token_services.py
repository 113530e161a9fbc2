"""Writes about personal API tokens: issue (named, shown once), revoke, record use."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, User
from accounts.services import api_token_create
from portal.errors import InvalidInput, NotFound

TOKEN_NAME_MAX = 100
MAX_LIVE_TOKENS = 20
# last_used_at is kept to the minute: a busy script should not write a row per call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def api_token_issue(*, user: User, name: str) -> str:
    """Make a named token for `user` and return it. Only its hash is stored, so this is
    the one time it can be shown."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the token a name, so that you know later what uses it."))
    if "\x00" in name:
        raise InvalidInput(_("A token name cannot contain control characters."))
    if len(name) > TOKEN_NAME_MAX:
        raise InvalidInput(_("A token name can be at most %(n)d characters long.") % {"n": TOKEN_NAME_MAX})
    # Lock the user's row so that two parallel requests cannot both pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_LIVE_TOKENS:
        raise InvalidInput(
            _("You have %(n)d tokens already. Revoke one you no longer use first.") % {"n": MAX_LIVE_TOKENS}
        )
    return api_token_create(user=user, name=name)


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; it is refused from the next call on. Another
    user's token answers NotFound, like a missing one."""
    token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
