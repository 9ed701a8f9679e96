# ruff: noqa: F811 (pytest fixtures imported from loadkit)
"""The bulletin's console pages: issuing, the frozen bulletin with a link behind every count,
the live view, the drill-downs (their count is the figure they came from; a note when the
frozen figure moved), CSV and files, and what a department clerk and a district administrator
may see."""

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from pubcredit.accounts.models import AuditEvent, Role
from pubcredit.bulletins.models import Bulletin
from pubcredit.catalog.models import Department, Region
from pubcredit.intake import loading
from pubcredit.intake.models import Submission
from pubcredit.testing.factories import make_user
from pubcredit.testing.loadkit import (  # noqa: F401 (fixtures)
    accepted_frame,
    calendar_2026,
    cf,
    cf_row,
    department,
    make_submission,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("calendar_2026")]
SH = ZoneInfo("Asia/Shanghai")
LIST = "/console/bulletins/"


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SH)


def load(make_submission, received, data, **counts) -> Submission:
    submission = make_submission(received_at=received, status=Submission.Status.DONE, **counts)
    if data:
        with transaction.atomic():
            loading.load_accepted(submission, accepted_frame(data))
    return submission


@pytest.fixture
def october(make_submission, department):
    """October 2026:

    - 市市场监管局 (ZB-SCJG), Wed 14 Oct: 5 rows, 3 accepted, 2 rejected; penalties decided 28
      Sep (late: 8 working days), 29 and 30 Sep (on time); the one decided 29 Sep names a
      person (张三丰), the one of 30 Sep a company whose name starts with "=";
    - 市生态环境局 (ZB-STHJ), Mon 12 Oct: 2 rows, 2 accepted, decided 29 Sep and 9 Oct (on time);
    - 张店区社会信用中心 (ZB-XYZX-370303), 9 Oct: a file of 4 rows, 4 accepted, not loaded."""
    load(
        make_submission,
        at("2026-10-14"),
        [
            cf_row(1, decision=dt.date(2026, 9, 28)),
            cf_row(2, decision=dt.date(2026, 9, 29), kind="自然人", name="张三丰"),
            cf_row(3, decision=dt.date(2026, 9, 30), name="=HYPERLINK(1)有限公司"),
        ],
        rows=5,
        accepted=3,
        rejected=2,
    )
    sthj = Department.objects.get(code="ZB-STHJ")
    load(
        make_submission,
        at("2026-10-12"),
        [cf_row(11, decision=dt.date(2026, 9, 29)), cf_row(12, decision=dt.date(2026, 10, 9))],
        department=sthj,
        rows=2,
        accepted=2,
    )
    load(
        make_submission,
        at("2026-10-09"),
        [],
        department=Department.objects.get(code="ZB-XYZX-370303"),
        rows=4,
        accepted=4,
    )


@pytest.fixture
def users(department):
    return {
        "centre": make_user(Role.CENTRE_STAFF, "centre_b"),
        "clerk": make_user(Role.DEPARTMENT_CLERK, "clerk_scjg", department=department),
        "other_clerk": make_user(
            Role.DEPARTMENT_CLERK, "clerk_sthj", department=Department.objects.get(code="ZB-STHJ")
        ),
        "district": make_user(
            Role.DISTRICT_ADMIN, "district_zd", district=Region.objects.get(code="370303")
        ),
        "window": make_user(Role.WINDOW_CLERK, "window_b"),
    }


def as_user(client, user):
    client.force_login(user)
    return client


def issue(client, period="2026-10", **extra):
    return client.post(LIST + "issue/", {"period": period, **extra})


def ranking_codes(html: str) -> list[str]:
    table = html.split('id="ranking"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-department="([^"]+)"', table)


def drill_count(html: str) -> int:
    return int(re.search(r'id="drill-count" data-count="(\d+)"', html)[1])


def test_issuing_from_the_list(client, users, october):
    as_user(client, users["centre"])
    page = client.get(LIST)
    assert page.status_code == 200
    assert 'id="issue-form"' in page.content.decode()
    response = issue(client)
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/bulletins/{bulletin.pk}/"
    assert bulletin.period_key == "2026-10"
    assert AuditEvent.objects.filter(action="bulletins.issue").count() == 1
    # Again: the issued one, unchanged; with a new version, version 2.
    issue(client)
    assert Bulletin.objects.count() == 1
    issue(client, new_version="on")
    assert sorted(Bulletin.objects.values_list("version", flat=True)) == [1, 2]
    listing = client.get(LIST).content.decode()
    assert listing.count("<tr data-bulletin=") == 2


@pytest.mark.parametrize(
    ("period", "message"),
    [("2026-12", "尚未结束,不能发布通报"), ("2026-13", "期间“2026-13”无效")],
)
def test_issuing_errors_are_told_in_chinese(client, users, period, message):
    as_user(client, users["centre"])
    response = issue(client, period)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Bulletin.objects.exists()


def test_who_may_issue_and_view(client, users):
    as_user(client, users["clerk"])
    assert issue(client).status_code == 403
    page = client.get(LIST).content.decode()
    assert 'id="issue-form"' not in page
    assert "归集通报" in page  # the navigation's entry
    as_user(client, users["window"])
    assert client.get(LIST).status_code == 403
    assert "归集通报" not in client.get("/console/").content.decode()


def test_the_bulletin_links_every_count_to_its_rows(client, users, october):
    as_user(client, users["centre"])
    issue(client)
    bulletin = Bulletin.objects.get()
    html = client.get(f"/console/bulletins/{bulletin.pk}/").content.decode()
    assert bulletin.number in html
    assert "关于2026年10月份全市公共信用信息归集情况的通报" in html
    # Departments with a duty or anything reported: the 3 that reported first by score.
    assert {"ZB-SCJG", "ZB-STHJ", "ZB-XYZX-370303"} <= set(ranking_codes(html))
    assert f'href="/console/bulletins/rows/2026-10/ZB-SCJG/late/?bulletin={bulletin.pk}"' in html
    # The formula beside each rate.
    assert 'title="合规率 = 校验通过条数 ÷ 报送条数"' in html
    assert 'id="formula-timeliness"' in html
    assert 'id="download-pdf"' in html
    assert "style=" not in html

    # Each figure's rows count what the bulletin says, worked out by hand.
    hand = {
        ("ZB-SCJG", "submitted"): 5,
        ("ZB-SCJG", "accepted"): 3,
        ("ZB-SCJG", "rejected"): 2,
        ("ZB-SCJG", "written"): 3,
        ("ZB-SCJG", "due"): 3,
        ("ZB-SCJG", "late"): 1,
        ("ZB-SCJG", "zero_duty_months"): 2,  # JYYC and XK reported nothing
        ("ZB-STHJ", "on_time"): 2,
        ("ZB-XYZX-370303", "submitted"): 4,
    }
    frozen = {row["code"]: row for row in bulletin.content["departments"]}
    for (code, figure), expected in hand.items():
        page = client.get(
            f"/console/bulletins/rows/2026-10/{code}/{figure}/?bulletin={bulletin.pk}"
        )
        assert page.status_code == 200, (code, figure)
        text = page.content.decode()
        assert drill_count(text) == expected == frozen[code][figure], (code, figure)
        assert 'id="frozen-note"' not in text
    late = client.get("/console/bulletins/rows/2026-10/ZB-SCJG/late/").content.decode()
    assert late.count("淄市监罚〔2024〕1号") == 1
    assert "淄市监罚〔2024〕2号" not in late


def test_a_frozen_figure_that_moved_is_noted(client, users, october, make_submission):
    as_user(client, users["centre"])
    issue(client)
    bulletin = Bulletin.objects.get()
    load(make_submission, at("2026-10-20"), [], rows=3, accepted=3)
    url = f"/console/bulletins/rows/2026-10/ZB-SCJG/submitted/?bulletin={bulletin.pk}"
    html = client.get(url).content.decode()
    assert drill_count(html) == 8
    assert "通报发布时为 5 条,当前为 8 条" in html
    # The bulletin itself did not change.
    assert Bulletin.objects.get().content["departments"] == bulletin.content["departments"]


def test_the_live_view(client, users, october):
    as_user(client, users["centre"])
    assert client.get(LIST + "live/")["Location"] == "/console/bulletins/live/2026-12/"
    assert client.get(LIST + "live/?period=2026q4")["Location"] == "/console/bulletins/live/2026Q4/"
    html = client.get(LIST + "live/2026-10/").content.decode()
    assert "实时数据,未发布" in html
    assert 'href="/console/bulletins/rows/2026-10/ZB-SCJG/submitted/"' in html
    assert not Bulletin.objects.exists()
    department_page = client.get(LIST + "live/2026-10/departments/ZB-SCJG/").content.decode()
    assert 'href="/console/bulletins/rows/2026-10/ZB-SCJG/late/?category=CF"' in department_page
    assert client.get(LIST + "live/2026-99/").status_code == 404


def test_a_department_clerk_sees_only_its_own_row(client, users, october):
    as_user(client, users["centre"])
    issue(client)
    bulletin = Bulletin.objects.get()
    as_user(client, users["clerk"])
    html = client.get(f"/console/bulletins/{bulletin.pk}/").content.decode()
    assert ranking_codes(html) == ["ZB-SCJG"]
    assert "淄博市生态环境局" not in html
    assert "张店区社会信用中心" not in html
    (own,) = [r for r in bulletin.content["departments"] if r["code"] == "ZB-SCJG"]
    n = len(bulletin.content["departments"])
    assert f"第 {own['rank']} 名(共 {n} 个部门)" in html
    assert 'id="download-pdf"' not in html
    assert client.get(f"/console/bulletins/{bulletin.pk}/bulletin.pdf").status_code == 403

    own_rows = client.get("/console/bulletins/rows/2026-10/ZB-SCJG/submitted/")
    assert own_rows.status_code == 200
    for code in ("ZB-STHJ", "ZB-XYZX-370303"):
        assert client.get(f"/console/bulletins/rows/2026-10/{code}/submitted/").status_code == 404
        assert client.get(f"/console/bulletins/rows/2026-10/{code}/written.csv").status_code == 404
        assert (
            client.get(f"/console/bulletins/{bulletin.pk}/departments/{code}/").status_code == 404
        )
    assert client.get(f"/console/bulletins/{bulletin.pk}/departments/ZB-SCJG/").status_code == 200


def test_a_district_admin_sees_its_districts_departments(client, users, october):
    as_user(client, users["district"])
    html = client.get(LIST + "live/2026-10/").content.decode()
    assert ranking_codes(html) == ["ZB-XYZX-370303"]
    assert 'data-district="370303"' in html
    assert (
        client.get("/console/bulletins/rows/2026-10/ZB-XYZX-370303/submitted/").status_code == 200
    )
    assert client.get("/console/bulletins/rows/2026-10/ZB-SCJG/submitted/").status_code == 404


def test_csv_is_formula_safe_and_masks_persons(client, users, october):
    as_user(client, users["centre"])
    response = client.get("/console/bulletins/rows/2026-10/ZB-SCJG/written.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(lines) == 1 + 3
    names = {line[4] for line in lines[1:]}
    assert names == {"淄博测试1有限公司", "张**", "'=HYPERLINK(1)有限公司"}
    assert "张三丰" not in body


def test_the_stored_files_are_downloaded_never_cached(client, users, october):
    as_user(client, users["centre"])
    issue(client)
    bulletin = Bulletin.objects.get()
    pdf = client.get(f"/console/bulletins/{bulletin.pk}/bulletin.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert "no-store" in pdf["Cache-Control"]
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    xlsx = client.get(f"/console/bulletins/{bulletin.pk}/bulletin.xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "no-store" in xlsx["Cache-Control"]
    assert b"".join(xlsx.streaming_content).startswith(b"PK")
