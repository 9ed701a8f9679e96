"""Benchmark: reading the markup files saved as .xls (an HTML table, an Excel 2003 XML
Spreadsheet) beside the same rows as xlsx.

    .venv/bin/python benchmarks/intake_formats.py [--rows 20000]

Writes `--rows` data rows (plus a header) × 20 text columns as xlsx (the floor: calamine, a
compiled reader), as an HTML page saved as .xls and as SpreadsheetML saved as .xls, with the
writers the tests use (`pubcredit.intake.tests.messy`), then times `read_table` on each (best of
3, wall-clock and CPU) and prints one JSON object with rows/s and each format's time as a
multiple of xlsx's. Government exports reach 100,000 rows and more: the target is within about
3× of xlsx (judged on CPU time, which a busy shared machine disturbs less).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")

from figures import figure, write_json_out

COLUMNS = 20
TARGET_RATIO = 3.0
NAMES = ["淄博市张店区宏达机械制造有限公司", "山东华联商厦股份有限公司", "张三", "李四"]


def _grid(rows: int) -> list[list[str]]:
    header = [f"字段{c + 1}" for c in range(COLUMNS)]
    body = [
        [NAMES[r % len(NAMES)], f"淄张罚〔2024〕{r}号", f"{r * 7 % 100000}.50", "2024-03-15"]
        + [f"第{r}行第{c}列" for c in range(4, COLUMNS)]
        for r in range(rows)
    ]
    return [header, *body]


def _best(func, repeat: int = 3) -> tuple[float, float]:
    """The best wall-clock and the best CPU time of `repeat` runs (on a shared machine the CPU
    time is the steadier one)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        func()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--json-out", help="also write the result to this file")
    args = parser.parse_args()

    import django

    django.setup()
    from pubcredit.intake.engine import read_table
    from pubcredit.intake.tests.messy import grid_html, grid_spreadsheetml, grid_xlsx

    grid = _grid(args.rows)
    files = {
        "xlsx": ("report.xlsx", grid_xlsx(grid)),
        "html": ("report-html.xls", grid_html(grid, header_rows=(0,))),
        "spreadsheetml": ("report-xml.xls", grid_spreadsheetml(grid)),
    }
    result: dict[str, object] = {"rows": args.rows, "columns": COLUMNS}
    floor = floor_cpu = None
    for fmt, (name, data) in files.items():
        table = read_table(data, name)
        assert table.frame.height == args.rows, (fmt, table.frame.height)
        seconds, cpu = _best(lambda data=data, name=name: read_table(data, name))
        floor, floor_cpu = floor or seconds, floor_cpu or cpu
        result[fmt] = {
            "megabytes": round(len(data) / 1e6, 1),
            "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu, 3),
            "rows_per_s": round(args.rows / seconds),
            "ratio_to_xlsx": round(seconds / floor, 2),
            "cpu_ratio_to_xlsx": round(cpu / floor_cpu, 2),
        }
    result["target_ratio"] = TARGET_RATIO
    result["meets_target"] = all(
        result[fmt]["cpu_ratio_to_xlsx"] <= TARGET_RATIO for fmt in ("html", "spreadsheetml")
    )
    result["load_average"] = os.getloadavg()[0]
    result["figures"] = [
        figure(
            f"read {fmt} .xls (CPU)",
            result[fmt]["cpu_seconds"],
            "s",
            floor=result["xlsx"]["cpu_seconds"],
            floor_name="calamine reading the same rows as xlsx",
            target=TARGET_RATIO,
            note=f"{args.rows:,} rows × {COLUMNS} columns, best of 3; wall "
            f"{result[fmt]['seconds']} s",
        )
        for fmt in ("html", "spreadsheetml")
    ]
    write_json_out(args.json_out, result)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
