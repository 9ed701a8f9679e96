"""Shared Playwright fixtures for browser tests (pytest marker `browser`).

Tests drive the Debian Chromium package (not a Playwright-downloaded browser) against
pytest-django's `live_server`, which also serves static files through
django.contrib.staticfiles' handler, so pages load exactly the assets they would in production.

Use them from a test package's conftest.py:

    from pubcredit.testing.browser import browser_context, browser_log, chromium_browser, page  # noqa: F401

and in a test:

    @pytest.mark.browser
    def test_home(page, live_server, browser_log):
        page.goto(live_server.url + "/")
        assert not browser_log.foreign_requests(live_server.url)

Without Chromium (or Playwright) the tests skip locally but FAIL when CI=true: CI must never
report green for browser tests that did not run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

CHROMIUM_PATH = os.environ.get("PUBCREDIT_CHROMIUM", "/usr/bin/chromium")
# --disable-background-networking and friends stop Chromium from calling Google services
# (component updates, safe browsing, sync), which would otherwise flood the log with refused
# connections on an offline machine and show up as foreign requests.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
# Browser tests read Chinese pages by default, as a visitor in China would (Accept-Language).
DEFAULT_LOCALE = "zh-CN"
VIEWPORT = {"width": 1280, "height": 900}
LOCAL_SCHEMES = {"data", "blob", "about"}


def unavailable(reason: str) -> None:
    """Skip the test, or fail it under CI=true where nothing may be skipped."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run, install chromium)", pytrace=False)
    pytest.skip(reason)


@dataclass
class BrowserLog:
    """What the browser did during one test: every request URL and every JavaScript error."""

    requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    # Requests the browser itself cancelled (net::ERR_ABORTED: the page navigated on while, say,
    # its favicon was still loading): kept apart, they are no failure of the site.
    aborted_requests: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)

    def request_failed(self, request) -> None:
        failure = f"{request.url} {request.failure}"
        if request.failure == "net::ERR_ABORTED":
            self.aborted_requests.append(failure)
        else:
            self.failed_requests.append(failure)

    def foreign_requests(self, origin: str) -> list[str]:
        """Requests that went anywhere but `origin` (scheme://host:port); data:/blob: are local."""
        allowed = urlsplit(origin)
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if (parts.scheme, parts.netloc) != (allowed.scheme, allowed.netloc):
                foreign.append(url)
        return foreign


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless Chromium for the whole session.

    Playwright's sync API keeps an asyncio event loop running in the main thread while it is
    started, and Django then refuses ORM calls from that thread (SynchronousOnlyOperation), though
    the test code is synchronous. DJANGO_ALLOW_ASYNC_UNSAFE is therefore set exactly while
    Playwright runs and restored when it stops.
    """
    if not os.path.exists(CHROMIUM_PATH):
        unavailable(f"Chromium not found at {CHROMIUM_PATH}")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        unavailable("the playwright Python package is not installed")

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            unavailable(f"Chromium at {CHROMIUM_PATH} does not start: {exc}")
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def browser_context(chromium_browser, live_server, browser_log):
    """A fresh browser profile (no cookies) per test, pointed at the live server, recording every
    request and JavaScript error into `browser_log`."""
    context = chromium_browser.new_context(
        base_url=live_server.url,
        locale=DEFAULT_LOCALE,
        timezone_id="Asia/Shanghai",
        viewport=VIEWPORT,
    )
    context.set_default_timeout(15_000)
    context.on("request", lambda request: browser_log.requests.append(request.url))
    context.on("requestfailed", browser_log.request_failed)

    def watch(page):
        page.on("pageerror", lambda error: browser_log.js_errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                browser_log.js_errors.append(message.text) if message.type == "error" else None
            ),
        )

    context.on("page", watch)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    """A page in `browser_context`; relative URLs in `page.goto` go to the live server."""
    return browser_context.new_page()


def log_in(page, username: str, password: str) -> None:
    """Sign in through the staff login form, as a person would, and wait for the next page."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form[action='/accounts/login/'] button[type=submit]")
