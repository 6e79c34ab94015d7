"""Threads sharing the process's one Database: codes, lost updates, write conflicts.

Each thread calls the service layer with the shared ``db``; the service takes its own
cursor per unit of work, as the Streamlit app does per script run."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pytest

from lib.customers import customer as cs
from lib.core.errors import ConflictError, DuplicateError
from tests.conftest import customer_values


def run_together(n, fn):
    """Run fn(i) in n threads released at the same instant; returns results or exceptions."""
    barrier = threading.Barrier(n)

    def wrapped(i):
        barrier.wait()
        try:
            return fn(i)
        except Exception as exc:  # collected and asserted on by the caller
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(wrapped, range(n)))


def scalar(db, sql, params=()):
    with db.read() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def test_fifty_simultaneous_creates_get_fifty_distinct_codes(db, actors):
    n = 50
    results = run_together(n, lambda i: cs.create_customer(
        db, actors["sales" if i % 2 else "manager"], customer_values(name=f"并发客户{i}", phone=f"1390000{i:04d}")))
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    codes = {r["code"] for r in results}
    assert len(codes) == n
    assert scalar(db, "SELECT count(*) FROM customers") == n
    assert scalar(db, "SELECT count(DISTINCT code) FROM customers") == n
    assert scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'create'") == n
    assert {r["name"] for r in results} == {f"并发客户{i}" for i in range(n)}


@pytest.mark.parametrize("n", [2, 8])
def test_same_version_updates_exactly_one_wins(db, actors, make_customer, n):
    rec = make_customer()
    results = run_together(n, lambda i: cs.update_customer(
        db, actors["manager"], rec["id"], {"notes": f"writer {i}"}, rec["version"]))
    winners = [i for i, r in enumerate(results) if isinstance(r, dict)]
    losers = [r for r in results if not isinstance(r, dict)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ConflictError) for r in losers), losers
    final = cs.get_customer(db, actors["manager"], rec["id"])
    # no silent overwrite: the stored value is the winner's, and only one update is recorded
    assert final["notes"] == f"writer {winners[0]}"
    assert final["version"] == rec["version"] + 1
    updates = scalar(db, "SELECT count(*) FROM audit_log WHERE customer_id = ? AND action = 'update'", [rec["id"]])
    assert updates == 1
    for r in losers:
        if r.key == "error.conflict":  # re-read after DuckDB's conflict: names the winner
            assert r.params["by"] == "manager" and r.current["notes"] == final["notes"]


def test_racing_archive_and_update_do_not_both_apply(db, actors, make_customer):
    for _ in range(3):
        rec = make_customer()
        results = run_together(2, lambda i: (
            cs.archive_customer(db, actors["manager"], rec["id"], rec["version"]) if i == 0 else
            cs.update_customer(db, actors["admin"], rec["id"], {"notes": "edited"}, rec["version"])))
        assert sum(isinstance(r, dict) for r in results) == 1, results
        assert all(isinstance(r, (dict, ConflictError)) for r in results)
        final = cs.get_customer(db, actors["manager"], rec["id"])
        assert final["version"] == rec["version"] + 1
        assert final["archived"] != (final["notes"] == "edited")


def test_updates_to_different_customers_all_succeed(db, actors, make_customer):
    n = 8
    recs = [make_customer(uscc=None) for _ in range(n)]
    usccs = ["91110108551385082Q", None, None, None, None, None, None, None]

    def edit(i):
        rec = recs[i]
        for k in range(4):
            # phone_e164 and uscc_key are indexed: updating them must not conflict either
            rec = cs.update_customer(db, actors["manager"], rec["id"],
                                     {"notes": f"{i}-{k}", "phone": f"1370000{i}{k:03d}", "uscc": usccs[i]},
                                     rec["version"])
        return rec

    results = run_together(n, edit)
    assert [r for r in results if isinstance(r, Exception)] == []
    for i, r in enumerate(results):
        assert (r["notes"], r["version"]) == (f"{i}-3", 5)


def test_same_uscc_created_at_once_is_stored_once(db, actors):
    n = 6
    results = run_together(n, lambda i: cs.create_customer(
        db, actors["manager"], customer_values(uscc="91110108551385082Q")))
    (winner,) = [r for r in results if isinstance(r, dict)]
    assert all(isinstance(r, (dict, DuplicateError)) for r in results), results
    assert scalar(db, "SELECT count(*) FROM customers WHERE uscc = '91110108551385082Q'") == 1
    for r in results:
        if isinstance(r, DuplicateError):  # the message names who holds the code
            assert r.params == {"uscc": "91110108551385082Q", "code": winner["code"]}


def test_same_uscc_saved_on_two_customers_at_once_is_stored_once(db, actors, make_customer):
    for _ in range(3):
        recs = [make_customer() for _ in range(4)]
        results = run_together(4, lambda i: cs.update_customer(
            db, actors["manager"], recs[i]["id"], {"uscc": "91350203M0001QAY9B"}, recs[i]["version"],
            confirm={"uscc.checksum"}))
        (winner,) = [r for r in results if isinstance(r, dict)]
        assert all(isinstance(r, (dict, DuplicateError)) for r in results), results
        for r in results:
            if isinstance(r, DuplicateError):
                assert r.params == {"uscc": "91350203M0001QAY9B", "code": winner["code"]}
        assert scalar(db, "SELECT count(*) FROM customers WHERE uscc_key = '91350203M0001QAY9B'") == 1
        # free the code for the next round
        cs.update_customer(db, actors["manager"], winner["id"], {"uscc": None}, winner["version"])


def test_sequential_edits_from_many_threads_all_land(db, actors, make_customer):
    """Each thread re-reads and retries on ConflictError, as a user would: nothing is lost."""
    rec = make_customer()
    n, per_thread = 4, 3

    def append(i):
        done = 0
        while done < per_thread:
            cur = cs.get_customer(db, actors["manager"], rec["id"])
            try:
                cs.update_customer(db, actors["manager"], rec["id"],
                                   {"notes": (cur["notes"] or "") + f"[{i}.{done}]"}, cur["version"])
                done += 1
            except ConflictError:
                pass
        return done

    assert run_together(n, append) == [per_thread] * n
    final = cs.get_customer(db, actors["manager"], rec["id"])
    assert final["version"] == 1 + n * per_thread
    for i in range(n):
        for k in range(per_thread):
            assert f"[{i}.{k}]" in final["notes"]


# -- the retry in Database.run_in_transaction ---------------------------------------------------
def test_write_conflict_is_retried(db):
    calls = []

    def work(cur):
        calls.append(1)
        if len(calls) < 3:
            raise duckdb.TransactionException("TransactionContext Error: Conflict on update!")
        return cur.execute("SELECT 42").fetchone()[0]

    assert db.run_in_transaction(work) == 42
    assert len(calls) == 3


def test_persistent_write_conflict_becomes_conflict_error(db):
    calls = []

    def work(cur):
        calls.append(1)
        cur.execute("INSERT INTO settings VALUES ('should_not_stay', 'x')")
        raise duckdb.TransactionException("TransactionContext Error: Conflict on update!")

    with pytest.raises(ConflictError) as ei:
        db.run_in_transaction(work, attempts=3)
    assert ei.value.key == "error.write_conflict"
    assert len(calls) == 3
    assert scalar(db, "SELECT count(*) FROM settings WHERE key = 'should_not_stay'") == 0


def test_other_database_errors_are_not_retried(db):
    calls = []

    def work(cur):
        calls.append(1)
        cur.execute("INSERT INTO settings VALUES ('code_prefix', 'dup')")

    with pytest.raises(duckdb.ConstraintException):
        db.run_in_transaction(work)
    assert len(calls) == 1


def test_a_conflict_the_work_detects_itself_is_retried_like_duckdbs(db):
    from lib.core.db import WriteConflict

    calls = []

    def work(cur):
        calls.append(1)
        cur.execute("INSERT INTO settings VALUES ('should_not_stay', 'x')")
        if len(calls) < 2:
            raise WriteConflict("a key committed after this transaction began")
        return cur.execute("SELECT count(*) FROM settings WHERE key = 'should_not_stay'").fetchone()[0]

    assert db.run_in_transaction(work) == 1
    assert len(calls) == 2
    with pytest.raises(ConflictError), db.transaction() as cur:
        cur.execute("INSERT INTO settings VALUES ('nor_this', 'x')")
        raise WriteConflict("once only")
    assert scalar(db, "SELECT count(*) FROM settings WHERE key = 'nor_this'") == 0
