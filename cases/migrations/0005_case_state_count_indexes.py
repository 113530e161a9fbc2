# The bounded state counts of the case lists as index-only scans, for a whole domain and
# within one customer (docs/performance.md).
# Built with CREATE INDEX CONCURRENTLY on PostgreSQL: writes to cases_case go on while the
# index is built, so the migration never locks a big table (SPEC §10). That needs the
# migration outside a transaction (atomic = False). SQLite, the local demo database, has
# no CONCURRENTLY and gets a plain index.

from django.db import migrations, models

from portal.db import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0004_case_system_job_marks"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                fields=["state"],
                include=("managing_domain", "customer", "created_at", "priority"),
                name="case_state_cover_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                fields=["customer", "state"],
                include=("managing_domain", "created_at", "priority"),
                name="case_customer_state_cover_idx",
            ),
        ),
    ]
