"""Server-side render time of the customers (search) page, the analytics page, the
customer page and the home page.

Runs the real app.py in-process with Streamlit's AppTest as a logged-in manager and
times a new session's first run of each page (router, gate, sidebar, page, queries,
building the grid or the charts) — everything the server does for one rerun, without the browser's drawing.
Measures after the search index is built (it waits for the build the first run starts).

    .venv/bin/python bench/bench_pages.py --db /tmp/bench.duckdb

Refuses fewer than 1,000,000 customers unless --quick. Read-only for the data (the
manager's language preference may be stored).
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from tests.apptest_util import make_app, open_page  # noqa: E402

MIN_ROWS = 1_000_000


def wait_for_search_index(timeout_s: float = 600) -> None:
    """Until the app's search index is built: a server starts building it with its
    first request, in the background, and these figures are for a server that has
    finished (while it builds, searches use the SQL and the build competes for the
    cores; bench_search.py --cold measures that part)."""
    from lib.customers import search_index
    from ui.context import database

    idx = search_index.index(database())  # the Database the AppTest runs share (CM_DB_PATH)
    deadline = time.monotonic() + timeout_s
    while idx.current() is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"the search index was not built within {timeout_s:.0f} s")
        time.sleep(0.5)


def time_runs(db_path: str, page: str, rounds: int, queries: list[str] | None = None,
              param: str = "q") -> list[float]:
    """Each round is a new session's first view of the page, so the page really queries
    (a rerun of an open grid page reuses its rows until the search changes). ``queries``
    go in the URL parameter ``param`` (the customers page's "find" link ``q``, the
    customer page's ``code``)."""
    warm = make_app(db_path, "manager", lang="zh")
    if queries:
        warm.query_params[param] = queries[0]
    open_page(warm, page).run()  # process-wide: connection, caches, column segments
    wait_for_search_index()
    out = []
    for i in range(rounds):
        at = make_app(db_path, "manager", lang="zh")
        # A server scans the installed packages for components once, at start; AppTest
        # does it for every new AppTest (~190 ms here), which no rerun pays: share it.
        at._bidi_component_manager = warm._bidi_component_manager
        if queries:
            at.query_params[param] = queries[i % len(queries)]
        open_page(at, page)
        t = time.perf_counter()
        at.run()
        out.append((time.perf_counter() - t) * 1000)
        if at.exception:
            raise SystemExit(f"{page}: {at.exception[0].value}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    with duckdb.connect(args.db, read_only=True) as con:
        n = con.execute("SELECT count(*) FROM customers").fetchone()[0]
        # Customers spread over the table, each opened once (a cold customer each round).
        codes = [r[0] for r in con.execute(
            "SELECT code FROM customers WHERE NOT archived USING SAMPLE 50 ROWS").fetchall()]
    if n < MIN_ROWS and not args.quick:
        print(f"refusing: {n:,} customers; the figures are for {MIN_ROWS:,} (use --quick)")
        return 2

    cases = [
        ("customers page, no filter", "customers", None),
        ("customers page, text search", "customers", ["科技", "xmyh", "贸易", "138", "trading"]),
        ("analytics page, no filter", "analytics", None),
        ("customer page (by code)", "customer", codes),
        ("home page (manager)", "home", None),
    ]
    print(f"{n:,} customers; {args.rounds} reruns each; server-side script run (AppTest), ms")
    print(f"{'page':<32} {'median':>8} {'p95':>8}")
    for label, page, query in cases:
        xs = sorted(time_runs(args.db, page, args.rounds, query, "code" if page == "customer" else "q"))
        print(f"{label:<32} {statistics.median(xs):>8.0f} {xs[math.ceil(0.95 * len(xs)) - 1]:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
