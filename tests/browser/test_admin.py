"""Administration in real browsers (issue 10): an administrator creates a salesperson,
who logs in with the password shown once, must first choose their own, then sees only
a salesperson's pages; the administrator deactivates them, and their open session goes
to the login page at its next action."""
from __future__ import annotations

from lib.core.i18n import t
from tests.browser.util import after_run, login, login_form, open_expander, shot, wait_for_login_form, wait_idle

NEW_PASSWORD = "zhang-wei-own-2026"


def sidebar_pages(page) -> str:
    return page.locator('[data-testid="stSidebarNav"]').inner_text()


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox with widget key ``key``."""
    box = page.locator(f".st-key-{key}").get_by_role("combobox")
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option).first.click()
    wait_idle(page)


def test_admin_creates_a_salesperson_then_deactivates_them(fresh_server, new_page):
    admin = new_page()
    login(admin, fresh_server.base_url, "admin", path="admin")
    admin.get_by_role("heading", name=t("nav.admin", "zh")).wait_for()
    wait_idle(admin)

    # Create: the password is shown once.
    admin.locator(".st-key-ad_new_user0_username input").fill("zhang.wei")
    admin.locator(".st-key-ad_new_user0_name input").fill("张伟")
    choose(admin, "ad_new_user0_role", "销售")
    after_run(admin, admin.get_by_role("button", name=t("admin.create", "zh")).click)
    admin.get_by_text(t("admin.created", "zh", username="zhang.wei")).wait_for()
    password = admin.locator('[data-testid="stCode"]').inner_text().strip()
    assert len(password) == 14, password
    shot(admin, "admin-1-user-created")

    # The salesperson logs in elsewhere: first their own password, then their pages.
    sales = new_page()
    sales.goto(f"{fresh_server.base_url}/")
    form = wait_for_login_form(sales)
    form.locator('input[type="text"]').fill("zhang.wei")
    form.locator('input[type="password"]').fill(password)
    form.locator('[data-testid="stFormSubmitButton"] button').click()
    sales.get_by_text(t("account.must_change", "zh")).wait_for()
    wait_idle(sales)
    assert sales.locator('[data-testid="stSidebarNav"]').count() == 0  # one page only: no menu
    shot(sales, "admin-2-must-change-password")
    for label, value in (("account.current_password", password), ("account.new_password", NEW_PASSWORD),
                         ("account.repeat_password", NEW_PASSWORD)):
        sales.get_by_role("textbox", name=t(label, "zh"), exact=True).fill(value)
    sales.get_by_role("button", name=t("account.submit", "zh")).click()
    sales.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.customers", "zh"), exact=True).wait_for()
    wait_idle(sales)
    pages = sidebar_pages(sales)
    assert t("nav.new_customer", "zh") in pages and t("nav.admin", "zh") not in pages
    assert t("nav.import_customers", "zh") not in pages  # a salesperson's pages only
    sales.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.customers", "zh"), exact=True).click()
    sales.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(sales)
    shot(sales, "admin-3-salesperson-pages")

    # Deactivated: the open session goes to the login page at its next action.
    choose(admin, "ad_manage_user", "zhang.wei")
    after_run(admin, admin.get_by_role("button", name=t("admin.deactivate", "zh"), exact=True).click)
    admin.get_by_text(t("admin.deactivated", "zh", username="zhang.wei")).wait_for()
    sales.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.home", "zh"), exact=True).click()
    login_form(sales).wait_for(state="visible")
    shot(sales, "admin-4-deactivated-session-ends")


def test_backup_download_a_change_and_restore(fresh_server, new_page, tmp_path):
    import re

    import duckdb

    from tests.browser.util import search_for

    def admin_tab(label_key: str) -> None:
        page.get_by_role("tab", name=t(label_key, "zh")).click()

    def nav(key: str) -> None:
        page.locator('[data-testid="stSidebarNav"]').get_by_text(t(key, "zh"), exact=True).click()
        page.get_by_role("heading", name=t(key, "zh")).wait_for()
        wait_idle(page)

    page = new_page(height=1000)
    login(page, fresh_server.base_url, "admin", path="admin")
    page.get_by_role("heading", name=t("nav.admin", "zh")).wait_for()
    wait_idle(page)
    admin_tab("admin.tab_backups")
    after_run(page, page.get_by_role("button", name=t("admin.backup_now", "zh")).click)
    made = page.get_by_text(re.compile(r"已备份为 backup-")).inner_text()
    name = re.search(r"backup-[\d-]+\.duckdb", made).group(0)
    customers = int(re.search(r"（[\d.,]+ MB，([\d,]+) 个客户）", made).group(1).replace(",", ""))

    # Downloaded, it is that backup: a database with the customers it said.
    with page.expect_download() as download:
        page.get_by_role("link", name=t("admin.backup_download", "zh")).first.click()
    saved = tmp_path / "downloaded.duckdb"
    download.value.save_as(saved)
    assert download.value.suggested_filename == name
    with duckdb.connect(str(saved), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == customers

    # A change after the backup ...
    nav("nav.new_customer")
    page.get_by_role("textbox", name="客户名称 *").fill("备份之后新建有限公司")
    page.locator('[data-testid="stFormSubmitButton"] button').filter(has_text=t("new.save", "zh")).first.click()
    page.locator('[data-testid="stAlertContentSuccess"]').wait_for()
    wait_idle(page)

    # ... is gone once the backup is restored.
    nav("nav.admin")
    admin_tab("admin.tab_backups")
    choose(page, "ad_restore_name_0", name)
    page.get_by_text(t("admin.restore_confirm", "zh")).click()
    wait_idle(page)
    after_run(page, page.get_by_role("button", name=t("admin.restore", "zh"), exact=True).click)
    page.get_by_text(re.compile("已从 " + re.escape(name) + " 恢复")).wait_for(timeout=60_000)
    shot(page, "admin-5-restored")
    assert not page.get_by_role("checkbox", name=t("admin.restore_confirm", "zh")).is_checked()
    nav("nav.customers")
    search_for(page, "备份之后新建")
    page.get_by_text(t("customers.no_match", "zh")).wait_for()


def test_admin_adds_a_choice_field_a_salesperson_enters_filters_and_counts_it(fresh_server, new_page):
    """A custom field (字段自定义) reaches every channel with no restart: the admin adds a
    single choice field; a salesperson already logged in enters a customer with it, finds
    the customer by its filter, and analytics counts it."""
    import re

    from playwright.sync_api import expect

    sales = new_page(height=1000)
    login(sales, fresh_server.base_url, "sales", path="new_customer")  # open before the field exists
    sales.get_by_role("heading", name=t("nav.new_customer", "zh")).wait_for()
    assert sales.get_by_role("combobox", name="来源渠道").count() == 0

    admin = new_page(height=1000)
    login(admin, fresh_server.base_url, "admin", path="admin")
    admin.get_by_role("heading", name=t("nav.admin", "zh")).wait_for()
    wait_idle(admin)
    admin.get_by_role("tab", name=t("fields.tab", "zh")).click()
    admin.locator(".st-key-af_add0_key input").fill("channel")
    admin.locator(".st-key-af_add0_label_zh input").fill("来源渠道")
    admin.locator(".st-key-af_add0_label_en input").fill("Channel")
    choose(admin, "af_add0_kind", t("fields.kind.choice", "zh"))
    admin.locator(".st-key-af_add0_filter label").click()
    admin.locator(".st-key-af_add0_dimension label").click()
    admin.locator(".st-key-af_add0_choices textarea").fill("展会 / Trade fair\n网络 / Web")
    after_run(admin, admin.locator(".st-key-af_save_add button").click)
    admin.get_by_text(t("fields.done_add", "zh", field="来源渠道")).wait_for()
    # The add form is empty again in the browser, the roles back at their defaults.
    expect(admin.locator(".st-key-af_add1_key input")).to_have_value("")
    expect(admin.locator(".st-key-af_add1_choices textarea")).to_have_value("")
    expect(admin.locator(".st-key-af_add1_edit_roles")).to_contain_text("销售")
    shot(admin, "admin-5-custom-field-added")

    # The salesperson's next run has it.
    after_run(sales, lambda: sales.locator('[data-testid="stSidebarNav"]').get_by_text(
        t("nav.new_customer", "zh"), exact=True).click())
    sales.get_by_role("textbox", name="客户名称 *").fill("渠道浏览器测试有限公司")
    channel = sales.get_by_role("combobox", name="来源渠道")
    channel.click()
    channel.fill("网络")  # as choose() does: typing narrows the list to the option
    sales.get_by_role("option", name="网络", exact=True).click()
    sales.locator('[data-testid="stFormSubmitButton"] button').filter(has_text=t("new.save", "zh")).first.click()
    sales.locator('[data-testid="stAlertContentSuccess"]').wait_for()
    wait_idle(sales)
    shot(sales, "admin-6-custom-field-entered")

    sales.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.customers", "zh"), exact=True).click()
    sales.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(sales)
    open_expander(sales.locator("body"), t("filters.title", "zh"))
    sales.get_by_role("combobox", name=re.compile("^来源渠道")).click()
    sales.get_by_role("option", name="网络", exact=True).click()
    sales.get_by_text(t("customers.count", "zh", total=1, first=1, last=1)).wait_for()
    wait_idle(sales)
    shot(sales, "admin-7-custom-field-filter")

    sales.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.analytics", "zh"), exact=True).click()
    sales.get_by_role("heading", name=t("nav.analytics", "zh")).wait_for()
    wait_idle(sales)
    expect(sales.get_by_text(t("analytics.by_field", "zh", label="来源渠道"), exact=True)).to_have_count(1)
    shot(sales, "admin-8-custom-field-analytics")
