"""Aggregates for the analytics page, computed by DuckDB in one scan.

One ``GROUPING SETS`` query answers every chart at once and honours exactly the same
filters (and row scope) as search, through ``lib.customers.search.where_clause``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lib.accounts import permissions as perm
from lib.core.clock import SHANGHAI_OFFSET_HOURS, local_month_start_utc
from lib.customers.search import CustomerFilters, where_clause

# Dimensions, in the order of the grouping sets below.
DIMENSIONS = ("industry", "tier", "size", "region", "owner", "status")


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


def _sql(where: str) -> str:
    month = f"CAST(date_trunc('month', c.created_at + INTERVAL {SHANGHAI_OFFSET_HOURS} HOUR) AS DATE)"
    return (
        "SELECT industry, tier, size, region, owner, status, month,"
        " GROUPING(industry, tier, size, region, owner, status, month) AS g,"
        " count(*) AS n, sum(credit_limit) AS credit, count(*) FILTER (WHERE created_at >= ?) AS new_n"
        f" FROM (SELECT c.industry, c.tier, c.size, c.region, c.owner, c.status, c.credit_limit, c.created_at,"
        f" {month} AS month FROM customers c WHERE {where})"
        " GROUP BY GROUPING SETS ((), (industry), (tier), (size), (region), (owner), (status),"
        " (industry, tier), (month))"
    )


# GROUPING() bit masks: a bit is 1 when that column is NOT grouped (7 columns).
_ALL = 0b1111111
_MASK = {name: _ALL & ~(1 << (6 - i)) for i, name in enumerate(DIMENSIONS + ("month",))}
_MASK_INDUSTRY_TIER = _ALL & ~(1 << 6) & ~(1 << 5)


def customer_analytics(db, actor, filters: CustomerFilters = CustomerFilters()) -> Analytics:
    """Every KPI and chart series for the analytics page, for the rows ``filters``
    select and the actor may see."""
    where, params = where_clause(actor, filters, action=perm.ANALYTICS_VIEW)
    with db.read() as cur:
        rows = cur.execute(_sql(where), [local_month_start_utc(), *params]).fetchall()
    out = Analytics()
    by_mask: dict[int, list[tuple]] = {}
    for industry, tier, size, region, owner, status, month, g, n, credit, new_n in rows:
        by_mask.setdefault(g, []).append((industry, tier, size, region, owner, status, month, n, credit, new_n))
    for r in by_mask.get(_ALL, []):
        out.total, out.credit_total, out.new_this_month = r[7], r[8] or Decimal("0"), r[9]
    for i, name in enumerate(DIMENSIONS):
        series = [(r[i], r[7]) for r in by_mask.get(_MASK[name], [])]
        series.sort(key=lambda x: (-x[1], x[0] or ""))
        out.counts[name] = series
    out.active = dict(out.counts.get("status", [])).get("active", 0)
    out.industry_tier = sorted(((r[0], r[1], r[7]) for r in by_mask.get(_MASK_INDUSTRY_TIER, [])),
                               key=lambda x: (x[0] or "~", x[1] or "~"))
    out.per_month = sorted((r[6], r[7]) for r in by_mask.get(_MASK["month"], []))
    out.credit_by_tier = sorted(((r[1], r[8] or Decimal("0")) for r in by_mask.get(_MASK["tier"], [])),
                                key=lambda x: x[0] or "~")
    return out
