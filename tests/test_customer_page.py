"""Services behind the customer page: find by code, mark as reviewed, paged history,
restore an earlier version, and a save that changes nothing."""
from __future__ import annotations

import json

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
