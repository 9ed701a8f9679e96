"""The matching rules in force at the start (data: the centre may switch any off)."""

from django.db import migrations

RULES = [
    ("amount", "额度范围覆盖需求金额"),
    ("term", "产品期限不短于需求期限"),
    ("sector", "产品适用企业所属行业"),
    ("grade", "企业信用等级达到产品要求"),
]


def seed(apps, schema_editor):
    rule = apps.get_model("financing", "MatchingRule")
    for code, name in RULES:
        rule.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("financing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
