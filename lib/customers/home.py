"""What the home page shows: what to do today (no UI here; the page renders these).

* ``my_due``: follow-ups not done whose due date is today or past, assigned to the
  actor — or, for whoever may change anyone's follow-ups (``followup.edit_any``:
  managers, admins), everyone's, with counts per assignee.
* ``open_needs``: customer needs (客户需求) still open, with counts per customer owner.
* ``not_reviewed``: customers not reviewed for the review period (定期更新; the setting
  ``review_days``).
* ``recently_changed``: customers with a change in the last days, their parts'
  changes included (read from the audit log).

Every list is scoped like search (``lib.customers.search.where_clause``: a salesperson
sees only rows of their own customers, archived customers are left out), paged
(``limit``/``offset``) and counted by the database; every row carries the customer's id,
code and name so the page can link to the customer.

Answers are cached per ``Database`` like analytics': keyed by the list, its scope and
page, the day (``my_due``) or the minute (the lists measured back from now), and the data
version (``lib.core.audit.data_version``) read in the same read transaction. A rerun of
the home page with nothing written since (a widget on the page, a language switch)
reads its lists from memory; the first read after any write computes afresh.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, TypeVar

from lib.accounts import permissions as perm
from lib.core import cache, settings
from lib.core.clock import local_today, utcnow
from lib.core.errors import CustomerMasterError
from lib.customers.followups import FOLLOW_UP, NEED, NEED_OPEN
from lib.customers.search import MAX_PAGE_SIZE, CustomerFilters, where_clause

RECENT_DAYS = 7
_CACHE_SIZE = 256  # answers kept (four lists per scope and page); least recently used out
T = TypeVar("T")


@dataclass
class DueFollowUps:
    rows: list[dict]
    total: int
    overdue: int  # due before today
    due_today: int
    everyone: bool  # everyone's follow-ups (a manager's view), not only the actor's
    # everyone's view: [{"assignee", "total", "overdue"}], most first
    by_assignee: list[dict] = field(default_factory=list)


@dataclass
class OpenNeeds:
    rows: list[dict]
    total: int
    by_owner: list[dict] = field(default_factory=list)  # [{"owner", "total"}], most first


@dataclass
class CustomerList:
    rows: list[dict]
    total: int
    days: int  # the period the list is about


def _page(limit: int, offset: int) -> list[int]:
    try:
        limit, offset = int(limit), int(offset)
    except (TypeError, ValueError):
        raise CustomerMasterError("error.bad_filter", field="limit") from None
    return [max(1, min(limit, MAX_PAGE_SIZE)), max(0, offset)]


def _cached(db, cur, key: tuple, compute: Callable[[], T]) -> T:
    """A list's answer from the home page's cache (``lib.core.cache.versioned``)."""
    return cache.versioned(db, "home", _CACHE_SIZE, cur, key, compute)


def _minute() -> datetime:
    """Now to the minute: the key of a list measured back from now (its boundary may be
    up to a minute old when read from the cache)."""
    return utcnow().replace(second=0, microsecond=0)


def _scope(actor) -> tuple[str, list[Any]]:
    """Customers the actor may read (alias ``c``), not archived: the home page's scope."""
    return where_clause(actor, CustomerFilters())


def _rows(cur, sql: str, params: list[Any]) -> list[dict]:
    res = cur.execute(sql, params)
    cols = [d[0] for d in res.description]
    return [dict(zip(cols, r)) for r in res.fetchall()]


# A follow-up as the home page lists it: its fields by name (as ``followups_of`` gives
# them), what the write path needs to change it, and the customer to link to.
_FOLLOWUP_SELECT = ", ".join([
    "f.id", "f.version", "f.created_by", "f.done", "f.campaign",
    *(f"f.{fd.db_column} AS {fd.name}" for fd in FOLLOW_UP.fields),
    "c.id AS customer_id", "c.code AS customer_code", "c.name AS customer_name", "c.owner AS customer_owner",
])
_FOLLOWUPS_FROM = f"FROM {FOLLOW_UP.table} f JOIN customers c ON c.id = f.{FOLLOW_UP.customer_column}"


def _in(ids: list[int]) -> str:
    return ", ".join("?" * len(ids))


# A page is found by its sort keys alone, then only its rows are read in full: ordering
# the joined wide rows (a follow-up's texts, a customer's name) of every match to keep
# ten cost 120-270 ms at 1M customers, the narrow keys a fraction of it.
def _followups_by_id(cur, ids: list[int]) -> list[dict]:
    if not ids:
        return []
    found = {r["id"]: r for r in _rows(cur, f"SELECT {_FOLLOWUP_SELECT} {_FOLLOWUPS_FROM} WHERE f.id IN ({_in(ids)})",
                                       ids)}
    return [found[i] for i in ids]


def _counts_and_page(cur, cond: str, params: list[Any], *, key: str, group: str | None,
                     counts: dict[str, str], counts_params: list[Any], limit: int,
                     offset: int) -> tuple[list[dict], list[dict]]:
    """One pass over the follow-ups (alias ``f``, joined with their customer ``c``)
    matching ``cond``: ``counts`` (name -> SQL aggregate over the matches, which may
    use their ``sort_key``) in total and, if ``group`` (an SQL column) is given, per
    value of it; and the page of follow-ups in order of ``f.<key>``, then id.

    Returns the count rows (``group``, ``is_total`` and the counts; the total first, then
    the most first) and the page's follow-ups in order. The matches are found once and
    both answers read them; found by two statements, they were found twice (at 1M, a
    manager's my_due took 32 ms of CPU, now 21; open_needs 21, now 15: bench_home.py)."""
    names = list(counts)
    sql = (f"WITH m AS MATERIALIZED (SELECT f.id, f.{key} AS sort_key, {group or 'NULL'} AS grp"
           f" {_FOLLOWUPS_FROM} WHERE {cond})"
           f" SELECT {'grp, grouping(grp)' if group else 'NULL, 1'} AS part,"
           f" {', '.join(counts[n] for n in names)},"
           f" NULL AS id, NULL AS sort_key FROM m{' GROUP BY GROUPING SETS ((grp), ())' if group else ''}"
           f" UNION ALL SELECT * FROM (SELECT NULL, 2, {', '.join(['NULL'] * len(names))}, id, sort_key FROM m"
           " ORDER BY sort_key, id LIMIT ? OFFSET ?)")
    res = cur.execute(sql, [*params, *counts_params, *_page(limit, offset)]).fetchall()
    count_rows = [{"group": r[0], "is_total": bool(r[1]), **dict(zip(names, r[2:-2]))} for r in res if r[1] != 2]
    count_rows.sort(key=lambda r: (not r["is_total"], -r["total"], r["group"] is None, r["group"] or ""))
    page = sorted((r for r in res if r[1] == 2), key=lambda r: (r[-1] is None, r[-1] or 0, r[-2]))
    return count_rows, _followups_by_id(cur, [r[-2] for r in page])


def my_due(db, actor, today: date | None = None, limit: int = 50, offset: int = 0, *,
           everyone: bool | None = None) -> DueFollowUps:
    """Follow-ups not done, due ``today`` (Asia/Shanghai, default now) or earlier, most
    overdue first. ``everyone`` (default: whether the actor has ``followup.edit_any``)
    lists everyone's, with the assignee and counts per assignee; otherwise only those
    assigned to the actor."""
    today = today or local_today()
    if everyone is None:
        everyone = perm.can(actor, perm.FOLLOWUP_EDIT_ANY)
    elif everyone:
        perm.require(actor, perm.FOLLOWUP_EDIT_ANY)
    where, params = _scope(actor)
    cond = f"NOT f.deleted AND NOT f.done AND f.due_on <= ? AND {where}"
    params = [today, *params]
    if not everyone:
        cond += " AND f.assignee = ?"
        params.append(actor.username)
    with db.read() as cur:
        counts, rows = _cached(db, cur, ("my_due", cond, tuple(params), everyone, limit, offset), lambda: (
            _counts_and_page(cur, cond, params, key="due_on", group="f.assignee" if everyone else None,
                             counts={"total": "count(*)", "overdue": "count(*) FILTER (WHERE sort_key < ?)",
                                     "due_today": "count(*) FILTER (WHERE sort_key = ?)"},
                             counts_params=[today, today], limit=limit, offset=offset)))
    totals = counts[0] if counts and counts[0]["is_total"] else {"total": 0, "overdue": 0, "due_today": 0}
    by_assignee = [{"assignee": r["group"], "total": r["total"], "overdue": r["overdue"]}
                   for r in counts if not r["is_total"]]
    return DueFollowUps(rows, totals["total"], totals["overdue"], totals["due_today"], everyone, by_assignee)


def open_needs(db, actor, limit: int = 50, offset: int = 0) -> OpenNeeds:
    """Customer needs still open, the longest waiting first, with counts per owner of the
    customer (a salesperson sees their own customers' only)."""
    where, params = _scope(actor)
    cond = f"NOT f.deleted AND f.kind = ? AND f.need_state = ? AND {where}"
    with db.read() as cur:
        counts, rows = _cached(db, cur, ("open_needs", cond, tuple(params), limit, offset),
                               lambda: _counts_and_page(cur, cond, [NEED, NEED_OPEN, *params], key="occurred_on",
                                                        group="c.owner", counts={"total": "count(*)"},
                                                        counts_params=[], limit=limit, offset=offset))
    total = counts[0]["total"] if counts and counts[0]["is_total"] else 0
    by_owner = [{"owner": r["group"], "total": r["total"]} for r in counts if not r["is_total"]]
    return OpenNeeds(rows, total, by_owner)


def review_days(db) -> int:
    """The review period (定期更新) in days: the setting ``review_days``."""
    return settings.value(db, "review_days")


def not_reviewed(db, actor, days: int | None = None, limit: int = 50, offset: int = 0) -> CustomerList:
    """Customers the actor may read whose last review is older than ``days`` (default:
    the setting ``review_days``), the longest unreviewed first."""
    days = review_days(db) if days is None else days
    where, params = where_clause(actor, CustomerFilters(not_reviewed_days=days))
    scope = _scope(actor)

    def compute(cur) -> tuple[list[dict], int]:
        total = cur.execute(f"SELECT count(*) FROM customers c WHERE {where}", params).fetchone()[0]
        rows = _rows(cur, "SELECT c.id AS customer_id, c.code AS customer_code, c.name AS customer_name,"
                          " c.owner AS customer_owner, c.reviewed_at, c.version"
                          f" FROM customers c WHERE {where} ORDER BY c.reviewed_at NULLS FIRST, c.id"
                          " LIMIT ? OFFSET ?", [*params, *_page(limit, offset)])
        return rows, total

    with db.read() as cur:
        rows, total = _cached(db, cur, ("not_reviewed", scope[0], tuple(scope[1]), days, _minute(), limit, offset),
                              lambda: compute(cur))
    return CustomerList(rows, total, days)


def recently_changed(db, actor, days: int = RECENT_DAYS, limit: int = 50, offset: int = 0) -> CustomerList:
    """Customers with a change in the last ``days`` days — to the customer or any of its
    parts, as the audit log records it — the latest first, with who made the latest
    change and how many changes there were."""
    where, params = _scope(actor)
    since = utcnow() - timedelta(days=max(0, int(days)))
    recent = ("WITH recent AS (SELECT customer_id, max(changed_at) AS changed_at,"
              " arg_max(actor, id) AS changed_by, count(*) AS changes FROM audit_log"
              " WHERE changed_at >= ? GROUP BY customer_id)")
    body = f"FROM recent r JOIN customers c ON c.id = r.customer_id WHERE {where}"

    def compute(cur) -> tuple[list[dict], int]:
        # The page and the total in one pass over the audit log (the total as a window
        # over every match); a page past the end has no row to carry it, so count then.
        page = _rows(cur, f"{recent} SELECT c.id AS customer_id, r.changed_at, r.changed_by, r.changes,"
                          f" count(*) OVER () AS total {body} ORDER BY r.changed_at DESC, c.id DESC LIMIT ? OFFSET ?",
                     [since, *params, *_page(limit, offset)])
        if page:
            total = page[0]["total"]
        else:
            total = cur.execute(f"{recent} SELECT count(*) {body}", [since, *params]).fetchone()[0]
        for r in page:
            del r["total"]
        ids = [r["customer_id"] for r in page]
        named = {r["customer_id"]: r for r in _rows(
            cur, "SELECT id AS customer_id, code AS customer_code, name AS customer_name, owner AS customer_owner"
                 f" FROM customers WHERE id IN ({_in(ids)})", ids)} if ids else {}
        return [{**named[r["customer_id"]], **r} for r in page], total

    with db.read() as cur:
        rows, total = _cached(db, cur, ("recently_changed", where, tuple(params), int(days), _minute(), limit,
                                        offset), lambda: compute(cur))
    return CustomerList(rows, total, int(days))
