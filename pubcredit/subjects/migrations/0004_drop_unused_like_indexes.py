"""Drop the `varchar_pattern_ops` twins PostgreSQL's schema editor adds beside the plain index
of every indexed or unique CharField: nothing searches name_norm, uscc, id_index or region by
LIKE / startswith (equality, IN and the plain index's ranges only), and each twin is one more
index every bulk registration of subjects maintains. name_key keeps its twin: fuzzy search
probes it by prefix (subjects.services._prefix_filter). The unique constraints (…_key) and the
plain indexes stay, under their names. SQLite has no such twins: nothing to do there."""

from django.db import migrations

UNUSED_LIKE = {
    "subjects_subject_name_norm_a1d00a12_like": "name_norm",
    "subjects_subject_uscc_e972ebdb_like": "uscc",
    "subjects_subject_id_index_adfe0378_like": "id_index",
    "subjects_subject_region_775c4813_like": "region",
}


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in UNUSED_LIKE:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in UNUSED_LIKE.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "subjects_subject" '
            f'("{column}" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("subjects", "0003_subject_tally")]

    operations = [migrations.RunPython(drop, restore, elidable=False)]
