"""The duplicates page (pages/duplicates.py) in AppTest: groups with reasons and
confidence, the merge panel (survivor, per-field values, confirm), the survivor's link
after a merge, scoping for salespeople, and a merged code opening the survivor."""
from __future__ import annotations

from lib.core.i18n import t
from lib.customers import customer as cs
from tests.apptest_util import click, make_app, open_customer, open_page, run, texts


def open_duplicates(db_path, username, lang="zh"):
    return run(open_page(make_app(db_path, username, lang=lang), "duplicates"))


def test_a_manager_sees_groups_and_merges_one(db, db_path, actors, make_customer):
    a = make_customer(name="北京星河数据科技有限公司", notes="甲的备注")
    b = make_customer(name="星河数据科技（北京）股份有限公司", notes="乙的备注", email="info@xinghe.example")
    make_customer(name="毫不相干贸易有限公司")
    at = open_duplicates(db_path, "manager", lang="en")
    shown = texts(at)
    assert "2 customers · confidence 85%" in shown and "same name" in shown
    open_key = f"dp_open_{a['id']}_{b['id']}"
    click(at, open_key)
    assert at.radio(key="dp_m_survivor").value == a["id"]
    # the fields that differ are offered, each defaulting to the survivor's value
    assert at.radio(key="dp_m_keep_notes").value == a["id"]
    assert at.button(key="dp_m_merge").disabled  # not confirmed yet
    at.radio(key="dp_m_keep_email").set_value(b["id"])
    at.radio(key="dp_m_keep_notes").set_value(b["id"])
    at.checkbox(key="dp_m_confirm").check()
    run(at)
    click(at, "dp_m_merge")
    assert "Merged 1 customer(s) into " + a["code"] in texts(at)
    assert any(a["code"] in link.label for link in at.get("page_link"))
    kept = cs.get_customer(db, actors["manager"], a["id"])
    assert (kept["notes"], kept["email"]) == ("乙的备注", "info@xinghe.example")
    assert cs.get_customer_by_code(db, actors["manager"], b["code"])["id"] == a["id"]
    # the group is gone
    assert t("dp.none", "en") in texts(at)


def test_choosing_another_survivor_keeps_that_one(db, db_path, actors, make_customer):
    a = make_customer(name="苏州恒通机械有限公司")
    b = make_customer(name="恒通机械（苏州）有限公司")
    at = open_duplicates(db_path, "admin")
    click(at, f"dp_open_{a['id']}_{b['id']}")
    at.radio(key="dp_m_survivor").set_value(b["id"])
    at.checkbox(key="dp_m_confirm").check()
    run(at)
    click(at, "dp_m_merge")
    assert t("dp.merged", "zh", n=1, code=b["code"]) in texts(at)
    assert cs.get_customer_by_code(db, actors["manager"], a["code"])["id"] == b["id"]


def test_a_stale_group_is_refused_and_read_again(db, db_path, actors, make_customer):
    a = make_customer(name="宁波海天塑机有限公司")
    b = make_customer(name="海天塑机（宁波）有限公司")
    at = open_duplicates(db_path, "manager")
    click(at, f"dp_open_{a['id']}_{b['id']}")
    at.checkbox(key="dp_m_confirm").check()
    run(at)
    cs.update_customer(db, actors["admin"], b["id"], {"notes": "改过了"}, b["version"])
    click(at, "dp_m_merge")
    assert t("dp.stale", "zh") in texts(at)
    assert cs.get_customer(db, actors["manager"], b["id"])["notes"] == "改过了"  # not merged
    click(at, "dp_m_merge")  # read again: the second try goes through
    assert t("dp.merged", "zh", n=1, code=a["code"]) in texts(at)


def test_salespeople_see_their_own_groups_and_cannot_merge(db, db_path, make_customer):
    mine_a = make_customer(actor="sales", name="杭州远景照明有限公司")
    mine_b = make_customer(actor="sales", name="远景照明（杭州）有限公司")
    theirs = make_customer(actor="sales2", name="杭州远景照明股份有限公司")
    at = open_duplicates(db_path, "sales")
    shown = texts(at)
    assert t("dp.own_only", "zh") in shown
    labels = " ".join(link.label for link in at.get("page_link")).replace("\\", "")  # Markdown-escaped
    assert mine_a["code"] in labels and mine_b["code"] in labels and theirs["code"] not in labels
    assert not [b for b in at.button if (b.key or "").startswith("dp_open_")]


def test_no_groups_says_so(db, db_path, make_customer):
    make_customer(name="独一无二有限公司")
    at = open_duplicates(db_path, "manager", lang="en")
    assert t("dp.none", "en") in texts(at)


def test_a_merged_code_opens_the_survivor(db, db_path, actors, make_customer):
    from lib.customers.merge import merge_customers

    a = make_customer(name="合并后保留有限公司")
    b = make_customer(name="合并后归档有限公司")
    merge_customers(db, actors["manager"], a["id"], a["version"], {b["id"]: b["version"]})
    at = open_customer(db_path, "manager", b["code"], lang="en")
    assert at.query_params["code"] in (a["code"], [a["code"]])  # the address names the survivor
    shown = texts(at).replace("\\", "")  # Markdown-escaped
    assert t("cf.merged_here", "en", old=b["code"], code=a["code"]) in shown
    assert a["name"] in shown


# -- the warning after an edit ---------------------------------------------------------------------
def test_a_detail_edit_that_looks_like_another_customer_warns_and_saves(db, db_path, actors, make_customer):
    other = make_customer(name="厦门鹭岛航运有限公司", phone="0592-5551234")
    rec = make_customer(name="另一家贸易有限公司")
    at = open_customer(db_path, "manager", rec["code"], lang="en")
    at.text_input(key=f"cf_{rec['id']}_f_phone").input("05925551234")
    click(at, f"cf_{rec['id']}_save")
    assert cs.get_customer(db, actors["manager"], rec["id"])["phone"] == "05925551234"  # saved, not blocked
    shown = texts(at).replace("\\", "")
    assert t("dupwarn.title", "en", code=rec["code"], n=1) in shown
    assert any(other["code"] in link.label.replace("\\", "") for link in at.get("page_link"))
    run(at)  # shown once
    assert t("dupwarn.title", "en", code=rec["code"], n=1) not in texts(at).replace("\\", "")


def test_a_grid_edit_that_looks_like_another_customer_warns_and_saves(db, db_path, actors, make_customer):
    other = make_customer(name="深圳华信达电子科技有限公司")
    rec = make_customer(name="无关的名字有限公司")
    at = open_page(make_app(db_path, "manager"), "customers")
    run(at)
    codes = list(at.data_editor[0].value["code"])
    key = at.session_state["cu_view"].editor_key
    at.session_state[key] = {"edited_rows": {codes.index(rec["code"]): {"name": "深圳华信达电子科技股份有限公司"}},
                             "added_rows": [], "deleted_rows": []}
    run(at)
    click(at, "cu_save")
    assert cs.get_customer(db, actors["manager"], rec["id"])["name"] == "深圳华信达电子科技股份有限公司"
    shown = texts(at).replace("\\", "")
    assert t("dupwarn.title", "zh", code=rec["code"], n=1) in shown and other["name"] in shown


def test_the_page_says_when_the_keys_are_being_prepared(db, db_path, make_customer, monkeypatch):
    from lib.customers import duplicates as D

    make_customer(name="北京青松环保有限公司")
    make_customer(name="青松环保（北京）有限公司")
    monkeypatch.setattr(D, "BACKGROUND_AFTER", 1)
    at = open_duplicates(db_path, "manager", lang="en")
    assert t("dp.preparing", "en", n=2) in texts(at)
    from ui.context import database

    database().service("duplicate_groups", D.GroupCache).wait()  # the page's own Database
    click(at, "dp_again")
    assert "2 个客户" not in texts(at) and "2 customers · confidence 85%" in texts(at)


def test_the_survivors_history_shows_the_merge_and_the_merged_customers_entries(db, db_path, actors, make_customer):
    from lib.customers.merge import merge_customers

    a = make_customer(name="历史保留有限公司")
    b = make_customer(name="历史并入有限公司")
    merge_customers(db, actors["manager"], a["id"], a["version"], {b["id"]: b["version"]})
    at = open_customer(db_path, "manager", a["code"], lang="en")
    shown = texts(at).replace("\\", "")
    assert t("cf.hist.action.merge", "en") in shown
    assert t("cf.hist.merged_entry", "en", code=b["code"]) in shown
    # "restore" only on the survivor's own entries: its creation, not the merged one's
    restores = [x.key for x in at.button if "restore_" in (x.key or "")]
    own_create = [e["id"] for e in cs.history(db, actors["manager"], a["id"])
                  if e["customer_id"] == a["id"] and e["action"] == "create"]
    assert restores == [f"cf_{a['id']}_restore_{i}" for i in own_create]
