"""An index to find the records a submission wrote (downstream refreshes ask for exactly that).

A bulk load appends a submission's records contiguously and submission ids grow with time, so on
PostgreSQL a BRIN index answers the question at almost no cost to the load (a b-tree costs about
a tenth of the insert time); SQLite has no BRIN and gets a b-tree.
"""

from django.db import migrations

INDEX = "record_submission_brin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON records_record USING brin (submission_id)"
        )
    else:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON records_record (submission_id)"
        )


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
