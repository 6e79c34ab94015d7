"""A customer's contacts through the parts write path (service layer, real DuckDB file)."""
from __future__ import annotations

import json

import pytest

from lib.customers import contacts as ct
from lib.customers import customer as cs
from lib.customers.search import CustomerFilters, search
from lib.core.errors import (ConfirmationRequired, ConflictError, CustomerMasterError, NotFound, PermissionDenied,
                             ValidationError)


def primaries(db, actor, customer_id) -> list[str]:
    rows, _ = ct.contacts_of(db, actor, customer_id)
    return [r["contact_name"] for r in rows if r["is_primary"]]


def audit(db, customer_id, entity="contact") -> list[tuple]:
    with db.read() as cur:
        return cur.execute("SELECT action, entity_id, version, changes FROM audit_log"
                           " WHERE customer_id = ? AND entity = ? ORDER BY id", [customer_id, entity]).fetchall()


def found(db, actor, text) -> list[str]:
    return [r["code"] for r in search(db, actor, CustomerFilters(text=text)).rows]


def test_the_first_contact_is_primary_and_shows_as_the_customers_contact(db, actors, make_customer):
    c = make_customer()  # no contact typed at entry
    m = actors["manager"]
    first = ct.add_contact(db, m, c["id"], {"contact_name": "周敏", "contact_title": "采购经理",
                                             "contact_department": "采购部", "contact_mobile": "139 0013 9001",
                                             "contact_email": "Zhou.Min@Example.com", "contact_notes": "周三下午可约"})
    assert first["is_primary"] and first["version"] == 1
    assert first["contact_mobile"] == "139 0013 9001" and first["contact_mobile_e164"] == "+8613900139001"
    assert first["contact_email"] == "Zhou.Min@example.com"
    rec = cs.get_customer(db, m, c["id"])
    assert (rec["contact_name"], rec["contact_title"], rec["contact_email"]) == ("周敏", "采购经理",
                                                                                 "Zhou.Min@example.com")
    assert rec["version"] == c["version"]  # the customer's own fields did not change
    second = ct.add_contact(db, m, c["id"], {"contact_name": "吴刚"})
    assert not second["is_primary"]
    assert primaries(db, m, c["id"]) == ["周敏"]


def test_exactly_one_primary_whatever_is_added_made_primary_or_removed(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer(contact_name="张三")  # the entry form's contact is the primary
    assert primaries(db, m, c["id"]) == ["张三"]
    li = ct.add_contact(db, m, c["id"], {"contact_name": "李四"}, primary=True)
    assert primaries(db, m, c["id"]) == ["李四"]
    assert cs.get_customer(db, m, c["id"])["contact_name"] == "李四"
    wang = ct.add_contact(db, m, c["id"], {"contact_name": "王五"})
    wang = ct.make_primary(db, m, wang["id"], wang["version"])
    assert wang["is_primary"] and primaries(db, m, c["id"]) == ["王五"]
    ct.remove_contact(db, m, wang["id"], wang["version"])
    # The oldest remaining contact takes over.
    assert primaries(db, m, c["id"]) == ["张三"]
    rows, total = ct.contacts_of(db, m, c["id"])
    assert total == 2 and [r["contact_name"] for r in rows] == ["张三", "李四"]
    li_now = next(r for r in rows if r["id"] == li["id"])
    ct.remove_contact(db, m, li_now["id"], li_now["version"])
    zhang = ct.contacts_of(db, m, c["id"])[0][0]
    ct.remove_contact(db, m, zhang["id"], zhang["version"])
    assert ct.contacts_of(db, m, c["id"]) == ([], 0)
    assert cs.get_customer(db, m, c["id"])["contact_name"] is None


def test_every_contact_finds_its_customer_and_a_removed_one_no_longer_does(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer(contact_name="张三")
    other = ct.add_contact(db, m, c["id"], {"contact_name": "欧阳娜娜", "contact_mobile": "13912345678",
                                             "contact_email": "nana@example.org"})
    for text in ("欧阳娜娜", "13912345678", "5678", "nana@example", "张三"):
        assert found(db, m, text) == [c["code"]], text
    ct.remove_contact(db, m, other["id"], other["version"])
    assert found(db, m, "欧阳娜娜") == [] and found(db, m, "13912345678") == []
    # A later update of the customer keeps the other contacts' values in its search text.
    mobile = ct.add_contact(db, m, c["id"], {"contact_name": "钱七", "contact_mobile": "13787654321"})
    cs.update_customer(db, m, c["id"], {"notes": "更新"}, c["version"])
    assert found(db, m, "13787654321") == [c["code"]]
    assert mobile["customer_id"] == c["id"]


def test_every_contact_write_is_audited_with_its_values(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer()
    a = ct.add_contact(db, m, c["id"], {"contact_name": "周敏", "contact_phone": "0592-5555555"})
    a = ct.change_contact(db, m, a["id"], {"contact_title": "总经理"}, a["version"])
    b = ct.add_contact(db, m, c["id"], {"contact_name": "吴刚"})
    b = ct.make_primary(db, m, b["id"], b["version"])
    ct.remove_contact(db, m, b["id"], b["version"])
    entries = [(action, entity_id, version) for action, entity_id, version, _ in audit(db, c["id"])]
    assert entries == [
        ("create", a["id"], 1), ("update", a["id"], 2), ("create", b["id"], 1),
        ("update", b["id"], 2), ("update", a["id"], 3),  # b made primary, a no longer
        ("delete", b["id"], 3), ("update", a["id"], 4),  # b removed, a primary again
    ]
    changes = [json.loads(ch) for *_, ch in audit(db, c["id"])]
    assert changes[0] == {"contact_name": [None, "周敏"], "contact_phone": [None, "0592-5555555"],
                          "is_primary": [None, True]}
    assert changes[1] == {"contact_title": [None, "总经理"]}
    assert changes[5]["contact_name"] == ["吴刚", None]
    # The customer's history shows its contacts' changes.
    assert [e["entity"] for e in cs.history(db, m, c["id"])].count("contact") == 7


def test_a_change_that_changes_nothing_writes_nothing(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer()
    a = ct.add_contact(db, m, c["id"], {"contact_name": "周敏", "contact_email": "zm@example.com"})
    same = ct.change_contact(db, m, a["id"], {"contact_name": " 周敏 ", "contact_email": "zm@EXAMPLE.com"},
                             a["version"])
    assert same["version"] == 1
    assert len(audit(db, c["id"])) == 1


def test_a_stale_contact_edit_is_refused_with_the_stored_values(db, actors, make_customer):
    m, s = actors["manager"], actors["sales"]
    c = make_customer(owner="sales")
    a = ct.add_contact(db, s, c["id"], {"contact_name": "周敏"})
    ct.change_contact(db, m, a["id"], {"contact_title": "总经理"}, a["version"])
    with pytest.raises(ConflictError) as ei:
        ct.change_contact(db, s, a["id"], {"contact_title": "副总"}, a["version"])
    assert ei.value.current["contact_title"] == "总经理" and ei.value.params["by"] == "manager"
    with pytest.raises(ConflictError):
        ct.remove_contact(db, s, a["id"], a["version"])
    with pytest.raises(ConflictError):
        ct.make_primary(db, s, a["id"], a["version"])


def test_bad_contact_input_lists_every_problem_and_writes_nothing(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer()
    with pytest.raises(ValidationError) as ei:
        ct.add_contact(db, m, c["id"], {"contact_name": "", "contact_email": "bad", "contact_title": "x" * 101})
    assert {(p.field, p.key) for p in ei.value.problems} == {
        ("contact_name", "validation.required"), ("contact_email", "validation.email_invalid"),
        ("contact_title", "validation.too_long")}
    with pytest.raises(ValidationError) as ei:
        ct.add_contact(db, m, c["id"], {"contact_name": "周敏", "is_primary": True, "customer_id": 1})
    assert {p.key for p in ei.value.problems} == {"validation.read_only"}
    with pytest.raises(ConfirmationRequired) as ei:
        ct.add_contact(db, m, c["id"], {"contact_name": "周敏", "contact_mobile": "12012345678"})
    assert ei.value.codes == {"contact_mobile.invalid"}
    assert ct.contacts_of(db, m, c["id"]) == ([], 0)
    ok = ct.add_contact(db, m, c["id"], {"contact_name": "周敏", "contact_mobile": "12012345678"},
                        confirm={"contact_mobile.invalid"})
    assert ok["contact_mobile"] == "12012345678"


def test_who_may_touch_contacts(db, actors, make_customer):
    own = make_customer(owner="sales")
    others = make_customer(owner="sales2")
    s, v = actors["sales"], actors["viewer"]
    a = ct.add_contact(db, s, own["id"], {"contact_name": "周敏"})
    # Another owner's customer: not found (a salesperson learns nothing about it).
    with pytest.raises(NotFound):
        ct.add_contact(db, s, others["id"], {"contact_name": "x"})
    with pytest.raises(NotFound):
        ct.contacts_of(db, s, others["id"])
    b = ct.add_contact(db, actors["sales2"], others["id"], {"contact_name": "吴刚"})
    with pytest.raises(NotFound):
        ct.change_contact(db, s, b["id"], {"contact_title": "x"}, b["version"])
    with pytest.raises(NotFound):
        ct.remove_contact(db, s, b["id"], b["version"])
    # A viewer reads but writes nothing.
    assert ct.contacts_of(db, v, own["id"])[1] == 1
    with pytest.raises(PermissionDenied):
        ct.add_contact(db, v, own["id"], {"contact_name": "x"})
    with pytest.raises(PermissionDenied):
        ct.change_contact(db, v, a["id"], {"contact_title": "x"}, a["version"])
    # An archived customer's file is read-only until restored.
    archived = cs.archive_customer(db, actors["manager"], own["id"], own["version"])
    with pytest.raises(CustomerMasterError) as ei:
        ct.add_contact(db, s, own["id"], {"contact_name": "x"})
    assert ei.value.key == "error.archived"
    cs.restore_customer(db, actors["manager"], own["id"], archived["version"])
    assert ct.add_contact(db, s, own["id"], {"contact_name": "x"})["customer_id"] == own["id"]
    with pytest.raises(NotFound):
        ct.change_contact(db, s, 999_999, {"contact_title": "x"}, 1)


class AuditDown(Exception):
    pass


def test_a_contact_write_and_its_audit_entry_commit_together(db, actors, make_customer, monkeypatch):
    m = actors["manager"]
    c = make_customer(contact_name="张三")
    before = ct.contacts_of(db, m, c["id"])

    def failing_audit(*args, **kwargs):
        raise AuditDown()

    monkeypatch.setattr(cs, "append_audit", failing_audit)
    with pytest.raises(AuditDown):
        ct.add_contact(db, m, c["id"], {"contact_name": "李四"})
    zhang = before[0][0]
    for write in (lambda: ct.change_contact(db, m, zhang["id"], {"contact_title": "x"}, zhang["version"]),
                  lambda: ct.remove_contact(db, m, zhang["id"], zhang["version"])):
        with pytest.raises(AuditDown):
            write()
    assert ct.contacts_of(db, m, c["id"]) == before
    assert found(db, m, "李四") == []
