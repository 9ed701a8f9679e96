"""Run code on untrusted input (a department's file, a batch-check upload) in a child process
with a memory limit and a time limit, so that whatever the input makes the code do (a reader that
asks for 549 GB and aborts, a parser that loops) costs the child, never the web server or the
worker that asked.

`run_limited(func, *args, memory_bytes=…, seconds=…)` returns `func(*args)` as computed in the
child, re-raises the exception `func` raised there (it must be picklable: Django's and the app's
own exceptions are), and raises `ChildFailed` when the child did not answer: it ran out of memory
("memory"), was stopped at the time limit ("timeout") or died ("crashed": a native library
aborting on a failed allocation is the usual cause). The caller turns that into its own message.

How: children are forked from a fork server (multiprocessing's "forkserver" context) started on
first use: a fresh interpreter that imports Django, sets it up with the project's settings and
loads polars and python-calamine once (`pubcredit.core.untrusted_boot`), so a child starts in a few
milliseconds, has no database connection and no thread pool inherited from the web server (a fork
of a process in which polars has run may deadlock). The child caps its address space
(RLIMIT_AS) at what it had when it started plus `memory_bytes`; the parent waits at most `seconds`
and kills the child after that. `func` and its arguments are pickled: pass module-level
functions and plain data, and return small results (write large ones to a file).

Settings (read by the callers): PUBCREDIT_UNTRUSTED_MEMORY_MB (default 2048) and
PUBCREDIT_UNTRUSTED_SECONDS (default 300), see `default_limits`.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import resource
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation

__all__ = ["ChildFailed", "Limits", "default_limits", "run_limited"]

DEFAULT_MEMORY_MB = 2048
DEFAULT_SECONDS = 300
_BOOT_MODULE = "pubcredit.core.untrusted_boot"
_POLL_SECONDS = 0.05

_context = None
_context_lock = threading.Lock()


class ChildFailed(Exception):
    """The child gave no answer. `reason`: "memory", "timeout" or "crashed"."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    seconds: float


def default_limits() -> Limits:
    """The limits from settings (PUBCREDIT_UNTRUSTED_MEMORY_MB, PUBCREDIT_UNTRUSTED_SECONDS)."""
    memory = int(getattr(settings, "PUBCREDIT_UNTRUSTED_MEMORY_MB", DEFAULT_MEMORY_MB))
    seconds = float(getattr(settings, "PUBCREDIT_UNTRUSTED_SECONDS", DEFAULT_SECONDS))
    return Limits(memory_bytes=memory * 1024 * 1024, seconds=seconds)


def _ctx():
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([_BOOT_MODULE])
            _context = ctx
        return _context


def _proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmSize, VmHWM… of a process in bytes (Linux /proc); {} where there is no /proc."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                key, _sep, value = line.partition(":")
                parts = value.split()
                if len(parts) == 2 and parts[1] == "kB":
                    out[key] = int(parts[0]) * 1024
    except OSError:
        pass
    return out


def _child(conn, memory_bytes: int, language: str | None, func, args, kwargs) -> None:
    """The child's side: set the limit, run `func`, send (status, value, peak RSS bytes)."""
    status, value = "ok", None
    os.environ["RUST_BACKTRACE"] = "0"  # an aborting reader: one line on stderr, not forty
    try:
        if memory_bytes:
            start = _proc_status().get("VmSize", 0)
            limit = start + memory_bytes
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        from django.apps import apps  # the fork server has set Django up; this checks it

        if not apps.ready:  # pragma: no cover - a fork server whose boot failed
            import django

            django.setup()
        if language:
            translation.activate(language)
        value = func(*args, **kwargs)
    except MemoryError:
        status, value = "memory", None
    except BaseException as exc:  # everything goes back to the parent
        status, value = "raised", exc
    if status == "raised":
        try:
            pickle.dumps(value)
        except Exception:  # a native library's panic (pyo3) cannot travel: the child broke
            status, value = "crashed", f"{type(value).__name__}: {value}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        conn.send((status, value, peak))
    except MemoryError:
        conn.send(("memory", None, peak))
    except Exception as exc:  # an unpicklable result or exception
        conn.send(("raised", RuntimeError(f"{type(value).__name__}: {value}; {exc}"), peak))
    finally:
        conn.close()


def run_limited(
    func,
    *args,
    memory_bytes: int,
    seconds: float,
    usage: dict | None = None,
    **kwargs,
):
    """`func(*args, **kwargs)` computed in a child process limited to `memory_bytes` more
    address space than it starts with and to `seconds` of wall time (see the module docstring).
    `usage`, when given, is filled with "seconds", "peak_rss" (bytes, the child's high-water
    mark) and "outcome" ("ok", "raised", "memory", "timeout" or "crashed")."""
    ctx = _ctx()
    started = time.monotonic()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_child,
        args=(sender, memory_bytes, translation.get_language(), func, args, kwargs),
        daemon=True,
    )
    process.start()
    sender.close()
    peak = 0
    answer = None
    try:
        deadline = started + seconds
        while True:
            hwm = _proc_status(process.pid).get("VmHWM", 0)
            peak = max(peak, hwm)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if receiver.poll(min(_POLL_SECONDS, remaining)):
                try:
                    answer = receiver.recv()
                except (EOFError, OSError):
                    answer = None  # the child died without a word
                break
    finally:
        receiver.close()
        if answer is None and process.is_alive():
            process.kill()
        process.join(10)
    elapsed = time.monotonic() - started
    if answer is None:
        outcome = "timeout" if elapsed >= seconds else "crashed"
    else:
        outcome = answer[0]
        peak = max(peak, answer[2])
    if usage is not None:
        usage.update(seconds=elapsed, peak_rss=peak, outcome=outcome)
    if outcome == "ok":
        return answer[1]
    if outcome == "raised":
        raise answer[1]
    if outcome == "timeout":
        raise ChildFailed("timeout", f"{seconds:g} s")
    if outcome == "memory":
        raise ChildFailed("memory", f"{memory_bytes // (1024 * 1024)} MB")
    if outcome == "crashed" and answer is not None:
        raise ChildFailed("crashed", str(answer[1]))
    raise ChildFailed("crashed", f"exit code {process.exitcode}")
