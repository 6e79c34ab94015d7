"""The home page in a real browser: the manager lands on it after login, and a logged-in
user who opens a page's URL gets that page — no "page not found" dialog (which
/customers showed while it was the default page: Streamlit serves the default page at
"/" and no longer knows it by its own name; ui.nav.logged_in_pages)."""
from __future__ import annotations

import re

from lib.core.i18n import t
from tests.browser.util import PAGE_URLS, body_text, login, shot, wait_idle


def test_login_lands_on_today_and_every_other_page_url_opens_without_a_dialog(streamlit_server, page):
    login(page, streamlit_server.base_url, "admin")  # the role that may open every page
    page.get_by_role("heading", name=t("nav.home", "zh")).wait_for()
    wait_idle(page)
    shot(page, "home-admin-zh")
    # /home too: the landing page is also registered under its name. The customer page
    # opens with a code (tests/browser/test_gate.py); without one it points to the search.
    for path in PAGE_URLS:
        other = page.context.new_page()  # a new session, logged in by the cookie
        other.goto(f"{streamlit_server.base_url}/{path}")
        if path == "customer":
            other.get_by_text(t("cf.no_code", "zh")).wait_for()
        else:
            other.get_by_role("heading", name=t(f"nav.{path}", "zh")).wait_for()
        wait_idle(other)
        assert re.search(rf"/{path}/?$", other.url), other.url
        assert other.get_by_role("dialog").count() == 0, body_text(other)
        other.close()


def test_the_home_page_has_the_browser_fetch_the_charts_script_before_analytics_is_opened(streamlit_server, page):
    # The analytics page's first view in a browser waited for Plotly's script (~4.6 MB):
    # the home page has the browser import it once it is idle (ui/prefetch.py).
    login(page, streamlit_server.base_url, "manager")
    page.wait_for_function("performance.getEntriesByType('resource')"
                           ".some(e => e.name.includes('/static/js/PlotlyChart.'))", timeout=20_000)
    before = page.evaluate("performance.getEntriesByType('resource').length")
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name=t("nav.analytics", "zh")).click()
    page.get_by_role("heading", name=t("nav.analytics", "zh")).wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    fetched = page.evaluate("(n) => performance.getEntriesByType('resource').slice(n).map(e => e.name)", before)
    assert not [f for f in fetched if "/static/js/PlotlyChart." in f]  # not fetched a second time
