"""`pubcredit serve_checks` runs granian on the check server's WSGI entry with the documented
options (the server itself is run for real in pubcredit/checks/tests/test_check_server.py)."""

from __future__ import annotations

import os

from pubcredit.ops.management.commands.serve_checks import granian_command


def _options(argv: list[str]) -> dict[str, str]:
    out, i = {}, 1
    while i < len(argv) - 1:
        if argv[i + 1].startswith("--"):
            out[argv[i]] = ""
            i += 1
        else:
            out[argv[i]] = argv[i + 1]
            i += 2
    return out


def test_the_defaults_are_a_worker_per_core_with_two_threads():
    argv = granian_command()
    assert argv[0].endswith("granian")
    assert argv[-1] == "pubcredit.wsgi_checks:application"
    assert _options(argv) == {
        "--interface": "wsgi",
        "--http": "1",
        "--no-ws": "",
        "--workers": str(os.cpu_count() or 1),
        "--blocking-threads": "2",
        "--backpressure": "2",
        "--host": "127.0.0.1",
        "--port": "8001",
        "--log-level": "warning",
    }


def test_options_given_are_passed_on():
    argv = granian_command(host="0.0.0.0", port=9100, workers=3, threads=4, backpressure=6)
    options = _options(argv)
    assert (options["--host"], options["--port"]) == ("0.0.0.0", "9100")
    assert (options["--workers"], options["--blocking-threads"]) == ("3", "4")
    assert options["--backpressure"] == "6"
