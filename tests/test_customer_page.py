"""Services behind the customer page: find by code, mark as reviewed, paged history,
restore an earlier version, and a save that changes nothing."""
from __future__ import annotations

import json
import re

import pytest

from lib.core.errors import ConflictError, CustomerMasterError, NotFound, PermissionDenied
from lib.customers import contacts as ct
from lib.customers import customer as cs


def audit_count(db, customer_id):
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM audit_log WHERE customer_id = ?", [customer_id]).fetchone()[0]


# -- find by code ------------------------------------------------------------------------------
def test_a_customer_is_found_by_its_code_as_typed_or_pasted(db, actors, make_customer):
    rec = make_customer("sales")
    for code in (rec["code"], f"  {rec['code'].lower()} "):
        assert cs.get_customer_by_code(db, actors["sales"], code)["id"] == rec["id"]
    assert cs.get_customer_by_code(db, actors["viewer"], rec["code"])["name"] == rec["name"]


def test_a_code_the_actor_may_not_see_is_not_found_like_a_missing_one(db, actors, make_customer):
    theirs = make_customer("sales2")
    with pytest.raises(NotFound) as hidden:
        cs.get_customer_by_code(db, actors["sales"], theirs["code"])
    with pytest.raises(NotFound) as missing:
        cs.get_customer_by_code(db, actors["sales"], "C1999-000001")
    assert hidden.value.key == missing.value.key == "error.not_found"
    assert hidden.value.params == {"ref": theirs["code"]}


# -- mark as reviewed --------------------------------------------------------------------------
def test_mark_reviewed_stamps_the_date_bumps_the_version_and_is_audited(db, actors, make_customer):
    rec = make_customer("sales")
    out = cs.mark_reviewed(db, actors["sales"], rec["id"], rec["version"])
    stored = cs.get_customer(db, actors["sales"], rec["id"])
    assert stored["version"] == out["version"] == rec["version"] + 1
    assert stored["reviewed_at"] > rec["reviewed_at"]
    last = cs.history(db, actors["sales"], rec["id"])[-1]
    assert (last["action"], last["actor"], last["version"]) == ("review", "sales", rec["version"] + 1)
    assert list(last["changes"]) == ["reviewed_at"]
    assert {f: stored[f] for f in ("name", "phone", "tier")} == {f: rec[f] for f in ("name", "phone", "tier")}


def test_mark_reviewed_checks_version_and_permission(db, actors, make_customer):
    rec = make_customer("sales")
    with pytest.raises(ConflictError):
        cs.mark_reviewed(db, actors["sales"], rec["id"], rec["version"] + 1)
    with pytest.raises(PermissionDenied):
        cs.mark_reviewed(db, actors["viewer"], rec["id"], rec["version"])
    with pytest.raises(NotFound):
        cs.mark_reviewed(db, actors["sales2"], rec["id"], rec["version"])
    archived = cs.archive_customer(db, actors["manager"], rec["id"], rec["version"])
    with pytest.raises(CustomerMasterError, match="archived"):
        cs.mark_reviewed(db, actors["manager"], rec["id"], archived["version"])
    assert audit_count(db, rec["id"]) == 2  # create, archive


# -- a save that changes nothing -----------------------------------------------------------------
def test_a_save_that_changes_nothing_writes_nothing(db, actors, make_customer):
    rec = make_customer("sales")
    values = {n: rec[n] for n in ("name", "customer_type", "phone", "industry", "tier", "status")}
    out = cs.update_customer(db, actors["sales"], rec["id"], values, rec["version"])
    stored = cs.get_customer(db, actors["sales"], rec["id"])
    assert out["version"] == stored["version"] == rec["version"]
    assert stored["updated_at"] == rec["updated_at"] and stored["reviewed_at"] == rec["reviewed_at"]
    assert audit_count(db, rec["id"]) == 1


# -- history -------------------------------------------------------------------------------------
def test_history_pages_newest_first_with_the_total(db, actors, make_customer):
    rec = make_customer("manager")
    version = rec["version"]
    for tier in ("A", "B", "C", "D"):
        version = cs.update_customer(db, actors["manager"], rec["id"], {"tier": tier}, version)["version"]
    first, total = cs.history_page(db, actors["manager"], rec["id"], limit=2)
    second, _ = cs.history_page(db, actors["manager"], rec["id"], limit=2, offset=2)
    assert total == 5
    assert [e["changes"]["tier"][1] for e in first] == ["D", "C"]
    assert [e["action"] for e in second] == ["update", "update"]
    assert [e["changes"]["tier"][1] for e in second] == ["B", "A"]
    with pytest.raises(NotFound):
        cs.history_page(db, actors["sales"], rec["id"])


# -- restore an earlier version -------------------------------------------------------------------
def _entries(db, actor, cid):
    return cs.history(db, actor, cid)


def test_restore_version_brings_back_the_fields_as_they_were_through_an_update(db, actors, make_customer):
    m = actors["manager"]
    rec = make_customer("manager", tier="B", notes="first", credit_limit="1000")
    v2 = cs.update_customer(db, m, rec["id"], {"tier": "A", "notes": None}, rec["version"])
    v3 = cs.update_customer(db, m, rec["id"], {"credit_limit": "2500.50", "address": "厦门"}, v2["version"])
    create_entry = _entries(db, m, rec["id"])[0]
    out = cs.restore_version(db, m, rec["id"], create_entry["id"], v3["version"])
    stored = cs.get_customer(db, m, rec["id"])
    assert (stored["tier"], stored["notes"], str(stored["credit_limit"]), stored["address"]) == \
        ("B", "first", "1000.00", None)
    assert out["version"] == stored["version"] == v3["version"] + 1
    last = _entries(db, m, rec["id"])[-1]
    assert last["action"] == "update"
    assert last["changes"] == {"tier": ["A", "B"], "notes": [None, "first"], "credit_limit": ["2500.50", "1000.00"],
                               "address": ["厦门", None]}

    # Restoring the version right after the second update undoes only the restore.
    second_entry = _entries(db, m, rec["id"])[2]
    cs.restore_version(db, m, rec["id"], second_entry["id"], out["version"])
    stored = cs.get_customer(db, m, rec["id"])
    assert (stored["tier"], stored["notes"], str(stored["credit_limit"]), stored["address"]) == \
        ("A", None, "2500.50", "厦门")


def test_restore_version_checks_the_version_and_writes_nothing_when_nothing_differs(db, actors, make_customer):
    m = actors["manager"]
    rec = make_customer("manager", tier="B")
    v2 = cs.update_customer(db, m, rec["id"], {"tier": "A"}, rec["version"])
    first = _entries(db, m, rec["id"])[0]
    with pytest.raises(ConflictError) as exc:
        cs.restore_version(db, m, rec["id"], first["id"], rec["version"])
    assert exc.value.current["tier"] == "A"
    latest = _entries(db, m, rec["id"])[-1]
    assert cs.restore_version(db, m, rec["id"], latest["id"], v2["version"])["version"] == v2["version"]
    assert audit_count(db, rec["id"]) == 2


def test_restore_version_ignores_contact_entries_and_refuses_foreign_ones(db, actors, make_customer):
    m = actors["manager"]
    rec = make_customer("manager", tier="B")
    other = make_customer("manager")
    ct.add_contact(db, m, rec["id"], {"contact_name": "李雷"})
    contact_entry = next(e for e in _entries(db, m, rec["id"]) if e["entity"] == "contact")
    with pytest.raises(NotFound):
        cs.restore_version(db, m, rec["id"], contact_entry["id"], rec["version"])
    with pytest.raises(NotFound):
        cs.restore_version(db, m, rec["id"], _entries(db, m, other["id"])[0]["id"], rec["version"])


def test_restore_version_needs_the_rights_of_the_change(db, actors, make_customer):
    m, sales = actors["manager"], actors["sales"]
    rec = make_customer("sales", tier="B")
    v2 = cs.update_customer(db, m, rec["id"], {"credit_limit": "500"}, rec["version"])
    first = _entries(db, m, rec["id"])[0]
    # Taking the credit limit back is a manager's right.
    with pytest.raises(PermissionDenied):
        cs.restore_version(db, sales, rec["id"], first["id"], v2["version"])
    with pytest.raises(NotFound):
        cs.restore_version(db, actors["sales2"], rec["id"], first["id"], v2["version"])
    with pytest.raises(PermissionDenied):
        cs.restore_version(db, actors["viewer"], rec["id"], first["id"], v2["version"])
    out = cs.restore_version(db, m, rec["id"], first["id"], v2["version"])
    assert out["credit_limit"] is None


def test_restore_keeps_a_field_no_entry_recorded(db, actors, make_customer):
    """A field filled without an entry (a migration's default) keeps its value."""
    m = actors["manager"]
    rec = make_customer("manager", tier="B")
    with db.transaction() as cur:  # as migration 6 filled access_level for existing customers
        cur.execute("UPDATE audit_log SET changes = ? WHERE customer_id = ? AND action = 'create'",
                    [json.dumps({"name": [None, rec["name"]], "tier": [None, "B"]}), rec["id"]])
    v2 = cs.update_customer(db, m, rec["id"], {"tier": "A"}, rec["version"])
    first = _entries(db, m, rec["id"])[0]
    out = cs.restore_version(db, m, rec["id"], first["id"], v2["version"])
    assert (out["tier"], out["access_level"], out["status"]) == ("B", "normal", "active")


# == the page (AppTest) ===========================================================================
from lib.core.i18n import t  # noqa: E402
from tests.apptest_util import click, current_page, make_app, open_customer, open_page, run, texts  # noqa: E402
from tests.conftest import TEST_PASSWORD  # noqa: E402


def key(rec, name):
    return f"cf_{rec['id']}_{name}"


def toasts(at):
    return [x.value for x in at.toast]


@pytest.mark.parametrize("username, lang", [("admin", "zh"), ("manager", "en"), ("sales", "zh"), ("viewer", "en")])
def test_the_header_shows_the_file_per_role_and_language(db, db_path, make_customer, username, lang):
    rec = make_customer("manager", owner="sales", access_level="on_hold", credit_limit="50000", industry=None,
                        phone=None)
    at = open_customer(db_path, username, rec["code"], lang)
    assert current_page(at) == "customer"
    assert at.title[0].value == rec["name"]
    shown = texts(at)
    assert rec["code"] in shown
    assert ":red-badge[:material/verified_user: " + F_label("access_level", lang) + ": " in shown
    assert ("暂停交易" if lang == "zh" else "On hold (no new business)") in shown
    assert "¥50,000.00" in shown and t("cf.owner", lang, owner="sales") in shown
    for hint in ("cf.hint.no_phone", "cf.hint.no_industry", "cf.hint.no_primary_contact"):
        assert t(hint, lang) in shown
    assert [x.label for x in at.tabs] == [t("cf.tab.details", lang), t("cf.tab.contacts", lang, n=0),
                                          t("cf.tab.relationships", lang), t("cf.tab.followups", lang),
                                          t("cf.tab.files", lang), t("cf.tab.history", lang)]
    labels = [b.label for b in at.button]
    may_archive = username != "viewer"
    assert (t("cf.archive", lang) in labels) == may_archive


def F_label(name, lang):
    from lib.customers import fields as F
    return F.label(name, lang)


def test_the_tabs_are_not_a_widget(db, db_path, make_customer):
    # As a widget (on_change="rerun") the tabs can ask for a rerun of the customer page
    # on their own, which takes the place of a click on another page's link made in
    # that moment. Keyed but not a widget, they have no value in the session state.
    rec = make_customer("manager")
    at = open_customer(db_path, "manager", rec["code"], "en")
    assert len(at.tabs) == 6
    assert key(rec, "tab") not in at.session_state


def test_not_reviewed_for_the_review_period_is_a_hint(db, db_path, make_customer):
    rec = make_customer("manager")
    with db.transaction() as cur:
        cur.execute("UPDATE customers SET reviewed_at = reviewed_at - INTERVAL 200 DAY WHERE id = ?", [rec["id"]])
    at = open_customer(db_path, "manager", rec["code"], "en")
    assert t("cf.hint.not_reviewed", "en", days=200) in texts(at)


def test_the_review_period_comes_from_the_setting():
    from datetime import datetime

    from ui.customer_file import quality_hints

    rec = {"phone": "13800138000", "industry": "C", "contact_name": "李雷", "reviewed_at": datetime(2026, 1, 1)}
    now = datetime(2026, 7, 20)  # 200 days later
    assert quality_hints(rec, {"review_days": "180"}, now) == [("cf.hint.not_reviewed", {"days": 200})]
    assert quality_hints(rec, {"review_days": "365"}, now) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_another_salespersons_code_and_a_missing_one_read_not_found(db, db_path, make_customer, lang):
    theirs = make_customer("sales2")
    for code in (theirs["code"], "C1999-000001"):
        at = open_customer(db_path, "sales", code, lang)
        shown = texts(at)
        assert t("cf.not_found", lang, code=code) in shown.replace("\\", "")
        assert theirs["name"] not in shown and not at.tabs
        assert [x.value for x in at.title] == [t("nav.customer", lang)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_without_a_code_is_titled_and_links_back(db, db_path, lang):
    # /customer typed or opened from the sidebar's history: the page's own name on top
    # (the browser test of the home page opens every page URL and waits for it).
    at = make_app(db_path, "manager", lang=lang)
    open_page(at, "customer").run()
    assert not at.exception
    assert [x.value for x in at.title] == [t("nav.customer", lang)]
    assert t("cf.no_code", lang) in texts(at)


def test_a_pasted_link_asks_for_a_login_then_opens_that_customer(db, db_path, make_customer):
    rec = make_customer("sales")
    at = make_app(db_path, lang="en")
    at.query_params["code"] = rec["code"]
    run(open_page(at, "customer"))
    assert current_page(at) == "customer" and rec["name"] not in texts(at)
    assert len(at.text_input) == 2  # the login form
    at.text_input[0].input("sales")
    at.text_input[1].input(TEST_PASSWORD)
    run(at.button[0].click().run())
    assert current_page(at) == "customer"
    assert at.query_params["code"] == rec["code"]
    assert at.title[0].value == rec["name"]


def test_details_save_writes_through_update_and_keeps_errors_by_field(db, db_path, actors, make_customer):
    rec = make_customer("sales")
    at = open_customer(db_path, "sales", rec["code"], "en")
    # a salesperson may not set the credit limit or access level: those inputs are locked
    assert at.text_input(key=key(rec, "f_credit_limit")).disabled
    assert at.selectbox(key=key(rec, "f_access_level")).disabled
    assert not at.text_input(key=key(rec, "f_name")).disabled
    at.text_input(key=key(rec, "f_email")).input("not-an-email")
    at.text_input(key=key(rec, "f_address")).input("厦门市思明区")
    click(at, key(rec, "save"))
    assert at.error and cs.get_customer(db, actors["sales"], rec["id"])["version"] == rec["version"]
    assert at.text_input(key=key(rec, "f_address")).value == "厦门市思明区"  # input kept
    at.text_input(key=key(rec, "f_email")).input("buyer@example.com")
    click(at, key(rec, "save"))
    stored = cs.get_customer(db, actors["sales"], rec["id"])
    assert (stored["email"], stored["address"], stored["version"]) == ("buyer@example.com", "厦门市思明区",
                                                                       rec["version"] + 1)
    assert toasts(at) == [t("cf.saved_toast", "en", code=rec["code"])]
    # saving again without a change writes nothing
    click(at, key(rec, "save"))
    assert cs.get_customer(db, actors["sales"], rec["id"])["version"] == rec["version"] + 1
    assert toasts(at) == [t("cf.nothing_changed", "en")]


def test_a_long_session_keeps_only_the_open_customer_and_refused_saves(db, db_path, actors, make_customer):
    refused = make_customer("sales", name="没保存成功的客户")
    others = [make_customer("sales") for _ in range(8)]
    at = open_customer(db_path, "sales", refused["code"], "en")
    at.text_input(key=key(refused, "f_email")).input("not-an-email")
    at.text_input(key=key(refused, "f_address")).input("厦门市思明区")
    click(at, key(refused, "save"))
    assert at.error

    def customers_with_state():
        state = at.session_state._state.filtered_state  # AppTest's view has no keys()
        return {int(k.split("_")[1]) for k in state if re.match(r"cf_\d+_", k)}

    for other in others:
        at.query_params["code"] = other["code"]
        run(at)
        assert customers_with_state() == {refused["id"], other["id"]}  # not the ones opened in between
    at.query_params["code"] = refused["code"]
    run(at)
    assert at.text_input(key=key(refused, "f_address")).value == "厦门市思明区"  # what was typed
    assert at.text_input(key=key(refused, "f_email")).value == "not-an-email"
    assert at.error  # and why it was refused
    assert customers_with_state() == {refused["id"]}
    assert cs.get_customer(db, actors["sales"], refused["id"])["version"] == refused["version"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_stale_save_shows_their_values_and_keeps_mine(db, db_path, actors, make_customer, lang):
    rec = make_customer("manager", address="旧地址")
    at = open_customer(db_path, "manager", rec["code"], lang)
    cs.update_customer(db, actors["admin"], rec["id"], {"address": "他们的地址"}, rec["version"])
    at.text_input(key=key(rec, "f_address")).input("我的地址")
    click(at, key(rec, "save"))
    assert cs.get_customer(db, actors["manager"], rec["id"])["address"] == "他们的地址"
    assert at.text_input(key=key(rec, "f_address")).value == "我的地址"
    assert any("admin" in w.value for w in at.warning)
    table = at.dataframe[0].value.to_string()
    assert "我的地址" in table and "他们的地址" in table
    # keep mine: the next save applies it over theirs
    click(at, key(rec, "mine"))
    click(at, key(rec, "save"))
    assert cs.get_customer(db, actors["manager"], rec["id"])["address"] == "我的地址"


def test_take_theirs_loads_the_stored_values(db, db_path, actors, make_customer):
    rec = make_customer("manager", address="旧地址")
    at = open_customer(db_path, "manager", rec["code"])
    cs.update_customer(db, actors["admin"], rec["id"], {"address": "他们的地址"}, rec["version"])
    at.text_input(key=key(rec, "f_address")).input("我的地址")
    click(at, key(rec, "save"))
    click(at, key(rec, "theirs"))
    assert at.text_input(key=key(rec, "f_address")).value == "他们的地址"
    assert not at.dataframe or "我的地址" not in at.dataframe[0].value.to_string()


def test_mark_as_reviewed_from_the_page(db, db_path, actors, make_customer):
    rec = make_customer("sales")
    at = open_customer(db_path, "sales", rec["code"])
    click(at, key(rec, "review"))
    stored = cs.get_customer(db, actors["sales"], rec["id"])
    assert stored["version"] == rec["version"] + 1 and stored["reviewed_at"] > rec["reviewed_at"]
    assert toasts(at) == [t("cf.reviewed_toast", "zh", code=rec["code"])]


def test_a_viewer_reads_but_cannot_write(db, db_path, make_customer):
    rec = make_customer("manager")
    at = open_customer(db_path, "viewer", rec["code"], "en")
    assert t("cf.read_only", "en") in texts(at)
    assert at.button(key=key(rec, "save")).disabled and at.button(key=key(rec, "review")).disabled
    assert all(w.disabled for w in at.text_input if w.key and w.key.startswith(key(rec, "f_")))
    labels = [b.label for b in at.button]
    for absent in ("cf.archive", "contact.add", "cf.hist.restore"):
        assert t(absent, "en") not in labels


def test_archive_and_restore_from_the_header(db, db_path, actors, make_customer):
    rec = make_customer("sales")
    at = open_customer(db_path, "sales", rec["code"], "en")
    click(at, key(rec, "archive"))
    assert cs.get_customer(db, actors["sales"], rec["id"])["archived"]
    assert t("cf.archived_read_only", "en") in texts(at)
    click(at, key(rec, "archive"))
    assert not cs.get_customer(db, actors["sales"], rec["id"])["archived"]


# -- contacts tab ----------------------------------------------------------------------------------
def contact_input(at, rec, contact_id, name):
    return at.text_input(key=key(rec, f"c{contact_id or 'new'}_f_{name}"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_contacts_add_edit_make_primary_and_remove(db, db_path, actors, make_customer, lang):
    rec = make_customer("sales")
    m = actors["sales"]
    at = open_customer(db_path, "sales", rec["code"], lang)
    # a bad e-mail: the error under its input, the name kept
    contact_input(at, rec, None, "contact_name").input("李雷")
    contact_input(at, rec, None, "contact_email").input("bad@")
    click(at, key(rec, "cnew_go"))
    assert ct.contacts_of(db, m, rec["id"])[1] == 0
    assert at.error and contact_input(at, rec, None, "contact_name").value == "李雷"
    contact_input(at, rec, None, "contact_email").input("lilei@example.com")
    click(at, key(rec, "cnew_go"))
    first = ct.contacts_of(db, m, rec["id"])[0][0]
    assert (first["contact_name"], first["is_primary"]) == ("李雷", True)
    assert toasts(at) == [t("contact.added_toast", lang, name="李雷")]
    # a second one
    contact_input(at, rec, None, "contact_name").input("韩梅梅")
    click(at, key(rec, "cnew_go"))
    second = next(c for c in ct.contacts_of(db, m, rec["id"])[0] if c["contact_name"] == "韩梅梅")
    assert not second["is_primary"]
    assert t("cf.tab.contacts", lang, n=2) in [x.label for x in at.tabs]
    # edit the second
    click(at, key(rec, f"c{second['id']}_edit"))
    contact_input(at, rec, second["id"], "contact_title").input("采购经理")
    click(at, key(rec, f"c{second['id']}_go"))
    assert ct.contacts_of(db, m, rec["id"])[0][1]["contact_title"] == "采购经理"
    # make it primary
    second = ct.contacts_of(db, m, rec["id"])[0][1]
    click(at, key(rec, f"c{second['id']}_primary"))
    listed = ct.contacts_of(db, m, rec["id"])[0]
    assert [c["contact_name"] for c in listed] == ["韩梅梅", "李雷"] and listed[0]["is_primary"]
    # remove the first one
    click(at, key(rec, f"c{listed[1]['id']}_remove"))
    assert [c["contact_name"] for c in ct.contacts_of(db, m, rec["id"])[0]] == ["韩梅梅"]
    assert toasts(at) == [t("contact.removed_toast", lang, name="李雷")]


def test_a_stale_contact_edit_shows_a_conflict_and_keeps_the_input(db, db_path, actors, make_customer):
    rec = make_customer("manager")
    c = ct.add_contact(db, actors["manager"], rec["id"], {"contact_name": "李雷"})
    at = open_customer(db_path, "manager", rec["code"], "en")
    click(at, key(rec, f"c{c['id']}_edit"))
    ct.change_contact(db, actors["admin"], c["id"], {"contact_title": "总经理"}, c["version"])
    contact_input(at, rec, c["id"], "contact_title").input("采购")
    click(at, key(rec, f"c{c['id']}_go"))
    assert ct.contacts_of(db, actors["manager"], rec["id"])[0][0]["contact_title"] == "总经理"
    assert any("admin" in w.value for w in at.warning)
    assert contact_input(at, rec, c["id"], "contact_title").value == "采购"


# -- history tab ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_history_newest_first_in_the_users_language_and_restore(db, db_path, actors, make_customer, lang):
    m = actors["manager"]
    rec = make_customer("manager", tier="B")
    v2 = cs.update_customer(db, m, rec["id"], {"tier": "A"}, rec["version"])
    at = open_customer(db_path, "manager", rec["code"], lang)
    shown = texts(at)
    assert t("cf.hist.count", lang, first=1, last=2, total=2) in shown
    changed = at.dataframe[0].value  # newest first: the tier change
    tier_label = F_label("tier", lang)
    assert list(changed.iloc[0]) == [tier_label, "重要客户" if lang == "zh" else "Key",
                                     "战略客户" if lang == "zh" else "Strategic"]
    first_entry = cs.history(db, m, rec["id"])[0]
    click(at, key(rec, f"restore_{first_entry['id']}"))
    stored = cs.get_customer(db, m, rec["id"])
    assert stored["tier"] == "B" and stored["version"] == v2["version"] + 1
    assert toasts(at) == [t("cf.hist.restored_toast", lang, code=rec["code"])]
    assert at.selectbox(key=key(rec, "f_tier")).value == "B"
    assert t("cf.hist.count", lang, first=1, last=3, total=3) in texts(at)


def test_history_pages(db, db_path, actors, make_customer):
    m = actors["manager"]
    rec = make_customer("manager")
    version = rec["version"]
    for i in range(21):
        version = cs.update_customer(db, m, rec["id"], {"notes": f"n{i}"}, version)["version"]
    at = open_customer(db_path, "manager", rec["code"], "en")
    assert t("cf.hist.count", "en", first=1, last=20, total=22) in texts(at)
    click(at, key(rec, "hist_next"))
    assert t("cf.hist.count", "en", first=21, last=22, total=22) in texts(at)
    assert at.button(key=key(rec, "hist_next")).disabled


def test_a_field_added_meanwhile_keeps_what_a_refused_save_left_typed(db, db_path, actors, make_customer):
    from lib.customers import custom_fields

    rec = make_customer("sales")
    at = open_customer(db_path, "sales", rec["code"], "en")
    at.text_input(key=key(rec, "f_email")).input("not-an-email")
    at.text_input(key=key(rec, "f_address")).input("厦门市思明区")
    click(at, key(rec, "save"))
    assert at.error
    custom_fields.add_field(db, actors["admin"], key="wechat", label_zh="微信号", label_en="WeChat ID", kind="text",
                            edit_roles=["admin", "manager", "sales"])
    at.run()
    assert at.text_input(key=key(rec, "f_cf_wechat")).value == ""
    assert (at.text_input(key=key(rec, "f_email")).value, at.text_input(key=key(rec, "f_address")).value) == (
        "not-an-email", "厦门市思明区")
    at.text_input(key=key(rec, "f_email")).input("buyer@example.com")
    at.text_input(key=key(rec, "f_cf_wechat")).input("wx_77")
    click(at, key(rec, "save"))
    stored = cs.get_customer(db, actors["sales"], rec["id"])
    assert (stored["email"], stored["address"], stored["cf_wechat"]) == ("buyer@example.com", "厦门市思明区", "wx_77")
