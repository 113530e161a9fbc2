"""`manage.py bench_dataset [--scale 1.0] [--seed 7] [--flush]`: create the benchmark
database if needed, migrate it and load the dataset of bench/dataset.py through COPY."""

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from bench.dataset import BENCH_PASSWORD, BenchNames, dataset_load, dataset_sizes


class Command(BaseCommand):
    help = "Load the benchmark dataset (default: 1,000,000 cases over 20,000 customers) into DATABASE_URL."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0, help="1.0 = one million cases; 0.05 for a quick run"
        )
        parser.add_argument("--seed", type=int, default=7, help="same seed and scale, same rows")
        parser.add_argument("--prefix", default="bench", help="names of the generated tenants")
        parser.add_argument("--chunk", type=int, default=5000, help="cases per COPY round")
        parser.add_argument(
            "--flush",
            action="store_true",
            help="empty the database first (only a database whose name contains 'bench')",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, scale, seed, prefix, chunk, flush, no_progress, **options):
        database = settings.DATABASES["default"]
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL.")
        if scale <= 0:
            raise CommandError("--scale must be positive.")
        self._create_database_if_missing(database)
        call_command("migrate", verbosity=0, interactive=False)
        if flush:
            if "bench" not in database["NAME"]:
                raise CommandError("--flush empties only a database whose name contains 'bench'.")
            call_command("flush", verbosity=0, interactive=False)
        cases, customers = dataset_sizes(scale)
        self.stdout.write(f"Loading {cases:,} cases over {customers:,} customers into {database['NAME']} …")
        bar = tqdm(total=cases, unit="case", unit_scale=True, disable=no_progress, smoothing=0.1)
        try:
            report = dataset_load(
                scale=scale,
                seed=seed,
                prefix=prefix,
                chunk_size=chunk,
                progress=lambda done, total: bar.update(done),
                log=lambda message: bar.write(message),
            )
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        finally:
            bar.close()
        counts = ", ".join(f"{value:,} {key}" for key, value in report.counts.items())
        self.stdout.write(
            f"Loaded {counts} in {report.seconds:.0f} s ({report.cases_per_minute:,.0f} cases a minute)."
        )
        self.stdout.write("VACUUM ANALYZE …")
        with connection.cursor() as cursor:
            for table in (
                "cases_case",
                "cases_caserollup",
                "cases_comment",
                "cases_attachment",
                "cases_caseevent",
                "cases_casesubscriber",
                "customers_customer",
                "customers_relationship",
                "customers_accessgrant",
                "accounts_user",
                "accounts_domain",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")
        names = BenchNames(prefix)
        self.stdout.write(
            self.style.SUCCESS(
                f"Sign in as {names.agent} (reseller agent of the biggest domain) or {names.operator} "
                f"(Django admin), password {BENCH_PASSWORD}."
            )
        )

    def _create_database_if_missing(self, database: dict) -> None:
        params = {
            "host": database.get("HOST") or None,
            "port": database.get("PORT") or None,
            "user": database.get("USER") or None,
            "password": database.get("PASSWORD") or None,
        }
        params = {key: value for key, value in params.items() if value}
        try:
            psycopg.connect(dbname=database["NAME"], connect_timeout=10, **params).close()
            return
        except psycopg.OperationalError:
            pass
        with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=10, **params) as admin:
            admin.execute(f'CREATE DATABASE "{database["NAME"]}"')
        self.stdout.write(f"Created database {database['NAME']}.")
