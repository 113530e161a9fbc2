from django.db import migrations

from portal.db import append_only_trigger_sql, postgres_only


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [postgres_only(*append_only_trigger_sql("cases_caseevent"))]
