# The outbox also carries the "your export is ready" mail, which names a background job
# instead of a case event (issue 19).
#
# The outbox grows with every mail, so nothing here may block its writers for long
# (SPEC §10): outside a transaction (atomic = False), on PostgreSQL the new column is added
# NULL (no rewrite), its foreign key and the check are added NOT VALID and validated
# afterwards (validation does not block writes), and the indexes are built CONCURRENTLY.
# SQLite, the local demo database, gets the plain operations.

import django.db.models.deletion
from django.db import migrations, models
from django.db.migrations.operations.base import Operation

TABLE = "notifications_outboxmessage"


class OnPostgres(Operation):
    """`operation` for the migration state (and other databases); these statements on PostgreSQL."""

    reduces_to_sql = False

    def __init__(self, operation, sql: list[str], reverse_sql: list[str]):
        self.operation, self.sql, self.reverse_sql = operation, sql, reverse_sql

    def deconstruct(self):
        return (self.__class__.__name__, [self.operation, self.sql, self.reverse_sql], {})

    def state_forwards(self, app_label, state):
        self.operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return self.operation.database_forwards(app_label, schema_editor, from_state, to_state)
        for statement in self.sql:
            schema_editor.execute(statement)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return self.operation.database_backwards(app_label, schema_editor, from_state, to_state)
        for statement in self.reverse_sql:
            schema_editor.execute(statement)

    def describe(self):
        return self.operation.describe()


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0005_case_state_count_indexes"),
        ("jobs", "0001_i19_jobs"),
        ("notifications", "0002_i13m_coalescing_support_mail_job_runs"),
    ]

    operations = [
        # DROP NOT NULL: a change of the catalogue only.
        migrations.AlterField(
            model_name="outboxmessage",
            name="case",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.case",
            ),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="event",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="cases.caseevent",
            ),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="notice",
            field=models.CharField(
                choices=[
                    ("filed", "Case filed"),
                    ("shared", "Case shared"),
                    ("reply", "Support reply"),
                    ("state", "State changed"),
                    ("closed", "Case closed"),
                    ("auto_closed", "Case closed automatically"),
                    ("reopened", "Case reopened"),
                    ("severity", "Severity changed"),
                    ("escalated", "Case escalated"),
                    ("reminder", "Reminder before automatic closing"),
                    ("breach", "First-response target missed"),
                    ("customer_reply", "Customer replied"),
                    ("job_ready", "Export ready"),
                ],
                max_length=16,
                verbose_name="mail",
            ),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="reason",
            field=models.CharField(
                choices=[
                    ("creator", "filed the case"),
                    ("contact", "is the case contact"),
                    ("subscriber", "the case is shared with this address"),
                    ("assignee", "is assigned to the case"),
                    ("support", "receives escalations of unassigned cases"),
                    ("requester", "asked for the export"),
                ],
                max_length=12,
                verbose_name="why",
            ),
        ),
        OnPostgres(
            migrations.AddField(
                model_name="outboxmessage",
                name="job",
                field=models.ForeignKey(
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="+",
                    to="jobs.job",
                    verbose_name="job",
                ),
            ),
            [
                f"ALTER TABLE {TABLE} ADD COLUMN job_id uuid NULL",
                f"ALTER TABLE {TABLE} ADD CONSTRAINT outbox_job_id_fk FOREIGN KEY (job_id) "
                "REFERENCES jobs_job (id) DEFERRABLE INITIALLY DEFERRED NOT VALID",
                f"ALTER TABLE {TABLE} VALIDATE CONSTRAINT outbox_job_id_fk",
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_job_id_idx ON {TABLE} (job_id)",
            ],
            [f"ALTER TABLE {TABLE} DROP COLUMN job_id"],
        ),
        OnPostgres(
            migrations.AddConstraint(
                model_name="outboxmessage",
                constraint=models.UniqueConstraint(
                    fields=("job", "recipient_email"), name="outbox_job_once_per_recipient"
                ),
            ),
            [
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS outbox_job_once_per_recipient "
                f"ON {TABLE} (job_id, recipient_email)",
                f"ALTER TABLE {TABLE} ADD CONSTRAINT outbox_job_once_per_recipient "
                "UNIQUE USING INDEX outbox_job_once_per_recipient",
            ],
            [f"ALTER TABLE {TABLE} DROP CONSTRAINT outbox_job_once_per_recipient"],
        ),
        OnPostgres(
            migrations.AddConstraint(
                model_name="outboxmessage",
                constraint=models.CheckConstraint(
                    condition=models.Q(
                        models.Q(("case__isnull", False), ("event__isnull", False), ("job__isnull", True)),
                        models.Q(("case__isnull", True), ("event__isnull", True), ("job__isnull", False)),
                        _connector="OR",
                    ),
                    name="outbox_about_a_case_or_a_job",
                ),
            ),
            [
                f"ALTER TABLE {TABLE} ADD CONSTRAINT outbox_about_a_case_or_a_job CHECK ("
                "(case_id IS NOT NULL AND event_id IS NOT NULL AND job_id IS NULL) OR "
                "(case_id IS NULL AND event_id IS NULL AND job_id IS NOT NULL)) NOT VALID",
                f"ALTER TABLE {TABLE} VALIDATE CONSTRAINT outbox_about_a_case_or_a_job",
            ],
            [f"ALTER TABLE {TABLE} DROP CONSTRAINT outbox_about_a_case_or_a_job"],
        ),
    ]
