"""`pubcredit check … --json`: the same JSON as the API; exit 2 with one line for bad input.

The contract is tested through the console script's entry point (Django's command-line
utility, which turns a CommandError into its exit status and one stderr line), in-process so
that it runs against the test database on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from pubcredit.checks.models import CreditCheck
from pubcredit.testing.checkkit import black_now

pytestmark = pytest.mark.usefixtures("seeded")


def cli(capsys, *args):
    """Run the console entry point in-process as a caller would: (exit status, stdout, stderr).
    Django's command runner closes every database connection when a command ends; here that
    would end the test's transaction, so closing is suspended for the call."""
    from django.core.management import execute_from_command_line
    from django.db import connections

    capsys.readouterr()
    close_all = connections.close_all
    connections.close_all = lambda: None
    code = 0
    try:
        execute_from_command_line(["pubcredit", "check", *args])
    except SystemExit as exc:
        code = exc.code
    finally:
        connections.close_all = close_all
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_output_matches_the_api_contract(system, make_subject, capsys):
    company = make_subject()
    black_now(system, company)
    code, out, err = cli(capsys, "--uscc", company.uscc, "--matter", "GOV_PROCUREMENT", "--json")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1
    data = json.loads(out)
    assert data["channel"] == "cli"
    assert data["subject"]["uscc"] == company.uscc
    assert "P_RESTRICT_PROCUREMENT" in [m["code"] for m in data["punishments"]]
    assert data["id"] == CreditCheck.objects.get().pk
    from pubcredit.checks.answers import check_json

    assert data == check_json(CreditCheck.objects.get())


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--uscc", "91370303MA3C00000X", "--matter", "GOV_PROCUREMENT"), "校验"),
        (("--id-number", "37030319850315123", "--matter", "GOV_PROCUREMENT"), "18"),
        (("--uscc", "{ok}", "--matter", "NO_SUCH_MATTER"), "NO_SUCH_MATTER"),
        (("--name", "淄博某公司", "--uscc", "{ok}", "--matter", "HONOURS"), "只提供"),
        (("--uscc", "{ok}"), "--matter"),
    ],
)
def test_bad_input_exits_2_with_one_line(make_subject, capsys, args, fragment):
    company = make_subject()
    args = [a.replace("{ok}", company.uscc) for a in args]
    code, out, err = cli(capsys, *args, "--json")
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], lines
    assert not CreditCheck.objects.exists()


def test_without_subject_arguments_it_is_djangos_system_check(capsys):
    call_command("check")
    assert "System check identified no issues" in capsys.readouterr().out
