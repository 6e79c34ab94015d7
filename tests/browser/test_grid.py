"""No lost input in the customers grid, in a real browser.

An edit typed while a save runs is kept. Keys typed at a scanner's speed into a
selected cell, or into an open cell editor, all reach it (ui/grid_keys.js).

Streamlit 1.67's grid (streamlit/static/static/js/DataFrame.*.js) ignores a click that
arrives in the same frame as the pointer's first move onto the grid after the pointer
was elsewhere (the sidebar, the search box): the helpers move the pointer onto the grid
first, as a hand does.
"""
from __future__ import annotations

import re

from lib.core.i18n import t
from tests.browser.util import (click_name_cell, grid_cell_text, grid_selected, login,
                                open_cell_editor, select_cell, type_into_cell, wait_idle, wait_next_run_started,
                                watch_next_run)

def nav_to_customers(page) -> None:
    """Open the customers page again from the sidebar (while on it)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.customers", "zh"), exact=True).click()
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(page)


def search_for(page, text: str) -> None:
    """Search for ``text`` and wait for the result (the same text again runs nothing)."""
    box = page.get_by_role("textbox", name=t("search.label", "zh"))
    new = box.input_value() != text
    if new:
        watch_next_run(page)
    box.fill(text)
    box.press("Enter")
    if new:
        wait_next_run_started(page)
    wait_idle(page)


def save_button(page, n: int):
    return page.get_by_role("button", name=re.compile(re.escape(t("grid.save", "zh", n=n))))


def test_an_edit_typed_while_a_save_runs_is_kept(streamlit_server, new_page):
    page = new_page(height=1000)
    login(page, streamlit_server.base_url, "manager")
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(page)
    search_for(page, "广州")
    second = grid_cell_text(page, "code", 1)
    type_into_cell(page, "notes", 0, "保存前的修改")
    save = save_button(page, 1)
    save.wait_for()
    wait_idle(page)
    watch_next_run(page)
    save.click()
    wait_next_run_started(page)
    type_into_cell(page, "notes", 1, "保存时的修改")  # typed while the save runs
    page.get_by_text(t("grid.saved_toast", "zh", ok=1)).first.wait_for()
    save.wait_for()  # the edit typed meanwhile is still there to save
    wait_idle(page)
    save.click()
    page.get_by_text(t("grid.saved_toast", "zh", ok=1)).first.wait_for()
    wait_idle(page)

    search_for(page, second)  # read back from the database
    select_cell(page, "notes", 0)
    assert grid_cell_text(page, "notes", 0) == "保存时的修改"


def test_first_click_from_a_moving_pointer_after_reopening_selects_the_cell(streamlit_server, new_page):
    page = new_page(height=1000)
    login(page, streamlit_server.base_url, "manager")
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(page)
    search_for(page, "北京")
    nav_to_customers(page)
    search_for(page, "北京")
    click_name_cell(page, 1)  # waits for the selection: one click
    assert grid_selected(page, "name", 1).count() == 1


def test_typing_fast_into_a_selected_cell_keeps_every_character(streamlit_server, new_page):
    page = new_page(height=1000)
    login(page, streamlit_server.base_url, "manager")
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(page)
    for row in range(3):  # the first editor of a page opens slowest (its code loads then)
        select_cell(page, "phone", row)
        page.keyboard.type("0592-5555555", delay=0)  # a barcode scanner
        page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'TEXTAREA'")
        page.wait_for_function("t => document.activeElement.value === t", arg="0592-5555555", timeout=5_000)
        page.keyboard.press("Escape")
        wait_idle(page)


def test_typing_fast_into_an_open_cell_editor_keeps_every_character(streamlit_server, new_page):
    page = new_page(height=1000)
    login(page, streamlit_server.base_url, "manager")
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(page)
    select_cell(page, "phone", 2)
    open_cell_editor(page)  # Enter first, then the scanner
    page.keyboard.press("Control+A")
    page.keyboard.type("0592-5555555", delay=0)
    assert page.evaluate("() => document.activeElement.value") == "0592-5555555"
    page.keyboard.press("Escape")
