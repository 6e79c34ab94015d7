"""No grid edit is lost (issue 6 §4), proven in Chromium: twenty edits in a row on
different rows and columns — typed at a scanner's speed on a selected cell or in the
opened editor (run once with the two mixed, once with every edit typed on the cell),
some made while the rerun the last edit started is still running, some right after the
page was opened again from the sidebar — then one save: all twenty are in the database,
each applied once.

The grid helpers (tests/browser/util.py) edit like a person does: point at a cell and
click it, walk with the arrow keys, Enter opens the editor. No step is tried twice.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from lib.core.i18n import t
from tests.browser import util
from tests.browser.util import (click_name_cell, commit_text, grid_cell_text, open_cell_editor, search_for, select_cell,
                                type_on_selected_cell, wait_idle)

COLUMNS = ("address", "email", "name", "contact_title")


@dataclass(frozen=True)
class Edit:
    row: int
    column: str
    how: str  # "enter": Enter opens the editor, then type; "type": type on the selected cell
    # "idle": the app is idle; "busy": right after the last edit, whose rerun is on its way;
    # "reopen": right after opening the page again from the sidebar
    when: str

    def value(self, i: int) -> str:
        """The text typed. Typed on a selected cell, it is what a scanner or a fast
        typist sends: ASCII keys (Chinese comes through an input method, not keys)."""
        if self.column == "email":
            return f"grid{i}@example.com"
        if self.how == "type":
            return {"address": f"No. {i} Test Road", "name": f"Grid Test {i} Ltd",
                    "contact_title": f"Buyer {i}"}[self.column]
        return {"address": f"思明区测试路{i}号", "name": f"网格测试客户{i}有限公司",
                "contact_title": f"采购主管{i}"}[self.column]


def plan(typing: str) -> list[Edit]:
    """Twenty edits, one per row (rows 0–19 of the first page), the columns and the
    moments mixed; `typing` "mixed" mixes the ways of typing, "scanner" types every
    edit on the selected cell (the way that lost whole edits). No edit is on the row
    below the last one: Enter moves the grid's selection down a row, and a click on the
    selected cell opens its editor (the grid's "second click"), which is not what the
    helpers expect."""
    whens = ["idle", "busy", "busy", "reopen", "busy"]
    return [Edit(row=(i * 7) % 20, column=COLUMNS[i % len(COLUMNS)],
                 how="type" if typing == "scanner" or i % 3 == 1 else "enter",
                 when=whens[i % len(whens)]) for i in range(20)]


@pytest.fixture
def own_server(demo_db, tmp_path):
    """A server on its own copy of the demo data; the test stops it to read the file."""
    server = util.start_server("grid", util.copy_db(demo_db.path, tmp_path / "app.duckdb"))
    yield server
    server.stop()


def stored(path, codes: list[str]) -> dict[str, dict]:
    from lib.core.db import Database

    db = Database(path)
    try:
        with db.read() as cur:
            rows = cur.execute(
                "SELECT c.id, c.code, c.name, c.email, c.address, c.version,"
                " (SELECT p.title FROM contacts p WHERE p.customer_id = c.id AND p.is_primary AND NOT p.deleted)"
                " AS contact_title,"
                " (SELECT count(*) FROM audit_log a WHERE a.customer_id = c.id) AS audits"
                " FROM customers c WHERE c.code = ANY(?)", [codes]).fetchall()
            cols = [d[0] for d in cur.description]
    finally:
        db.close()
    return {r[1]: dict(zip(cols, r)) for r in rows}


# Counts the grid inputs (pointer presses, keys) that the browser took while a script run
# was in progress: the moments this test is about.
WATCH_RERUNS = """() => {
  window.__inputsDuringRun = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  const count = (e) => {
    if (e.target.closest && e.target.closest('[data-testid="stDataFrame"]')
        && app.getAttribute('data-test-script-state') === 'running') window.__inputsDuringRun++;
  };
  document.addEventListener('pointerdown', count, true);
  document.addEventListener('keydown', count, true);
}"""


def open_customers(page) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.customers", "zh"), exact=True).click()


@pytest.mark.parametrize("typing", ["mixed", "scanner"])
def test_twenty_edits_in_a_row_are_all_saved_once(own_server, new_page, demo_db, tmp_path, typing):
    page = new_page(height=1600)
    util.login(page, own_server.base_url, "manager", path="customers")
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(page)
    codes = [grid_cell_text(page, "code", r) for r in range(20)]
    assert len(set(codes)) == 20, codes
    before = stored(util.copy_db(demo_db.path, tmp_path / "before.duckdb"), codes)  # the server's start

    page.evaluate(WATCH_RERUNS)
    edits = plan(typing)
    for i, e in enumerate(edits):
        if e.when == "idle":
            wait_idle(page)
        elif e.when == "reopen":
            open_customers(page)
        select_cell(page, e.column, e.row)
        if e.how == "enter":
            open_cell_editor(page)
            commit_text(page, e.value(i), "Enter")
        else:
            type_on_selected_cell(page, e.value(i))

    # The server has all twenty (on failure, the message shows how many it has).
    expect(page.locator(".st-key-cu_save button")).to_have_text(re.compile(re.escape(t("grid.save", "zh", n=20))),
                                                                timeout=30_000)
    save = page.get_by_role("button", name=re.compile(re.escape(t("grid.save", "zh", n=20))))
    wait_idle(page)
    save.click()
    page.get_by_text(t("grid.saved_toast", "zh", ok=20)).first.wait_for()
    wait_idle(page)

    # How many of the inputs met a running script is up to the timing of the moment; it
    # is printed (seen: 9 to 16 of about 150 keys and clicks), not asserted.
    print("grid inputs during a script run:", page.evaluate("() => window.__inputsDuringRun"))
    own_server.stop()
    after = stored(own_server.db_path, codes)
    for i, e in enumerate(edits):
        row, old = after[codes[e.row]], before[codes[e.row]]
        assert row[e.column] == e.value(i), (i, e, row)
        assert row["version"] == old["version"] + 1, (i, e, old, row)  # applied once
        assert row["audits"] == old["audits"] + 1, (i, e, old, row)


def test_after_search_reopen_search_one_click_selects_and_the_keys_typed_next_land(
        own_server, new_page, demo_db, tmp_path):
    """The steps of issue 6 §4: search, open the customers page again from the sidebar
    while on it, search again, click a cell. That one click selects it (the helper
    clicks once and waits for the selection), and a number typed at a scanner's speed
    right after lands whole in the cell, first characters included."""
    page = new_page(height=1600)
    util.login(page, own_server.base_url, "manager", path="customers")
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(page)
    search_for(page, "公司")
    open_customers(page)
    wait_idle(page)
    search_for(page, "有限")
    code = grid_cell_text(page, "code", 2)
    before = stored(util.copy_db(demo_db.path, tmp_path / "before.duckdb"), [code])[code]

    click_name_cell(page, 2)
    util.walk_right(page, "name", "address", 2)
    typed = "0592-5555555 Scanner Road"
    type_on_selected_cell(page, typed)
    save = page.get_by_role("button", name=re.compile(re.escape(t("grid.save", "zh", n=1))))
    save.wait_for()
    wait_idle(page)
    save.click()
    page.get_by_text(t("grid.saved_toast", "zh", ok=1)).first.wait_for()
    wait_idle(page)

    own_server.stop()
    after = stored(own_server.db_path, [code])[code]
    assert after["address"] == typed, after
    assert after["version"] == before["version"] + 1, (before, after)


def test_pages_turn_in_one_run_and_an_edit_on_the_next_page_lands_on_its_customer(
        own_server, new_page, demo_db, tmp_path):
    # "Next" turns the page before the grid is drawn (pages/customers.py, _turn_page):
    # the editor, keyed as before, must show the new page's rows and put an edit made
    # there on the customer shown, not on the row of the page it left.
    page = new_page(height=1600)
    util.login(page, own_server.base_url, "manager", path="customers")
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(page)
    first = [grid_cell_text(page, "code", r) for r in range(3)]
    util.after_run(page, lambda: page.locator(".st-key-cu_next button").click())
    expect(page.get_by_text(re.compile(r"51[–-]100"))).to_be_visible()
    second = [grid_cell_text(page, "code", r) for r in range(3)]
    assert not set(first) & set(second), (first, second)
    before = stored(util.copy_db(demo_db.path, tmp_path / "before.duckdb"), first + second)

    select_cell(page, "address", 1)
    open_cell_editor(page)
    commit_text(page, "翻页后编辑路1号", "Enter")
    save = page.get_by_role("button", name=re.compile(re.escape(t("grid.save", "zh", n=1))))
    save.wait_for(timeout=30_000)
    wait_idle(page)
    save.click()
    page.get_by_text(t("grid.saved_toast", "zh", ok=1)).first.wait_for()
    wait_idle(page)
    util.after_run(page, lambda: page.locator(".st-key-cu_prev button").click())
    expect(page.get_by_text(re.compile(r"1[–-]50"))).to_be_visible()
    # the first page again, read afresh: newest first, so the customer just saved leads it
    assert [grid_cell_text(page, "code", r) for r in range(3)] == [second[1], *first[:2]]

    own_server.stop()
    after = stored(own_server.db_path, first + second)
    assert after[second[1]]["address"] == "翻页后编辑路1号"
    changed = [c for c in first + second if after[c]["version"] != before[c]["version"]]
    assert changed == [second[1]]
