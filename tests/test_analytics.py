"""Analytics: every aggregate agrees with search's count for the same filters, and the
cache never answers with counts older than the reader's own snapshot. Each test runs
both ways analytics computes: from the search index (once built) and by SQL (while it is
not), and the two are compared on random filters, roles and writes."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from lib.core import audit
from lib.customers import analytics
from lib.customers import customer as cs
from lib.customers import search_index as SI
from lib.customers.analytics import customer_analytics, dimensions
from lib.core.clock import local_today, utcnow
from lib.customers.search import CustomerFilters, search


@pytest.fixture(autouse=True, params=["index", "sql"])
def path(request, monkeypatch):
    """Which way analytics computes: "sql" is what happens while the index is not built."""
    if request.param == "sql":
        monkeypatch.setattr(SI.SearchIndex, "version", lambda self: None)
    return request.param


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


# -- the cache (issue 8 §3): keyed by scope, filters and the data version --------------------------
@pytest.fixture
def computed(monkeypatch, path):
    """How many times the aggregate was really computed (not answered from the cache)."""
    calls = []
    name = "_from_tally" if path == "index" else "_aggregate"
    real = getattr(analytics, name)

    def counting(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(analytics, name, counting)
    return calls


def test_an_unchanged_database_answers_from_the_cache(make_customer, actors, db, computed):
    seed(make_customer)
    first = customer_analytics(db, actors["manager"])
    assert customer_analytics(db, actors["manager"]) == first and len(computed) == 1
    # Another manager-scoped reader sees the same rows and shares the answer.
    assert customer_analytics(db, actors["admin"]) == first and len(computed) == 1


def test_own_save_is_counted_by_the_very_next_call(make_customer, actors, db, computed):
    made = seed(make_customer)
    sales, manager = actors["sales"], actors["manager"]
    assert dict(customer_analytics(db, sales).counts["tier"]) == {"A": 2, "D": 1}
    rec = cs.update_customer(db, sales, made[0]["id"], {"tier": "B"}, made[0]["version"])
    assert dict(customer_analytics(db, sales).counts["tier"]) == {"A": 1, "B": 1, "D": 1}
    make_customer("sales", tier="D", owner="sales")
    assert customer_analytics(db, sales).total == 4
    cs.archive_customer(db, sales, made[0]["id"], rec["version"])
    assert customer_analytics(db, sales).total == 3
    # A manager's change of an access level (a field only managers set) is counted too.
    before = dict(customer_analytics(db, manager).counts["access_level"])
    cur = cs.get_customer(db, manager, made[1]["id"])
    cs.update_customer(db, manager, cur["id"], {"access_level": "on_hold"}, cur["version"])
    after = dict(customer_analytics(db, manager).counts["access_level"])
    assert after.get("on_hold", 0) == before.get("on_hold", 0) + 1


def test_another_users_save_is_counted_by_the_next_call(make_customer, actors, db):
    made = seed(make_customer)
    manager, sales = actors["manager"], actors["sales"]
    assert customer_analytics(db, manager).active == 3 and customer_analytics(db, sales).total == 3
    # A salesperson changes a status: the manager's cached answer is not reused.
    cs.update_customer(db, sales, made[0]["id"], {"status": "dormant"}, made[0]["version"])
    assert customer_analytics(db, manager).active == 2
    # The manager hands a customer over: the new owner's view counts it at once,
    # the old owner's no longer does.
    rec = cs.get_customer(db, manager, made[2]["id"])  # owned by sales2
    cs.update_customer(db, manager, rec["id"], {"owner": "sales"}, rec["version"])
    assert customer_analytics(db, sales).total == 4
    assert customer_analytics(db, actors["sales2"]).total == 1
    # A restored (un-archived) customer comes back.
    archived = cs.archive_customer(db, manager, made[3]["id"], made[3]["version"])
    assert customer_analytics(db, manager).total == 5
    cs.restore_customer(db, manager, archived["id"], archived["version"])
    assert customer_analytics(db, manager).total == 6


def test_a_contact_saved_changes_what_a_text_filter_counts(make_customer, actors, db):
    from lib.customers import contacts as ct

    made = seed(make_customer)
    manager = actors["manager"]
    by_name = CustomerFilters(text="欧阳娜娜")
    assert customer_analytics(db, manager, by_name).total == 0
    ct.add_contact(db, manager, made[4]["id"], {"contact_name": "欧阳娜娜"})
    assert customer_analytics(db, manager, by_name).total == 1


def test_each_scope_and_each_filter_set_has_its_own_entry(make_customer, actors, db, computed):
    seed(make_customer)
    answers = {}
    for _ in range(2):  # the second round is answered from the cache, each from its own entry
        for who in ("manager", "sales", "sales2"):
            for f in (CustomerFilters(), CustomerFilters(choices={"tier": ("C",)}),
                      CustomerFilters(choices={"tier": ("A",)}), CustomerFilters(archived="all")):
                a = customer_analytics(db, actors[who], f)
                assert answers.setdefault((who, repr(f)), a) == a
                assert a.total == search(db, actors[who], f).total
    assert len(computed) == 12
    assert answers[("sales", repr(CustomerFilters()))].total == 3
    assert answers[("sales2", repr(CustomerFilters()))].total == 2
    assert answers[("manager", repr(CustomerFilters(choices={"tier": ("C",)})))].total == 2
    assert answers[("sales", repr(CustomerFilters(choices={"tier": ("C",)})))].total == 0


def test_an_answer_changed_by_its_reader_does_not_change_the_cache(make_customer, actors, db):
    seed(make_customer)
    a = customer_analytics(db, actors["manager"])
    a.counts["tier"].clear()
    a.total = -1
    again = customer_analytics(db, actors["manager"])
    assert again.total == 6 and dict(again.counts["tier"]) == {"A": 2, "B": 1, "C": 2, "D": 1}


def test_the_cache_is_bounded(make_customer, actors, db, monkeypatch):
    monkeypatch.setattr(analytics, "_CACHE_SIZE", 3)
    seed(make_customer)
    for days in range(1, 6):
        customer_analytics(db, actors["manager"], CustomerFilters(created_to=local_today() - timedelta(days=days)))
    assert len(db.cached("analytics", lambda: None)) == 3


@pytest.mark.parametrize("path", ["sql"], indirect=True)
def test_the_version_is_that_of_the_readers_snapshot(make_customer, actors, db):
    # The version is read in the aggregate's own read transaction: a write committed
    # after that snapshot began must not be reported as its version, or the older
    # answer would be stored under the newer version.
    made = seed(make_customer)
    with db.read() as cur:
        seen = audit.data_version(cur)
        cs.update_customer(db, actors["manager"], made[0]["id"], {"tier": "D"}, made[0]["version"])
        assert audit.data_version(cur) == seen
        assert cur.execute("SELECT tier FROM customers WHERE id = ?", [made[0]["id"]]).fetchone()[0] == "A"
    with db.read() as cur:
        assert audit.data_version(cur) > seen


@pytest.mark.parametrize("path", ["sql"], indirect=True)
def test_a_write_that_took_its_audit_id_first_but_committed_last_is_counted(make_customer, actors, db):
    # Audit ids come from a sequence when a write asks for one, not when it commits: a
    # slow save can commit its lower id after a quicker save's higher one. The newest id
    # alone would then not change, and the answer cached in between would be stale.
    # (The SQL's version; the index hears of writes through the write path, which this
    # hand-made write bypasses.)
    made = seed(make_customer)
    manager = actors["manager"]
    slow = db.cursor()
    slow.execute("BEGIN TRANSACTION")
    slow_id = slow.execute("SELECT nextval('audit_id_seq')").fetchone()[0]
    make_customer("manager", tier="A")  # the quick save: a higher audit id, committed first
    assert dict(customer_analytics(db, manager).counts["tier"])["D"] == 1  # cached now
    slow.execute("UPDATE customers SET tier = 'D', version = version + 1 WHERE id = ?", [made[0]["id"]])
    row = cs.audit_row(slow_id, now=utcnow(), actor="manager", action="update", customer_id=made[0]["id"],
                       version=made[0]["version"] + 1, changes={"tier": ["A", "D"]})
    cs.insert_row(slow, "audit_log", {c: row[c] for c in cs.AUDIT_COLUMNS})
    slow.execute("COMMIT")
    slow.close()
    assert dict(customer_analytics(db, manager).counts["tier"])["D"] == 2


def test_a_restored_backup_never_repeats_a_version(make_customer, actors, db, db_path, tmp_path):
    from lib.core.db import Database
    from lib.ops import backup as bk

    seed(make_customer)
    bk.backup(db, tmp_path / "b.duckdb")
    make_customer("manager")  # lost by the restore
    with db.read() as cur:
        before = audit.data_version(cur)
    db.close()
    bk.restore(tmp_path / "b.duckdb", db_path)
    restored = Database(db_path)
    try:
        with restored.read() as cur:
            entries, newest = audit.data_version(cur)
        # Fewer entries than before maybe, but a newest id past every id the replaced file had.
        assert newest > before[1]
        assert customer_analytics(restored, restored.actor("manager", "manager")).total == 6
    finally:
        restored.close()


def one_grouping_sets(where: str, dims: tuple[str, ...]) -> str:
    """The aggregate as it was before issue 8: one GROUPING SETS computing every
    aggregate for every set (the reference the faster query must agree with, and the
    anchor of bench/bench_analytics.py)."""
    from lib.core.clock import SHANGHAI_OFFSET_HOURS
    from lib.customers import fields as F

    month = f"CAST(date_trunc('month', c.created_at + INTERVAL {SHANGHAI_OFFSET_HOURS} HOUR) AS DATE)"
    cols = [*dims, "month"]
    sets = ["()", *(f"({d})" for d in dims)]
    if {"industry", "tier"} <= set(dims):
        sets.append("(industry, tier)")
    sets.append("(month)")
    inner = ", ".join(f"c.{F.by_name(d).db_column} AS {d}" for d in dims)
    return (
        f"SELECT {', '.join(cols)}, GROUPING({', '.join(cols)}) AS g,"
        " count(*) AS n, sum(credit_limit) AS credit, count(*) FILTER (WHERE created_at >= ?) AS new_n,"
        " count(*) FILTER (WHERE status = 'active') AS active_n"
        f" FROM (SELECT {inner + ', ' if inner else ''}c.credit_limit, c.created_at, c.status,"
        f" {month} AS month FROM customers c WHERE {where})"
        f" GROUP BY GROUPING SETS ({', '.join(sets)})"
    )


def test_the_query_agrees_withone_grouping_sets(make_customer, actors, db):
    from datetime import datetime

    from lib.accounts import permissions as perm
    from lib.core.clock import local_month_start_utc
    from lib.customers.search import where_clause

    made = seed(make_customer)
    made += [make_customer("sales", industry=None, tier=None, size=None, region=None, owner="sales") for _ in range(2)]
    # Creation times either side of local (UTC+8) month ends, and long ago.
    stamps = [datetime(2025, 1, 31, 15, 59, 59), datetime(2025, 1, 31, 16, 0, 0), datetime(2024, 12, 31, 16, 0),
              datetime(2023, 2, 28, 23, 0), datetime(2025, 6, 30, 16, 0, 1)]
    with db.transaction() as cur:
        for rec, at in zip(made, stamps):
            cur.execute("UPDATE customers SET created_at = ? WHERE id = ?", [at, rec["id"]])
    month_start = local_month_start_utc()
    dims = analytics.dimensions()
    for who, filters in [("manager", CustomerFilters()), ("sales", CustomerFilters()),
                         ("manager", CustomerFilters(choices={"tier": ("C", "A")})),
                         ("manager", CustomerFilters(archived="all"))]:
        where, params = where_clause(actors[who], filters, action=perm.ANALYTICS_VIEW)
        with db.read() as cur:
            new = analytics._aggregate(cur.execute(analytics._sql(where, dims), [*params, month_start]).fetchall(),
                                       dims)
            old = analytics._aggregate(cur.execute(one_grouping_sets(where, dims), [month_start, *params]).fetchall(),
                                       dims)
        assert new == old, (who, filters)
    # 2023-02-28 23:00 UTC is March 1st in Shanghai; 2024-12-31 16:00 UTC is January 1st.
    assert customer_analytics(db, actors["manager"]).per_month[:4] == [
        (date(2023, 3, 1), 1), (date(2025, 1, 1), 2), (date(2025, 2, 1), 1), (date(2025, 7, 1), 1)]


# -- the index's answers are the SQL's ----------------------------------------------------
@pytest.mark.parametrize("path", ["index"], indirect=True)
def test_the_index_counts_what_the_sql_counts_for_random_filters_roles_and_writes(actors, db):
    import random

    from lib.ops.demo import loader

    loader.generate(db, 400, seed=5, now=utcnow(), chunk_size=200, workers=1)
    rng = random.Random(8)
    with db.read() as cur:
        values = {d: [r[0] for r in cur.execute(f"SELECT DISTINCT {d} FROM customers WHERE {d} IS NOT NULL").fetchall()]
                  for d in ("tier", "industry", "region", "status", "size")}
        texts = [r[0] for r in cur.execute("SELECT search_text FROM customers ORDER BY id LIMIT 60").fetchall()]

    def random_filters() -> CustomerFilters:
        choices = {d: tuple(rng.sample(vs, rng.randint(1, min(3, len(vs)))))
                   for d, vs in values.items() if rng.random() < 0.3}
        text = ""
        if rng.random() < 0.4:
            part = rng.choice(rng.choice(texts).split("\x1f")) or "公司"
            text = part[:rng.randint(1, 4)].strip() or "公司"
        today = local_today()
        return CustomerFilters(
            text=text, choices=choices, archived=rng.choice(["active", "active", "archived", "all"]),
            created_from=today - timedelta(days=rng.randint(0, 900)) if rng.random() < 0.3 else None,
            created_to=today - timedelta(days=rng.randint(0, 300)) if rng.random() < 0.2 else None,
            not_reviewed_days=rng.choice([None, None, 30, 365]))

    def compare(rounds: int) -> None:
        # Each role's page before any filter (answered from counts per owner taken at the
        # build, less the rows saved since), then random filters (counted row by row).
        cases = [(who, CustomerFilters(archived=state)) for who in ("manager", "sales", "sales2", "viewer")
                 for state in ("active", "archived", "all")]
        # Filters most rows meet (counted as the scope's counts less the rows that do not).
        cases += [(who, CustomerFilters(choices={"status": tuple(values["status"][1:])}, archived=state))
                  for who in ("manager", "sales") for state in ("active", "all")]
        cases += [("manager", CustomerFilters(text="公司", choices={"tier": tuple(values["tier"])}))]
        cases += [(rng.choice(["manager", "sales", "sales2", "admin"]), random_filters()) for _ in range(rounds)]
        for who, f in cases:
            assert SI.index(db).version() is not None
            assert customer_analytics(db, actors[who], f) == customer_analytics(db, actors[who], f, use_index=False), \
                (who, f)

    compare(40)
    # Saved customers are kept beside the index's array: counted with it, their old
    # entries not; a value no customer had when the index was built (a new region) too.
    manager = actors["manager"]
    page = search(db, manager, CustomerFilters(archived="all")).rows[:12]
    for i, rec in enumerate(page):
        changes = {"tier": rng.choice(values["tier"]), "credit_limit": f"{rng.randint(0, 10**7)}.{i:02d}",
                   "owner": rng.choice(["sales", "sales2", "manager"])}
        if i % 4 == 0:
            changes["region"] = "650000" if "650000" not in values["region"] else None
        cs.update_customer(db, manager, rec["id"], changes, rec["version"])
    for i in range(3):
        cs.create_customer(db, manager, {"name": f"新增统计客户{i}有限公司", "customer_type": "company",
                                         "tier": values["tier"][0], "owner": "sales"})
    arch = search(db, manager, CustomerFilters()).rows[20]
    cs.archive_customer(db, manager, arch["id"], arch["version"])
    assert SI.index(db).current().delta  # the writes are beside the array, not yet in it
    compare(40)
