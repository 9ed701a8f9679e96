"""benchmarks/run_all.py (`make bench`): the Markdown table from hand-written figures, runs that
failed or were skipped shown as such, a benchmark's result read from what it printed, and one
real benchmark run through the runner."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location(
        "bench_run_all", ROOT / "benchmarks" / "run_all.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _figure(name, value, unit, floor, floor_name, ratio, *, target=None, limit=None, met=None,
            higher=False, note=""):  # fmt: skip
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "floor": floor,
        "floor_name": floor_name,
        "ratio": ratio,
        "target_ratio": target,
        "limit": limit,
        "higher_is_better": higher,
        "met": met,
        "note": note,
    }


REPORT = {
    "started_at": "2026-12-07T01:40:00+00:00",
    "seconds": 812.4,
    "load_average_before": [1.5, 1.0, 0.5],
    "load_average_after": [2.25, 2.0, 1.75],
    "machine": {
        "cores": 2,
        "memory_mb": 7936,
        "platform": "Linux-6.1",
        "python": "3.11.2",
        "commit": "abc1234",
        "postgresql": {
            "version": "15.20",
            "settings": {"shared_buffers": "128 MB", "work_mem": "4 MB"},
        },
    },
    "runs": [
        {
            "name": "intake",
            "status": "ok",
            "seconds": 95.0,
            "timeout_s": 420,
            "load_average_before": [1.5, 1.0, 0.5],
            "load_average_after": [2.0, 1.5, 1.0],
            "command": "python benchmarks/intake.py --rows 200000",
            "figures": [
                _figure(
                    "intake end to end",
                    27.5,
                    "s",
                    5.5,
                    "bare COPY",
                    5.0,
                    target=3.0,
                    met=False,
                    note="200,000 rows",
                ),
                _figure(
                    "rows per second",
                    7272.0,
                    "rows/s",
                    36363.0,
                    "bare COPY",
                    5.0,
                    limit=100000,
                    met=False,
                    higher=True,
                ),
            ],
        },
        {
            "name": "names",
            "status": "ok",
            "seconds": 3.5,
            "timeout_s": 120,
            "command": "python benchmarks/names.py --names 300000",
            "figures": [_figure("normalize_names", 0.5, "s", None, "", None)],
        },
        {
            "name": "portal",
            "status": "timeout",
            "seconds": 420.0,
            "timeout_s": 420,
            "command": "python benchmarks/portal.py",
            "log": "benchmarks/out/bench-x/portal.log",
            "figures": [],
        },
        {"name": "scaleout", "status": "skipped", "reason": "needs Citus", "figures": []},
    ],
}


def test_markdown_puts_each_figure_beside_its_floor_and_ratio(run_all):
    text = run_all.render_markdown(REPORT)
    lines = text.splitlines()
    assert lines[0] == "# Benchmarks 2026-12-07T01:40:00+00:00"
    assert "- machine: 2 cores, 7,936 MB, Linux-6.1, Python 3.11.2, commit abc1234" in lines
    assert "- load average before / after: [1.5, 1.0, 0.5] / [2.25, 2.0, 1.75]" in lines
    assert "- PostgreSQL 15.20: shared_buffers 128 MB, work_mem 4 MB" in lines
    assert "| benchmark | figure | value | floor | ratio | met | note |" in lines
    assert (
        "| intake | intake end to end | 27.5 s | 5.5 s (bare COPY) | 5× (≤ 3×) | **NOT met** "
        "| 200,000 rows |" in lines
    )
    assert (
        "| intake | rows per second | 7,272 rows/s (≥ 100,000) | 36,363 rows/s (bare COPY) | 5× "
        "| **NOT met** |  |" in lines
    )
    assert "| names | normalize_names | 0.5 s | – | – | – |  |" in lines


def test_markdown_shows_failed_and_skipped_runs(run_all):
    lines = run_all.render_markdown(REPORT).splitlines()
    assert (
        "| portal | – | – | – | – | – | **timeout**, see benchmarks/out/bench-x/portal.log |"
        in lines
    )
    assert "| scaleout | – | – | – | – | – | skipped: needs Citus |" in lines
    assert "| portal | timeout | 420 | 420 | – | – | `python benchmarks/portal.py` |" in lines
    assert (
        "| intake | ok | 95 | 420 | 1.50 1.00 0.50 | 2.00 1.50 1.00 "
        "| `python benchmarks/intake.py --rows 200000` |" in lines
    )


def test_result_read_from_the_last_json_printed(run_all):
    printed = 'progress\n{"a": 1}\n{\n  "b": 2,\n  "figures": []\n}\nwritten to x\n'
    assert run_all._last_json(printed) == {"b": 2, "figures": []}
    assert run_all._last_json('{"a": 1}\ndone\n') == {"a": 1}
    assert run_all._last_json("nothing here\n") is None


def test_command_fills_the_databases_and_adds_json_out(run_all):
    bench = run_all.Benchmark("x", "scoring.py {reuse} --database-url {db_city}", 60)
    values = {"reuse": "", "db_city": "postgres://h/pubcredit_bench_city"}
    cmd = run_all.command_of(bench, values, "out/x.json")
    assert cmd[1:] == [
        str(ROOT / "benchmarks" / "scoring.py"),
        "--database-url",
        "postgres://h/pubcredit_bench_city",
        "--json-out",
        "out/x.json",
    ]


def test_one_benchmark_through_the_runner(tmp_path):
    """names.py at a small size, run for real by the runner: its figure in the JSON and the table."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--only", "names",
         "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    [path] = tmp_path.glob("bench-*.json")
    report = json.loads(path.read_text(encoding="utf-8"))
    assert (tmp_path / "bench.md").read_text(encoding="utf-8") == path.with_suffix(".md").read_text(
        encoding="utf-8"
    )
    [run] = report["runs"]
    assert run["status"] == "ok"
    assert [f["name"] for f in run["figures"]] == ["normalize_names"]
    assert run["figures"][0]["floor_name"] == "polars NFKC + lower-case"
    assert report["figures"][0]["benchmark"] == "names"
    assert "| names | normalize_names |" in proc.stdout
