"""Page tests: the real app.py in AppTest, a seeded logged-in session per role.

Entry form (validation keeps input, save with code, USCC confirmation, duplicates),
customers grid (search by pinyin initials, save through the editor's edit state,
refusals with reasons, invalid rows kept, version conflicts, archive, paging) and
analytics (KPIs, charts, CSV, shared filters), in both languages.
"""
from __future__ import annotations

import json

import pytest

from lib.customers import fields as F
from lib.customers import customer as cs
from lib.customers.search import CustomerFilters, search
from tests.apptest_util import make_app, nav_paths, open_filters, open_page
from ui import widgets as W

XMBANK = "厦门银行股份有限公司"


def unescape(text: str) -> str:
    """Alert bodies are Markdown with user text escaped; compare the text a user reads."""
    return text.replace("\\", "")


def open_as(db_path, username: str, page: str, lang: str = "zh"):
    at = make_app(db_path, username, lang=lang)
    open_page(at, page).run()
    assert not at.exception, at.exception
    return at


def block_holding(at, key: str):
    """The innermost container whose direct children include the widget ``key``."""

    def walk(block):
        for child in block.children.values():
            if getattr(child, "key", None) == key:
                return block
            if hasattr(child, "children"):
                found = walk(child)
                if found is not None:
                    return found
        return None

    found = walk(at.main)
    assert found is not None, f"no widget {key}"
    return found


def fill(at, **values):
    for name, value in values.items():
        widget = at.text_input(key=f"nc_{name}") if name != "notes" else at.text_area(key="nc_notes")
        widget.input(value)
    return at


def editor(at):
    assert len(at.data_editor) == 1
    return at.data_editor[0]


def edit_grid(at, edited_rows: dict, *, click: str | None = "cu_save"):
    """Seed the editor's edit state (positions in the shown page), run, then click."""
    key = at.session_state["cu_view"].editor_key
    at.session_state[key] = {"edited_rows": edited_rows, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    if click:
        at.button(key=click).click().run()
        assert not at.exception, at.exception
    return at


def row_position(at, code: str) -> int:
    codes = list(editor(at).value["code"])
    return codes.index(code)


# -- entry form ------------------------------------------------------------------------------
def test_form_errors_show_next_to_their_field_and_input_stays(db, db_path):
    at = open_as(db_path, "manager", "new_customer")
    fill(at, name=XMBANK, email="not-an-email", phone="电话号码", address="厦门市思明区")
    at.button(key="nc_save").click().run()
    assert not at.exception
    email_errors = [unescape(e.value) for e in block_holding(at, "nc_email").error]
    assert email_errors == ["邮箱格式不正确：not-an-email"]
    phone_errors = [unescape(e.value) for e in block_holding(at, "nc_phone").error]
    assert phone_errors == ["无法识别的电话号码：电话号码"]
    assert at.text_input(key="nc_name").value == XMBANK
    assert at.text_input(key="nc_email").value == "not-an-email"
    assert at.text_input(key="nc_address").value == "厦门市思明区"
    assert search(db, db.actor("manager", "manager"), CustomerFilters(text="xmyh")).total == 0


def test_form_errors_in_english(db, db_path):
    at = open_as(db_path, "manager", "new_customer", lang="en")
    fill(at, email="nope")
    at.button(key="nc_save").click().run()
    assert [unescape(e.value) for e in block_holding(at, "nc_name").error] == ["Required."]
    assert [unescape(e.value) for e in block_holding(at, "nc_email").error] == ["Not a valid email address: nope"]


@pytest.mark.parametrize("lang, message", [
    ("en", "At most 200 characters (this has 5000)."), ("zh", "最多 200 个字符（当前 5000 个）。")])
def test_an_over_long_paste_shows_the_limit_and_is_kept(db, db_path, lang, message):
    # AppTest's input() drops a value longer than the widget's max_chars, as the browser
    # drops the whole paste: the user then saw "required".
    at = open_as(db_path, "manager", "new_customer", lang=lang)
    pasted = "名" * 5000
    fill(at, name=pasted, notes="备" * 2001)
    at.button(key="nc_save").click().run()
    assert not at.exception
    assert [unescape(e.value) for e in block_holding(at, "nc_name").error] == [message]
    assert len(block_holding(at, "nc_notes").error) == 1
    assert at.text_input(key="nc_name").value == pasted
    assert search(db, db.actor("manager", "manager"), CustomerFilters()).total == 0


def test_valid_entry_creates_customer_with_code(db, db_path):
    at = open_as(db_path, "sales", "new_customer")
    fill(at, name=XMBANK, phone="0592-5555555")
    at.selectbox(key="nc_industry").select("J")
    at.button(key="nc_save").click().run()
    assert not at.exception
    rows, total = search(db, db.actor("sales", "sales"), CustomerFilters(text="xmyh"))
    assert total == 1
    rec = rows[0]
    assert rec["code"].startswith("C") and rec["industry"] == "J" and rec["owner"] == "sales"
    assert rec["phone"] == "0592-5555555"
    shown = "\n".join(s.value for s in at.success)
    assert rec["code"] in shown
    assert [t.value for t in at.toast] == [f"已保存客户 {rec['code']}"]
    links = [link for link in at.get("page_link")]
    assert any(link.proto.page == "customer" and f"code={rec['code']}" in link.proto.query_string for link in links)
    # "Enter another customer" gives an empty form
    at.button(key="nc_enter_another").click().run()
    assert at.text_input(key="nc_name").value == ""


def test_save_and_enter_another_clears_the_form(db, db_path):
    at = open_as(db_path, "manager", "new_customer", lang="en")
    fill(at, name="Acme Trading Ltd", phone="13800138000")
    at.button(key="nc_save_new").click().run()
    assert not at.exception
    assert at.text_input(key="nc_name").value == ""
    assert "saved with code" in " ".join(s.value for s in at.success)


def test_uscc_checksum_asks_for_confirmation(db, db_path):
    at = open_as(db_path, "manager", "new_customer")
    fill(at, name="厦门某某贸易有限公司", uscc="91350203M0001QAY9B")
    at.button(key="nc_save").click().run()
    box = block_holding(at, "nc_uscc")
    assert any("校验位不符" in w.value for w in box.warning)
    confirm = at.checkbox[0]
    # Saving again without ticking the box does not save.
    at.button(key="nc_save").click().run()
    assert search(db, db.actor("manager", "manager"), CustomerFilters(text="91350203M0001QAY9B")).total == 0
    at.checkbox[0].check()
    at.button(key="nc_save").click().run()
    assert not at.exception
    rows, total = search(db, db.actor("manager", "manager"), CustomerFilters(text="91350203M0001QAY9B"))
    assert total == 1 and rows[0]["uscc"] == "91350203M0001QAY9B"
    assert confirm.label == "我已核对，确认无误"


def test_duplicate_check_lists_match_with_code_and_owner(db, db_path, make_customer):
    existing = make_customer(actor="manager", name=XMBANK, owner="sales2")
    at = open_as(db_path, "sales", "new_customer")
    fill(at, name="厦门银行")
    at.button(key="nc_save").click().run()
    assert not at.exception
    panel = "\n".join(unescape(m.value) for m in at.markdown) + "\n".join(unescape(c.value) for c in at.caption)
    assert existing["code"] in panel and XMBANK in panel and "sales2" in panel
    # Someone else's customer: no link to open it, only who owns it.
    assert not any(existing["code"] in link.proto.query_string for link in at.get("page_link"))
    assert search(db, db.actor("sales", "sales"), CustomerFilters(text="厦门银行")).total == 0
    at.button(key="nc_save_anyway").click().run()
    assert not at.exception
    assert search(db, db.actor("sales", "sales"), CustomerFilters(text="厦门银行")).total == 1


def test_duplicate_of_own_customer_links_to_it(db, db_path, make_customer):
    existing = make_customer(actor="manager", name=XMBANK, phone="0592-5555555")
    at = open_as(db_path, "manager", "new_customer")
    fill(at, name="厦门国际银行", phone="0592 5555555")
    at.button(key="nc_save").click().run()
    links = [link.proto for link in at.get("page_link")]
    assert any(p.page == "customer" and f"code={existing['code']}" in p.query_string for p in links)


def test_sales_cannot_set_credit_limit_or_owner_in_form(db, db_path):
    at = open_as(db_path, "sales", "new_customer")
    assert at.text_input(key="nc_credit_limit").disabled
    assert at.selectbox(key="nc_owner").disabled
    assert at.selectbox(key="nc_owner").value == "sales"
    at = open_as(db_path, "manager", "new_customer")
    assert not at.text_input(key="nc_credit_limit").disabled


def test_viewer_has_no_entry_page(db, db_path):
    at = open_as(db_path, "viewer", "new_customer")
    assert "new_customer" not in nav_paths(at)
    assert "nc_name" not in [w.key for w in at.text_input]


# -- customers grid ------------------------------------------------------------------------------
@pytest.fixture
def three(make_customer):
    """Three customers: two of the manager's, one of sales."""
    return [
        make_customer(actor="manager", name=XMBANK, tier="B", credit_limit="100000"),
        make_customer(actor="manager", name="重庆长安汽车股份有限公司", tier="C"),
        make_customer(actor="manager", name="北京测试科技有限公司", owner="sales", tier="D"),
    ]


def test_search_finds_by_pinyin_initials(db, db_path, three):
    at = open_as(db_path, "manager", "customers")
    assert len(editor(at).value) == 3
    at.text_input(key="flt_text").input("xmyh").run()
    assert list(editor(at).value["name"]) == [XMBANK]
    assert "共 1 位客户" in " ".join(c.value for c in at.caption)


def test_grid_is_indexed_by_customer_id_and_shows_labels(db, db_path, three):
    at = open_as(db_path, "manager", "customers")
    df = editor(at).value
    assert sorted(df.index) == sorted(r["id"] for r in three)
    config = json.loads(editor(at).proto.columns)
    tier_options = {o["value"]: o["label"] for o in config["tier"]["type_config"]["options"]}
    assert tier_options["A"] == "战略客户"


def test_grid_save_commits_a_valid_change(db, db_path, three, actors):
    at = open_as(db_path, "manager", "customers")
    pos = row_position(at, three[0]["code"])
    edit_grid(at, {pos: {"tier": "A"}})
    assert cs.get_customer(db, actors["manager"], three[0]["id"])["tier"] == "A"
    assert [t.value for t in at.toast] == ["已保存 1 行"]
    df = editor(at).value
    assert df.loc[three[0]["id"], "tier"] == "A" and df.loc[three[0]["id"], "_state"] == "✅"


def test_grid_sends_only_changed_rows(db, db_path, three, actors):
    at = open_as(db_path, "manager", "customers")
    pos = row_position(at, three[1]["code"])
    other = row_position(at, three[0]["code"])
    edit_grid(at, {pos: {"notes": "月结 30 天"}, other: {"tier": "B"}})  # tier B == stored: no change
    assert cs.get_customer(db, actors["manager"], three[1]["id"])["notes"] == "月结 30 天"
    assert cs.get_customer(db, actors["manager"], three[0]["id"])["version"] == 1


def test_viewer_grid_is_locked_and_a_forced_edit_is_refused(db, db_path, three, actors):
    at = open_as(db_path, "viewer", "customers")
    assert editor(at).proto.disabled
    assert "cu_save" not in [b.key for b in at.button]
    assert "cu_archive" not in [b.key for b in at.button]
    edit_grid(at, {0: {"tier": "A"}})  # a tampered browser
    cid = int(editor(at).value.index[0])
    assert cs.get_customer(db, actors["manager"], cid)["version"] == 1
    assert any("您没有权限执行此操作" in unescape(e.value) for e in at.error)


def test_sales_edit_of_credit_limit_is_refused_with_reason(db, db_path, three, actors):
    at = open_as(db_path, "sales", "customers")
    assert list(editor(at).value["code"]) == [three[2]["code"]]  # sees only own customers
    config = json.loads(editor(at).proto.columns)
    assert config["credit_limit"]["disabled"] is True and config["credit_limit"]["label"].startswith("🔒")
    assert config["tier"]["disabled"] is False
    edit_grid(at, {0: {"credit_limit": 999999.0}})
    assert cs.get_customer(db, actors["manager"], three[2]["id"])["credit_limit"] is None
    assert any("您没有权限修改“信用额度”" in unescape(e.value) for e in at.error)


def test_invalid_row_keeps_its_edit_and_good_rows_commit(db, db_path, three, actors):
    at = open_as(db_path, "manager", "customers", lang="en")
    bad, good = row_position(at, three[0]["code"]), row_position(at, three[1]["code"])
    edit_grid(at, {bad: {"email": "broken@", "tier": "A"}, good: {"tier": "A"}})
    assert cs.get_customer(db, actors["manager"], three[1]["id"])["tier"] == "A"
    assert cs.get_customer(db, actors["manager"], three[0]["id"])["tier"] == "B"
    df = editor(at).value
    row = df.loc[three[0]["id"]]
    assert row["email"] == "broken@" and row["tier"] == "A" and row["_state"] == "⚠️"
    assert "Company email: Not a valid email address: broken@" in row["_problem"]
    assert any("Not a valid email address" in unescape(e.value) for e in at.error)
    assert [t.value for t in at.toast] == ["Saved 1; 1 not saved — see below the table"]
    # Fix only the email: the kept tier edit goes with it.
    edit_grid(at, {row_position(at, three[0]["code"]): {"email": "ok@example.com"}})
    rec = cs.get_customer(db, actors["manager"], three[0]["id"])
    assert rec["email"] == "ok@example.com" and rec["tier"] == "A"


def test_version_conflict_shows_the_other_persons_values(db, db_path, three, actors):
    at = open_as(db_path, "manager", "customers")
    target = three[0]
    cs.update_customer(db, actors["admin"], target["id"], {"tier": "D", "notes": "admin 改过"}, 1)
    edit_grid(at, {row_position(at, target["code"]): {"tier": "A"}})
    assert cs.get_customer(db, actors["manager"], target["id"])["tier"] == "D"
    warning = " ".join(unescape(w.value) for w in at.warning)
    assert "admin" in warning and "您的更改未保存" in warning
    table = [d for d in at.dataframe if d.editing_mode == "read_only"][0].value
    shown = table.to_string()
    assert "潜在客户" in shown and "战略客户" in shown and "admin 改过" in shown
    # Keep mine: the edit now applies to the current version.
    at.button(key=f"cu_mine_{target['id']}").click().run()
    at.button(key="cu_save").click().run()
    rec = cs.get_customer(db, actors["manager"], target["id"])
    assert rec["tier"] == "A" and rec["notes"] == "admin 改过"


def test_conflict_take_theirs_drops_my_edit(db, db_path, three, actors):
    at = open_as(db_path, "manager", "customers")
    target = three[1]
    cs.update_customer(db, actors["admin"], target["id"], {"tier": "A"}, 1)
    edit_grid(at, {row_position(at, target["code"]): {"tier": "B"}})
    at.button(key=f"cu_theirs_{target['id']}").click().run()
    assert editor(at).value.loc[target["id"], "tier"] == "A"
    assert "cu_save" in [b.key for b in at.button] and at.button(key="cu_save").disabled


def test_archive_and_restore_selected_rows(db, db_path, three, actors):
    at = open_as(db_path, "manager", "customers")
    pos = row_position(at, three[1]["code"])
    edit_grid(at, {pos: {"_select": True}}, click="cu_archive")
    assert cs.get_customer(db, actors["manager"], three[1]["id"])["archived"] is True
    assert three[1]["code"] not in list(editor(at).value["code"])
    open_filters(at, "customers")
    at.radio(key="flt_archived").set_value("archived").run()
    assert list(editor(at).value["code"]) == [three[1]["code"]]
    edit_grid(at, {0: {"_select": True}}, click="cu_restore")
    assert cs.get_customer(db, actors["manager"], three[1]["id"])["archived"] is False


def save_label(at) -> str:
    return at.button(key="cu_save").label


def test_unsaved_edits_survive_a_new_search_and_are_saved_with_the_others(db, db_path, three, actors):
    at = open_as(db_path, "manager", "customers")
    edit_grid(at, {row_position(at, three[0]["code"]): {"notes": "先改的"}}, click=None)
    at.text_input(key="flt_text").input("重庆").run()  # three[0] is no longer shown
    assert list(editor(at).value["code"]) == [three[1]["code"]]
    assert save_label(at) == "保存修改（1 行）"
    edit_grid(at, {0: {"notes": "后改的"}})
    assert cs.get_customer(db, actors["manager"], three[0]["id"])["notes"] == "先改的"
    assert cs.get_customer(db, actors["manager"], three[1]["id"])["notes"] == "后改的"
    assert save_label(at) == "保存修改（0 行）"


def test_a_save_keeps_the_editor_so_an_edit_sent_meanwhile_is_kept(db, db_path, three, actors):
    at = open_as(db_path, "manager", "customers")
    key = at.session_state["cu_view"].editor_key
    first, second = row_position(at, three[0]["code"]), row_position(at, three[1]["code"])
    edit_grid(at, {first: {"notes": "  月结 30 天  "}})  # stored stripped
    assert at.session_state["cu_view"].editor_key == key
    assert cs.get_customer(db, actors["manager"], three[0]["id"])["notes"] == "月结 30 天"
    # The browser's editor still holds the saved cell, now with one more edit typed
    # while the save ran: only that one is a change.
    edit_grid(at, {first: {"notes": "  月结 30 天  "}, second: {"tier": "A"}}, click=None)
    assert save_label(at) == "保存修改（1 行）"
    at.button(key="cu_save").click().run()
    assert cs.get_customer(db, actors["manager"], three[1]["id"])["tier"] == "A"
    assert cs.get_customer(db, actors["manager"], three[0]["id"])["version"] == 2


def test_dropping_one_rows_edit_keeps_the_editors_other_edits(db, db_path, three, actors):
    at = open_as(db_path, "manager", "customers")
    target = three[1]
    cs.update_customer(db, actors["admin"], target["id"], {"tier": "A"}, 1)
    edit_grid(at, {row_position(at, target["code"]): {"tier": "B"}})  # a conflict
    other = row_position(at, three[2]["code"])
    edit_grid(at, {row_position(at, target["code"]): {"tier": "B"}, other: {"notes": "别丢"}}, click=None)
    key = at.session_state["cu_view"].editor_key
    at.button(key=f"cu_theirs_{target['id']}").click().run()
    assert at.session_state["cu_view"].editor_key != key  # the editor forgets the dropped row
    df = editor(at).value
    assert df.loc[target["id"], "tier"] == "A" and df.loc[three[2]["id"], "notes"] == "别丢"
    at.button(key="cu_save").click().run()
    assert cs.get_customer(db, actors["manager"], three[2]["id"])["notes"] == "别丢"
    assert cs.get_customer(db, actors["manager"], target["id"])["tier"] == "A"


def test_paging_with_next_and_previous(db, db_path, make_customer):
    for i in range(53):
        make_customer(actor="manager", name=f"分页测试{i:02d}有限公司")
    at = open_as(db_path, "manager", "customers", lang="en")
    assert len(editor(at).value) == 50
    first_page = list(editor(at).value.index)
    at.button(key="cu_next").click().run()
    assert len(editor(at).value) == 3
    assert "53 customers · showing 51–53" in " ".join(c.value for c in at.caption)
    assert at.button(key="cu_next").disabled
    at.button(key="cu_prev").click().run()
    assert list(editor(at).value.index) == first_page
    at.selectbox(key="flt_page_size").select(100).run()
    assert len(editor(at).value) == 53


def test_a_page_turn_draws_the_grid_once(db, db_path, make_customer, monkeypatch):
    # The click on "next" turns the page before the grid is drawn: one run draws the new
    # page, instead of a run drawing the page it leaves and a rerun drawing the next.
    from ui import grid as G

    for i in range(53):
        make_customer(actor="manager", name=f"翻页测试{i:02d}有限公司")
    at = open_as(db_path, "manager", "customers", lang="en")
    first_page = list(editor(at).value.index)
    drawn = []
    build_frame = G.build_frame
    monkeypatch.setattr(G, "build_frame", lambda view, *a, **kw: drawn.append(list(view.ids)) or build_frame(view, *a, **kw))
    at.button(key="cu_next").click().run()
    assert len(drawn) == 1 and len(drawn[0]) == 3 and len(editor(at).value) == 3
    at.button(key="cu_prev").click().run()
    assert len(drawn) == 2 and drawn[1] == first_page == list(editor(at).value.index)


def test_empty_state_tells_what_to_do(db, db_path):
    at = open_as(db_path, "manager", "customers")
    assert any("还没有客户" in i.value for i in at.info)
    assert any(link.proto.page == "new_customer" for link in at.get("page_link"))
    at = open_as(db_path, "viewer", "customers", lang="en")
    assert not any(link.proto.page == "new_customer" for link in at.get("page_link"))


def test_link_with_code_opens_a_search(db, db_path, three):
    at = make_app(db_path, "manager")
    at.query_params["q"] = three[1]["code"]
    open_page(at, "customers").run()
    assert at.text_input(key="flt_text").value == three[1]["code"]
    assert list(editor(at).value["code"]) == [three[1]["code"]]


# -- analytics -------------------------------------------------------------------------------
def test_analytics_kpis_charts_and_downloads(db, db_path, three):
    at = open_as(db_path, "manager", "analytics", lang="en")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "3" and metrics["Active"] == "3" and metrics["New this month"] == "3"
    assert metrics["Total credit limit"] == "¥100,000"
    # One chart per dimension field, industry x tier, and per month.
    charts = len(F.dimension_fields()) + 2
    assert len(at.get("plotly_chart")) == charts
    downloads = at.get("download_button")
    assert len(downloads) == charts


def test_analytics_uses_the_filters_of_the_customers_page(db, db_path, three):
    at = open_as(db_path, "manager", "customers")
    open_filters(at, "customers")
    at.multiselect(key="flt_tier").select("B").run()
    assert len(editor(at).value) == 1
    open_page(at, "analytics").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["客户总数"] == "1"
    # a page opened with a filter set opens its panel by itself
    assert at.multiselect(key="flt_tier").value == ["B"]


def test_the_filter_panel_draws_its_inputs_only_while_open_and_stays_open_while_used(db, db_path, three):
    # Closed, the panel draws no input (they were a third of the page's elements). Its
    # title stays the same whatever the filters, so the panel the user is choosing in
    # stays open, also when the last filter is taken off: with the count in its title,
    # a panel drawn only while open would become a new one, closed, whenever the count
    # changed.
    at = open_as(db_path, "manager", "customers")
    panel = W.FILTER_PANEL + "customers"
    assert at.expander(key=panel).label == "筛选" and not at.multiselect
    assert not [c for c in at.caption if "筛选条件" in c.value]
    open_filters(at, "customers")
    at.multiselect(key="flt_tier").select("B").run()
    assert len(editor(at).value) == 1 and at.expander(key=panel).label == "筛选"
    at.multiselect(key="flt_tier").unselect("B").run()
    assert at.multiselect(key="flt_tier").value == [] and len(editor(at).value) == 3
    at.multiselect(key="flt_tier").select("B").run()
    # closed with a filter set: the filter still applies, and the count is said under it
    at.session_state[panel] = False
    at.run()
    assert not at.multiselect and len(editor(at).value) == 1
    assert "已设筛选条件：1 个" in [c.value for c in at.caption]


def test_sales_analytics_counts_only_own(db, db_path, three):
    at = open_as(db_path, "sales", "analytics")
    assert {m.label: m.value for m in at.metric}["客户总数"] == "1"


def test_analytics_counts_a_save_on_the_next_run(db, db_path, three, actors):
    # The aggregate is cached (issue 8): a save, by the viewer or anyone else, is counted
    # by the very next run, even in the session that has the page open.
    def tier_chart(at):
        [tiers] = [json.loads(c.proto.spec)["data"][0] for c in at.get("plotly_chart") if c.key == "an_chart_tier"]
        return dict(zip(tiers["x"], tiers["y"]))

    at = open_as(db_path, "sales", "analytics", lang="en")
    assert {m.label: m.value for m in at.metric}["Customers"] == "1"
    rec = cs.get_customer(db, actors["manager"], three[1]["id"])
    cs.update_customer(db, actors["manager"], rec["id"], {"owner": "sales"}, rec["version"])  # someone else's save
    at.run()
    assert {m.label: m.value for m in at.metric}["Customers"] == "2"
    mine = cs.get_customer(db, actors["sales"], three[2]["id"])
    cs.update_customer(db, actors["sales"], mine["id"], {"tier": "A"}, mine["version"])  # their own
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Customers"] == "2"
    labels = W.ref_labels(db, "tier", "en")
    assert tier_chart(at) == {labels["A"]: 1, labels["C"]: 1}


# -- language -------------------------------------------------------------------------------
def test_language_switch_changes_labels(db, db_path, three):
    at = open_as(db_path, "manager", "customers")
    assert at.title[0].value == "客户查询"
    assert json.loads(editor(at).proto.columns)["name"]["label"] == "客户名称 *"
    at.radio(key="cm_lang_switch").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Customers"
    assert json.loads(editor(at).proto.columns)["name"]["label"] == "Customer name *"
    assert json.loads(editor(at).proto.columns)["code"]["label"] == "Customer code"
    assert "Search" in [w.label for w in at.text_input]


def test_confirmed_warning_survives_the_duplicate_step(db, db_path, make_customer):
    make_customer(actor="manager", name=XMBANK)
    at = open_as(db_path, "manager", "new_customer")
    fill(at, name=XMBANK, uscc="91350203M0001QAY9B")
    at.button(key="nc_save").click().run()
    at.checkbox[0].check()
    at.button(key="nc_save").click().run()
    assert at.button(key="nc_save_anyway")  # the duplicates step
    assert at.checkbox[0].value
    at.button(key="nc_save_anyway").click().run()
    assert not at.exception
    assert search(db, db.actor("manager", "manager"), CustomerFilters(text="91350203M0001QAY9B")).total == 1


def test_changing_a_confirmed_value_asks_again(db, db_path):
    at = open_as(db_path, "manager", "new_customer")
    fill(at, name="某某公司", uscc="91350203M0001QAY9B")
    at.button(key="nc_save").click().run()
    at.checkbox[0].check()
    fill(at, uscc="91350203M0001QAY8B")  # another failing code: the tick was for the old one
    at.button(key="nc_save").click().run()
    assert any("91350203M0001QAY8B" in w.value for w in at.warning)
    assert at.checkbox[0].value is False
    assert search(db, db.actor("manager", "manager"), CustomerFilters(text="某某公司")).total == 0


def test_half_entered_customer_survives_a_look_at_the_customers_page(db, db_path, make_customer):
    existing = make_customer(actor="manager", name=XMBANK)
    at = open_as(db_path, "manager", "new_customer")
    fill(at, name=XMBANK, phone="0592-5555555")
    at.selectbox(key="nc_industry").select("J")
    at.button(key="nc_save").click().run()  # shows the possible duplicate, with a link to it
    at.query_params["code"] = existing["code"]  # following that link
    open_page(at, "customer").run()
    assert not at.exception
    assert at.title[0].value == XMBANK
    open_page(at, "new_customer").run()
    assert not at.exception
    assert at.text_input(key="nc_name").value == XMBANK
    assert at.selectbox(key="nc_industry").value == "J"


def test_next_user_in_the_same_browser_session_sees_none_of_the_last_ones_rows(db, db_path, three):
    at = open_as(db_path, "manager", "customers")
    assert len(editor(at).value) == 3
    at.session_state["username"] = "sales"  # manager logged out, sales logged in, same tab
    at.session_state["name"] = "sales"
    at.session_state["cm_lang_loaded_for"] = "sales"
    open_page(at, "customers").run()
    assert not at.exception
    assert list(editor(at).value["code"]) == [three[2]["code"]]


def test_a_new_warning_keeps_the_confirmed_one(db, db_path):
    at = open_as(db_path, "manager", "new_customer")
    fill(at, name="某某贸易有限公司", uscc="91350203M0001QAY9B")
    at.button(key="nc_save").click().run()
    at.checkbox[0].check()
    fill(at, phone="12012345678")  # parses, but is not a valid number: a second warning
    at.button(key="nc_save").click().run()
    assert len(at.checkbox) == 2 and at.checkbox[0].value and not at.checkbox[1].value
    at.checkbox[1].check()
    at.button(key="nc_save").click().run()
    assert not at.exception
    assert search(db, db.actor("manager", "manager"), CustomerFilters(text="某某贸易")).total == 1


def test_an_unsaved_grid_edit_survives_a_custom_field_being_added(db, db_path, three, actors):
    """A new column gives the editor another identity in Streamlit, and the new editor
    starts empty: the page folds the old one's edits into pending first."""
    from lib.customers import custom_fields

    at = open_as(db_path, "manager", "customers", lang="en")
    key = at.session_state["cu_view"].editor_key
    at.session_state[key] = {"edited_rows": {row_position(at, three[0]["code"]): {"tier": "A"}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    custom_fields.add_field(db, actors["admin"], key="channel", label_zh="来源渠道", label_en="Channel",
                            kind="choice", edit_roles=["admin"], choices=[("展会", "Fair")])
    at.run()
    assert not at.exception, at.exception
    assert "cf_channel" in editor(at).value.columns
    assert editor(at).value.loc[three[0]["id"]]["tier"] == "A"  # shown as pending
    at.button(key="cu_save").click().run()
    assert cs.get_customer(db, actors["manager"], three[0]["id"])["tier"] == "A"
