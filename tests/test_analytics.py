"""Analytics: every aggregate agrees with search's count for the same filters."""
from __future__ import annotations

from decimal import Decimal

from lib.customers import customer as cs
from lib.customers.analytics import customer_analytics, dimensions
from lib.core.clock import local_today
from lib.customers.search import CustomerFilters, search


def seed(make_customer):
    made = []
    for i, (tier, industry, size, status, owner) in enumerate([
        ("A", "C", "1-9", "active", "sales"), ("A", "C", "10-49", "active", "sales"),
        ("B", "I", "50-199", "prospect", "sales2"), ("C", "I", None, "dormant", "manager"),
        ("C", "J", "1000+", "active", "sales2"), ("D", None, None, "blocked", "sales"),
    ]):
        extra = {"credit_limit": f"{(i + 1) * 1000}.50"}
        made.append(make_customer("manager", tier=tier, industry=industry, size=size, status=status,
                                  owner=owner, **extra))
    return made


def test_counts_match_search_for_every_dimension(make_customer, actors, db):
    seed(make_customer)
    manager = actors["manager"]
    a = customer_analytics(db, manager)
    assert a.total == search(db, manager, CustomerFilters()).total == 6
    for dim in dimensions():
        assert sum(n for _, n in a.counts[dim]) == 6
        for code, n in a.counts[dim]:
            if code is not None:
                assert search(db, manager, CustomerFilters(choices={dim: (code,)})).total == n, (dim, code)
    assert dict(a.counts["tier"]) == {"A": 2, "B": 1, "C": 2, "D": 1}
    assert a.active == 3
    assert ("C", "A", 2) in a.industry_tier


def test_kpis_month_and_credit(make_customer, actors, db):
    made = seed(make_customer)
    a = customer_analytics(db, actors["manager"])
    assert a.new_this_month == 6
    assert a.per_month == [(local_today().replace(day=1), 6)]
    assert a.credit_total == sum(Decimal(f"{(i + 1) * 1000}.50") for i in range(6))
    assert dict(a.credit_by_tier)["A"] == Decimal("3001.00")
    # Archived customers leave the default view, as they leave search.
    cs.archive_customer(db, actors["manager"], made[0]["id"], made[0]["version"])
    assert customer_analytics(db, actors["manager"]).total == 5


def test_filters_and_row_scope_apply(make_customer, actors, db):
    seed(make_customer)
    only_c = customer_analytics(db, actors["manager"], CustomerFilters(choices={"tier": ("C",)}))
    assert only_c.total == 2 and dict(only_c.counts["tier"]) == {"C": 2}
    sales = customer_analytics(db, actors["sales"])
    assert sales.total == 3 and dict(sales.counts["owner"]) == {"sales": 3}
