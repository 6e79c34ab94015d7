"""The administration page's audit log section (ui/admin_audit.py) in AppTest: the
entries newest first, each filter, paging, what an entry changed, the export and its
cap, and the refusals it shows."""
from __future__ import annotations

import codecs
import json
from datetime import date

import pytest

from lib.accounts import audit_log as A
from lib.customers import customer as cs
from lib.core.i18n import t
from tests.apptest_util import current_page, make_app, open_page, run, texts
from ui import admin_audit
from ui.format import md_escape


def audit_app(db_path, lang="en"):
    return run(open_page(make_app(db_path, "admin", lang=lang), "admin"))


def log_table(at, lang="en"):
    """The audit log's table (the users section draws the first one)."""
    return next(df.value for df in at.dataframe if t("audit.col.changed_at", lang) in df.value.columns)


def widget(seq, key):
    return next(w for w in seq if w.key == key)


def apply_filters(at):
    widget(at.button, "FormSubmitter:aa_filters-" + t("audit.apply", "en")).click()
    return run(at)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_section_lists_entries_newest_first_with_translated_actions(db, db_path, actors, make_customer, lang):
    rec = make_customer()
    at = audit_app(db_path, lang)
    assert t("audit.tab", lang) in [tab.label for tab in at.tabs]
    table = log_table(at, lang)
    ids = list(table[t("audit.col.id", lang)])
    assert ids == sorted(ids, reverse=True) and len(ids) == 6  # five users created, one customer
    assert table[t("audit.col.action", lang)].iloc[0] == t("audit.action.create", lang)
    assert table[t("audit.col.customer_code", lang)].iloc[0] == rec["code"]
    assert set(table[t("audit.col.action", lang)].iloc[1:]) == {t("audit.action.user.create", lang)}
    assert t("audit.export_caption", lang, limit=admin_audit.EXPORT_MAX_ROWS) in texts(at)


def test_filters_by_user_action_customer_and_dates(db, db_path, actors, make_customer):
    mine = make_customer(actor="sales")
    other = make_customer(actor="manager")
    cs.update_customer(db, actors["manager"], other["id"], {"notes": "x"}, other["version"])
    at = audit_app(db_path)
    widget(at.selectbox, "aa_actor").set_value("sales")
    apply_filters(at)
    assert list(log_table(at)[t("audit.col.customer_code", "en")]) == [mine["code"]]
    widget(at.selectbox, "aa_actor").set_value("")
    widget(at.selectbox, "aa_action").set_value("update")
    apply_filters(at)
    assert list(log_table(at)[t("audit.col.action", "en")]) == [t("audit.action.update", "en")]
    widget(at.selectbox, "aa_action").set_value("")
    widget(at.text_input, "aa_code").input(other["code"])
    apply_filters(at)
    assert list(log_table(at)[t("audit.col.customer_code", "en")]) == [other["code"]] * 2
    widget(at.text_input, "aa_code").input("")
    widget(at.date_input, "aa_to").set_value(date(2020, 1, 1))
    apply_filters(at)
    assert t("audit.empty", "en") in texts(at)


def test_refusals_of_the_filters_are_shown(db, db_path):
    at = audit_app(db_path)
    widget(at.text_input, "aa_code").input("C1999-999999")
    apply_filters(at)
    assert md_escape(t("audit.unknown_customer", "en", code="C1999-999999")) in texts(at)
    widget(at.text_input, "aa_code").input("")
    widget(at.date_input, "aa_from").set_value(date(2026, 3, 2))
    widget(at.date_input, "aa_to").set_value(date(2026, 3, 1))
    apply_filters(at)
    assert md_escape(t("audit.bad_dates", "en")) in texts(at)


def test_paging_older_and_newer(db, db_path, make_customer):
    for _ in range(admin_audit.PAGE_SIZE):  # with the five users: one page and five more
        make_customer()
    at = audit_app(db_path)
    first = list(log_table(at)[t("audit.col.id", "en")])
    assert len(first) == admin_audit.PAGE_SIZE and widget(at.button, "aa_newer").disabled
    widget(at.button, "aa_older").click()
    run(at)
    second = list(log_table(at)[t("audit.col.id", "en")])
    assert len(second) == 5 and max(second) < min(first) and widget(at.button, "aa_older").disabled
    widget(at.button, "aa_newer").click()
    run(at)
    assert list(log_table(at)[t("audit.col.id", "en")]) == first


def test_opening_an_entry_shows_what_it_changed(db, db_path, actors, make_customer):
    rec = make_customer()
    rec = cs.update_customer(db, actors["manager"], rec["id"], {"notes": "新的备注"}, rec["version"])
    at = audit_app(db_path, "zh")
    with db.read() as cur:
        update_id, user_id = cur.execute("SELECT max(id) FILTER (WHERE action = 'update'),"
                                         " min(id) FILTER (WHERE action = 'user.create') FROM audit_log").fetchone()
    widget(at.selectbox, "aa_entry").set_value(update_id)
    run(at)
    changed = next(df.value for df in at.dataframe if t("audit.before", "zh") in df.value.columns)
    assert changed.to_dict("records") == [{t("audit.field", "zh"): "备注", t("audit.before", "zh"): "—",
                                           t("audit.after", "zh"): "新的备注"}]
    widget(at.selectbox, "aa_entry").set_value(user_id)
    run(at)
    facts = next(df.value for df in at.dataframe if t("audit.fact", "zh") in df.value.columns)
    assert dict(zip(facts[t("audit.fact", "zh")], facts[t("audit.value", "zh")]))["username"] == "admin"


def test_the_export_downloads_the_filtered_entries_and_is_audited(db, db_path, make_customer, downloads):
    make_customer(actor="sales")
    at = audit_app(db_path)
    widget(at.selectbox, "aa_actor").set_value("sales")
    apply_filters(at)
    (name,) = [n for n in downloads if n.endswith(".csv")]
    data = downloads[name]()
    assert data.startswith(codecs.BOM_UTF8)
    lines = data[len(codecs.BOM_UTF8):].decode("utf-8").splitlines()
    assert len(lines) == 2 and ",sales," in lines[1]
    with db.read() as cur:
        actor, changes = cur.execute("SELECT actor, changes FROM audit_log WHERE action = 'audit.export'").fetchone()
    assert actor == "admin" and json.loads(changes)["filters"] == {"actor": "sales"}


def test_an_export_over_the_cap_is_disabled_with_a_message(db, db_path, monkeypatch):
    monkeypatch.setattr(admin_audit, "EXPORT_MAX_ROWS", 3)
    at = audit_app(db_path)
    assert t("audit.export_too_large", "en", rows=5, limit=3) in texts(at)
    assert A.count_entries(db, db.actor("admin", "admin")) == 5


# -- access denials --------------------------------------------------------------------------
def denials(db):
    with db.read() as cur:
        return [(a, json.loads(c)) for a, c in cur.execute(
            "SELECT actor, changes FROM audit_log WHERE action = 'access.denied' ORDER BY id").fetchall()]


def test_a_page_the_role_may_not_open_is_an_audited_denial_once_per_session(db, db_path):
    at = run(open_page(make_app(db_path, "sales"), "admin"))
    assert current_page(at) != "admin"
    run(at)  # the same refused request again in this session: recorded once
    assert denials(db) == [("sales", {"action": "page.admin", "role": "sales", "where": "page", "page": "admin"})]
    run(open_page(make_app(db_path, "viewer"), "new_customer"))
    assert denials(db)[1] == ("viewer", {"action": "page.new_customer", "role": "viewer", "where": "page",
                                         "page": "new_customer"})
    run(open_page(make_app(db_path, "sales"), "customers"))  # allowed: nothing more
    assert len(denials(db)) == 2


def test_a_service_refusal_the_page_shows_is_an_audited_denial(db, db_path):
    # A manager given the administration page and the users section, but not the log.
    with db.transaction() as cur:
        cur.executemany("INSERT INTO role_permissions VALUES ('manager', ?, 'all', 99)",
                        [["page.admin"], ["users.manage"]])
    db.invalidate()
    at = run(open_page(make_app(db_path, "manager", lang="en"), "admin"))
    assert md_escape(t("error.permission_denied", "en")) in texts(at)
    assert not any(t("audit.col.changed_at", "en") in df.value.columns for df in at.dataframe)
    assert denials(db) == [("manager", {"action": "audit.view_log", "role": "manager", "where": "action"})]
