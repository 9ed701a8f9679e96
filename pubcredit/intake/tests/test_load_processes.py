"""Intake as separate processes do it, on a database of their own (SQLite file or PostgreSQL,
whichever the suite runs on): the `pubcredit intake` command-line contract, two concurrent
submissions of the same file, and a process killed in the middle of its load."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from pubcredit.testing.loadkit import CF_DEPARTMENT, cf_csv, cf_row

# One xdist worker runs the whole module, so its database (`procdb`) is made once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("intake-processes")]

PUBCREDIT = str(Path(sys.executable).with_name("pubcredit"))
CATALOGUE = Path(__file__).resolve().parents[2] / "catalog" / "data" / "departments.json"
REQUIRED_KEYS = {
    "submission",
    "rows",
    "accepted",
    "rejected",
    "inserted",
    "updated",
    "unchanged",
    "late",
}


def _department_uscc() -> str:
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return next(d["uscc"] for d in data["departments"] if d["code"] == CF_DEPARTMENT)


class Database:
    """A database for subprocesses: a SQLite file, or a PostgreSQL database created for the
    module on the server the suite uses."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.vendor = connection.vendor
        if self.vendor == "postgresql":
            s = connection.settings_dict
            self.params = {
                "host": s.get("HOST") or "127.0.0.1",
                "port": s.get("PORT") or 5432,
                "user": s.get("USER") or "postgres",
                "password": s.get("PASSWORD") or None,
            }
            self.name = f"pubcredit_intake_proc_{uuid.uuid4().hex[:8]}"
            auth = self.params["user"] + (
                f":{self.params['password']}" if self.params["password"] else ""
            )
            self.url = f"postgres://{auth}@{self.params['host']}:{self.params['port']}/{self.name}"
        else:
            self.path = tmp / "db.sqlite3"
            self.url = f"sqlite:///{self.path}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "PUBCREDIT_VAR_DIR": str(tmp / "var"),
            "PUBCREDIT_INTAKE_FAILPOINT": "",
        }

    def _admin(self):
        import psycopg

        return psycopg.connect(dbname="postgres", autocommit=True, **self.params)

    def create(self) -> None:
        if self.vendor == "postgresql":
            with self._admin() as admin:
                admin.execute(f'CREATE DATABASE "{self.name}"')
        for args in (["migrate", "--noinput"], ["catalog", "import"]):
            proc = run(self.env, *args)
            assert proc.returncode == 0, proc.stderr

    def drop(self) -> None:
        if self.vendor == "postgresql":
            with self._admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, params=()) -> list[tuple]:
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(dbname=self.name, **self.params) as conn:
                return conn.execute(sql.replace("?", "%s"), params).fetchall()
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql, params).fetchall()


def run(env: dict, *args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PUBCREDIT, *args],
        capture_output=True,
        text=True,
        env={**env, **(extra_env or {})},
        timeout=600,
    )


@pytest.fixture(scope="module")
def procdb(tmp_path_factory, django_db_blocker):
    with django_db_blocker.unblock():
        db = Database(tmp_path_factory.mktemp("intake-proc"))
    db.create()
    yield db
    with django_db_blocker.unblock():
        db.drop()


def write_file(tmp_path: Path, prefix: str, n: int, *, bad: int = 0, seed: int = 0) -> Path:
    """A CSV of `n` 行政处罚 rows whose 文号 start with `prefix`; subjects numbered from `seed`
    (distinct per test, so each test knows which subjects are new)."""
    uscc = _department_uscc()
    rows = [
        cf_row(seed + i, source_uscc=uscc, wsh=f"{prefix}〔2024〕{i}号") for i in range(1, n + 1)
    ]
    for row in rows[:bad]:
        row["CF_JDRQ"] = "去年三月"
    path = tmp_path / f"{prefix}.csv"
    path.write_bytes(cf_csv(rows, headers="codes"))
    return path


def intake(db: Database, path: Path, *extra: str, **kwargs) -> subprocess.CompletedProcess:
    return run(
        db.env,
        "intake",
        str(path),
        "--department",
        CF_DEPARTMENT,
        "--category",
        "CF",
        *extra,
        **kwargs,
    )


def count_records(db: Database, prefix: str) -> int:
    return db.query(
        "SELECT COUNT(*) FROM records_record WHERE business_key LIKE ?", (f"{prefix}%",)
    )[0][0]


def test_cli_contract(procdb, tmp_path):
    path = write_file(tmp_path, "契约", 3, bad=1)
    proc = intake(procdb, path, "--json", "--errors", str(tmp_path / "errors.xlsx"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert REQUIRED_KEYS <= result.keys()
    assert {"errors", "warnings", "extra_columns", "mapping", "timings"} <= result.keys()
    assert (result["rows"], result["accepted"], result["rejected"]) == (3, 2, 1)
    assert (result["inserted"], result["updated"], result["unchanged"]) == (2, 0, 0)
    assert result["late"] == 2
    report = tmp_path / "errors.xlsx"
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(report)).get_sheet_by_index(0).to_python()
    assert sheet[0][0] == "行号" and int(sheet[1][0]) == 2 and "去年三月" in sheet[1]

    again = intake(procdb, path)  # human-readable summary
    assert again.returncode == 0 and "未变化 2" in again.stdout

    def refused(proc):
        assert proc.returncode == 2
        assert proc.stdout == ""
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        return proc.stderr.strip()

    assert "部门" in refused(
        run(
            procdb.env, "intake", str(path), "--department", "NO-SUCH", "--category", "CF", "--json"
        )
    )
    assert "信息类别" in refused(
        run(procdb.env, "intake", str(path), "--department", CF_DEPARTMENT, "--category", "ZZ")
    )
    assert "文件" in refused(intake(procdb, tmp_path / "missing.csv", "--json"))
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04this is not a workbook")
    refused(intake(procdb, garbage, "--json"))


def test_two_concurrent_submissions_of_the_same_file(procdb, tmp_path):
    n = 400
    path = write_file(tmp_path, "并发", n, seed=1000)
    procs = [
        subprocess.Popen(
            [
                PUBCREDIT,
                "intake",
                str(path),
                "--department",
                CF_DEPARTMENT,
                "--category",
                "CF",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=procdb.env,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _out, err in outputs]
    results = [json.loads(out) for out, _err in outputs]
    assert sorted(r["inserted"] for r in results) == [0, n]
    assert sorted(r["unchanged"] for r in results) == [0, n]
    assert count_records(procdb, "并发") == n
    statuses = procdb.query(
        "SELECT status FROM intake_submission WHERE id IN (?, ?)",
        (results[0]["submission"], results[1]["submission"]),
    )
    assert [s for (s,) in statuses] == ["done", "done"]
    versions = procdb.query(
        "SELECT COUNT(*) FROM records_recordversion v JOIN records_record r ON r.id = v.record_id "
        "WHERE r.business_key LIKE ?",
        ("并发%",),
    )
    assert versions[0][0] == 0


def test_killed_mid_load_leaves_nothing_and_rerun_completes_once(procdb, tmp_path):
    n = 300
    path = write_file(tmp_path, "中断", n, seed=5000)
    subjects_before = procdb.query("SELECT COUNT(*) FROM subjects_subject")[0][0]
    killed = intake(
        procdb, path, "--json", extra_env={"PUBCREDIT_INTAKE_FAILPOINT": "records_written"}
    )
    assert killed.returncode == -9  # SIGKILL after the records were written, before commit
    ((sub_id, status),) = procdb.query(
        "SELECT id, status FROM intake_submission ORDER BY id DESC LIMIT 1"
    )
    assert status == "loading"  # left behind by the dead process
    assert count_records(procdb, "中断") == 0
    assert procdb.query("SELECT COUNT(*) FROM subjects_subject")[0][0] == subjects_before
    assert (
        procdb.query("SELECT COUNT(*) FROM intake_rowerror WHERE submission_id = ?", (sub_id,))[0][
            0
        ]
        == 0
    )

    script = (
        "import json; from pubcredit.intake.services import process_submission; "
        f"print(json.dumps(process_submission({sub_id}).summary()))"
    )
    for _ in range(2):  # the second run finds it done and changes nothing
        rerun = run(procdb.env, "shell", "-c", script)
        assert rerun.returncode == 0, rerun.stderr
        summary = json.loads(rerun.stdout.strip().splitlines()[-1])
        assert summary["status"] == "done" and summary["inserted"] == n
        assert count_records(procdb, "中断") == n
    assert procdb.query("SELECT COUNT(*) FROM subjects_subject")[0][0] == subjects_before + n
