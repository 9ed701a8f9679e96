"""Benchmark of the intake engine alone (read + map + clean + validate, no loading).

    .venv/bin/python benchmarks/intake_engine.py [--rows 1000000] [--bad 0.02] [--frictionless]

Generates a 行政处罚 CSV with the catalogue's Chinese headers and about `--bad` rejected rows
(bad check characters, future dates, negative amounts, unknown code values, missing required
values, Excel-mangled ID numbers, garbage dates, conflicting business keys), runs the engine on it
and prints one JSON object with rows/s, stage timings and peak memory. `--frictionless` also times
`frictionless validate` on the same file (install it into the venv first; it is not a project
dependency). `make_penalty_csv` is reused by benchmarks/intake.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from figures import figure, write_json_out  # noqa: E402


def _setup_django(db_path: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from pubcredit.accounts.permissions import Principal
    from pubcredit.holidays.services import seed_from_chinese_calendar

    seed_from_chinese_calendar(Principal.system("benchmark"))


def _valid_usccs(rng: np.random.Generator, n: int, prefix: str = "91") -> list[str]:
    from pubcredit.core.identifiers import USCC_CHARSET, uscc_check_char

    body_chars = np.array(list(USCC_CHARSET))
    regions = np.array(["370302", "370303", "370304", "370305", "370306", "370321", "370322"])
    out = []
    reg = rng.choice(regions, n)
    bodies = rng.choice(body_chars, (n, 9))
    for i in range(n):
        first17 = prefix + reg[i] + "".join(bodies[i])
        out.append(first17 + uscc_check_char(first17))
    return out


def _valid_rics(rng: np.random.Generator, n: int) -> list[str]:
    from pubcredit.core.identifiers import ric_check_char

    out = []
    births = dt.date(1950, 1, 1).toordinal() + rng.integers(0, 365 * 50, n)
    seq = rng.integers(0, 1000, n)
    for i in range(n):
        first17 = f"370303{dt.date.fromordinal(int(births[i])):%Y%m%d}{seq[i]:03d}"
        out.append(first17 + ric_check_char(first17))
    return out


def make_penalty_csv(path: Path, rows: int, bad: float = 0.02, seed: int = 7) -> dict:
    """Write a 行政处罚 CSV of `rows` data rows (UTF-8, Chinese headers) to `path`, about `bad`
    of them rejected by validation. Returns {"rows", "bad_rows", "source_uscc", "receipt_date",
    "bytes"}. Vectorised: a million rows take a few seconds."""
    from pubcredit.core.identifiers import uscc_check_char

    rng = np.random.default_rng(seed)
    source = "11370300MB2850123"  # the submitting department (a 机关, category 11)
    source += uscc_check_char(source)
    usccs = np.array(_valid_usccs(rng, 50_000))
    rics = np.array(_valid_rics(rng, 20_000))
    n = rows
    person = rng.random(n) < 0.2
    ind = (~person) & (rng.random(n) < 0.25)
    kind = np.where(person, "自然人", np.where(ind, "个体工商户", "法人及非法人组织"))
    uscc = np.where(person, "", usccs[rng.integers(0, len(usccs), n)])
    ric = np.where(person, rics[rng.integers(0, len(rics), n)], "")
    first = np.array(list("张王李赵刘陈杨黄周吴"))
    given = np.array(["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "勇", "军"])
    shops = np.array(["商贸", "餐饮", "建材", "物流", "科技", "食品", "五金", "汽修"])
    idx = np.arange(n)
    person_name = np.char.add(first[rng.integers(0, 10, n)], given[rng.integers(0, 10, n)])
    org_name = np.char.add(
        np.char.add("淄博市张店区", np.char.add(shops[rng.integers(0, 8, n)], idx.astype(str))),
        "有限公司",
    )
    name = np.where(person, person_name, org_name)
    receipt = dt.date(2024, 6, 28)
    decision = np.datetime64("2024-01-02") + rng.integers(0, 178, n).astype("timedelta64[D]")
    valid_to = decision + np.timedelta64(365, "D")
    types = np.array(["罚款", "警告", "罚款、没收违法所得", "警告;罚款", "通报批评"])
    penalty = types[rng.integers(0, len(types), n)]
    fine = np.round(rng.random(n) * 5, 4).astype(str)
    has_fine = np.char.find(penalty, "罚款") >= 0
    has_conf = np.char.find(penalty, "没收") >= 0
    doc = np.char.add(np.char.add("淄张市监罚〔2024〕", idx.astype(str)), "号")
    frame = pl.DataFrame(
        {
            "行政相对人名称": name,
            "行政相对人类别": kind,
            "统一社会信用代码": uscc,
            "法定代表人": np.where(person, "", person_name),
            "证件类型": np.where(person, "身份证", ""),
            "证件号码": ric,
            "行政处罚决定书文号": doc,
            "违法行为类型": np.full(n, "未按规定公示年度报告"),
            "违法事实": np.full(n, "当事人未按照《企业信息公示暂行条例》规定的期限公示年度报告。"),
            "处罚依据": np.full(n, "《中华人民共和国食品安全法》第一百二十六条第一款"),
            "处罚类别": penalty,
            "处罚内容": np.full(n, "警告并处罚款"),
            "罚款金额（万元）": np.where(has_fine, fine, ""),
            "没收违法所得、没收非法财物的金额（万元）": np.where(has_conf, "0.15", ""),
            "处罚决定日期": decision.astype(str),
            "处罚有效期": valid_to.astype(str),
            "处罚机关": np.full(n, "淄博市张店区市场监督管理局"),
            "处罚机关统一社会信用代码": np.full(n, source),
            "数据来源单位": np.full(n, "淄博市张店区市场监督管理局"),
            "数据来源单位统一社会信用代码": np.full(n, source),
            "备注": np.full(n, ""),
        }
    )
    # ~bad of the rows get one fault each.
    n_bad = int(n * bad)
    bad_rows = rng.choice(n, n_bad, replace=False)
    faults = rng.integers(0, 8, n_bad)
    cols = {c: frame.get_column(c).to_numpy().astype(object) for c in frame.columns}
    for r, f in zip(bad_rows.tolist(), faults.tolist(), strict=True):
        if f == 0:
            cols["处罚机关统一社会信用代码"][r] = source[:17] + ("0" if source[17] != "0" else "1")
        elif f == 1:
            cols["处罚决定日期"][r] = "2030-01-01"
        elif f == 2:
            cols["处罚类别"][r] = "罚款"
            cols["罚款金额（万元）"][r] = "-0.5"
        elif f == 3:
            cols["处罚类别"][r] = "罚金"
        elif f == 4:
            cols["行政相对人名称"][r] = ""
        elif f == 5:
            cols["行政相对人类别"][r] = "自然人"
            cols["证件类型"][r] = "身份证"
            cols["证件号码"][r] = "3.70303E+17"
        elif f == 6:
            cols["处罚决定日期"][r] = "去年三月"
        else:
            cols["数据来源单位统一社会信用代码"][r] = usccs[0]
    frame = pl.DataFrame({c: pl.Series(c, v, dtype=pl.String) for c, v in cols.items()})
    # Empty cells are written as nothing (as Excel and WPS export them), not as "".
    frame.with_columns(pl.all().replace("", None)).write_csv(path)
    return {
        "rows": n,
        "bad_rows": n_bad,
        "source_uscc": source,
        "receipt_date": receipt.isoformat(),
        "bytes": path.stat().st_size,
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", type=float, default=0.02)
    parser.add_argument("--frictionless", action="store_true")
    parser.add_argument("--keep", help="write the generated CSV here and keep it")
    parser.add_argument("--csv", help="use this CSV (made by --keep earlier) instead")
    parser.add_argument(
        "--known-sha256",
        action="store_true",
        help="pass the file's hash as the intake service does (it hashed the upload already)",
    )
    parser.add_argument("--json-out", help="also write the result JSON to this file")
    parser.add_argument("--generate", help=argparse.SUPPRESS)  # child process: write and exit
    args = parser.parse_args(argv)
    if args.generate:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
        import django

        django.setup()
        print(json.dumps(make_penalty_csv(Path(args.generate), args.rows, args.bad)))
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        _setup_django(tmp / "bench.sqlite3")
        from pubcredit.intake.engine import CategorySpec, run_engine

        # The file is generated in a child process so that the peak memory measured here is
        # the engine's.
        csv_path = Path(args.csv or args.keep or tmp / "penalties.csv")
        t = time.perf_counter()
        if args.csv:
            facts = json.loads(Path(args.csv + ".json").read_text())
        else:
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--generate",
                    str(csv_path),
                    "--rows",
                    str(args.rows),
                    "--bad",
                    str(args.bad),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            facts = json.loads(child.stdout.strip().splitlines()[-1])
            Path(str(csv_path) + ".json").write_text(json.dumps(facts))
        generate_s = time.perf_counter() - t
        spec = CategorySpec.from_files("CF")
        known = None
        if args.known_sha256:
            import hashlib

            with open(csv_path, "rb") as fh:
                known = hashlib.file_digest(fh, "sha256").hexdigest()
        rss_before = _peak_rss_mb()
        t, cpu = time.perf_counter(), time.process_time()
        result = run_engine(
            csv_path,
            csv_path.name,
            spec,
            receipt_date=dt.date.fromisoformat(facts["receipt_date"]),
            allowed_source_usccs={facts["source_uscc"]},
            sha256=known,
        )
        engine_s, engine_cpu = time.perf_counter() - t, time.process_time() - cpu
        out = {
            "rows": result.rows,
            "file_mb": round(facts["bytes"] / 2**20, 1),
            "faulty_rows_generated": facts["bad_rows"],
            "accepted": result.accepted_count,
            "rejected": result.rejected,
            "errors": result.error_count,
            "late": result.late,
            "generate_s": round(generate_s, 2),
            "engine_s": round(engine_s, 3),
            "engine_cpu_s": round(engine_cpu, 3),
            "engine_rows_per_s": round(result.rows / engine_s),
            "engine_rows_per_cpu_s": round(result.rows / engine_cpu),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "stages_s": {k: round(v, 3) for k, v in result.timings.items()},
            "peak_rss_mb": round(_peak_rss_mb()),
            "peak_rss_before_engine_mb": round(rss_before),
        }
        if args.frictionless:
            exe = shutil.which("frictionless") or str(
                Path(sys.executable).with_name("frictionless")
            )
            t = time.perf_counter()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            # Relative path and working directory: frictionless refuses absolute paths unless
            # "trusted"; no error limit, so that it reads the whole file like the engine does.
            proc = subprocess.run(
                [exe, "validate", "--json", "--limit-errors", "100000000", csv_path.name],
                capture_output=True,
                text=True,
                cwd=csv_path.parent,
            )
            try:
                report = json.loads(proc.stdout)
                task = report["tasks"][0]
                out["frictionless_rows"] = task["stats"].get("rows")
                out["frictionless_errors"] = task["stats"].get("errors")
            except (ValueError, KeyError, IndexError):
                out["frictionless_output"] = (proc.stdout or proc.stderr)[-300:]
            out["frictionless_s"] = round(time.perf_counter() - t, 2)
            out["frictionless_exit"] = proc.returncode
            out["speedup_vs_frictionless"] = round(out["frictionless_s"] / engine_s, 1)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            fl_cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
            out["frictionless_cpu_s"] = round(fl_cpu, 2)
            # CPU seconds compare fairly on a shared machine; wall time is what a clerk waits.
            out["speedup_vs_frictionless_cpu"] = round(fl_cpu / engine_cpu, 1)
        out["figures"] = _figures(out)
        write_json_out(args.json_out, out)
        print(json.dumps(out, ensure_ascii=False, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _figures(out: dict) -> list[dict]:
    """Parse and validate beside frictionless validating the same file (CPU seconds: they
    compare fairly on a shared machine); the issue wants the engine at least 10x faster."""
    figures = [
        figure(
            "intake engine: parse + validate (CPU s)",
            out["engine_cpu_s"],
            "s",
            floor=out.get("frictionless_cpu_s"),
            floor_name="frictionless validate, same file (CPU s)",
            target=0.1,
            note=f"{out['rows']:,} rows, {out['engine_rows_per_s']:,} rows/s wall",
        ),
        figure("intake engine: peak memory", out["peak_rss_mb"], "MB", limit=2048),
    ]
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
