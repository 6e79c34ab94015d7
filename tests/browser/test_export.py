"""Export in a real browser: a salesperson searches the customers page, clicks "导出 Excel"
and "导出 CSV" (links to the download route: a new tab that turns into a download),
receives the files, and they hold exactly the customers of that search that are theirs
(read with openpyxl and csv)."""
from __future__ import annotations

import csv
import io

import openpyxl

from lib.core.i18n import t
from tests.browser.util import login, search_for, wait_idle


def expected_codes(db_path, username: str) -> tuple[str, set[str]]:
    """A search term that finds a few of ``username``'s demo customers (a name's first
    two characters, usually the city), and the codes the service finds for it."""
    from lib.accounts.users import actor_for
    from lib.core.db import Database
    from lib.customers.search import CustomerFilters, PageRequest, search

    db = Database(db_path)
    try:
        actor = actor_for(db, username)
        with db.read() as cur:
            names = [r[0] for r in cur.execute("SELECT name FROM customers WHERE owner = ? AND NOT archived"
                                               " ORDER BY id", [username]).fetchall()]
        for name in names:
            term = name[:2]
            found = search(db, actor, CustomerFilters(text=term), page=PageRequest(size=500))
            if 2 <= found.total <= 40:
                return term, {r["code"] for r in found.rows}
    finally:
        db.close()
    raise AssertionError("no search term finds a few customers")


def download(page, label: str):
    """Click the export link ``label``: it opens a tab whose answer is a download, which
    Chromium reports on the page the link was on."""
    with page.expect_download() as started:
        page.get_by_role("link", name=label).click()
    return started.value


def test_sales_exports_the_searched_customers(streamlit_server, demo_db, page, tmp_path):
    term, codes = expected_codes(demo_db.path, "sales")
    login(page, streamlit_server.base_url, "sales", path="customers")
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    search_for(page, term)
    page.get_by_text(t("customers.count", "zh", total=len(codes), first=1, last=len(codes))).wait_for()
    wait_idle(page)

    target = tmp_path / "export.xlsx"
    xlsx_download = download(page, t("export.xlsx", "zh"))
    xlsx_download.save_as(target)
    assert xlsx_download.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(target).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("客户编号", "客户名称")
    assert {r[0] for r in rows[1:]} == codes and len(rows) - 1 == len(codes)
    owner = rows[0].index("负责人")
    assert {r[owner] for r in rows[1:]} == {"sales"}

    data = (tmp_path / "export.csv")
    download(page, t("export.csv", "zh")).save_as(data)
    text = data.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    got = list(csv.reader(io.StringIO(text.decode("utf-8-sig"), newline="")))
    assert {r[0] for r in got[1:]} == codes
