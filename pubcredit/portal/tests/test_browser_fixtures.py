"""The shared browser fixtures' rules, checked without a browser."""

import pytest
from _pytest.outcomes import Failed, Skipped

from pubcredit.testing.browser import BrowserLog, unavailable


def test_missing_browser_skips_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(Skipped):
        unavailable("no chromium")


def test_missing_browser_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Failed, match="CI=true"):
        unavailable("no chromium")


def test_foreign_requests_are_anything_off_the_live_server():
    log = BrowserLog(
        requests=[
            "http://localhost:8081/",
            "http://localhost:8081/static/vendor/htmx/htmx.min.js",
            "data:image/png;base64,AAAA",
            "blob:http://localhost:8081/1234",
            "http://localhost:9999/other-port",
            "https://localhost:8081/other-scheme",
            "http://127.0.0.1:8081/other-host-name",
            "https://cdn.example.com/echarts.min.js",
        ]
    )
    assert log.foreign_requests("http://localhost:8081") == [
        "http://localhost:9999/other-port",
        "https://localhost:8081/other-scheme",
        "http://127.0.0.1:8081/other-host-name",
        "https://cdn.example.com/echarts.min.js",
    ]
