"""``Database``'s public transaction API: ``transaction()`` runs once, ``run_in_transaction``
retries (its retries are tested in tests/test_concurrency.py), ``read()`` refuses writes."""
from __future__ import annotations

import duckdb
import pytest

from lib.core.db import Database, WriteInRead, page_and_total, server_memory_limit
from lib.core.errors import ConfigError, ConflictError


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


def test_a_value_loaded_while_a_write_invalidates_is_not_kept(db):
    """A load reads the old table; a write commits and invalidates before the load
    stores its value. Kept, the old value would outlive the write."""
    loads = []

    def load_meeting_a_write():
        loads.append("old")
        db.invalidate("users_test")  # the write's invalidation, while this load runs
        return "old"

    assert db.cached("users_test", load_meeting_a_write) == "old"  # this caller gets what it read
    assert db.cached("users_test", lambda: "new") == "new"  # the next one reads again
    assert db.cached("users_test", lambda: "newer") == "new"  # and that is kept


def _next_customer_id(db):
    with db.transaction() as cur:
        return cur.execute("SELECT nextval('customer_id_seq')").fetchone()[0]


def _tables(db):
    with db.read() as cur:
        return {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}


@pytest.mark.parametrize("write", [
    "INSERT INTO settings VALUES ('tx_test', 'written')",
    "UPDATE settings SET value = 'written' WHERE key = 'code_prefix'",
    "DELETE FROM settings WHERE key = 'code_prefix'",
    "CREATE TABLE tx_test (x INTEGER)",
    "ALTER TABLE settings ADD COLUMN tx_test VARCHAR",
    "SELECT nextval('customer_id_seq')",  # a sequence is written too
])
def test_a_write_inside_read_fails_and_changes_nothing(db, write):
    prefix, tables, before = _setting(db, "code_prefix"), _tables(db), _next_customer_id(db)
    with pytest.raises(WriteInRead, match="Database.read"):
        with db.read() as cur:
            cur.execute(write)
    assert _setting(db, "code_prefix") == prefix
    assert _setting(db, "tx_test") is None
    assert _tables(db) == tables
    with db.read() as cur:
        assert "tx_test" not in {r[0] for r in cur.execute("DESCRIBE settings").fetchall()}
    assert _next_customer_id(db) == before + 1  # the refused nextval handed out nothing


@pytest.mark.parametrize("failure", ["sql", "python"])
def test_a_read_failing_half_way_closes_its_cursor_and_leaves_nothing_open(db, failure):
    with pytest.raises((duckdb.CatalogException, RuntimeError)):
        with db.read() as cur:
            assert cur.execute("SELECT count(*) FROM settings").fetchone()[0] > 0
            if failure == "sql":
                cur.execute("SELECT * FROM no_such_table")
            raise RuntimeError("stop")
    with pytest.raises(duckdb.ConnectionException):
        cur.execute("SELECT 1")  # closed, so no transaction of it lingers
    # the next read works, and a write is not held up by anything left open
    assert _setting(db, "code_prefix") is not None
    with db.transaction() as w:
        w.execute("INSERT INTO settings VALUES ('tx_test', 'after')")
    assert _setting(db, "tx_test") == "after"


def test_a_read_sees_one_snapshot(db):
    with db.read() as cur:
        assert cur.execute("SELECT value FROM settings WHERE key = 'code_prefix'").fetchone()[0] != "changed"
        with db.transaction() as w:
            w.execute("UPDATE settings SET value = 'changed' WHERE key = 'code_prefix'")
        # a count and the page it describes (search) cannot disagree
        assert cur.execute("SELECT value FROM settings WHERE key = 'code_prefix'").fetchone()[0] != "changed"
    assert _setting(db, "code_prefix") == "changed"


def test_checkpoint_folds_the_write_ahead_log_into_the_file(db):
    with db.transaction() as cur:
        cur.execute("INSERT INTO settings VALUES ('tx_test', 'kept')")
    wal = db.path.with_name(db.path.name + ".wal")
    assert wal.exists() and wal.stat().st_size > 0
    db.checkpoint()
    assert not wal.exists() or wal.stat().st_size == 0
    assert _setting(db, "tx_test") == "kept"


def test_read_beside_runs_a_read_of_its_own_on_another_thread(db):
    import threading

    main = threading.get_ident()
    fut = db.read_beside(lambda cur: (threading.get_ident(), cur.execute("SELECT value FROM settings"
                                                                         " WHERE key = 'code_prefix'").fetchone()[0]))
    thread, prefix = fut.result()
    assert thread != main and prefix == _setting(db, "code_prefix")
    # A read like any other: a write in it is refused and changes nothing.
    with pytest.raises(WriteInRead):
        db.read_beside(lambda cur: cur.execute("UPDATE settings SET value = 'X' WHERE key = 'code_prefix'")).result()
    assert _setting(db, "code_prefix") == prefix


def test_page_and_total_gives_a_page_and_the_count_of_every_row(db):
    with db.read() as cur:
        rest = "FROM range(25) t(n) WHERE n % 2 = ?"  # 13 even numbers, 12 odd
        rows, total = page_and_total(cur, "n", rest, [0], order_by="n DESC", limit=5, offset=0)
        assert ([r["n"] for r in rows], total) == ([24, 22, 20, 18, 16], 13)
        rows, total = page_and_total(cur, "n", rest, [1], order_by="n", limit=5, offset=10)
        assert ([r["n"] for r in rows], total) == ([21, 23], 12)
        assert page_and_total(cur, "n", rest, [1], order_by="n", limit=5, offset=40) == ([], 12)  # past the end
        assert page_and_total(cur, "n", rest, [2], order_by="n", limit=5, offset=0) == ([], 0)  # nothing at all


def duckdb_reading_of(memory_limit: str) -> str:
    """``memory_limit`` as DuckDB reads it back (e.g. 300MB -> '286.1 MiB')."""
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()


def memory_limit_of(db) -> str:
    with db.read() as cur:
        return cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_a_memory_limit_is_set_on_the_opened_file_and_none_keeps_duckdbs_default(tmp_path):
    limited = Database(tmp_path / "limited.duckdb", memory_limit="300MB")
    default = Database(tmp_path / "default.duckdb")
    try:
        assert memory_limit_of(limited) == duckdb_reading_of("300MB")
        assert memory_limit_of(default) != duckdb_reading_of("300MB")
    finally:
        limited.close()
        default.close()


def test_the_servers_memory_limit_comes_from_the_environment_and_is_duckdbs_default_when_unset():
    assert server_memory_limit({}) is None
    assert server_memory_limit({"CM_DUCKDB_MEMORY_LIMIT": " "}) is None
    assert server_memory_limit({"CM_DUCKDB_MEMORY_LIMIT": "1.5GB"}) == "1.5GB"
    assert server_memory_limit({"CM_DUCKDB_MEMORY_LIMIT": "768 MiB"}) == "768 MiB"


@pytest.mark.parametrize("value", ["lots", "512", "-1GB", "1GB'; SET threads = 1; --", "80%"])
def test_a_memory_limit_that_is_not_a_size_is_refused_before_duckdb_sees_it(tmp_path, value):
    with pytest.raises(ConfigError) as err:
        server_memory_limit({"CM_DUCKDB_MEMORY_LIMIT": value})
    assert err.value.key == "config.bad_memory_limit" and err.value.params == {"value": value}
    with pytest.raises(ConfigError):
        Database(tmp_path / "x.duckdb", memory_limit=value)
    assert not (tmp_path / "x.duckdb").exists()  # refused before the file was opened
