"""The key table (subjects.models.SubjectKey): identifier → subject id, kept only on Citus and
empty elsewhere. Its primary key is looked up by equality only (a router query on Citus), so the
`text_pattern_ops` twin PostgreSQL's schema editor adds beside a text primary key is dropped:
one index less for every key a registration writes."""

import django.db.models.deletion
from django.db import migrations, models

LIKE_INDEX = "subjects_subjectkey_key_a1dd5cf0_like"


def drop_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE_INDEX}"')


def restore_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE_INDEX}" ON "subjects_subjectkey" '
            '("key" text_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("subjects", "0004_drop_unused_like_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="SubjectKey",
            fields=[
                (
                    "key",
                    models.TextField(primary_key=True, serialize=False, verbose_name="标识键"),
                ),
                (
                    "subject",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="subjects.subject",
                        verbose_name="主体",
                    ),
                ),
            ],
            options={
                "verbose_name": "主体标识键",
                "verbose_name_plural": "主体标识键",
            },
        ),
        migrations.RunPython(drop_like, restore_like, elidable=False),
    ]
