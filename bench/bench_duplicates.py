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
* ``duplicate_groups`` page 1 as the page calls it: above ``SYNC_MAX`` customers it
  answers "preparing" at once and groups in a background thread (timed until done);
  then page 1 and page 51 from the cache;
* one name changed through ``update_customer``, then ``duplicate_groups`` again: above
  ``SYNC_MAX`` the last groups at once while the background finds them again (timed);
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
    parts = {"uscc": D._uscc_groups, "phone": D._phone_groups}
    on_keys = {"name": D._name_groups, "pinyin": D._pinyin_groups, "same core": D._core_groups,
               "similar_name": D._similar_groups}
    times: dict[str, list[float]] = {k: [] for k in [*parts, "company keys (Arrow)", *on_keys,
                                                       "refresh (nothing stale)", "find_groups"]}
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
            t = time.perf_counter()
            cur.register(D.KEYS_VIEW, D._company_keys(cur, owner))
            times["company keys (Arrow)"].append(ms(t))
            for name, fn in on_keys.items():
                t = time.perf_counter()
                found = fn(cur, D.KEYS_VIEW)
                times[name].append(ms(t))
                print(f"  {name}: {len(found):,} groups", end="")
            cur.unregister(D.KEYS_VIEW)
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
    cache = db.service("duplicate_groups", D.GroupCache)
    t = time.perf_counter()
    page = D.duplicate_groups(db, manager)
    first_ms = ms(t)
    if page.preparing:  # above SYNC_MAX: grouped in the background
        cache.wait()
        print(f"duplicate_groups page 1, no answer yet: {first_ms:.0f} ms (preparing); "
              f"background grouping done after {ms(t):.0f} ms")
        page = D.duplicate_groups(db, manager)
    else:
        print(f"duplicate_groups page 1, cold (grouped in the request): {first_ms:.0f} ms")
    print(f"  total {page.total:,} groups")
    for offset, label in ((0, "page 1"), (50 * D.PAGE_SIZE, "page 51")):
        laps = []
        for _ in range(5):
            t = time.perf_counter()
            D.duplicate_groups(db, manager, offset=offset)
            laps.append(ms(t))
        print(f"duplicate_groups {label}, cached: median {statistics.median(laps):.1f} ms")

    rec = cs.get_customer(db, manager, page.groups[0][1][0].id)
    new_name = rec["name"] + "（测试）" if not rec["name"].endswith("（测试）") else rec["name"][:-4]
    cs.update_customer(db, manager, rec["id"], {"name": new_name}, rec["version"])
    t = time.perf_counter()
    page = D.duplicate_groups(db, manager)
    print(f"duplicate_groups page 1 after a name change: {ms(t):.0f} ms "
          f"({'the last groups, refreshing in the background' if page.refreshing else 'grouped in the request'})")
    if page.refreshing:
        cache.wait()
        print(f"  background grouping (1 key recomputed) done after {ms(t):.0f} ms")

    if sales:
        t = time.perf_counter()
        mine = D.find_groups(db, sales[0])
        print(f"find_groups for one owner ({sales[0]}, {sales[1]:,} customers): {ms(t):.0f} ms, {len(mine):,} groups")
    db.close()


if __name__ == "__main__":
    main()
