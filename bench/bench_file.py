"""Benchmark of the customer file's writes and reads at 1,000,000 customers (the
service calls behind the customer page and the home page).

Like bench/bench_core.py: each operation is timed as the service call and, next to it,
as the raw SQL the service ran (recorded from the service itself, bench/recording.py),
median and p95 of both, their ratio and the issue's target.

    .venv/bin/python -m lib.cli --db /tmp/bench.duckdb init --demo --customers 1000000
    .venv/bin/python bench/bench_file.py --db /tmp/bench.duckdb

Writes (adds contacts and follow-ups): use a copy, not production data. Refuses fewer than 1,000,000
customers unless --quick.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import Bench, open_db  # noqa: E402

from lib.customers import contacts as ct  # noqa: E402
from lib.customers import customer as cs  # noqa: E402
from lib.customers import followups as fu  # noqa: E402
from lib.customers import home  # noqa: E402

TARGETS_MS = {"add contact": 15, "add follow-up": 15}


class FileBench(Bench):
    def add_contact(self, i):
        cid = self.random_live_id()
        values = {"contact_name": f"基准联系人{i}", "contact_mobile": f"139{self.rng.randint(0, 99_999_999):08d}",
                  "contact_title": "采购经理"}
        return lambda: ct.add_contact(self.db, self.actor, cid, values)

    def add_followup(self, i):
        cid = self.random_live_id()
        values = {"followup_kind": "call", "followup_summary": f"基准跟进{i}：电话确认报价",
                  "followup_next_action": "发送合同", "followup_due_on": "2026-12-31"}
        return lambda: fu.add_followup(self.db, self.actor, cid, values)

    def followups_of(self, i):
        cid = self.random_live_id()
        return lambda: fu.followups_of(self.db, self.actor, cid, limit=20)

    def my_due(self, i):
        return lambda: home.my_due(self.db, self.actor, limit=20)

    def not_reviewed(self, i):
        return lambda: home.not_reviewed(self.db, self.actor, limit=20)

    def contacts_of(self, i):
        cid = self.random_live_id()
        return lambda: ct.contacts_of(self.db, self.actor, cid, limit=20)

    def history(self, i):
        cid = self.random_live_id()
        return lambda: cs.history(self.db, self.actor, cid)


def main(argv=None) -> int:
    opened = open_db(__doc__, 11, argv)
    if opened is None:
        return 2
    db, args, n = opened
    bench = FileBench(db, db.actor("manager", "manager", "bench"), args.rounds, args.seed)
    bench.targets = TARGETS_MS
    for name, op in (("add contact", bench.add_contact), ("add follow-up", bench.add_followup),
                     ("contacts of", bench.contacts_of), ("follow-ups of", bench.followups_of),
                     ("history", bench.history), ("home: due", bench.my_due),
                     ("home: review", bench.not_reviewed)):
        op(0)()  # warm up
        bench.measure(name, op)
    print(f"{n:,} customers in {args.db}; {args.rounds} rounds each; 2 cores")
    print(bench.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
