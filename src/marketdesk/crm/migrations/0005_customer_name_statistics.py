"""PostgreSQL: 1,000 histogram values for crm_customer.name_key (default 100), so the planner's
estimate of `name_key LIKE '%word%'` tells a common search word from a rare one
(crm/name_search.py `is_common`). No schema change; nothing on SQLite."""

from django.db import migrations


def forwards(apps, schema_editor):
    from marketdesk.crm.name_search import PG_STATISTICS

    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_STATISTICS:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    from marketdesk.crm.name_search import PG_STATISTICS_DEFAULT

    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_STATISTICS_DEFAULT:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_budget_not_negative")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
