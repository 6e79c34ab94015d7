"""The analytics page and its aggregate, cold (first call after a write) and warm (cached).

    cp /tmp/dbs/m1.duckdb /tmp/bench-an.duckdb
    .venv/bin/python bench/bench_analytics.py --db /tmp/bench-an.duckdb

Each round, in this order (A B A B, so load on the machine hits every row alike):
a customer's tier is changed through ``update_customer`` (not timed), then

* the plain query: the aggregate as one GROUPING SETS computing every aggregate for
  every set (the query before issue 8), straight on a read cursor;
* the service's own SQL alone (``analytics._sql``), straight on a read cursor;
* ``customer_analytics`` as the manager by SQL (``use_index=False``, as while the search
  index is not built), the first call after the write (cold) and the call after it
  (warm, answered by the cache); the same from the search index (as once it is built);
* the page as a new manager session (AppTest, server side: router, gate, sidebar,
  filters, KPIs, seven charts, CSVs), the first after the write (cold), then again
  (warm); the same for a salesperson (own customers only).

--figures: instead, what building the page's seven charts costs each way, on the
manager's real data: plotly express (the code before issue 8, kept in
tests/test_charts.py), figure dicts (validated once by st.plotly_chart), go.Figure
with and without validation; each including what st.plotly_chart then does with
the figure (to_dict / validation, to_json).

The database is the one the app's pages use in this process (``ui.context.database``),
and the figures are taken once its search index is built (~1 min at 1M, not timed).

WRITES to the database (one customer's tier, flipped back and forth): use a copy.
Refuses fewer than 1,000,000 customers unless --quick. Prints medians and p95 in ms
and saves them as JSON (--json).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.accounts import permissions as perm  # noqa: E402
from lib.core.clock import local_month_start_utc  # noqa: E402
from lib.customers import analytics  # noqa: E402
from lib.customers import customer as cs  # noqa: E402
from lib.customers.search import CustomerFilters, where_clause  # noqa: E402
from tests.apptest_util import make_app, open_page  # noqa: E402
from tests.test_analytics import one_grouping_sets  # noqa: E402  (the anchor is the test's reference)

MIN_ROWS = 1_000_000


def ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--figures", action="store_true", help="time the ways of building the charts instead")
    args = ap.parse_args(argv)
    os.environ["CM_DB_PATH"] = str(args.db)
    from bench_pages import wait_for_search_index
    from ui.context import database

    db = database()  # the one the AppTest runs share: one search index in the process
    with db.read() as cur:
        n = cur.execute("SELECT count(*) FROM customers").fetchone()[0]
        target = cur.execute("SELECT id FROM customers WHERE NOT archived AND merged_into IS NULL"
                             " AND owner = 'sales' ORDER BY id LIMIT 1").fetchone()[0]
    if n < MIN_ROWS and not args.quick:
        print(f"refusing: {n:,} customers; the figures are for {MIN_ROWS:,} (use --quick)")
        return 2
    manager = db.actor("manager", "manager")
    if args.figures:
        return figure_ways(db, manager, args.rounds)

    def write() -> None:
        rec = cs.get_customer(db, manager, target)
        cs.update_customer(db, manager, target, {"tier": "A" if rec["tier"] != "A" else "B"}, rec["version"])

    where, params = where_clause(manager, CustomerFilters(), action=perm.ANALYTICS_VIEW)
    dims = analytics.dimensions()

    def plain_query() -> None:
        with db.read() as cur:
            cur.execute(one_grouping_sets(where, dims), [local_month_start_utc(), *params]).fetchall()

    def service_sql() -> None:
        sql = analytics._sql(where, dims)
        # Before issue 8 the month start was the first parameter; now the WHERE's come first.
        args = [*params, local_month_start_utc()] if sql.startswith("WITH") else [local_month_start_utc(), *params]
        with db.read() as cur:
            cur.execute(sql, args).fetchall()

    warm_app = make_app(args.db, "manager", lang="zh")
    open_page(warm_app, "analytics").run()  # process-wide: connection, caches, imports
    wait_for_search_index()

    def page(user: str) -> float:
        at = make_app(args.db, user, lang="zh")
        # A server scans the installed packages for components once, at start; AppTest
        # does it for every new AppTest (~190 ms here), which no rerun pays: share it.
        at._bidi_component_manager = warm_app._bidi_component_manager
        open_page(at, "analytics")
        t = time.perf_counter()
        at.run()
        took = ms(t)
        if at.exception:
            raise SystemExit(f"analytics: {at.exception[0].value}")
        return took

    rows: dict[str, list[float]] = {k: [] for k in (
        "plain query (one GROUPING SETS)", "service SQL alone", "customer_analytics by SQL, cold",
        "customer_analytics by SQL, warm", "customer_analytics, index, cold", "customer_analytics, index, warm",
        "page (manager), cold", "page (manager), warm", "page (sales), cold", "page (sales), warm")}
    for _ in range(args.rounds):
        write()
        for label, run in (("plain query (one GROUPING SETS)", plain_query), ("service SQL alone", service_sql)):
            t = time.perf_counter()
            run()
            rows[label].append(ms(t))
        for label in ("customer_analytics by SQL, cold", "customer_analytics by SQL, warm"):
            t = time.perf_counter()
            analytics.customer_analytics(db, manager, use_index=False)
            rows[label].append(ms(t))
        write()
        for label in ("customer_analytics, index, cold", "customer_analytics, index, warm"):
            t = time.perf_counter()
            analytics.customer_analytics(db, manager)
            rows[label].append(ms(t))
        write()
        rows["page (manager), cold"].append(page("manager"))
        rows["page (manager), warm"].append(page("manager"))
        write()
        rows["page (sales), cold"].append(page("sales"))
        rows["page (sales), warm"].append(page("sales"))
    load = os.getloadavg()
    print(f"{n:,} customers; {args.rounds} rounds; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; ms")
    print(f"{'':<36} {'median':>8} {'p95':>8}")
    out = {}
    for label, xs in rows.items():
        xs = sorted(xs)
        med, p95 = statistics.median(xs), xs[math.ceil(0.95 * len(xs)) - 1]
        out[label] = {"median_ms": round(med, 1), "p95_ms": round(p95, 1)}
        print(f"{label:<36} {med:>8.0f} {p95:>8.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"customers": n, "rounds": args.rounds, "loadavg": load,
                                               "figures": out}, indent=2))
    return 0


def figure_ways(db, manager, rounds: int) -> int:
    """Median ms to build the page's seven charts each way, plus what st.plotly_chart
    does with each figure (dict: Figure(**dict).to_dict(); Figure: to_dict()) and its
    to_json, for the manager's unfiltered analytics (labels are the codes)."""
    import pandas as pd
    import plotly.graph_objects as go
    import plotly.io as pio
    import plotly.tools
    import streamlit.elements.plotly_chart  # noqa: F401  Streamlit's template, as in the app

    from tests.test_charts import px_bar, px_industry_tier
    from ui import charts

    a = analytics.customer_analytics(db, manager)
    bars = [(pd.DataFrame([(c or "", c or "未设置", n) for c, n in a.counts[d]], columns=["code", "label", "n"]),
             d != "tier") for d in analytics.dimensions()]
    bars.append((pd.DataFrame([(m.isoformat()[:7], m.isoformat()[:7], n) for m, n in a.per_month],
                              columns=["code", "label", "n"]), False))
    stack = [(i or "未设置", t or "未设置", n) for i, t, n in a.industry_tier]
    stack_df = pd.DataFrame([(i, "", t, "", n) for i, t, n in stack],
                            columns=["industry", "industry_code", "tier", "tier_code", "n"])
    tiers = ["A", "B", "C", "D"]

    def dicts():
        return [*(charts.bar_figure(df["label"].tolist(), df["n"].tolist(), count_label="数量", height=320,
                                    horizontal=h) for df, h in bars),
                charts.stacked_bar_figure(stack, stack_order=[*tiers, "未设置"], count_label="数量", height=400)]

    def sent(figs):
        return [pio.to_json(plotly.tools.return_figure_from_figure_or_data(f, validate_figure=True), validate=False)
                for f in figs]

    ways = {
        "plotly express (before)": lambda: sent([*(px_bar(df, "数量", 320, h) for df, h in bars),
                                                 px_industry_tier(stack_df, tiers, "未设置", "数量", 400)]),
        "figure dicts (now)": lambda: sent(dicts()),
        "go.Figure(dict)": lambda: sent([go.Figure(f) for f in dicts()]),
        "go.Figure(dict, skip_invalid=True)": lambda: sent([go.Figure(f, skip_invalid=True) for f in dicts()]),
        "go.Figure(dict, _validate=False)": lambda: sent([go.Figure(f, _validate=False) for f in dicts()]),
        "figure dicts, built only": dicts,
    }
    times: dict[str, list[float]] = {k: [] for k in ways}
    for way in ways.values():
        way()  # imports, template
    for _ in range(rounds):
        for label, way in ways.items():
            t = time.perf_counter()
            way()
            times[label].append(ms(t))
    load = os.getloadavg()
    print(f"{len(bars) + 1} charts; {rounds} rounds; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; ms")
    for label, xs in times.items():
        print(f"{label:<40} {statistics.median(xs):>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
