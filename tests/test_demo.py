"""Demo data: the bulk path stores what the write path stores, from a seed, reproducibly."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

import hashlib

from lib.customers import contacts as ct
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers import files as fl
from lib.customers import followups as fu
from lib.customers import parts
from lib.customers import relationships as rel
from lib.customers.search import CustomerFilters, search
from lib.ops.demo import generator, loader
from lib.accounts import users
from lib.core.clock import to_local
from lib.core.db import Database
from lib.core.errors import ConfigError
from lib.customers.kinds import uscc_check_char
from lib.customers.validation import validate_customer
from tests.conftest import ROLES, TEST_PASSWORD

NOW = datetime(2026, 6, 15, 8, 0, 0)
SYSTEM_COLUMNS_SET_BY_REVIEW = ("updated_at", "updated_by", "reviewed_at")
# Shares high enough that a few dozen customers show every kind of record.
MANY = generator.DemoShares(contacts=0.5, links=0.8, files=0.2)
PART_TABLES = ("contacts", "relationships", "attachments", "follow_ups")


def fresh_db(path) -> Database:
    """A database in the same state as the ``db`` fixture's (same users, same sequences)."""
    database = Database(path)
    for username, role in ROLES.items():
        users.create_user(database, None, username, username.title(), role, TEST_PASSWORD)
    return database


def rows(db, sql: str) -> list[dict]:
    with db.read() as cur:
        res = cur.execute(sql)
        cols = [d[0] for d in res.description]
        return [dict(zip(cols, r)) for r in res.fetchall()]


def table(db, name: str) -> list[dict]:
    # Follow-ups are loaded without their audit entries (the write path writes them).
    order = {"audit_log": "WHERE entity IN ('customer', 'contact', 'relationship', 'file') ORDER BY id",
             "attachment_blobs": "ORDER BY attachment_id"}.get(name, "ORDER BY id")
    return rows(db, f"SELECT * FROM {name} {order}")


def test_bulk_rows_equal_write_path_rows(db, tmp_path, monkeypatch):
    n = 30
    plan = generator.make_plan(db, n, seed=11, now=NOW, chunk_size=10, shares=MANY)
    items = list(generator.iter_inputs(plan, list(range(1, n + 1))))
    # The sample must exercise the interesting branches, or the comparison proves little.
    assert any(i.values["customer_type"] == "individual" for i in items)
    assert any("contact_name" not in i.values for i in items)
    assert any("credit_limit" in i.values and i.created_by != i.values["owner"] for i in items)
    assert any(i.reviewed_at > i.created_at for i in items)

    acts = [a for i in items for a in i.activities]
    assert any(a["values"]["followup_kind"] == "need" for a in acts)
    assert any(a["done"] for a in acts) and any(a["values"]["followup_next_action"] and not a["done"] for a in acts)

    # Write path: create_customer with the clock frozen at each generated creation time.
    for item in items:
        monkeypatch.setattr(cs, "utcnow", lambda at=item.created_at: at)
        creator = users.get_user(db, item.created_by)
        cs.create_customer(db, db.actor(creator.username, creator.role), item.values)
    # Then, chunk by chunk, the other contacts, the links and the files through their
    # services (the bulk load takes their ids from the sequences in that order).
    assert any(i.contacts for i in items) and any(i.links for i in items) and any(i.files for i in items)
    assert {link["values"]["relationship_kind"] for i in items for link in i.links} >= {"parent", "supplier"}

    def as_adder(part):
        monkeypatch.setattr(parts, "utcnow", lambda at=part["created_at"]: at)
        user = users.get_user(db, part["created_by"])
        return db.actor(user.username, user.role)

    for chunk in range(3):
        mine = [(cid, item) for cid, item in enumerate(items, start=1) if (cid - 1) // 10 == chunk]
        for cid, item in mine:
            for c in item.contacts:
                ct.add_contact(db, as_adder(c), cid, c["values"])
        for cid, item in mine:
            for link in item.links:
                other = chunk * 10 + link["to_offset"] + 1
                values = link["values"]
                rel.link(db, as_adder(link), cid, other, values["relationship_kind"], values["relationship_note"])
        for cid, item in mine:
            for f in item.files:
                code = rows(db, f"SELECT code FROM customers WHERE id = {cid}")[0]["code"]
                fl.add_file(db, as_adder(f), cid, f["filename"], generator.demo_pdf(code, f["values"]["file_kind"]),
                            f["values"])
    # Then their follow-ups, by the owner (their audit entries come after everything else
    # here, as in the bulk load, which writes none), marked done when they were.
    for cid, item in enumerate(items, start=1):
        owner = users.get_user(db, item.values["owner"])
        actor = db.actor(owner.username, owner.role)
        for act in item.activities:
            monkeypatch.setattr(parts, "utcnow", lambda at=act["created_at"]: at)
            added = fu.add_followup(db, actor, cid, act["values"])
            if act["done"]:
                monkeypatch.setattr(fu, "utcnow", lambda at=act["done_at"]: at)
                fu.mark_done(db, actor, added["id"], added["version"])
    monkeypatch.undo()

    bulk = fresh_db(tmp_path / "bulk.duckdb")
    try:
        stats = loader.generate(bulk, n, seed=11, now=NOW, chunk_size=10, workers=1, shares=MANY)
        assert stats.customers == n
        written, loaded = table(db, "customers"), table(bulk, "customers")
        assert len(written) == len(loaded) == n
        for item, w, b in zip(items, written, loaded):
            for col in cs.CUSTOMER_COLUMNS:
                if col not in SYSTEM_COLUMNS_SET_BY_REVIEW:
                    assert b[col] == w[col], (col, b[col], w[col])
            # The write path stamps a review at creation; the demo adds a later one.
            assert w["reviewed_at"] == w["updated_at"] == item.created_at
            assert b["reviewed_at"] == b["updated_at"] == item.reviewed_at
            assert b["updated_by"] == item.reviewed_by
        # Search text included: the customers' rows above hold every contact's values.
        for name in (*PART_TABLES, "attachment_blobs", "audit_log"):
            assert table(bulk, name) == table(db, name), name
        assert len(table(db, "follow_ups")) == stats.activities == len(acts)
        assert stats.contacts == len(table(db, "contacts"))
        assert stats.relationships == len(table(db, "relationships")) == sum(len(i.links) for i in items)
        assert stats.files == len(table(db, "attachments")) == sum(len(i.files) for i in items)
    finally:
        bulk.close()


def test_same_seed_same_rows_whatever_the_workers(tmp_path):
    one = fresh_db(tmp_path / "one.duckdb")
    two = fresh_db(tmp_path / "two.duckdb")
    other = fresh_db(tmp_path / "other.duckdb")
    try:
        loader.generate(one, 25, seed=5, now=NOW, chunk_size=10, workers=1, shares=MANY)
        # Worker processes (spawned, with the memoised pinyin) must build the same rows.
        loader.generate(two, 25, seed=5, now=NOW, chunk_size=10, workers=2, shares=MANY)
        loader.generate(other, 25, seed=6, now=NOW, chunk_size=10, workers=1, shares=MANY)
        for name in ("customers", *PART_TABLES, "attachment_blobs", "audit_log"):
            assert table(one, name) == table(two, name), name
            assert table(one, name), f"some customers should have {name}"
        assert rows(one, "SELECT count(*) AS n FROM contacts WHERE NOT is_primary")[0]["n"]
        assert [r["name"] for r in table(one, "customers")] != [r["name"] for r in table(other, "customers")]
    finally:
        for d in (one, two, other):
            d.close()


def test_generated_values_pass_validation_and_look_real(db):
    plan = generator.make_plan(db, 3000, seed=3, now=NOW)
    items = generator.chunk_inputs(plan, 0, list(range(1, 1501)))
    ctx = cs.validation_context(db)
    usccs = []
    followup_kinds, needs = set(), 0
    for item in items:
        clean = validate_customer(item.values, ctx)  # no warnings to confirm either
        c = clean.customer
        assert c["name"] == c["name"].strip()
        if c["customer_type"] == "individual":
            assert c["size"] is None and c["uscc"] is None
        if c["uscc"]:
            assert re.fullmatch(r"[0-9A-Z]{2}\d{6}[0-9A-Z]{10}", c["uscc"])
            assert uscc_check_char(c["uscc"][:17]) == c["uscc"][17]
            usccs.append(c["uscc"])
        assert NOW - timedelta(days=3 * 366) <= item.created_at <= item.reviewed_at <= NOW
        for act in item.activities:
            values = act["values"]
            assert to_local(item.created_at).date() <= values["followup_occurred_on"] <= to_local(NOW).date()
            # The follow-up write path's rules: only a need has a state; a next action
            # has an assignee; done means who and when.
            assert (values["followup_kind"] == "need") == (values["followup_need_state"] is not None)
            assert (values["followup_next_action"] is None) == (values["followup_assignee"] is None)
            assert act["done"] == (act["done_at"] is not None) == (act["done_by"] is not None)
            assert not act["done"] or act["created_at"] <= act["done_at"] <= NOW
            validate_customer(values, ctx, fields=F.FOLLOWUP_FIELDS)
            followup_kinds.add(values["followup_kind"])
            needs += values["followup_kind"] == "need"
    assert len(usccs) == len(set(usccs)) > 1000
    # Other contacts, links and files at the default shares, valid like the forms' input.
    with_primary = [i for i in items if "contact_name" in i.values]
    more = [c for i in with_primary for c in i.contacts]
    assert 0.2 < sum(bool(i.contacts) for i in with_primary) / len(with_primary) < 0.3
    assert not any(i.contacts for i in items if "contact_name" not in i.values)  # never the first contact
    for item in items:
        for c in item.contacts:
            validate_customer(c["values"], ctx, fields=F.CONTACT_FIELDS)
            assert item.created_at <= c["created_at"] <= NOW
    assert sum(bool(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", c["values"]["contact_name"])) for c in more) > 0.8 * len(more)
    assert sum("contact_department" in c["values"] for c in more) > 0.7 * len(more)
    assert all(c["values"].get("contact_mobile") or c["values"].get("contact_phone") for c in more)
    assert any("转" in c["values"].get("contact_phone", "") for c in more)
    links = [(offset, link) for offset, i in enumerate(items) for link in i.links]
    assert 20 < len(links) < 200
    for offset, link in links:  # an earlier company; each pair once
        assert link["to_offset"] < offset and items[link["to_offset"]].values["customer_type"] == "company"
        assert link["values"]["relationship_kind"] in {"supplier", "customer", "partner", "parent"}
        validate_customer(link["values"], ctx, fields=F.RELATIONSHIP_FIELDS)
    assert len({(o, link["to_offset"]) for o, link in links}) == len(links)
    files = [f for i in items for f in i.files]
    assert 0 < len(files) < 30
    for f in files:
        validate_customer(f["values"], ctx, fields=F.FILE_FIELDS)
        assert f["filename"].endswith(".pdf")
    assert followup_kinds == {"call", "visit", "email", "meeting", "care", "need", "note"} and needs > 10
    kinds = {i.values["customer_type"] for i in items}
    assert kinds == {"company", "individual"}
    phones = [i.values.get("phone", "") for i in items]
    assert any("转" in p for p in phones) and any(p.startswith(("400", "800")) for p in phones)
    assert any(re.search(r"[A-Za-z]{4}", i.values["name"]) for i in items)  # English names
    # Creation times only grow with the index, so codes grow with time.
    assert [i.created_at for i in items] == sorted(i.created_at for i in items)


def test_loaded_parts_work_through_their_services(db, actors):
    stats = loader.generate(db, 200, seed=8, now=NOW, chunk_size=50, workers=1, shares=MANY)
    manager = actors["manager"]
    # A customer is found by another contact's mobile (its search text has every contact).
    extra = rows(db, "SELECT customer_id, name, mobile_e164 FROM contacts WHERE NOT is_primary AND mobile_e164"
                     " LIKE '+861%' ORDER BY id LIMIT 1")[0]
    found = search(db, manager, CustomerFilters(text=extra["mobile_e164"][3:])).rows
    assert extra["customer_id"] in [r["id"] for r in found]
    listed, _ = ct.contacts_of(db, manager, extra["customer_id"])
    assert extra["name"] in [c["contact_name"] for c in listed] and listed[0]["is_primary"]
    # Links: the relationship rules hold (no self-links, no pair twice, parents older).
    links = table(db, "relationships")
    assert len(links) == stats.relationships > 20
    assert all(r["from_customer"] > r["to_customer"] for r in links)
    assert len({frozenset((r["from_customer"], r["to_customer"])) for r in links}) == len(links)
    first = links[0]
    mine, _ = rel.links_of(db, manager, first["from_customer"])
    theirs, _ = rel.links_of(db, manager, first["to_customer"])
    assert first["kind"] in [x["relationship_kind"] for x in mine if x["id"] == first["id"]]
    assert rel.inverse(first["kind"]) in [x["relationship_kind"] for x in theirs if x["id"] == first["id"]]
    history = cs.history(db, manager, first["to_customer"])
    assert any(h["entity"] == "relationship" and h["entity_id"] == first["id"] for h in history)
    # Files download with their bytes, which name the customer and match their hash.
    stored = table(db, "attachments")
    assert stored and len(stored) == stats.files
    for f in stored:
        name, content_type, data = fl.download(db, manager, f["id"])
        code = rows(db, f"SELECT code FROM customers WHERE id = {f['customer_id']}")[0]["code"]
        assert content_type == "application/pdf" and name == f["filename"] and data.startswith(b"%PDF-")
        assert code.encode() in data and hashlib.sha256(data).hexdigest() == f["sha256"]
        assert fl.sniff(data) == fl.PDF
    ids = [r["id"] for r in rows(db, "SELECT id FROM audit_log")]
    assert len(ids) == len(set(ids))
    # The sequences moved past the loaded parts: the services' next ids are new.
    before = {t: rows(db, f"SELECT max(id) AS m FROM {t}")[0]["m"] for t in ("contacts", "relationships", "attachments")}
    cid = first["from_customer"]
    assert ct.add_contact(db, manager, cid, {"contact_name": "新联系人"})["id"] > before["contacts"]
    other = rows(db, "SELECT min(id) AS id FROM customers WHERE id NOT IN (SELECT from_customer FROM relationships)"
                     " AND id NOT IN (SELECT to_customer FROM relationships)")[0]["id"]
    assert rel.link(db, manager, cid, other, "partner")["id"] > before["relationships"]
    assert fl.add_file(db, manager, cid, "x.pdf", generator.demo_pdf("X", "contract"))["id"] > before["attachments"]


def test_bulk_load_advances_sequences(db, actors):
    first = loader.generate(db, 20, seed=1, now=NOW, workers=1)
    second = loader.generate(db, 20, seed=1, now=NOW, workers=1)  # same seed again: USCCs still unique
    assert first.last_code.endswith("-000020") and second.first_code.endswith("-000021")
    rec = cs.create_customer(db, actors["sales"], {"name": "表单录入的新客户有限公司", "status": "active"})
    codes = {r["code"] for r in rows(db, "SELECT code FROM customers WHERE id <> " + str(rec["id"]))}
    assert rec["code"] not in codes
    assert rec["code"].endswith("-000041") and rec["id"] == 41
    audit_ids = [r["id"] for r in rows(db, "SELECT id FROM audit_log")]
    assert len(audit_ids) == len(set(audit_ids))


def test_progress_and_owners(db):
    seen = []
    loader.generate(db, 25, seed=2, now=NOW, chunk_size=10, workers=1, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(10, 25), (20, 25), (25, 25)]
    owners = {r["owner"] for r in rows(db, "SELECT DISTINCT owner FROM customers")}
    assert owners <= {"sales", "sales2", "manager"}


def test_generation_needs_an_owner(tmp_path):
    empty = Database(tmp_path / "empty.duckdb")
    try:
        users.create_user(empty, None, "boss", "Boss", "admin", TEST_PASSWORD)
        with pytest.raises(ConfigError):
            loader.generate(empty, 5)
        assert rows(empty, "SELECT count(*) AS n FROM customers")[0]["n"] == 0
    finally:
        empty.close()


def test_interrupted_load_keeps_whole_committed_batches(db, monkeypatch):
    monkeypatch.setattr(loader, "COMMIT_EVERY", 10)
    real_build = loader.build_chunk

    def failing_build(plan, chunk, *args):
        if chunk == 2:
            raise RuntimeError("worker died")
        return real_build(plan, chunk, *args)

    monkeypatch.setattr(loader, "build_chunk", failing_build)
    with pytest.raises(RuntimeError):
        loader.generate(db, 30, seed=4, now=NOW, chunk_size=10, workers=1)
    counts = rows(db, "SELECT (SELECT count(*) FROM customers) AS customers,"
                      " (SELECT count(*) FROM audit_log WHERE entity = 'customer') AS audits,"
                      " (SELECT count(*) FROM contacts WHERE customer_id NOT IN (SELECT id FROM customers)) AS orphans")[0]
    assert counts == {"customers": 20, "audits": 20, "orphans": 0}
