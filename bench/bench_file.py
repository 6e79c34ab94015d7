"""Benchmark of the customer file's writes and reads at 1,000,000 customers.

Like bench/bench_core.py: each operation is timed as the service call and, next to it,
as the raw SQL the service ran (recorded from the service itself, bench/recording.py),
median and p95 of both, their ratio and the issue's target.

    .venv/bin/python -m lib.cli --db /tmp/bench.duckdb init --demo --customers 1000000
    .venv/bin/python bench/bench_file.py --db /tmp/bench.duckdb

Writes (adds contacts): use a copy, not production data. Refuses fewer than 1,000,000
customers unless --quick.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import MIN_ROWS, Bench, percentile  # noqa: E402

from lib.core.db import Database  # noqa: E402
from lib.customers import contacts as ct  # noqa: E402
from lib.customers import customer as cs  # noqa: E402

TARGETS_MS = {"add contact": 15, "contacts of": None, "history": None}


class FileBench(Bench):
    def add_contact(self, i):
        cid = self.random_live_id()
        values = {"contact_name": f"基准联系人{i}", "contact_mobile": f"139{self.rng.randint(0, 99_999_999):08d}",
                  "contact_title": "采购经理"}
        return lambda: ct.add_contact(self.db, self.actor, cid, values)

    def contacts_of(self, i):
        cid = self.random_live_id()
        return lambda: ct.contacts_of(self.db, self.actor, cid, limit=20)

    def history(self, i):
        cid = self.random_live_id()
        return lambda: cs.history(self.db, self.actor, cid)

    def report(self) -> str:
        lines = [f"{'operation':<14} {'service ms (median / p95)':>26} {'raw SQL ms (median / p95)':>26}"
                 f" {'ratio':>6} {'target':>8}"]
        for name, service, raw in self.results:
            sm, sp = statistics.median(service), percentile(service, 95)
            rm, rp = statistics.median(raw), percentile(raw, 95)
            target = TARGETS_MS.get(name)
            lines.append(f"{name:<14} {sm:>12.1f} / {sp:>9.1f} {rm:>14.1f} / {rp:>9.1f}"
                         f" {sm / rm if rm else float('nan'):>6.2f} {'≤ ' + str(target) + ' ms' if target else '-':>8}")
        return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="DuckDB file with demo data (it will be written to)")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--quick", action="store_true", help="allow fewer than 1,000,000 customers")
    args = ap.parse_args(argv)
    db = Database(args.db)
    with db.read() as cur:
        n = cur.execute("SELECT count(*) FROM customers").fetchone()[0]
    if n < MIN_ROWS and not args.quick:
        print(f"refusing: {n:,} customers in {args.db}; the targets are for {MIN_ROWS:,} (use --quick to run anyway)")
        return 2
    bench = FileBench(db, db.actor("manager", "manager", "bench"), args.rounds, args.seed)
    for name, op in (("add contact", bench.add_contact), ("contacts of", bench.contacts_of),
                     ("history", bench.history)):
        op(0)()  # warm up
        bench.measure(name, op)
    print(f"{n:,} customers in {args.db}; {args.rounds} rounds each; 2 cores")
    print(bench.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
