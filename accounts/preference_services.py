"""Writes about a person's own settings (/settings/): language, time zone and which mails
they want. The notification address is not here: super admins change it (SPEC §8)."""

from django.db import transaction

from accounts.models import KNOWN_TIME_ZONES, User
from portal.errors import InvalidInput


@transaction.atomic
def user_preferences_update(
    *, user: User, language: str, time_zone: str, muted_notices: list[str], known_notices: list[str]
) -> User:
    """Store the person's choices. Precondition: `known_notices` are the mail kinds there
    are (notifications.models.Notice); anything else is refused, as is an unknown zone."""
    if language not in {code for code, _name in User._meta.get_field("language").choices}:
        raise InvalidInput()
    if time_zone not in KNOWN_TIME_ZONES:
        raise InvalidInput()
    unknown = set(muted_notices) - set(known_notices)
    if unknown:
        raise InvalidInput()
    user.language = language
    user.time_zone = time_zone
    user.muted_notices = sorted(set(muted_notices))
    user.save(update_fields=["language", "time_zone", "muted_notices"])
    return user
