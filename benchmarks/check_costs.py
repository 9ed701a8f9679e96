"""Benchmark: where a credit check's CPU goes, beside the framework floor's (issue 20, item 2).

`benchmarks/checks.py` measures the check server's rate and p99 against `GET /api/v1/health` on the
same server. On this machine the server, PostgreSQL and the load generator share two cores, so a
rate ratio is a ratio of CPU per request. This script splits that CPU, in one process and one run,
into the parts of a check and the parts of the floor, each as CPU microseconds per call:

- client: this process's CPU (`time.process_time`), i.e. Python, psycopg and the socket calls;
- server: the PostgreSQL backend's CPU for the same calls (utime + stime of the backend process
  from /proc, so the database must be on this machine).

Measured, each N times after a warm-up, single-threaded, through the check server's own WSGI
application (`pubcredit.wsgi_checks`, settings `pubcredit.settings_checks`: prepared statements,
its five middleware, DEBUG off):

1. `GET /api/v1/health`: the floor (the framework, one `SELECT 1`);
2. `POST /api/v1/checks`: a check, whole, with a bank's API key, random 统一社会信用代码 of the
   checks benchmark's workload;
3. the same POST with the check service answering a fixed result from memory: the framework and
   the API-key authentication around a check (`ninja` operation, body parsing, auth, response);
4. the check's parts called directly: the key's revocation generation (a read of the shared
   cache), the check's read (`measures.applicability.read_subject_facts`), the service whole
   (read, answer, log row), and the log row's INSERT alone;
5. floors of the parts: `SELECT 1` through the same connection, and the same log row inserted
   into an unindexed copy of the table (a bare INSERT of the same bytes, committed).

The printout ends with the budget the 2× target leaves: a check may cost at most twice the
floor's CPU; what the fixed parts (framework, authentication, two statements) already take of it
is what is left for the check's own logic (the service called directly, less its read and its
log row: the answer, measures, conclusion and JSON).

Uses the checks benchmark's database (`checks.py … --database-url URL` loads it; `make bench`
runs this after it with the same URL).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from figures import figure, write_json_out  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pubcredit_checks_bench"
TARGET = 2.0  # a check's cost over the floor's that issue 20 accepts (checks/s ≥ 50 % of floor's)


def _setup(url: str, var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["PUBCREDIT_VAR_DIR"] = str(var_dir)
    os.environ["PUBCREDIT_DEBUG"] = "0"
    os.environ["PUBCREDIT_CONN_MAX_AGE"] = "600"
    os.environ["DJANGO_SETTINGS_MODULE"] = "pubcredit.settings_checks"
    import django

    django.setup()


class Meter:
    """CPU of this process and of the default connection's PostgreSQL backend."""

    def __init__(self):
        from django.db import connection

        connection.ensure_connection()
        self.stat = Path(f"/proc/{connection.connection.info.backend_pid}/stat")
        self.hz = os.sysconf("SC_CLK_TCK")

    def server(self) -> float:
        fields = self.stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.hz

    def measure(self, fn, n: int, warm: int) -> dict:
        for i in range(warm):
            fn(i)
        server, client = self.server(), time.process_time()
        for i in range(n):
            fn(i)
        return {
            "client_us": round((time.process_time() - client) / n * 1e6, 1),
            "server_us": round((self.server() - server) / n * 1e6, 1),
        }


def _environ(method: str, path: str, body: bytes, key: str) -> dict:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def run(args) -> dict:
    import checks as checks_bench
    from django.db import connection
    from django.utils import timezone

    from pubcredit.accounts.api import ApiKeyAuth
    from pubcredit.accounts.services import key_generation
    from pubcredit.checks import services
    from pubcredit.checks.models import CreditCheck
    from pubcredit.core import hotpath
    from pubcredit.wsgi_checks import application

    key = checks_bench.bench_key()
    requests = checks_bench.check_requests(checks_bench.workload(args.codes))
    bodies = [body.encode() for _method, _path, body in requests]
    queries = [json.loads(body) for body in bodies]
    meter = Meter()
    n, warm = args.calls, max(100, args.calls // 10)

    def call(method: str, path: str, body: bytes = b""):
        statuses = []
        result = application(
            _environ(method, path, body, key), lambda s, h, e=None: statuses.append(s)
        )
        b"".join(result)
        result.close()
        if not statuses[0].startswith("200"):
            raise SystemExit(f"{method} {path}: {statuses[0]}")

    parts: dict[str, dict] = {}
    parts["health"] = meter.measure(lambda i: call("GET", "/api/v1/health"), n, warm)
    parts["check"] = meter.measure(
        lambda i: call("POST", "/api/v1/checks", bodies[i % len(bodies)]), n, warm
    )

    holder = type("Request", (), {"META": {}})()
    ApiKeyAuth().authenticate(holder, key)
    principal = holder.principal
    fixed = services.run_check(principal, **_check_args(queries[0]))
    real_run_check = services.run_check
    services.run_check = lambda *a, **k: fixed
    try:
        parts["framework_and_auth"] = meter.measure(
            lambda i: call("POST", "/api/v1/checks", bodies[i % len(bodies)]), n, warm
        )
    finally:
        services.run_check = real_run_check

    day = timezone.localdate()
    parts["generation_read"] = meter.measure(lambda i: key_generation(), n, warm)
    parts["check_read"] = meter.measure(
        lambda i: services._find(services.parse_query(uscc=queries[i % len(queries)]["uscc"]), day),
        n,
        warm,
    )
    parts["service"] = meter.measure(
        lambda i: services.run_check(principal, **_check_args(queries[i % len(queries)])),
        n,
        warm,
    )
    row, text = fixed.row, fixed.result_text
    parts["log_insert"] = meter.measure(lambda i: services._insert_check(row, text), n, warm)
    parts["select_1"] = meter.measure(lambda i: hotpath.fetchone("SELECT 1", []), n, warm)

    table = CreditCheck._meta.db_table
    bare = f"{table}_bare_bench"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {bare}")
        cursor.execute(f"CREATE TABLE {bare} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cursor.execute(f"ALTER TABLE {bare} ADD PRIMARY KEY (id)")
    insert_bare = services._INSERT_SQL.replace(f"INSERT INTO {table} ", f"INSERT INTO {bare} ")
    values = services._insert_values(row, text)
    try:
        parts["bare_insert"] = meter.measure(
            lambda i: hotpath.fetchone(insert_bare, values), n, warm
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {bare}")
    return {"calls": n, "codes": len(bodies), "parts_us": parts, **_model(parts)}


def _check_args(query: dict) -> dict:
    return {"uscc": query["uscc"], "matter": query["matter"]}


def _total(part: dict) -> float:
    return part["client_us"] + part["server_us"]


def _model(parts: dict) -> dict:
    """The cost model: what a check costs beside the floor, and what the fixed parts leave."""
    floor, check = _total(parts["health"]), _total(parts["check"])
    budget = TARGET * floor
    statements = _total(parts["check_read"]) + _total(parts["log_insert"])
    fixed = _total(parts["framework_and_auth"]) + statements
    # The service called directly, less its two statements: the check's own logic.
    own = _total(parts["service"]) - statements
    return {
        "floor_us": round(floor, 1),
        "check_us": round(check, 1),
        "ratio": round(check / floor, 2),
        "budget_us": round(budget, 1),
        "fixed_us": round(fixed, 1),
        "own_logic_us": round(own, 1),
        "left_for_own_logic_us": round(budget - fixed, 1),
    }


def figures(result: dict) -> list[dict]:
    parts = result["parts_us"]
    health = _total(parts["health"])
    return [
        figure(
            "check CPU per request (client + PostgreSQL), in process",
            result["check_us"],
            "µs",
            floor=health,
            floor_name="GET /api/v1/health, same WSGI application",
            target=TARGET,
            note=f"{result['calls']} calls each; the rate ratio under load follows this one",
        ),
        figure(
            "framework and API-key authentication around a check",
            _total(parts["framework_and_auth"]),
            "µs",
            floor=health,
            floor_name="GET /api/v1/health",
            note="the same POST with the check service answering from memory",
        ),
        figure(
            "the check's read (one statement)",
            _total(parts["check_read"]),
            "µs",
            floor=_total(parts["select_1"]),
            floor_name="SELECT 1, same connection",
        ),
        figure(
            "the check's log row (one INSERT, committed)",
            _total(parts["log_insert"]),
            "µs",
            floor=_total(parts["bare_insert"]),
            floor_name="the same row into an unindexed copy of the table",
        ),
        figure(
            "left for the check's own logic within the 2× target",
            result["left_for_own_logic_us"],
            "µs",
            note=f"2× the floor ({result['budget_us']} µs) minus the framework, authentication, "
            f"read and log row ({result['fixed_us']} µs); the check's own logic costs "
            f"{result['own_logic_us']} µs",
        ),
    ]


def _print(result: dict) -> None:
    print(f"\nwhere a check's CPU goes ({result['calls']} calls each, µs per call)")
    print(f"{'':30s} {'client':>8s} {'server':>8s} {'total':>8s}")
    for name, part in result["parts_us"].items():
        total = _total(part)
        print(f"{name:30s} {part['client_us']:8.0f} {part['server_us']:8.0f} {total:8.0f}")
    print(
        f"\ncheck {result['check_us']:.0f} µs = {result['ratio']}x the floor "
        f"({result['floor_us']:.0f} µs); the {TARGET}x target allows {result['budget_us']:.0f} µs, "
        f"of which the framework, authentication, read and log row take {result['fixed_us']:.0f}: "
        f"{result['left_for_own_logic_us']:.0f} µs left for the check's own logic, which costs "
        f"{result['own_logic_us']:.0f} µs."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="the checks benchmark's")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--codes", type=int, default=2000)
    parser.add_argument("--json-out", help="write the result JSON here")
    args = parser.parse_args(argv)
    var_dir = OUT / "check_costs"
    var_dir.mkdir(parents=True, exist_ok=True)
    _setup(args.database_url, var_dir)
    result = run(args)
    result["figures"] = figures(result)
    _print(result)
    write_json_out(args.json_out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
