"""`pubcredit apikey` and `pubcredit roles`: JSON out, the clear key once, exit 2 on bad input."""

import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pubcredit.accounts import services
from pubcredit.accounts.models import ApiKey, AuditEvent
from pubcredit.accounts.permissions import ACTIONS, roles_table


def run(*args) -> object:
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def test_issue_list_revoke(world):
    issued = run(
        "apikey",
        "issue",
        "--name",
        "市场监管局报送系统",
        "--role",
        "部门报送员",
        "--department",
        "SCJG",
    )
    key = ApiKey.objects.get()
    assert issued["prefix"] == key.prefix
    assert issued["role"] == "department_clerk" and issued["department"] == "SCJG"
    assert key.key_hash == hashlib.sha256(issued["key"].encode()).hexdigest()
    assert services.authenticate_api_key(issued["key"]) == key
    event = AuditEvent.objects.get(action="accounts.issue_api_key")
    assert event.actor is None and event.actor_label == "cli:apikey"

    run(
        "apikey",
        "issue",
        "--name",
        "张店区信用办",
        "--role",
        "district_admin",
        "--district",
        "370303",
        "--expires",
        "2099-12-31",
    )
    listed = run("apikey", "list")
    assert [k["name"] for k in listed] == ["市场监管局报送系统", "张店区信用办"]
    assert all("key" not in k for k in listed)
    assert issued["key"] not in json.dumps(listed)
    assert listed[1]["expires_at"].startswith("2099-12-31")

    revoked = run("apikey", "revoke", key.prefix, "--reason", "系统下线")
    assert revoked["active"] is False and revoked["revoked_now"] is True
    assert services.authenticate_api_key(issued["key"]) is None
    assert [k["name"] for k in run("apikey", "list", "--active")] == ["张店区信用办"]
    # Revoking by the whole key works too, and a second revoke changes nothing.
    assert run("apikey", "revoke", issued["key"])["revoked_now"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["issue", "--name", "x", "--role", "superhero"], "未知角色"),
        (["issue", "--name", "x", "--role", "department_clerk"], "必须指定所属部门"),
        (
            ["issue", "--name", "x", "--role", "department_clerk", "--department", "NOPE"],
            "部门编码不存在",
        ),
        (["issue", "--name", "x", "--role", "platform_admin"], "不能使用角色"),
        (["issue", "--name", "x", "--role", "bank_user", "--expires", "someday"], "过期时间格式"),
        (["revoke", "deadbeef"], "没有前缀为"),
    ],
)
def test_bad_input_exits_2(world, args, message):
    with pytest.raises(CommandError, match=message) as info:
        call_command("apikey", *args, stdout=StringIO())
    assert info.value.returncode == 2
    assert not ApiKey.objects.filter(active=True).exists()


def test_roles_doc_matches_role_actions():
    from pubcredit.accounts.management.commands.roles import END, START

    doc = (Path(__file__).resolve().parents[3] / "docs" / "roles.md").read_text(encoding="utf-8")
    generated = doc.split(START, 1)[1].split(END, 1)[0].lstrip("\n")
    assert generated == roles_table(), (
        "docs/roles.md is out of date: run `pubcredit roles --write docs/roles.md`"
    )
    for action in ACTIONS:
        assert f"`{action}`" in generated


def test_roles_command_writes_between_markers(tmp_path):
    from pubcredit.accounts.management.commands.roles import END, START

    path = tmp_path / "roles.md"
    path.write_text(f"# 标题\n\n{START}\nold\n{END}\n\n尾部\n", encoding="utf-8")
    call_command("roles", "--write", str(path), stdout=StringIO())
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# 标题\n") and text.endswith("尾部\n")
    assert roles_table() in text and "old" not in text
    out = StringIO()
    call_command("roles", stdout=out)
    assert out.getvalue() == roles_table()
