"""Benchmark: hostile files refused by the intake engine, each within 10 s and 500 MB.

    .venv/bin/python benchmarks/hostile_files.py            # every case
    .venv/bin/python benchmarks/hostile_files.py --case xfd1048576

Each case is generated (pubcredit.testing.hostile), written to a temporary file and handed to
`intake.engine.pipeline.run_engine` — what `intake.services.process_submission` runs on a
stored submission, inline in the web server for a small file, in db_worker for a large one — in
a fresh Python process standing for the server (Django set up, the untrusted-file fork server
started and warmed once before the clock starts, as it is in a server that has read a file
before). Measured per case:

- wall time of the refusal (run_engine raising UnreadableFile/RefusedFile);
- peak memory: of the server process (ru_maxrss of that child process, read by this script after
  waiting for it: it includes Django and polars, the server's baseline) and of the reading child
  (its high-water mark, from `read_usage`), the larger of the two held against 500 MB;
- the outcome: who refused it ("inspection": before the sheet was loaded, in the reading child;
  "child died": the reader aborted and only the child went down).

Each figure is printed beside its limit (10 s, 500 MB). The process exits 1 if a case is not
refused or breaks a limit. Results also go to benchmarks/out/hostile-files.json (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from figures import figure, write_json_out  # noqa: E402

LIMIT_SECONDS = 10.0
LIMIT_MB = 500.0
MB = 1024 * 1024

# name: (generator call as text, file name, what it is); LIFTED: settings changed for a case
LIFTED = {
    "reader-abort": {"PUBCREDIT_INTAKE_MAX_ROWS": 2_000_000, "PUBCREDIT_INTAKE_MAX_CELLS": 10**14}
}
CASES = {
    "xfd1048576": (
        'one_cell_xlsx("XFD1048576")',
        "hostile.xlsx",
        "one cell at XFD1048576 (the finding's 1,844-byte file)",
    ),
    "z1000000": ('one_cell_xlsx("Z1000000")', "hostile.xlsx", "one cell at Z1000000"),
    "hidden-range": (
        'one_cell_xlsx("XFD1048576", dimension=False)',
        "hostile.xlsx",
        "one cell at XFD1048576, no <dimension> (found by the scan)",
    ),
    "zip-bomb-ratio": (
        "zip_bomb_xlsx(200)",
        "bomb.xlsx",
        "sheet of 200 MB of empty rows, zipped ~1000:1",
    ),
    "zip-bomb-size": (
        "zip_bomb_xlsx(1024)",
        "bomb.xlsx",
        "sheet of 1 GB of empty rows (over the unzipped-size limit)",
    ),
    "large-400k": (
        "large_xlsx(400_000, 20)",
        "large.xlsx",
        "400,000 rows × 20 columns (the finding's 14 MB / ~480 MB unzipped file)",
    ),
    "reader-abort": (
        'one_cell_xlsx("AMJ1048576")',
        "hostile.xlsx",
        "one cell at AMJ1048576 with the row and cell limits lifted: the reader itself asks for"
        " 32 GB and aborts (the child dies, not the server)",
    ),
    "wide-csv": (
        '(",".join(f"c{i}" for i in range(20000)) + "\\n" + "1," * 19999 + "1\\n").encode()',
        "wide.csv",
        "CSV of 20,000 columns",
    ),
}


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
    os.environ.setdefault("PUBCREDIT_VAR_DIR", tempfile.mkdtemp(prefix="pubcredit-hostile-"))
    import django

    django.setup()


def run_case(name: str) -> dict:
    """In the process standing for the server: generate, warm the fork server, refuse."""
    _setup()
    # Imported here: Django must be set up first.
    import datetime as dt

    from django.conf import settings

    from pubcredit.core.untrusted import run_limited
    from pubcredit.intake.engine.pipeline import run_engine
    from pubcredit.intake.engine.reading import UnreadableFile
    from pubcredit.intake.engine.spec import CategorySpec
    from pubcredit.testing.hostile import large_xlsx, one_cell_xlsx, zip_bomb_xlsx

    for key, value in LIFTED.get(name, {}).items():
        setattr(settings, key, value)
    expression, filename, _what = CASES[name]
    data = eval(  # the case table above, nothing else
        expression,
        {"one_cell_xlsx": one_cell_xlsx, "zip_bomb_xlsx": zip_bomb_xlsx, "large_xlsx": large_xlsx},
    )
    spec = CategorySpec.from_files("CF")
    t = time.perf_counter()
    run_limited(len, b"warm", memory_bytes=256 * MB, seconds=60)
    warm = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / filename
        path.write_bytes(data)
        usage: dict = {}
        started = time.perf_counter()
        try:
            run_engine(
                path,
                filename,
                spec,
                receipt_date=dt.date.today(),
                allowed_source_usccs=None,
                read_usage=usage,
            )
            message, refused = "", False
        except UnreadableFile as exc:
            message, refused = str(exc), True
        seconds = time.perf_counter() - started
    return {
        "case": name,
        "file_bytes": len(data),
        "refused": refused,
        "message": message,
        "seconds": round(seconds, 3),
        "child_peak_mb": round(usage.get("peak_rss", 0) / MB, 1),
        "outcome": {
            "raised": "inspection",
            "crashed": "child died",
            "memory": "child memory",
            "": "in place (CSV limits)",
        }.get(usage.get("outcome", ""), usage.get("outcome", "")),
        "fork_server_start_s": round(warm, 2),
    }


def _measure(name: str) -> dict:
    """Run one case in its own process and read that process's ru_maxrss (os.wait4)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", name], stdout=out, stderr=err, env=env
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"case {name} failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["server_peak_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux: kilobytes
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help="also write the result and its figures to this file")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child), ensure_ascii=False))
        return 0
    names = args.case or list(CASES)
    results = [_measure(name) for name in names]
    ok = True
    print(
        f"{'case':<16}{'file':>10}  {'time (limit 10 s)':<20}{'memory (limit 500 MB)':<34}outcome"
    )
    for r in results:
        server = r["server_peak_mb"]
        peak = max(server, r["child_peak_mb"])
        fine = r["refused"] and r["seconds"] <= LIMIT_SECONDS and peak <= LIMIT_MB
        ok &= fine
        server_text = f"{server:.0f}"
        print(
            f"{r['case']:<16}{r['file_bytes']:>10,}  "
            f"{r['seconds']:>6.2f} s / {LIMIT_SECONDS:.0f} s      "
            f"server {server_text:>5} MB, child {r['child_peak_mb']:>5.0f} MB / {LIMIT_MB:.0f} MB   "
            f"{r['outcome'] if r['refused'] else 'NOT REFUSED'}{'' if fine else '  ← over'}"
        )
        print(f"{'':<16}{r['message']}")
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "hostile-files.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    # The worst case of each limit (every case's figures are in "cases").
    slowest = max(results, key=lambda r: r["seconds"])
    biggest = max(results, key=lambda r: max(r["server_peak_mb"], r["child_peak_mb"]))
    refused = sum(1 for r in results if r["refused"])
    figures = [
        figure("slowest refusal", slowest["seconds"], "s", limit=LIMIT_SECONDS,
               note=f"{slowest['case']} ({slowest['outcome']}); {refused} of {len(results)} "
               "cases refused")
        if refused == len(results) else
        figure("cases refused", refused, "cases", limit=len(results), higher_is_better=True,
               note="NOT REFUSED: " + ", ".join(r["case"] for r in results if not r["refused"])),
        figure("largest peak memory", max(biggest["server_peak_mb"], biggest["child_peak_mb"]),
               "MB", limit=LIMIT_MB,
               note=f"{biggest['case']}: server {biggest['server_peak_mb']:.0f} MB (Django and "
               f"polars included), reading child {biggest['child_peak_mb']:.0f} MB"),
    ]  # fmt: skip
    write_json_out(
        args.json_out,
        {"benchmark": "hostile_files", "cases": results, "all_refused_within_limits": ok,
         "load_average": os.getloadavg(), "figures": figures},
    )  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
