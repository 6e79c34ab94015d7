"""Backup and restore: a consistent single-file copy, and codes never issued twice."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import duckdb
import pytest

from lib.ops import backup as bk
from lib.customers import customer as cs
from lib.core.db import Database
from lib.core.errors import DatabaseInUse, PermissionDenied
from tests.conftest import ROOT


def code_number(code: str) -> int:
    return int(code.rsplit("-", 1)[1])


def dump(path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ("customers", "contacts", "users", "reference_items", "settings", "schema_version")}


def definitions(path) -> list[tuple]:
    """Every table's definition, with its columns' compression (schema migration 15)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT table_name, sql FROM duckdb_tables() ORDER BY 1").fetchall()


def test_round_trip_keeps_rows_and_never_reuses_codes(db, db_path, make_customer, actors, tmp_path):
    before = [make_customer(contact_name=f"联系人{i}") for i in range(3)]
    target = tmp_path / "backups" / "b1.duckdb"
    info = bk.backup(db, target)
    assert info.path == target and info.customers == 3 and target.is_file()
    assert not (tmp_path / "backups" / "b1.duckdb.wal").exists()
    after = [make_customer() for _ in range(2)]  # issued after the backup, lost by the restore
    issued = max(code_number(r["code"]) for r in before + after)
    audit = [r for r in db.cursor().execute(
        "SELECT action, entity, changes FROM audit_log WHERE entity = 'system'").fetchall()]
    assert audit[0][:2] == ("backup", "system") and json.loads(audit[0][2])["customers"] == 3
    db.close()
    assert definitions(target) == definitions(db_path)
    assert "code VARCHAR USING COMPRESSION Uncompressed" in dict(definitions(target))["customers"]

    snapshot = dump(target)
    result = bk.restore(target, db_path)
    assert result.customers == 3 and result.replaced_copy and result.replaced_copy.exists()
    assert {"customer_code_seq", "customer_id_seq"} <= set(result.advanced)
    assert dump(db_path) == snapshot

    restored = Database(db_path)
    try:
        actor = restored.actor("manager", "manager")
        new = cs.create_customer(restored, actor, {"name": "恢复后新建有限公司", "status": "active"})
        # Greater than every code in the backup and every code issued before the restore.
        assert code_number(new["code"]) > issued
        assert new["id"] > max(r["id"] for r in before + after)
        actions = [r[0] for r in restored.cursor().execute(
            "SELECT action FROM audit_log WHERE entity = 'system' ORDER BY id").fetchall()]
        assert actions == ["restore"]
    finally:
        restored.close()


def test_backup_sequences_continue_without_the_live_file(db, make_customer, tmp_path):
    """COPY FROM DATABASE re-creates sequences at their next value: a backup restored where
    no earlier file exists still continues after its own last code."""
    made = [make_customer() for _ in range(4)]
    target = tmp_path / "b.duckdb"
    bk.backup(db, target)
    fresh = tmp_path / "elsewhere" / "restored.duckdb"
    result = bk.restore(target, fresh)
    assert result.replaced_copy is None and result.advanced == {}
    other = Database(fresh)
    try:
        new = cs.create_customer(other, other.actor("manager", "manager"), {"name": "新机器上的客户", "status": "active"})
        assert code_number(new["code"]) == code_number(made[-1]["code"]) + 1
    finally:
        other.close()


def test_backup_refuses_existing_target_and_needs_permission(db, actors, tmp_path):
    target = tmp_path / "exists.duckdb"
    target.write_bytes(b"x")
    with pytest.raises(bk.BackupError) as err:
        bk.backup(db, target)
    assert err.value.key == "error.backup_exists"
    with pytest.raises(PermissionDenied):
        bk.backup(db, tmp_path / "other.duckdb", actor=actors["manager"])
    assert bk.backup(db, tmp_path / "ok.duckdb", actor=actors["admin"]).path.exists()


def test_restore_checks_the_backup(db, db_path, tmp_path):
    db.close()
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database")
    with pytest.raises(bk.BackupError):
        bk.restore(junk, db_path)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(bk.BackupError):
        bk.restore(empty, db_path)
    with pytest.raises(bk.BackupError):
        bk.restore(tmp_path / "missing.duckdb", db_path)
    live = Database(db_path)  # the live file is untouched and still opens
    try:
        assert live.cursor().execute("SELECT count(*) FROM users").fetchone()[0] == 5
    finally:
        live.close()


def test_restore_refuses_while_another_process_holds_the_file(db, db_path, tmp_path):
    target = tmp_path / "b.duckdb"
    bk.backup(db, target)
    db.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(60)", str(db_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseInUse) as err:
            bk.restore(target, db_path)
        assert str(holder.pid) == str(err.value.params["pid"])
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert not (tmp_path / "test.duckdb.restoring").exists()
