"""Issuing reports through the API, the console and the CLI: who may, persons only with the person
permission and a purpose (logged), reading back only one's own (the centre: all), the CLI's
contract (JSON, exit 2 with one line)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.core.management import execute_from_command_line
from django.db import connections

from pubcredit.accounts.models import AccessLog, Role
from pubcredit.accounts.permissions import Principal
from pubcredit.accounts.services import issue_api_key
from pubcredit.reports import channels
from pubcredit.reports.models import Report
from pubcredit.testing.factories import make_org, make_person, make_world, ric, uscc

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports"


@pytest.fixture
def world(settings):
    settings.PUBCREDIT_PUBLIC_URL = "https://credit.zibo.example"
    world = make_world()
    world.org = make_org("淄博渠道测试有限公司", serial=7)
    world.person = make_person("李渠道", seq=456)
    return world


def _key(role: str, name: str = "某银行信贷系统") -> str:
    return issue_api_key(Principal.system("test"), name=name, role=role)[1]


def _post(client, body, key=None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(URL, json.dumps(body), content_type="application/json", headers=headers)


# --------------------------------------------------------------------------- periods


def test_the_default_period_is_the_last_36_months():
    today = dt.date(2026, 12, 6)
    assert channels.default_period(today) == (dt.date(2023, 12, 6), today)
    # A given end without a start: the 36 months up to that end.
    assert channels.resolve_period("no_violation", None, dt.date(2026, 6, 30), today) == (
        dt.date(2023, 6, 30),
        dt.date(2026, 6, 30),
    )
    assert channels.resolve_period("standard", None, dt.date(2026, 6, 30), today) is None


# --------------------------------------------------------------------------- API


def test_a_bank_key_issues_and_reads_back_its_own_report(client, world):
    key = _key(Role.BANK_USER)
    response = _post(client, {"uscc": world.org.uscc, "purpose": "贷款审批"}, key)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {"number", "sha256", "verify_url", "valid_until", "content"} <= set(body)
    report = Report.objects.get()
    assert body["number"] == report.number and report.channel == "api"
    assert body["verify_url"] == f"https://credit.zibo.example/verify/{report.number}"
    assert body["content"]["subject"]["name"] == "淄博渠道测试有限公司"
    assert report.purpose == "贷款审批"

    auth = {"Authorization": f"Bearer {key}"}
    again = client.get(f"{URL}/{report.number}", headers=auth)
    assert again.status_code == 200 and again.json()["content"] == body["content"]
    pdf = client.get(f"{URL}/{report.number}/pdf", headers=auth)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    data = b"".join(pdf.streaming_content)
    assert hashlib.sha256(data).hexdigest() == body["sha256"]

    other = {"Authorization": f"Bearer {_key(Role.BANK_USER, '另一家银行')}"}
    assert client.get(f"{URL}/{report.number}", headers=other).status_code == 404
    assert client.get(f"{URL}/{report.number}/pdf", headers=other).status_code == 404
    centre = {"Authorization": f"Bearer {_key(Role.CENTRE_STAFF, '中心')}"}
    assert client.get(f"{URL}/{report.number}", headers=centre).status_code == 200


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91370303MA3C00000X", "校验位"),
        ("12345", "18 位"),
        (uscc("370303", 999), "没有统一社会信用代码为"),
    ],
)
def test_an_invalid_or_unknown_code_is_422(client, world, code, fragment):
    response = _post(client, {"uscc": code}, _key(Role.BANK_USER))
    assert response.status_code == 422
    assert fragment in response.json()["message"]
    assert not Report.objects.exists()


def test_a_department_clerk_may_not_issue(client, world):
    client.force_login(world.users[Role.DEPARTMENT_CLERK])
    assert _post(client, {"uscc": world.org.uscc}).status_code == 403
    assert not Report.objects.exists()


def test_persons_reports_need_the_person_permission_and_a_purpose(client, world):
    body = {"id_number": ric("370303", seq=456), "purpose": "本人申请出具报告"}
    # A bank's key and a window clerk: refused before anything is looked up or logged.
    assert _post(client, body, _key(Role.BANK_USER)).status_code == 403
    client.force_login(world.users[Role.WINDOW_CLERK])
    assert _post(client, body).status_code == 403
    assert not AccessLog.objects.exists() and not Report.objects.exists()

    client.force_login(world.users[Role.CENTRE_STAFF])
    missing = _post(client, {"id_number": body["id_number"]})
    assert missing.status_code == 422 and "查询事由" in missing.json()["message"]
    assert not AccessLog.objects.exists()
    response = _post(client, body)
    assert response.status_code == 201, response.content
    assert response.json()["content"]["subject"]["name"] == "李**"
    log = AccessLog.objects.get()
    assert log.subject_id == world.person.pk and log.purpose == "本人申请出具报告"
    assert log.actor == world.users[Role.CENTRE_STAFF]


def test_a_no_violation_report_takes_its_period_and_fields(client, world):
    from pubcredit.reports.noviolation import import_fields

    import_fields(Principal.system("test"))
    key = _key(Role.BANK_USER)
    body = {
        "uscc": world.org.uscc,
        "kind": "no_violation",
        "period_to": "2026-06-30",
        "fields": ["tax", "market"],
    }
    assert _post(client, body, key).status_code == 201
    report = Report.objects.get()
    assert report.kind == "no_violation"
    assert (str(report.period_from), str(report.period_to)) == ("2023-06-30", "2026-06-30")
    assert sorted(report.fields) == ["market", "tax"]

    unknown = _post(client, body | {"fields": ["nosuchfield"]}, key)
    assert unknown.status_code == 422 and "nosuchfield" in unknown.json()["message"]
    reversed_period = body | {"period_from": "2025-01-01", "period_to": "2024-01-01"}
    response = _post(client, reversed_period, key)
    assert response.status_code == 422 and "起始日期不能晚于截止日期" in response.json()["message"]
    too_long = body | {"period_from": "2020-01-01"}
    assert "36 个月" in _post(client, too_long, key).json()["message"]
    future = body | {"period_to": str(dt.date.today() + dt.timedelta(days=2))}
    assert _post(client, future, key).status_code == 422
    assert Report.objects.count() == 1


# --------------------------------------------------------------------------- console


def test_console_window_clerk_issues_and_sees_only_own(client, world):
    centre = Principal.of(world.users[Role.CENTRE_STAFF])
    theirs = channels.issue_for(centre, channel="window", uscc=world.org.uscc)
    client.force_login(world.users[Role.WINDOW_CLERK])
    page = client.get("/console/reports/")
    assert page.status_code == 200
    assert 'name="subject_kind"' not in page.content.decode()  # no person's report here
    assert 'href="/console/reports/batches/"' in page.content.decode()  # in the navigation
    response = client.post("/console/reports/", {"code": world.org.uscc, "kind": "standard"})
    assert response.status_code == 302
    mine = Report.objects.exclude(pk=theirs.pk).get()
    assert mine.channel == "window" and mine.requested_by == "window_clerk"
    text = client.get("/console/reports/").content.decode()
    assert mine.number in text and theirs.number not in text
    assert client.get(f"/console/reports/{mine.number}.pdf").status_code == 200
    assert client.get(f"/console/reports/{theirs.number}.pdf").status_code == 404
    # The centre sees both.
    client.force_login(world.users[Role.CENTRE_STAFF])
    text = client.get("/console/reports/").content.decode()
    assert mine.number in text and theirs.number in text


@pytest.mark.parametrize("role", [Role.DEPARTMENT_CLERK, Role.DISTRICT_ADMIN, Role.BANK_USER])
def test_console_refuses_roles_without_the_action(client, world, role):
    client.force_login(world.users[role])
    assert client.get("/console/reports/").status_code == 403
    assert client.post("/console/reports/", {"code": world.org.uscc}).status_code == 403


def test_console_persons_report_is_logged_with_its_purpose(client, world):
    client.force_login(world.users[Role.CENTRE_STAFF])
    form = {"subject_kind": "person", "code": ric("370303", seq=456), "kind": "standard"}
    page = client.post("/console/reports/", form)
    assert page.status_code == 200
    assert "出具自然人公共信用信息报告须填写查询事由" in page.content.decode()
    assert not AccessLog.objects.exists() and not Report.objects.exists()
    response = client.post("/console/reports/", form | {"purpose": "窗口办理贷款证明"})
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.subject_name == "李**" and report.identifier.startswith("370303")
    assert "*" in report.identifier
    assert AccessLog.objects.get().purpose == "窗口办理贷款证明"


# --------------------------------------------------------------------------- CLI


def cli(capsys, *args):
    """The console entry point in-process: (exit status, stdout, stderr); the command runner's
    closing of connections is suspended (it would end the test's transaction)."""
    capsys.readouterr()
    close_all = connections.close_all
    connections.close_all = lambda: None
    code = 0
    try:
        execute_from_command_line(["pubcredit", "report", *args])
    except SystemExit as exc:
        code = exc.code
    finally:
        connections.close_all = close_all
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_contract(capsys, world, tmp_path):
    out = tmp_path / "report.pdf"
    code, stdout, err = cli(capsys, "--uscc", world.org.uscc, "--out", str(out), "--json")
    assert code == 0, err
    assert len(stdout.strip().splitlines()) == 1
    data = json.loads(stdout)
    assert set(data) == {"number", "sha256", "verify_url", "valid_until"}
    assert hashlib.sha256(out.read_bytes()).hexdigest() == data["sha256"]
    report = Report.objects.get()
    assert data["number"] == report.number and report.channel == "cli"
    assert report.requested_by == "cli"
    assert data["verify_url"] == f"https://credit.zibo.example/verify/{report.number}"


def test_cli_no_violation(capsys, world, tmp_path):
    out = tmp_path / "nv.pdf"
    args = ("--uscc", world.org.uscc, "--kind", "no-violation", "--out", str(out), "--json")
    code, _stdout, err = cli(capsys, *args)
    assert code == 0, err
    assert Report.objects.get().kind == "no_violation"


@pytest.mark.parametrize(
    ("code_value", "fragment"),
    [("91370303MA3C00000X", "校验位"), (uscc("370303", 998), "没有统一社会信用代码为")],
)
def test_cli_invalid_or_unknown_code_exits_2_with_one_line(
    capsys, world, tmp_path, code_value, fragment
):
    out = tmp_path / "x.pdf"
    code, stdout, err = cli(capsys, "--uscc", code_value, "--out", str(out))
    assert code == 2
    assert stdout == "" and len(err.strip().splitlines()) == 1 and fragment in err
    assert not out.exists() and not Report.objects.exists()


def test_the_qr_runs_cover_exactly_the_dark_modules():
    import segno

    from pubcredit.reports.qr import BORDER, qr_runs

    text = "https://credit.zibo.example/verify/XYBG20261206K7Q2M9X4T1CD"
    modules, runs = qr_runs(text)
    matrix = segno.make(text, error="m", micro=False).matrix
    assert modules == len(matrix) + 2 * BORDER
    drawn = {(x + i - BORDER, y - BORDER) for x, y, n in runs for i in range(n)}
    dark = {(x, y) for y, row in enumerate(matrix) for x, v in enumerate(row) if v}
    assert drawn == dark
    assert all(n >= 1 for _x, _y, n in runs)
