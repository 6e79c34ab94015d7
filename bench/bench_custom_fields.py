"""Custom fields at scale (issue 10): how long an administrator waits for a new field
on a large customer table, and what a custom choice field (filter and analytics
dimension) costs the searches and the analytics that every user runs afterwards.

    .venv/bin/python bench/bench_custom_fields.py --db /tmp/dbs/m1.duckdb

Works on a copy of ``--db`` (never written). Steps, each timed on the service layer as
an administrator:

1. before: an unfiltered search (first page), a text search, the analytics aggregate;
2. add a single choice field (3 options, a filter and a dimension) and a text field;
3. set the choice on every 10th customer (one UPDATE, as an import of that column would);
4. after: the same searches, a search filtered by the new choice, the analytics aggregate
   (one more dimension), and an update of one customer through the write path.

Medians of ``--rounds`` runs after one warm-up run; the analytics cache is emptied
before each run (a cold aggregate is what the first viewer after a save gets). The
in-process search index is built first, as a running server has it.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.core.db import Database  # noqa: E402
from lib.customers import analytics as A  # noqa: E402
from lib.customers import custom_fields as cf  # noqa: E402
from lib.customers import customer as cs  # noqa: E402
from lib.customers import search as S  # noqa: E402
from lib.customers import search_index  # noqa: E402


def timed(fn, rounds: int, before=None) -> float:
    """Median ms of ``rounds`` runs after one untimed warm-up run."""
    if before:
        before()
    fn()
    times = []
    for _ in range(rounds):
        if before:
            before()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, type=Path)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="customfields-"))
    copy = work / "db.duckdb"
    shutil.copyfile(args.db, copy)
    db = Database(copy)
    try:
        cf.install(db)
        t0 = time.perf_counter()
        search_index.index(db).build(background=False)  # as a running server has it
        print(f"search index built in {time.perf_counter() - t0:.0f} s")
        admin = db.actor("admin", "admin")
        with db.read() as cur:
            n = cur.execute("SELECT count(*) FROM customers").fetchone()[0]
        cold = lambda: db.invalidate("analytics")  # noqa: E731
        rows = []

        def measure(label: str) -> None:
            rows.append((label, "search, no filter", timed(lambda: S.search(db, admin, S.CustomerFilters()), args.rounds)))
            rows.append((label, "search 'xiamen'", timed(
                lambda: S.search(db, admin, S.CustomerFilters(text="xiamen")), args.rounds)))
            rows.append((label, "analytics, cold", timed(lambda: A.customer_analytics(db, admin), args.rounds, cold)))

        measure("before")
        t0 = time.perf_counter()
        cf.add_field(db, admin, key="channel", label_zh="来源渠道", label_en="Channel", kind="choice",
                     edit_roles=["admin", "manager", "sales"], filter=True, dimension=True,
                     choices=[("展会", "Trade fair"), ("网络", "Web"), ("转介绍", "Referral")])
        add_choice = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        cf.add_field(db, admin, key="wechat", label_zh="微信号", label_en="WeChat ID", kind="text",
                     edit_roles=["admin", "manager", "sales"], searchable=True)
        add_text = (time.perf_counter() - t0) * 1000
        with db.transaction() as cur:  # a tenth of the customers get a channel
            t0 = time.perf_counter()
            cur.execute("UPDATE customers SET cf_channel = CAST(1 + id % 3 AS VARCHAR) WHERE id % 10 = 0")
        fill = (time.perf_counter() - t0) * 1000
        measure("after")
        rows.append(("after", "search, channel = 2", timed(
            lambda: S.search(db, admin, S.CustomerFilters(choices={"cf_channel": ("2",)})), args.rounds)))
        rec = cs.get_customer(db, admin, 10)

        def update():
            nonlocal rec
            rec = cs.update_customer(db, admin, rec["id"], {"cf_channel": "3" if rec.get("cf_channel") != "3" else "1"},
                                     rec["version"])

        rows.append(("after", "update (the channel)", timed(update, args.rounds)))
    finally:
        db.close()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{n:,} customers ({args.db}); medians of {args.rounds} rounds, ms")
    print(f"add a choice field (filter, dimension): {add_choice:8.1f}")
    print(f"add a searchable text field:            {add_text:8.1f}")
    print(f"set the choice on every 10th customer:  {fill:8.1f}")
    for when, what, ms in rows:
        print(f"{when:<7} {what:<24} {ms:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
