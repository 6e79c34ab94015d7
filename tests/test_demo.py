"""Demo data: the bulk path stores what the write path stores, from a seed, reproducibly."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers import followups as fu
from lib.customers import parts
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
    order = {"audit_log": "WHERE entity = 'customer' ORDER BY id"}.get(name, "ORDER BY id")
    return rows(db, f"SELECT * FROM {name} {order}")


def test_bulk_rows_equal_write_path_rows(db, tmp_path, monkeypatch):
    n = 30
    plan = generator.make_plan(db, n, seed=11, now=NOW, chunk_size=10)
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
    # Then their follow-ups, by the owner (their audit entries come after the customers'
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
        stats = loader.generate(bulk, n, seed=11, now=NOW, chunk_size=10, workers=1)
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
        assert table(bulk, "contacts") == table(db, "contacts")
        assert table(bulk, "audit_log") == table(db, "audit_log")
        assert table(bulk, "follow_ups") == table(db, "follow_ups")
        assert len(table(db, "follow_ups")) == stats.activities == len(acts)
    finally:
        bulk.close()


def test_same_seed_same_rows_whatever_the_workers(tmp_path):
    one = fresh_db(tmp_path / "one.duckdb")
    two = fresh_db(tmp_path / "two.duckdb")
    other = fresh_db(tmp_path / "other.duckdb")
    try:
        loader.generate(one, 25, seed=5, now=NOW, chunk_size=10, workers=1)
        # Worker processes (spawned, with the memoised pinyin) must build the same rows.
        loader.generate(two, 25, seed=5, now=NOW, chunk_size=10, workers=2)
        loader.generate(other, 25, seed=6, now=NOW, chunk_size=10, workers=1)
        for name in ("customers", "contacts", "audit_log", "follow_ups"):
            assert table(one, name) == table(two, name), name
        assert table(one, "follow_ups"), "some customers should have follow-up records"
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
    assert followup_kinds == {"call", "visit", "email", "meeting", "care", "need", "note"} and needs > 10
    kinds = {i.values["customer_type"] for i in items}
    assert kinds == {"company", "individual"}
    phones = [i.values.get("phone", "") for i in items]
    assert any("转" in p for p in phones) and any(p.startswith(("400", "800")) for p in phones)
    assert any(re.search(r"[A-Za-z]{4}", i.values["name"]) for i in items)  # English names
    # Creation times only grow with the index, so codes grow with time.
    assert [i.created_at for i in items] == sorted(i.created_at for i in items)


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
