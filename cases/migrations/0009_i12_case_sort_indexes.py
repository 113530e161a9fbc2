# The indexes of the case lists' orders (issue 12): created, severity and number for a
# domain, a customer and the whole table, and (customer, id) for the order by customer.
# Built with CREATE INDEX CONCURRENTLY on PostgreSQL like 0005, so writes go on meanwhile.

from django.db import migrations, models

from portal.db import AddIndexConcurrentlyOnPostgres

INDEXES = [
    (["managing_domain", "-created_at", "-id"], "case_domain_created_idx"),
    (["customer", "-created_at", "-id"], "case_customer_created_idx"),
    (["-created_at", "-id"], "case_created_idx"),
    (["managing_domain", "priority", "id"], "case_domain_priority_idx"),
    (["customer", "priority", "id"], "case_customer_priority_idx"),
    (["priority", "id"], "case_priority_idx"),
    (["managing_domain", "number"], "case_domain_number_idx"),
    (["customer", "number"], "case_customer_number_idx"),
    (["customer", "id"], "case_customer_id_idx"),
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0008_i14_list_filter_indexes"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(model_name="case", index=models.Index(fields=fields, name=name))
        for fields, name in INDEXES
    ]
