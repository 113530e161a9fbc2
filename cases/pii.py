"""Spot text that looks like personal data before a case is filed (the help page: do not
include personal information in cases or attachments)."""

import re

from django.utils.translation import gettext_lazy as _

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Korean resident registration number: YYMMDD-GNNNNNN (G = 1–4 for people born 1900–2099).
RRN = re.compile(r"(?<!\d)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])-?[1-4]\d{6}(?!\d)")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
PHONE = re.compile(r"(?<![\w.])(?:\+\d{1,3}[ .-]?)?(?:\(?0?\d{1,4}\)?[ .-]?)\d{3,4}[ .-]?\d{4}(?![\w.])")

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


def pii_findings(text: str) -> list[str]:
    """The kinds of personal data `text` seems to contain, in a fixed order."""
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
    for match in PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        overlaps = any(start < match.end() and match.start() < end for start, end in taken)
        if 9 <= len(digits) <= 15 and not overlaps:
            found.append("phone")
            break
    return found


def pii_labels(kinds: list[str]) -> list[str]:
    return [str(KINDS[kind]) for kind in kinds]
