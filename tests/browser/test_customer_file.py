"""The customer file in a real browser, as a user works with it (issue 7, "How it is
checked"): add a contact and make it primary; link two customers and see the link on
both pages in each one's words; a follow-up due today shows on the home page; restore
an earlier version from History; a care campaign over a filtered search.

The tests share this module's server (``fresh_server``); each works on customers no
other test here touches (``plain_customers``) and checks its own writes, so any one
of them runs alone too. What the server stored is read from a copy of its database
file taken once the page is idle (``stored``): the server holds the file's lock.
"""
from __future__ import annotations

import contextlib
import re
import shutil
from datetime import timedelta

import duckdb
import pytest
from playwright.sync_api import expect

from lib.core.clock import local_today
from lib.core.i18n import t
from tests.browser.util import fill_date, login, open_expander, wait_for_login_form, wait_idle

pytestmark = pytest.mark.browser


# -- data ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plain_customers(demo_db) -> list[dict]:
    """Company customers with exactly one contact (the primary), an address, no links,
    not tier A (the campaign's filter), read from the demo data every server starts from."""
    con = duckdb.connect(str(demo_db.path), read_only=True)
    try:
        cur = con.execute(
            "SELECT c.id, c.code, c.name, c.address, c.version FROM customers c"
            " WHERE NOT c.archived AND c.merged_into IS NULL AND coalesce(c.tier, '') <> 'A'"
            " AND c.address IS NOT NULL AND length(c.name) >= 8"
            " AND c.id NOT IN (SELECT from_customer FROM relationships UNION SELECT to_customer FROM relationships)"
            " AND (SELECT count(*) FROM contacts k WHERE k.customer_id = c.id AND NOT k.deleted) = 1"
            " AND (SELECT count(*) FROM contacts k WHERE k.customer_id = c.id AND NOT k.deleted AND k.is_primary) = 1"
            " ORDER BY c.id LIMIT 5")
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()
    assert len(rows) == 5, rows
    return rows


@contextlib.contextmanager
def stored(server, tmp_path):
    """A connection to a copy of the server's database file (and its WAL), taken now.
    Call it once the page is idle: the write's transaction has committed by then."""
    target = tmp_path / f"copy-{len(list(tmp_path.glob('copy-*')))}.duckdb"
    shutil.copyfile(server.db_path, target)
    wal = server.db_path.with_name(server.db_path.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    con = duckdb.connect(str(target))
    try:
        yield con
    finally:
        con.close()


# -- in the page --------------------------------------------------------------------------------
def open_customer(page, server, code: str) -> None:
    """Log in as the manager on the customer's URL and wait for its page."""
    page.goto(server.base_url)  # not the deep link as a fresh server's first request (test_first_visit)
    wait_for_login_form(page)
    login(page, server.base_url, "manager", path=f"customer?code={code}")
    page.get_by_role("tab", name=t("cf.tab.details", "zh")).wait_for()
    wait_idle(page)


def open_tab(page, name):
    page.get_by_role("tab", name=name).click()
    wait_idle(page)
    return visible_panel(page)


def visible_panel(page):
    return page.locator('[data-testid="stTabs"] [role="tabpanel"]:visible')


def choose(page, scope, label: re.Pattern, option: str) -> None:
    scope.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def toast(page, text: str) -> None:
    page.locator('[data-testid="stToast"]').filter(has_text=text).wait_for()
    wait_idle(page)


def card(panel, text: str, button: str):
    """The bordered card holding ``text`` and a button named ``button`` (the innermost block)."""
    return (panel.locator('[data-testid="stVerticalBlock"]').filter(has_text=text)
            .filter(has=panel.page.get_by_role("button", name=button)).last)


# -- the tests ----------------------------------------------------------------------------------
def test_add_a_contact_and_make_it_primary(fresh_server, page, plain_customers, tmp_path):
    customer = plain_customers[0]
    open_customer(page, fresh_server, customer["code"])
    panel = open_tab(page, re.compile("^" + t("cf.tab.contacts", "zh", n=1)))
    open_expander(panel, t("contact.add_title", "zh"))
    name = "浏览器测试联系人"
    panel.get_by_role("textbox", name=re.compile(r"^联系人 \*")).fill(name)
    panel.get_by_role("textbox", name=re.compile("^职务")).fill("采购经理")
    panel.get_by_role("button", name=t("contact.add", "zh"), exact=True).click()
    toast(page, t("contact.added_toast", "zh", name=name))

    panel = visible_panel(page)  # still the Contacts tab, now with two
    page.get_by_role("tab", name=t("cf.tab.contacts", "zh", n=2)).wait_for()
    mine = card(panel, name, t("contact.make_primary", "zh"))
    expect(mine).to_contain_text("采购经理")
    mine.get_by_role("button", name=t("contact.make_primary", "zh")).click()
    toast(page, t("contact.primary_toast", "zh", name=name))
    panel = visible_panel(page)
    # Primary first, with its badge; the old primary now has the "make primary" button.
    expect(panel.locator('[data-testid="stMarkdownContainer"] strong').first).to_have_text(name)
    expect(panel.get_by_role("button", name=t("contact.make_primary", "zh"))).to_have_count(1)
    expect(card(panel, name, t("contact.edit", "zh"))).to_contain_text(t("contact.is_primary", "zh"))

    with stored(fresh_server, tmp_path) as con:
        rows = con.execute("SELECT name, title, is_primary FROM contacts WHERE customer_id = ? AND NOT deleted"
                           " ORDER BY id", [customer["id"]]).fetchall()
    assert len(rows) == 2
    assert rows[1] == (name, "采购经理", True)
    assert rows[0][2] is False  # one primary


def test_link_two_customers_and_see_the_link_on_both(fresh_server, page, plain_customers, tmp_path):
    ours, other = plain_customers[1], plain_customers[2]
    open_customer(page, fresh_server, ours["code"])
    panel = open_tab(page, t("cf.tab.relationships", "zh"))
    open_expander(panel, t("cf.rel.add_title", "zh"))
    search = panel.get_by_role("textbox", name=t("cf.rel.search", "zh"))
    search.fill(other["name"][2:8])  # part of its name
    search.press("Enter")
    picker = panel.get_by_role("combobox", name=t("cf.rel.other_customer", "zh"))
    expect(picker).to_be_enabled()
    wait_idle(page)
    option = t("cf.rel.other", "zh", name=other["name"], code=other["code"])
    choose(page, panel, re.compile("^" + t("cf.rel.other_customer", "zh")), option)
    expect(picker).to_have_value(option)
    wait_idle(page)
    choose(page, panel, re.compile(r"^关系 \*"), "上游供应商")
    panel.get_by_role("button", name=t("cf.rel.link", "zh"), exact=True).click()
    toast(page, t("cf.rel.linked_toast", "zh", name=other["name"]))

    panel = visible_panel(page)
    link = panel.get_by_role("link", name=re.compile(re.escape(option)))
    expect(link).to_have_count(1)
    expect(card(panel, "上游供应商", t("cf.rel.unlink", "zh"))).to_contain_text(other["code"])

    link.click()  # the other customer's page, in the same session
    page.get_by_role("heading", name=other["name"]).wait_for()
    wait_idle(page)
    assert re.search(rf"/customer\?code={other['code']}$", page.url), page.url
    panel = open_tab(page, t("cf.tab.relationships", "zh"))
    back = t("cf.rel.other", "zh", name=ours["name"], code=ours["code"])
    expect(panel.get_by_role("link", name=re.compile(re.escape(back)))).to_have_count(1)
    theirs = card(panel, ours["code"], t("cf.rel.unlink", "zh"))
    expect(theirs).to_contain_text("下游客户")  # the inverse of "upstream supplier"
    expect(theirs).not_to_contain_text("上游供应商")

    with stored(fresh_server, tmp_path) as con:
        rows = con.execute("SELECT from_customer, to_customer, kind FROM relationships WHERE NOT deleted"
                           " AND ? IN (from_customer, to_customer)", [ours["id"]]).fetchall()
    assert rows == [(ours["id"], other["id"], "supplier")]


def test_a_followup_due_today_for_the_manager_shows_on_the_home_page(fresh_server, page, plain_customers):
    customer = plain_customers[3]
    open_customer(page, fresh_server, customer["code"])
    panel = open_tab(page, t("cf.tab.followups", "zh"))
    open_expander(panel, t("cf.fu.add_title", "zh"))
    choose(page, panel, re.compile("^类型"), "电话")
    summary = "浏览器测试：今天回电确认报价"
    panel.get_by_role("textbox", name=re.compile("^内容摘要")).fill(summary)
    fill_date(panel, "截止日期", local_today())
    choose(page, panel, re.compile("^负责跟进人"), "manager")
    panel.get_by_role("button", name=t("cf.fu.add", "zh"), exact=True).click()
    toast(page, t("cf.fu.added_toast", "zh"))
    expect(visible_panel(page)).to_contain_text(summary)

    page.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav.home", "zh"), exact=True).click()
    page.get_by_role("heading", name=t("nav.home", "zh")).wait_for()
    wait_idle(page)
    # A manager sees everyone's (demo data has overdue ones, listed first): only mine.
    page.get_by_text(t("home.only_mine", "zh"), exact=True).click()
    expect(page.locator('[data-testid="stCaptionContainer"]').filter(
        has_text=t("home.due_mine", "zh"))).to_have_count(1)
    wait_idle(page)
    due = visible_panel(page)
    row = card(due, summary, t("home.mark_done", "zh"))
    expect(row).to_contain_text(t("home.due_today", "zh"))
    expect(row.get_by_role("link", name=f"{customer['code']} {customer['name']}")).to_have_count(1)
    # Only the open tab's list is drawn: another tab's list arrives with the rerun its click asks for.
    recent = open_tab(page, t("home.tab_recent", "zh"))
    expect(recent.get_by_role("link", name=f"{customer['code']} {customer['name']}")).to_have_count(1)
    expect(page.locator("button").filter(has_text=t("home.mark_done", "zh"))).to_have_count(0)  # hidden ones too


def test_restore_an_earlier_version_from_history(fresh_server, page, plain_customers, tmp_path):
    customer = plain_customers[4]
    open_customer(page, fresh_server, customer["code"])
    address = page.get_by_role("textbox", name=re.compile("^地址"))
    expect(address).to_have_value(customer["address"])
    new_address = "浏览器测试路 1 号"
    address.fill(new_address)
    page.get_by_role("button", name=t("cf.save", "zh")).click()
    toast(page, t("cf.saved_toast", "zh", code=customer["code"]))
    expect(address).to_have_value(new_address)

    panel = open_tab(page, t("cf.tab.history", "zh"))
    restore = panel.get_by_role("button", name=t("cf.hist.restore", "zh"))
    expect(restore).to_have_count(2)  # my change (newest first) and the customer's creation
    mine = card(panel, new_address, t("cf.hist.restore", "zh"))
    expect(mine).to_contain_text(customer["address"])  # from what, to what
    restore.nth(1).click()
    toast(page, t("cf.hist.restored_toast", "zh", code=customer["code"]))
    expect(visible_panel(page).get_by_role("button", name=t("cf.hist.restore", "zh"))).to_have_count(3)

    open_tab(page, t("cf.tab.details", "zh"))
    expect(page.get_by_role("textbox", name=re.compile("^地址"))).to_have_value(customer["address"])

    with stored(fresh_server, tmp_path) as con:
        address_now, version = con.execute("SELECT address, version FROM customers WHERE id = ?",
                                           [customer["id"]]).fetchone()
        updates = con.execute("SELECT count(*) FROM audit_log WHERE entity = 'customer' AND entity_id = ?"
                              " AND action = 'update'", [customer["id"]]).fetchone()[0]
    assert address_now == customer["address"]
    assert version == customer["version"] + 2  # the save, then the restore
    assert updates == 2


def test_a_care_campaign_over_the_tier_a_customers(fresh_server, page, demo_db, tmp_path):
    page.goto(fresh_server.base_url)
    wait_for_login_form(page)
    login(page, fresh_server.base_url, "manager", path="customers")
    page.get_by_role("heading", name=t("nav.customers", "zh")).wait_for()
    wait_idle(page)

    con = duckdb.connect(str(demo_db.path), read_only=True)
    try:
        expected = {r[0]: r[1] for r in con.execute(
            "SELECT id, owner FROM customers WHERE tier = 'A' AND NOT archived AND merged_into IS NULL").fetchall()}
    finally:
        con.close()
    assert 1 < len(expected) < 50

    open_expander(page.locator("body"), t("filters.title", "zh"))
    choose(page, page.locator("body"), re.compile("^客户等级"), "战略客户")
    page.get_by_text(t("customers.count", "zh", total=len(expected), first=1, last=len(expected))).wait_for()
    # the panel the choice was made in is still open (its title does not change)
    expect(page.get_by_role("combobox", name=re.compile("^客户等级"))).to_be_visible()
    wait_idle(page)

    open_expander(page.locator("body"), t("campaign.title", "zh"))
    panel = page.locator('[data-testid="stExpander"]').filter(has_text=t("campaign.title", "zh"))
    expect(panel).to_contain_text(t("campaign.reach", "zh", n=len(expected)))
    wait_idle(page)
    label = "浏览器测试 春季问候"
    panel.get_by_role("textbox", name=re.compile("^关怀活动名称")).fill(label)
    panel.get_by_role("textbox", name=re.compile("^内容摘要")).fill("春季问候电话")
    due = local_today() + timedelta(days=14)  # not due today: the home page test stays alone there
    fill_date(panel, "截止日期", due)
    panel.get_by_role("button", name=t("campaign.run", "zh")).click()
    done = t("campaign.done", "zh", label=label, n=len(expected))
    expect(panel.locator('[data-testid="stAlert"]').filter(has_text=done)).to_have_count(1)
    wait_idle(page)

    with stored(fresh_server, tmp_path) as con:
        rows = con.execute("SELECT customer_id, assignee, kind, due_on, summary FROM follow_ups"
                           " WHERE campaign = ? AND NOT deleted", [label]).fetchall()
    assert {r[0]: r[1] for r in rows} == expected  # each matching customer once, for its owner
    assert len(rows) == len(expected)
    assert {(r[2], r[3], r[4]) for r in rows} == {("care", due, "春季问候电话")}
