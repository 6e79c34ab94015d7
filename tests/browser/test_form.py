"""The entry form in a real browser: an over-long paste shows the limit, not "required".

The paste is a real one: the text goes on the browser's clipboard (``navigator.clipboard``,
with the clipboard permissions granted to the context) and Ctrl+V pastes it into the
focused name field, so the browser's and the front end's own paste handling runs, as for
a user. (``keyboard.insert_text`` would skip the clipboard and the paste event.) With a
``max_chars`` on the input, the front end dropped the whole paste: the field stayed
empty and the save said "required".
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lib.core.i18n import t
from tests.browser import util

PASTED = "名" * 5000


@pytest.fixture
def own_server(demo_db, tmp_path):
    """A server on its own copy of the demo data, stopped by the test to count rows
    (the server holds the file's lock while it runs)."""
    server = util.start_server("form", util.copy_db(demo_db.path, tmp_path / "app.duckdb"))
    yield server
    server.stop()


def field_block(page, key: str):
    """The container holding widget ``key`` and, right below it, its messages."""
    return page.locator(f'[data-testid="stVerticalBlock"]:has(> .st-key-{key})')


def test_an_over_long_paste_shows_the_limit_and_is_kept(browser, own_server, demo_db):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    context.set_default_timeout(30_000)
    try:
        page = util.watch_runs(context.new_page())
        util.login(page, own_server.base_url, "manager")
        page.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.new_customer", "zh"), exact=True).click()
        page.get_by_role("heading", name=t("nav.new_customer", "zh")).wait_for()
        util.wait_idle(page)

        name = page.locator(".st-key-nc_name input")
        page.evaluate("text => navigator.clipboard.writeText(text)", PASTED)
        name.click()
        page.keyboard.press("ControlOrMeta+V")
        expect(name).to_have_value(PASTED)  # the browser kept the whole paste
        page.locator('[data-testid="stFormSubmitButton"] button').filter(
            has_text=t("new.save", "zh")).first.click()

        block = field_block(page, "nc_name")
        limit = t("validation.too_long", "zh", max=200, length=5000)
        expect(block.locator('[data-testid="stAlert"] [data-testid="stMarkdownContainer"]')).to_have_text([limit])
        util.wait_idle(page)
        expect(block.locator('[data-testid="stAlert"] [data-testid="stMarkdownContainer"]')).to_have_text([limit])  # not "required"
        expect(name).to_have_value(PASTED)
    finally:
        context.close()

    own_server.stop()  # let go of the file, then count what is in it
    from lib.core.db import Database

    db = Database(own_server.db_path)
    try:
        with db.read() as cur:
            names = [r[0] for r in cur.execute("SELECT name FROM customers").fetchall()]
    finally:
        db.close()
    assert sorted(names) == sorted(demo_db.names)
