"""The home page's four lists as the service computes them (lib.customers.home): the
follow-ups due, the open needs, the customers not reviewed and those recently changed,
first page of 10, as a manager (everyone's) and as a salesperson (their own). Wall and
CPU time per call (DuckDB's worker threads count in the CPU), median over the rounds:
"cold" with the home page's answer cache emptied before the call (the first view after
anyone's write), "warm" the same call right after (a rerun with nothing written since).
Code without that cache computes every call; its two columns then measure the same.

    .venv/bin/python bench/bench_home.py --db /tmp/dbs/m1.duckdb
    # the same calls with another checkout's lib/ (A B A B against older code):
    git worktree add /tmp/home-old <commit>
    .venv/bin/python bench/bench_home.py --db /tmp/dbs/m1.duckdb --code /tmp/home-old

Only reads (the demo users must exist: a demo database).
"""
from __future__ import annotations

import statistics
import sys
import time

import checkout


def main(argv=None) -> int:
    args = checkout.arguments(__doc__, rounds=20).parse_args(argv)
    db = checkout.open_database(args)
    from lib.accounts import users
    from lib.customers import home

    print(f"{checkout.customers(db):,} customers; lib/ of {args.code.resolve()}; {args.rounds} rounds; ms (median)")
    print(f"{'call':34s} {'cold wall':>10s} {'cold cpu':>10s} {'warm wall':>10s} {'warm cpu':>10s}")
    for username in ("manager", "sales"):
        actor = users.actor_for(db, username)
        calls = {
            "my_due": lambda: home.my_due(db, actor, limit=10),
            "open_needs": lambda: home.open_needs(db, actor, limit=10),
            "not_reviewed": lambda: home.not_reviewed(db, actor, limit=10),
            "recently_changed": lambda: home.recently_changed(db, actor, limit=10),
        }
        for name, call in calls.items():
            call()  # the first call reads the file into DuckDB's cache
            times: dict[str, list[float]] = {"cold wall": [], "cold cpu": [], "warm wall": [], "warm cpu": []}
            for _ in range(args.rounds):
                for state in ("cold", "warm"):
                    if state == "cold":
                        db.invalidate("home")  # no cache (or an older lib without one): nothing happens
                    w, c = time.perf_counter(), time.process_time()
                    call()
                    times[state + " wall"].append((time.perf_counter() - w) * 1000)
                    times[state + " cpu"].append((time.process_time() - c) * 1000)
            print(f"{username + ' / ' + name:34s}" + "".join(f" {statistics.median(v):10.1f}" for v in times.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
