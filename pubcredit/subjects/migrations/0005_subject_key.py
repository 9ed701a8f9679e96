"""The key table (subjects.models.SubjectKey): identifier → subject id, kept only on Citus and
empty elsewhere (0006 drops the pattern-ops twin of its primary key)."""

import django.db.models.deletion
from django.db import migrations, models


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
    ]
