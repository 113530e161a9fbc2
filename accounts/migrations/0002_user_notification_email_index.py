# Finding the accounts that own a mail address without reading every account
# (notifications/selectors.py: users_with_address). Built concurrently on PostgreSQL so that
# sign-ins and account changes go on meanwhile (SPEC §10).

from django.db import migrations, models
from django.db.models.functions import Upper

from portal.db import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="user",
            index=models.Index(Upper("notification_email"), name="user_notification_email_upper"),
        ),
    ]
