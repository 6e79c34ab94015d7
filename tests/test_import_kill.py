"""An import killed (SIGKILL) at random moments leaves the database exactly as it was
before, or — if the kill came after the commit — exactly as a finished import leaves
it; never a part of the file (issue 9: all or nothing)."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from lib.accounts import users
from lib.core.db import Database
from lib.customers import customer as cs
from tests.conftest import TEST_PASSWORD, customer_values

ROOT = Path(__file__).resolve().parent.parent
KILLS = 20
ROWS = 1500


def state(path: Path) -> tuple:
    db = Database(path)
    try:
        with db.read() as cur:
            return tuple(cur.execute(q).fetchone() for q in (
                "SELECT count(*), sum(hash(id, code, name, version, search_text)) FROM customers",
                "SELECT count(*), sum(hash(id, customer_id, name, phone)) FROM contacts",
                "SELECT count(*), sum(hash(id, action, customer_id, changes)) FROM audit_log",
            ))
    finally:
        db.close()


def run_import(db_file: Path, csv_file: Path) -> subprocess.Popen:
    env = dict(os.environ, CM_BCRYPT_ROUNDS="4")
    return subprocess.Popen([sys.executable, "-m", "lib.cli", "--db", str(db_file), "import", str(csv_file),
                             "--user", "manager", "--apply", "--confirm-warnings"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_an_import_killed_at_random_moments_is_all_or_nothing(tmp_path):
    base = tmp_path / "base.duckdb"
    db = Database(base)
    users.create_user(db, None, "manager", "Manager", "manager", TEST_PASSWORD)
    manager = db.actor("manager", "manager")
    existing = [cs.create_customer(db, manager, customer_values()) for _ in range(3)]
    db.close()
    lines = ["客户编号,客户名称,电话,联系人,行业,客户等级"]
    lines += [f"{c['code']},,,,,A" for c in existing]  # updates too
    lines += [f",杀进程测试{i}有限公司,0592-5{i:06d},联系人{i},批发和零售业,B" for i in range(ROWS)]
    csv_file = tmp_path / "customers.csv"
    csv_file.write_bytes("\n".join(lines).encode("gbk"))
    before = state(base)

    # How long a run takes to start (interpreter, modules, the database): an import of
    # a file with a header only. Kills are spread from then to the end of a whole run.
    empty = tmp_path / "empty.csv"
    empty.write_bytes(lines[0].encode("gbk"))
    scratch = tmp_path / "scratch.duckdb"
    shutil.copy(base, scratch)
    started = time.monotonic()
    run_import(scratch, empty).wait(timeout=300)
    start_up = time.monotonic() - started

    # The whole import once, for the state after it and how long it takes.
    finished = tmp_path / "finished.duckdb"
    shutil.copy(base, finished)
    started = time.monotonic()
    assert run_import(finished, csv_file).wait(timeout=300) == 0
    took = time.monotonic() - started
    after = state(finished)
    assert after[0][0] == before[0][0] + ROWS and after != before

    rng = random.Random(9)
    outcomes = []
    for _ in range(KILLS):
        work = tmp_path / "work.duckdb"
        for leftover in (work, Path(f"{work}.wal")):
            leftover.unlink(missing_ok=True)
        shutil.copy(base, work)
        proc = run_import(work, csv_file)
        time.sleep(rng.uniform(0.8 * start_up, took))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        seen = state(work)
        assert seen in (before, after), "a killed import left part of the file"
        outcomes.append("before" if seen == before else "after")
    # Most kills land before the commit (the commit is the last moment of the run).
    assert outcomes.count("before") >= KILLS // 2, outcomes
    print(f"start-up {start_up:.1f} s, whole run {took:.1f} s; outcomes {outcomes}")
