"""The administration page's custom fields section (ui/admin_fields.py) in AppTest: an
administrator adds a field, it is on the entry form at once (no restart) and a customer
saved with it keeps the value; refusals in the user's language keep what was typed;
retiring takes the field off the form."""
from __future__ import annotations

import pytest

from lib.core.i18n import t
from lib.customers import custom_fields as cf
from lib.customers import customer as cs
from lib.customers.search import CustomerFilters, search
from tests.apptest_util import make_app, open_filters, open_page, run, texts
from ui.format import md_escape


def admin_fields(db_path, lang="zh"):
    return run(open_page(make_app(db_path, "admin", lang=lang), "admin"))


def fill_channel(at, key="channel"):
    at.text_input(key="af_add0_key").input(key)
    at.text_input(key="af_add0_label_zh").input("来源渠道")
    at.text_input(key="af_add0_label_en").input("Channel")
    at.selectbox(key="af_add0_kind").set_value("choice")
    at.checkbox(key="af_add0_filter").check()
    at.checkbox(key="af_add0_dimension").check()
    at.text_area(key="af_add0_choices").input("展会 / Trade fair\n网络 / Web\n\n转介绍 / Referral")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_added_field_is_on_the_entry_form_without_a_restart(db, db_path, actors, lang):
    at = admin_fields(db_path, lang)
    assert t("fields.none", lang) in texts(at)
    fill_channel(at)
    at.button(key="af_save_add").click()
    run(at)
    assert [e.value for e in at.error] == []
    label = "来源渠道" if lang == "zh" else "Channel"
    assert t("fields.done_add", lang, field=label) in texts(at)
    (field,) = cf.all_fields(db)
    assert (field.key, field.kind, field.filter, field.dimension) == ("channel", "choice", True, True)
    # The roles offered by default: those that may update customers.
    assert field.edit_roles == ("admin", "manager", "sales")
    assert [it["code"] for it in (db.invalidate("reference_lists") or db.reference_lists())["cf_channel"]] == [
        "1", "2", "3"]
    assert at.text_input(key="af_add1_key").value == ""  # the next round: the form is empty again

    form = run(open_page(make_app(db_path, "sales", lang=lang), "new_customer"))
    box = form.selectbox(key="nc_cf_channel")
    assert box.label == label and box.options == (["展会", "网络", "转介绍"] if lang == "zh"
                                                 else ["Trade fair", "Web", "Referral"])
    form.text_input(key="nc_name").input("渠道测试有限公司")
    box.set_value("2")
    form.button(key="nc_save").click()
    run(form)
    (found,) = search(db, actors["admin"], CustomerFilters(text="渠道测试")).rows
    assert found["cf_channel"] == "2"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_field_says_why_and_keeps_the_input(db, db_path, lang):
    at = admin_fields(db_path, lang)
    fill_channel(at, key="9 channel")
    at.text_input(key="af_add0_max_length").input("12")
    at.button(key="af_save_add").click()
    run(at)
    assert [e.value for e in at.error] == [
        md_escape(t("fields.col_key", lang) + ": " + t("custom_fields.bad_key", lang, value="9 channel")),
        md_escape(t("fields.col_max_length", lang) + ": " + t("custom_fields.no_max_length", lang))]
    assert at.text_input(key="af_add0_key").value == "9 channel"
    assert at.text_area(key="af_add0_choices").value.startswith("展会 / Trade fair")
    assert cf.all_fields(db) == []
    at.text_area(key="af_add0_choices").input("展会 / Trade / fair")
    at.text_input(key="af_add0_key").input("channel")
    at.text_input(key="af_add0_max_length").input("")
    at.button(key="af_save_add").click()
    run(at)
    assert [e.value for e in at.error] == [
        md_escape(t("fields.col_choices", lang) + ": " + t("custom_fields.bad_choice_line", lang, line=1))]


def test_the_inputs_hold_their_starting_values_themselves(db, db_path, actors):
    """A value put in the session state reaches the browser with one run only: an input
    the browser first drew in a later run (the 字段 tab opened after the login cookie's
    rerun) showed empty and sent empty. So the starting values are the elements' own."""
    cf.add_field(db, actors["admin"], key="wechat", label_zh="微信号", label_en="WeChat ID", kind="text",
                 max_length=40, edit_roles=["admin", "sales"], searchable=True)
    at = admin_fields(db_path, "en")
    roles = at.multiselect(key="af_add0_edit_roles")
    assert [roles.options[i] for i in roles.proto.default] == [
        roles.options[list(db.roles()).index(r)] for r in ("admin", "manager", "sales")]
    edit = "af_edit_wechat_1_"
    assert at.text_input(key=edit + "label_zh").proto.default == "微信号"
    assert at.text_input(key=edit + "max_length").proto.default == "40"
    chosen = at.multiselect(key=edit + "edit_roles")
    assert [list(db.roles())[i] for i in chosen.proto.default] == ["admin", "sales"]


def test_retire_change_and_bring_back_through_the_page(db, db_path, actors):
    cf.add_field(db, actors["admin"], key="wechat", label_zh="微信号", label_en="WeChat ID", kind="text",
                 edit_roles=["admin", "manager", "sales"], searchable=True)
    at = admin_fields(db_path, "en")
    assert at.selectbox(key="af_field").value == "wechat"
    at.text_input(key="af_edit_wechat_1_label_en").input("WeChat")
    at.text_input(key="af_edit_wechat_1_max_length").input("30")
    at.button(key="af_save_edit").click()
    run(at)
    (field,) = cf.all_fields(db)
    assert (field.label_en, field.max_length, field.version) == ("WeChat", 30, 2)
    assert t("fields.done_change", "en", field="WeChat ID") in texts(at)
    at.button(key="af_retire").click()
    run(at)
    assert not cf.all_fields(db)[0].active
    form = run(open_page(make_app(db_path, "sales", lang="en"), "new_customer"))
    assert "nc_cf_wechat" not in [w.key for w in form.text_input]
    at.button(key="af_restore").click()
    run(at)
    assert cf.all_fields(db)[0].active
    form = run(open_page(make_app(db_path, "sales", lang="en"), "new_customer"))
    assert form.text_input(key="nc_cf_wechat").label == "WeChat"


def test_a_field_only_managers_edit_is_locked_for_a_salesperson_on_the_customer_page(db, db_path, actors):
    cf.add_field(db, actors["admin"], key="channel", label_zh="来源渠道", label_en="Channel", kind="choice",
                 edit_roles=["admin", "manager"], choices=[("展会", "Fair")])
    form = run(open_page(make_app(db_path, "sales"), "new_customer"))
    assert form.selectbox(key="nc_cf_channel").disabled
    form = run(open_page(make_app(db_path, "manager"), "new_customer"))
    assert not form.selectbox(key="nc_cf_channel").disabled
    rec = cs.create_customer(db, actors["manager"], {"name": "锁定测试有限公司", "cf_channel": "1"})
    assert rec["cf_channel"] == "1"


def test_grid_filter_and_analytics_show_a_custom_field(db, db_path, actors):
    import json

    admin = actors["admin"]
    cf.add_field(db, admin, key="channel", label_zh="来源渠道", label_en="Channel", kind="choice",
                 edit_roles=["admin", "manager"], filter=True, dimension=True,
                 choices=[("展会", "Fair"), ("网络", "Web")])
    for name, channel in (("甲渠道有限公司", "1"), ("乙渠道有限公司", "2"), ("丙渠道有限公司", "2")):
        cs.create_customer(db, admin, {"name": name, "cf_channel": channel})
    at = run(open_page(make_app(db_path, "manager", lang="en"), "customers"))
    assert "cf_channel" in at.data_editor[0].value.columns
    open_filters(at, "customers")
    at.multiselect(key="flt_cf_channel").select("2")
    run(at)
    assert sorted(at.data_editor[0].value["name"]) == ["丙渠道有限公司", "乙渠道有限公司"]
    at.multiselect(key="flt_cf_channel").unselect("2")
    run(open_page(at, "analytics"))
    [chart] = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.key == "an_chart_cf_channel"]
    assert dict(zip(chart["data"][0]["x"], chart["data"][0]["y"])) == {"Fair": 1, "Web": 2}
