import os
import sys

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from notifications.inbound_services import inbound_mail_receive

# sysexits.h, as MTAs that pipe mail to a command expect them.
EX_NOUSER = 67
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = (
        "Read one RFC 822 message from standard input and add it to its case as a comment "
        "when the sender may comment (for an MTA's pipe transport)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="the envelope recipient (repeatable); default $ORIGINAL_RECIPIENT, else the mail's headers",
        )
        parser.add_argument("--sender", default=None, help="the envelope sender; default $SENDER")

    def handle(self, *args, recipient: list[str], sender: str | None, **options):
        raw = sys.stdin.buffer.read()
        recipients = recipient or [r for r in [os.environ.get("ORIGINAL_RECIPIENT", "")] if r]
        if sender is None:
            sender = os.environ.get("SENDER")
        try:
            results = inbound_mail_receive(
                raw, envelope_recipients=recipients or None, envelope_sender=sender
            )
        except DatabaseError as error:
            self.stderr.write(f"temporary failure: {error}")
            sys.exit(EX_TEMPFAIL)
        if not results:
            self.stderr.write("refused: the mail was not sent to a valid reply address")
            sys.exit(EX_NOUSER)
        for result in results:
            again = " (received before)" if result.duplicate else ""
            self.stdout.write(f"case {result.case_number}: {result.outcome}{again}: {result.reason}")
