"""`pubcredit idcheck`: one JSON object per line, exit 0."""

import io
import json
import subprocess
import sys

import pytest
from django.core.management import call_command

KEYS = ["value", "kind", "valid", "normalized", "errors", "warnings"]


def run(*values) -> list[dict]:
    out = io.StringIO()
    call_command("idcheck", *values, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_object_per_value():
    rows = run("91110000600037341L", "3.70303E+17", "370311198001011234", "ＮＯＴ")
    assert [list(r) for r in rows] == [KEYS] * 4
    assert rows[0]["valid"] is True and rows[0]["kind"] == "uscc"
    assert rows[1]["valid"] is False and "科学计数法" in rows[1]["errors"][0]
    assert rows[2]["kind"] == "ric" and rows[2]["valid"] is True and rows[2]["warnings"]
    assert rows[3]["kind"] is None


def test_console_script_exit_status_and_utf8():
    proc = subprocess.run(
        [sys.executable, "-m", "pubcredit", "idcheck", "91110000600037341M"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    row = json.loads(line)
    assert row["errors"] == ["统一社会信用代码校验位错误:应为 L,实为 M"]
    assert "\\u" not in line  # ensure_ascii=False


@pytest.mark.parametrize("stdin", ["91110000600037341L\n\n370303800101123\n"])
def test_reads_stdin(monkeypatch, stdin):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rows = run("-")
    assert [r["value"] for r in rows] == ["91110000600037341L", "370303800101123"]
