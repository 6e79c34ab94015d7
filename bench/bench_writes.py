"""Writes at 1,000,000 customers (issue 8 §4): create, update, add contact.

Each operation is timed as the service call and, next to it, as the *plain SQL* a
hand-written implementation needs for the same effect, with its values computed
beforehand (the anchor, so the ratio says how much is ours):

* update: ``BEGIN; UPDATE customers SET tier, notes, updated_at, updated_by,
  reviewed_at, version = version + 1 WHERE id = ? RETURNING version; INSERT INTO
  audit_log (...) VALUES (nextval(...), ...); COMMIT`` (the version compared with the
  one read; ``WHERE id = ? AND version = ?`` costs ~10 ms more at 1M: DuckDB then
  scans the id's row group instead of using the index)
* create: ``BEGIN; INSERT INTO customers (every column, search text included);
  INSERT INTO contacts (its primary contact); INSERT INTO audit_log; COMMIT``
* add contact: ``BEGIN; INSERT INTO contacts; UPDATE customers SET search_text =
  search_text || ?; INSERT INTO audit_log; COMMIT``

Service and plain alternate within a round, each on its own random customer.

    .venv/bin/python bench/bench_writes.py --db /tmp/copy.duckdb --rounds 30

A/B against other code (e.g. the commit before a change, exported with
``git archive <rev> lib | tar -x -C /tmp/old``): ``--ab /tmp/old`` runs blocks of rounds
alternately with this checkout's ``lib`` and the other one's (A B A B, each block in
its own process on the same database file), and prints both next to the plain SQL:

    .venv/bin/python bench/bench_writes.py --db /tmp/copy.duckdb --ab /tmp/old --blocks 4 --rounds 15

The benchmark writes: use a copy, not production data. Refuses fewer than 1,000,000
customers unless --quick.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIN_ROWS = 1_000_000
OPS = ("create", "update", "add contact")
TARGETS_MS = {"create": 10, "update": 10, "add contact": None}


def percentile(values, p):
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))]


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


# -- one process: time the service of the ``lib`` in --code, and the plain SQL --------------
def worker(db_path: str, code: str, rounds: int, seed: int, quick: bool) -> dict:
    sys.path.insert(0, code)
    from lib.core.db import Database
    from lib.customers import contacts as ct
    from lib.customers import customer as cs

    db = Database(db_path)
    actor = db.actor("manager", "manager", "bench")
    rng = random.Random(seed)
    with db.read() as cur:
        n, max_id = cur.execute("SELECT count(*), max(id) FROM customers").fetchone()
    if n < MIN_ROWS and not quick:
        raise SystemExit(f"refusing: {n:,} customers in {db_path} (use --quick to run anyway)")

    def live_id() -> int:
        with db.read() as cur:
            while True:
                cid = rng.randint(1, max_id)
                if cur.execute("SELECT 1 FROM customers WHERE id = ? AND NOT archived AND merged_into IS NULL",
                               [cid]).fetchone():
                    return cid

    def opened(cid):  # the page the user saves from has read the record
        return cs.get_customer(db, actor, cid)

    def timed(fn) -> float:
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) * 1000

    def plain(statements) -> float:
        cur = db.cursor()
        try:
            t = time.perf_counter()
            cur.execute("BEGIN TRANSACTION")
            for sql, params in statements:
                cur.execute(sql, params)
            cur.execute("COMMIT")
            return (time.perf_counter() - t) * 1000
        finally:
            cur.close()

    audit_sql = ("INSERT INTO audit_log (id, changed_at, actor, action, entity, entity_id, customer_id, version,"
                 " changes) VALUES (nextval('audit_id_seq'), ?, 'manager', ?, ?, ?, ?, ?, ?)")

    # -- update
    def service_update(i):
        cid = live_id()
        rec = opened(cid)
        tier = "A" if rec["tier"] != "A" else "B"
        return lambda: cs.update_customer(db, actor, cid, {"tier": tier, "notes": f"bench {seed} {i}"},
                                          rec["version"])

    def plain_update(i):
        cid = live_id()
        rec = opened(cid)
        tier = "A" if rec["tier"] != "A" else "B"
        now = _now()
        changes = json.dumps({"tier": [rec["tier"], tier], "notes": [rec["notes"], f"plain {seed} {i}"]},
                             ensure_ascii=False)
        return lambda: plain([
            ("UPDATE customers SET tier = ?, notes = ?, updated_at = ?, updated_by = 'manager', reviewed_at = ?,"
             " version = version + 1 WHERE id = ? RETURNING version",
             [tier, f"plain {seed} {i}", now, now, cid]),
            (audit_sql, [now, "update", "customer", cid, cid, rec["version"] + 1, changes]),
        ])

    # -- create
    def create_values(i):
        return {
            "name": f"基准测试{seed}-{i}号{rng.choice(['科技', '贸易', '电子'])}有限公司",
            "customer_type": "company", "phone": f"139{rng.randint(0, 99_999_999):08d}",
            "industry": rng.choice("CFIJ"), "tier": rng.choice("ABCD"), "status": "active", "region": "440000",
            "contact_name": "测试联系人", "contact_phone": f"137{rng.randint(0, 99_999_999):08d}",
            "credit_limit": "50000.00",
        }

    def service_create(i):
        values = create_values(i)
        return lambda: cs.create_customer(db, actor, values)

    def plain_create(i):
        v = create_values(i)
        now = _now()
        cur = db.cursor()  # ids drawn beforehand, like the values
        try:
            cid, seq = cur.execute("SELECT nextval('customer_id_seq'), nextval('contact_id_seq')").fetchone()
        finally:
            cur.close()
        code = f"P{seed}-{i}-{cid}"
        phone, cphone = "+86" + v["phone"], "+86" + v["contact_phone"]
        search = f"{v['name']} {code.lower()} jizhunceshi jzcs {v['phone']} {phone} 测试联系人 {v['contact_phone']}"
        customer = dict(id=cid, code=code, name=v["name"], customer_type="company", phone=v["phone"],
                        phone_e164=phone, industry=v["industry"], tier=v["tier"], status="active",
                        region="440000", credit_limit=v["credit_limit"], owner="manager",
                        name_pinyin="jizhunceshi", name_initials="jzcs", search_text=search, created_at=now,
                        created_by="manager", updated_at=now, updated_by="manager", reviewed_at=now, version=1,
                        archived=False, access_level="normal")
        contact = dict(id=seq, customer_id=cid, name="测试联系人", phone=v["contact_phone"], phone_e164=cphone,
                       is_primary=True, created_at=now, created_by="manager", updated_at=now,
                       updated_by="manager", version=1, deleted=False)
        changes = json.dumps({k: [None, x] for k, x in v.items()}, ensure_ascii=False)

        def insert(table, row):
            return (f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))

        return lambda: plain([insert("customers", customer), insert("contacts", contact),
                              (audit_sql, [now, "create", "customer", cid, cid, 1, changes])])

    # -- add contact
    def contact_values(i):
        return {"contact_name": f"基准联系人{seed}-{i}", "contact_mobile": f"139{rng.randint(0, 99_999_999):08d}",
                "contact_title": "采购经理"}

    def service_contact(i):
        cid = live_id()
        opened(cid)
        values = contact_values(i)
        return lambda: ct.add_contact(db, actor, cid, values)

    def plain_contact(i):
        cid = live_id()
        opened(cid)
        v = contact_values(i)
        now = _now()
        mobile = "+86" + v["contact_mobile"]
        changes = json.dumps({k: [None, x] for k, x in v.items()}, ensure_ascii=False)
        return lambda: plain([
            ("INSERT INTO contacts (id, customer_id, name, title, mobile, mobile_e164, is_primary, created_at,"
             " created_by, updated_at, updated_by, version, deleted) VALUES (nextval('contact_id_seq'), ?, ?, ?, ?,"
             " ?, FALSE, ?, 'manager', ?, 'manager', 1, FALSE)",
             [cid, v["contact_name"], v["contact_title"], v["contact_mobile"], mobile, now, now]),
            ("UPDATE customers SET search_text = search_text || ? WHERE id = ?",
             [f" {v['contact_name']} {v['contact_mobile']} {mobile}", cid]),
            (audit_sql, [now, "create", "contact", cid, cid, 1, changes]),
        ])

    pairs = {"create": (service_create, plain_create), "update": (service_update, plain_update),
             "add contact": (service_contact, plain_contact)}
    out: dict = {"load": os.getloadavg()[0], "customers": n}
    for name, (service, anchor) in pairs.items():
        service(-1)()  # warm up: the first call pays for imports and caches
        anchor(-1)()
        s_times, p_times = [], []
        for i in range(rounds):
            first, second = (service, anchor) if i % 2 == 0 else (anchor, service)
            for make in (first, second):
                call = make(i)
                (s_times if make is service else p_times).append(timed(call))
        out[name] = {"service": s_times, "plain": p_times}
    db.close()
    return out


# -- the table ------------------------------------------------------------------------------
def fmt(values) -> str:
    return f"{statistics.median(values):6.1f} / {percentile(values, 95):5.1f}"


def table(runs: dict[str, list[dict]]) -> str:
    """runs: label -> list of worker outputs; first label is "new"."""
    labels = list(runs)
    head = f"{'operation':<12}" + "".join(f" {lab + ' ms (med / p95)':>22}" for lab in labels)
    head += f" {'plain ms (med / p95)':>22}" + "".join(f" {lab + '/plain':>10}" for lab in labels)
    if len(labels) == 2:
        head += f" {labels[0] + '/' + labels[1]:>9}"
    head += f" {'target':>8}"
    lines = [head]
    for op in OPS:
        svc = {lab: [t for r in runs[lab] for t in r[op]["service"]] for lab in labels}
        pl = [t for lab in labels for r in runs[lab] for t in r[op]["plain"]]
        pm = statistics.median(pl)
        line = f"{op:<12}" + "".join(f" {fmt(svc[lab]):>22}" for lab in labels) + f" {fmt(pl):>22}"
        line += "".join(f" {statistics.median(svc[lab]) / pm:>10.2f}" for lab in labels)
        if len(labels) == 2:
            line += f" {statistics.median(svc[labels[0]]) / statistics.median(svc[labels[1]]):>9.2f}"
        target = TARGETS_MS.get(op)
        line += f" {('≤ ' + str(target) + ' ms') if target else '-':>8}"
        lines.append(line)
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="DuckDB file with demo data (it will be written to)")
    ap.add_argument("--rounds", type=int, default=30, help="rounds per operation (per block with --ab)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--quick", action="store_true", help="allow fewer than 1,000,000 customers")
    ap.add_argument("--ab", metavar="DIR", help="other code to compare with (a directory holding its lib/)")
    ap.add_argument("--blocks", type=int, default=4, help="with --ab: blocks per side, alternating")
    ap.add_argument("--json", help="write every timing here")
    ap.add_argument("--worker", metavar="CODE", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        result = worker(args.db, args.worker, args.rounds, args.seed, args.quick)
        Path(args.out).write_text(json.dumps(result))
        return 0

    sides = {"new": str(ROOT)}
    if args.ab:
        sides["old"] = str(Path(args.ab).resolve())
    blocks = args.blocks if args.ab else 1
    runs: dict[str, list[dict]] = {lab: [] for lab in sides}
    with tempfile.TemporaryDirectory() as tmp:
        for b in range(blocks):
            order = list(sides) if b % 2 == 0 else list(reversed(sides))
            for lab in order:
                out = Path(tmp) / f"{lab}-{b}.json"
                subprocess.run([sys.executable, __file__, "--db", args.db, "--worker", sides[lab], "--out", str(out),
                                "--rounds", str(args.rounds), "--seed", str(args.seed * 100 + b * 10 + len(lab))]
                               + (["--quick"] if args.quick else []), check=True)
                runs[lab].append(json.loads(out.read_text()))
    n = next(iter(runs.values()))[0]["customers"]
    loads = [r["load"] for rs in runs.values() for r in rs]
    print(f"{n:,} customers in {args.db}; {blocks} block(s) x {args.rounds} rounds per side"
          f"{' (A B A B)' if args.ab else ''}; load average {min(loads):.2f}-{max(loads):.2f}")
    print(table(runs))
    if args.json:
        Path(args.json).write_text(json.dumps(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
