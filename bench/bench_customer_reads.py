"""The six service reads behind the customer page (the customer by code, its contacts,
links, follow-ups, files and history, first page of 10), for 20 customers with
follow-ups sampled from the database: wall time per call, median over 3 passes, and
their sum.

    .venv/bin/python bench/bench_customer_reads.py --db /tmp/dbs/m1.duckdb
    # the same with another checkout's lib/ (A B A B against older code):
    git worktree add /tmp/reads-old <commit>
    .venv/bin/python bench/bench_customer_reads.py --db /tmp/dbs/m1.duckdb --code /tmp/reads-old

Only reads (a demo database: the demo manager must exist).
"""
from __future__ import annotations

import statistics
import sys
import time

import checkout


def main(argv=None) -> int:
    args = checkout.arguments(__doc__).parse_args(argv)
    db = checkout.open_database(args)
    from lib.accounts import users
    from lib.customers import contacts as ct
    from lib.customers import customer as cs
    from lib.customers import files as fl
    from lib.customers import followups as fu
    from lib.customers import relationships as rl

    actor = users.actor_for(db, "manager")
    customers = checkout.customers(db)
    with db.read() as cur:
        sample = cur.execute("SELECT code, id FROM customers WHERE merged_into IS NULL AND id IN"
                             " (SELECT customer_id FROM follow_ups) ORDER BY hash(id) LIMIT 20").fetchall()
    calls = {
        "customer by code": lambda code, cid: cs.get_customer_by_code(db, actor, code),
        "contacts": lambda code, cid: ct.contacts_of(db, actor, cid),
        "links": lambda code, cid: rl.links_of(db, actor, cid, limit=10, offset=0),
        "follow-ups": lambda code, cid: fu.followups_of(db, actor, cid, limit=10, offset=0),
        "files": lambda code, cid: fl.files_of(db, actor, cid, limit=10, offset=0),
        "history": lambda code, cid: cs.history_page(db, actor, cid, limit=10, offset=0),
    }
    print(f"{customers:,} customers; lib/ of {args.code.resolve()}; {len(sample)} customers x 3; ms (median)")
    total = 0.0
    for name, call in calls.items():
        call(*sample[0])
        times = []
        for _ in range(3):
            for code, cid in sample:
                started = time.perf_counter()
                call(code, cid)
                times.append((time.perf_counter() - started) * 1000)
        total += statistics.median(times)
        print(f"{name:18s} {statistics.median(times):6.2f}")
    print(f"{'sum':18s} {total:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
