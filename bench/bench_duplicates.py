"""The duplicate finder over the whole base (lib.customers.duplicates), timed.

    .venv/bin/python -m lib.cli --db /tmp/dbs/k100.duckdb init --demo --customers 100000
    cp /tmp/dbs/k100.duckdb /tmp/bench-dup.duckdb
    .venv/bin/python bench/bench_duplicates.py --db /tmp/bench-dup.duckdb

In this order:

* opening the file (applies migration 9 to a file made before it);
* ``refresh_keys`` on a file without keys: every live customer's name keys computed
  and stored (the one-time cost; later refreshes only see changed names);
* ``find_groups`` for a manager (all customers) with the keys fresh, each query part
  timed, ``--rounds`` times: the cost of a first page after any customer write;
* ``duplicate_groups`` page 1 and page 50 once cached (paging, no write between);
* one name changed through ``update_customer``, then ``duplicate_groups`` again: the
  key of that one customer is recomputed and the groups found again;
* ``find_groups`` for a salesperson (own customers only).

WRITES to the database (keys, one customer's name): use a copy. Prints ms.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.core.db import Database  # noqa: E402
from lib.customers import customer as cs  # noqa: E402
from lib.customers import duplicates as D  # noqa: E402


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    t = time.perf_counter()
    db = Database(Path(args.db))
    print(f"open (migrate): {ms(t):.0f} ms")
    with db.read() as cur:
        n = cur.execute("SELECT count(*) FROM customers WHERE merged_into IS NULL").fetchone()[0]
        sales = cur.execute("SELECT owner, count(*) FROM customers GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
    print(f"live customers: {n:,}")
    t = time.perf_counter()
    done = D.refresh_keys(db)
    print(f"refresh_keys, first time: {done:,} rows in {ms(t):.0f} ms")

    owner = None
    parts = {"uscc": D._uscc_groups, "phone": D._phone_groups, "name": D._name_groups,
             "pinyin": D._pinyin_groups, "same core": D._core_groups,
             "similar_name": D._similar_groups}
    times: dict[str, list[float]] = {k: [] for k in [*parts, "refresh (nothing stale)", "find_groups"]}
    for _ in range(args.rounds):
        t = time.perf_counter()
        D.refresh_keys(db)
        times["refresh (nothing stale)"].append(ms(t))
        with db.read() as cur:
            for name, fn in parts.items():
                t = time.perf_counter()
                found = fn(cur, owner)
                times[name].append(ms(t))
                print(f"  {name}: {len(found):,} groups", end="")
        print()
        t = time.perf_counter()
        groups = D.find_groups(db, owner)
        times["find_groups"].append(ms(t))
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.0f} ms (of {len(values)}: "
              f"{', '.join(f'{v:.0f}' for v in values)})")
    by_reason: dict[str, int] = {}
    for g in groups:
        for r in g.reasons:
            by_reason[r] = by_reason.get(r, 0) + 1
    print(f"groups: {len(groups):,}; by reason: {by_reason}; largest: {max((len(g.ids) for g in groups), default=0)}")

    manager = db.actor("manager", "manager")
    t = time.perf_counter()
    page = D.duplicate_groups(db, manager)
    print(f"duplicate_groups page 1, cold (groups + members): {ms(t):.0f} ms, total {page.total:,}")
    t = time.perf_counter()
    D.duplicate_groups(db, manager)
    print(f"duplicate_groups page 1, cached: {ms(t):.1f} ms")
    t = time.perf_counter()
    D.duplicate_groups(db, manager, offset=50 * D.PAGE_SIZE)
    print(f"duplicate_groups page 51, cached: {ms(t):.1f} ms")

    rec = cs.get_customer(db, manager, page.groups[0][1][0].id)
    new_name = rec["name"] + "（测试）" if not rec["name"].endswith("（测试）") else rec["name"][:-4]
    cs.update_customer(db, manager, rec["id"], {"name": new_name}, rec["version"])
    t = time.perf_counter()
    page = D.duplicate_groups(db, manager)
    print(f"duplicate_groups page 1 after a name change (1 key recomputed): {ms(t):.0f} ms")

    if sales:
        t = time.perf_counter()
        mine = D.find_groups(db, sales[0])
        print(f"find_groups for one owner ({sales[0]}, {sales[1]:,} customers): {ms(t):.0f} ms, {len(mine):,} groups")
    db.close()


if __name__ == "__main__":
    main()
