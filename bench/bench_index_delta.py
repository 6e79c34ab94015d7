"""Searches and analytics as the customers saved since the search index's build pile up
(issue 8 §2, §3). The index keeps those customers' rows beside its arrays (its
``delta``) and every search and every analytics count tests each of them in Python,
until ``REBUILD_AFTER`` of them start a rebuild. Here: the index built, then the rows of
more and more customers noted as saved (what ``Database.on_commit`` reports after a
customer write: the index re-reads them on its next use; the rows themselves are left
as they are, which costs the index the same as a changed row), and at each step

* a text search (``lib.customers.search.search``, relevance order, page of 50) for a
  set of terms from frequent to matching nothing, as a manager and as a salesperson,
  median over the rounds;
* the analytics aggregate (``customer_analytics``) as a manager, the first call after
  a save (the cache keyed by the index's version is then empty), median;
* how long the index took to take in each step's batch of saved customers.

    cp /tmp/dbs/m1.duckdb /tmp/dbs/delta-m1.duckdb
    .venv/bin/python bench/bench_index_delta.py --db /tmp/dbs/delta-m1.duckdb

Only reads (the demo users must exist: a demo database); the build runs in this
process first (at 1M ~20-40 s).
"""
from __future__ import annotations

import random
import statistics
import sys
import time

import checkout

TERMS = ("公司", "科技", "张", "138", "li", "zhang", "xiamen", "0592", "8899", "qq.com", "没有这个客户zzz")
STEPS = (0, 500, 2_000, 4_900)  # customers saved since the build (REBUILD_AFTER is 5,000)


def main(argv=None) -> int:
    ap = checkout.arguments(__doc__, rounds=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    db = checkout.open_database(args)
    from lib.accounts import users
    from lib.customers import analytics, search, search_index

    index = search_index.index(db)
    started = time.perf_counter()
    index.build(background=False)
    built = time.perf_counter() - started
    manager, sales = users.actor_for(db, "manager"), users.actor_for(db, "sales")
    with db.read() as cur:
        ids = [r[0] for r in cur.execute("SELECT id FROM customers").fetchall()]
    rng = random.Random(args.seed)
    rng.shuffle(ids)
    if len(ids) < STEPS[-1] + args.rounds * 5:
        raise SystemExit(f"needs more than {STEPS[-1]:,} customers")
    bump = iter(ids[STEPS[-1]:])  # one more saved customer before each analytics call

    def ms(t: float) -> float:
        return (time.perf_counter() - t) * 1000

    def searches(actor) -> float:
        took = []
        for _ in range(args.rounds):
            for term in TERMS:
                t = time.perf_counter()
                search.search(db, actor, search.CustomerFilters(text=term), page=search.PageRequest(size=50))
                took.append(ms(t))
        return statistics.median(took)

    def analytics_cold() -> float:
        took = []
        for _ in range(args.rounds * 5):
            index._noted([next(bump)])  # a save: the aggregate's cache key (the index's version) changes
            t = time.perf_counter()
            analytics.customer_analytics(db, manager)
            took.append(ms(t))
        return statistics.median(took)

    print(f"{len(ids):,} customers; lib/ of {args.code}; index built in {built:.1f} s; {args.rounds} rounds;"
          " ms (median)")
    print(f"{'saved since build':>18} {'taken in':>9} {'search (manager)':>17} {'search (sales)':>15}"
          f" {'analytics':>10}")
    done = 0
    for step in STEPS:
        t = time.perf_counter()
        if step > done:
            index._noted(ids[done:step])
        index.current()
        taken = ms(t)
        done = step
        held = len(index.current().delta)
        print(f"{held:>18,} {taken:>9.1f} {searches(manager):>17.1f} {searches(sales):>15.1f}"
              f" {analytics_cold():>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
