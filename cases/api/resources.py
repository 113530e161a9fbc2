"""Resources on the wire: Case, Comment, Attachment and CaseClassification as Google's
JSON (camelCase names, enum names, RFC 3339 times with Z, int64 as strings), and the
reading of request bodies into plain values for the services.

Enums are accepted as names or as numbers: Google's REST clients send numbers
(`$alt=json;enum-encoding=int`), the discovery client sends names. Answers always
carry names, which every client reads."""

import json
import re
from datetime import UTC, datetime

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _

from accounts.models import KNOWN_TIME_ZONES, Domain, Language
from cases.api.errors import invalid
from cases.models import COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH, Attachment, Case, Classification, Comment

PRIORITY_ENUM = ["PRIORITY_UNSPECIFIED", "P0", "P1", "P2", "P3", "P4"]
STATE_ENUM = ["STATE_UNSPECIFIED", *Case.State.values]
REASON_ENUM = ["REASON_UNSPECIFIED", "RESOLUTION_TIME", "TECHNICAL_EXPERTISE", "BUSINESS_IMPACT"]
MAX_JSON_BODY = 1024 * 1024


# --------------------------------------------------------------------------- names


def case_name(case: Case) -> str:
    return f"organizations/{case.customer_id}/cases/{case.number}"


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- out


def actor(user, *, email: str = "", support: bool | None = None) -> dict:
    """Who did something. Support engineers appear by name only, as Google's agents do."""
    if user is None:
        return {"displayName": email, "email": email, "username": email, "googleSupport": False}
    if support is None:
        support = user.domain.kind == Domain.Kind.SUPPORT
    if support:
        return {"displayName": user.full_name or _("Support engineer"), "googleSupport": True}
    return {
        "displayName": user.display_name,
        "email": user.email,
        "username": user.email,
        "googleSupport": False,
    }


def classification_resource(classification: Classification) -> dict:
    return {"id": classification.code, "displayName": classification.display_name}


def case_resource(case: Case) -> dict:
    subscribers = getattr(case, "api_subscribers", None)
    if subscribers is None:
        subscribers = list(case.subscribers.order_by("email"))
    resource = {
        "name": case_name(case),
        "displayName": case.title,
        "description": case.description,
        "classification": classification_resource(case.classification),
        "timeZone": case.time_zone,
        "subscriberEmailAddresses": [subscriber.email for subscriber in subscribers],
        "state": case.state,
        "createTime": rfc3339(case.created_at),
        "updateTime": rfc3339(case.updated_at),
        "contactEmail": case.contact_email,
        "escalated": case.is_escalated,
        "testCase": case.is_test,
        "languageCode": case.language,
        "priority": case.priority,
    }
    if case.creator_id is not None or case.contact_email:
        resource["creator"] = actor(case.creator, email=case.contact_email)
    return resource


def comment_resource(case: Case, comment: Comment) -> dict:
    return {
        "name": f"{case_name(case)}/comments/{comment.pk}",
        "createTime": rfc3339(comment.created_at),
        "creator": actor(comment.author, email=comment.author_email, support=comment.from_support),
        "body": comment.body,
        "plainTextBody": comment.body,
    }


def attachment_resource(case: Case, attachment: Attachment) -> dict:
    resource = {
        "name": f"{case_name(case)}/attachments/{attachment.pk}",
        "createTime": rfc3339(attachment.created_at),
        "filename": attachment.filename,
        "mimeType": attachment.mime_type,
        "sizeBytes": str(attachment.size),
    }
    if attachment.uploader_id is not None:
        resource["creator"] = actor(attachment.uploader)
    return resource


# --------------------------------------------------------------------------- in


def json_body(request) -> dict:
    """The request's JSON object; an empty body is an empty object."""
    length = request.headers.get("Content-Length") or "0"
    try:
        if int(length) > MAX_JSON_BODY:
            raise RequestDataTooBig()
        raw = request.body
    except (RequestDataTooBig, ValueError):
        raise invalid(_("The request body is too large.")) from None
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise invalid(_("Invalid JSON payload received.")) from None
    if not isinstance(data, dict):
        raise invalid(_("Invalid JSON payload received: the body must be a JSON object."))
    return data


def only_fields(data: dict, allowed: set[str], *, where: str) -> None:
    for name in data:
        if name not in allowed:
            raise invalid(
                _("Invalid JSON payload received. Unknown name “%(name)s” at “%(where)s”.")
                % {"name": str(name)[:60], "where": where}
            )


def no_nul(value: str, name: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here as a bad argument, not a 500.
    if "\x00" in value:
        raise invalid(_("“%(name)s” cannot contain NUL characters.") % {"name": name})
    return value


def string(data: dict, name: str, *, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise invalid(_("“%(name)s” must be a string.") % {"name": name})
    return no_nul(value, name)


def boolean(data: dict, name: str, *, default: bool = False) -> bool:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(_("“%(name)s” must be true or false.") % {"name": name})
    return value


def string_list(data: dict, name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(_("“%(name)s” must be a list of strings.") % {"name": name})
    for item in value:
        no_nul(item, name)
    return value


def enum(data: dict, name: str, names: list[str]) -> str | None:
    """An enum field given by name or by number; None when absent or UNSPECIFIED."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        value = None
    elif isinstance(value, int) and 0 <= value < len(names):
        value = names[value]
    if not isinstance(value, str) or value not in names:
        raise invalid(
            _("“%(name)s” must be one of %(values)s.") % {"name": name, "values": ", ".join(names[1:])}
        )
    return None if value == names[0] else value


def language_code(value: str) -> str:
    """Google's rule: an unsupported or missing language means English."""
    value = (value or "").strip().replace("_", "-")
    by_lower = {code.lower(): code for code in Language.values}
    if value.lower() in by_lower:
        return by_lower[value.lower()]
    primary = value.split("-", 1)[0].lower()
    return by_lower.get(primary, Language.EN)


_OFFSET = re.compile(r"([+-])(\d{2}):?00")


def time_zone(value: str, *, default: str) -> str:
    """An IANA zone name; a whole-hour offset such as "-07:00" (Google's own example) is
    taken as the matching Etc/GMT zone."""
    value = (value or "").strip()
    if not value:
        return default
    if value in {"Z", "UTC", "GMT"}:
        return "UTC"
    match = _OFFSET.fullmatch(value)
    if match:
        hours = int(match.group(2))
        if hours == 0:
            return "UTC"
        if hours <= 12:
            # POSIX sign convention: Etc/GMT+7 is seven hours *behind* UTC.
            return f"Etc/GMT{'-' if match.group(1) == '+' else '+'}{hours}"
    if value in KNOWN_TIME_ZONES:
        return value
    raise invalid(
        _("“timeZone” must be an IANA time zone such as Asia/Seoul, not “%(value)s”.") % {"value": value[:60]}
    )


CASE_INPUT_FIELDS = {
    "name",
    "displayName",
    "description",
    "classification",
    "timeZone",
    "subscriberEmailAddresses",
    "state",
    "createTime",
    "updateTime",
    "creator",
    "contactEmail",
    "escalated",
    "testCase",
    "languageCode",
    "priority",
}


def max_length(value: str, name: str, limit: int) -> str:
    if len(value) > limit:
        raise invalid(_("“%(name)s” can be at most %(n)d characters long.") % {"name": name, "n": limit})
    return value


def output_only(data: dict) -> None:
    """Output-only fields may come back in a request (a client re-sending a case it
    read); they are ignored, as Google does, but must still have their types."""
    for name in ("name", "createTime", "updateTime", "contactEmail"):
        string(data, name)
    boolean(data, "escalated")
    enum(data, "state", STATE_ENUM)
    creator = data.get("creator")
    if creator is not None and not isinstance(creator, dict):
        raise invalid(_("“creator” must be an object."))


def case_input(data: dict) -> dict:
    """The Case fields a client may set, checked for type and length. Output-only fields
    (name, state, times, creator, escalated) are accepted and ignored, as Google does."""
    only_fields(data, CASE_INPUT_FIELDS, where="case")
    output_only(data)
    classification = data.get("classification")
    classification_id = ""
    if classification is not None:
        if not isinstance(classification, dict):
            raise invalid(_("“classification” must be an object with an “id”."))
        only_fields(classification, {"id", "displayName"}, where="case.classification")
        classification_id = string(classification, "id")
    return {
        "display_name": max_length(string(data, "displayName"), "displayName", TITLE_MAX_LENGTH),
        "description": max_length(string(data, "description"), "description", COMMENT_MAX_LENGTH),
        "classification_id": classification_id,
        "priority": enum(data, "priority", PRIORITY_ENUM),
        "time_zone": string(data, "timeZone"),
        "language_code": string(data, "languageCode"),
        "subscribers": string_list(data, "subscriberEmailAddresses"),
        "test_case": boolean(data, "testCase"),
    }
