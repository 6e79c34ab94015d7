"""``Database``'s public transaction API: ``transaction()`` runs once, ``run_in_transaction``
retries (its retries are tested in tests/test_concurrency.py)."""
from __future__ import annotations

import pytest

from lib.core.errors import ConflictError


def _setting(db, key):
    with db.read() as cur:
        row = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def test_transaction_commits_when_the_block_ends(db):
    with db.transaction() as cur:
        cur.execute("INSERT INTO settings VALUES ('tx_test', 'kept')")
        # not visible to others before the commit
        assert _setting(db, "tx_test") is None
    assert _setting(db, "tx_test") == "kept"


def test_transaction_rolls_back_when_the_block_raises(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as cur:
            cur.execute("INSERT INTO settings VALUES ('tx_test', 'gone')")
            raise RuntimeError("stop")
    assert _setting(db, "tx_test") is None


def test_write_conflict_in_transaction_is_a_conflict_error_and_nothing_is_kept(db):
    runs = []
    with db.transaction() as first:
        first.execute("UPDATE settings SET value = 'first' WHERE key = 'code_prefix'")
        with pytest.raises(ConflictError) as ei:
            with db.transaction() as second:
                runs.append(1)
                second.execute("INSERT INTO settings VALUES ('tx_test', 'second')")
                second.execute("UPDATE settings SET value = 'second' WHERE key = 'code_prefix'")
    assert ei.value.key == "error.write_conflict"
    assert runs == [1]  # run once, never retried
    assert _setting(db, "code_prefix") == "first"
    assert _setting(db, "tx_test") is None


def test_cached_value_stays_until_invalidated(db):
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    assert db.cached("tx_test", load) == 1
    assert db.cached("tx_test", load) == 1
    db.invalidate("tx_test")
    assert db.cached("tx_test", load) == 2
