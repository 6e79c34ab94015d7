"""The very first request to a freshly started server, for each page URL: a deep link a
user bookmarked must show a usable login form. Streamlit's legacy ``pages/`` mode is
still on for that request and knows each page by its file name, so a page whose URL
differs from its file name got a "Page not found" dialog over the login (ui/nav.py)."""
from __future__ import annotations

import re

import pytest

from lib.core.i18n import t

from tests.browser import util
from tests.browser.util import PAGE_URLS, body_text, copy_db, leaked, wait_for_login_form

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", PAGE_URLS)
def test_a_deep_link_as_the_first_request_shows_a_usable_login(path, demo_db, tmp_path, _servers, new_page):
    server = util.start_server(f"first-{path}", copy_db(demo_db.path, tmp_path / "cm.duckdb"))
    _servers.append(server)
    try:
        page = new_page()
        page.goto(f"{server.base_url}/{path}")
        form = wait_for_login_form(page)
        assert page.get_by_role("dialog").count() == 0, body_text(page)  # e.g. "Page not found"
        assert form.locator('input[type="password"]').count() == 1
        assert leaked(body_text(page), demo_db) == []
    finally:
        server.stop()


def test_a_pasted_customer_link_as_the_first_request_lands_on_that_customer(demo_db, tmp_path, _servers, new_page):
    # The legacy first request runs pages/customer.py directly; it goes through the router
    # with its ?code= and the page asked for is opened once the user has logged in.
    server = util.start_server("first-customer-link", copy_db(demo_db.path, tmp_path / "cm.duckdb"))
    _servers.append(server)
    try:
        page = new_page()
        code = demo_db.codes[3]
        util.login(page, server.base_url, "manager", path=f"customer?code={code}")
        page.wait_for_url(re.compile(rf"/customer\?code={code}$"))
        page.get_by_role("tab", name=t("cf.tab.details", "zh")).wait_for()
        util.wait_idle(page)
        assert code in body_text(page)
    finally:
        server.stop()
