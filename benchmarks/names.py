"""Benchmark: name normalisation (`subjects.names.normalize_names`) beside its floor.

    .venv/bin/python benchmarks/names.py [--names 1000000]

A demo city normalises a million names at load time: the target is ≥ 200,000 names/s. The floor
in the same run is the cheapest vectorised pass over the same names (polars' NFKC
normalisation and lower-casing, which every normaliser must do at least), so the ratio says
what the project's rules (traditional → simplified, brackets, spaces, marks) cost on top.
Replaces a timed unit test that failed whenever the shared machine was busy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import polars as pl
from figures import figure, write_json_out

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")

BASE = [
    "淄博市张店区宏达机械制造有限公司",
    "張三",
    "ＡＢＣ（淄博）科技有限公司",
    "李 四",
    "山东华联商厦股份有限公司",
]
TARGET = 200_000


def _best(func, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--json-out", help="also write the result to this file")
    args = parser.parse_args()

    import django

    django.setup()
    from pubcredit.subjects.names import normalize_names

    names = [f"{BASE[i % len(BASE)]}{i}" for i in range(args.names)]
    normalize_names(names[:10])
    series = pl.Series(names)
    ours = _best(lambda: normalize_names(names))
    floor = _best(lambda: series.str.normalize("NFKC").str.to_lowercase())
    result = {
        "names": args.names,
        "normalize_names_per_s": round(args.names / ours),
        "floor_nfkc_lower_per_s": round(args.names / floor),
        "ratio_to_floor": round(ours / floor, 2),
        "target_per_s": TARGET,
        "meets_target": args.names / ours >= TARGET,
        "load_average": os.getloadavg()[0],
    }
    result["figures"] = [
        figure(
            "normalize_names",
            args.names / ours,
            "names/s",
            floor=args.names / floor,
            floor_name="polars NFKC + lower-case",
            limit=TARGET,
            higher_is_better=True,
            note=f"{args.names:,} names, best of 3",
        )
    ]
    write_json_out(args.json_out, result)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
