"""Reading a received mail: who sent it, to which addresses, whether a machine sent it,
the new text of the reply without the quoted earlier mail, and its attachments. Pure
functions over `email.message.EmailMessage`, no database."""

import html
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from django.conf import settings

from notifications.addresses import is_our_message_id, reply_address_case_number

MAX_ATTACHMENTS = 10


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)


def sender_address(message: EmailMessage) -> str:
    _name, address = parseaddr(str(message.get("From", "")))
    return address.strip().lower()


_AUTH_RESULT = re.compile(r"\b(dmarc|dkim|spf)\s*=\s*([a-z]+)", re.IGNORECASE)


def authentication_failure(message: EmailMessage) -> str | None:
    """Why the receiving MTA found this mail forged, from its `Authentication-Results`
    headers (RFC 8601): a DMARC or SPF `fail`, or DKIM `fail` without any DKIM `pass`.
    None when it passed or no header says (docs/notifications.md: make Postfix add one).
    A sender can add headers of their own, but a forged `pass` never outweighs the MTA's
    `fail`, and a forged `fail` only refuses the forger's own mail."""
    results: dict[str, set[str]] = {"dmarc": set(), "dkim": set(), "spf": set()}
    for header in message.get_all("Authentication-Results", []):
        for method, result in _AUTH_RESULT.findall(str(header)):
            results[method.lower()].add(result.lower())
    if "fail" in results["dmarc"]:
        return "DMARC failed (Authentication-Results)"
    if "fail" in results["spf"]:
        return "SPF failed (Authentication-Results)"
    if "fail" in results["dkim"] and "pass" not in results["dkim"]:
        return "DKIM failed (Authentication-Results)"
    return None


def addressed_to(message: EmailMessage) -> list[str]:
    """Every address the mail was delivered or written to, the delivery headers first."""
    found: list[str] = []
    for header in ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc"):
        for _name, address in getaddresses([str(v) for v in message.get_all(header, [])]):
            address = address.strip().lower()
            if address and address not in found:
                found.append(address)
    return found


def automatic_reason(message: EmailMessage, *, envelope_sender: str | None = None) -> str | None:
    """Why this mail must not become a comment because a machine sent it: an auto-reply,
    a bounce, a list or bulk mail, or our own notification coming back (a loop). None for
    mail a person wrote."""
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"auto-submitted mail ({auto_submitted})"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autorespond-Message"):
        if header in message:
            return f"auto-reply ({header})"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"precedence {precedence}"
    if message.get_content_type() == "multipart/report" or "X-Failed-Recipients" in message:
        return "delivery status notification (bounce)"
    if envelope_sender is not None and envelope_sender.strip() in {"", "<>"}:
        return "null envelope sender (bounce)"
    return_path = str(message.get("Return-Path", "")).strip()
    if return_path == "<>":
        return "null return path (bounce)"
    sender = sender_address(message)
    local = sender.split("@", 1)[0]
    if local in {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply"}:
        return f"sent by {local}"
    if "X-Portal-Case" in message or is_our_message_id(str(message.get("Message-ID", ""))):
        return "our own notification came back (mail loop)"
    _name, ours = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if sender and (sender == ours.lower() or reply_address_case_number(sender) is not None):
        return "sent from the portal's own address (mail loop)"
    return None


class _TextFromHtml(HTMLParser):
    """The text of an HTML mail up to the quoted earlier mail (a blockquote, or the quote
    containers Gmail and Thunderbird use): replies are written above the quote."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "pre", "table", "hr"}
    QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.quoted = False

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag in {"style", "script", "head", "title"}:
            self.skip += 1
        elif tag == "blockquote" or any(name in classes for name in self.QUOTE_CLASSES):
            self.quoted = True
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in {"style", "script", "head", "title"} and self.skip:
            self.skip -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip and not self.quoted:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextFromHtml()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    return re.sub(r"\n{3,}", "\n\n", text)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):
        content = part.get_payload(decode=True).decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return content.replace("\r\n", "\n").replace("\r", "\n")


# Lines where the quoted earlier mail begins; everything from there on is dropped.
_CUT_LINES = [
    re.compile(r"^\s*>?\s*##-.*-##\s*$"),  # our reply marker
    re.compile(r"^-{2,}\s*(Original Message|원본 메시지|Forwarded message|전달된 메시지)\s*-{2,}\s*$", re.I),
    re.compile(r"^_{20,}\s*$"),  # Outlook's separator
    re.compile(r"^-- $"),  # the signature delimiter
]
# "On Tue, 5 Mar 2024 at 10:00, Support <…> wrote:" (possibly over two lines), and Gmail's
# Korean "2024년 3월 5일 (화) 오전 10:00, Support <…>님이 작성:".
_ATTRIBUTION = re.compile(
    r"^(On\s[^\n]{0,300}?(\n[^\n]{0,200}?)?\swrote:|[^\n]{0,300}님이\s?작성:?)\s*$", re.M | re.I
)
_OUTLOOK_HEADER = re.compile(
    r"^(From|보낸 사람):\s.*\n(.*\n){0,3}?(Sent|Date|보낸 날짜|날짜):\s", re.M | re.I
)


def reply_text(text: str, *, max_length: int) -> str:
    """The new text of a reply: the quoted earlier mail, its attribution line and the
    signature are dropped; trailing blank lines too. Longer than `max_length`: cut, with "…"."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if any(pattern.match(line) for pattern in _CUT_LINES):
            lines = lines[:index]
            break
    text = "\n".join(lines)
    for pattern in (_ATTRIBUTION, _OUTLOOK_HEADER):
        match = pattern.search(text)
        if match:
            text = text[: match.start()]
    # A block of ">" lines at the end is quoted mail without an attribution.
    kept = text.rstrip().split("\n")
    while kept and (kept[-1].lstrip().startswith(">") or not kept[-1].strip()):
        kept.pop()
    text = "\n".join(line.rstrip() for line in kept).strip()
    if len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return text


@dataclass(frozen=True)
class ReceivedFile:
    filename: str
    content: bytes


def attachments(message: EmailMessage) -> list[ReceivedFile]:
    """Attached files (and inline images with a name), at most MAX_ATTACHMENTS."""
    found: list[ReceivedFile] = []
    for part in message.iter_attachments():
        if part.is_multipart() or part.get_content_type() == "message/rfc822" and not part.get_filename():
            continue
        filename = part.get_filename()
        if not filename:
            continue
        content = part.get_payload(decode=True) or b""
        found.append(ReceivedFile(filename=filename, content=content))
        if len(found) >= MAX_ATTACHMENTS:
            break
    return found
