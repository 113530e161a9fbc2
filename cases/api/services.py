"""Writes of the API, composed from `cases.services` only: the same rules, audit rows and
mails as the pages. What is here is the API's own shape: which fields a request must
carry, and a patch that changes several fields in one transaction."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from cases.api.resources import language_code, time_zone
from cases.api_selectors import api_classification_get
from cases.models import Case
from cases.services import case_change_priority, case_create, case_rename, case_subscribers_set
from customers.models import Customer
from portal.errors import InvalidInput

# updateMask paths, as Google names them (snake_case) and as its REST clients send
# them (camelCase, from the JSON form of a FieldMask).
UPDATE_MASK_PATHS = {
    "priority": "priority",
    "display_name": "display_name",
    "displayName": "display_name",
    "subscriber_email_addresses": "subscriber_email_addresses",
    "subscriberEmailAddresses": "subscriber_email_addresses",
}
ALL_UPDATABLE = frozenset(UPDATE_MASK_PATHS.values())


def update_mask_fields(mask: str | None) -> frozenset[str]:
    """The fields an `updateMask` names; an empty mask updates all three, as Google's does."""
    paths = [path.strip() for path in (mask or "").split(",") if path.strip()]
    if not paths:
        return ALL_UPDATABLE
    fields = set()
    for path in paths:
        if path not in UPDATE_MASK_PATHS:
            raise InvalidInput(
                _(
                    "“%(path)s” cannot be updated. updateMask takes priority, display_name and subscriber_email_addresses."
                )
                % {"path": path[:60]}
            )
        fields.add(UPDATE_MASK_PATHS[path])
    return frozenset(fields)


@transaction.atomic
def api_case_create(*, user: User, customer: Customer, fields: dict, request_key: str | None = None) -> Case:
    """cases.create: displayName, description, classification.id and priority are
    required; the rest as Google defaults them (language English, the user's time zone)."""
    missing = [
        wire
        for wire, key in (
            ("displayName", "display_name"),
            ("description", "description"),
            ("classification.id", "classification_id"),
            ("priority", "priority"),
        )
        if not fields[key] or (isinstance(fields[key], str) and not fields[key].strip())
    ]
    if missing:
        raise InvalidInput(_("A new case needs these fields: %(fields)s.") % {"fields": ", ".join(missing)})
    return case_create(
        user=user,
        customer=customer,
        classification=api_classification_get(classification_id=fields["classification_id"]),
        title=fields["display_name"],
        description=fields["description"],
        priority=fields["priority"],
        language=language_code(fields["language_code"]),
        time_zone=time_zone(fields["time_zone"], default=user.time_zone),
        subscribers=fields["subscribers"],
        channel=Case.Channel.API,
        request_key=request_key,
        is_test=fields["test_case"],
    )


@transaction.atomic
def api_case_update(*, user: User, case: Case, mask: frozenset[str], fields: dict) -> Case:
    """cases.patch: every field the mask names takes the value in the request, all or
    nothing. Unchanged fields are left alone, so a patch that repeats the current
    values changes nothing and writes no event."""
    if "display_name" in mask and fields["display_name"].strip() != case.title:
        case = case_rename(user=user, case=case, title=fields["display_name"])
    if "priority" in mask:
        if fields["priority"] is None:
            raise InvalidInput(_("priority is required when the update mask names it (or is empty)."))
        if fields["priority"] != case.priority:
            case = case_change_priority(user=user, case=case, priority=fields["priority"])
    if "subscriber_email_addresses" in mask:
        wanted = {email.strip().lower() for email in fields["subscribers"] if email.strip()}
        existing = set(case.subscribers.values_list("email", flat=True))
        if wanted != existing:
            case = case_subscribers_set(
                user=user, case=case, add=sorted(wanted - existing), remove=sorted(existing - wanted)
            )
    return case
