"""Load from a second process with `wrk` (Debian's wrk 4, /usr/bin/wrk), shared by the benchmarks.

`run()` starts wrk with one Lua script (`SCRIPT`) that reads its requests from a file, one a line:
either a path (a GET) or `METHOD<TAB>path<TAB>body`. Each wrk thread formats them all once at
start, then sends them round-robin from a random starting point (`order="cycle"`) or picks one at
random per request (`order="random"`); each thread has its own random seed. Extra headers (one
`Name: value` a line) travel in an environment variable, not on the command line, so an API key
does not show in `ps`. A response that is not 2xx counts as an error, as do wrk's socket errors
(connect, read, write, timeout). wrk's own latency histogram (over all its threads) gives
p50/p95/p99 and the maximum; its `done()` prints them as one JSON line, parsed here.

wrk measures each request from the moment it is written to the moment its response is read, on
keep-alive connections, without coordinated-omission correction (that is wrk2).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

SCRIPT = r"""
local order = os.getenv("BENCH_ORDER") or "cycle"
local extra = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then extra[name] = value end
end

local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

local reqs = {}
local n = 0
non2xx = 0
function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    if line ~= "" then
      local method, path, body = line:match("^(%u+)\t([^\t]+)\t(.*)$")
      if method then
        reqs[#reqs + 1] = wrk.format(method, path, extra, body)
      else
        reqs[#reqs + 1] = wrk.format("GET", line, extra)
      end
    end
  end
  n = math.random(#reqs) - 1
end

function request()
  if order == "random" then return reqs[math.random(#reqs)] end
  n = n % #reqs + 1
  return reqs[n]
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("non2xx") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def write_requests(path: Path, requests: Iterable[str | tuple[str, str, str]]) -> Path:
    """Write the request file: a path per line, or (method, path, body) for a request with a
    body (the body on one line, without tabs)."""
    lines = []
    for r in requests:
        if isinstance(r, str):
            lines.append(r)
        else:
            method, target, body = r
            assert "\t" not in body and "\n" not in body, "the body must be one line, no tabs"
            lines.append(f"{method}\t{target}\t{body}")
    if not lines:
        raise ValueError("no requests")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(
    port: int,
    requests_file: Path,
    seconds: float,
    connections: int,
    *,
    headers: dict[str, str] | None = None,
    order: str = "cycle",
    threads: int = 2,
    timeout: str = "10s",
    digits: int = 1,
) -> dict:
    """Drive http://127.0.0.1:`port` with wrk for `seconds` (whole seconds, at least 1) from
    `connections` connections on `threads` threads; returns requests, errors, requests/s (over
    wrk's own measured duration) and p50/p95/p99/max in ms rounded to `digits`."""
    if order not in ("cycle", "random"):
        raise ValueError(order)
    threads = max(1, min(threads, connections))
    fd, name = tempfile.mkstemp(suffix=".lua")
    script = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(SCRIPT)
        env = os.environ | {
            "BENCH_REQUESTS": str(requests_file),
            "BENCH_ORDER": order,
            "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in (headers or {}).items()),
        }
        cmd = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            timeout,
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    finally:
        script.unlink(missing_ok=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    raw = json.loads(line[len("WRKJSON ") :])
    duration = max(raw["duration_us"], 1) / 1e6

    def ms(us: int) -> float:
        return round(us / 1000, digits)

    return {
        "driver": f"wrk -t{threads} -c{connections}",
        "requests": raw["requests"],
        "errors": raw["non2xx"] + raw["socket_errors"],
        "requests_per_second": round(raw["requests"] / duration, 1),
        "p50_ms": ms(raw["p50_us"]),
        "p95_ms": ms(raw["p95_us"]),
        "p99_ms": ms(raw["p99_us"]),
        "max_ms": ms(raw["max_us"]),
    }
