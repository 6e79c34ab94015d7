"""An import killed (SIGKILL) leaves the database exactly as it was before, or — if the
kill came after the commit — exactly as a finished import leaves it; never a part of the
file (issue 9: all or nothing).

Two kinds of kill: at exact points of the run (every progress report, every bulk insert,
every update, the last write before the commit, and just after the commit), each with
its one right outcome; and at random moments from outside, at least 20 in all, where
either outcome is right.
"""
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
KILLS = 21  # exact points and random moments together
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


def run_import(db_file: Path, csv_file: Path, die_at: tuple[str, int] | None = None) -> subprocess.Popen:
    """The command-line import as a child process; with ``die_at`` (point, n) the child
    kills itself with SIGKILL the nth time it reaches that point (tests/import_child.py)."""
    env = dict(os.environ, CM_BCRYPT_ROUNDS="4")
    cli = ["--db", str(db_file), "import", str(csv_file), "--user", "manager", "--apply", "--confirm-warnings"]
    command = ["-m", "lib.cli", *cli] if die_at is None else ["-m", "tests.import_child", *map(str, die_at), "--", *cli]
    return subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fresh_copy(base: Path, work: Path) -> Path:
    for leftover in (work, Path(f"{work}.wal")):
        leftover.unlink(missing_ok=True)
    shutil.copy(base, work)
    return work


# Each exact point, with the outcome a kill there must leave. The file has 3 updates and
# one chunk of new customers (3 bulk inserts: customers, contacts, audit), and its 1,503
# rows are reported as checked 3 times.
POINTS = [(("progress", n), "before") for n in (1, 2, 3)] + [
    (("insert", n), "before") for n in (1, 2, 3)] + [
    (("update", n), "before") for n in (1, 2, 3)] + [
    (("audit", 1), "before"), (("close", 1), "after")]


def test_an_import_killed_at_exact_points_and_random_moments_is_all_or_nothing(tmp_path):
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

    # The whole import once, for the state after it and how long it takes.
    finished = fresh_copy(base, tmp_path / "finished.duckdb")
    started = time.monotonic()
    assert run_import(finished, csv_file).wait(timeout=300) == 0
    took = time.monotonic() - started
    after = state(finished)
    assert after[0][0] == before[0][0] + ROWS and after != before
    expected = {"before": before, "after": after}

    for die_at, outcome in POINTS:
        work = fresh_copy(base, tmp_path / "work.duckdb")
        # Killed by its own SIGKILL: the point was reached.
        assert run_import(work, csv_file, die_at).wait(timeout=300) == -signal.SIGKILL, die_at
        assert state(work) == expected[outcome], f"killed at {die_at}: not as {outcome} the import"

    # From outside, at random moments over a whole run (from the start of the process:
    # some land before the database is even opened, some after the commit).
    rng = random.Random(9)
    outcomes = []
    for _ in range(KILLS - len(POINTS)):
        work = fresh_copy(base, tmp_path / "work.duckdb")
        proc = run_import(work, csv_file)
        time.sleep(rng.uniform(0, took))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        seen = state(work)
        assert seen in (before, after), "a killed import left part of the file"
        outcomes.append("before" if seen == before else "after")
    print(f"whole run {took:.1f} s; random kills left {outcomes}")
