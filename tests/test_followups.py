"""Follow-ups (跟进) through the parts write path, and the date kind they introduce
(service layer, real DuckDB file)."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from lib.accounts import permissions as perm
from lib.core.errors import ConflictError, CustomerMasterError, NotFound, PermissionDenied, ValidationError
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers import followups as fu
from lib.customers.kinds import Problems, clean_date
from tests.test_permissions import set_permission

CALL = {"followup_kind": "call", "followup_summary": "电话沟通采购需求"}
DATE_FIELD = F.by_name("followup_due_on", F.FOLLOWUP_FIELDS)


def audit(db, customer_id) -> list[tuple]:
    with db.read() as cur:
        return cur.execute("SELECT action, entity_id, version, actor, changes FROM audit_log"
                           " WHERE customer_id = ? AND entity = 'followup' ORDER BY id", [customer_id]).fetchall()


def stored(db, followup_id) -> dict:
    with db.read() as cur:
        res = cur.execute("SELECT * FROM follow_ups WHERE id = ?", [followup_id])
        return dict(zip([d[0] for d in res.description], res.fetchone()))


# -- the date kind -------------------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    (date(2026, 3, 1), date(2026, 3, 1)),
    (datetime(2026, 3, 1, 23, 59), date(2026, 3, 1)),  # naive: its own date
    (datetime(2026, 3, 1, 20, 0, tzinfo=timezone.utc), date(2026, 3, 2)),  # 04:00 next day in Shanghai
    (pd.Timestamp("2026-03-01 10:00"), date(2026, 3, 1)),
    ("2026-03-01", date(2026, 3, 1)), (" 2026/03/01 ", date(2026, 3, 1)), ("2026/3/1", date(2026, 3, 1)),
    ("2024-02-29", date(2024, 2, 29)),
    (None, None), ("", None), ("  ", None), (float("nan"), None), (pd.NaT, None),
])
def test_the_date_kind_reads_dates_datetimes_and_iso_or_slashed_text(raw, expected):
    problems = Problems()
    assert clean_date(raw, DATE_FIELD, problems) == expected
    assert problems.errors == []


@pytest.mark.parametrize("raw, key", [
    ("2026-02-30", "validation.date_invalid"), ("2025-02-29", "validation.date_invalid"),
    ("01/03/2026", "validation.date_invalid"), ("2026.03.01", "validation.date_invalid"),
    ("2026-03/01", "validation.date_invalid"), ("20260301", "validation.date_invalid"),
    ("明天", "validation.date_invalid"), (20260301, "validation.date_invalid"), (True, "validation.date_invalid"),
    ("1899-12-31", "validation.date_out_of_range"), (date(2100, 1, 1), "validation.date_out_of_range"),
])
def test_the_date_kind_refuses_anything_else(raw, key):
    problems = Problems()
    assert clean_date(raw, DATE_FIELD, problems) is None
    assert [(p.field, p.key) for p in problems.errors] == [("followup_due_on", key)]


# -- adding ---------------------------------------------------------------------------------
def test_a_follow_up_gets_todays_date_and_its_author_as_assignee_of_a_next_action(db, actors, make_customer,
                                                                                   monkeypatch):
    monkeypatch.setattr(fu, "local_today", lambda: date(2026, 6, 15))
    c = make_customer(owner="sales")
    s = actors["sales"]
    plain = fu.add_followup(db, s, c["id"], CALL)
    assert (plain["followup_occurred_on"], plain["followup_assignee"], plain["followup_need_state"],
            plain["done"], plain["created_by"], plain["version"]) == (date(2026, 6, 15), None, None, False, "sales", 1)
    task = fu.add_followup(db, s, c["id"], {**CALL, "followup_occurred_on": "2026/6/1",
                                            "followup_next_action": "发送正式报价单"})
    assert (task["followup_occurred_on"], task["followup_assignee"]) == (date(2026, 6, 1), "sales")
    due = fu.add_followup(db, actors["manager"], c["id"], {**CALL, "followup_due_on": "2026-06-20"})
    assert due["followup_assignee"] == "manager"  # the author, whoever owns the customer
    given = fu.add_followup(db, actors["manager"], c["id"], {**CALL, "followup_due_on": "2026-06-20",
                                                             "followup_assignee": "sales"})
    assert given["followup_assignee"] == "sales"
    row = stored(db, due["id"])
    assert (row["kind"], row["due_on"], row["assignee"], row["customer_id"]) == ("call", date(2026, 6, 20),
                                                                                 "manager", c["id"])


def test_bad_follow_up_input_lists_every_problem_and_writes_nothing(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer()
    with pytest.raises(ValidationError) as ei:
        fu.add_followup(db, m, c["id"], {"followup_kind": "fax", "followup_summary": "x" * 2001,
                                         "followup_next_action": "y" * 501, "followup_due_on": "2026-13-01",
                                         "followup_occurred_on": "昨天", "followup_assignee": "nobody"})
    assert {(p.field, p.key) for p in ei.value.problems} == {
        ("followup_kind", "validation.not_in_list"), ("followup_summary", "validation.too_long"),
        ("followup_next_action", "validation.too_long"), ("followup_due_on", "validation.date_invalid"),
        ("followup_occurred_on", "validation.date_invalid"), ("followup_assignee", "validation.unknown_user")}
    with pytest.raises(ValidationError) as ei:
        fu.add_followup(db, m, c["id"], {"followup_summary": "  "})
    assert {(p.field, p.key) for p in ei.value.problems} == {
        ("followup_kind", "validation.required"), ("followup_summary", "validation.required")}
    with pytest.raises(ValidationError) as ei:
        fu.add_followup(db, m, c["id"], {**CALL, "done": True, "campaign": "x"})
    assert {p.key for p in ei.value.problems} == {"validation.read_only"}
    assert fu.followups_of(db, m, c["id"]) == ([], 0)
    assert audit(db, c["id"]) == []


# -- needs ------------------------------------------------------------------------------------
def test_a_need_starts_open_and_moves_to_met_or_dropped(db, actors, make_customer):
    s = actors["sales"]
    c = make_customer(owner="sales")
    need = fu.add_followup(db, s, c["id"], {"followup_kind": "need", "followup_summary": "需要英文版说明书"})
    assert need["followup_need_state"] == "open"
    met = fu.set_need_state(db, s, need["id"], "met", need["version"])
    assert (met["followup_need_state"], met["version"]) == ("met", 2)
    dropped = fu.set_need_state(db, s, need["id"], "已放弃", met["version"])  # a label works too
    assert dropped["followup_need_state"] == "dropped"
    with pytest.raises(ValidationError) as ei:
        fu.set_need_state(db, s, need["id"], "closed", dropped["version"])
    assert ei.value.problems[0].key == "validation.not_in_list"
    # A need added with a state keeps it; a call that becomes a need starts open.
    met_at_once = fu.add_followup(db, s, c["id"], {"followup_kind": "need", "followup_summary": "x",
                                                   "followup_need_state": "met"})
    assert met_at_once["followup_need_state"] == "met"
    call = fu.add_followup(db, s, c["id"], CALL)
    became = fu.change_followup(db, s, call["id"], {"followup_kind": "need"}, call["version"])
    assert became["followup_need_state"] == "open"
    changes = [json.loads(ch) for *_, ch in audit(db, c["id"])]
    assert changes[1] == {"followup_need_state": ["open", "met"]}


def test_only_a_need_has_a_state(db, actors, make_customer):
    s = actors["sales"]
    c = make_customer(owner="sales")
    with pytest.raises(ValidationError) as ei:
        fu.add_followup(db, s, c["id"], {**CALL, "followup_need_state": "open"})
    assert [(p.field, p.key) for p in ei.value.problems] == [("followup_need_state",
                                                              "validation.need_state_only_for_needs")]
    assert fu.followups_of(db, s, c["id"])[1] == 0
    call = fu.add_followup(db, s, c["id"], CALL)
    with pytest.raises(ValidationError):
        fu.set_need_state(db, s, call["id"], "met", call["version"])
    need = fu.add_followup(db, s, c["id"], {"followup_kind": "need", "followup_summary": "x"})
    # A need that becomes a call must lose its state in the same change.
    with pytest.raises(ValidationError) as ei:
        fu.change_followup(db, s, need["id"], {"followup_kind": "visit"}, need["version"])
    assert ei.value.field == "followup_need_state"
    visit = fu.change_followup(db, s, need["id"], {"followup_kind": "visit", "followup_need_state": None},
                               need["version"])
    assert (visit["followup_kind"], visit["followup_need_state"]) == ("visit", None)
    assert stored(db, call["id"])["need_state"] is None and stored(db, call["id"])["version"] == 1


# -- done -------------------------------------------------------------------------------------
def test_mark_done_stamps_who_and_when_is_audited_and_can_be_undone(db, actors, make_customer):
    s = actors["sales"]
    c = make_customer(owner="sales")
    task = fu.add_followup(db, s, c["id"], {**CALL, "followup_due_on": "2026-06-20"})
    done = fu.mark_done(db, s, task["id"], task["version"])
    assert (done["done"], done["done_by"], done["version"]) == (True, "sales", 2)
    row = stored(db, task["id"])
    assert (row["done"], row["done_by"], row["done_at"], row["updated_by"]) == (True, "sales", done["done_at"],
                                                                                "sales")
    assert row["done_at"] is not None
    again = fu.mark_done(db, s, task["id"], done["version"])  # already done: nothing to write
    assert again["version"] == 2
    undone = fu.mark_done(db, s, task["id"], done["version"], done=False)
    assert (undone["done"], undone["done_at"], undone["done_by"], undone["version"]) == (False, None, None, 3)
    entries = audit(db, c["id"])
    assert [(a, v, who) for a, _, v, who, _ in entries] == [("create", 1, "sales"), ("update", 2, "sales"),
                                                            ("update", 3, "sales")]
    marked, unmarked = json.loads(entries[1][4]), json.loads(entries[2][4])
    assert marked == {"done": [False, True], "done_at": [None, row["done_at"].isoformat()], "done_by": [None, "sales"]}
    assert unmarked == {"done": [True, False], "done_at": [row["done_at"].isoformat(), None],
                        "done_by": ["sales", None]}


# -- who may do what ------------------------------------------------------------------------------
def test_author_and_assignee_may_edit_others_may_not(db, actors, make_customer):
    m, s = actors["manager"], actors["sales"]
    c = make_customer(owner="sales")
    # A manager's note on the salesperson's customer: not the salesperson's to change.
    note = fu.add_followup(db, m, c["id"], {"followup_kind": "note", "followup_summary": "经理备注"})
    for write in (lambda: fu.change_followup(db, s, note["id"], {"followup_summary": "改"}, note["version"]),
                  lambda: fu.mark_done(db, s, note["id"], note["version"]),
                  lambda: fu.remove_followup(db, s, note["id"], note["version"])):
        with pytest.raises(PermissionDenied) as ei:
            write()
        assert ei.value.key == "error.followup_not_yours" and ei.value.params == {"code": c["code"]}
    assert stored(db, note["id"])["version"] == 1
    # Assigned to the salesperson: now theirs to change and mark done.
    task = fu.add_followup(db, m, c["id"], {**CALL, "followup_next_action": "寄送样品", "followup_assignee": "sales"})
    task = fu.change_followup(db, s, task["id"], {"followup_next_action": "寄送两份样品"}, task["version"])
    task = fu.mark_done(db, s, task["id"], task["version"])
    assert (task["done_by"], task["updated_by"]) == ("sales", "sales")
    # The author may; a manager may change anyone's (followup.edit_any).
    own = fu.add_followup(db, s, c["id"], CALL)
    own = fu.change_followup(db, s, own["id"], {"followup_summary": "改过"}, own["version"])
    own = fu.change_followup(db, m, own["id"], {"followup_summary": "经理改过"}, own["version"])
    fu.remove_followup(db, actors["admin"], own["id"], own["version"])
    assert {r["id"] for r in fu.followups_of(db, s, c["id"])[0]} == {note["id"], task["id"]}


def test_the_edit_any_row_is_what_lets_a_manager_edit(db, actors, make_customer):
    c = make_customer(owner="sales")
    own = fu.add_followup(db, actors["sales"], c["id"], CALL)
    set_permission(db, "manager", perm.FOLLOWUP_EDIT_ANY, None)
    manager = db.actor("manager", "manager")
    with pytest.raises(PermissionDenied):
        fu.change_followup(db, manager, own["id"], {"followup_summary": "x"}, own["version"])
    # Adding needs only the right to change the customer.
    assert fu.add_followup(db, manager, c["id"], CALL)["created_by"] == "manager"


def test_sales_and_viewers(db, actors, make_customer):
    s, s2, v = actors["sales"], actors["sales2"], actors["viewer"]
    theirs = make_customer(owner="sales2")
    mine = make_customer(owner="sales")
    other = fu.add_followup(db, s2, theirs["id"], CALL)
    # Another owner's customer: not found, for reading and writing alike.
    for call in (lambda: fu.add_followup(db, s, theirs["id"], CALL),
                 lambda: fu.followups_of(db, s, theirs["id"]),
                 lambda: fu.get_followup(db, s, other["id"]),
                 lambda: fu.change_followup(db, s, other["id"], {"followup_summary": "x"}, other["version"]),
                 lambda: fu.mark_done(db, s, other["id"], other["version"]),
                 lambda: fu.remove_followup(db, s, other["id"], other["version"])):
        with pytest.raises(NotFound):
            call()
    # A viewer reads and writes nothing, not even a follow-up assigned to them.
    assigned = fu.add_followup(db, actors["manager"], mine["id"], {**CALL, "followup_due_on": "2026-06-20",
                                                                   "followup_assignee": "viewer"})
    assert fu.followups_of(db, v, mine["id"])[1] == 1
    for call in (lambda: fu.add_followup(db, v, mine["id"], CALL),
                 lambda: fu.mark_done(db, v, assigned["id"], assigned["version"]),
                 lambda: fu.change_followup(db, v, assigned["id"], {"followup_summary": "x"}, assigned["version"])):
        with pytest.raises(PermissionDenied):
            call()
    assert stored(db, assigned["id"])["version"] == 1 and len(audit(db, mine["id"])) == 1


def test_a_stale_follow_up_edit_is_refused_with_the_stored_values(db, actors, make_customer):
    m, s = actors["manager"], actors["sales"]
    c = make_customer(owner="sales")
    need = fu.add_followup(db, s, c["id"], {"followup_kind": "need", "followup_summary": "要样品"})
    fu.change_followup(db, m, need["id"], {"followup_summary": "要两份样品"}, need["version"])
    for stale in (lambda: fu.change_followup(db, s, need["id"], {"followup_summary": "要三份"}, need["version"]),
                  lambda: fu.mark_done(db, s, need["id"], need["version"]),
                  lambda: fu.set_need_state(db, s, need["id"], "met", need["version"]),
                  lambda: fu.remove_followup(db, s, need["id"], need["version"])):
        with pytest.raises(ConflictError) as ei:
            stale()
        assert ei.value.current["followup_summary"] == "要两份样品" and ei.value.params["by"] == "manager"
    row = stored(db, need["id"])
    assert (row["version"], row["done"], row["need_state"], row["deleted"]) == (2, False, "open", False)


# -- reading, removing, auditing ---------------------------------------------------------------------
def test_follow_ups_come_newest_first_and_paged(db, actors, make_customer):
    s = actors["sales"]
    c = make_customer(owner="sales")
    days = ["2026-05-03", "2026-05-01", "2026-05-03", "2026-05-02", "2026-04-30"]
    ids = [fu.add_followup(db, s, c["id"], {**CALL, "followup_occurred_on": d})["id"] for d in days]
    expected = [ids[2], ids[0], ids[3], ids[1], ids[4]]  # by date, then the later entry first
    rows, total = fu.followups_of(db, s, c["id"])
    assert [r["id"] for r in rows] == expected and total == 5
    page2, total = fu.followups_of(db, s, c["id"], limit=2, offset=2)
    assert [r["id"] for r in page2] == expected[2:4] and total == 5
    gone = rows[0]
    fu.remove_followup(db, s, gone["id"], gone["version"])
    rows, total = fu.followups_of(db, s, c["id"], limit=2)
    assert [r["id"] for r in rows] == expected[1:3] and total == 4
    assert stored(db, gone["id"])["deleted"] is True
    with pytest.raises(NotFound):
        fu.get_followup(db, s, gone["id"])
    assert audit(db, c["id"])[-1][0] == "delete"


def test_every_follow_up_write_is_audited_on_the_customers_history(db, actors, make_customer):
    s = actors["sales"]
    c = make_customer(owner="sales")
    a = fu.add_followup(db, s, c["id"], {**CALL, "followup_occurred_on": "2026-06-01",
                                         "followup_due_on": date(2026, 6, 20)})
    a = fu.change_followup(db, s, a["id"], {"followup_due_on": "2026/6/22"}, a["version"])
    same = fu.change_followup(db, s, a["id"], {"followup_due_on": "2026-06-22", "followup_summary": " 电话沟通采购需求 "},
                              a["version"])
    assert same["version"] == a["version"]  # a change that changes nothing writes nothing
    fu.remove_followup(db, s, a["id"], a["version"])
    entries = audit(db, c["id"])
    assert [(act, eid, v) for act, eid, v, _, _ in entries] == [("create", a["id"], 1), ("update", a["id"], 2),
                                                                ("delete", a["id"], 3)]
    created = json.loads(entries[0][4])
    assert created == {"followup_kind": [None, "call"], "followup_occurred_on": [None, "2026-06-01"],
                       "followup_summary": [None, "电话沟通采购需求"], "followup_due_on": [None, "2026-06-20"],
                       "followup_assignee": [None, "sales"]}
    assert json.loads(entries[1][4]) == {"followup_due_on": ["2026-06-20", "2026-06-22"]}
    assert [e["entity"] for e in cs.history(db, s, c["id"])].count("followup") == 3


class AuditDown(Exception):
    pass


def test_a_follow_up_write_and_its_audit_entry_commit_together(db, actors, make_customer, monkeypatch):
    s = actors["sales"]
    c = make_customer(owner="sales")
    a = fu.add_followup(db, s, c["id"], CALL)

    def failing_audit(*args, **kwargs):
        raise AuditDown()

    monkeypatch.setattr(cs, "append_audit", failing_audit)
    for write in (lambda: fu.add_followup(db, s, c["id"], CALL),
                  lambda: fu.mark_done(db, s, a["id"], a["version"]),
                  lambda: fu.change_followup(db, s, a["id"], {"followup_summary": "x"}, a["version"]),
                  lambda: fu.remove_followup(db, s, a["id"], a["version"])):
        with pytest.raises(AuditDown):
            write()
    monkeypatch.undo()
    assert fu.followups_of(db, s, c["id"]) == ([fu.get_followup(db, s, a["id"])], 1)
    assert stored(db, a["id"])["version"] == 1


def test_an_archived_customers_follow_ups_are_read_only(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer(owner="sales")
    a = fu.add_followup(db, m, c["id"], CALL)
    cs.archive_customer(db, m, c["id"], c["version"])
    with pytest.raises(CustomerMasterError) as ei:
        fu.mark_done(db, m, a["id"], a["version"])
    assert ei.value.key == "error.archived"
    assert fu.followups_of(db, m, c["id"])[1] == 1 and stored(db, a["id"])["done"] is False


def test_the_declared_columns_are_the_tables_columns(db):
    """The bulk loader's schema (``followup_columns``) is every column of follow_ups."""
    from lib.customers.parts import PART_SYSTEM_COLUMNS

    with db.read() as cur:
        columns = {r[0]: r[1] for r in cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'follow_ups'").fetchall()}
    assert fu.followup_columns() == columns
    assert {*PART_SYSTEM_COLUMNS, *fu.FOLLOW_UP.system_defaults, fu.FOLLOW_UP.customer_column} \
        <= set(fu.SYSTEM_COLUMN_TYPES)


def test_a_follow_up_is_assigned_only_to_someone_who_can_open_the_customer(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer(owner="sales")
    values = {"followup_kind": "call", "followup_summary": "回访", "followup_due_on": "2026-12-31"}
    with pytest.raises(ValidationError) as ei:  # sales2 sees only sales2's customers
        fu.add_followup(db, m, c["id"], {**values, "followup_assignee": "sales2"})
    assert [(p.field, p.key) for p in ei.value.problems] == [("followup_assignee", "validation.assignee_cannot_see")]
    assert "sales2" in ei.value.problems[0].translate("zh")
    ok = fu.add_followup(db, m, c["id"], {**values, "followup_assignee": "sales"})
    viewer = fu.add_followup(db, m, c["id"], {**values, "followup_assignee": "viewer"})  # reads all
    with pytest.raises(ValidationError):
        fu.change_followup(db, m, ok["id"], {"followup_assignee": "sales2"}, ok["version"])
    # A change of something else keeps an assignee who could see the customer then.
    assert fu.change_followup(db, m, viewer["id"], {"followup_summary": "再次回访"},
                              viewer["version"])["followup_summary"] == "再次回访"
