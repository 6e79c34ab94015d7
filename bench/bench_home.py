"""The home page's four lists as the service computes them (lib.customers.home): the
follow-ups due, the open needs, the customers not reviewed and those recently changed,
first page of 10, as a manager (everyone's) and as a salesperson (their own). Wall and
CPU time per call (DuckDB's worker threads count in the CPU), median over the rounds.

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
    print(f"{'call':34s} {'wall':>7s} {'cpu':>7s}")
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
            wall, cpu = [], []
            for _ in range(args.rounds):
                w, c = time.perf_counter(), time.process_time()
                call()
                wall.append((time.perf_counter() - w) * 1000)
                cpu.append((time.process_time() - c) * 1000)
            print(f"{username + ' / ' + name:34s} {statistics.median(wall):7.1f} {statistics.median(cpu):7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
