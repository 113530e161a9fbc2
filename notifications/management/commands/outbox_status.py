import json

from django.core.management.base import BaseCommand, CommandError

from notifications.selectors import outbox_status


class Command(BaseCommand):
    help = "How the mail outbox stands: pending, sent, failed and skipped mail, and the age of the oldest pending one."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")
        parser.add_argument(
            "--max-age",
            type=int,
            default=None,
            metavar="SECONDS",
            help="exit with status 1 when the oldest pending mail is older than this (for monitoring)",
        )

    def handle(self, *args, as_json: bool = False, max_age: int | None = None, **options):
        status = outbox_status()
        age = status.oldest_pending_age
        age_seconds = int(age.total_seconds()) if age is not None else None
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "pending": status.pending,
                        "sent": status.sent,
                        "failed": status.failed,
                        "skipped": status.skipped,
                        "oldest_pending_age_seconds": age_seconds,
                        "received": {
                            "accepted": status.received_accepted,
                            "refused": status.received_refused,
                            "ignored": status.received_ignored,
                        },
                    },
                    sort_keys=True,
                )
            )
        else:
            self.stdout.write(f"pending: {status.pending}")
            self.stdout.write(f"sent:    {status.sent}")
            self.stdout.write(f"failed:  {status.failed}")
            self.stdout.write(f"skipped: {status.skipped}")
            self.stdout.write(
                "oldest pending: "
                + (
                    "-"
                    if age_seconds is None
                    else f"{age_seconds} s ({status.oldest_pending_at:%Y-%m-%d %H:%M:%S} UTC)"
                )
            )
            self.stdout.write(
                f"received: {status.received_accepted} accepted, {status.received_refused} refused, "
                f"{status.received_ignored} ignored"
            )
        if max_age is not None and age_seconds is not None and age_seconds > max_age:
            raise CommandError(f"the oldest pending mail waits for {age_seconds} s (more than {max_age} s)")
