"""Merging customers (lib.customers.merge): chosen values, every related record moved,
links cleaned, the merged codes land on the survivor, the USCC freed, one audit entry
seen from every code, refusals, stale versions, search in step."""
from __future__ import annotations

import pytest

from lib.core.errors import ConflictError, CustomerMasterError, NotFound, PermissionDenied, ValidationError
from lib.customers import contacts as ct
from lib.customers import customer as cs
from lib.customers import files as fl
from lib.customers import followups as fu
from lib.customers import relationships as rel
from lib.customers.merge import merge_customers
from lib.customers.search import CustomerFilters, PageRequest, search
from tests.test_files import pdf

USCC = "91110108551385082Q"


def merge(db, actor, survivor, *others, keep=None, **kw):
    """Merge ``others`` (records as read) into ``survivor`` (a record as read)."""
    return merge_customers(db, actor, survivor["id"], survivor["version"],
                           {o["id"]: o["version"] for o in others}, keep or {}, **kw)


def count(db, sql, *params):
    with db.read() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


@pytest.fixture
def pair(db, actors, make_customer):
    keep = make_customer(name="北京星河数据科技有限公司", phone="13800000001", notes="survivor notes")
    gone = make_customer(name="星河数据科技（北京）股份有限公司", phone="13800000002", uscc=USCC,
                         notes="merged notes", email="info@xinghe.example")
    return keep, gone


def test_fields_are_chosen_one_by_one(db, actors, pair):
    keep, gone = pair
    out = merge(db, actors["manager"], keep, gone, keep={"uscc": gone["id"], "email": gone["id"]})
    assert out["id"] == keep["id"] and out["version"] == keep["version"] + 1
    assert (out["name"], out["notes"], out["phone"]) == (keep["name"], "survivor notes", "13800000001")
    assert (out["uscc"], out["email"]) == (USCC, "info@xinghe.example")


def test_the_merged_customer_is_archived_pointing_to_the_survivor_and_its_code_lands_there(db, actors, pair):
    keep, gone = pair
    merge(db, actors["manager"], keep, gone)
    with db.read() as cur:
        merged_into, archived, uscc, uscc_key = cur.execute(
            "SELECT merged_into, archived, uscc, uscc_key FROM customers WHERE id = ?", [gone["id"]]).fetchone()
    assert (merged_into, archived, uscc, uscc_key) == (keep["id"], True, USCC, None)
    assert cs.get_customer_by_code(db, actors["manager"], gone["code"])["id"] == keep["id"]
    assert cs.get_customer_by_code(db, actors["viewer"], gone["code"].lower())["code"] == keep["code"]
    with pytest.raises(NotFound):
        cs.get_customer(db, actors["manager"], gone["id"])


def test_a_uscc_held_by_a_merged_customer_does_not_block(db, actors, pair, make_customer):
    keep, gone = pair
    out = merge(db, actors["manager"], keep, gone)  # the survivor keeps its own (empty) USCC
    assert out["uscc"] is None
    again = cs.update_customer(db, actors["manager"], keep["id"], {"uscc": USCC}, out["version"])
    assert again["uscc"] == USCC
    with pytest.raises(CustomerMasterError) as ei:
        make_customer(uscc=USCC)
    assert ei.value.key == "error.duplicate_uscc"


def test_every_related_record_moves(db, actors, pair, make_customer):
    keep, gone = pair
    manager = actors["manager"]
    third = make_customer(name="第三方物流有限公司")
    own_contact = ct.add_contact(db, manager, keep["id"], {"contact_name": "张三", "contact_phone": "13900000001"})
    c1 = ct.add_contact(db, manager, gone["id"], {"contact_name": "李四", "contact_mobile": "13900000002"})
    c2 = ct.add_contact(db, manager, gone["id"], {"contact_name": "王五"})
    f1 = fu.add_followup(db, manager, gone["id"], {"followup_kind": "call", "followup_summary": "打过电话"})
    data = pdf()
    file1 = fl.add_file(db, manager, gone["id"], "合同.pdf", data)
    link = rel.link(db, manager, gone["id"], third["id"], "supplier")
    merge(db, manager, keep, gone)
    contacts, n = ct.contacts_of(db, manager, keep["id"])
    assert n == 3 and {c["id"] for c in contacts} == {own_contact["id"], c1["id"], c2["id"]}
    assert [c["id"] for c in contacts if c["is_primary"]] == [own_contact["id"]]  # exactly one: the survivor's
    assert [f["id"] for f in fu.followups_of(db, manager, keep["id"])[0]] == [f1["id"]]
    assert [f["id"] for f in fl.files_of(db, manager, keep["id"])[0]] == [file1["id"]]
    links, _ = rel.links_of(db, manager, keep["id"])
    assert [(x["id"], x["other_code"]) for x in links] == [(link["id"], third["code"])]
    # read from the other side, the link now names the survivor
    theirs, _ = rel.links_of(db, manager, third["id"])
    assert [(x["id"], x["other_code"]) for x in theirs] == [(link["id"], keep["code"])]
    # nothing is left on the merged customer
    for table in ("contacts", "follow_ups", "attachments"):
        assert count(db, f"SELECT count(*) FROM {table} WHERE customer_id = ?", gone["id"]) == 0
    # a moved record's version went up: an edit opened before the merge is stale
    with pytest.raises(ConflictError):
        ct.change_contact(db, manager, c2["id"], {"contact_title": "经理"}, c2["version"])
    # the file still downloads, checked against its hash
    assert fl.download(db, manager, file1["id"])[2] == data


def test_the_chosen_customers_primary_contact_becomes_the_primary(db, actors, pair):
    keep, gone = pair
    manager = actors["manager"]
    mine = ct.add_contact(db, manager, keep["id"], {"contact_name": "张三"})
    theirs = ct.add_contact(db, manager, gone["id"], {"contact_name": "李四"})
    out = merge(db, manager, keep, gone, keep={"contact_name": gone["id"]})
    contacts, _ = ct.contacts_of(db, manager, keep["id"])
    assert [c["id"] for c in contacts if c["is_primary"]] == [theirs["id"]]
    assert out["contact_name"] == "李四" and mine["id"] in {c["id"] for c in contacts}


def test_contact_fields_come_from_one_customer(db, actors, pair):
    keep, gone = pair
    with pytest.raises(ValidationError) as ei:
        merge(db, actors["manager"], keep, gone, keep={"contact_name": gone["id"], "contact_phone": keep["id"]})
    assert ei.value.problems[0].key == "validation.merge_one_contact"


def test_links_that_become_self_links_or_duplicates_are_removed(db, actors, make_customer):
    manager = actors["manager"]
    a = make_customer(name="甲一有限公司")
    b = make_customer(name="甲二有限公司")
    x = make_customer(name="外部客户有限公司")
    self_link = rel.link(db, manager, a["id"], b["id"], "partner")
    kept = rel.link(db, manager, a["id"], x["id"], "supplier")  # x is a's supplier
    dup = rel.link(db, manager, x["id"], b["id"], "customer")  # b is x's customer: the same meaning
    other = rel.link(db, manager, b["id"], x["id"], "partner")
    a = cs.get_customer(db, manager, a["id"])
    b = cs.get_customer(db, manager, b["id"])
    merge(db, manager, a, b)
    live = {r[0]: r[1:] for r in _links(db)}
    assert self_link["id"] not in live and dup["id"] not in live
    assert live[kept["id"]] == (a["id"], x["id"], "supplier")
    assert live[other["id"]] == (a["id"], x["id"], "partner")
    entry = cs.history(db, manager, a["id"])[-1]
    assert entry["changes"]["moved"][1]["relationships_removed"] == 2


def _links(db):
    with db.read() as cur:
        return cur.execute("SELECT id, from_customer, to_customer, kind FROM relationships WHERE NOT deleted"
                           " ORDER BY id").fetchall()


def test_one_audit_entry_seen_from_every_code_and_earlier_history_kept(db, actors, make_customer):
    manager = actors["manager"]
    a = make_customer(name="合并甲有限公司")
    b = make_customer(name="合并乙有限公司")
    c = make_customer(name="合并丙有限公司")
    b = cs.update_customer(db, manager, b["id"], {"notes": "b's note"}, b["version"])
    before = count(db, "SELECT count(*) FROM audit_log")
    merge(db, manager, a, b, c, keep={"notes": b["id"]})
    assert count(db, "SELECT count(*) FROM audit_log") == before + 1
    for code in (a["code"], b["code"], c["code"]):
        survivor = cs.get_customer_by_code(db, manager, code)
        entries = cs.history(db, manager, survivor["id"])
        merges = [e for e in entries if e["action"] == "merge"]
        assert len(merges) == 1
        assert sorted(merges[0]["changes"]["merged"][1]) == sorted([b["code"], c["code"]])
        assert merges[0]["changes"]["notes"] == [None, "b's note"]
        # the merged customers' earlier entries are in the survivor's history, unchanged
        assert {(e["customer_id"], e["action"]) for e in entries} >= {(b["id"], "create"), (b["id"], "update"),
                                                                     (c["id"], "create"), (a["id"], "create")}
    page, total = cs.history_page(db, manager, a["id"], limit=2)
    assert total == 5 and page[0]["action"] == "merge"


def test_a_survivor_merged_later_carries_the_first_merge(db, actors, make_customer):
    manager = actors["manager"]
    a, b, c = (make_customer(name=f"链式{i}有限公司") for i in "甲乙丙")
    merge(db, manager, b, a)
    b = cs.get_customer(db, manager, b["id"])
    merge(db, manager, c, b)
    assert cs.get_customer_by_code(db, manager, a["code"])["id"] == c["id"]
    actions = [(e["customer_id"], e["action"]) for e in cs.history(db, manager, c["id"])]
    assert (a["id"], "create") in actions and actions.count((b["id"], "merge")) == 1


# -- refusals ------------------------------------------------------------------------------------
def test_refusals(db, actors, pair, make_customer):
    keep, gone = pair
    manager = actors["manager"]
    with pytest.raises(CustomerMasterError) as ei:
        merge_customers(db, manager, keep["id"], keep["version"], {keep["id"]: keep["version"]})
    assert ei.value.key == "error.merge_into_itself"
    with pytest.raises(CustomerMasterError) as ei:
        merge_customers(db, manager, keep["id"], keep["version"], {})
    assert ei.value.key == "error.merge_too_few"
    archived = cs.archive_customer(db, manager, keep["id"], keep["version"])
    with pytest.raises(CustomerMasterError) as ei:
        merge(db, manager, archived, gone)
    assert ei.value.key == "error.merge_target_archived"
    keep = cs.restore_customer(db, manager, keep["id"], archived["version"])
    merge(db, manager, keep, gone)
    other = make_customer(name="又一个有限公司")
    with pytest.raises(CustomerMasterError) as ei:
        merge_customers(db, manager, gone["id"], gone["version"] + 1, {other["id"]: other["version"]})
    assert ei.value.key == "error.merge_target_merged"
    with pytest.raises(ValidationError) as ei:
        merge(db, manager, other, make_customer(), keep={"notes": 999_999})
    assert ei.value.problems[0].key == "validation.merge_source"
    with pytest.raises(ValidationError):
        merge(db, manager, other, make_customer(), keep={"code": other["id"]})


def test_salespeople_and_viewers_may_not_merge(db, actors, make_customer):
    a = make_customer(actor="sales")
    b = make_customer(actor="sales")
    for who in ("sales", "viewer"):
        with pytest.raises(PermissionDenied):
            merge(db, actors[who], a, b)
    assert count(db, "SELECT count(*) FROM customers WHERE merged_into IS NOT NULL") == 0


def test_a_stale_version_of_any_customer_refuses_the_whole_merge(db, actors, make_customer):
    manager = actors["manager"]
    a, b, c = make_customer(), make_customer(), make_customer()
    ct.add_contact(db, manager, b["id"], {"contact_name": "李四"})
    cs.update_customer(db, manager, c["id"], {"notes": "changed meanwhile"}, c["version"])
    with pytest.raises(ConflictError):
        merge(db, manager, a, b, c)
    with pytest.raises(ConflictError):
        merge_customers(db, manager, a["id"], a["version"] + 1, {b["id"]: b["version"]})
    # nothing was written
    assert count(db, "SELECT count(*) FROM customers WHERE merged_into IS NOT NULL") == 0
    assert count(db, "SELECT count(*) FROM contacts WHERE customer_id = ?", b["id"]) == 1
    assert cs.get_customer(db, manager, a["id"])["version"] == a["version"]


def test_a_value_that_needs_a_right_is_taken_by_a_manager(db, actors, make_customer):
    manager = actors["manager"]
    a = make_customer()
    b = make_customer(credit_limit="5000")
    out = merge(db, manager, a, b, keep={"credit_limit": b["id"]})
    assert str(out["credit_limit"]) == "5000.00"


# -- search in step --------------------------------------------------------------------------------
def test_search_finds_the_survivor_by_kept_values_and_never_the_merged(db, actors, pair):
    keep, gone = pair
    manager = actors["manager"]
    ct.add_contact(db, manager, gone["id"], {"contact_name": "独特联系人", "contact_mobile": "13912345678"})
    merge(db, manager, keep, gone, keep={"email": gone["id"]})
    for text in ("xinghe.example", "独特联系人", "13912345678", keep["code"]):
        rows, total = search(db, manager, CustomerFilters(text=text), page=PageRequest(size=10))
        assert [r["id"] for r in rows] == [keep["id"]], text
    rows, _ = search(db, manager, CustomerFilters(text=gone["code"], archived="all"))
    assert rows == []
    rows, _ = search(db, manager, CustomerFilters(archived="all"), page=PageRequest(size=50))
    assert gone["id"] not in [r["id"] for r in rows]


def test_a_merge_that_would_make_a_company_its_own_parent_is_refused(db, actors, make_customer):
    manager = actors["manager"]
    top, middle, bottom = (make_customer(name=f"集团{i}有限公司") for i in "甲乙丙")
    rel.link(db, manager, middle["id"], top["id"], "parent")  # top is middle's parent
    rel.link(db, manager, bottom["id"], middle["id"], "parent")  # middle is bottom's parent
    top, bottom = (cs.get_customer(db, manager, c["id"]) for c in (top, bottom))
    with pytest.raises(CustomerMasterError) as ei:
        merge(db, manager, top, bottom)  # top would be its own grandparent
    assert ei.value.key == "error.relationship_cycle"
    assert count(db, "SELECT count(*) FROM customers WHERE merged_into IS NOT NULL") == 0
    assert len(_links(db)) == 2


def test_a_follow_up_written_while_its_customer_is_merged_away_does_not_stay_with_it(db, actors, pair):
    """The part write began (its snapshot) before the merge committed: its claim on the
    customer row conflicts, and run again it finds the customer gone."""
    from lib.core.db import is_write_conflict
    from lib.customers import parts

    keep, gone = pair
    manager = actors["manager"]
    from datetime import date

    clean = {"kind": "call", "occurred_on": date(2026, 12, 1), "summary": "正在合并时写的跟进"}
    with pytest.raises(Exception) as exc:
        with db.transaction() as cur:
            cur.execute("SELECT count(*) FROM customers").fetchone()  # the snapshot starts here
            merge(db, manager, keep, gone)
            parts.add_part_in(cur, manager, fu.FOLLOW_UP, gone["id"], clean)
    assert is_write_conflict(exc.value) or isinstance(exc.value, ConflictError), exc.value
    assert count(db, "SELECT count(*) FROM follow_ups WHERE summary = '正在合并时写的跟进'") == 0
    with pytest.raises(NotFound):  # what the retry of a follow-up save meets
        fu.add_followup(db, manager, gone["id"], {"followup_kind": "call", "followup_summary": "再试"})


def test_a_care_campaign_written_while_a_customer_is_merged_away_is_run_again(db, actors, pair):
    from lib.core.db import is_write_conflict
    from lib.core.clock import utcnow
    from lib.customers import campaigns

    keep, gone = pair
    manager = actors["manager"]
    label, columns = campaigns._validate(db, {"campaign_label": "中秋", "followup_summary": "送月饼",
                                              "followup_due_on": "2026-12-20"})
    row = campaigns._row_template(label, columns, manager.username, utcnow())
    with pytest.raises(Exception) as exc:
        with db.transaction() as cur:
            cur.execute("SELECT count(*) FROM customers").fetchone()
            merge(db, manager, keep, gone)
            campaigns._write_batch(cur, row, [keep["id"], gone["id"]])
    assert is_write_conflict(exc.value) or isinstance(exc.value, ConflictError), exc.value
    assert count(db, "SELECT count(*) FROM follow_ups WHERE summary = '送月饼'") == 0
