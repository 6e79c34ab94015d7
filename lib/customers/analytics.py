"""Aggregates for the analytics page: every chart's counts at once (a count per value
of each field declared ``dimension=True``, plus industry x tier and the month of
creation), for exactly the rows search would list with the same filters and row scope
(``lib.customers.search.conditions``).

Two ways to the same answer. Once the search index is built
(``lib.customers.search_index``), which holds every dimension's column and the numbers
summed here and is kept in step with every committed customer write, the counts come
from it (``SearchIndex.tally``, turned into ``Analytics`` by ``_from_tally``). The page
before any filter, a role's own scope, is the counts per owner the index took once per
build, less and plus the customers saved since (under 1 ms at 1M customers, against
~70 ms of DuckDB CPU); filtered, the rows that meet the filters are counted with numpy
(8-16 ms, against 24-95 ms of DuckDB CPU). Until the index is built, one SQL statement
(``_sql``), which the tests compare the index's answers with.

Answers are cached per ``Database`` (``_CACHE_SIZE`` entries, least recently used out),
keyed by the conditions (so by the actor's row scope and the filters), the start of the
current month (the "new this month" KPI) and a version of the data they came from: from
the index, the version of its state (a new one after each customer write, applied before
the write returns to its caller); from SQL, ``lib.core.audit.data_version`` (the audit
log's size and newest id), read in the same read transaction as the aggregate. Either
way the first read after a save computes afresh and an answer is never older than what
its reader could see. See docs/design.md.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np

from lib.accounts import permissions as perm
from lib.core import cache
from lib.core.clock import SHANGHAI_OFFSET_HOURS, local_month_start_utc
from lib.customers import fields as F
from lib.customers import search_index
from lib.customers.search import CustomerFilters, conditions, conditions_sql

def dimensions() -> tuple[str, ...]:
    """The fields counted per value (declared ``dimension=True``), in declaration order."""
    return tuple(f.name for f in F.dimension_fields())


@dataclass
class Analytics:
    total: int = 0
    new_this_month: int = 0
    active: int = 0
    credit_total: Decimal = Decimal("0")
    # dimension -> list of (code or None, count), largest first
    counts: dict[str, list[tuple[str | None, int]]] = field(default_factory=dict)
    industry_tier: list[tuple[str | None, str | None, int]] = field(default_factory=list)
    per_month: list[tuple[date, int]] = field(default_factory=list)  # Asia/Shanghai months
    credit_by_tier: list[tuple[str | None, Decimal]] = field(default_factory=list)


def _sql(where: str, dims: tuple[str, ...]) -> str:
    """The total, each dimension, industry x tier (when both are dimensions) and the
    month of creation, as the rows of one GROUPING SETS over ``dims`` and the month
    would be (``g`` = that set's GROUPING() value, see ``_mask``).

    The rows ``where`` selects are read once into a materialized CTE; then each part is
    its own small aggregate over it, and only the parts that need them compute the
    costly aggregates (the credit sum, the filtered counts). Measured at 1M customers:
    ~60 ms, where one GROUPING SETS computing every aggregate for every set took
    ~150 ms (docs/benchmarks.md, issue 8). The month is grouped by day first (integer
    arithmetic on ~1M rows) and the few hundred days then by month: 10 ms, against 28
    for date_trunc over every row."""
    cols = [*dims, "month"]
    day_us = 86_400_000_000
    inner = ", ".join(f"c.{F.by_name(d).db_column} AS {d}" for d in dims)

    def select(values: dict[str, str], g: str, aggregates: str) -> str:
        return f"SELECT {', '.join(values.get(c, 'NULL') for c in cols)}, {g}, {aggregates} FROM f"

    parts = [select({}, f"{_mask(cols, set())} AS g",
                    "count(*) AS n, sum(credit_limit) AS credit, count(*) FILTER (WHERE created_at >= ?) AS new_n,"
                    " count(*) FILTER (WHERE status = 'active') AS active_n")]
    if "tier" in dims:  # the tiers' counts and their credit
        parts.append(select({"tier": "tier"}, str(_mask(cols, {"tier"})), "count(*), sum(credit_limit), NULL, NULL")
                     + " GROUP BY tier")
    sets = [f"({d})" for d in dims if d != "tier"]
    if {"industry", "tier"} <= set(dims):
        sets.append("(industry, tier)")
    if sets:
        parts.append(select({d: d for d in dims}, f"GROUPING({', '.join(dims)}) * 2 + 1", "count(*), NULL, NULL, NULL")
                     + f" GROUP BY GROUPING SETS ({', '.join(sets)})")
    month = f"CAST(date_trunc('month', make_timestamp(day * {day_us})) AS DATE)"
    parts.append(f"SELECT {', '.join(month if c == 'month' else 'NULL' for c in cols)}, {_mask(cols, {'month'})},"
                 f" sum(n), NULL, NULL, NULL FROM (SELECT day, count(*) AS n FROM f GROUP BY day) GROUP BY ALL")
    return (
        f"WITH f AS MATERIALIZED (SELECT {inner + ', ' if inner else ''}c.credit_limit, c.created_at, c.status,"
        f" (epoch_us(c.created_at) + {SHANGHAI_OFFSET_HOURS * 3600 * 1_000_000}) // {day_us} AS day"
        f" FROM customers c WHERE {where}) " + " UNION ALL ".join(parts)
    )


def _mask(cols: list[str], grouped: set[str]) -> int:
    """The GROUPING() value of a set: a bit per column, 1 when NOT grouped (first column
    is the highest bit)."""
    n = len(cols)
    return sum(1 << (n - 1 - i) for i, c in enumerate(cols) if c not in grouped)


_CACHE_SIZE = 128  # a few KB each: every salesperson's own view and a handful of filter sets


def customer_analytics(db, actor, filters: CustomerFilters = CustomerFilters(), *,
                       use_index: bool = True) -> Analytics:
    """Every KPI and chart series for the analytics page, for the rows ``filters``
    select and the actor may see (cached; see the module's docstring). ``use_index``:
    False computes with the SQL even when the search index is built (the tests compare
    both)."""
    cond = conditions(actor, filters, action=perm.ANALYTICS_VIEW)
    where, params = conditions_sql(cond)
    month_start = local_month_start_utc()
    dims = dimensions()
    key = (where, tuple(params), month_start, dims)
    # "Not reviewed for N days" compares with this instant, a parameter that never
    # repeats: such answers are not kept (they would only push useful ones out).
    keep = filters.not_reviewed_days is None
    idx = search_index.index(db) if use_index else None
    version = idx.version() if idx is not None else None
    if version is not None:  # the index is built: its state after every write noted so far

        def from_index() -> Analytics | None:
            columns = list(dict.fromkeys(F.by_name(d).db_column for d in (*dims, "status")))
            pair = (F.by_name("industry").db_column, F.by_name("tier").db_column)
            tally = idx.tally(cond, columns, pair=pair if {"industry", "tier"} <= set(dims) else None,
                              sum_by=pair[1] if "tier" in dims else None)  # the same state or a later one
            return None if tally is None else _from_tally(tally, dims, month_start)

        found = cache.answer(db, "analytics", _CACHE_SIZE, ("index", version, *key), from_index, keep=keep)
        if found is not None:
            return found
    with db.read() as cur:
        return cache.versioned(
            db, "analytics", _CACHE_SIZE, cur, key,
            lambda: _aggregate(cur.execute(_sql(where, dims), [*params, month_start]).fetchall(), dims),
            keep=keep)


def _from_tally(t: search_index.Tally, dims: tuple[str, ...], month_start) -> Analytics:
    """The ``Analytics`` of the index's counts (``SearchIndex.tally``), as ``_sql`` would
    count them: the arrays by code, then the customers saved since the build."""
    column = {d: F.by_name(d).db_column for d in (*dims, "status", "industry", "tier")}
    pairs = {"industry", "tier"} <= set(dims)

    def by_value(col: str, counts) -> dict:
        values = t.values[col]
        return {(values[i - 1] if i else None): int(n) for i, n in enumerate(counts.tolist()) if n}

    counts = {d: by_value(column[d], t.counts[column[d]]) for d in (*dims, "status")}
    credit_by: dict = {}
    if "tier" in dims:  # each tier present, its limits' sum (0 when none has one)
        sums = by_value(column["tier"], t.credit_by)
        credit_by = {tier: sums.get(tier, 0) for tier in counts["tier"]}
    industry_tier: dict = {}
    if pairs:
        ind, tier = t.values[column["industry"]], t.values[column["tier"]]
        wide = len(tier) + 1
        for i, n in enumerate(t.pairs.tolist()):
            if n:
                industry_tier[(ind[i // wide - 1] if i // wide else None, tier[i % wide - 1] if i % wide else None)] = n
    months = {t.first_month + i: n for i, n in enumerate(t.months.tolist()) if n}
    credit = t.credit_cents
    if t.extra:
        # Counted a column at a time (a Counter over the rows: a loop in C, where a loop
        # per row and column in Python made a count with 4,900 such rows 14 ms slower at
        # 1M customers); each dict gets its new keys in the rows' order, as before.
        def add(into: dict, counted: Counter) -> None:
            for k, n in counted.items():
                into[k] = into.get(k, 0) + n

        for d, c in counts.items():
            col = column[d]
            add(c, Counter(row.choices.get(col) for row in t.extra))
        if pairs:
            ind, tier = column["industry"], column["tier"]
            add(industry_tier, Counter((row.choices.get(ind), row.choices.get(tier)) for row in t.extra))
        limits = [row.credit_cents or 0 for row in t.extra]
        if "tier" in dims:
            tier = column["tier"]
            for value, cents in zip((row.choices.get(tier) for row in t.extra), limits):
                credit_by[value] = credit_by.get(value, 0) + cents
        created = np.array([row.created_us for row in t.extra], dtype=np.int64)
        add(months, Counter(search_index.local_month(created).tolist()))
        credit += sum(limits)
    # "New this month": created at or after the local month's start, i.e. in its month.
    this_month = search_index.local_month(np.array([search_index.micros(month_start)]))[0]
    out = Analytics(total=t.n + len(t.extra), new_this_month=sum(n for m, n in months.items() if m >= this_month),
                    active=counts["status"].get("active", 0), credit_total=Decimal(credit).scaleb(-2))
    out.counts = {d: list(counts[d].items()) for d in dims}
    out.industry_tier = [(i, tr, n) for (i, tr), n in industry_tier.items()]
    out.per_month = [(date(1970 + m // 12, m % 12 + 1, 1), n) for m, n in months.items()]
    out.credit_by_tier = [(tier, Decimal(c).scaleb(-2)) for tier, c in credit_by.items()]
    return _in_order(out)


def _aggregate(rows: list[tuple], dims: tuple[str, ...]) -> Analytics:
    """The ``Analytics`` of the GROUPING SETS rows of ``_sql``."""
    cols = [*dims, "month"]
    out = Analytics()
    k = len(cols)
    by_mask: dict[int, list[dict]] = {}
    for r in rows:
        rec = dict(zip(cols, r[:k]))
        rec.update(n=r[k + 1], credit=r[k + 2], new_n=r[k + 3], active_n=r[k + 4])
        by_mask.setdefault(r[k], []).append(rec)
    for r in by_mask.get(_mask(cols, set()), []):
        out.total, out.credit_total, out.new_this_month = r["n"], r["credit"] or Decimal("0"), r["new_n"]
        out.active = r["active_n"]
    for name in dims:
        out.counts[name] = [(r[name], r["n"]) for r in by_mask.get(_mask(cols, {name}), [])]
    if {"industry", "tier"} <= set(dims):
        out.industry_tier = [(r["industry"], r["tier"], r["n"])
                             for r in by_mask.get(_mask(cols, {"industry", "tier"}), [])]
    out.per_month = [(r["month"], r["n"]) for r in by_mask.get(_mask(cols, {"month"}), [])]
    if "tier" in dims:
        out.credit_by_tier = [(r["tier"], r["credit"] or Decimal("0")) for r in by_mask.get(_mask(cols, {"tier"}), [])]
    return _in_order(out)


def _in_order(out: Analytics) -> Analytics:
    """Each series in the order the page shows it: counts largest first (then by code),
    industry x tier and the tiers' credit by code (empty last), months in order."""
    for series in out.counts.values():
        series.sort(key=lambda x: (-x[1], x[0] or ""))
    out.industry_tier.sort(key=lambda x: (x[0] or "~", x[1] or "~"))
    out.per_month.sort()
    out.credit_by_tier.sort(key=lambda x: x[0] or "~")
    return out
