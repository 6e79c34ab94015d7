"""Benchmark of the data core at 1,000,000 customers.

For each operation it times the service call and, next to it, the raw SQL that the
service runs (recorded from the service itself, see bench/recording.py): the floor.
Prints median and p95 of both, their ratio, and the target from the issue.

    .venv/bin/python -m lib.cli --db /tmp/bench.duckdb init --demo --customers 1000000
    .venv/bin/python bench/bench_core.py --db /tmp/bench.duckdb

The database must hold at least 1,000,000 customers unless --quick is given. The
benchmark writes (creates and updates customers): use a copy, not production data.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from recording import recording, replay  # noqa: E402

from lib.customers import customer as cs  # noqa: E402
from lib.customers.analytics import customer_analytics  # noqa: E402
from lib.core.db import Database  # noqa: E402
from lib.customers.search import CustomerFilters, PageRequest, search  # noqa: E402

MIN_ROWS = 1_000_000
TARGETS_MS = {"create": 15, "update": 15, "search": 60, "page 10": 60, "analytics": 150}
SEARCH_TERMS = ["科技", "贸易", "xmyh", "电子", "trading", "138", "建设", "医药"]


def percentile(values, p):
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


class Bench:
    def __init__(self, db: Database, actor, rounds: int, seed: int):
        self.db, self.actor, self.rounds = db, actor, rounds
        self.rng = random.Random(seed)
        with db.read() as cur:
            self.max_id = cur.execute("SELECT max(id) FROM customers").fetchone()[0]
        self.results: list[tuple[str, list[float], list[float]]] = []

    def measure(self, name: str, call_factory):
        """``call_factory(i)`` returns a zero-argument service call for round i; each round
        times the call once as the service and once as its recorded raw SQL (on a
        different input, so neither benefits from the other's cache of the same row)."""
        service, raw = [], []
        for i in range(self.rounds):
            # raw: record call A in a rolled-back transaction, then time replaying it
            call = call_factory(i)
            with recording(self.db) as rec:
                call()
            raw.append(timed(lambda: replay(self.db, rec)))
            service.append(timed(call_factory(i)))
        self.results.append((name, service, raw))

    # -- operations -------------------------------------------------------------------
    def random_live_id(self) -> int:
        with self.db.read() as cur:
            while True:
                cid = self.rng.randint(1, self.max_id)
                row = cur.execute("SELECT version FROM customers WHERE id = ? AND NOT archived", [cid]).fetchone()
                if row:
                    return cid

    def create(self, i):
        values = {
            "name": f"基准测试{i}号{self.rng.choice(['科技', '贸易', '电子'])}有限公司",
            "customer_type": "company",
            "phone": f"139{self.rng.randint(0, 99_999_999):08d}",
            "industry": self.rng.choice("CFIJ"),
            "tier": self.rng.choice("ABCD"),
            "status": "active",
            "region": "440000",
            "contact_name": "测试联系人",
            "contact_phone": f"137{self.rng.randint(0, 99_999_999):08d}",
            "credit_limit": "50000.00",
        }
        return lambda: cs.create_customer(self.db, self.actor, values)

    def update(self, i):
        cid = self.random_live_id()
        rec = cs.get_customer(self.db, self.actor, cid)
        tier = "A" if rec["tier"] != "A" else "B"
        return lambda: cs.update_customer(self.db, self.actor, cid, {"tier": tier, "notes": f"bench {i}"},
                                          rec["version"])

    def search(self, i):
        term = SEARCH_TERMS[i % len(SEARCH_TERMS)]
        filters = CustomerFilters(text=term, choices={"status": ("active",), "tier": (self.rng.choice("ABC"),)})
        return lambda: search(self.db, self.actor, filters, page=PageRequest(size=50))

    def page10(self, i):
        filters = CustomerFilters(choices={"industry": (self.rng.choice("CFI"),), "status": ("active",)})
        cursor = None
        for _ in range(9):
            cursor = search(self.db, self.actor, filters, page=PageRequest(size=50, after=cursor)).next_cursor
        return lambda: search(self.db, self.actor, filters, page=PageRequest(size=50, after=cursor))

    def analytics(self, i):
        return lambda: customer_analytics(self.db, self.actor, CustomerFilters())

    targets: dict[str, int | None] = {}

    def report(self) -> str:
        lines = [
            f"{'operation':<14} {'service ms (median / p95)':>26} {'raw SQL ms (median / p95)':>26}"
            f" {'ratio':>6} {'target':>8}",
        ]
        for name, service, raw in self.results:
            sm, sp = statistics.median(service), percentile(service, 95)
            rm, rp = statistics.median(raw), percentile(raw, 95)
            target = self.targets.get(name)
            lines.append(
                f"{name:<14} {sm:>12.1f} / {sp:>9.1f} {rm:>14.1f} / {rp:>9.1f}"
                f" {sm / rm if rm else float('nan'):>6.2f} {'≤ ' + str(target) + ' ms' if target else '-':>8}"
            )
        return "\n".join(lines)


def open_db(doc: str, seed: int, argv=None) -> tuple[Database, argparse.Namespace, int] | None:
    """Parse the common options and open the database; None (after saying why) if it
    holds fewer than 1,000,000 customers and --quick was not given."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="DuckDB file with demo data (it will be written to)")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--quick", action="store_true", help="allow fewer than 1,000,000 customers")
    args = ap.parse_args(argv)
    db = Database(args.db)
    with db.read() as cur:
        n = cur.execute("SELECT count(*) FROM customers").fetchone()[0]
    if n < MIN_ROWS and not args.quick:
        print(f"refusing: {n:,} customers in {args.db}; the targets are for {MIN_ROWS:,} (use --quick to run anyway)")
        return None
    return db, args, n


def main(argv=None) -> int:
    opened = open_db(__doc__, 7, argv)
    if opened is None:
        return 2
    db, args, n = opened
    actor = db.actor("manager", "manager", "bench")
    bench = Bench(db, actor, args.rounds, args.seed)
    bench.targets = TARGETS_MS
    # Warm up: first queries pay for loading column segments from disk.
    for op in (bench.search, bench.page10, bench.analytics):
        op(0)()
    for name, op in (("create", bench.create), ("update", bench.update), ("search", bench.search),
                     ("page 10", bench.page10), ("analytics", bench.analytics)):
        bench.measure(name, op)
    print(f"{n:,} customers in {args.db}; {args.rounds} rounds each; 2 cores")
    print(bench.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
