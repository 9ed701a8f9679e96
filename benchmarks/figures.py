"""One shape for every benchmark's headline figures, so `make bench` can put them in one table.

Each benchmark's JSON result carries a top-level "figures" list made with `figure(...)`: a figure
is what we measured beside its floor (the best any implementation could do on this machine, run
in the same process or run: a bare COPY, the framework floor, a bare indexed lookup, frictionless,
a plain GROUP BY) and the ratio between them, always expressed as "how many times the floor's
cost" so that a reader compares ratios, not absolute times:

- a duration, memory or latency (lower is better): ratio = ours / floor;
- a rate (higher is better, `higher_is_better=True`): ratio = floor / ours.

`target` is the largest ratio the issue accepts (None: no ratio target); `limit` is an absolute
limit in the figure's own unit (e.g. a p99 of 20 ms, a peak of 2,048 MB), checked the same way.
"""

from __future__ import annotations

from typing import Any


def figure(
    name: str,
    value: float | None,
    unit: str,
    *,
    floor: float | None = None,
    floor_name: str = "",
    target: float | None = None,
    limit: float | None = None,
    higher_is_better: bool = False,
    note: str = "",
) -> dict[str, Any]:
    """A headline figure (see the module docstring)."""
    ratio = None
    if value is not None and floor:
        ratio = (floor / value if value else None) if higher_is_better else value / floor
    met = None
    if ratio is not None and target is not None:
        met = ratio <= target
    if value is not None and limit is not None:
        within = value >= limit if higher_is_better else value <= limit
        met = within if met is None else (met and within)
    return {
        "name": name,
        "value": _round(value),
        "unit": unit,
        "floor": _round(floor),
        "floor_name": floor_name,
        "ratio": _round(ratio),
        "target_ratio": target,
        "limit": limit,
        "higher_is_better": higher_is_better,
        "met": met,
        "note": note,
    }


def _round(x: float | None) -> float | None:
    if x is None:
        return None
    return round(float(x), 3 if abs(x) < 10 else 1)


def write_json_out(path: str | None, result: dict[str, Any]) -> None:
    """Write the benchmark's result to `--json-out FILE` (what benchmarks/run_all.py reads)."""
    if not path:
        return
    import json
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
