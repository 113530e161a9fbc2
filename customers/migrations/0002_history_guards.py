from django.db import migrations

from portal.db import append_only_trigger_sql, postgres_only

# A relationship row may only be ended (ended_at set once); anything else about it is
# history and stays as it was.
RELATIONSHIP_GUARD = """
    CREATE OR REPLACE FUNCTION customers_relationship_history_guard() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'relationship history is never deleted' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF OLD.ended_at IS NOT NULL
           OR NEW.customer_id <> OLD.customer_id
           OR NEW.reseller_domain_id <> OLD.reseller_domain_id
           OR NEW.kind <> OLD.kind
           OR NEW.started_at <> OLD.started_at THEN
            RAISE EXCEPTION 'relationship history is never rewritten: end the row and start a new one'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    CREATE TRIGGER customers_relationship_history_guard BEFORE UPDATE OR DELETE ON customers_relationship
        FOR EACH ROW EXECUTE FUNCTION customers_relationship_history_guard();
"""
RELATIONSHIP_GUARD_REVERSE = """
    DROP TRIGGER IF EXISTS customers_relationship_history_guard ON customers_relationship;
    DROP FUNCTION IF EXISTS customers_relationship_history_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        postgres_only(RELATIONSHIP_GUARD, RELATIONSHIP_GUARD_REVERSE),
        postgres_only(*append_only_trigger_sql("customers_accessgrantchange")),
    ]
