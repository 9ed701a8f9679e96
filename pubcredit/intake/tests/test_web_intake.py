# ruff: noqa: F811 (pytest fixtures imported from webkit)
"""Console pages of intake through the Django test client: a clerk uploads the messy CSV, fixes
the mapping on the mapping screen, and gets the exact report; the confirmed mapping is saved and
reused; scoping; progress polling; the error report downloads; the review queue."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from python_calamine import CalamineWorkbook

from pubcredit.accounts.models import AuditEvent, Role
from pubcredit.intake import services, uploads, views
from pubcredit.intake.models import ColumnMapping, MatchReview, Submission
from pubcredit.intake.tests import messy
from pubcredit.intake.tests.webkit import (  # noqa: F401 (fixtures)
    FIXED_FIELD,
    UNKNOWN_HEADER,
    _fast_password_hasher,
    case_row,
    centre,
    cf,
    clerk,
    confirmed_mapping,
    counts_in_html,
    expected_counts,
    expected_issues,
    issues_in_html,
    make_user,
    media,
    messy_csv,
    other_clerk,
    other_department,
    received_on_messy_date,
    zhangdian,
)
from pubcredit.records.models import Record, SubjectLink

pytestmark = pytest.mark.django_db

UPLOAD = "/console/intake/upload/"
LIST = "/console/intake/"
REVIEWS = "/console/intake/reviews/"


def detail(submission) -> str:
    return f"/console/intake/submissions/{submission.pk}/"


def upload(client, department, category, data: bytes, name="处罚信息.csv", **extra):
    return client.post(
        UPLOAD,
        {
            "department": department.pk,
            "category": category.pk,
            "file": SimpleUploadedFile(name, data, content_type="text/csv"),
            **extra,
        },
    )


def test_clerk_uploads_fixes_mapping_and_gets_the_precise_report(
    client, clerk, zhangdian, cf, media, received_on_messy_date
):
    client.force_login(clerk)
    page = client.get(UPLOAD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "上传数据" in html and 'type="file"' in html
    assert f'value="{zhangdian.pk}"' in html and "淄博市市场监督管理局" not in html

    response = upload(client, zhangdian, cf, messy_csv())
    assert response.status_code == 302
    mapping_url = response["Location"]
    assert mapping_url.startswith("/console/intake/upload/") and mapping_url.endswith("/mapping/")
    assert Submission.objects.count() == 0  # nothing received until the clerk confirms

    screen = client.get(mapping_url)
    assert screen.status_code == 200
    preview = screen.context["preview"]
    by_header = {c.header: c for c in preview.columns}
    # The engine's proposals, with method and score, for every header of the file.
    for header, code, _key in messy.COLUMNS:
        shown = UNKNOWN_HEADER if code == FIXED_FIELD else header
        column = by_header[shown]
        if code == FIXED_FIELD:
            assert column.field_code is None and column.method == "none"
        else:
            assert column.field_code == code, header
            if code in messy.EXPECTED_METHODS:
                assert column.method == messy.EXPECTED_METHODS[code]
            if code:
                assert column.score == 100
    assert set(preview.extra_columns) == {"序号", "内部编号", UNKNOWN_HEADER}
    html = screen.content.decode()
    assert "确认列映射" in html and "甲栏" in html and "处罚机关" in html
    assert 'id="missing-required"' in html  # 处罚机关 is required and has no column yet
    assert 'value="CF_XDR_MC" selected' in html
    # A 证件号码 sample is masked on the screen.
    ric_column = by_header["证件号码"]
    assert ric_column.samples and all("*" in s for s in ric_column.samples)

    # Two columns for one field: refused with a Chinese message, nothing received.
    bad = confirmed_mapping()
    bad["col-1"] = "CF_WSH"
    refused = client.post(mapping_url, bad)
    assert refused.status_code == 422
    assert "一个字段只能对应一列" in refused.content.decode()
    assert Submission.objects.count() == 0

    confirmed = client.post(mapping_url, confirmed_mapping())
    assert confirmed.status_code == 302
    submission = Submission.objects.get()
    assert confirmed["Location"] == detail(submission)
    assert submission.channel == Submission.Channel.UPLOAD
    assert submission.submitted_by == clerk and submission.department == zhangdian
    assert submission.status == Submission.Status.DONE  # small file: processed inline

    expected = expected_counts()
    result = client.get(detail(submission))
    html = result.content.decode()
    assert counts_in_html(html) == expected
    assert {k: getattr(submission, k) for k in expected} == expected
    assert issues_in_html(html) == expected_issues()
    assert "hx-trigger" not in html  # finished: no more polling
    garbage = case_row("garbage_date")
    assert f'data-row="{garbage}" data-field="CF_JDRQ" data-rule="date_format"' in html
    assert "去年三月" in html
    # The extra columns are reported, the fixed one is not.
    assert set(submission.extra_columns) == {"序号", "内部编号"}
    assert "已确认列映射并接收文件" in html

    # The confirmed mapping is saved per department and category.
    saved = ColumnMapping.objects.get(department=zhangdian, category=cf, header=UNKNOWN_HEADER)
    assert saved.field_code == FIXED_FIELD and saved.confirmed
    assert ColumnMapping.objects.get(header="序号").field_code == ""
    # The staged copy is gone; the raw file is kept with its sha256.
    assert not (media / uploads.STAGING_DIR).exists() or not any(
        (media / uploads.STAGING_DIR).iterdir()
    )
    with submission.raw_file.open("rb") as fh:
        assert fh.read() == messy_csv()

    # Second upload of the same headers: straight to processing with the saved mapping.
    again = upload(client, zhangdian, cf, messy_csv())
    assert again.status_code == 302
    second = Submission.objects.latest("id")
    assert again["Location"] == detail(second) and second.pk != submission.pk
    assert second.status == Submission.Status.DONE
    assert second.mapping_override is None  # the saved mapping did it
    assert (second.rows, second.accepted, second.rejected) == (
        expected["rows"],
        expected["accepted"],
        expected["rejected"],
    )
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, expected["inserted"])
    page = client.get(detail(second)).content.decode()
    assert "已按保存的列映射接收文件" in page

    # Asked to review anyway: the screen comes pre-filled from the saved mapping.
    review = upload(client, zhangdian, cf, messy_csv(), review_mapping="on")
    screen = client.get(review["Location"])
    columns = {c.header: c for c in screen.context["preview"].columns}
    assert columns[UNKNOWN_HEADER].field_code == FIXED_FIELD
    assert all(c.method == "saved" for c in columns.values())
    assert "missing-required" not in screen.content.decode()
    cancelled = client.post(review["Location"], {"action": "cancel"})
    assert cancelled.status_code == 302 and Submission.objects.count() == 2
    assert client.get(review["Location"]).status_code == 302  # the staged file is gone


def test_error_report_downloads(client, clerk, zhangdian, cf, media, received_on_messy_date):
    client.force_login(clerk)
    upload_response = upload(client, zhangdian, cf, messy_csv(unknown_header=False))
    # Every header is recognised but none is saved yet: the clerk confirms once.
    client.post(upload_response["Location"], confirmed_mapping())
    submission = Submission.objects.get()
    expected = expected_issues()

    xlsx = client.get(f"{detail(submission)}errors.xlsx")
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in xlsx["Content-Disposition"]
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(xlsx.streaming_content)))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == ["行号", "字段编码", "字段", "原始值", "规则", "说明", "级别"]
    assert len(rows) - 1 == len(expected) == submission.error_count + submission.warning_count
    garbage = case_row("garbage_date")
    line = next(r for r in rows[1:] if int(r[0]) == garbage)
    assert line[1:5] == ["CF_JDRQ", "处罚决定日期", "去年三月", "date_format"]
    assert line[5] and line[6] == "错误"

    data = client.get(f"{detail(submission)}errors.json")
    assert data.status_code == 200 and "attachment" in data["Content-Disposition"]
    report = json.loads(data.content)
    assert report["count"] == len(expected) and report["summary"]["rows"] == submission.rows
    got = {(i["row"], i["field"], i["rule"], i["severity"]) for i in report["items"]}
    assert got == expected


def test_error_table_is_paginated(
    client, clerk, zhangdian, cf, media, received_on_messy_date, monkeypatch
):
    monkeypatch.setattr(views, "ERRORS_PER_PAGE", 10)
    client.force_login(clerk)
    response = upload(client, zhangdian, cf, messy_csv(unknown_header=False))
    client.post(response["Location"], confirmed_mapping())
    submission = Submission.objects.get()
    expected = sorted(expected_issues())
    first = issues_in_html(client.get(detail(submission)).content.decode())
    assert len(first) == 10
    fragment = client.get(
        f"{detail(submission)}errors/?page=2", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert fragment.startswith('<div id="errors"') and "第 2 / " in fragment
    second = issues_in_html(fragment)
    assert len(second) == 10 and not first & second
    only_warnings = issues_in_html(
        client.get(
            f"{detail(submission)}errors/?severity=warning", HTTP_HX_REQUEST="true"
        ).content.decode()
    )
    assert only_warnings == {i for i in expected if i[3] == "warning"}
    # Without htmx the fragment URL leads to the page.
    plain = client.get(f"{detail(submission)}errors/?page=2")
    assert plain.status_code == 302 and plain["Location"].startswith(detail(submission))


def test_large_file_is_processed_in_background_and_the_page_polls(
    client,
    clerk,
    zhangdian,
    cf,
    media,
    received_on_messy_date,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 100)
    client.force_login(clerk)
    response = upload(client, zhangdian, cf, messy_csv(unknown_header=False))
    screen = client.get(response["Location"])
    assert "转入后台处理" in screen.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        confirmed = client.post(response["Location"], confirmed_mapping())
    submission = Submission.objects.get()
    assert confirmed["Location"] == detail(submission)
    assert submission.status == Submission.Status.RECEIVED and len(callbacks) == 1

    waiting = client.get(detail(submission)).content.decode()
    assert 'hx-trigger="every 1s"' in waiting
    assert f'hx-get="/console/intake/submissions/{submission.pk}/status/"' in waiting
    assert "<progress" in waiting and 'data-status="received"' in waiting
    status = client.get(f"{detail(submission)}status/").content.decode()
    assert status.startswith('<section id="submission-status"') and "every 1s" in status

    callbacks[0]()  # the task worker runs the job
    submission.refresh_from_db()
    assert submission.status == Submission.Status.DONE
    status = client.get(f"{detail(submission)}status/").content.decode()
    assert "hx-trigger" not in status
    assert counts_in_html(status) == expected_counts()
    assert issues_in_html(status) == expected_issues()


def test_unreadable_and_unsupported_files_are_refused_on_the_form(
    client, clerk, zhangdian, cf, media
):
    client.force_login(clerk)
    broken = upload(client, zhangdian, cf, b"PK\x03\x04 not a workbook", name="x.xlsx")
    assert broken.status_code == 422
    assert "不是有效的 Excel 文件" in broken.content.decode()
    pdf = upload(client, zhangdian, cf, b"%PDF-1.4", name="x.pdf")
    assert pdf.status_code == 422 and "不支持的文件类型" in pdf.content.decode()
    empty = upload(client, zhangdian, cf, b"", name="x.csv")
    assert empty.status_code == 422
    assert Submission.objects.count() == 0


def test_oversized_upload_is_refused_with_413(client, clerk, zhangdian, cf, media, settings):
    settings.PUBCREDIT_INTAKE_MAX_UPLOAD_BYTES = 1000
    client.force_login(clerk)
    response = upload(client, zhangdian, cf, b"a,b\n" + b"1,2\n" * 30_000)
    assert response.status_code == 413
    assert "文件过大" in response.content.decode()
    assert Submission.objects.count() == 0


def test_clerk_cannot_upload_for_another_department_or_see_its_submissions(
    client, clerk, other_clerk, zhangdian, other_department, cf, media, system
):
    client.force_login(clerk)
    response = upload(client, other_department, cf, messy_csv())
    assert response.status_code == 422
    assert "只能为本部门" in response.content.decode()
    assert Submission.objects.count() == 0

    theirs = services.submit_file(
        system,
        department=other_department,
        category=cf,
        source=messy_csv(),
        filename="theirs.csv",
        channel=Submission.Channel.CLI,
    )
    mine = services.receive_file(
        system,
        department=zhangdian,
        category=cf,
        source=messy_csv(),
        filename="mine.csv",
        channel=Submission.Channel.CLI,
    )
    assert theirs.status == Submission.Status.DONE
    listing = client.get(LIST)
    assert [s.pk for s in listing.context["page"]] == [mine.pk]
    assert "theirs.csv" not in listing.content.decode()
    for suffix in ("", "status/", "errors.xlsx", "errors.json"):
        assert client.get(f"{detail(theirs)}{suffix}").status_code == 404, suffix
    assert client.get(detail(mine)).status_code == 200

    # The other department's clerk sees theirs only; staff see both.
    client.force_login(other_clerk)
    assert [s.pk for s in client.get(LIST).context["page"]] == [theirs.pk]
    client.force_login(make_user("staff", Role.CENTRE_STAFF))
    assert {s.pk for s in client.get(LIST).context["page"]} == {mine.pk, theirs.pk}
    assert client.get(f"{LIST}?department={zhangdian.code}").context["page"][0].pk == mine.pk


def test_a_staged_upload_belongs_to_its_clerk(
    client, clerk, zhangdian, cf, media, received_on_messy_date
):
    client.force_login(clerk)
    mapping_url = upload(client, zhangdian, cf, messy_csv())["Location"]
    colleague = make_user("zd-clerk-2", Role.DEPARTMENT_CLERK, department=zhangdian)
    client.force_login(colleague)
    response = client.post(mapping_url, confirmed_mapping())
    assert response.status_code == 302 and response["Location"] == UPLOAD
    assert Submission.objects.count() == 0


def test_roles_without_submit_cannot_upload(client, centre, catalogue, media):
    window = make_user("window", Role.WINDOW_CLERK)
    client.force_login(window)
    assert client.get(UPLOAD).status_code == 403
    assert client.get(LIST).status_code == 403
    # Centre staff see submissions but do not submit (no "records.submit").
    client.force_login(centre)
    assert client.get(UPLOAD).status_code == 403
    page = client.get(LIST)
    assert page.status_code == 200 and "/console/intake/upload/" not in page.content.decode()
    assert client.get(UPLOAD, follow=False).status_code == 403


def test_navigation_lists_the_intake_pages_by_role(client, clerk, centre):
    client.force_login(clerk)
    html = client.get(LIST).content.decode()
    assert "数据归集" in html and 'href="/console/intake/upload/"' in html
    assert 'href="/console/intake/reviews/"' not in html
    client.force_login(centre)
    html = client.get(LIST).content.decode()
    assert (
        'href="/console/intake/reviews/"' in html and 'href="/console/intake/upload/"' not in html
    )


def test_anonymous_is_sent_to_login(client, catalogue):
    for url in (UPLOAD, LIST, REVIEWS, "/console/intake/submissions/1/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --------------------------------------------------------------------------- review queue


def _queued_record(system, zhangdian, cf, near_name, name, n):
    """A record whose subject came by name only and is near `near_name`: queued for review."""
    from django.db import transaction

    from pubcredit.intake import loading
    from pubcredit.subjects.services import register_subject
    from pubcredit.testing.loadkit import accepted_frame, cf_row, make_uscc

    near = register_subject(system, kind="org", name=near_name, uscc=make_uscc(500 + n))
    row = cf_row(n, source_uscc=zhangdian.uscc)
    row.update(CF_XDR_MC=name, CF_XDR_SHXYM=None)
    submission = Submission.objects.create(
        department=zhangdian,
        category=cf,
        channel=Submission.Channel.CLI,
        filename=f"names-{n}.csv",
        sha256=f"{n:064d}",
        status=Submission.Status.DONE,
    )
    with transaction.atomic():
        loading.load_accepted(submission, accepted_frame([row]))
    return near, MatchReview.objects.get(record__source_row=2, submission=submission)


def test_review_queue_confirm_a_candidate(client, centre, clerk, zhangdian, cf, system):
    near, review = _queued_record(
        system, zhangdian, cf, "淄博永盛商贸有限公司", "淄博永昌商贸有限公司", 1
    )
    client.force_login(clerk)
    assert client.get(REVIEWS).status_code == 403
    assert client.post(f"{REVIEWS}{review.pk}/resolve/", {"subject": near.pk}).status_code == 403

    client.force_login(centre)
    page = client.get(REVIEWS)
    html = page.content.decode()
    assert page.status_code == 200
    assert "淄博永昌商贸有限公司" in html and "淄博永盛商贸有限公司" in html
    assert f'data-subject="{near.pk}"' in html and "确认为该主体" in html
    # A subject that is not a candidate is refused.
    stranger = client.post(f"{REVIEWS}{review.pk}/resolve/", {"subject": 999999}, follow=True)
    assert "请选择一个候选主体" in stranger.content.decode()

    done = client.post(f"{REVIEWS}{review.pk}/resolve/", {"subject": near.pk}, follow=True)
    assert "已确认" in done.content.decode()
    review.refresh_from_db()
    assert review.status == MatchReview.Status.RESOLVED and review.resolved_by == centre
    record = Record.objects.get(pk=review.record_id)
    assert record.subject == near and record.subject_link == SubjectLink.MANUAL
    assert AuditEvent.objects.filter(action="intake.resolve_match").count() == 1
    assert "没有待确认的主体匹配" in client.get(REVIEWS).content.decode()
    # Resolved once: a second attempt finds nothing open.
    again = client.post(f"{REVIEWS}{review.pk}/resolve/", {"subject": near.pk}, follow=True)
    assert "该待确认记录已处理" in again.content.decode()


def test_review_queue_register_a_new_subject(client, centre, zhangdian, cf, system):
    from pubcredit.subjects.models import Subject

    _near, review = _queued_record(
        system, zhangdian, cf, "淄博永盛商贸有限公司", "淄博永昌商贸有限公司", 2
    )
    client.force_login(centre)
    before = Subject.objects.count()
    response = client.post(
        f"{REVIEWS}{review.pk}/new-subject/",
        {f"r{review.pk}-name": "淄博永昌商贸有限公司", f"r{review.pk}-uscc": ""},
        follow=True,
    )
    assert "已将" in response.content.decode()
    assert Subject.objects.count() == before + 1
    created = Subject.objects.get(name="淄博永昌商贸有限公司")
    record = Record.objects.get(pk=review.record_id)
    assert record.subject == created and record.subject_link == SubjectLink.MANUAL
    assert AuditEvent.objects.filter(action="subjects.register", object_id=str(created.pk))

    # With a bad USCC nothing is written.
    _near2, review2 = _queued_record(
        system, zhangdian, cf, "淄博华泰陶瓷有限公司", "淄博华秦陶瓷有限公司", 3
    )
    response = client.post(
        f"{REVIEWS}{review2.pk}/new-subject/",
        {f"r{review2.pk}-name": "淄博华秦陶瓷有限公司", f"r{review2.pk}-uscc": "91370303MA3C0000"},
        follow=True,
    )
    review2.refresh_from_db()
    assert review2.status == MatchReview.Status.OPEN
    assert 'class="messages"' in response.content.decode()


def test_a_two_level_html_xls_is_mapped_by_its_combined_names(
    client, clerk, zhangdian, cf, media, received_on_messy_date
):
    """A report system's HTML table saved as .xls, 行政相对人 / 处罚机关 / 数据来源单位 over
    名称, 类别, 统一社会信用代码: the mapping screen shows the combined names, mapped."""
    client.force_login(clerk)
    name, data = next((n, d) for n, d in messy.grouped_files() if n == "colspan-rowspan.xls")
    response = upload(client, zhangdian, cf, data, name=name)
    assert response.status_code == 302
    screen = client.get(response["Location"])
    preview = screen.context["preview"]
    assert [c.header for c in preview.columns] == messy.COMBINED
    assert [c.field_code for c in preview.columns] == messy.GROUPED_CODES
    assert preview.format == "html" and not preview.missing_required
    html = screen.content.decode()
    assert "行政相对人统一社会信用代码" in html and "处罚机关统一社会信用代码" in html
    post = {"action": "confirm"}
    post.update({f"col-{i}": code for i, code in enumerate(messy.GROUPED_CODES)})
    confirmed = client.post(response["Location"], post)
    assert confirmed.status_code == 302
    submission = Submission.objects.get()
    assert (submission.rows, submission.accepted, submission.rejected) == (4, 3, 1)
    assert ColumnMapping.objects.filter(header="行政相对人统一社会信用代码").exists()
