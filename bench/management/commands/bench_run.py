"""`manage.py bench_run`: measure the portal on the bench database (bench/run.py) and
write the table to the terminal and the JSON to bench/results/."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench.run import run_benchmark, save, table


class Command(BaseCommand):
    help = "Benchmark the portal under gunicorn against the bench database (DATABASE_URL)."

    def add_arguments(self, parser):
        parser.add_argument("--prefix", default="bench")
        parser.add_argument("--requests", type=int, default=200, help="timed requests per operation (ours)")
        parser.add_argument(
            "--admin-requests", type=int, default=20, help="timed requests per admin operation"
        )
        parser.add_argument(
            "--warmup", type=int, default=10, help="untimed requests first (each worker warms its caches)"
        )
        parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (the Dockerfile runs 3)")
        parser.add_argument("--depth", type=int, default=1000, help="the deep list page")
        parser.add_argument("--api-depth", type=int, default=100, help="the deep API page")
        parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
        parser.add_argument("--connections", type=int, default=50, help="wrk connections (concurrent users)")
        parser.add_argument("--no-throughput", action="store_true")
        parser.add_argument("--redis-url", default=None, help="default: a private redis-server for the run")
        parser.add_argument(
            "--app-dir",
            default=None,
            help="run gunicorn on the code in this checkout (e.g. a git worktree of an older commit, for before/after)",
        )
        parser.add_argument("--label", default="", help="a name for this run, kept in the JSON")
        parser.add_argument(
            "--page-requests", type=int, default=50, help="timed requests for each page of bench/routes.py"
        )
        parser.add_argument(
            "--no-walk",
            action="store_true",
            help="reach the deep page with a cursor made from the database instead of following 999 links",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL: set DATABASE_URL to the bench database.")
        try:
            report = run_benchmark(
                prefix=options["prefix"],
                requests=options["requests"],
                admin_requests=options["admin_requests"],
                warmup=options["warmup"],
                workers=options["workers"],
                depth=options["depth"],
                api_depth=options["api_depth"],
                duration=options["duration"],
                connections=options["connections"],
                throughput=not options["no_throughput"],
                redis_url=options["redis_url"],
                app_dir=options["app_dir"],
                walk=not options["no_walk"],
                page_requests=options["page_requests"],
                log=self.stdout.write,
            )
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        report["label"] = options["label"]
        self.stdout.write("")
        self.stdout.write(table(report))
        path = save(report)
        self.stdout.write(self.style.SUCCESS(f"\nWritten to {path}"))
        routes = report.get("routes") or {}
        if routes.get("missing") or routes.get("failed"):
            raise CommandError("Some routes have no timing (NOT TIMED above): the benchmark is incomplete.")
