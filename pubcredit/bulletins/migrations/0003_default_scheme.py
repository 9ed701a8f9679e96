"""The default ranking scheme (data/scheme.json): a fresh installation ranks departments out of
the box; the centre edits or supersedes it in the admin (通报评分规则)."""

import datetime as dt
import json
from pathlib import Path

from django.db import migrations

SCHEME = Path(__file__).resolve().parent.parent / "data" / "scheme.json"


def add_default(apps, schema_editor):
    RankingScheme = apps.get_model("bulletins", "RankingScheme")
    data = json.loads(SCHEME.read_text(encoding="utf-8"))
    RankingScheme.objects.get_or_create(
        effective_from=dt.date.fromisoformat(data["effective_from"]),
        defaults={
            "name": data["name"],
            "weights": data["weights"],
            "threshold": data["threshold"],
            "praise_count": data["praise_count"],
            "note": data["note"],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("bulletins", "0002_bulletin_and_scheme")]
    operations = [migrations.RunPython(add_default, migrations.RunPython.noop)]
