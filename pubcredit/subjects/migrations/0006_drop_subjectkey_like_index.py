"""Drop the `text_pattern_ops` twin PostgreSQL's schema editor adds beside the key table's text
primary key (0005): a key is looked up by equality only (a router query on Citus), so the twin
is one index more for every key a registration writes, and nothing else. A migration of its own:
the schema editor creates a new model's indexes at the end of the migration that creates it.
SQLite has no such twin: nothing to do there."""

from django.db import migrations

LIKE_INDEX = "subjects_subjectkey_key_a1dd5cf0_like"


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE_INDEX}"')


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE_INDEX}" ON "subjects_subjectkey" '
            '("key" text_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("subjects", "0005_subject_key")]

    operations = [migrations.RunPython(drop, restore, elidable=False)]
