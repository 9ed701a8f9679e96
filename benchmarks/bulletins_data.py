"""The data set of benchmarks/bulletins.py: a city of N subjects and R records received over the
last twelve months, built set based on PostgreSQL and kept for later runs (`--reuse`).

Steps (`build`):
1. a fresh database, `pubcredit migrate`, `pubcredit demo --subjects N --no-records` (the demo
   city's register, catalogue with its departments and reporting duties), list types, measures,
   repair rules and the holiday table;
2. the submissions: for every reporting duty (department × category; 42 in the catalogue) and
   one 行政处罚 stream for each active department without a duty, one to eight submissions a
   month over the twelve months before today (a few duty-months have none: 零报送), at working
   hours, with their rows, accepted and rejected counts (about 2% rejected), a few failed ones;
   written with bulk_create (a few thousand rows);
3. the records: `INSERT … SELECT` over `generate_series` per submission (the rows of a submission
   share its receipt time, as intake writes them), each with a subject drawn from the register
   (skewed: a few subjects carry many records), the category's name, code, decision-date and
   document-number fields in `data` (half with an optional field filled), a decision date some
   days before receipt (more days for some departments: those are late), about 3% at version 2
   with their version 1 in the history table (received earlier), about 1% withdrawn later;
   the plain secondary indexes are rebuilt after the load (`bulkload.deferred_indexes`);
4. the publicity read model of the 双公示 records (行政许可 while valid, 行政处罚 one year), set based;
5. the month's other work: credit checks (about 20,000 a month, a tenth returning a measure, half
   of those with feedback), repair applications and objections with their procedure steps;
6. what the scorecards read beyond the records (`write_scoring_inputs`, also run alone on a data
   set built before it by benchmarks/scoring.py): list entries of every shipped list type (red,
   black and watch lists, about 1 in 20 subjects, some removed), credit commitments with their
   performance assessed (about 1 in 4 subjects), the latest 纳税信用等级 of about a third of the
   organisations, 社会组织评估等级, 建筑市场 and 家政服务 records (the sector scorecards'
   populations) and 志愿服务/无偿献血 of persons; the 行政处罚 records carry 处罚类别 and 罚款金额 and
   their publicity a tier (轻微 30%, 一般 62%, 严重 8%);
7. VACUUM ANALYZE, then `bulletins.metrics.rebuild_metrics()` timed (the kept statistics).

Same seed, same sizes, same day: the same data (PostgreSQL's random() is seeded per statement).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from demo_load import _pubcredit, fresh_database  # noqa: E402

SEED = 16
CHECKS_PER_MONTH = 20_000
REPAIRS_PER_MONTH = 300
OBJECTIONS_PER_MONTH = 80
MONTHS = 12
VIOLATIONS = [
    "未取得许可从事经营活动",
    "经营超过保质期的食品",
    "未按规定公示年度报告",
    "超标排放大气污染物",
    "未按规定设置安全警示标志",
    "拖欠劳动者工资",
    "虚假宣传",
    "无证驾驶营运车辆",
    "违法占用耕地",
    "未按规定申报纳税",
    "擅自改变房屋用途",
    "生产销售不合格产品",
]


# 处罚类别 and 罚款金额(万元) of a 行政处罚 record g.g, deterministic (no random(): the subjects
# drawn stay those of earlier builds): mostly fines, mostly small (a quarter ≥ 10 万元), a few
# suspensions or revocations (what the scorecards count).
PENALTY_KIND_SQL = (
    "CASE WHEN mod(g.g * 37, 100) < 55 THEN '罚款' WHEN mod(g.g * 37, 100) < 80 THEN '警告'"
    " WHEN mod(g.g * 37, 100) < 90 THEN '没收违法所得' WHEN mod(g.g * 37, 100) < 94"
    " THEN '责令停产停业' WHEN mod(g.g * 37, 100) < 96 THEN '吊销许可证件'"
    " WHEN mod(g.g * 37, 100) < 98 THEN '暂扣许可证件' ELSE '通报批评' END"
)
FINE_SQL = (
    "CASE WHEN mod(g.g * 37, 100) < 55"
    " THEN round((power(mod(g.g * 7919, 10007) / 10007.0, 8) * 100)::numeric, 2)::text END"
)


def _run(cmd: list[str], env: dict) -> str:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loaded(url: str, subjects: int, records: int) -> bool:
    """Whether the database at `url` already holds the data set (about the sizes asked for)."""
    import psycopg

    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
            row = conn.execute(
                "SELECT (SELECT reltuples FROM pg_class WHERE relname = 'subjects_subject'),"
                " (SELECT reltuples FROM pg_class WHERE relname = 'records_record')"
            ).fetchone()
    except psycopg.Error:
        return False
    have_subjects, have_records = row
    return (have_subjects or 0) >= 0.95 * subjects and (have_records or 0) >= 0.95 * records


def build(url: str, var_dir: Path, subjects: int, records: int, setup_django) -> dict:
    """Build the whole data set into a fresh database at `url` (see the module docstring);
    `setup_django(url, var_dir)` configures Django in this process. Returns the timings."""
    env = os.environ | {"DATABASE_URL": url, "PUBCREDIT_VAR_DIR": str(var_dir)}
    timings: dict = {}
    t = time.perf_counter()
    _log(f"fresh database {url}")
    fresh_database(url)
    _run([*_pubcredit(), "migrate", "--noinput"], env)
    _log(f"demo city: {subjects:,} subjects")
    _run(
        [*_pubcredit(), "demo", "--subjects", str(subjects), "--seed", "1", "--no-records"],
        env,
    )
    for args in (["lists", "import"], ["measures", "import"], ["repair", "rules", "import"]):
        _run([*_pubcredit(), *args], env)
    timings["register_s"] = round(time.perf_counter() - t, 1)
    setup_django(url, var_dir)
    from pubcredit.accounts.permissions import Principal
    from pubcredit.holidays.services import seed_from_chinese_calendar

    seed_from_chinese_calendar(Principal.system("benchmark"))
    today = dt.date.today()
    t = time.perf_counter()
    plan = submissions(records, today)
    timings["submissions"] = len(plan)
    timings["records"] = write_records(plan)
    timings["records_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    timings["publicity"] = write_publicity(today)
    timings["publicity_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    timings["activity"] = write_activity(today)
    timings["activity_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    timings["scoring_inputs"] = write_scoring_inputs(today)
    timings["scoring_inputs_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    analyse()
    timings["analyse_s"] = round(time.perf_counter() - t, 1)
    return timings


# --------------------------------------------------------------------------- submissions


def _months(today: dt.date) -> list[dt.date]:
    index = today.year * 12 + today.month - 1
    return [
        dt.date((index - back) // 12, (index - back) % 12 + 1, 1)
        for back in range(MONTHS - 1, -1, -1)
    ]


def submissions(records: int, today: dt.date) -> list[tuple]:
    """Create the submissions (bulk_create) and return the plan of the records: one tuple per
    loaded submission (submission id, department id, category id, received_at, rows)."""
    from django.utils import timezone

    from pubcredit.catalog.models import Category, Department, ReportingDuty
    from pubcredit.intake.models import Submission

    _log("submissions")
    rng = np.random.default_rng(SEED)
    cf = Category.objects.get(code="CF")
    pairs = sorted(set(ReportingDuty.objects.values_list("department_id", "category_id")))
    with_duty = {d for d, _c in pairs}
    pairs += [
        (pk, cf.pk)
        for pk in Department.objects.filter(active=True)
        .exclude(pk__in=with_duty)
        .order_by("code")
        .values_list("pk", flat=True)
    ]
    codes = dict(Category.objects.values_list("pk", "code"))
    # Volume per stream: 行政处罚 and 行政许可 carry almost everything, skewed between departments.
    weight = np.array(
        [(1.0 if codes[c] in ("CF", "XK") else 0.05) * (rng.pareto(1.2) + 0.2) for _d, c in pairs]
    )
    months = _months(today)
    now = timezone.now()
    objs: list[Submission] = []
    shares: list[float] = []
    for (dept, cat), w in zip(pairs, weight, strict=True):
        for month in months:
            if rng.random() < 0.06:  # 零报送 this month
                continue
            last = (
                today
                if month == months[-1]
                else (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
                - dt.timedelta(days=1)
            )
            span = (last - month).days + 1
            n = int(rng.integers(1, 9))
            for _ in range(n):
                day = month + dt.timedelta(days=int(rng.integers(0, span)))
                moment = timezone.make_aware(
                    dt.datetime.combine(
                        day, dt.time(int(rng.integers(8, 18)), int(rng.integers(0, 60)))
                    )
                )
                if moment >= now:
                    moment = now - dt.timedelta(hours=1)
                failed = rng.random() < 0.01
                objs.append(
                    Submission(
                        department_id=dept,
                        category_id=cat,
                        channel=Submission.Channel.API
                        if rng.random() < 0.3
                        else Submission.Channel.UPLOAD,
                        filename=f"bench-{dept}-{codes[cat]}-{day:%Y%m%d}-{len(objs)}.xlsx",
                        sha256=f"{len(objs):064x}",
                        status=Submission.Status.FAILED if failed else Submission.Status.DONE,
                        progress=100,
                        attempts=1,
                        received_at=moment,
                        started_at=moment,
                        finished_at=moment + dt.timedelta(seconds=30),
                        submitted_by_label="benchmark",
                    )
                )
                shares.append(0.0 if failed else w / n)
    share = np.array(shares) / sum(shares)
    rows = rng.multinomial(records, share)
    for obj, n in zip(objs, rows, strict=True):
        if obj.status == Submission.Status.DONE:
            rejected = int(n * rng.uniform(0, 0.05))
            obj.rows = int(n) + rejected
            obj.accepted = int(n)
            obj.rejected = rejected
            obj.inserted = int(n)
            obj.duplicates = int(rng.integers(0, 3))
            obj.error_count = rejected
    created = Submission.objects.bulk_create(objs, batch_size=2000)
    return [
        (s.pk, s.department_id, s.category_id, s.received_at, int(n))
        for s, n in zip(created, rows, strict=True)
        if s.status == Submission.Status.DONE and n > 0
    ]


# --------------------------------------------------------------------------- records


def _fields() -> dict[int, dict[str, str]]:
    """Per category: the field codes of its roles the generated data fills."""
    from pubcredit.catalog.models import Field

    out: dict[int, dict[str, str]] = {}
    for cat, role, code, requirement in Field.objects.values_list(
        "category_id", "role", "code", "requirement"
    ).order_by("category_id", "position" if _has_position() else "id"):
        fields = out.setdefault(cat, {})
        if role in ("subject_name", "subject_uscc", "decision_date", "document_number"):
            fields.setdefault(role, code)
        if requirement == Field.Requirement.OPTIONAL:
            fields.setdefault("optional", code)
    return out


def _has_position() -> bool:
    from pubcredit.catalog.models import Field

    return any(f.name == "position" for f in Field._meta.concrete_fields)


def write_records(plan: list[tuple]) -> dict:
    """INSERT … SELECT generate_series per submission (see the module docstring)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from pubcredit.catalog.models import Category
    from pubcredit.core.bulkload import deferred_indexes
    from pubcredit.records.models import Record

    fields = _fields()
    codes = dict(Category.objects.values_list("pk", "code"))
    total = sum(p[4] for p in plan)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM subjects_subject")
        first, last = cursor.fetchone()
    span = last - first + 1
    written = versions = 0
    with transaction.atomic(), deferred_indexes(Record) as dropped:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_plan (submission_id bigint, department_id bigint,"
                " category_id bigint, received_at timestamptz, n int, first_g bigint)"
                " ON COMMIT DROP"
            )
            offset = 0
            rows = []
            for sub, dept, cat, received, n in plan:
                rows.append((sub, dept, cat, received, n, offset))
                offset += n
            with cursor.cursor.copy(
                "COPY bench_plan (submission_id, department_id, category_id, received_at, n,"
                " first_g) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute("SELECT setseed(0.16)")
            for cat in sorted({p[2] for p in plan}):
                code = codes[cat]
                f = fields.get(cat, {})
                name = f.get("subject_name", f"{code}_XDR_MC")
                uscc = f.get("subject_uscc", f"{code}_XDR_SHXYM")
                decision = f.get("decision_date", f"{code}_JDRQ")
                number = f.get("document_number", f"{code}_WSH")
                optional = f.get("optional")
                extra = (
                    f", 'CF_WFXW', (ARRAY{VIOLATIONS!r})[1 + mod(g.g, {len(VIOLATIONS)})],"
                    f" 'CF_CFLB', {PENALTY_KIND_SQL}, 'CF_NR_FK', {FINE_SQL}"
                    if code == "CF"
                    else ""
                )
                opt = (
                    f"|| CASE WHEN mod(g.g, 2) = 0 THEN jsonb_build_object('{optional}', '已填')"
                    " ELSE '{}'::jsonb END"
                    if optional
                    else ""
                )
                # offset of the decision before receipt: skewed, longer for some departments
                sql = f"""
                    INSERT INTO records_record (
                        category_id, department_id, business_key, subject_id, subject_link,
                        subject_name, subject_kind, version, content_hash, data, original,
                        decision_date, valid_from, valid_to, late, status, status_reason,
                        status_changed_at, submission_id, source_row, received_at, created_at,
                        updated_at)
                    SELECT p.category_id, p.department_id, 'B' || g.g, s.id, 'uscc', s.name,
                           s.kind, CASE WHEN mod(g.g, 33) = 0 THEN 2 ELSE 1 END,
                           substr(md5(g.g::text), 1, 32),
                           jsonb_build_object('{name}', s.name, '{uscc}', coalesce(s.uscc, ''),
                               '{decision}', to_char(d.decided, 'YYYY-MM-DD'),
                               '{number}', '淄罚〔2026〕' || g.g || '号'{extra}) {opt},
                           '{{}}'::jsonb, d.decided, d.decided,
                           d.decided + CASE WHEN p.category_id = %(cf)s THEN 365 ELSE 1825 END,
                           d.days > 10,
                           CASE WHEN mod(g.g, 97) = 0
                                 AND p.received_at < %(now)s - interval '10 days'
                                THEN 'withdrawn' ELSE 'active' END, '',
                           CASE WHEN mod(g.g, 97) = 0
                                 AND p.received_at < %(now)s - interval '10 days'
                                THEN p.received_at + interval '10 days' END,
                           p.submission_id, g.g - p.first_g + 2, p.received_at, p.received_at,
                           p.received_at
                      FROM bench_plan p
                      CROSS JOIN LATERAL generate_series(p.first_g, p.first_g + p.n - 1) AS g(g)
                      CROSS JOIN LATERAL (
                        SELECT {first} + floor({span} * power(random(), 2.5))::bigint AS sid,
                               floor(power(random(), 6) * (20 + mod(p.department_id, 7) * 12))::int
                                 AS days
                      ) AS r
                      CROSS JOIN LATERAL (
                        SELECT (p.received_at AT TIME ZONE 'Asia/Shanghai')::date - r.days
                               AS decided, r.days
                      ) AS d
                      JOIN subjects_subject s ON s.id = r.sid
                     WHERE p.category_id = %(cat)s
                """
                t = time.perf_counter()
                cursor.execute(sql, {"cf": _cf_id(codes), "now": now, "cat": cat})
                written += cursor.rowcount
                _log(
                    f"  records {code}: {cursor.rowcount:,} in {time.perf_counter() - t:.0f} s"
                    f" ({written:,}/{total:,})"
                )
            # Version 1 of the records at version 2: received about two weeks earlier.
            t = time.perf_counter()
            cursor.execute(
                """
                INSERT INTO records_recordversion (
                    record_id, version, content_hash, data, original, sealed, subject_id,
                    subject_name, subject_kind, submission_id, source_row, received_at,
                    created_at, superseded_at)
                SELECT id, 1, substr(md5(id::text || 'v1'), 1, 32), data, '{}'::jsonb, NULL,
                       subject_id, subject_name, subject_kind, submission_id, source_row,
                       received_at - interval '15 days', received_at - interval '15 days',
                       received_at
                  FROM records_record WHERE version = 2
                """
            )
            versions = cursor.rowcount
            _log(f"  versions: {versions:,} in {time.perf_counter() - t:.0f} s")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _log(f"  rebuilding indexes {dropped}")
    return {"records": written, "versions": versions}


def _cf_id(codes: dict[int, str]) -> int:
    return next(pk for pk, code in codes.items() if code == "CF")


def write_publicity(today: dt.date) -> dict:
    """The publicity rows of the 双公示 records: a licence public while valid, a penalty for a
    year from its decision; withdrawn records withdrawn."""
    from django.db import connection, transaction
    from django.utils import timezone

    from pubcredit.core.bulkload import deferred_indexes
    from pubcredit.publicity.models import Publicity

    now = timezone.now()
    with transaction.atomic(), deferred_indexes(Publicity), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO publicity_publicity (
                record_id, subject_id, category_id, department_id, tier, tier_source, rule,
                sector, start, repair_from, "end", state, published_at, ended_at,
                record_version, computed_at)
            SELECT r.id, r.subject_id, r.category_id, r.department_id,
                   CASE WHEN c.code <> 'CF' THEN ''
                        WHEN mod(r.id * 31, 100) < 30 THEN 'minor'
                        WHEN mod(r.id * 31, 100) < 92 THEN 'general' ELSE 'serious' END,
                   'rule', '', '', r.decision_date,
                   CASE WHEN c.code = 'CF' THEN r.decision_date + 90 END,
                   r.valid_to,
                   CASE WHEN r.status = 'withdrawn' THEN 'withdrawn'
                        WHEN r.valid_to > %(today)s THEN 'public' ELSE 'ended' END,
                   r.received_at,
                   CASE WHEN r.status = 'withdrawn' THEN r.status_changed_at
                        WHEN r.valid_to > %(today)s THEN NULL ELSE %(now)s END,
                   r.version, %(now)s
              FROM records_record r JOIN catalog_category c ON c.id = r.category_id
             WHERE c.code IN ('CF', 'XK')
            """,
            {"today": today, "now": now},
        )
        n = cursor.rowcount
    _log(f"  publicity: {n:,}")
    return {"rows": n}


# --------------------------------------------------------------------------- other work


def write_activity(today: dt.date) -> dict:
    """Credit checks with feedback, repair applications and objections with their steps, over
    the twelve months."""
    from django.db import connection, transaction
    from django.utils import timezone

    from pubcredit.measures.models import Matter, Measure
    from pubcredit.repair.models import (
        Objection,
        ObjectionTarget,
        ProcedureStatus,
        ProcedureStep,
        RepairApplication,
        RepairRule,
        StepAction,
    )

    rng = np.random.default_rng(SEED + 1)
    now = timezone.now()
    months = _months(today)
    start = timezone.make_aware(dt.datetime.combine(months[0], dt.time()))
    seconds = int((now - start).total_seconds())
    matter = Matter.objects.order_by("pk").values_list("pk", flat=True).first()
    punish = (
        Measure.objects.filter(kind="punishment")
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    out = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.61)")
        cursor.execute("SELECT min(id), max(id) FROM subjects_subject")
        first, last = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO measures_creditcheck (
                checked_at, checked_on, channel, client, actor_label, department_id, matter_id,
                query_kind, query_value, subject_id, outcome, hit_count, punishment_count,
                reward_count, result)
            SELECT t, (t AT TIME ZONE 'Asia/Shanghai')::date, 'web', '', 'benchmark', d.id,
                   %(matter)s, 'uscc', '', %(first)s + floor(random() * %(span)s)::bigint,
                   CASE WHEN x < 0.1 THEN 'hit' ELSE 'clear' END,
                   CASE WHEN x < 0.1 THEN 1 ELSE 0 END, CASE WHEN x < 0.08 THEN 1 ELSE 0 END,
                   CASE WHEN x >= 0.08 AND x < 0.1 THEN 1 ELSE 0 END, '{}'::jsonb
              FROM (SELECT %(start)s::timestamptz + random() * %(seconds)s * interval '1 second'
                           AS t, random() AS x,
                           1 + floor(random() * (SELECT count(*) FROM catalog_department))::int
                           AS k
                      FROM generate_series(1, %(n)s)) AS g
              JOIN (SELECT id, row_number() OVER (ORDER BY code) AS k FROM catalog_department)
                   AS d ON d.k = g.k
            """,
            {
                "matter": matter,
                "first": first,
                "span": last - first + 1,
                "start": start,
                "seconds": seconds,
                "n": CHECKS_PER_MONTH * MONTHS,
            },
        )
        out["checks"] = cursor.rowcount
        if punish:
            cursor.execute(
                """
                INSERT INTO measures_checkfeedback (
                    credit_check_id, measure_id, measure_kind, applied, note, unit,
                    department_id, actor_label, at)
                SELECT id, %(measure)s, 'punishment', true, '', '', department_id,
                       'benchmark', checked_at + interval '2 days'
                  FROM measures_creditcheck
                 WHERE punishment_count > 0 AND mod(id, 2) = 0
                """,
                {"measure": punish},
            )
            out["feedback"] = cursor.rowcount
        n_repairs = REPAIRS_PER_MONTH * MONTHS
        n_objections = OBJECTIONS_PER_MONTH * MONTHS
        cursor.execute(
            "SELECT r.id, r.subject_id, r.department_id FROM records_record r"
            " TABLESAMPLE SYSTEM (5) REPEATABLE (16)"
            " JOIN catalog_category c ON c.id = r.category_id"
            " WHERE c.code = 'CF' AND r.status = 'active' LIMIT %s",
            [n_repairs + n_objections],
        )
        picks = cursor.fetchall()
    rule = RepairRule.objects.order_by("-effective_from").first()
    procedures = []
    for i, (record, subject, dept) in enumerate(picks):
        created = start + dt.timedelta(seconds=int(rng.integers(0, seconds)))
        day = timezone.localtime(created).date()
        common = {
            "query_code": f"B{i:011d}",
            "record_id": record,
            "subject_id": subject,
            "department_id": dept,
            "rule": rule,
            "applicant_name": "张三",
            "applicant_phone": "13800000000",
            "stage_started_on": day,
            "due_on": day + dt.timedelta(days=10),
            "created_at": created,
            "updated_at": created,
        }
        done = created < now - dt.timedelta(days=20) or rng.random() < 0.3
        if i < n_repairs:
            status = ProcedureStatus.GRANTED if done else ProcedureStatus.ACCEPTED
            procedures.append(
                RepairApplication(**common, status=status, statement="已整改", eligibility=[])
            )
        else:
            status = (
                ProcedureStatus.CORRECTED
                if done and i % 3 == 0
                else (ProcedureStatus.UPHELD if done else ProcedureStatus.VERIFYING)
            )
            procedures.append(
                Objection(
                    **common, status=status, target=ObjectionTarget.choices[0][0], reason="信息有误"
                )
            )
    with transaction.atomic():
        apps = RepairApplication.objects.bulk_create(
            [p for p in procedures if isinstance(p, RepairApplication)], batch_size=2000
        )
        objs = Objection.objects.bulk_create(
            [p for p in procedures if isinstance(p, Objection)], batch_size=2000
        )
        steps = []
        for proc in [*apps, *objs]:
            owner = (
                {"application": proc}
                if isinstance(proc, RepairApplication)
                else {"objection": proc}
            )
            day = proc.stage_started_on
            at = proc.created_at
            chain = [
                (
                    ProcedureStatus.SUBMITTED,
                    ProcedureStatus.ACCEPTED
                    if "application" in owner
                    else ProcedureStatus.VERIFYING,
                )
            ]
            if proc.status not in (ProcedureStatus.ACCEPTED, ProcedureStatus.VERIFYING):
                chain.append((chain[0][1], proc.status))
            for k, (frm, to) in enumerate(chain):
                took = int(rng.integers(1, 14))
                step_day = day + dt.timedelta(days=took * (k + 1))
                if step_day > today:
                    break
                steps.append(
                    ProcedureStep(
                        **owner,
                        action=StepAction.ACCEPT if k == 0 else StepAction.DECIDE,
                        from_status=frm,
                        to_status=to,
                        actor_label="benchmark",
                        department_id=proc.department_id,
                        day=step_day,
                        stage_due_on=day + dt.timedelta(days=10 * (k + 1)),
                        late=took * (k + 1) > 10 * (k + 1),
                        at=at + dt.timedelta(days=took * (k + 1)),
                    )
                )
        ProcedureStep.objects.bulk_create(steps, batch_size=5000)
    out |= {"repairs": len(apps), "objections": len(objs), "steps": len(steps)}
    _log(f"  activity: {out}")
    return out


# --------------------------------------------------------------------------- scoring inputs

# List type code → (subjects per 10,000 entered, kinds or None for the type's own).
LIST_RATES = {
    "WATCH_ABNORMAL_OPERATION": 200,
    "WATCH_CONSUMPTION_RESTRICTED": 50,
    "WATCH_ENV_YELLOW": 20,
    "WCH_COMMITMENT_BREACH": 10,
    "BLK_JUDGMENT_DEFAULTER": 40,
    "BLK_WAGE_ARREARS": 10,
    "BLK_FOOD_DRUG": 5,
    "BLK_WORK_SAFETY": 5,
    "BLK_TAX_MAJOR": 5,
    "BLK_ENVIRONMENT": 5,
    "RED_TAX_A": 100,
    "RED_INTEGRITY_MODEL": 20,
    "RED_CONTRACT": 20,
    "RED_CONSTRUCTION": 20,
    "RED_HOUSEKEEPING": 10,
    "RED_INTEGRITY_PERSON": 30,
}
# Category → (subjects per 10,000 with records, records per such subject, kinds, data SQL over
# s (subject), g (the record's number) and d (its decision date)).
EXTRA_RECORDS = {
    "NSXYDJ": (
        3000,
        2,
        ("org", "ind"),
        "jsonb_build_object('NS_XDR_MC', s.name, 'NS_XDR_SHXYM', coalesce(s.uscc, ''),"
        " 'NS_PJND', extract(year FROM d)::int - 1,"
        " 'NS_XYDJ', (ARRAY['A', 'B', 'B', 'M', 'C', 'D'])[1 + mod(s.id * 7 + g, 6)],"
        " 'NS_PJRQ', to_char(d, 'YYYY-MM-DD'))",
    ),
    "SHZZPG": (
        50,
        1,
        ("org",),
        "jsonb_build_object('PG_XDR_MC', s.name, 'PG_XDR_SHXYM', coalesce(s.uscc, ''),"
        " 'PG_PGDJ', (ARRAY['5A', '4A', '3A', '2A', '1A'])[1 + mod(s.id, 5)],"
        " 'PG_PGWH', '评估〔' || g || '〕', 'PG_PGRQ', to_char(d, 'YYYY-MM-DD'))",
    ),
    "JZSC": (
        150,
        4,
        ("org", "ind"),
        "jsonb_build_object('JS_XDR_MC', s.name, 'JS_XDR_SHXYM', coalesce(s.uscc, ''),"
        " 'JS_JLBH', 'JS' || s.id || '-' || g,"
        " 'JS_XWLB', CASE WHEN mod(s.id + g, 3) = 0 THEN '良好行为' ELSE '不良行为' END,"
        " 'JS_BLDJ', (ARRAY['一般', '一般', '较重', '严重'])[1 + mod(s.id * 3 + g, 4)],"
        " 'JS_RDRQ', to_char(d, 'YYYY-MM-DD'))",
    ),
    "JZFW": (
        80,
        5,
        ("org", "ind"),
        "jsonb_build_object('JZ_XDR_MC', s.name, 'JZ_XDR_SHXYM', coalesce(s.uscc, ''),"
        " 'JZ_JLBH', 'JZ' || s.id || '-' || g,"
        " 'JZ_JLLX', (ARRAY['有效投诉', '服务差评', '服务好评', '服务好评'])[1 + mod(s.id + g, 4)],"
        " 'JZ_JLRQ', to_char(d, 'YYYY-MM-DD'))",
    ),
    "GYXW": (
        500,
        3,
        ("person",),
        "jsonb_build_object('GY_XDR_MC', s.name, 'GY_JLBH', 'GY' || s.id || '-' || g,"
        " 'GY_XWLX', CASE WHEN mod(s.id + g, 3) = 0 THEN '无偿献血' ELSE '志愿服务' END,"
        " 'GY_FWSC', (mod(s.id * 13 + g, 60) + 1)::text, 'GY_JLRQ', to_char(d, 'YYYY-MM-DD'))",
    ),
}
COMMITMENTS_PER_10K = 2500


def scoring_inputs_loaded() -> bool:
    """Whether `write_scoring_inputs` has run on this database."""
    from pubcredit.lists.models import ListEntry

    return ListEntry.objects.filter(created_by="benchmark").exists()


def write_scoring_inputs(today: dt.date) -> dict:
    """List entries, commitments and the records of the categories the scorecards read that the
    submissions do not carry (module docstring, step 6), set based; deterministic (a subject's
    share follows its id). One transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    from pubcredit.catalog.models import Category, Department
    from pubcredit.intake.models import Submission

    now = timezone.now()
    out: dict = {}
    dept = (
        Department.objects.filter(active=True).order_by("code").values_list("pk", flat=True).first()
    )
    with transaction.atomic(), connection.cursor() as cursor:
        t = time.perf_counter()
        cursor.execute("SELECT code, id, default_validity_months FROM lists_listtype")
        types = {code: (pk, months) for code, pk, months in cursor.fetchall()}
        n = 0
        for k, (code, rate) in enumerate(sorted(LIST_RATES.items())):
            if code not in types:
                continue
            pk, months = types[code]
            # decided over the last three years; a tenth removed, the out of date ones expired
            cursor.execute(
                f"""
                INSERT INTO lists_listentry (
                    subject_name, basis, document_number, decided_on, valid_from, valid_to,
                    status, status_reason, status_changed_at, source, created_by, created_at,
                    updated_at, identified_by_id, record_id, subject_id, list_type_id)
                SELECT s.name, '基准测试', '认定〔' || s.id || '〕', x.d, x.d, x.e,
                       CASE WHEN mod(s.id, 10) = {k % 10} THEN 'removed'
                            WHEN x.e < %(today)s THEN 'expired' ELSE 'published' END,
                       '', NULL, 'console', 'benchmark', %(now)s, %(now)s, %(dept)s, NULL, s.id,
                       %(type)s
                  FROM subjects_subject s
                 CROSS JOIN LATERAL (
                     SELECT %(today)s - mod(s.id * 17 + {k}, 1095)::int AS d) AS y
                 CROSS JOIN LATERAL (
                     SELECT y.d AS d, CASE WHEN %(months)s::int IS NULL THEN NULL
                            ELSE (y.d + make_interval(months => %(months)s::int))::date END AS e
                 ) AS x
                 WHERE mod(s.id * {7 + 2 * k} + {k}, 10000) < %(rate)s
                   AND s.kind = ANY (SELECT jsonb_array_elements_text(
                         CASE WHEN jsonb_array_length(lt.subject_kinds) = 0
                              THEN '["org", "ind", "person"]'::jsonb ELSE lt.subject_kinds END)
                       FROM lists_listtype lt WHERE lt.id = %(type)s)
                """,
                {"today": today, "now": now, "dept": dept, "type": pk, "months": months,
                 "rate": rate},
            )  # fmt: skip
            n += cursor.rowcount
        out["list_entries"] = n
        _log(f"  list entries: {n:,} in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        cursor.execute(
            """
            INSERT INTO commitments_commitment (
                code, committer_name, committer_kind, committer_code, commitment_type, reason,
                content, liability, made_on, valid_to, performance, unfulfilled_content,
                liability_enforced, assessed_on, publicity_type, remark, source, signer_name,
                signer_contact, letter, letter_sha256, withdrawn_at, created_by, created_at,
                updated_at, department_id, subject_id)
            SELECT '3703' || lpad(s.id::text, 16, '0'), s.name, s.kind,
                   CASE WHEN s.kind = 'person' THEN '' ELSE coalesce(s.uscc, '') END,
                   (ARRAY['审批替代型', '容缺受理型', '证明事项型', '主动型'])[1 + mod(s.id, 4)],
                   '办理行政许可', '按时履行承诺事项', '依法承担违诺责任', x.made,
                   x.made + 365, x.perf,
                   CASE WHEN x.perf IN ('部分履行', '全部未履行') THEN '未按期补齐材料' ELSE '' END,
                   CASE WHEN x.perf IN ('部分履行', '全部未履行') THEN '撤销许可' ELSE '' END,
                   CASE WHEN x.perf <> '待认定' THEN x.made + 200 END,
                   '可向社会公开', '', 'online', '', '', '', '',
                   CASE WHEN mod(s.id, 50) = 3 THEN %(now)s END, 'benchmark', %(now)s, %(now)s,
                   %(dept)s, s.id
              FROM subjects_subject s
             CROSS JOIN LATERAL (
                 SELECT %(today)s - mod(s.id * 29, 1300)::int AS made,
                        CASE WHEN mod(s.id * 11, 100) < 40 THEN '待认定'
                             WHEN mod(s.id * 11, 100) < 85 THEN '全部履行'
                             WHEN mod(s.id * 11, 100) < 95 THEN '部分履行'
                             ELSE '全部未履行' END AS perf) AS x
             WHERE mod(s.id * 3, 10000) < %(rate)s
            """,
            {"today": today, "now": now, "dept": dept, "rate": COMMITMENTS_PER_10K},
        )
        out["commitments"] = cursor.rowcount
        _log(f"  commitments: {cursor.rowcount:,} in {time.perf_counter() - t:.0f} s")
        categories = dict(Category.objects.values_list("code", "pk"))
        n = 0
        t = time.perf_counter()
        for code, (rate, per, kinds, data) in EXTRA_RECORDS.items():
            if code not in categories:
                continue
            sub = Submission.objects.create(
                department_id=dept,
                category_id=categories[code],
                channel=Submission.Channel.API,
                filename=f"bench-{code}.xlsx",
                sha256=f"{code}".encode().hex().rjust(64, "f"),
                status=Submission.Status.DONE,
                progress=100,
                attempts=1,
                received_at=now,
                started_at=now,
                finished_at=now,
                submitted_by_label="benchmark",
            )
            cursor.execute(
                f"""
                INSERT INTO records_record (
                    category_id, department_id, business_key, subject_id, subject_link,
                    subject_name, subject_kind, version, content_hash, data, original,
                    decision_date, valid_from, valid_to, late, status, status_reason,
                    submission_id, source_row, received_at, created_at, updated_at)
                SELECT %(cat)s, %(dept)s, 'S' || s.id || '-' || g, s.id, 'uscc', s.name, s.kind,
                       1, substr(md5(s.id || '-' || g), 1, 32), {data}, '{{}}'::jsonb, d, d,
                       CASE WHEN %(code)s = 'NSXYDJ' THEN d + 365 END, false, 'active', '',
                       %(sub)s, 1, %(now)s, %(now)s, %(now)s
                  FROM subjects_subject s
                 CROSS JOIN generate_series(1, %(per)s) AS g
                 CROSS JOIN LATERAL (
                     SELECT (%(today)s - mod(s.id * 31 + g * 97, 1000)::int)::date AS d) AS x
                 WHERE mod(s.id * 13 + %(salt)s, 10000) < %(rate)s AND s.kind = ANY (%(kinds)s)
                """,
                {"cat": categories[code], "dept": dept, "code": code, "sub": sub.pk,
                 "now": now, "today": today, "per": per, "rate": rate, "kinds": list(kinds),
                 "salt": len(code) * 101},
            )  # fmt: skip
            written = cursor.rowcount
            n += written
            Submission.objects.filter(pk=sub.pk).update(
                rows=written, accepted=written, inserted=written
            )
            _log(f"  {code}: {written:,} records")
        out["records"] = n
        _log(f"  scoring records: {n:,} in {time.perf_counter() - t:.0f} s")
        for table in ("lists_listentry", "commitments_commitment"):
            cursor.execute(f"ANALYZE {table}")
    return out


def analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "subjects_subject",
            "records_record",
            "records_recordversion",
            "publicity_publicity",
            "intake_submission",
            "measures_creditcheck",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("ANALYZE")


def data_facts(tables: dict[str, str]) -> dict[str, int]:
    """The data set a benchmark ran on: {key: row count of table} for `tables` ({key: table}),
    and the database's size in bytes under "database_bytes"; one statement."""
    from django.db import connection

    counts = ", ".join(f"(SELECT count(*) FROM {table})" for table in tables.values())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}, pg_database_size(current_database())")
        *rows, size = cursor.fetchone()
    return {**dict(zip(tables, rows, strict=True)), "database_bytes": size}
