"""Export of every customer to CSV and XLSX: time and peak memory, against DuckDB's own COPY.

    .venv/bin/python -m lib.cli --db /tmp/dbs/k100.duckdb init --demo --customers 100000
    .venv/bin/python bench/bench_export.py --db /tmp/dbs/k100.duckdb --out-dir /tmp/bench-export

Each measurement runs in a child process of its own (``--worker``), so its peak RSS
(``ru_maxrss``) is that export's alone; the child also reports its RSS after imports
and opening the database, before the export, so the growth is the export's. In this
order, ``--rounds`` times (A B C A B C):

* ``service-csv`` / ``service-xlsx``: ``lib.customers.export.export_customers`` as the
  user (default manager: every active customer), to a file;
* ``copy-csv``: the plain query: DuckDB's ``COPY (SELECT … LEFT JOIN contacts …) TO
  'file' (HEADER)`` of the same rows and columns (codes, not labels; no formula
  escaping; no audit), the floor for reading the rows and writing a CSV.

``--memory-limit 64MB`` sets DuckDB's ``memory_limit`` in the child: most of the growth
is DuckDB's buffer pool (pages kept after reading), which that caps; an export whose
own memory grew with the rows would then fail or grow anyway.

WRITES one audit entry per service export to the database. Prints one line per run
and the medians; ``--json`` saves every run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("service-csv", "service-xlsx", "copy-csv")


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(db_path: str, kind: str, user: str, out_dir: Path, batch: int, memory_limit: str | None) -> dict:
    from lib.accounts.users import actor_for
    from lib.core.db import Database
    from lib.customers import export as ex
    from lib.customers.search import CustomerFilters, where_clause

    db = Database(db_path)
    if memory_limit:  # DuckDB's buffer pool (pages it keeps after reading them) is most of the growth
        cur = db.cursor()
        cur.execute(f"SET memory_limit = '{memory_limit}'")
        cur.close()
    actor = actor_for(db, user)
    with db.read() as cur:
        cur.execute("SELECT count(*) FROM customers").fetchone()
    before = _rss_mb()
    fmt = "xlsx" if kind == "service-xlsx" else "csv"
    target = out_dir / f"{kind}.{fmt}"
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    if kind.startswith("service"):
        rows = ex.export_customers(db, actor, CustomerFilters(), fmt, target, "zh", batch_size=batch)
    else:
        from lib.accounts import permissions as perm

        where, params = where_clause(actor, CustomerFilters(), action=perm.CUSTOMER_EXPORT)
        columns = ex.export_columns()
        query = (f"SELECT {', '.join(c.sql for c in columns)} FROM customers c LEFT JOIN contacts p"
                 f" ON p.customer_id = c.id AND p.is_primary AND NOT p.deleted WHERE {where}")
        with db.read() as cur:
            cur.execute(f"COPY ({query}) TO '{target}' (HEADER, DELIMITER ',')", params)
        rows = sum(1 for _ in open(target, "rb")) - 1
    seconds = time.perf_counter() - started
    db.close()
    return {"kind": kind, "rows": rows, "seconds": round(seconds, 2), "file_mb": round(target.stat().st_size / 2**20, 1),
            "rss_before_mb": round(before), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--user", default="manager")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    ap.add_argument("--batch", type=int, default=5000, help="rows per fetchmany (the service's default: 5000)")
    ap.add_argument("--memory-limit", help="DuckDB's memory_limit in the child, e.g. 256MB (default: DuckDB's, 80%% of RAM)")
    ap.add_argument("--out-dir", default="/tmp/bench-export")
    ap.add_argument("--json")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.worker:
        print(json.dumps(worker(args.db, args.worker, args.user, out_dir, args.batch, args.memory_limit)))
        return 0
    runs = []
    for _ in range(args.rounds):
        for kind in args.kinds.split(","):
            cmd = [sys.executable, __file__, "--db", args.db, "--user", args.user, "--out-dir", str(out_dir),
                   "--batch", str(args.batch), "--worker", kind,
                   *(["--memory-limit", args.memory_limit] if args.memory_limit else [])]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if proc.returncode:  # e.g. DuckDB's "Out of Memory Error" under --memory-limit
                failure = (proc.stderr.strip().splitlines() or ["?"])[-1]
                for line in proc.stderr.splitlines():
                    if "Error" in line:
                        failure = line.strip()
                        break
                print(f"{kind:13s} FAILED: {failure}", flush=True)
                runs.append({"kind": kind, "failed": failure})
                continue
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(f"{run['kind']:13s} {run['rows']:>9,} rows {run['seconds']:7.2f} s  file {run['file_mb']:7.1f} MiB  "
                  f"RSS before {run['rss_before_mb']:5d} MiB, peak {run['peak_rss_mb']:5d} MiB", flush=True)
    print("medians:")
    for kind in args.kinds.split(","):
        mine = [r for r in runs if r["kind"] == kind and "failed" not in r]
        if not mine:
            print(f"  {kind:13s} failed every time")
            continue
        print(f"  {kind:13s} {statistics.median(r['seconds'] for r in mine):7.2f} s  "
              f"peak RSS {statistics.median(r['peak_rss_mb'] for r in mine):6.0f} MiB "
              f"(+{statistics.median(r['peak_rss_mb'] - r['rss_before_mb'] for r in mine):.0f} over the open database)")
    if args.json:
        Path(args.json).write_text(json.dumps({"db": args.db, "memory_limit": args.memory_limit,
                                               "load": os.getloadavg(), "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
