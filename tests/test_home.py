"""The home page's data: due follow-ups, open needs, customers not reviewed, recent
changes — scoped, counted by the database, paged (service layer, real DuckDB file)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from lib.core.clock import utcnow
from lib.core.errors import PermissionDenied
from lib.customers import customer as cs
from lib.customers import followups as fu
from lib.customers import home

TODAY = date(2026, 6, 15)


def add(db, actor, customer, summary, due=None, kind="call", **values):
    v = {"followup_kind": kind, "followup_summary": summary, "followup_occurred_on": "2026-06-01", **values}
    if due:
        v["followup_due_on"] = due
    return fu.add_followup(db, actor, customer["id"], v)


@pytest.fixture
def world(db, actors, make_customer):
    """Customers of sales (a), sales2 (b), manager (c) and an archived one of sales (d),
    with follow-ups due before, on and after TODAY."""
    s, s2, m = actors["sales"], actors["sales2"], actors["manager"]
    # a and b change hands: a follow-up assigned to the owner of the day stays with them
    # (an assignee must be able to open the customer when assigned).
    a, b, c = (make_customer(owner=o) for o in ("sales2", "sales", "manager"))
    add(db, m, a, "a for sales2", "2026-06-14", followup_assignee="sales2")
    add(db, m, b, "b for sales", "2026-06-13", followup_assignee="sales")
    a = cs.update_customer(db, m, a["id"], {"owner": "sales"}, a["version"])
    b = cs.update_customer(db, m, b["id"], {"owner": "sales2"}, b["version"])
    d = make_customer(owner="sales")
    add(db, s, a, "a overdue", "2026-06-10")
    add(db, s, a, "a today", "2026-06-15")
    add(db, s, a, "a later", "2026-06-20")
    done = add(db, s, a, "a done", "2026-06-01")
    fu.mark_done(db, s, done["id"], done["version"])
    gone = add(db, s, a, "a removed", "2026-06-11")
    fu.remove_followup(db, s, gone["id"], gone["version"])
    add(db, s, a, "a note, nothing due")
    add(db, s2, b, "b overdue", "2026-06-12")
    add(db, m, c, "c today", "2026-06-15")
    add(db, s, d, "d overdue", "2026-06-11")
    # Needs: open ones count, met and removed ones do not.
    add(db, s, a, "a need", kind="need", followup_occurred_on="2026-05-02")
    add(db, s, a, "a need met", kind="need", followup_need_state="met")
    gone = add(db, s, a, "a need removed", kind="need")
    fu.remove_followup(db, s, gone["id"], gone["version"])
    add(db, s2, b, "b need", kind="need", followup_occurred_on="2026-05-01")
    add(db, m, c, "c need 1", kind="need", followup_occurred_on="2026-05-03")
    add(db, m, c, "c need 2", kind="need", followup_occurred_on="2026-05-03")
    add(db, s, d, "d need", kind="need")
    cs.archive_customer(db, m, d["id"], d["version"])
    return {"a": a, "b": b, "c": c, "d": d}


def summaries(rows) -> list[str]:
    return [r["followup_summary"] for r in rows]


def test_my_due_is_what_is_assigned_to_me_on_my_customers(db, actors, world):
    mine = home.my_due(db, actors["sales"], TODAY)
    # Not "b for sales": assigned to sales, but on a customer sales may not open.
    assert summaries(mine.rows) == ["a overdue", "a today"]
    assert (mine.total, mine.overdue, mine.due_today, mine.everyone, mine.by_assignee) == (2, 1, 1, False, [])
    row = mine.rows[0]
    a = world["a"]
    assert (row["customer_id"], row["customer_code"], row["customer_name"]) == (a["id"], a["code"], a["name"])
    assert (row["followup_assignee"], row["followup_due_on"], row["version"]) == ("sales", date(2026, 6, 10), 1)
    theirs = home.my_due(db, actors["sales2"], TODAY)
    assert summaries(theirs.rows) == ["b overdue"] and (theirs.total, theirs.overdue) == (1, 1)
    assert home.my_due(db, actors["viewer"], TODAY).total == 0
    # A day later, today's becomes overdue and the manager's is due.
    later = home.my_due(db, actors["sales"], TODAY + timedelta(days=5))
    assert (later.total, later.overdue, later.due_today) == (3, 2, 1)


def test_managers_see_everyones_due_follow_ups_with_counts_per_assignee(db, actors, world):
    m = actors["manager"]
    due = home.my_due(db, m, TODAY)
    assert due.everyone
    assert summaries(due.rows) == ["a overdue", "b overdue", "b for sales", "a for sales2", "a today", "c today"]
    assert [r["followup_assignee"] for r in due.rows] == ["sales", "sales2", "sales", "sales2", "sales", "manager"]
    assert (due.total, due.overdue, due.due_today) == (6, 4, 2)
    assert due.by_assignee == [{"assignee": "sales", "total": 3, "overdue": 2},
                               {"assignee": "sales2", "total": 2, "overdue": 2},
                               {"assignee": "manager", "total": 1, "overdue": 0}]
    page = home.my_due(db, m, TODAY, limit=2, offset=2)
    assert summaries(page.rows) == ["b for sales", "a for sales2"] and page.total == 6
    own = home.my_due(db, m, TODAY, everyone=False)
    assert summaries(own.rows) == ["c today"] and (own.total, own.everyone) == (1, False)
    with pytest.raises(PermissionDenied):
        home.my_due(db, actors["sales"], TODAY, everyone=True)


def test_open_needs_per_owner(db, actors, world):
    everyone = home.open_needs(db, actors["manager"])
    assert summaries(everyone.rows) == ["b need", "a need", "c need 1", "c need 2"]  # the longest waiting first
    assert everyone.total == 4
    assert everyone.by_owner == [{"owner": "manager", "total": 2}, {"owner": "sales", "total": 1},
                                 {"owner": "sales2", "total": 1}]
    assert all(r["followup_need_state"] == "open" and r["customer_code"] for r in everyone.rows)
    mine = home.open_needs(db, actors["sales"])
    assert summaries(mine.rows) == ["a need"] and mine.by_owner == [{"owner": "sales", "total": 1}]
    assert home.open_needs(db, actors["viewer"]).total == 4
    page = home.open_needs(db, actors["manager"], limit=1, offset=3)
    assert summaries(page.rows) == ["c need 2"] and page.total == 4
    # Met is no longer open.
    need = mine.rows[0]
    fu.set_need_state(db, actors["sales"], need["id"], "met", need["version"])
    assert home.open_needs(db, actors["sales"]).total == 0 and home.open_needs(db, actors["manager"]).total == 3


def set_reviewed(db, customer, days_ago):
    with db.transaction() as cur:
        cur.execute("UPDATE customers SET reviewed_at = ? WHERE id = ?", [utcnow() - timedelta(days=days_ago),
                                                                          customer["id"]])


def test_not_reviewed_uses_the_review_period_setting(db, actors, world):
    set_reviewed(db, world["a"], 200)
    set_reviewed(db, world["b"], 190)
    set_reviewed(db, world["c"], 10)
    set_reviewed(db, world["d"], 300)  # archived: not on the list
    m = actors["manager"]
    stale = home.not_reviewed(db, m)
    assert stale.days == 180 and stale.total == 2
    assert [r["customer_code"] for r in stale.rows] == [world["a"]["code"], world["b"]["code"]]
    assert {"customer_id", "customer_name", "reviewed_at"} <= set(stale.rows[0])
    assert [r["customer_id"] for r in home.not_reviewed(db, actors["sales"]).rows] == [world["a"]["id"]]
    assert home.not_reviewed(db, m, days=5).total == 3
    assert [r["customer_id"] for r in home.not_reviewed(db, m, limit=1, offset=1).rows] == [world["b"]["id"]]
    with db.transaction() as cur:
        cur.execute("UPDATE settings SET value = '195' WHERE key = 'review_days'")
    db.invalidate("settings")
    assert [r["customer_id"] for r in home.not_reviewed(db, m).rows] == [world["a"]["id"]]
    # A review takes it off the list.
    a = cs.get_customer(db, m, world["a"]["id"])
    cs.update_customer(db, m, a["id"], {"notes": "复核"}, a["version"])
    assert home.not_reviewed(db, m).total == 0


def test_recently_changed_counts_changes_to_the_customer_and_its_parts(db, actors, world):
    with db.transaction() as cur:
        for key, days_ago in (("a", 1), ("b", 2), ("c", 30)):
            cur.execute("UPDATE audit_log SET changed_at = ? WHERE customer_id = ?",
                        [utcnow() - timedelta(days=days_ago), world[key]["id"]])
        a_changes = cur.execute("SELECT count(*) FROM audit_log WHERE customer_id = ?",
                                [world["a"]["id"]]).fetchone()[0]
    m = actors["manager"]
    recent = home.recently_changed(db, m)
    assert [r["customer_id"] for r in recent.rows] == [world["a"]["id"], world["b"]["id"]] and recent.total == 2
    assert (recent.rows[0]["changes"], recent.rows[0]["customer_code"]) == (a_changes, world["a"]["code"])
    assert a_changes > 10  # the follow-ups' entries count
    assert recent.rows[1]["changed_by"] == "sales2"  # "b need" was b's latest entry
    assert [r["customer_id"] for r in home.recently_changed(db, actors["sales"]).rows] == [world["a"]["id"]]
    assert home.recently_changed(db, m, days=60).total == 3
    # The total is the whole list's on every page, and past the last page too.
    second = home.recently_changed(db, m, days=60, limit=2, offset=2)
    assert ([r["customer_id"] for r in second.rows], second.total) == ([world["c"]["id"]], 3)
    assert set(second.rows[0]) == set(recent.rows[0])
    beyond = home.recently_changed(db, m, days=60, limit=2, offset=10)
    assert (beyond.rows, beyond.total) == ([], 3)
    # A new follow-up puts a customer back on the list, as its latest change.
    add(db, m, world["c"], "c again")
    assert [r["customer_id"] for r in home.recently_changed(db, m, limit=1).rows] == [world["c"]["id"]]


def test_the_lists_come_from_memory_until_anyone_writes(db, actors, world, monkeypatch):
    """A rerun of the home page (a widget on it) draws it again at once: its four lists
    are read from the cache while nothing was written, and afresh after anyone's write."""
    m = actors["manager"]
    calls = []
    counts_and_page, rows = home._counts_and_page, home._rows
    monkeypatch.setattr(home, "_counts_and_page", lambda *a, **k: calls.append(1) or counts_and_page(*a, **k))
    monkeypatch.setattr(home, "_rows", lambda *a, **k: calls.append(1) or rows(*a, **k))

    def view():
        return home.my_due(db, m, TODAY), home.open_needs(db, m), home.not_reviewed(db, m), home.recently_changed(db, m)

    first = view()
    read = len(calls)
    assert read >= 4
    again = view()
    assert len(calls) == read and again == first
    again[0].rows[0]["followup_summary"] = "changed by the page"  # a copy: the cached answer stays
    assert view()[0].rows[0]["followup_summary"] == "a overdue"
    # A salesperson marks a follow-up done: the manager's next view reads afresh and shows it.
    due = first[0].rows[0]
    fu.mark_done(db, actors["sales"], due["id"], due["version"])
    after = view()
    assert len(calls) > read
    assert after[0].total == first[0].total - 1 and due["id"] not in [r["id"] for r in after[0].rows]
    assert after[3].rows[0]["customer_id"] == world["a"]["id"]  # the latest change
