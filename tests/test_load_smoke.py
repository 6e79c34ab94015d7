"""The smoke version of ``bench/bench_load.py`` (issue 8 §6): three light clients, each
logged in through the real form as another demo user, work at once against a real
``streamlit run`` on a small demo database for a few seconds (search, page, open a
customer, save an edit, add a follow-up, analytics, now and then a new customer).
Nothing may fail, and every write a client saw acknowledged must be in the database
afterwards. Correctness only: no timings are asserted."""
from __future__ import annotations

import asyncio
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from tests.browser import util

sys.path.insert(0, str(util.ROOT / "bench"))

import bench_load  # noqa: E402

SESSIONS = 3  # admin, manager, sales: every one may write
SECONDS = 6.0


def test_three_sessions_at_once_fail_nothing_and_lose_no_acknowledged_write(tmp_path, monkeypatch):
    demo = util.seed_demo_db(tmp_path / "demo.duckdb", customers=120)
    works = bench_load.draw_work(demo.path, seed=8, per_kind=3)  # before the server holds the file
    monkeypatch.setattr(bench_load, "THINK_S", [0.0, 0.1])
    rec = bench_load.Record()
    server = util.start_server("load-smoke", demo.path)
    try:
        # In a thread of its own: after the browser tests, this thread may hold
        # Playwright's running event loop, and asyncio.run() refuses to nest.
        clients = bench_load.run_light(server.base_url, SESSIONS, 0, works, rec, seed=8, tag="smoke",
                                       deadline=time.monotonic() + SECONDS, ramp=0.0)
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, clients).result()
    finally:
        server.stop()
    checks = bench_load.verify(demo.path, rec)

    assert rec.errors == [], server.log()[-3000:]
    assert {k for k, _ in rec.timings} == {"light"}
    assert {a for _, a in rec.timings} >= {"log in", "search", "open customer", "save edit"}
    assert rec.saves, "no save was acknowledged: the check below would prove nothing"
    assert checks["saves_missing"] == [] and checks["saves_overwritten_wrongly"] == []
    assert checks["followups_missing"] == [] and checks["followups_duplicated"] == []
    assert checks["created_missing"] == [] and checks["duplicate_codes"] == []
    assert checks["ok"]
