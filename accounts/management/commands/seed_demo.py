from django.core.management.base import BaseCommand

from portal.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create the fixed demo accounts, customers and cases of SPEC §9 (idempotent)."

    def handle(self, *args, **options):
        seed_demo(stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(f"\nDemo data ready. Every demo account's password is {DEMO_PASSWORD!r}.")
        )
