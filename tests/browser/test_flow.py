"""The everyday flow in a real browser: enter a customer, find it by pinyin initials,
change it in the grid, see it in analytics; a viewer cannot save edits.

The grid helpers (tests/browser/util.py) read cells from the grid's accessibility
table and edit them like a person does: click a cell, walk with the arrow keys, Enter
opens the cell's editor.
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from lib.core.i18n import t
from tests.browser.util import (after_run, click_name_cell, commit_text, grid_cell_text, login, logout, open_cell_editor,
                                search_for, select_cell, shot, wait_idle)

XMBANK = "厦门银行股份有限公司"


def nav(page, key: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(t(key, "zh"), exact=True).click()
    page.get_by_role("heading", name=t(key, "zh")).wait_for()
    wait_idle(page)


def full_shot(page, name: str, height: int = 1800) -> None:
    """Streamlit scrolls inside the app, so a "full page" is the viewport: make it tall."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    wait_idle(page)
    shot(page, name)
    page.set_viewport_size(size)


cell = grid_cell_text


def edit_cell(page, name: str, edit, row: int = 0):
    """Select column ``name`` of ``row``, run ``edit()`` and return the save button once
    the server has the change (the button reads "保存修改（1 行）"). One try: an edit
    the grid loses is a bug."""
    save = page.get_by_role("button", name=re.compile(re.escape(t("grid.save", "zh", n=1))))
    select_cell(page, name, row)
    edit()
    save.wait_for()
    wait_idle(page)
    return save


def save_button(page):
    return page.get_by_role("button", name=re.compile(re.escape(t("grid.save", "zh", n=0)[:4])))


def test_manager_enters_finds_edits_and_counts_a_customer(streamlit_server, new_page):
    page = new_page(height=1000)
    login(page, streamlit_server.base_url, "manager")
    nav(page, "nav.new_customer")
    full_shot(page, "flow-1-new-customer")

    page.get_by_role("textbox", name="客户名称 *").fill(XMBANK)
    page.get_by_role("textbox", name="公司电话").fill("0592-5555555")
    page.get_by_role("combobox", name="行业").click()
    page.get_by_role("option", name="金融业").click()
    page.locator('[data-testid="stFormSubmitButton"] button').filter(has_text=t("new.save", "zh")).first.click()
    success = page.locator('[data-testid="stAlertContentSuccess"]')
    success.wait_for()
    wait_idle(page)
    code = re.search(r"C\d{4}-\d{6}", success.inner_text()).group(0)
    full_shot(page, "flow-2-new-customer-saved")

    # The link under the new code opens the customer's page.
    page.get_by_role("link", name=t("cf.open_saved", "zh", code=code)).click()
    page.get_by_role("heading", name=XMBANK).wait_for()
    wait_idle(page)
    assert re.search(rf"/customer\?code={code}$", page.url), page.url

    # Found again on the customers page by its code.
    nav(page, "nav.customers")
    search_for(page, code)
    page.get_by_text(t("customers.count", "zh", total=1, first=1, last=1)).wait_for()
    wait_idle(page)
    assert cell(page, "name", 0) == XMBANK

    # Find it again by the pinyin initials of 厦门银行 (other names may share them, e.g.
    # 厦门银和…; whole-name initials rank first, the newest first among equals).
    caption = page.get_by_text(re.compile(r"^共 [\d,]+ 位客户"))
    search_for(page, "")
    expect(caption).not_to_have_text(re.compile(r"^共 1 位"))
    everyone = caption.inner_text()
    search_for(page, "xmyh")
    expect(caption).not_to_have_text(everyone)
    assert cell(page, "name", 0) == XMBANK and cell(page, "code", 0) == code
    full_shot(page, "flow-3-customers-found")

    # Change its tier in the grid and save.
    def choose_tier():
        assert cell(page, "industry", 0) == "J"  # 金融业, stored as its code
        page.keyboard.press("Enter")
        page.get_by_role("option", name="战略客户").click()

    save = edit_cell(page, "tier", choose_tier)
    save.click()
    page.get_by_text(t("grid.saved_toast", "zh", ok=1)).first.wait_for()
    expect(page.locator('[data-testid="glide-cell-0-0"]')).to_have_text("✅")  # the new grid is up
    wait_idle(page)
    select_cell(page, "tier")
    assert cell(page, "tier", 0) == "A"
    # An invalid edit is refused with the reason, and stays on its row.
    edit_cell(page, "email", lambda: (open_cell_editor(page), commit_text(page, "broken@", "Enter"))).click()
    page.get_by_role("heading", name=t("grid.problems_title", "zh", n=1)).wait_for()
    wait_idle(page)
    assert "邮箱格式不正确：broken@" in page.locator('[data-testid="stAlertContentError"]').inner_text()
    full_shot(page, "flow-4a-customers-invalid-row")
    after_run(page, page.get_by_role("button", name=re.compile(t("grid.discard_row", "zh"))).click)

    search_for(page, code)  # read back from the database, not the editor
    page.get_by_text(t("customers.count", "zh", total=1, first=1, last=1)).wait_for()
    select_cell(page, "tier")
    assert cell(page, "tier", 0) == "A"
    full_shot(page, "flow-4-customers-saved")

    # Analytics applies the same search: exactly this customer, counted as strategic.
    nav(page, "nav.analytics")
    page.locator(".js-plotly-plot").first.wait_for()
    total = page.locator('[data-testid="stMetric"]').first.locator('[data-testid="stMetricValue"]')
    assert total.inner_text().strip() == "1"
    assert "战略客户" in page.locator(".js-plotly-plot").nth(1).inner_text()
    # A chart's data as a file, written when the button is clicked.
    with page.expect_download() as download:
        page.locator(".st-key-an_csv_tier button").click()
    tier_csv = download.value.path().read_bytes().decode("utf-8-sig")
    assert "战略客户,1\r\n" in tier_csv, tier_csv
    full_shot(page, "flow-5-analytics-one")
    search_for(page, "")
    expect(total).not_to_have_text("1")
    assert int(total.inner_text().replace(",", "")) > 1
    full_shot(page, "flow-6-analytics-all", height=2600)

    logout(page)


def test_viewer_cannot_save_edits(streamlit_server, new_page):
    page = new_page(height=1000)
    login(page, streamlit_server.base_url, "viewer", path="customers")
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(page)
    body = page.locator("body").inner_text()
    assert t("grid.read_only", "zh") in body
    assert save_button(page).count() == 0
    nav_text = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert t("nav.new_customer", "zh") not in nav_text

    before = cell(page, "name", 0)
    click_name_cell(page, editable=False)
    page.keyboard.press("Enter")  # a disabled grid opens no editor
    page.keyboard.type("篡改")
    page.keyboard.press("Enter")
    wait_idle(page)
    assert cell(page, "name", 0) == before
    assert save_button(page).count() == 0
    full_shot(page, "flow-7-viewer-customers")


def test_entry_form_explains_problems_in_english(streamlit_server, new_page, demo_db):
    page = new_page(locale="en-US", height=1000)
    login(page, streamlit_server.base_url, "sales")
    page.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.new_customer", "en"), exact=True).click()
    page.get_by_role("heading", name=t("nav.new_customer", "en")).wait_for()
    wait_idle(page)
    existing = demo_db.names[0]

    def save(label_key: str = "new.save") -> None:
        page.locator('[data-testid="stFormSubmitButton"] button').filter(
            has_text=re.compile(re.escape(t(label_key, "en")) + "$")).first.click()  # text follows the icon
        wait_idle(page)

    page.get_by_role("textbox", name="Customer name *").fill(existing)
    page.get_by_role("textbox", name="Company email").fill("not-an-email")
    page.get_by_role("textbox", name="Unified social credit code").fill("91350203M0001QAY9B")
    save()
    page.get_by_text("Not a valid email address: not-an-email").wait_for()
    assert page.get_by_role("textbox", name="Customer name *").input_value() == existing
    full_shot(page, "flow-8-form-errors-en")

    page.get_by_role("textbox", name="Company email").fill("info@example.com")
    save()
    page.get_by_text(t("form.confirm_warning", "en")).wait_for()
    full_shot(page, "flow-9-form-confirm-en")

    page.get_by_text(t("form.confirm_warning", "en")).click()
    save()
    page.get_by_text(t("dup.hint", "en")).wait_for()
    assert existing in page.locator('[data-testid="stForm"]').inner_text()
    full_shot(page, "flow-10-form-duplicates-en")

    save("dup.save_anyway")
    page.locator('[data-testid="stAlertContentSuccess"]').wait_for()
    assert "saved with code" in page.locator('[data-testid="stAlertContentSuccess"]').inner_text()
