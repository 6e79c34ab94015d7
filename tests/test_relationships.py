"""Relationships between customers through the parts write path (service layer, real DuckDB file)."""
from __future__ import annotations

import json

import pytest

from lib.core.errors import (ConflictError, CustomerMasterError, DuplicateError, NotFound, PermissionDenied,
                             ValidationError)
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers import parts
from lib.customers import relationships as rel
from lib.customers.reference import RELATIONSHIP_KINDS


def seen_from(db, actor, customer_id) -> list[tuple[str, str]]:
    """(kind in the reader's words, other customer's code) of each link, newest first."""
    rows, _ = rel.links_of(db, actor, customer_id)
    return [(r["relationship_kind"], r["other_code"]) for r in rows]


def audit(db, customer_id) -> list[tuple]:
    with db.read() as cur:
        return cur.execute("SELECT action, entity_id, version, changes FROM audit_log"
                           " WHERE customer_id = ? AND entity = 'relationship' ORDER BY id", [customer_id]).fetchall()


def test_every_kind_has_an_inverse_that_reads_back():
    codes = {code for code, _, _ in RELATIONSHIP_KINDS}
    assert set(F.RELATIONSHIP_INVERSE) == codes
    assert all(rel.inverse(rel.inverse(k)) == k for k in codes)
    assert (rel.inverse("supplier"), rel.inverse("parent"), rel.inverse("partner")) == ("customer", "subsidiary",
                                                                                          "partner")


def test_a_link_shows_on_both_customers_in_each_ones_words(db, actors, make_customer):
    m = actors["manager"]
    a, b, c = make_customer(), make_customer(), make_customer()
    # A supplies B, entered on A's page: B is A's downstream customer.
    ab = rel.link(db, m, a["id"], b["id"], "customer", note="年度框架协议")
    assert (ab["customer_id"], ab["to_customer"], ab["relationship_kind"]) == (a["id"], b["id"], "customer")
    # C is B's parent company, entered on C's page: B is C's subsidiary.
    rel.link(db, m, c["id"], b["id"], "subsidiary")
    rel.link(db, m, a["id"], c["id"], "partner")
    assert seen_from(db, m, a["id"]) == [("partner", c["code"]), ("customer", b["code"])]
    assert seen_from(db, m, b["id"]) == [("parent", c["code"]), ("supplier", a["code"])]
    assert seen_from(db, m, c["id"]) == [("partner", a["code"]), ("subsidiary", b["code"])]
    on_b = rel.links_of(db, m, b["id"])[0][1]
    assert on_b["incoming"] and on_b["relationship_note"] == "年度框架协议" and on_b["other_id"] == a["id"]
    assert on_b["other_name"] == a["name"] and on_b["can_open"] and on_b["can_change"]
    assert on_b["id"] == ab["id"] and on_b["version"] == 1


def test_no_link_to_itself_nor_to_a_customer_that_is_gone(db, actors, make_customer):
    m = actors["manager"]
    a, gone = make_customer(), make_customer()
    with pytest.raises(CustomerMasterError) as ei:
        rel.link(db, m, a["id"], a["id"], "partner")
    assert ei.value.key == "error.relationship_self"
    cs.archive_customer(db, m, gone["id"], gone["version"])
    for other in (gone["id"], 999_999, None, "1"):
        with pytest.raises(CustomerMasterError) as ei:
            rel.link(db, m, a["id"], other, "partner")
        assert ei.value.key == "error.relationship_other_missing", other
    with pytest.raises(ValidationError) as ei:
        rel.link(db, m, a["id"], gone["id"], "friend", note="x" * 501)
    assert {(p.field, p.key) for p in ei.value.problems} == {("relationship_kind", "validation.not_in_list"),
                                                             ("relationship_note", "validation.too_long")}
    assert rel.links_of(db, m, a["id"]) == ([], 0)


def test_the_same_link_entered_from_either_side_is_a_duplicate(db, actors, make_customer):
    m = actors["manager"]
    a, b = make_customer(), make_customer()
    ab = rel.link(db, m, a["id"], b["id"], "customer")  # A supplies B
    for page, other, kind in ((a, b, "customer"), (b, a, "supplier")):
        with pytest.raises(DuplicateError) as ei:
            rel.link(db, m, page["id"], other["id"], kind)
        assert ei.value.key == "error.relationship_duplicate" and ei.value.params["code"] == other["code"]
    # Another meaning of the same pair is not a duplicate: B supplies A too.
    ba = rel.link(db, m, b["id"], a["id"], "customer")
    # Changing a link's kind so it repeats another is refused as well.
    with pytest.raises(DuplicateError):
        parts.change_part(db, m, rel.RELATIONSHIP, ba["id"], {"relationship_kind": "supplier"}, ba["version"])
    partners = rel.link(db, m, a["id"], b["id"], "partner")
    with pytest.raises(DuplicateError):
        rel.link(db, m, b["id"], a["id"], "partner")
    # A removed link no longer counts.
    rel.unlink(db, m, partners["id"], partners["version"])
    rel.link(db, m, b["id"], a["id"], "partner")
    rel.unlink(db, m, ab["id"], ab["version"])
    assert rel.link(db, m, b["id"], a["id"], "supplier")["relationship_kind"] == "supplier"
    assert rel.links_of(db, m, a["id"])[1] == 3


def test_no_company_becomes_its_own_parent(db, actors, make_customer):
    m = actors["manager"]
    a, b, c, d = (make_customer() for _ in range(4))
    rel.link(db, m, b["id"], a["id"], "parent")  # A is B's parent
    bc = rel.link(db, m, b["id"], c["id"], "subsidiary")  # C is B's subsidiary: B is C's parent
    for page, other, kind in ((a["id"], c["id"], "parent"),  # C parent of A
                              (c["id"], a["id"], "subsidiary"),  # A is C's subsidiary: the same, read from C
                              (a["id"], b["id"], "parent"),  # B parent of A: a cycle of two
                              (c["id"], b["id"], "subsidiary")):  # B is C's subsidiary: likewise
        with pytest.raises(CustomerMasterError) as ei:
            rel.link(db, m, page, other, kind)
        assert ei.value.key == "error.relationship_cycle", (page, other, kind)
    # A tree that merely shares descendants is fine: D is parent of C as well as B is.
    rel.link(db, m, c["id"], d["id"], "parent")
    rel.link(db, m, a["id"], d["id"], "subsidiary")
    # Other kinds never make a cycle, and a kind changed into parent is checked too.
    ca = rel.link(db, m, c["id"], a["id"], "partner")
    with pytest.raises(CustomerMasterError) as ei:
        parts.change_part(db, m, rel.RELATIONSHIP, ca["id"], {"relationship_kind": "subsidiary"}, ca["version"])
    assert ei.value.key == "error.relationship_cycle"
    # Once the middle link is gone, C may be A's parent... except through D (A is D's parent).
    rel.unlink(db, m, bc["id"], bc["version"])
    with pytest.raises(CustomerMasterError) as ei:
        rel.link(db, m, a["id"], c["id"], "parent")
    assert ei.value.key == "error.relationship_cycle"
    d_links = [r for r in rel.links_of(db, m, d["id"])[0]]
    for r in d_links:
        rel.unlink(db, m, r["id"], r["version"])
    assert rel.link(db, m, a["id"], c["id"], "parent")["relationship_kind"] == "parent"


def test_link_note_and_unlink_are_audited_on_both_customers(db, actors, make_customer):
    m = actors["manager"]
    a, b = make_customer(), make_customer()
    ab = rel.link(db, m, a["id"], b["id"], "customer", note="框架协议")
    ab = rel.change_note(db, m, ab["id"], "2026 年续签", ab["version"])
    assert ab["version"] == 2
    same = rel.change_note(db, m, ab["id"], " 2026 年续签 ", ab["version"])  # changes nothing, writes nothing
    assert same["version"] == 2
    rel.unlink(db, m, ab["id"], ab["version"])
    # A's history: the link in A's words, the other customer under to_customer.
    assert [(act, eid, ver) for act, eid, ver, _ in audit(db, a["id"])] == [
        ("create", ab["id"], 1), ("update", ab["id"], 2), ("delete", ab["id"], 3)]
    on_a = [json.loads(ch) for *_, ch in audit(db, a["id"])]
    assert on_a[0] == {"relationship_kind": [None, "customer"], "relationship_note": [None, "框架协议"],
                       "to_customer": [None, b["id"]]}
    assert on_a[1] == {"relationship_note": ["框架协议", "2026 年续签"]}
    assert on_a[2] == {"relationship_kind": ["customer", None], "relationship_note": ["2026 年续签", None],
                       "to_customer": [b["id"], None]}
    # B's history: the same three, in B's words (A supplies B), A under from_customer.
    assert [(act, eid, ver) for act, eid, ver, _ in audit(db, b["id"])] == [
        ("create", ab["id"], 1), ("update", ab["id"], 2), ("delete", ab["id"], 3)]
    on_b = [json.loads(ch) for *_, ch in audit(db, b["id"])]
    assert on_b[0] == {"relationship_kind": [None, "supplier"], "relationship_note": [None, "框架协议"],
                       "from_customer": [None, a["id"]]}
    assert on_b[1] == on_a[1]
    assert on_b[2] == {"relationship_kind": ["supplier", None], "relationship_note": ["2026 年续签", None],
                       "from_customer": [a["id"], None]}
    assert [e["entity"] for e in cs.history(db, m, b["id"])].count("relationship") == 3
    assert rel.links_of(db, m, a["id"]) == ([], 0) and rel.links_of(db, m, b["id"]) == ([], 0)


class AuditDown(Exception):
    pass


def test_a_link_and_both_audit_entries_commit_together(db, actors, make_customer, monkeypatch):
    m = actors["manager"]
    a, b = make_customer(), make_customer()
    real = cs.append_audit
    calls = []

    def second_fails(*args, **kwargs):
        calls.append(kwargs["customer_id"])
        if len(calls) % 2 == 0:  # the mirror entry on the other customer
            raise AuditDown()
        real(*args, **kwargs)

    ab = rel.link(db, m, a["id"], b["id"], "partner", note="旧")
    monkeypatch.setattr(cs, "append_audit", second_fails)
    for write in (lambda: rel.link(db, m, a["id"], b["id"], "customer"),
                  lambda: rel.change_note(db, m, ab["id"], "新", ab["version"]),
                  lambda: rel.unlink(db, m, ab["id"], ab["version"])):
        with pytest.raises(AuditDown):
            write()
    assert calls == [a["id"], b["id"]] * 3
    monkeypatch.setattr(cs, "append_audit", real)
    rows, total = rel.links_of(db, m, a["id"])
    assert total == 1 and (rows[0]["relationship_note"], rows[0]["version"]) == ("旧", 1)
    assert len(audit(db, a["id"])) == 1 and len(audit(db, b["id"])) == 1


def test_a_stale_note_edit_or_unlink_is_refused(db, actors, make_customer):
    m, s = actors["manager"], actors["sales"]
    a, b = make_customer(owner="sales"), make_customer()
    ab = rel.link(db, s, a["id"], b["id"], "supplier")
    rel.change_note(db, m, ab["id"], "经理的备注", ab["version"])
    with pytest.raises(ConflictError) as ei:
        rel.change_note(db, s, ab["id"], "我的备注", ab["version"])
    assert ei.value.current["relationship_note"] == "经理的备注" and ei.value.params["by"] == "manager"
    with pytest.raises(ConflictError):
        rel.unlink(db, s, ab["id"], ab["version"])
    assert rel.links_of(db, s, a["id"])[0][0]["relationship_note"] == "经理的备注"


def test_a_salesperson_links_to_a_customer_they_cannot_open_and_sees_only_its_name_and_code(
        db, actors, make_customer):
    s, s2, m = actors["sales"], actors["sales2"], actors["manager"]
    mine, theirs = make_customer(owner="sales"), make_customer(owner="sales2")
    link = rel.link(db, s, mine["id"], theirs["id"], "customer", note="经销")
    rows, total = rel.links_of(db, s, mine["id"])
    assert total == 1
    shown = rows[0]
    assert (shown["other_code"], shown["other_name"], shown["other_id"], shown["can_open"]) == (
        theirs["code"], theirs["name"], None, False)
    assert shown["can_change"]
    assert set(shown) == {"id", "version", "relationship_kind", "relationship_note", "incoming", "other_id",
                          "other_code", "other_name", "can_open", "can_change", "created_at", "created_by",
                          "updated_at", "updated_by"}  # nothing else of the other customer
    # The page's customer must be readable: the other owner's customer is "not found".
    for call in (lambda: rel.links_of(db, s, theirs["id"]),
                 lambda: rel.link(db, s, theirs["id"], mine["id"], "partner")):
        with pytest.raises(NotFound):
            call()
    # Its owner sees the link from their side, may not change it (it belongs to the
    # customer it was linked from, which they cannot open).
    on_theirs = rel.links_of(db, s2, theirs["id"])[0][0]
    assert (on_theirs["relationship_kind"], on_theirs["other_code"], on_theirs["can_open"],
            on_theirs["can_change"]) == ("supplier", mine["code"], False, False)
    with pytest.raises(NotFound):
        rel.change_note(db, s2, link["id"], "x", link["version"])
    assert rel.links_of(db, m, theirs["id"])[0][0]["can_change"]


def test_a_viewer_writes_nothing_and_an_archived_customer_links_nothing(db, actors, make_customer):
    m, v, s = actors["manager"], actors["viewer"], actors["sales"]
    a, b = make_customer(owner="sales"), make_customer()
    ab = rel.link(db, m, a["id"], b["id"], "partner")
    assert rel.links_of(db, v, a["id"])[1] == 1
    assert not rel.links_of(db, v, a["id"])[0][0]["can_change"]
    for write in (lambda: rel.link(db, v, a["id"], b["id"], "customer"),
                  lambda: rel.change_note(db, v, ab["id"], "x", ab["version"]),
                  lambda: rel.unlink(db, v, ab["id"], ab["version"]),
                  lambda: rel.link_candidates(db, v, "测试")):
        with pytest.raises(PermissionDenied):
            write()
    archived = cs.archive_customer(db, m, a["id"], a["version"])
    with pytest.raises(CustomerMasterError) as ei:
        rel.link(db, s, a["id"], b["id"], "customer")
    assert ei.value.key == "error.archived"
    cs.restore_customer(db, m, a["id"], archived["version"])
    assert rel.link(db, s, a["id"], b["id"], "customer")["customer_id"] == a["id"]


def test_links_are_paged_newest_first_with_a_total(db, actors, make_customer):
    m = actors["manager"]
    hub = make_customer()
    others = [make_customer() for _ in range(5)]
    for i, o in enumerate(others):
        if i % 2:
            rel.link(db, m, hub["id"], o["id"], "customer")
        else:
            rel.link(db, m, o["id"], hub["id"], "customer")  # hub is o's customer: o supplies hub
    newest_first = [o["code"] for o in reversed(others)]
    first, total = rel.links_of(db, m, hub["id"], limit=2)
    second, _ = rel.links_of(db, m, hub["id"], limit=2, offset=2)
    third, _ = rel.links_of(db, m, hub["id"], limit=2, offset=4)
    assert total == 5
    assert [r["other_code"] for r in first + second + third] == newest_first
    assert [r["relationship_kind"] for r in first + second + third] == [
        "supplier", "customer", "supplier", "customer", "supplier"]


def test_candidates_come_from_all_customers_by_name_code_or_pinyin_with_only_id_code_and_name(
        db, actors, make_customer):
    s, m = actors["sales"], actors["manager"]
    mine = make_customer(owner="sales", name="厦门示例贸易有限公司")
    bank = make_customer(owner="sales2", name="厦门银行股份有限公司", phone="13900139000")
    other_bank = make_customer(owner="sales2", name="厦门国际银行股份有限公司")
    gone = make_customer(name="厦门银行旧址有限公司")
    cs.archive_customer(db, m, gone["id"], gone["version"])
    merged = make_customer(name="厦门银行合并有限公司")
    with db.transaction() as cur:
        cur.execute("UPDATE customers SET merged_into = ? WHERE id = ?", [bank["id"], merged["id"]])

    def ids(text, **kw):
        return [c["id"] for c in rel.link_candidates(db, s, text, **kw)]

    assert ids("厦门银行") == [bank["id"]]
    assert ids("xmyh") == [bank["id"]]  # initials
    assert ids("xiamenyinhang") == [bank["id"]]  # full pinyin
    assert set(ids("yinhang")) == {bank["id"], other_bank["id"]}
    assert ids(bank["code"]) == [bank["id"]]  # the exact code
    assert ids(bank["code"].lower()[-6:]) == [bank["id"]]
    # Over all customers, archived and merged ones left out, the page's own excluded.
    assert set(ids("厦门")) == {mine["id"], bank["id"], other_bank["id"]}
    assert set(ids("厦门", exclude_id=mine["id"])) == {bank["id"], other_bank["id"]}
    assert len(ids("厦门", limit=2)) == 2
    # Exact first, then prefixes, then the rest (each by pinyin): 爱中信 (aizhongxin)
    # would sort first by pinyin alone.
    exact, prefix, inner = (make_customer(name=n)["id"] for n in ("中信", "中信银行", "爱中信"))
    assert ids("中信") == [exact, prefix, inner]
    assert ids("zx") == [exact, prefix, inner]
    # Name, code and pinyin only: a phone number finds nothing (it would tell a
    # salesperson whose number it is).
    assert ids("13900139000") == [] and ids("") == [] and ids("   ") == []
    with pytest.raises(ValidationError):
        ids("\ud800")
    assert rel.link_candidates(db, s, "厦门银行")[0] == {"id": bank["id"], "code": bank["code"],
                                                       "name": bank["name"]}


# -- two saves at the same moment ------------------------------------------------------------
def _both_checked_before_either_writes(monkeypatch, check_name: str):
    """Make two threads' first run of ``check_name`` return only once both have run it:
    both transactions then see the links as they were before either saved."""
    import threading

    barrier = threading.Barrier(2, timeout=20)
    seen: set[int] = set()
    original = getattr(rel, check_name)

    def check(*args, **kwargs):
        out = original(*args, **kwargs)
        me = threading.get_ident()
        if me not in seen:  # a re-run (after the conflict) goes straight on
            seen.add(me)
            barrier.wait()
        return out

    monkeypatch.setattr(rel, check_name, check)


def _run_both(calls) -> list:
    import threading

    results: list = [None, None]

    def run(i):
        try:
            results[i] = calls[i]()
        except CustomerMasterError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    return results


def test_the_same_link_saved_from_both_sides_at_the_same_moment_is_stored_once(db, actors, make_customer,
                                                                                 monkeypatch):
    m = actors["manager"]
    a, b = make_customer(), make_customer()
    _both_checked_before_either_writes(monkeypatch, "_no_duplicate")
    results = _run_both([lambda: rel.link(db, m, a["id"], b["id"], "supplier"),
                         lambda: rel.link(db, m, b["id"], a["id"], "customer")])
    assert sorted(type(r).__name__ for r in results) == ["DuplicateError", "dict"], results
    assert rel.links_of(db, m, a["id"])[1] == 1 and rel.links_of(db, m, b["id"])[1] == 1


def test_two_parent_links_that_would_close_a_cycle_at_the_same_moment_are_not_both_stored(db, actors,
                                                                                        make_customer, monkeypatch):
    m = actors["manager"]
    a, b, c, d = (make_customer() for _ in range(4))
    # b is a's parent, d is c's parent; then "c is b's parent" and "a is d's parent" at once
    # would make a -> b -> c -> d -> a (each row reads "other is customer's kind").
    rel.link(db, m, a["id"], b["id"], "parent")
    rel.link(db, m, c["id"], d["id"], "parent")
    _both_checked_before_either_writes(monkeypatch, "_no_parent_cycle")
    results = _run_both([lambda: rel.link(db, m, b["id"], c["id"], "parent"),
                         lambda: rel.link(db, m, d["id"], a["id"], "parent")])
    errors = [r for r in results if isinstance(r, CustomerMasterError)]
    assert len(errors) == 1 and errors[0].key == "error.relationship_cycle", results
