"""The duplicate check a new customer goes through before it is saved
(``lib.customers.search.find_duplicates``, also run after an edit of a watched field):
wall and CPU time per check at the given database, with the search index built first
(as a server has it once its background build is done).

    .venv/bin/python bench/bench_entry_check.py --db /tmp/dbs/m1.duckdb
    # the same with another checkout's lib/ (A B against older code):
    git worktree add /tmp/entry-old <commit>
    .venv/bin/python bench/bench_entry_check.py --db /tmp/dbs/m1.duckdb --code /tmp/entry-old

Only reads (a demo database: the demo manager must exist).
"""
from __future__ import annotations

import statistics
import sys
import time

import checkout


def main(argv=None) -> int:
    args = checkout.arguments(__doc__, rounds=7).parse_args(argv)
    db = checkout.open_database(args)
    from lib.accounts import users
    from lib.customers import search, search_index

    started = time.perf_counter()
    search_index.index(db).build(background=False)
    customers = checkout.customers(db)
    with db.read() as cur:
        name, phone = cur.execute("SELECT name, phone FROM customers WHERE phone IS NOT NULL"
                                  " ORDER BY id LIMIT 1 OFFSET 4321").fetchone()
        uscc = cur.execute("SELECT uscc FROM customers WHERE uscc IS NOT NULL ORDER BY id LIMIT 1 OFFSET 999").fetchone()
    print(f"{customers:,} customers; lib/ of {args.code.resolve()}; index built in "
          f"{time.perf_counter() - started:.1f} s; {args.rounds} rounds; ms (median)")
    actor = users.actor_for(db, "manager")
    cases = {
        "a new name and phones": {"name": "负载测试新客户甲有限公司", "phone": "0592-5123456",
                                  "contact_phone": "13906001234"},
        "an existing name": {"name": name},
        "an existing phone": {"name": "另一家公司", "phone": phone},
        "an existing USCC": {"name": "另一家公司", "uscc": uscc[0] if uscc else None},
        "a generic name": {"name": "科技有限公司"},
    }
    print(f"{'check':24s} {'found':>5s} {'wall':>7s} {'cpu':>7s}")
    for label, values in cases.items():
        search.find_duplicates(db, actor, values)
        wall, cpu = [], []
        for _ in range(args.rounds):
            w, c = time.perf_counter(), time.process_time()
            found = search.find_duplicates(db, actor, values)
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        print(f"{label:24s} {len(found):5d} {statistics.median(wall):7.1f} {statistics.median(cpu):7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
