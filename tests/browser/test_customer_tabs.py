"""The customer page's Follow-ups and Files tabs in a real browser: open a customer by
its URL, add a follow-up due today, upload a PDF and download the same bytes."""
from __future__ import annotations

import re

import pytest

from lib.core.clock import local_today
from lib.core.i18n import t
from tests.browser.util import body_text, fill_date, login, open_expander, shot, wait_for_login_form, wait_idle

pytestmark = pytest.mark.browser

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n% browser upload\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def open_tab(page, key: str):
    page.get_by_role("tab", name=t(key, "zh")).click()
    wait_idle(page)
    return page.locator('[data-testid="stTabs"] [role="tabpanel"]:visible')


def test_add_a_followup_due_today_upload_a_pdf_and_download_the_same_bytes(streamlit_server, page, demo_db,
                                                                           tmp_path):
    # Not the server's first request (see test_gate: that one loses the code).
    page.goto(streamlit_server.base_url)
    wait_for_login_form(page)
    code = demo_db.codes[1]
    login(page, streamlit_server.base_url, "manager", path=f"customer?code={code}")
    assert re.search(rf"/customer\?code={code}$", page.url), page.url

    # a follow-up due today
    panel = open_tab(page, "cf.tab.followups")
    open_expander(panel, t("cf.fu.add_title", "zh"))
    panel.get_by_role("combobox", name=re.compile("^类型")).click()
    page.get_by_role("option", name="电话", exact=True).click()
    summary = "浏览器测试：电话确认交货期"
    panel.get_by_role("textbox", name=re.compile("^内容摘要")).fill(summary)
    day = local_today()
    today = day.isoformat()
    fill_date(panel, "截止日期", day)
    panel.get_by_role("button", name=t("cf.fu.add", "zh"), exact=True).click()
    page.get_by_text(t("cf.fu.added_toast", "zh")).wait_for()
    wait_idle(page)
    panel = page.locator('[data-testid="stTabs"] [role="tabpanel"]:visible')
    # still on the Follow-ups tab (the page keeps the chosen tab across the write's rerun)
    panel.get_by_text(summary).first.wait_for()
    panel.get_by_text(f"截止日期: {today}").first.wait_for()  # the new card's details

    # a PDF up and down
    panel = open_tab(page, "cf.tab.files")
    open_expander(panel, t("cf.file.add_title", "zh"))
    panel.locator('input[type="file"]').set_input_files(
        files=[{"name": "browser-contract.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    panel.get_by_text("browser-contract.pdf").first.wait_for()
    wait_idle(page)
    panel.get_by_role("button", name=t("cf.file.upload", "zh"), exact=True).click()
    page.get_by_text(t("cf.file.added_toast", "zh", name="browser-contract.pdf")).wait_for()
    wait_idle(page)
    panel = page.locator('[data-testid="stTabs"] [role="tabpanel"]:visible')
    with page.expect_download() as download:
        # newest first: the file just uploaded is the first one
        panel.locator('[data-testid="stDownloadButton"] button').first.click()
    assert download.value.suggested_filename == "browser-contract.pdf"
    target = tmp_path / "downloaded.pdf"
    download.value.save_as(target)
    assert target.read_bytes() == PDF
    assert code in body_text(page)
    shot(page, "customer-files-tab")
