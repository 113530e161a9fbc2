# Composite indexes for lists filtered by state and severity (within a customer, within a
# domain) and the dashboard's recent unanswered cases, built CONCURRENTLY like 0005 so
# that writes to cases_case go on meanwhile (SPEC §10).

from django.db import migrations, models

from portal.db import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0007_i14_case_rollup"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                fields=["customer", "state", "priority", "-updated_at", "-id"],
                name="case_customer_state_prio_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                fields=["managing_domain", "state", "priority", "-updated_at", "-id"],
                name="case_domain_state_prio_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(("first_response_at__isnull", True)),
                fields=["created_at"],
                name="case_unanswered_idx",
            ),
        ),
    ]
