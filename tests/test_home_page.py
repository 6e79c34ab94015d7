"""The home page (pages/home.py) and the care campaign panel of the customers page
(ui/campaign.py) in AppTest: the real app.py, a seeded logged-in session per role, both
languages. The data behind them is tested in tests/test_home.py and test_campaigns.py."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st

from lib.accounts import users
from lib.core.clock import local_today
from lib.core.i18n import t
from lib.customers import followups as fu
from lib.customers import home
from tests.apptest_util import current_page, make_app, open_page, texts
from ui import prefetch



def due(db, actor, customer, summary, days_overdue=0, **values):
    return fu.add_followup(db, actor, customer["id"], {
        "followup_kind": "call", "followup_summary": summary,
        "followup_due_on": (local_today() - timedelta(days=days_overdue)).isoformat(), **values})


@pytest.fixture
def world(db, actors, make_customer):
    """A customer each of sales, sales2 and manager with a follow-up due (two overdue),
    one due later, and an open need on each of the salespeople's customers."""
    s, s2, m = actors["sales"], actors["sales2"], actors["manager"]
    a, b, c = (make_customer(owner=o, name=f"{o}的客户有限公司") for o in ("sales", "sales2", "manager"))
    due(db, s, a, "call A back", 3)
    due(db, s2, b, "visit B", 1)
    due(db, m, c, "send C the offer", 0)
    due(db, s, a, "A later", -5)
    for actor, customer, need in ((s, a, "A wants a discount"), (s2, b, "B wants samples")):
        fu.add_followup(db, actor, customer["id"], {"followup_kind": "need", "followup_summary": need})
    return {"a": a, "b": b, "c": c}


def run_home(db_path, username, lang="zh"):
    at = make_app(db_path, username, lang=lang)
    at.run()
    assert not at.exception, at.exception
    assert current_page(at) == "home"  # the default page after login
    return at


def shown_text(at) -> str:
    """What a user reads: user text and messages are escaped Markdown."""
    return texts(at).replace("\\", "")


def open_tab(at, key: str, lang: str):
    """Click the home page's tab ``home.tab_<key>`` (only the open tab's list is drawn)."""
    at.session_state["hm_tab"] = t(f"home.tab_{key}", lang)
    at.run()
    assert not at.exception, at.exception
    return at


def done_buttons(at) -> list[str]:
    return [b.key for b in at.button if (b.key or "").startswith("hm_done_")]


def counts_table(at) -> dict:
    """The "by assignee" table: assignee -> (total, overdue)."""
    frame = at.dataframe[0].value
    return {row.iloc[0]: tuple(row.iloc[1:]) for _, row in frame.iterrows()}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ["admin", "manager"])
def test_managers_see_everyones_due_follow_ups_with_counts_per_assignee(db, db_path, world, role, lang):
    at = run_home(db_path, role, lang)
    shown = texts(at)
    assert at.title[0].value == t("nav.home", lang)
    for summary in ("call A back", "visit B", "send C the offer"):
        assert summary in shown
    assert "A later" not in shown  # not due yet
    assert t("home.due_everyone", lang) in shown
    assert counts_table(at) == {"sales": (1, 1), "sales2": (1, 1), "manager": (1, 0)}
    assert len(done_buttons(at)) == 3  # a manager may mark anyone's done
    assert at.metric[0].value == "3" and at.metric[1].value == "2"
    assert [tab.label for tab in at.tabs] == [t(f"home.tab_{k}", lang)
                                              for k in ("due", "needs", "not_reviewed", "recent")]
    assert t("home.overdue_by", lang, days=3) in shown and t("home.due_today", lang) in shown


def test_a_manager_can_switch_to_only_their_own(db, db_path, world):
    at = run_home(db_path, "manager", "en")
    at.toggle(key="hm_only_mine").set_value(True).run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "send C the offer" in shown and "call A back" not in shown and "visit B" not in shown
    assert t("home.due_mine", "en") in shown
    assert at.metric[0].value == "1"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sales_see_only_their_own_customers(db, db_path, world, lang):
    at = run_home(db_path, "sales", lang)
    shown = texts(at)
    assert "call A back" in shown
    assert t("home.due_mine", lang) in shown
    assert len(at.dataframe) == 0  # no counts per person: they are all theirs
    assert len(done_buttons(at)) == 1
    assert not any(tg.key == "hm_only_mine" for tg in at.toggle)
    for key in ("needs", "not_reviewed", "recent"):
        shown += texts(open_tab(at, key, lang))
    assert "A wants a discount" in shown
    for other in ("visit B", "send C the offer", "B wants samples", world["b"]["name"], world["c"]["name"]):
        assert other not in shown


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_viewer_sees_the_lists_but_no_done_button(db, db_path, actors, world, lang):
    # Assigned to the viewer (an assignee may mark done — but a viewer changes no customer).
    due(db, actors["manager"], world["c"], "viewer to check C", 1, followup_assignee="viewer")
    at = run_home(db_path, "viewer", lang)
    assert "viewer to check C" in texts(at)
    assert done_buttons(at) == []
    shown = texts(open_tab(at, "needs", lang))
    assert "A wants a discount" in shown and "B wants samples" in shown  # open needs: reading is fine
    assert not any(tg.key == "hm_only_mine" for tg in at.toggle)


def test_only_the_open_tab_is_drawn_and_it_stays_open_when_its_counts_change(db, db_path, actors, world):
    at = run_home(db_path, "sales", "en")
    assert "call A back" in texts(at) and "A wants a discount" not in texts(at)
    open_tab(at, "needs", "en")
    shown = texts(at)
    assert "A wants a discount" in shown and "call A back" not in shown and done_buttons(at) == []
    # Someone adds a follow-up due and a need: the counts change, the user stays where they were.
    due(db, actors["sales"], world["a"], "call A again", 2)
    fu.add_followup(db, actors["sales"], world["a"]["id"],
                    {"followup_kind": "need", "followup_summary": "A wants it sooner"})
    at.run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "A wants it sooner" in shown and "call A again" not in shown
    assert at.metric[0].value == "2" and at.metric[1].value == "2"
    assert at.session_state["hm_tab"] == t("home.tab_needs", "en")


def test_mark_done_from_the_list(db, db_path, actors, world):
    at = run_home(db_path, "sales", "en")
    (key,) = done_buttons(at)
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    assert t("home.marked_done", "en", summary="call A back") in shown_text(at)
    assert "call A back" not in [m.value for m in at.markdown]
    assert done_buttons(at) == [] and at.metric[0].value == "0"
    stored = fu.get_followup(db, actors["sales"], int(key.removeprefix("hm_done_")))
    assert stored["done"] and stored["done_by"] == "sales"


def test_a_stale_mark_done_shows_the_conflict_and_changes_nothing(db, db_path, actors, world):
    at = run_home(db_path, "sales", "en")
    (key,) = done_buttons(at)
    fid = int(key.removeprefix("hm_done_"))
    before = fu.get_followup(db, actors["manager"], fid)
    fu.change_followup(db, actors["manager"], fid, {"followup_next_action": "ask for the buyer"}, before["version"])
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    assert len(at.error) == 1
    conflict = at.error[0].value.replace("\\", "")
    assert conflict.startswith("manager changed this follow-up at ") and "it was not marked done" in conflict
    stored = fu.get_followup(db, actors["sales"], fid)
    assert not stored["done"] and stored["version"] == before["version"] + 1
    assert "ask for the buyer" in texts(at)  # the list shows it as it is now
    assert len(done_buttons(at)) == 1


def test_the_due_list_is_paged_on_the_server(db, db_path, actors, make_customer):
    a = make_customer(owner="sales")
    for i in range(12):
        due(db, actors["sales"], a, f"task {i:02d}", 20 - i)
    at = run_home(db_path, "sales", "en")
    assert at.metric[0].value == "12"  # the database's count, not the page's
    shown = [m.value for m in at.markdown]
    assert [s for s in shown if s.startswith("task")] == [f"task {i:02d}" for i in range(10)]  # most overdue first
    assert t("list.range", "en", first=1, last=10, total=12) in texts(at)
    at.button(key="hm_due_next").click().run()
    shown = [m.value for m in at.markdown]
    assert [s for s in shown if s.startswith("task")] == ["task 10", "task 11"]
    assert t("list.range", "en", first=11, last=12, total=12) in texts(at)
    # Marking the last two done leaves the list on its (new) last page.
    for key in done_buttons(at):
        at.button(key=key).click().run()
    assert [s for s in (m.value for m in at.markdown) if s.startswith("task")] == [
        f"task {i:02d}" for i in range(10)]
    assert at.metric[0].value == "10"


def set_setting(db, key: str, value: str) -> None:
    with db.transaction() as cur:
        cur.execute("UPDATE settings SET value = ? WHERE key = ?", [value, key])
    db.invalidate("settings")


def test_not_reviewed_follows_the_setting_and_every_row_links_to_its_customer(db, db_path, actors, world):
    assert home.not_reviewed(db, actors["sales2"]).total == 0  # reviewed when entered
    set_setting(db, "review_days", "7")  # before the app's connection first reads the settings
    with db.transaction() as cur:  # reviewed 8 days ago
        cur.execute("UPDATE customers SET reviewed_at = reviewed_at - INTERVAL 8 DAY WHERE owner = 'sales2'")
    at = run_home(db_path, "sales2", "en")
    assert home.not_reviewed(db, actors["sales2"]).total == 1
    assert t("home.metric_not_reviewed", "en", days=7) in [m.label for m in at.metric]
    labels = [el.proto.label for el in at.get("page_link")]
    for key in ("needs", "not_reviewed", "recent"):
        open_tab(at, key, "en")
        labels += [el.proto.label for el in at.get("page_link")]
        if key == "not_reviewed":
            assert "Last reviewed: " in shown_text(at)
    code = world["b"]["code"].replace("-", "\\-")
    # the due follow-up, the need, not reviewed and recently changed: each row links to it
    assert sum(label.startswith(code) for label in labels) == 4, labels


def test_every_role_lands_on_the_home_page_and_can_open_customers(db, db_path):
    for role in ("admin", "manager", "sales", "viewer"):
        at = run_home(db_path, role)
        open_page(at, "customers").run()
        assert not at.exception, at.exception
        assert current_page(at) == "customers", role


# -- the care campaign panel of the customers page ---------------------------------------------
def campaign_rows(db) -> list[tuple]:
    with db.read() as cur:
        return cur.execute("SELECT customer_id, assignee, kind, campaign, summary, due_on FROM follow_ups"
                           " WHERE campaign IS NOT NULL ORDER BY customer_id").fetchall()


def open_campaign(db_path, username, lang="en", tier=("A",)):
    at = make_app(db_path, username, lang=lang)
    # State made for this user (ui.widgets.keep_state_for drops another user's).
    at.session_state["cm_page_state_owner"] = (username, {"sales2": "sales"}.get(username, username))
    at.session_state["cm_filters"] = {"text": "", "not_reviewed_days": None, "archived": "active", "sort": "auto",
                                      "page_size": 50, "tier": list(tier)}
    at.session_state["cu_cmp_open"] = True  # the expander, opened
    open_page(at, "customers").run()
    assert not at.exception, at.exception
    return at


def fill_campaign(at, **values):
    at.text_input(key="cu_cmp_campaign_label").input(values.get("label", "Spring greetings"))
    at.text_area(key="cu_cmp_followup_summary").input(values.get("summary", "Send the festival card"))
    at.date_input(key="cu_cmp_followup_due_on").set_value(local_today() + timedelta(days=7))
    return at


def run_button(at):
    return next(b for b in at.button if b.label == t("campaign.run", "en"))


def test_a_manager_runs_a_campaign_over_the_filtered_search(db, db_path, make_customer):
    tier_a = [make_customer(tier="A", owner=o) for o in ("sales", "sales2")]
    make_customer(tier="B", owner="sales")
    at = open_campaign(db_path, "manager")
    assert t("campaign.reach", "en", n=2) in shown_text(at)
    fill_campaign(at)
    run_button(at).click().run()
    assert not at.exception, at.exception
    assert t("campaign.done", "en", label="Spring greetings", n=2) in shown_text(at)
    assert campaign_rows(db) == [(c["id"], c["owner"], "care", "Spring greetings", "Send the festival card",
                                  local_today() + timedelta(days=7)) for c in tier_a]
    assert at.text_input(key="cu_cmp_campaign_label").value == ""  # ready for the next one
    # Each owner finds it on their home page.
    home_at = run_home(db_path, "sales2", "en")
    assert "Send the festival card" not in shown_text(home_at)  # due in a week, not today
    assert home.my_due(db, db.actor("sales2", "sales", "Sales2"), local_today() + timedelta(days=7)).total == 1


def test_a_missing_field_is_shown_under_its_input_and_nothing_is_written(db, db_path, make_customer):
    make_customer(tier="A", owner="sales")
    at = open_campaign(db_path, "manager")
    at.text_input(key="cu_cmp_campaign_label").input("No summary")
    run_button(at).click().run()
    assert not at.exception, at.exception
    assert t("error.validation", "en") in shown_text(at)
    assert at.text_input(key="cu_cmp_campaign_label").value == "No summary"  # the input is kept
    assert campaign_rows(db) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_above_the_cap_the_typed_error_is_shown_and_nothing_is_written(db, db_path, make_customer, lang):
    for o in ("sales", "sales2", "manager"):
        make_customer(tier="A", owner=o)
    set_setting(db, "campaign_max_customers", "2")
    at = open_campaign(db_path, "manager", lang=lang)
    fill_campaign(at)
    next(b for b in at.button if b.label == t("campaign.run", lang)).click().run()
    assert not at.exception, at.exception
    assert t("error.campaign_too_large", lang, count=3, cap=2) in shown_text(at)
    assert campaign_rows(db) == []
    assert at.text_input(key="cu_cmp_campaign_label").value == "Spring greetings"


@pytest.mark.parametrize("role", ["sales", "viewer"])
def test_who_may_not_run_a_campaign_does_not_see_it(db, db_path, make_customer, role):
    make_customer(tier="A", owner="sales")
    at = open_campaign(db_path, role)
    assert t("campaign.title", "en") not in [e.label for e in at.expander]
    assert not any(b.label == t("campaign.run", "en") for b in at.button)


# -- a click that arrives after the user changed ----------------------------------------------
# Streamlit runs a button's callback before the page script, with the previous run's
# arguments: the callbacks re-check the user (ui.auth.as_live_user).
def test_a_click_after_deactivation_writes_nothing_and_shows_the_login(db, db_path, actors, world):
    at = run_home(db_path, "sales", "en")
    (key,) = done_buttons(at)
    users.set_active(db, actors["admin"], "sales", False)
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    assert not fu.get_followup(db, actors["manager"], int(key.removeprefix("hm_done_")))["done"]
    assert done_buttons(at) == [] and t("auth.session_ended", "en") in texts(at)


def test_a_click_after_a_role_change_is_refused_and_recorded(db, db_path, actors, world):
    at = run_home(db_path, "sales", "en")
    (key,) = done_buttons(at)
    users.set_role(db, actors["admin"], "sales", "viewer")
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    assert not fu.get_followup(db, actors["manager"], int(key.removeprefix("hm_done_")))["done"]
    assert done_buttons(at) == []  # the page is drawn for a viewer now
    (facts,) = [json.loads(r[0]) for r in db.cursor().execute(
        "SELECT changes FROM audit_log WHERE action = 'access.denied' AND actor = 'sales'").fetchall()]
    assert facts["role"] == "viewer" and facts["where"] == "action"


# -- the charts' script fetched ahead ------------------------------------------------------
def prefetches(at) -> list[str]:
    """The scripts the page has the browser import ahead (``ui.prefetch``)."""
    found = []
    for element in at.main:
        body = getattr(getattr(element, "proto", None), "body", "") or ""
        if body.startswith("<script>") and "import(new URL(s,document.baseURI)" in body:
            found += json.loads(re.search(r"var p=(\[.*?\]);", body).group(1))
    return found


def test_the_home_page_has_the_browser_fetch_the_installed_plotly_script_ahead(db, db_path):
    at = make_app(db_path, "manager").run()
    assert current_page(at) == "home" and not at.exception
    [path] = prefetches(at)
    assert (Path(st.__file__).parent / "static" / path).is_file()  # the file Streamlit serves there
    assert path.startswith("static/js/PlotlyChart.")


def test_without_the_script_in_the_installed_streamlit_nothing_is_fetched_ahead(db, db_path, monkeypatch):
    monkeypatch.setattr(prefetch, "_STATIC_JS", Path("/nonexistent"))
    prefetch.plotly_script.cache_clear()
    try:
        at = make_app(db_path, "manager").run()
        assert current_page(at) == "home" and not at.exception and prefetches(at) == []
    finally:
        prefetch.plotly_script.cache_clear()


def test_the_import_script_cannot_be_ended_by_a_path():
    script = prefetch.import_when_idle(["static/js/x</script><script>alert(1)"])
    assert script.count("</script>") == 1 and "\\u003c/script>" in script
