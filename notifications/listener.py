"""The SMTP/LMTP listener for replies (aiosmtpd). The MTA in front of the portal (or a
relay) hands mail for the reply domain to it; `manage.py mail_listener` runs it."""

import asyncio
import logging

from django.db import close_old_connections

from notifications.addresses import reply_address_case_number
from notifications.inbound_services import inbound_mail_receive

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 40 * 1024 * 1024


def _receive(content: bytes, rcpt_tos: list[str], mail_from: str) -> None:
    close_old_connections()
    try:
        inbound_mail_receive(content, envelope_recipients=rcpt_tos, envelope_sender=mail_from)
    finally:
        close_old_connections()


class ReplyHandler:
    """Takes mail for reply addresses only (other recipients: 550 at RCPT time). A mail
    that was read is answered 250 whatever became of it, refusals included: a bounce
    would go to a possibly forged sender. Only a failure on our side (the database is
    down) answers 451, so that the sending server tries again — and a mail delivered
    twice is recognised by its Message-ID."""

    def __init__(self, *, lmtp: bool = False):
        self.lmtp = lmtp

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reply_address_case_number(address) is None:
            logger.warning("Refused RCPT %s from %s: not a reply address.", address, envelope.mail_from)
            return "550 5.1.1 No such reply address"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, _receive, content, list(envelope.rcpt_tos), envelope.mail_from
            )
        except Exception:
            logger.exception("Receiving mail from %s failed; asking the sender to retry.", envelope.mail_from)
            status = "451 4.3.0 Temporary failure, try again later"
        else:
            status = "250 2.0.0 OK"
        # LMTP answers DATA once per recipient (RFC 2033).
        return "\r\n".join([status] * len(envelope.rcpt_tos)) if self.lmtp else status


def make_server(*, lmtp: bool = False):
    """A factory for `loop.create_server` and aiosmtpd's Controller."""
    from aiosmtpd.lmtp import LMTP
    from aiosmtpd.smtp import SMTP

    handler = ReplyHandler(lmtp=lmtp)
    cls = LMTP if lmtp else SMTP
    return lambda: cls(handler, data_size_limit=MAX_MESSAGE_BYTES, enable_SMTPUTF8=True, decode_data=False)
