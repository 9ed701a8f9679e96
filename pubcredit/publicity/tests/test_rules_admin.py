"""The rules file (check, import, export), the command, and the admin."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from pubcredit.accounts.models import AuditEvent, Role, User
from pubcredit.publicity import rulefile
from pubcredit.publicity.models import (
    PeriodRule,
    Publicity,
    PublicityEvent,
    PublicityRegime,
    SectorRule,
    TierRule,
)

pytestmark = pytest.mark.django_db


def test_import_is_idempotent_and_audited(no_publicity_rules, system):
    rules = rulefile.import_rules(system)
    assert rules["regimes"]["created"] == 3
    assert rules["periods"]["created"] == 12
    again = rulefile.import_rules(system)
    assert again["changed"] is False
    assert again["tier_rules"] == {"created": 0, "updated": 0, "unchanged": 9, "deleted": 0}
    assert AuditEvent.objects.filter(action="publicity.import_rules").count() == 2


def test_export_round_trip(rules, system, tmp_path):
    rule = TierRule.objects.get(code="fine-very-large")
    rule.min_amount = "50"
    rule.save()
    path = rulefile.export_rules(tmp_path / "rules.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert (
        next(t for t in doc["tier_rules"] if t["code"] == "fine-very-large")["min_amount"] == "50"
    )
    shipped = json.loads(rulefile.DATA_FILE.read_text(encoding="utf-8"))
    assert [r["code"] for r in doc["regimes"]] == [r["code"] for r in shipped["regimes"]]
    # Importing the export changes nothing; importing the shipped file restores the value.
    assert rulefile.import_rules(system, path)["changed"] is False
    # The audit event names the file; its full path (any length) is kept in the snapshot.
    event = AuditEvent.objects.filter(action="publicity.import_rules").latest("id")
    assert (event.object_id, event.after["path"]) == ("rules.json", str(path))
    assert rulefile.import_rules(system)["tier_rules"]["updated"] == 1


def _shipped() -> dict:
    return json.loads(rulefile.DATA_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["regimes"][1].update(effective_from="2023-04-01"), "重叠"),
        (lambda d: d["regimes"][2]["periods"].pop(), "缺少不限行业和部门的期限行"),
        (lambda d: d["regimes"][0]["periods"][0].update(tier="huge"), "严重程度"),
        (lambda d: d["regimes"][0]["periods"][1].update(max_months=1), "最长公示期短于"),
        (lambda d: d["tier_rules"][0].update(code=d["tier_rules"][1]["code"]), "重复"),
        (lambda d: d["tier_rules"][3].update(min_amount="很多"), "金额"),
        (lambda d: d["tier_rules"][4].update(subject_kinds=["company"]), "主体类别"),
        (lambda d: d["sectors"][0].update(departments=[], keywords=[]), "不能都为空"),
        (lambda d: d["regimes"][0].update(effective_from="2019-13-01"), "日期"),
    ],
)
def test_check_rejects_inconsistent_files(mutate, message):
    doc = _shipped()
    mutate(doc)
    with pytest.raises(rulefile.RulesError) as exc:
        rulefile.check_rules(doc)
    assert message in str(exc.value)


def test_command_rules_and_refresh(catalogue, no_publicity_rules, tmp_path, capsys):
    call_command("publicity", "rules", "check")
    assert json.loads(capsys.readouterr().out)["regimes"] == 3
    call_command("publicity", "rules", "import")
    out = json.loads(capsys.readouterr().out)
    assert out["changed"] is True and out["refresh"]["records"] == 0
    call_command("publicity", "rules", "export", "--file", str(tmp_path / "x.json"))
    assert (tmp_path / "x.json").exists()
    capsys.readouterr()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("publicity", "rules", "import", "--file", str(bad))
    assert exc.value.returncode == 2
    call_command("publicity", "refresh", "--today", "2026-07-01")
    assert json.loads(capsys.readouterr().out)["records"] == 0


def test_rule_change_recomputes(make_record, system):
    record = make_record(decision=dt.date(2026, 5, 6), fine="50")
    assert Publicity.objects.get(pk=record.pk).tier == "general"
    doc = _shipped()
    next(t for t in doc["tier_rules"] if t["code"] == "fine-very-large")["min_amount"] = "50"
    path = rulefile.DATA_FILE.parent.parent / "tests" / "_tmp_rules.json"
    try:
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        call_command("publicity", "rules", "import", "--file", str(path))
    finally:
        path.unlink()
    assert Publicity.objects.get(pk=record.pk).tier == "serious"
    assert PublicityEvent.objects.filter(record=record, reason="rules").exists()


def test_regime_in_use_cannot_be_dropped(make_record, system, tmp_path):
    make_record(decision=dt.date(2020, 5, 6))
    doc = _shipped()
    doc["regimes"] = doc["regimes"][1:]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(rulefile.RulesError) as exc:
        rulefile.import_rules(system, path)
    assert "NDRC-527-2019" in str(exc.value)


# --------------------------------------------------------------------------- admin


@pytest.fixture
def admin_client(client, rules):
    user = User.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", [PublicityRegime, TierRule, SectorRule])
def test_rule_pages_render(admin_client, model):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    change = reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change", args=[model.objects.first().pk]
    )
    assert admin_client.get(change).status_code == 200


def test_read_model_pages_render(admin_client, make_record):
    make_record(decision=dt.date(2026, 5, 6))
    for name in ("publicity", "publicityevent", "tieroverride", "publicitymark"):
        assert admin_client.get(reverse(f"admin:publicity_{name}_changelist")).status_code == 200


def test_rule_edit_is_audited_and_recomputes(
    admin_client, make_record, django_capture_on_commit_callbacks
):
    record = make_record(decision=dt.date(2026, 5, 6), fine="50")
    rule = TierRule.objects.get(code="fine-very-large")
    url = reverse("admin:publicity_tierrule_change", args=[rule.pk])
    data = {
        "code": rule.code,
        "order": rule.order,
        "tier": rule.tier,
        "penalty_types": json.dumps(rule.penalty_types, ensure_ascii=False),
        "min_amount": "50",
        "max_amount": "",
        "subject_kinds": "[]",
        "departments": "[]",
        "sectors": "[]",
        "regimes": "[]",
        "active": "on",
        "description": rule.description,
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resp = admin_client.post(url, data)
    assert len(callbacks) == 1  # the recomputation, after the commit
    assert resp.status_code == 302, resp.content.decode()[:2000]
    event = AuditEvent.objects.get(action="publicity.update_tierrule")
    assert event.before["min_amount"] == "100.000000" and event.after["min_amount"] == "50"
    assert Publicity.objects.get(pk=record.pk).tier == "serious"


def test_period_inline_edit(admin_client):
    regime = PublicityRegime.objects.get(code="NDRC-ORDER-36")
    url = reverse("admin:publicity_publicityregime_change", args=[regime.pk])
    page = admin_client.get(url)
    assert "36-minor" in page.content.decode()
    assert PeriodRule.objects.filter(regime=regime).count() == 3


def test_clerk_sees_rules_read_only_nothing(client, rules, catalogue):
    from pubcredit.catalog.models import Department

    user = User.objects.create_user(
        "clerk",
        password="x",
        role=Role.DEPARTMENT_CLERK,
        department=Department.objects.get(code="ZB-SCJG"),
    )
    client.force_login(user)
    resp = client.get(reverse("admin:publicity_tierrule_changelist"))
    assert resp.status_code in (302, 403)
