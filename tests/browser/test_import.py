"""Import in a real browser: upload a GBK file with errors, read the dry run's problems,
upload the corrected file, import it, and find the customers on the customers page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lib.core.i18n import t
from tests.browser import util

HEADER = "客户名称,公司电话,联系人,手机,行业,客户等级\r\n"
GOOD_ROWS = ("浏览器导入甲贸易有限公司,0592-5123456,陈静,13906001234,批发和零售业,A\r\n"
             "浏览器导入乙科技有限公司,010-62345678,王磊,13801012345,J,B\r\n")
BAD_ROW = "浏览器导入丙有限公司,abc,,,不存在的行业,C\r\n"


@pytest.fixture
def own_server(demo_db, tmp_path):
    server = util.start_server("import", util.copy_db(demo_db.path, tmp_path / "app.duckdb"))
    yield server
    server.stop()


def upload(page, tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("gbk"))
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    util.wait_idle(page)


def test_a_gbk_file_with_errors_is_fixed_imported_and_found(page, own_server, tmp_path):
    util.login(page, own_server.base_url, "manager")
    page.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.import_customers", "zh"), exact=True).click()
    page.get_by_role("heading", name=t("nav.import_customers", "zh")).wait_for()
    util.wait_idle(page)

    upload(page, tmp_path, "客户-有错.csv", HEADER + GOOD_ROWS + BAD_ROW)
    page.get_by_role("button", name=t("import.dry_run", "zh")).click()
    util.wait_idle(page)
    problems = page.locator('[data-testid="stDataFrame"]').first
    expect(problems).to_be_visible()
    expect(page.get_by_text(t("import.fix_first", "zh", failing=1))).to_be_visible()
    expect(page.get_by_role("button", name=t("import.run", "zh", rows=3))).to_have_count(0)
    # The problems can be downloaded as a file for the person fixing the sheet.
    with page.expect_download() as download:
        page.get_by_role("button", name=t("import.download_problems", "zh")).click()
    report = download.value.path().read_bytes().decode("utf-8-sig")
    assert "abc" in report and "不存在的行业" in report and report.count("\n") == 3  # heading + 2 problems

    upload(page, tmp_path, "客户-已更正.csv", HEADER + GOOD_ROWS)
    page.get_by_role("button", name=t("import.dry_run", "zh")).click()
    util.wait_idle(page)
    expect(page.get_by_text(t("import.ready", "zh"))).to_be_visible()
    page.get_by_role("button", name=t("import.run", "zh", rows=2)).click()
    util.wait_idle(page)
    expect(page.get_by_text(t("import.done", "zh", new=2, updated=0, unchanged=0))).to_be_visible()

    page.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.customers", "zh"), exact=True).click()
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    util.wait_idle(page)
    util.search_for(page, "浏览器导入")
    page.get_by_text(t("customers.count", "zh", total=2, first=1, last=2)).wait_for()
    names = {util.grid_cell_text(page, "name", row) for row in (0, 1)}
    assert names == {"浏览器导入甲贸易有限公司", "浏览器导入乙科技有限公司"}
