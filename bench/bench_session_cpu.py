"""Server CPU of one person's session (issue 8 §3): log in (bcrypt included), search
twice, open a customer, save an edit, view analytics — as a light client of a real
server (the websocket client of bench_load.py), one session at a time, nothing else
running against the server. Per session: the server process's CPU (user + system,
from /proc) from before the login to after the last action, and each action's share;
of it, the main thread's (the event loop, which sends the messages; the rest is
mostly the script threads, one per run, and DuckDB's); and the elements the server
sent for each action (its delta messages: each is a protobuf built in the script
thread and a websocket frame sent by the event loop).

    .venv/bin/python bench/bench_session_cpu.py --db /tmp/dbs/k100.duckdb --sessions 10

Works on a copy of ``--db`` (never written). The first session after the start is a
warm-up and not counted (the server's first run imports and warms the pages).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import DEMO_USERS, LightSession, Record, draw_work, proc_cpu_s  # noqa: E402
from tests.browser.util import start_server  # noqa: E402

STEPS = ("log in", "search", "search", "open customer", "save edit", "analytics")


async def one_session(n: int, base_url: str, user, work: dict, rec: Record, pid: int,
                      deltas: dict[str, int] | None = None,
                      loop_cpu: dict[str, float] | None = None) -> dict[str, float]:
    """The server's CPU seconds per step; ``deltas`` (if given) gets the delta messages
    received per step, ``loop_cpu`` the main thread's CPU seconds per step."""
    s = LightSession(n, base_url, user, work, rec, seed=n, tag="cpu")
    cpu: dict[str, float] = {}
    await s.client.connect()
    try:
        async def step(name: str, coro) -> object:
            before, sent, loop = proc_cpu_s(pid), s.client.received["delta"], proc_cpu_s(pid, pid)
            out = await coro
            cpu[name] = cpu.get(name, 0.0) + proc_cpu_s(pid) - before
            if deltas is not None:
                deltas[name] = deltas.get(name, 0) + s.client.received["delta"] - sent
            if loop_cpu is not None:
                loop_cpu[name] = loop_cpu.get(name, 0.0) + proc_cpu_s(pid, pid) - loop
            return out

        await step("log in", s.login())
        await step("search", s.search())
        await step("search", s.search())
        cust = await step("open customer", s.open_customer())
        if cust is None:
            raise SystemExit(f"session {n}: no customer opened ({rec.errors[-1:]})")
        await step("save edit", s.save_edit(cust))
        await step("analytics", s.analytics())
    finally:
        await s.client.close()
    return cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, type=Path)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--user", default="manager", help="a demo user who may update customers")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds to wait after the warm-up session, for the search index build the server starts"
                         " with its first request (its CPU would count otherwise; about 60-120 at 1M)")
    ap.add_argument("--profile", type=Path,
                    help="also record the server's stacks during the counted sessions with py-spy (collapsed"
                         " stacks, one line each, to this file; `pip install py-spy` into the venv; the CPU"
                         " figures then include the sampler's cost)")
    ap.add_argument("--gil", action="store_true",
                    help="with --profile: sample only the thread holding the GIL (Python's own work; bcrypt and"
                         " DuckDB release the GIL while they work and so drop out, as do threads waiting for it)")
    args = ap.parse_args(argv)
    user = next(u for u in DEMO_USERS if u[0] == args.user)
    work_dir = Path(tempfile.mkdtemp(prefix="sessioncpu-"))
    copy = work_dir / "db.duckdb"
    shutil.copyfile(args.db, copy)
    works = draw_work(copy, seed=1)
    server = start_server("sessioncpu", copy, timeout=180, log_path=work_dir / "server.log")
    rec = Record()
    try:
        pid = server.process.pid
        asyncio.run(one_session(0, server.base_url, user, works[user[0]], rec, pid))  # warm-up
        time.sleep(args.settle)  # the search index builds in the background after the first request
        spy = None
        if args.profile:
            spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
                                    "--format", "raw", "--rate", "200", "--threads", "--nonblocking",
                                    *(["--gil"] if args.gil else []), "-o", str(args.profile)], stdout=subprocess.DEVNULL)
            time.sleep(2)
        totals, per_step = [], {k: [] for k in dict.fromkeys(STEPS)}
        elements: dict[str, list[int]] = {k: [] for k in per_step}
        loops: dict[str, list[float]] = {k: [] for k in per_step}
        for n in range(1, args.sessions + 1):
            deltas: dict[str, int] = {}
            loop_cpu: dict[str, float] = {}
            cpu = asyncio.run(one_session(n, server.base_url, user, works[user[0]], rec, pid, deltas, loop_cpu))
            totals.append(sum(cpu.values()))
            for k, v in cpu.items():
                per_step[k].append(v)
                elements[k].append(deltas.get(k, 0))
                loops[k].append(loop_cpu.get(k, 0.0))
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
    finally:
        server.stop(timeout=30)
    if rec.errors:
        print("errors:", *rec.errors, sep="\n  ")
    load = os.getloadavg()
    print(f"{args.sessions} sessions of {args.user} on {args.db} (load average {load[0]:.1f}); server CPU, ms")
    print("step              median      max   event loop (median)   elements sent (median)")
    for k, vs in per_step.items():
        print(f"{k:<16} {statistics.median(vs) * 1000:7.0f} {max(vs) * 1000:8.0f}"
              f" {statistics.median(loops[k]) * 1000:12.0f} {statistics.median(elements[k]):22.0f}")
    print(f"{'whole session':<16} {statistics.median(totals) * 1000:7.0f} {max(totals) * 1000:8.0f}"
          f" {statistics.median(map(sum, zip(*loops.values()))) * 1000:12.0f}"
          f" {statistics.median(map(sum, zip(*elements.values()))):22.0f}   (target ≤ 600 ms)")
    print("(/proc counts CPU in 10 ms ticks: single steps are ±10 ms)")
    return 1 if rec.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
