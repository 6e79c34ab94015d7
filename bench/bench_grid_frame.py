"""Time of building the customers grid's DataFrame (``ui.grid.build_frame``) for one
page of a text search, as the manager; the database is only read.

    .venv/bin/python bench/bench_grid_frame.py --db /tmp/dbs/k2.duckdb --size 50
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.accounts import users  # noqa: E402
from lib.core.db import Database  # noqa: E402
from lib.customers import search as S  # noqa: E402
from ui import grid as G  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--size", type=int, default=50, help="page size (50, 100 or 200)")
    ap.add_argument("--text", default="科技")
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args(argv)
    db = Database(args.db)
    actor = users.actor_for(db, "manager")
    res = S.search(db, actor, S.CustomerFilters(text=args.text), page=S.PageRequest(size=args.size))
    view = G.GridView(signature=("bench",), rows=list(res.rows), total=res.total)
    out = []
    for _ in range(args.rounds):
        t = time.perf_counter()
        frame = G.build_frame(view, actor, "zh")
        out.append((time.perf_counter() - t) * 1000)
    print(f"build_frame, {len(frame)} rows x {len(frame.columns)} columns: median {statistics.median(out):.2f} ms, "
          f"p90 {sorted(out)[int(len(out) * 0.9)]:.2f} ms over {args.rounds} builds")
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
