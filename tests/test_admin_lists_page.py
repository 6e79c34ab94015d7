"""The administration page's reference lists section (ui/admin_lists.py) in AppTest: the
lists and their items, each action through the page, refusals in the user's language
with the input kept; and a retired value on the pages that enter and edit customers."""
from __future__ import annotations

import pytest

from lib.core.i18n import t
from lib.customers import customer as cs
from lib.customers import reference_admin as ra
from ui.format import md_escape
from tests.apptest_util import make_app, open_customer, open_page, run, texts


def admin_lists(db_path, lang="zh", list_name="tier"):
    at = run(open_page(make_app(db_path, "admin", lang=lang), "admin"))
    at.selectbox(key="al_list").set_value(list_name)
    return run(at)


def button(at, label):
    (found,) = [b for b in at.button if b.label == label]
    return found


def table(at):
    """The reference list's table (the other tabs draw tables too)."""
    (found,) = [df.value for df in at.dataframe
                if any(c in df.value.columns for c in (t("lists.col_code", "zh"), t("lists.col_code", "en")))]
    return found


def tier(db, code):
    (it,) = [it for it in tier_items(db) if it.code == code]
    return it


def tier_items(db):
    """As stored now: the page writes through its own Database (ui.context.database), so
    the test's one drops its cached lists first."""
    db.invalidate("reference_lists")
    return ra.items(db, "tier")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_section_offers_every_managed_list_and_shows_its_items(db, db_path, lang):
    at = run(open_page(make_app(db_path, "admin", lang=lang), "admin"))
    assert [tab.label for tab in at.tabs] == [t("admin.tab_users", lang), t("lists.tab", lang),
                                             t("fields.tab", lang), t("admin.tab_settings", lang), t("admin.tab_backups", lang),
                                             t("audit.tab", lang)]
    chooser = at.selectbox(key="al_list")
    assert chooser.options == [t("lists.name." + n, lang) for n in ra.MANAGED_LISTS]
    chooser.set_value("tier")
    run(at)
    shown = table(at)
    assert list(shown[t("lists.col_code", lang)]) == ["A", "B", "C", "D"]
    assert list(shown[t("lists.col_en", lang)]) == [it.label_en for it in tier_items(db)]
    assert all(shown[t("lists.col_active", lang)])
    assert t("lists.caption", lang, n=4, active=4) in texts(at)


def test_retire_and_bring_back_through_the_page(db, db_path):
    at = admin_lists(db_path, "en")
    at.selectbox(key="al_item_tier").set_value("D")
    run(at)
    at.button(key="al_retire").click()
    run(at)
    assert not tier(db, "D").active
    assert t("lists.done_retire", "en", code="D") in texts(at)
    assert list(table(at)[t("lists.col_active", "en")]) == [True, True, True, False]
    assert at.selectbox(key="al_item_tier").value == "D"
    at.button(key="al_restore").click()
    run(at)
    assert tier(db, "D").active
    assert t("lists.done_restore", "en", code="D") in texts(at)


def test_move_up_and_down_through_the_page(db, db_path):
    at = admin_lists(db_path)
    assert at.button(key="al_up").disabled  # A is first
    at.selectbox(key="al_item_tier").set_value("C")
    run(at)
    at.button(key="al_up").click()
    run(at)
    assert [it.code for it in tier_items(db)] == ["A", "C", "B", "D"]
    assert list(table(at)[t("lists.col_code", "zh")]) == ["A", "C", "B", "D"]
    at.button(key="al_down").click()
    run(at)
    assert [it.code for it in tier_items(db)] == ["A", "B", "C", "D"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_add_an_item_then_the_inputs_are_empty(db, db_path, lang):
    at = admin_lists(db_path, lang)
    at.text_input(key="al_add0_code").input("E")
    at.text_input(key="al_add0_label_zh").input("观察")
    at.text_input(key="al_add0_label_en").input("Watch list")
    button(at, t("lists.add", lang)).click()
    run(at)
    assert tier(db, "E").label_en == "Watch list"
    assert t("lists.done_add", lang, code="E") in texts(at)
    assert at.text_input(key="al_add1_code").value == ""  # the next round: empty again
    assert "E" in list(table(at)[t("lists.col_code", lang)])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_add_says_why_in_the_users_language_and_keeps_the_input(db, db_path, lang):
    at = admin_lists(db_path, lang)
    at.text_input(key="al_add0_code").input("a b")
    at.text_input(key="al_add0_label_zh").input("观察")
    at.text_input(key="al_add0_label_en").input("Watch list")
    button(at, t("lists.add", lang)).click()
    run(at)
    assert [e.value for e in at.error] == [
        md_escape(t("lists.col_code", lang) + ": " + t("lists.bad_code", lang, code="a b"))]
    assert (at.text_input(key="al_add0_code").value, at.text_input(key="al_add0_label_en").value) == (
        "a b", "Watch list")
    # A taken code: the same, as a duplicate.
    at.text_input(key="al_add0_code").input("A")
    button(at, t("lists.add", lang)).click()
    run(at)
    assert [e.value for e in at.error] == [md_escape(t("lists.duplicate_code", lang, code="A"))]
    assert at.text_input(key="al_add0_code").value == "A"
    assert [it.code for it in tier_items(db)] == ["A", "B", "C", "D"]


def test_rename_through_the_page_and_a_refused_rename(db, db_path):
    at = admin_lists(db_path, "en")
    at.selectbox(key="al_item_tier").set_value("B")
    run(at)
    en = at.text_input(key="al_ren_tier_B0_label_en")
    assert en.value == tier(db, "B").label_en
    en.input("Key account")
    button(at, t("lists.rename", "en")).click()
    run(at)
    assert tier(db, "B").label_en == "Key account"
    assert t("lists.done_rename", "en", code="B") in texts(at)
    assert at.text_input(key="al_ren_tier_B1_label_en").value == "Key account"  # the next round, from the list
    at.text_input(key="al_ren_tier_B1_label_zh").input("")
    button(at, t("lists.rename", "en")).click()
    run(at)
    assert [e.value for e in at.error] == [md_escape(t("lists.col_zh", "en") + ": " + t("lists.label_required", "en"))]
    assert at.text_input(key="al_ren_tier_B1_label_zh").value == ""
    assert tier(db, "B").label_zh != ""


# -- a retired value on the pages that enter and edit customers ----------------------------------
def test_the_entry_form_does_not_offer_a_retired_value(db, db_path, actors):
    ra.set_active(db, actors["admin"], "tier", "D", False)
    at = run(open_page(make_app(db_path, "manager", lang="en"), "new_customer"))
    assert at.selectbox(key="nc_tier").options == [tier(db, c).label_en for c in "ABC"]


def test_a_customer_with_a_retired_value_keeps_it_when_other_fields_are_saved(db, db_path, actors, make_customer):
    rec = make_customer("manager", tier="D")
    ra.set_active(db, actors["admin"], "tier", "D", False)
    at = open_customer(db_path, "manager", rec["code"], "en")
    box = at.selectbox(key=f"cf_{rec['id']}_f_tier")
    assert box.value == "D"
    assert box.options[-1] == t("lists.retired_mark", "en", label=tier(db, "D").label_en)
    at.text_area(key=f"cf_{rec['id']}_f_notes").input("kept its tier")
    at.button(key=f"cf_{rec['id']}_save").click()
    run(at)
    stored = cs.get_customer(db, actors["manager"], rec["id"])
    assert (stored["notes"], stored["tier"]) == ("kept its tier", "D")


def test_the_grid_keeps_a_retired_value_labelled_last_and_marked(db, actors):
    from lib.customers import fields as F
    from ui import kinds as K

    ra.set_active(db, actors["admin"], "tier", "B", False)
    f = F.by_name("tier")
    column = K.ui_kind(f).column(f, {"label": "Tier"}, db, "en")
    options = [(o["value"], o["label"]) for o in column["type_config"]["options"]]
    assert options == [*((c, tier(db, c).label_en) for c in "ACD"),
                       ("B", t("lists.retired_mark", "en", label=tier(db, "B").label_en))]
