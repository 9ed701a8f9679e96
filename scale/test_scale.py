# ruff: noqa: F811 (pytest fixtures imported from the kits)
"""The platform on a three-node Citus cluster (`make test-citus`): the schema distributed by
subject, then the paths a city runs every day, each asserted on hand-written expectations:
intake of a file, the portal's subject search, a credit check through the API, a repair grant,
a monthly bulletin; and the EXPLAIN evidence that a credit check's reads and a subject page's
queries are single-shard router queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client

from pubcredit.ops import scaleout

pytestmark = pytest.mark.django_db


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


# --------------------------------------------------------------------------- the distribution


def test_large_tables_are_distributed_by_subject_and_colocated():
    kinds = dict(
        rows(
            "SELECT logicalrelid::regclass::text, "
            "CASE WHEN partmethod = 'h' THEN 'hash:' || column_to_column_name(logicalrelid, "
            "partkey) ELSE partmethod::text END FROM pg_dist_partition"
        )
    )
    assert kinds["subjects_subject"] == "hash:id"
    for table in (
        "records_record",
        "records_recordversion",
        "publicity_publicity",
        "publicity_publicityevent",
        "lists_listentry",
        "commitments_commitment",
        "measures_subjectflags",
        "scoring_scoreresult",
        "portal_searchentry",
    ):
        assert kinds[table] == "hash:subject_id", table
    for table in ("catalog_category", "catalog_department", "measures_measure", "accounts_user"):
        assert kinds[table] == "n", table  # reference tables ('n': not partitioned, replicated)
    assert "django_migrations" not in kinds and "django_session" not in kinds
    groups = rows(
        "SELECT DISTINCT colocationid FROM pg_dist_partition WHERE partmethod = 'h' "
        "AND logicalrelid::regclass::text = ANY(%s)",
        [[t for t, c in scaleout.DISTRIBUTED.items() if c == "subject_id" or t == scaleout.ANCHOR]],
    )
    assert len(groups) == 1  # one co-location group: a subject's rows share its shard
    # Shards on both workers.
    nodes = rows(
        "SELECT DISTINCT nodeport FROM citus_shards WHERE table_name = 'records_record'::regclass"
    )
    assert sorted(n for (n,) in nodes) == [5441, 5442]


def test_every_table_with_a_subject_is_in_the_plan():
    with_subject = {
        t
        for (t,) in rows(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'subject_id'"
        )
    }
    assert with_subject - set(scaleout.DISTRIBUTED) - scaleout.KEYED_ELSEWHERE == set()


def test_unique_constraints_of_distributed_tables_hold_the_subject():
    missing = rows(
        """
        SELECT i.indexrelid::regclass::text
        FROM pg_index i JOIN pg_dist_partition p ON p.logicalrelid = i.indrelid
        WHERE i.indisunique AND p.partmethod = 'h'
          AND NOT (p.partkey IS NOT NULL AND (
              SELECT attnum FROM pg_attribute WHERE attrelid = i.indrelid
              AND attname = column_to_column_name(p.logicalrelid, p.partkey)) = ANY(i.indkey))
        """
    )
    assert missing == []


def test_distribute_again_does_nothing():
    report = scaleout.distribute()
    assert not report.changed
    assert report.keys_written == 0
    assert report.workers == ["127.0.0.1:5441", "127.0.0.1:5442"]


# --------------------------------------------------------------------------- the daily paths

from pubcredit.testing.loadkit import (  # noqa: E402, F401
    cf,
    cf_csv,
    cf_row,
    department,
    make_ric,
    make_uscc,
)


def _node_of(table: str, subject_id: int) -> int:
    """The worker port holding `table`'s shard for `subject_id`."""
    [(port,)] = rows(
        "SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) "
        "WHERE p.shardid = get_shard_id_for_distribution_column(%s, %s)",
        [table, subject_id],
    )
    return port


def test_intake_of_a_file_writes_each_record_beside_its_subject(system, department, cf):
    from pubcredit.intake import services
    from pubcredit.intake.models import Submission
    from pubcredit.publicity.models import Publicity
    from pubcredit.records.models import Record
    from pubcredit.subjects.models import Subject

    a, b = make_uscc(1), make_uscc(2)
    data = cf_csv(
        [
            cf_row(1, name="淄博甲乙食品有限公司", uscc=a, source_uscc=department.uscc),
            cf_row(2, name="淄博甲乙食品有限公司", uscc=a, source_uscc=department.uscc,
                   wsh="淄市监罚〔2024〕902号"),
            cf_row(3, name="淄博丙丁商贸有限公司", uscc=b, source_uscc=department.uscc),
        ]
    )  # fmt: skip
    submission = services.submit_file(
        system, department=department, category=cf, source=data, filename="cf.csv", channel="cli"
    )
    assert submission.status == Submission.Status.DONE
    assert (submission.rows, submission.accepted, submission.rejected) == (3, 3, 0)
    first, second = Subject.objects.get(uscc=a), Subject.objects.get(uscc=b)
    assert first.name == "淄博甲乙食品有限公司" and second.name == "淄博丙丁商贸有限公司"
    by_subject = sorted(
        Record.objects.filter(submission=submission).values_list("subject_id", "business_key")
    )
    assert by_subject == sorted(
        [
            (first.pk, f"淄市监罚〔2024〕1号|{a}|"),
            (first.pk, f"淄市监罚〔2024〕902号|{a}|"),
            (second.pk, f"淄市监罚〔2024〕3号|{b}|"),
        ]
    )
    # Each record, and its publicity window, on the worker that holds its subject.
    assert Publicity.objects.filter(subject__in=[first, second]).count() == 3
    for subject in (first, second):
        node = _node_of("subjects_subject", subject.pk)
        assert _node_of("records_record", subject.pk) == node
        assert _node_of("publicity_publicity", subject.pk) == node


def test_the_portal_search_finds_a_subject_by_name_and_by_code(system):
    from pubcredit.testing.checkkit import register_org

    company = register_org(system, "淄博星河精密机械有限公司")
    register_org(system, "淄博星辰食品有限公司")
    client = Client()
    page = client.get("/search/", {"q": "星河精密"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "淄博星河精密机械有限公司" in text and "淄博星辰食品有限公司" not in text
    assert f"/subjects/{company.pk}/" in text
    by_code = client.get("/search/", {"q": company.uscc})
    assert f"/subjects/{company.pk}/" in by_code.content.decode()


def test_a_credit_check_through_the_api(system):
    from pubcredit.accounts.models import Role
    from pubcredit.accounts.services import issue_api_key
    from pubcredit.checks.models import CreditCheck
    from pubcredit.testing.checkkit import black_now, register_org

    company = register_org(system, "淄博失信示范有限公司")
    entry = black_now(system, company)
    _key, clear = issue_api_key(system, name="淄博某银行信贷系统", role=Role.BANK_USER)
    response = Client().post(
        "/api/v1/checks",
        json.dumps({"uscc": company.uscc, "matter": "FINANCING"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {clear}",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["match"] == "uscc" and data["subject"]["id"] == company.pk
    assert data["hits"][0]["ref"] == f"entry:{entry.pk}"
    assert [m["code"] for m in data["punishments"]] == [
        "P_FINANCIAL_RISK_PRICING",
        "P_INDUSTRY_DISCIPLINE",
    ]
    assert data["outcome"] == "punish"
    assert CreditCheck.objects.get(pk=data["id"]).subject_id == company.pk
    # A check of an identifier the register does not hold is logged too (no subject).
    unknown = Client().post(
        "/api/v1/checks",
        json.dumps({"uscc": make_uscc(99_999), "matter": "FINANCING"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {clear}",
    )
    assert unknown.status_code == 200, unknown.content
    assert unknown.json()["outcome"] == "not_found"
    assert CreditCheck.objects.get(pk=unknown.json()["id"]).subject_id is None


from pubcredit.repair.tests.kit import D, apply, staff, world  # noqa: E402, F401
from pubcredit.testing.listkit import make_subject  # noqa: E402, F401


def test_a_repair_grant_ends_the_publicity(world, staff, make_subject):
    from django.utils import timezone

    from pubcredit.publicity.models import Publicity, PublicityState
    from pubcredit.repair import services
    from pubcredit.repair.models import ProcedureStatus
    from pubcredit.testing.listkit import make_record

    # The kit's penalty (repair.tests.kit) pins the window with update_or_create, a
    # SELECT … FOR UPDATE by record without the subject, which Citus refuses on a distributed
    # table; the same window pinned by an UPDATE that names the subject.
    subject = make_subject()
    record = make_record(
        subject,
        "CF",
        data={"CF_WSH": "淄市监罚〔2025〕77号", "CF_WFXW": "销售过期食品"},
        business_key=f"淄市监罚〔2025〕77号|{subject.uscc}|",
        decision_date=dt.date(2025, 10, 1),
    )
    pinned = Publicity.objects.filter(pk=record.pk, subject=subject).update(
        tier="general",
        start=dt.date(2025, 10, 1),
        end=dt.date(2026, 10, 1),
        state=PublicityState.PUBLIC,
        repair_from=dt.date(2026, 1, 1),
        computed_at=timezone.now(),
    )
    assert pinned == 1
    app = apply(record)
    app = services.accept_application(staff["centre"], app, today=D)
    app = services.review_application(staff["dept"], app, agrees=True, opinion="经核实", today=D)
    app = services.decide_application(staff["centre"], app, grant=True, today=D)
    assert app.status == ProcedureStatus.GRANTED
    assert Publicity.objects.get(pk=record.pk).state == PublicityState.REPAIRED
    assert [s.to_status for s in app.steps.order_by("pk")] == [
        ProcedureStatus.SUBMITTED,
        ProcedureStatus.ACCEPTED,
        ProcedureStatus.REVIEWED,
        ProcedureStatus.GRANTED,
    ]


def test_a_distributed_row_saves_without_its_subject_and_refuses_a_move(world, make_subject):
    from pubcredit.core.citus import ShardMoveError
    from pubcredit.publicity.models import Publicity
    from pubcredit.testing.listkit import make_record

    subject, other = make_subject(), make_subject()
    record = make_record(
        subject,
        "CF",
        data={"CF_WSH": "淄市监罚〔2025〕78号", "CF_WFXW": "未按规定公示年报"},
        business_key=f"淄市监罚〔2025〕78号|{subject.uscc}|",
        decision_date=dt.date(2025, 9, 1),
    )
    window = Publicity.objects.get(pk=record.pk, subject=subject)
    window.end = dt.date(2026, 9, 1)
    window.save()  # Django's save() sets every column; on Citus the subject is left out
    assert Publicity.objects.get(pk=record.pk, subject=subject).end == dt.date(2026, 9, 1)
    window.subject = other
    with pytest.raises(ShardMoveError):
        window.save()
    assert Publicity.objects.filter(pk=record.pk, subject=subject).exists()


from pubcredit.bulletins.tests.test_compose import OCTOBER, october  # noqa: E402, F401
from pubcredit.testing.loadkit import calendar_2026, make_submission  # noqa: E402, F401


def test_a_monthly_bulletin(calendar_2026, october, system):
    from pubcredit.bulletins.services import issue, summary_json

    bulletin, created = issue(OCTOBER, system)
    assert created
    out = summary_json(bulletin)
    assert (out["number"], out["period"], out["version"]) == (
        "信用归集通报〔2026〕1号",
        "2026-10",
        1,
    )
    assert out["departments"][0] == {
        "code": "ZB-STHJ",
        "name": "淄博市生态环境局",
        "submitted": 2,
        "accepted": 2,
        "rejected": 0,
        "on_time_rate": 0.5,
        "compliance_rate": 1.0,
        "zero_report": False,
        "score": 70.0,
        "rank": 1,
    }


# --------------------------------------------------------------------------- EXPLAIN evidence


def explain(sql: str, params, options: str = "") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {options} {sql}", list(params))
        return "\n".join(row[0] for row in cursor.fetchall())


def _distributed_tables() -> set[str]:
    return {t for (t,) in rows("SELECT logicalrelid::regclass::text FROM pg_dist_partition "
                                "WHERE partmethod = 'h'")}  # fmt: skip


@pytest.fixture
def sequential(db):
    """The test's writes and the reads it explains share one transaction (rolled back at the
    end), where a request's reads run in a transaction of their own: Citus then needs the
    writes over one connection per node to read them back."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")


def is_router(plan: str) -> bool:
    return "Custom Scan (Citus Adaptive)" in plan and "Task Count: 1" in plan


def test_a_credit_check_reads_as_single_shard_router_queries(sequential, system, monkeypatch):
    """The check by 统一社会信用代码: the identifier look-up (the key table by key: the shard
    holding the key), then the subject's facts (the subject's shard), and the log row, each a
    router query, each printed for docs/scale.md."""
    from pubcredit.checks import services
    from pubcredit.core import hotpath
    from pubcredit.testing.checkkit import black_now, register_org

    company = register_org(system, "淄博路由示范有限公司")
    black_now(system, company)
    seen = []
    real = hotpath.fetchone

    def spy(sql, params):
        seen.append((sql, list(params)))
        return real(sql, params)

    monkeypatch.setattr(hotpath, "fetchone", spy)
    services.run_check(system, uscc=company.uscc, matter="FINANCING", channel="api")
    monkeypatch.undo()
    assert len(seen) == 3, [s for s, _ in seen]
    (lookup, lookup_params), (facts, facts_params), (insert, insert_params) = seen
    assert lookup == "SELECT subject_id FROM subjects_subjectkey WHERE key = %s"
    assert lookup_params == ["U:" + company.uscc]
    assert facts_params[-1] == company.pk and "WHERE s.id = %s" in facts
    facts_plan = explain(facts, facts_params)
    print("\n-- the check's read of the subject's facts\n" + facts_plan)
    assert is_router(facts_plan), facts_plan
    insert_plan = explain(insert, insert_params)
    assert is_router(insert_plan), insert_plan
    lookup_plan = explain(lookup, lookup_params)
    print("\n-- the identifier look-up\n" + lookup_plan)
    assert is_router(lookup_plan), lookup_plan  # one shard: the key's, not all 32
    assert f"port={_key_node('U:' + company.uscc)} " in lookup_plan
    assert "Index Scan using subjects_subjectkey_pkey_" in lookup_plan


def test_a_subject_page_reads_only_its_shard(sequential, system):
    """Every query the portal's subject page runs that touches a distributed table is a
    single-shard router query."""
    from django.test.utils import CaptureQueriesContext

    from pubcredit.testing.checkkit import black_now, register_org

    company = register_org(system, "淄博主页示范有限公司")
    black_now(system, company)
    distributed = _distributed_tables()
    with CaptureQueriesContext(connection) as captured:
        page = Client().get(f"/subjects/{company.pk}/")
    assert page.status_code == 200
    assert "淄博主页示范有限公司" in page.content.decode()
    multi = []
    checked = 0
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.startswith("SELECT") or not any(f'"{t}"' in sql or f" {t} " in sql
                                                   for t in distributed):  # fmt: skip
            continue
        checked += 1
        plan = explain(sql, [])
        if not is_router(plan):
            multi.append((sql, plan))
    assert checked >= 3
    assert multi == [], "\n\n".join(f"{s}\n{p}" for s, p in multi)


# --------------------------------------------------------------------------- the key table


def _key_node(key: str) -> int:
    """The worker port holding the key table's shard for `key`."""
    return _node_of("subjects_subjectkey", key)


def _key_row_on_its_shard(key: str) -> int:
    """The subject id the key's row gives, read by the check's look-up, which EXPLAIN shows as a
    router query whose one task reads the shard of `key` on the worker that holds it."""
    from pubcredit.subjects import keys

    [(shard,)] = rows("SELECT get_shard_id_for_distribution_column('subjects_subjectkey', %s)",
                      [key])  # fmt: skip
    plan = explain(keys.LOOKUP_SQL, [key], "(COSTS OFF)")
    assert is_router(plan), plan
    assert f"port={_key_node(key)} " in plan, plan
    assert f"Index Scan using subjects_subjectkey_pkey_{shard} on subjects_subjectkey_{shard} " in (
        plan
    ), plan
    [(subject_id,)] = rows(keys.LOOKUP_SQL, [key])
    return subject_id


def _api_check(clear: str, **query) -> dict:
    response = Client().post(
        "/api/v1/checks",
        json.dumps({**query, "matter": "FINANCING"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {clear}",
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def bank_key(system):
    from pubcredit.accounts.models import Role
    from pubcredit.accounts.services import issue_api_key

    _key, clear = issue_api_key(system, name="淄博某银行信贷系统", role=Role.BANK_USER)
    return clear


def test_subjects_registered_by_intake_and_by_the_register_have_their_keys_on_one_shard(
    system, department, cf, bank_key
):
    from pubcredit.catalog.models import SubjectKind
    from pubcredit.intake import services
    from pubcredit.intake.models import Submission
    from pubcredit.subjects.models import Subject
    from pubcredit.subjects.services import register_subject

    by_intake_org, by_intake_person = make_uscc(71), make_ric(72)
    data = cf_csv(
        [
            cf_row(71, name="淄博键表甲有限公司", uscc=by_intake_org, source_uscc=department.uscc),
            cf_row(72, kind="自然人", name="孙七", id_number=by_intake_person,
                   source_uscc=department.uscc),
        ]
    )  # fmt: skip
    submission = services.submit_file(
        system, department=department, category=cf, source=data, filename="cf.csv", channel="cli"
    )
    assert submission.status == Submission.Status.DONE
    assert (submission.rows, submission.accepted, submission.rejected) == (2, 2, 0)
    org_a = Subject.objects.get(uscc=by_intake_org)
    person_a = Subject.objects.get(kind="person", name="孙七")
    by_service_org, by_service_person = make_uscc(73), make_ric(74)
    org_b = register_subject(system, kind=SubjectKind.ORG, name="淄博键表乙有限公司",
                             uscc=by_service_org)  # fmt: skip
    person_b = register_subject(system, kind=SubjectKind.PERSON, name="吴九",
                                id_number=by_service_person)  # fmt: skip

    # The checks first: after an EXPLAIN of a distributed query, in this one transaction that
    # wrote reference tables (the API key) on the coordinator, Citus refuses to read them.
    for query, subject, match in (
        ({"uscc": by_intake_org}, org_a, "uscc"),
        ({"id_number": by_intake_person}, person_a, "id_number"),
        ({"uscc": by_service_org}, org_b, "uscc"),
        ({"id_number": by_service_person}, person_b, "id_number"),
    ):
        data = _api_check(bank_key, **query)
        assert (data["match"], data["subject"]["id"]) == (match, subject.pk), query
    assert _api_check(bank_key, uscc=make_uscc(78))["outcome"] == "not_found"  # no key, no subject

    expected = [
        ("U:" + by_intake_org, org_a),
        ("I:" + person_a.id_index, person_a),
        ("U:" + by_service_org, org_b),
        ("I:" + person_b.id_index, person_b),
    ]
    for key, subject in expected:
        assert _key_row_on_its_shard(key) == subject.pk, key


def test_distribute_backfills_the_keys_of_the_subjects_registered_before(bank_key):
    from pubcredit.subjects.models import Subject

    from .conftest import BEFORE_ORG, BEFORE_PERSON

    org = Subject.objects.get(uscc=make_uscc(BEFORE_ORG[1]))
    person = Subject.objects.get(kind="person", name=BEFORE_PERSON[0])
    assert org.name == "淄博分布前示范有限公司"
    # The checks before the EXPLAINs (as in the test above).
    data = _api_check(bank_key, uscc=make_uscc(BEFORE_ORG[1]))
    assert (data["match"], data["subject"]["id"]) == ("uscc", org.pk)
    data = _api_check(bank_key, id_number=make_ric(BEFORE_PERSON[1]))
    assert (data["match"], data["subject"]["id"]) == ("id_number", person.pk)
    assert _key_row_on_its_shard("U:" + make_uscc(BEFORE_ORG[1])) == org.pk
    assert _key_row_on_its_shard("I:" + person.id_index) == person.pk


def test_a_registration_that_loses_the_key_returns_the_winner(system, monkeypatch):
    """Two registrations of one identifier at once: the key table's primary key lets one
    through; the other (here: its look-up ran before the winner's key was there) rolls its
    subject back and returns the winner's."""
    from pubcredit.catalog.models import SubjectKind
    from pubcredit.subjects import keys, services
    from pubcredit.subjects.models import Subject, SubjectKey

    code = make_uscc(75)
    winner = services.register_subject(system, kind=SubjectKind.ORG, name="淄博先到有限公司",
                                       uscc=code)  # fmt: skip
    real_find = keys.find
    calls = []

    def late_find(queryset, field, value):  # the first look-up does not see the winner yet
        calls.append(field)
        return queryset.none() if len(calls) == 1 else real_find(queryset, field, value)

    monkeypatch.setattr(keys, "find", late_find)
    loser = services.register_subject(system, kind=SubjectKind.ORG, name="淄博后到有限公司",
                                      uscc=code)  # fmt: skip
    assert loser.pk == winner.pk and loser.name == "淄博先到有限公司"
    assert calls == ["uscc", "uscc"]
    assert list(Subject.objects.filter(uscc=code).values_list("pk", flat=True)) == [winner.pk]
    assert list(SubjectKey.objects.filter(key="U:" + code).values_list("subject_id", flat=True)) \
        == [winner.pk]  # fmt: skip


def test_intake_rolls_back_a_subject_whose_key_another_writer_holds(system):
    """`intake.linking._claim_keys`: the keys of a load's new subjects in one statement; a
    subject whose identifier another writer registered meanwhile is deleted again and left out."""
    import polars as pl

    from pubcredit.catalog.models import SubjectKind
    from pubcredit.intake import linking
    from pubcredit.subjects.models import Subject, SubjectKey
    from pubcredit.subjects.services import register_subject

    held, free = make_uscc(76), make_uscc(77)
    winner = register_subject(system, kind=SubjectKind.ORG, name="淄博已登记有限公司", uscc=held)
    duplicate = Subject.objects.create(kind="org", name="淄博重复有限公司", name_norm="淄博重复有限公司",
                                       uscc=held)  # fmt: skip
    new = Subject.objects.create(kind="org", name="淄博新有限公司", name_norm="淄博新有限公司",
                                 uscc=free)  # fmt: skip
    returned = pl.DataFrame(
        {"kind": ["org", "org"], "region": ["370303", "370303"], "uscc": [held, free],
         "_new_subject": [duplicate.pk, new.pk]}
    )  # fmt: skip
    with connection.cursor() as cursor:
        kept = linking._claim_keys(cursor, returned, "uscc")
    assert kept.get_column("_new_subject").to_list() == [new.pk]
    assert not Subject.objects.filter(pk=duplicate.pk).exists()
    assert dict(SubjectKey.objects.filter(key__in=["U:" + held, "U:" + free])
                .values_list("key", "subject_id")) == {"U:" + held: winner.pk, "U:" + free: new.pk}  # fmt: skip
