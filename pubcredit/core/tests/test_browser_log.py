"""The browser tests' log (pubcredit.testing.browser.BrowserLog): a request that failed counts as
a failure of the site, one the browser cancelled itself (it navigated on) does not."""

from types import SimpleNamespace

from pubcredit.testing.browser import BrowserLog


def _request(url: str, failure: str) -> SimpleNamespace:
    return SimpleNamespace(url=url, failure=failure)


def test_failed_loads_count_and_requests_the_browser_cancelled_do_not():
    log = BrowserLog()
    log.request_failed(_request("http://t/static/pubcredit/favicon.svg", "net::ERR_ABORTED"))
    log.request_failed(_request("http://t/static/missing.js", "net::ERR_BLOCKED_BY_CSP"))
    log.request_failed(_request("http://t/api/v1/health", "net::ERR_CONNECTION_REFUSED"))
    assert log.failed_requests == [
        "http://t/static/missing.js net::ERR_BLOCKED_BY_CSP",
        "http://t/api/v1/health net::ERR_CONNECTION_REFUSED",
    ]
    assert log.aborted_requests == ["http://t/static/pubcredit/favicon.svg net::ERR_ABORTED"]
