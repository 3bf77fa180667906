"""Bigram index for searching customers by any part of the name (see crm/name_search.py):
PostgreSQL a GIN index on crm_bigrams(name_key), SQLite an FTS5 table kept by triggers."""

from django.db import migrations


def forwards(apps, schema_editor):
    from marketdesk.crm.name_search import install

    install(schema_editor)


def backwards(apps, schema_editor):
    from marketdesk.crm.name_search import uninstall

    uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
