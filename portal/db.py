"""Database-level guards that only PostgreSQL can express (triggers). On SQLite, the
local demo database, the services alone keep these rules."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations
from django.db.migrations import RunPython


def postgres_only(forward_sql: str, reverse_sql: str) -> RunPython:
    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(forward_sql)

    def reverse(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    return RunPython(forward, reverse)


def append_only_trigger_sql(table: str) -> tuple[str, str]:
    """SQL that makes `table` append-only: UPDATE and DELETE of a row raise."""
    function = f"{table}_append_only"
    forward = f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION USING MESSAGE = '{table} is append-only: ' || TG_OP || ' refused',
                ERRCODE = 'integrity_constraint_violation';
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER {function} BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}();
    """
    reverse = f"DROP TRIGGER IF EXISTS {function} ON {table}; DROP FUNCTION IF EXISTS {function}();"
    return forward, reverse


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, so that writes go on while a big table is
    indexed (SPEC §10; the migration needs `atomic = False`); a plain index on SQLite."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
