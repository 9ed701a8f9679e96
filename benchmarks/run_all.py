"""Every benchmark as one command (`make bench`): each run at a size that fits the whole set in
about 15 minutes on a 2-core machine, their headline figures gathered into one JSON and one
Markdown table, each figure beside its floor and the ratio between them (benchmarks/figures.py),
so that a reader compares ratios, not absolute times.

    .venv/bin/python benchmarks/run_all.py                  # everything, in the order of BENCHMARKS
    .venv/bin/python benchmarks/run_all.py --list           # what would run: names, commands, timeouts
    .venv/bin/python benchmarks/run_all.py --only names --only scoring
    .venv/bin/python benchmarks/run_all.py --postgres postgres://postgres@127.0.0.1:5432 \\
        --prefix pubcredit_bench --reuse                     # keep the city data set if loaded

Each benchmark runs as a child process in its own process group (killed whole at its timeout:
some start servers), with `--json-out FILE` where it supports it; a benchmark that writes no such
file has its result read from the last JSON object it printed. A benchmark that fails, times
out, or returns no "figures" list is reported as such in the table and the runner exits 1 at the
end: none is silently dropped. The PostgreSQL databases are named <prefix>_<data set> on the
server given by --postgres; the bulletins and scoring benchmarks share one city (bulletins
builds it, scoring reuses it); reports and then portal reuse the demo city demo_load keeps
(portal adds its records to it).

Written: benchmarks/out/bench-<stamp>.json and .md, a copy of the table at benchmarks/out/bench.md,
each benchmark's output at benchmarks/out/bench-<stamp>/<name>.log (benchmarks/out is
gitignored). Recorded beside the figures: cores, memory, the load average before and after each
benchmark and the whole run, PostgreSQL's version and the settings that matter to these figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432"
# Tools the benchmarks compare against that are not project dependencies (frictionless), in a
# virtual environment of their own (`make bench` makes it): on the children's PATH.
TOOLS_BIN = ROOT / "var" / "bench-tools" / "bin"

# The PostgreSQL settings that move these figures (memory, WAL, planner, parallelism).
PG_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "max_wal_size",
    "checkpoint_timeout",
    "wal_level",
    "synchronous_commit",
    "fsync",
    "full_page_writes",
    "max_connections",
    "max_parallel_workers_per_gather",
    "max_worker_processes",
    "random_page_cost",
    "jit",
    "shared_preload_libraries",
)


def citus_available() -> bool:
    """Whether the machine's PostgreSQL has the Citus extension (`pg_config --pkglibdir`)."""
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return False
    try:
        libdir = subprocess.run(
            [pg_config, "--pkglibdir"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return (Path(libdir) / "citus.so").exists()


def _scaleout_present() -> bool:
    return (HERE / "scaleout.py").exists() and citus_available()


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """One benchmark: its script and arguments ({pg}: the server URL; {db_<name>}: the URL of
    the database <prefix>_<name>; {reuse}: --reuse when the runner was given it; the runner
    adds `--json-out FILE`), a timeout in seconds, the benchmark it needs to have succeeded
    first, and a condition for running at all (else: skipped)."""

    name: str
    args: str
    timeout: int
    needs: str = ""
    when: Callable[[], bool] | None = None
    when_text: str = ""
    json_out: bool = True  # False: the script has no --json-out; its printed JSON is read


# The sizes: chosen so that the whole set fits in about 15 minutes on the 2-core machine; each
# benchmark's own time at its size is the "seconds" column of the runs' table in bench.md. The
# scripts' defaults are the issues' full sizes (1,000,000 subjects and more).
BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("names", "names.py --names 300000", 120),
    Benchmark("intake_formats", "intake_formats.py --rows 10000", 180),
    Benchmark("hostile_files", "hostile_files.py", 240),
    # frictionless (its floor) only when installed: it is not a project dependency.
    Benchmark("intake_engine", "intake_engine.py --rows 100000 {frictionless}", 240),
    Benchmark("intake", "intake.py --rows 200000 --skip-sqlite --postgres {pg}/postgres", 420),
    Benchmark("demo_load", "demo_load.py --subjects 50000 --keep --database-url {db_demo}", 300),
    Benchmark(
        "reports",
        "reports.py --reuse --subjects 50000 --repeat 5 --batch 50 --floor-sample 10"
        " --database-url {db_demo}",
        300,
        needs="demo_load",
    ),
    Benchmark(
        "portal",
        "portal.py --demo-loaded --records 300000 --duration 3 --warmup 2 --database-url {db_demo}",
        420,
        needs="demo_load",
    ),
    Benchmark("publicity", "publicity.py --records 100000 --database-url {db_publicity}", 300),
    Benchmark(
        "bulletins",
        "bulletins.py {reuse} --subjects 100000 --records 500000 --requests 10"
        " --uncached-requests 3 --rows 50000 --database-url {db_city}",
        600,
    ),
    Benchmark(
        "scoring",
        "scoring.py --reuse --subjects 100000 --records 500000 --singles 20 --floor-repeat 1"
        " --database-url {db_city}",
        420,
        needs="bulletins",
    ),
    Benchmark(
        "checks",
        # Small enough to build in a few minutes: the ratios to the floors do not depend on size.
        "checks.py --subjects 30000 --records 150000 --entries 5000 --batch 20000 --duration 10"
        " --database-url {db_checks}",
        420,
    ),
    # Where a check's CPU goes beside the floor's (the cost model behind the ratios above).
    Benchmark("check_costs", "check_costs.py --database-url {db_checks}", 180, needs="checks"),
    Benchmark(
        "scaleout",
        "scaleout.py --rows 50000 --reads 1000",
        600,
        when=_scaleout_present,
        when_text="benchmarks/scaleout.py and Citus (pg_config --pkglibdir/citus.so)",
    ),
)


# --------------------------------------------------------------------------- machine facts


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _memory_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def postgres_facts(server_url: str) -> dict[str, Any]:
    """PostgreSQL's version and the settings in PG_SETTINGS (or the error, if unreachable)."""
    try:
        import psycopg

        dsn = server_url.replace("postgres://", "postgresql://", 1).rstrip("/") + "/postgres"
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            rows = conn.execute(
                "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
                [list(PG_SETTINGS)],
            ).fetchall()
    except Exception as exc:  # a fact to report, not a reason to stop
        return {"error": f"{type(exc).__name__}: {exc}"}
    settings = {}
    for name, setting, unit in rows:
        settings[name] = _with_unit(setting, unit)
    return {"version": version, "settings": settings}


def _with_unit(setting: str, unit: str | None) -> str:
    """pg_settings' value in a unit a reader knows (8kB pages and kB as MB)."""
    if not unit or not setting.lstrip("-").isdigit():
        return setting + (f" {unit}" if unit else "")
    factor = {"8kB": 8, "kB": 1}.get(unit)
    if factor is None:
        return f"{setting} {unit}"
    kb = int(setting) * factor
    return f"{kb // 1024} MB" if kb >= 1024 and kb % 1024 == 0 else f"{kb} kB"


def machine_facts(server_url: str) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "memory_mb": _memory_mb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": commit or None,
        "wrk": bool(shutil.which("wrk")),
        "citus": citus_available(),
        "postgresql": postgres_facts(server_url),
    }


# --------------------------------------------------------------------------- running


def command_of(bench: Benchmark, values: dict[str, str], json_file: str) -> list[str]:
    """The benchmark's command line with its placeholders filled and `--json-out json_file`."""
    args = shlex.split(bench.args.format(**values))
    out = ["--json-out", json_file] if bench.json_out else []
    return [sys.executable, str(HERE / args[0]), *args[1:], *out]


def _last_json(text: str) -> dict | None:
    """The last JSON object printed on its own (a line, or an indented block ending a run)."""
    lines = text.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
        if lines[i].startswith("}"):  # the end of an indented object: find its start
            for j in range(i, -1, -1):
                if lines[j].startswith("{"):
                    try:
                        value = json.loads("\n".join(lines[j : i + 1]))
                    except ValueError:
                        break
                    if isinstance(value, dict):
                        return value
                    break
    return None


def _rel(path: Path) -> str:
    """The path from the repository's root when it is inside it (commands run from there)."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def run_one(bench: Benchmark, values: dict[str, str], run_dir: Path) -> dict[str, Any]:
    json_file = _rel(run_dir / f"{bench.name}.json")
    log_file = run_dir / f"{bench.name}.log"
    cmd = command_of(bench, values, str(json_file))
    entry: dict[str, Any] = {
        "name": bench.name,
        "command": " ".join([Path(cmd[0]).name, _rel(Path(cmd[1])), *cmd[2:]]),
        "timeout_s": bench.timeout,
        "load_average_before": _loadavg(),
    }
    print(f"[{dt.datetime.now():%H:%M:%S}] {bench.name}: {entry['command']}", flush=True)
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "PATH": os.pathsep.join(filter(None, [str(TOOLS_BIN), os.environ.get("PATH")])),
    }
    started = time.perf_counter()
    with log_file.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env, start_new_session=True
        )
        try:
            code = proc.wait(timeout=bench.timeout)
            status = "ok" if code == 0 else "failed"
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            code, status = None, "timeout"
    entry["seconds"] = round(time.perf_counter() - started, 1)
    entry["exit_code"] = code
    entry["load_average_after"] = _loadavg()
    entry["log"] = _rel(log_file)
    text = log_file.read_text(encoding="utf-8", errors="replace")
    result = None
    if (ROOT / json_file).exists():  # ROOT / an absolute path is that path
        try:
            result = json.loads((ROOT / json_file).read_text(encoding="utf-8"))
        except ValueError:
            result = None
    if result is None:
        result = _last_json(text)
    figures = result.get("figures") if isinstance(result, dict) else None
    entry["figures"] = figures if isinstance(figures, list) else []
    if status == "ok" and not isinstance(figures, list):
        status = "no figures"
    entry["status"] = status
    if status != "ok":
        entry["output_tail"] = text[-2000:]
    if isinstance(result, dict):
        entry["result"] = result
    print(f"    {status} in {entry['seconds']} s, {len(entry['figures'])} figures", flush=True)
    return entry


def _kill_group(proc: subprocess.Popen) -> None:
    """The benchmark and everything it started (servers, wrk, workers): its process group."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------------- rendering


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:g}"
    return str(value)


def _ratio(fig: dict) -> str:
    ratio = fig.get("ratio")
    if ratio is None:
        return "–"
    text = f"{_num(ratio)}×"
    target = fig.get("target_ratio")
    return f"{text} (≤ {_num(target)}×)" if target is not None else text


def _met(fig: dict) -> str:
    met = fig.get("met")
    return "–" if met is None else ("met" if met else "**NOT met**")


def _value(fig: dict) -> str:
    text = f"{_num(fig.get('value'))} {fig.get('unit', '')}".strip()
    limit = fig.get("limit")
    if limit is not None:
        sign = "≥" if fig.get("higher_is_better") else "≤"
        text += f" ({sign} {_num(limit)})"
    return text


def _floor(fig: dict) -> str:
    if fig.get("floor") is None:
        return "–" + (f" ({fig['floor_name']})" if fig.get("floor_name") else "")
    return f"{_num(fig['floor'])} {fig.get('unit', '')}".strip() + (
        f" ({fig['floor_name']})" if fig.get("floor_name") else ""
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict) -> str:
    """The report as Markdown: the machine, the figures beside their floors, the runs."""
    m = report["machine"]
    pg = m.get("postgresql") or {}
    lines = [
        f"# Benchmarks {report['started_at']}",
        "",
        "Each figure beside its floor (the best any implementation could do on this machine, "
        "measured in the same run); ratio = times the floor's cost (a rate: floor / ours), "
        "so compare ratios, not absolute times.",
        "",
        f"- machine: {m.get('cores')} cores, {_num(m.get('memory_mb'))} MB, {m.get('platform')}, "
        f"Python {m.get('python')}, commit {m.get('commit') or '–'}",
        f"- load average before / after: {report['load_average_before']} / "
        f"{report['load_average_after']}",
    ]
    if "version" in pg:
        settings = ", ".join(f"{k} {v}" for k, v in pg["settings"].items())
        lines.append(f"- PostgreSQL {pg['version']}: {settings}")
    elif pg:
        lines.append(f"- PostgreSQL: {pg.get('error')}")
    lines.append(f"- total: {_num(report['seconds'])} s")
    lines += [
        "",
        "| benchmark | figure | value | floor | ratio | met | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in report["runs"]:
        if not run["figures"]:
            reason = {
                "ok": "no figures",
                "no figures": "finished without a figures list",
                "skipped": f"skipped: {run.get('reason', '')}",
            }.get(run["status"], f"**{run['status']}**, see {run.get('log', 'the log')}")
            lines.append(f"| {run['name']} | – | – | – | – | – | {_cell(reason)} |")
            continue
        for fig in run["figures"]:
            note = fig.get("note") or ""
            if run["status"] != "ok":
                note = f"**{run['status']}** " + note
            lines.append(
                "| "
                + " | ".join(
                    _cell(x)
                    for x in (
                        run["name"],
                        fig.get("name", ""),
                        _value(fig),
                        _floor(fig),
                        _ratio(fig),
                        _met(fig),
                        note,
                    )
                )
                + " |"
            )
    lines += [
        "",
        "| benchmark | status | seconds | timeout | load before | load after | command |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in report["runs"]:
        lines.append(
            "| "
            + " | ".join(
                _cell(str(x))
                for x in (
                    run["name"],
                    run["status"],
                    _num(run.get("seconds")),
                    _num(run.get("timeout_s")),
                    _loads(run.get("load_average_before")),
                    _loads(run.get("load_average_after")),
                    f"`{run.get('command', '')}`" if run.get("command") else "–",
                )
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def _loads(values: list[float] | None) -> str:
    return " ".join(f"{v:.2f}" for v in values) if values else "–"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help="run only NAME (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the benchmarks and exit")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES", DEFAULT_POSTGRES),
        help="the PostgreSQL server (a database path in it is ignored)",
    )
    parser.add_argument("--prefix", default="pubcredit_bench", help="databases' name prefix")
    parser.add_argument("--out", type=Path, default=OUT, help="where the results go")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="bulletins keeps the city data set when it holds it (else it is built afresh)",
    )
    args = parser.parse_args(argv)

    server = args.postgres.split("://", 1)
    rest = server[1].split("/", 1)[0] if len(server) == 2 else server[0]
    server_url = f"{server[0]}://{rest}" if len(server) == 2 else f"postgres://{rest}"
    frictionless = (
        shutil.which("frictionless", path=str(TOOLS_BIN))
        or shutil.which("frictionless")
        or Path(sys.executable).with_name("frictionless")
    )
    values = {
        "pg": server_url,
        "reuse": "--reuse" if args.reuse else "",
        "frictionless": "--frictionless" if Path(frictionless).exists() else "",
    }
    for data_set in ("demo", "publicity", "city", "checks"):
        values[f"db_{data_set}"] = f"{server_url}/{args.prefix}_{data_set}"

    names = {b.name for b in BENCHMARKS}
    only = {n for item in args.only for n in item.split(",") if n}
    if only - names:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(only - names))}")
    chosen = [b for b in BENCHMARKS if not only or b.name in only]

    if args.list:
        for b in BENCHMARKS:
            cmd = " ".join(command_of(b, values, "FILE")[1:]).replace(f"{ROOT}/", "")
            extra = f" (needs {b.needs})" if b.needs else ""
            extra += f" (only with {b.when_text})" if b.when else ""
            print(f"{b.name:<15} timeout {b.timeout:>4} s{extra}\n    {cmd}")
        return 0

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = out / f"bench-{stamp}"
    run_dir.mkdir()
    report: dict[str, Any] = {
        "started_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_facts(server_url),
        "load_average_before": _loadavg(),
        "runs": [],
    }
    started = time.perf_counter()
    done: dict[str, str] = {}
    for bench in chosen:
        if bench.when is not None and not bench.when():
            entry = {"name": bench.name, "status": "skipped", "figures": []}
            entry["reason"] = f"needs {bench.when_text}"
        elif bench.needs and done.get(bench.needs, "ok") != "ok":
            entry = {"name": bench.name, "status": "skipped", "figures": []}
            entry["reason"] = f"{bench.needs} did not succeed"
        else:
            entry = run_one(bench, values, run_dir)
        done[bench.name] = entry["status"]
        report["runs"].append(entry)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["load_average_after"] = _loadavg()
    report["figures"] = [
        {"benchmark": run["name"], **fig} for run in report["runs"] for fig in run["figures"]
    ]

    json_path = out / f"bench-{stamp}.json"
    json_path.write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    markdown = render_markdown(report)
    (out / f"bench-{stamp}.md").write_text(markdown, encoding="utf-8")
    (out / "bench.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"written to {json_path} and {out / 'bench.md'}")
    bad = [r["name"] for r in report["runs"] if r["status"] not in ("ok", "skipped")]
    if bad:
        print(f"not ok: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
