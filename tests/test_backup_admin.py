"""Backups from the administration page and for cron (issue 10): a folder of timestamped
backups, keeping the newest N, and the drill — back up, lose a customer and its files,
restore through the page, and every table is back as it was."""
from __future__ import annotations

import os
import time

import pytest

from lib.core.db import Database
from lib.core.errors import CustomerMasterError, PermissionDenied
from lib.core.i18n import t
from lib.customers import files as fl
from lib.ops import backup
from tests.apptest_util import make_app, open_page, run, texts
from tests.test_cli import run_cli
from tests.test_files import pdf

TABLES = ("customers", "contacts", "attachments", "attachment_blobs", "audit_log", "users", "relationships",
          "follow_ups")


def fingerprint(db) -> dict[str, tuple]:
    """Row count and a checksum of every row, per table (the audit log without the
    entries of backups and restores themselves: a backup's entry is written after its
    copy, a restore's into the restored file)."""
    out = {}
    with db.read() as cur:
        for table in TABLES:
            where = " WHERE action NOT IN ('backup', 'restore')" if table == "audit_log" else ""
            out[table] = cur.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t{where}").fetchone()
    return out


def test_a_backup_folder_keeps_the_newest_n(db, actors, tmp_path):
    folder = tmp_path / "backups"
    made = []
    for _ in range(4):
        made.append(backup.backup_into(db, folder, actors["admin"], keep=3).path)
        time.sleep(0.01)
    names = [b.path.name for b in backup.list_backups(folder)]
    assert names == [p.name for p in reversed(made[1:])]  # newest first, the oldest gone
    assert all(n.startswith("backup-") and n.endswith(".duckdb") for n in names)
    assert backup.stored_backup(folder, names[0]) == folder / names[0]
    for bad in ("../test.duckdb", str(made[1]), "backup-x.duckdb", made[0].name):
        with pytest.raises(CustomerMasterError):
            backup.stored_backup(folder, bad)
    with pytest.raises(CustomerMasterError):
        backup.prune(folder, 0)
    with pytest.raises(PermissionDenied):
        backup.backup_into(db, folder, actors["manager"])


def test_the_cron_command_keeps_the_newest_n_in_the_backup_folder(db, db_path, tmp_path):
    db.close()
    folder = tmp_path / "nightly"
    for _ in range(3):
        done = run_cli("--db", str(db_path), "backup", "--keep", "2", "--dir", str(folder))
        assert done.returncode == 0, done.stderr
        time.sleep(1.05)  # names carry the second
    assert len(backup.list_backups(folder)) == 2
    refused = run_cli("--db", str(db_path), "backup")
    assert refused.returncode == 1 and "--keep" in refused.stderr


def _click(at, key):
    at.button(key=key).click()
    return run(at)


def test_the_drill_back_up_lose_a_customer_restore_and_everything_is_back(db, db_path, actors, make_customer,
                                                                            monkeypatch):
    monkeypatch.setenv("CM_BACKUP_DIR", str(db_path.parent / "backups"))
    kept = make_customer()
    lost = make_customer(name="厦门演练客户有限公司")
    fl.add_file(db, actors["manager"], lost["id"], "合同.pdf", pdf())
    admin = run(open_page(make_app(db_path, "admin", lang="en"), "admin"))
    _click(admin, "ad_backup_now")
    (made,) = backup.list_backups(backup.backup_dir(db_path))
    assert t("admin.backup_made", "en", name=made.path.name, size=f"{made.size_bytes / 2**20:,.1f} MB",
             customers="2") in texts(admin)
    db.invalidate()
    before = fingerprint(db)

    # The loss: the customer, its contact and its file, gone from the tables.
    with db.transaction() as cur:
        for sql in ("DELETE FROM attachment_blobs WHERE attachment_id IN"
                    " (SELECT id FROM attachments WHERE customer_id = ?)",
                    "DELETE FROM attachments WHERE customer_id = ?", "DELETE FROM contacts WHERE customer_id = ?",
                    "DELETE FROM customers WHERE id = ?"):
            cur.execute(sql, [lost["id"]])
    assert fingerprint(db)["customers"][0] == 1
    db.close()  # the test's own connection: the file must be free for the swap

    run(admin)
    admin.selectbox(key="ad_restore_name_0").set_value(made.path.name)
    run(admin)
    admin.checkbox(key="ad_restore_sure_0").check()
    run(admin)
    _click(admin, "ad_restore")
    assert not admin.error, [e.value for e in admin.error]

    again = Database(db_path)
    try:
        after = fingerprint(again)
        with again.read() as cur:
            restores = cur.execute("SELECT actor FROM audit_log WHERE action = 'restore'").fetchall()
            names = [r[0] for r in cur.execute("SELECT name FROM customers ORDER BY id").fetchall()]
    finally:
        again.close()
    assert after == before and restores == [("admin",)]  # every table as at the backup
    assert names == [kept["name"], lost["name"]]
    listed = [b.path.name for b in backup.list_backups(backup.backup_dir(db_path))]
    assert len(listed) == 2 and any("before-restore" in n for n in listed)  # the state before, kept
    assert os.path.exists(db_path)


def test_restore_needs_the_confirmation(db, db_path, actors, monkeypatch):
    monkeypatch.setenv("CM_BACKUP_DIR", str(db_path.parent / "backups"))
    backup.backup_into(db, backup.backup_dir(db_path), actors["admin"])
    at = run(open_page(make_app(db_path, "admin", lang="zh"), "admin"))
    at.selectbox(key="ad_restore_name_0").set_value(backup.list_backups(backup.backup_dir(db_path))[0].path.name)
    run(at)
    assert at.button(key="ad_restore").disabled  # not without the box ticked
    assert t("admin.restore_warning", "zh") in [w.value for w in at.warning]


def test_the_cron_command_asks_the_running_server_when_the_app_holds_the_file(tmp_path):
    import subprocess
    import sys

    from tests.browser import util

    demo = util.seed_demo_db(tmp_path / "served.duckdb", customers=50)
    server = util.start_server("backup-run", demo.path)

    def cron(key: str):
        env = {**os.environ, "CM_BCRYPT_ROUNDS": "4", "CM_COOKIE_KEY": key, "LANG": "en_US.UTF-8"}
        env.pop("CM_LANG", None)
        return subprocess.run([sys.executable, "-m", "lib.cli", "--db", str(demo.path), "backup", "--keep", "1",
                               "--server", server.base_url], capture_output=True, text=True, cwd=util.ROOT, env=env,
                              timeout=120)

    try:
        # The server opens the database at its first request (a page, or any route).
        import urllib.error
        import urllib.request

        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(server.base_url + "/download/customers?ticket=x", timeout=60)
        held = subprocess.run([sys.executable, "-m", "lib.cli", "--db", str(demo.path), "list-users"],
                              capture_output=True, text=True, cwd=util.ROOT, timeout=120)
        assert held.returncode != 0  # the file is the server's now
        first, second = cron(util.COOKIE_KEY), cron(util.COOKIE_KEY)
        forged = cron("another-key-" + "x" * 40)
    finally:
        server.stop()
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "Backed up to" in second.stdout and "50 customers" in second.stdout
    (kept,) = backup.list_backups(backup.backup_dir(demo.path))  # --keep 1
    assert kept.path.name in second.stdout
    assert backup.inspect(kept.path)[1] == 50
    assert forged.returncode == 1 and "403" in forged.stderr


def test_an_uploaded_backup_is_checked_before_it_joins_the_folder(db, actors, tmp_path):
    folder = tmp_path / "backups"
    made = backup.backup(db, tmp_path / "elsewhere.duckdb", actors["admin"])
    kept = backup.keep_upload(folder, made.path.read_bytes(), actors["admin"])
    assert [b.path for b in backup.list_backups(folder)] == [kept] and kept.name.endswith("-uploaded.duckdb")
    with pytest.raises(CustomerMasterError):
        backup.keep_upload(folder, b"not a database", actors["admin"])
    with pytest.raises(PermissionDenied):
        backup.keep_upload(folder, made.path.read_bytes(), actors["manager"])
    assert [b.path for b in backup.list_backups(folder)] == [kept] and list(folder.glob("*.partial")) == []
