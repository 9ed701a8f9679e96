# ruff: noqa: F811 (pytest fixtures imported from listkit)
"""A subject on a 严重失信主体名单 carries a clear warning at the top of its public page: the
list's name, a link to its entries and to the catalogue of punishment measures."""

import pytest

from pubcredit.testing.checkkit import black_now
from pubcredit.testing.listkit import make_subject, seeded  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("seeded")


def test_black_listed_company_page_warns(client, system, make_subject):
    company = make_subject(name="淄博失信示例有限公司")
    black_now(system, company)
    for tab in ("basic", "penalties"):  # the warning is on every tab of the page
        html = client.get(f"/subjects/{company.pk}/", {"tab": tab}).content.decode()
        assert 'id="black-list-warning"' in html
        assert "该主体在严重失信主体名单内:失信被执行人。" in html
        assert 'href="?tab=serious"' in html
        assert 'href="/measures/catalogue/?kind=punishment"' in html


def test_company_without_black_list_entry_has_no_warning(client, make_subject):
    company = make_subject(name="淄博守信示例有限公司")
    html = client.get(f"/subjects/{company.pk}/").content.decode()
    assert 'id="black-list-warning"' not in html
    assert "严重失信主体名单内" not in html
