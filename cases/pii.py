"""Spot text that looks like personal data before a case is filed (the help page: do not
include personal information in cases or attachments).

Phone numbers are found by Google's libphonenumber (the `phonenumbers` port), Korean and
international, written any way people write them; e-mail addresses, payment card numbers
(Luhn) and Korean resident registration numbers by rules. A category question may declare
the format its answer takes (`"format": "message_id"` in cases/data/classifications.json):
what the question asks for is taken out before the check, so the Message-ID the
"Messages delayed" question wants is not flagged. tests/cases/test_pii.py measures recall
and precision on a corpus of English and Korean examples."""

import re

import phonenumbers
from django.utils.translation import gettext_lazy as _

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z\w]{2,}(?![\w-])")
# A Message-ID: `<local@domain>`, or after a Message-ID label.
MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
MESSAGE_ID_HEADER = re.compile(r"(?im)\bmessage-?id\s*[:=]\s*<?[^\s<>@]+@[^\s<>]+>?")
# A bare Message-ID has a machine-made local part: long, or with digits and symbols.
MACHINE_LOCAL_PART = re.compile(r"^(?=.{16,}$|.*[=$%]|(?:.*\d){4})[^@\s]+$")
# Korean resident registration number: YYMMDD-GNNNNNN (G = 1–8: born 1800–2099, incl. foreigners).
RRN = re.compile(r"(?<![\d-])\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?-?\s?[1-8]\d{6}(?![\d-])")
CARD = re.compile(r"(?<![\d.:-])[2-6]\d{3}(?:[ -]?\d){9,15}(?!\d|[.:-]\d)")
PHONE_REGIONS = ("KR", "US")

KINDS = {
    "email": _("email addresses"),
    "phone": _("phone numbers"),
    "card": _("payment card numbers"),
    "rrn": _("Korean resident registration numbers"),
}


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _phone_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            before = text[match.start - 1 : match.start] if match.start else ""
            if before and (before.isalnum() or before in "-_/#."):
                continue  # part of an identifier: INV-2026-000123, #1234567
            spans.append((match.start, match.end))
    return spans


def _machine_made(address: str) -> bool:
    return bool(MACHINE_LOCAL_PART.match(address.strip("<>").split("@", 1)[0]))


def without_expected(text: str, expected: str) -> str:
    """`text` without what a question declared it asks for (space-separated formats:
    `message_id`, `email`, `mail_headers`)."""
    formats = set(expected.split())
    if formats & {"message_id", "mail_headers"}:
        text = MESSAGE_ID.sub(" ", text)
        text = EMAIL.sub(
            lambda m: " " if MACHINE_LOCAL_PART.match(m.group().split("@", 1)[0]) else m.group(), text
        )
    if formats & {"email", "mail_headers"}:
        text = EMAIL.sub(" ", text)
    return text


def pii_findings(text: str) -> list[str]:
    """The kinds of personal data `text` seems to contain, in a fixed order."""
    text = MESSAGE_ID_HEADER.sub(" ", text)
    text = MESSAGE_ID.sub(lambda m: " " if _machine_made(m.group()) else m.group(), text)
    found: list[str] = []
    if EMAIL.search(text):
        found.append("email")
    taken: list[tuple[int, int]] = []  # spans already explained as an RRN or a card number
    for match in RRN.finditer(text):
        taken.append(match.span())
    if taken:
        found.append("rrn")
    cards = [m for m in CARD.finditer(text) if _luhn(re.sub(r"\D", "", m.group()))]
    if cards:
        found.append("card")
        taken += [m.span() for m in cards]
    for start, end in _phone_spans(text):
        if not any(s < end and start < e for s, e in taken):
            found.append("phone")
            break
    return found


def pii_labels(kinds: list[str]) -> list[str]:
    return [str(KINDS[kind]) for kind in kinds]
