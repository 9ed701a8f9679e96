"""/api/v1/docs works on a machine without internet: Swagger UI comes from our own static files
(django-ninja's bundled assets, served because "ninja" is an installed app), never a CDN."""

import re

import pytest
from django.contrib.staticfiles import finders

from pubcredit.portal.tests.test_static import external_urls

ASSET = re.compile(r"""(?:src|href)="(/static/[^"]+)\"""")


@pytest.mark.django_db
def test_docs_page_references_only_local_static_files(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert external_urls(html) == []
    assets = ASSET.findall(html)
    # The page names the Swagger bundle, its start script and its stylesheet, all ours.
    assert {
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui-init.js",
        "/static/ninja/swagger-ui.css",
    } <= set(assets)
    for url in assets:
        assert finders.find(url.removeprefix("/static/")), url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_docs_page_renders_operations_offline(page, live_server, browser_log):
    # Every request that leaves the live server is refused, as on an offline machine.
    def offline(route):
        url = route.request.url
        if url.startswith(live_server.url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", offline)
    page.goto("/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() > 20
    assert page.locator(".info .title").inner_text().startswith("pubcredit API")
    assert browser_log.foreign_requests(live_server.url) == []
    assert browser_log.js_errors == []
