"""Server-side search over customers: one page of rows at a time, at any depth.

A results page runs two queries: the exact total, and a top-N (``ORDER BY key LIMIT
n+1``) that DuckDB evaluates over the sort columns of the matching rows and only then
fetches the winners' other columns; the join to the primary contact touches the page's
rows only. Paging is keyset: the cursor is the sort key of the page's last (or first)
row, so page 1,000 costs what page 1 costs.

The free-text query matches ``customers.search_text``: name, code, full pinyin and
initials, then the parts every field declared ``searchable`` contributes by its kind
(``lib.customers.customer.record_search_text``). The list filters are the fields
declared ``filter=True``. With a query, rows rank: exact code/USCC/phone, then exact
name or pinyin/initials, then prefix, then substring.

A relevance-ordered search with text is answered by the in-memory index
(``lib.customers.search_index``) once it is built, from the same ``Conditions`` and
``RankRule`` data the SQL here is rendered from; the SQL answers everything else. The
records of a page come from ``RecordCache`` when a recent search listed them.
"""
from __future__ import annotations

import base64
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Mapping

from rapidfuzz import fuzz

from lib.accounts import permissions as perm
from lib.core.clock import local_date_start_utc, utcnow
from lib.customers import fields as F
from lib.customers import search_index
from lib.customers.customer import (CHANGES, FIELD_CHANGES, customer_record_columns, merge_primary_contacts,
                                    primary_contact_rows)
from lib.core.errors import CustomerMasterError, ValidationError
from lib.core.text import SEP, digits, normalise_query, pinyin_keys
from lib.customers.kinds import parse_phone

PAGE_SIZES = (50, 100, 200)
MAX_PAGE_SIZE = 500
ARCHIVED_CHOICES = ("active", "archived", "all")


def list_filters() -> tuple[str, ...]:
    """Names of the fields the user can filter by value (declared ``filter=True``)."""
    return tuple(f.name for f in F.filter_fields())


@dataclass(frozen=True)
class CustomerFilters:
    """What the user asked for. ``choices``: field name -> the values to keep, for the
    declared filter fields (``list_filters()``); a missing or empty entry means "any"."""

    text: str = ""
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    created_from: date | None = None  # local (Asia/Shanghai) dates, inclusive
    created_to: date | None = None
    not_reviewed_days: int | None = None
    archived: str = "active"  # active | archived | all

    def chosen(self, name: str) -> tuple[str, ...]:
        """The non-empty values chosen for filter ``name``."""
        values = (self.choices or {}).get(name) or ()
        if isinstance(values, str):
            values = (values,)
        return tuple(v for v in values if isinstance(v, str) and v)

    @property
    def narrowed(self) -> bool:
        """Does anything here narrow the list beyond "all active customers"?"""
        return bool(self.text or any(self.chosen(n) for n in list_filters()) or self.created_from
                    or self.created_to or self.not_reviewed_days is not None or self.archived != "active")


@dataclass(frozen=True)
class PageRequest:
    size: int = 50
    after: str | None = None  # cursor: rows after this one (next page)
    before: str | None = None  # cursor: rows before this one (previous page)


@dataclass
class SearchResult:
    rows: list[dict]
    total: int
    next_cursor: str | None = None
    prev_cursor: str | None = None

    def __iter__(self):  # rows, total = search(...)
        return iter((self.rows, self.total))


# -- filters --------------------------------------------------------------------------------
def check_text(field: str, value: Any) -> None:
    """Refuse text DuckDB cannot take as a parameter (a lone surrogate such as "\\ud800"
    cannot be encoded as UTF-8) with the same typed error as any other bad input."""
    if isinstance(value, str) and any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValidationError(field, "validation.control_chars")


@dataclass(frozen=True)
class Conditions:
    """The rows a search may return, as data: the filters after checking, plus the
    actor's row scope. Rendered as SQL by ``conditions_sql`` and evaluated in memory by
    the search index, so both apply exactly the same rules."""

    owner: str | None  # only this owner's rows (a role that sees only its own)
    archived: str  # active | archived | all
    choices: tuple[tuple[str, tuple[str, ...]], ...]  # (column, allowed values), non-empty
    created_from: datetime | None  # UTC, inclusive
    created_before: datetime | None  # UTC, exclusive
    reviewed_before: datetime | None  # never reviewed, or reviewed before this (UTC)
    terms: tuple[str, ...]  # each must occur in search_text


def conditions(actor, filters: CustomerFilters, *, action: str = perm.CUSTOMER_READ) -> Conditions:
    """Check ``filters`` for ``actor`` (permission, known filters, sane values) and turn
    them into ``Conditions``; raises like ``where_clause``."""
    perm.require(actor, action)
    check_text("text", filters.text)
    if filters.archived not in ARCHIVED_CHOICES:
        raise CustomerMasterError("error.bad_filter", field="archived")
    unknown = set(filters.choices or {}) - set(list_filters())
    if unknown:
        raise CustomerMasterError("error.bad_filter", field=sorted(map(str, unknown))[0][:50])
    choices = []
    for f in F.filter_fields():
        values = filters.chosen(f.name)
        for v in values:
            check_text(f.name, v)
        if values:
            # Filter fields live in the customers table (a dimension of analytics too).
            choices.append((f.db_column, values))
    reviewed_before = None
    if filters.not_reviewed_days is not None:
        try:
            days = int(filters.not_reviewed_days)
        except (TypeError, ValueError):
            raise CustomerMasterError("error.bad_filter", field="not_reviewed_days") from None
        if days < 0 or days > 36500:
            raise CustomerMasterError("error.bad_filter", field="not_reviewed_days")
        reviewed_before = utcnow() - timedelta(days=days)
    return Conditions(
        owner=actor.username if perm.sees_only_own(actor, action) else None,
        archived=filters.archived,
        choices=tuple(choices),
        created_from=local_date_start_utc(filters.created_from) if filters.created_from else None,
        created_before=(local_date_start_utc(filters.created_to + timedelta(days=1))
                        if filters.created_to else None),
        reviewed_before=reviewed_before,
        terms=tuple(term[:200] for term in normalise_query(filters.text)[:8]),
    )


def conditions_sql(cond: Conditions) -> tuple[str, list[Any]]:
    """``cond`` as a WHERE clause over table alias ``c``, and its parameters."""
    conds: list[str] = ["c.merged_into IS NULL"]
    params: list[Any] = []
    if cond.owner is not None:
        conds.append("c.owner = ?")
        params.append(cond.owner)
    if cond.archived == "active":
        conds.append("NOT c.archived")
    elif cond.archived == "archived":
        conds.append("c.archived")
    for column, values in cond.choices:
        conds.append(f"c.{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)
    if cond.created_from:
        conds.append("c.created_at >= ?")
        params.append(cond.created_from)
    if cond.created_before:
        conds.append("c.created_at < ?")
        params.append(cond.created_before)
    if cond.reviewed_before:
        conds.append("(c.reviewed_at IS NULL OR c.reviewed_at < ?)")
        params.append(cond.reviewed_before)
    for term in cond.terms:
        conds.append("contains(c.search_text, ?)")
        params.append(term)
    return " AND ".join(conds), params


def where_clause(actor, filters: CustomerFilters, *, action: str = perm.CUSTOMER_READ) -> tuple[str, list[Any]]:
    """WHERE clause (over table alias ``c``) and parameters for the filters, including
    the actor's row scope. Shared by search and analytics so both count the same rows."""
    return conditions_sql(conditions(actor, filters, action=action))


# -- sorting ------------------------------------------------------------------------------
# Each sort: its key parts (name, SQL expression, Python type for the cursor). Every key
# ends with the id, so keys are unique and paging is stable.
_SORTS: dict[str, list[tuple[str, str, type]]] = {
    "updated_desc": [("u", "-epoch_us(c.updated_at)", int)],
    "created_desc": [("t", "-epoch_us(c.created_at)", int)],
    "name_asc": [("p", "c.name_pinyin", str), ("n", "c.name", str)],
    "code_asc": [("c", "c.code", str)],
    "credit_desc": [("l", "-coalesce(c.credit_limit, -1)", Decimal)],
    "reviewed_asc": [("v", "coalesce(epoch_us(c.reviewed_at), 0)", int)],
    "relevance": [("r", "{rank}", int), ("u", "-epoch_us(c.updated_at)", int)],
}
SORTS = tuple(_SORTS)


_LEGAL_SUFFIXES_ZH = ("", "股份有限公司", "有限公司", "有限责任公司", "集团有限公司", "集团", "公司")
_SUFFIX_INITIALS = tuple(dict.fromkeys(pinyin_keys(x)[1] if x else "" for x in _LEGAL_SUFFIXES_ZH))
_SUFFIX_PINYIN = tuple(dict.fromkeys(pinyin_keys(x)[0] if x else "" for x in _LEGAL_SUFFIXES_ZH))


@dataclass(frozen=True)
class RankRule:
    """Rows get ``rank`` when ``search_text`` starts with one of ``starts``, contains one
    of ``contains``, or holds one of ``parts`` as a whole part (between separators)."""

    rank: int
    starts: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()


def rank_rules(text: str) -> list[RankRule]:
    """The relevance of a row for query ``text``: the first rule that holds gives its
    rank, else 3. 0: an identifier typed in full; 1: the whole name, pinyin or
    initials; 2: the name or any other part starts with it; 3: a substring."""
    q = re.sub(r"\s+", " ", (text or "").strip().lower())[:200]
    q_compact = q.replace(" ", "")
    rules = []
    # 0: an identifier typed in full: a query with a digit that equals a whole part is a
    # code, a USCC or a phone number (pinyin and initials have no digits).
    idents = [q_compact] if re.fullmatch(r"[0-9a-z-]{4,40}", q_compact) and re.search(r"\d", q_compact) else []
    pv = parse_phone(text.strip()) if digits(q) and len(q) <= 40 else None
    if pv:
        idents.append(digits(pv.e164))
    if idents:
        rules.append(RankRule(0, contains=tuple(SEP + i + SEP for i in idents)))
    # 1: the whole name, or the whole pinyin or initials ("xmyh" is the whole of 厦门银行,
    # whose stored initials are "xmyhgfyxgs": accept the common legal suffixes).
    variants = tuple(dict.fromkeys([q_compact + x for x in _SUFFIX_INITIALS + _SUFFIX_PINYIN]))
    rules.append(RankRule(1, starts=(q + SEP,), parts=variants))
    # 2: the name, or any other part (pinyin, initials, code, phone...), starts with it.
    rules.append(RankRule(2, starts=(q,), contains=(SEP + q_compact,)))
    return rules


def _rank(filters: CustomerFilters) -> tuple[str, list[Any]]:
    """Relevance (``rank_rules``) as a CASE over ``search_text`` alone, the one column
    the match already loaded (each further column would add a scan of a million values:
    20-40 ms each at 1M rows, and even split_part() on this one cost ~15 ms). Relies on
    its layout (lib.core.text.search_text): the name first, whole parts separated by SEP."""
    params: list[Any] = []
    whens = []
    for rule in rank_rules(filters.text):
        tests = []
        for s in rule.starts:
            tests.append("starts_with(c.search_text, ?)")
            params.append(s)
        if rule.parts:
            tests.append("regexp_matches(c.search_text, ?)")
            params.append(SEP + "(" + "|".join(re.escape(v) for v in rule.parts) + ")" + SEP)
        for s in rule.contains:
            tests.append("contains(c.search_text, ?)")
            params.append(s)
        whens.append(f"WHEN {' OR '.join(tests)} THEN {rule.rank}")
    return "CASE " + " ".join(whens) + " ELSE 3 END", params


def _key_sql(sort: str, filters: CustomerFilters) -> tuple[str, list[Any]]:
    parts = _SORTS[sort]
    params: list[Any] = []
    exprs = []
    for name, expr, _ in parts:
        if expr == "{rank}":
            expr, rank_params = _rank(filters)
            params += rank_params
        exprs.append(f"'{name}': {expr}")
    exprs.append("'i': c.id")
    return "{" + ", ".join(exprs) + "}", params


def _order_sql(sort: str, filters: CustomerFilters) -> tuple[list[str], list[Any]]:
    """The key's parts as separate ORDER BY expressions (sorting by the parts is
    cheaper than by the struct)."""
    exprs, params = [], []
    for _, expr, _ in _SORTS[sort]:
        if expr == "{rank}":
            expr, rank_params = _rank(filters)
            params += rank_params
        exprs.append(expr)
    return exprs + ["c.id"], params


def encode_cursor(sort: str, key: Mapping[str, Any]) -> str:
    values = [str(v) if isinstance(v, Decimal) else v for v in key.values()]
    raw = json.dumps({"s": sort, "k": values}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(sort: str, cursor: str) -> dict[str, Any]:
    """The key dict behind a cursor; refuses a cursor of another sort or a forged one."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if data["s"] != sort:
            raise ValueError("sort changed")
        names = [n for n, _, _ in _SORTS[sort]] + ["i"]
        types = [t for _, _, t in _SORTS[sort]] + [int]
        values = data["k"]
        if len(values) != len(names):
            raise ValueError("bad length")
        out = {}
        for n, t, v in zip(names, types, values):
            if t is int and (not isinstance(v, int) or isinstance(v, bool)):
                raise ValueError("bad int")
            if t is str and not isinstance(v, str):
                raise ValueError("bad str")
            out[n] = Decimal(v) if t is Decimal else v
        return out
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, ArithmeticError) as exc:
        raise CustomerMasterError("error.bad_cursor") from exc


# -- search -------------------------------------------------------------------------------
def search(db, actor, filters: CustomerFilters = CustomerFilters(), sort: str | None = None,
           page: PageRequest = PageRequest()) -> SearchResult:
    """One page of customers matching ``filters`` plus the exact total.

    ``sort`` defaults to relevance when there is a text query, else most recently
    updated first. Only ``page.size`` rows are ever read in full."""
    if sort is None:
        sort = "relevance" if normalise_query(filters.text) else "updated_desc"
    if sort not in _SORTS:
        raise CustomerMasterError("error.bad_filter", field="sort")
    if sort == "relevance" and not normalise_query(filters.text):
        sort = "updated_desc"
    size = max(1, min(int(page.size), MAX_PAGE_SIZE))
    cond = conditions(actor, filters)
    where, where_params = conditions_sql(cond)
    key_sql, key_params = _key_sql(sort, filters)
    backwards = page.before is not None and page.after is None
    cursor_value = None
    if page.after is not None:
        cursor_value = decode_cursor(sort, page.after)
    elif page.before is not None:
        cursor_value = decode_cursor(sort, page.before)
    op = "<" if backwards else ">"
    limit = size + 1
    found = None
    if sort == "relevance":
        found = search_index.index(db).relevance_page(cond, rank_rules(filters.text), cursor_value, backwards, limit)
    if found is not None:
        steps = []
    elif normalise_query(filters.text):
        # The substring test is the costly part: evaluate it once, in one scan that
        # yields both the exact total and the page's keys.
        agg = "max_by" if backwards else "min_by"
        after = " FILTER (WHERE sort_key " + op + " ?)" if cursor_value is not None else ""
        steps = [(
            f"SELECT count(*), {agg}(sort_key, sort_key, {limit}){after}"
            f" FROM (SELECT {key_sql} AS sort_key FROM customers c WHERE {where})",
            [*([cursor_value] if cursor_value is not None else []), *key_params, *where_params],
        )]
    else:
        # Filters alone are cheap to evaluate twice; a plain count plus a top-N over the
        # sort columns beats one aggregate carrying keys for every row.
        order_exprs, order_params = _order_sql(sort, filters)
        keyset = f" AND {key_sql} {op} ?" if cursor_value is not None else ""
        direction = " DESC" if backwards else ""
        steps = [
            (f"SELECT count(*) FROM customers c WHERE {where}", where_params),
            (f"SELECT {key_sql} AS sort_key FROM customers c WHERE {where}{keyset}"
             f" ORDER BY {', '.join(e + direction for e in order_exprs)} LIMIT {limit}",
             [*key_params, *where_params, *([*key_params, cursor_value] if cursor_value is not None else []),
              *order_params]),
        ]
    cache = db.service("search_records", RecordCache)
    seen = cache.version()  # before the read: a write noted after it keeps its rows out
    with db.read() as cur:
        if found is not None:  # the in-memory index answered (lib.customers.search_index)
            total, keys = found
        else:
            first = cur.execute(*steps[0]).fetchone()
            total = first[0]
            keys = (first[1] or []) if len(steps) == 1 else [r[0] for r in cur.execute(*steps[1]).fetchall()]
        more = len(keys) > size  # one key beyond the page says whether another page exists
        keys = keys[:size]
        if backwards:
            keys.reverse()
        ids = [k["i"] for k in keys]
        cached = cache.get(ids)
        missing = [i for i in ids if i not in cached]
        if missing:
            # The contacts need only the ids: read them beside the rows (50 random rows
            # and their contacts at 1M: 7 + 5 ms one after the other, 7 ms side by side).
            contacts = db.read_beside(lambda other: primary_contact_rows(other, missing))
            try:
                fetched = fetch_records(cur, missing)
            finally:
                found_contacts = contacts.result()
            merge_primary_contacts(fetched, found_contacts)
            cache.put(fetched, seen)
            cached.update((r["id"], r) for r in fetched)
        rows = [cached[i] for i in ids if i in cached]
    next_cursor = prev_cursor = None
    if keys:
        first, last = keys[0], keys[-1]
        if backwards:
            prev_cursor = encode_cursor(sort, first) if more else None
            next_cursor = encode_cursor(sort, last)
        else:
            next_cursor = encode_cursor(sort, last) if more else None
            prev_cursor = encode_cursor(sort, first) if cursor_value is not None else None
    return SearchResult(rows=rows, total=total, next_cursor=next_cursor, prev_cursor=prev_cursor)


class RecordCache:
    """The records (with their primary contact) of recently listed customers, so a page
    of results does not re-read them: reading 50 wide rows costs DuckDB 6-9 ms however it
    is asked, most of a search once the index found them. An entry is dropped when a
    write to its customer commits (the change notes of ``lib.core.db``); rows read in a
    transaction that began before a later note are not kept (``version``)."""

    MAX = 20_000

    def __init__(self, db):
        self._lock = threading.Lock()
        self._rows: OrderedDict[int, dict] = OrderedDict()
        self._version = 0
        db.on_commit(CHANGES, self._noted)
        db.on_commit(FIELD_CHANGES, lambda keys: self._noted([None]))

    def _noted(self, keys: list[Any]) -> None:
        with self._lock:
            self._version += 1
            if any(k is None for k in keys):
                self._rows.clear()
            for k in keys:
                self._rows.pop(k, None)

    def version(self) -> int:
        return self._version

    def get(self, ids: list[int]) -> dict[int, dict]:
        """Copies of the cached records among ``ids``."""
        with self._lock:
            out = {}
            for i in ids:
                r = self._rows.get(i)
                if r is not None:
                    self._rows.move_to_end(i)
                    out[i] = dict(r)
            return out

    def put(self, rows: list[dict], seen: int) -> None:
        """Keep ``rows``, read after ``version()`` returned ``seen``, unless a write was
        noted since."""
        with self._lock:
            if self._version != seen:
                return
            for r in rows:
                self._rows[r["id"]] = dict(r)
            while len(self._rows) > self.MAX:
                self._rows.popitem(last=False)


def fetch_records(cur, ids: list[int]) -> list[dict]:
    """Whole customer rows for ``ids``, in that order (an index look-up per id)."""
    if not ids:
        return []
    sql = f"SELECT {customer_record_columns()} FROM customers c WHERE c.id IN ({', '.join('?' * len(ids))})"
    res = cur.execute(sql, ids)
    cols = [d[0] for d in res.description]
    by_id = {r[0]: dict(zip(cols, r)) for r in res.fetchall()}
    return [by_id[i] for i in ids if i in by_id]


# -- duplicate check at entry -------------------------------------------------------------
_LEGAL_SUFFIX = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|集团|公司|分公司|"
    r"co\.?,?\s*ltd\.?|company|limited|ltd\.?|inc\.?|corp\.?|corporation|group|llc)\s*$",
    re.I,
)
_PLACE_PREFIX = re.compile(r"^(北京|上海|天津|重庆|深圳|广州|杭州|南京|苏州|成都|武汉|西安|厦门|青岛|宁波|"
                           r"[\u4e00-\u9fff]{2}(省|市|自治区))")


def name_core(name: str) -> str:
    """The distinctive part of a company name: without legal suffixes and a leading city."""
    core = (name or "").strip()
    for _ in range(3):
        new = _LEGAL_SUFFIX.sub("", core).strip(" ,.，")
        if new == core:
            break
        core = new
    stripped = _PLACE_PREFIX.sub("", core)
    return (stripped if len(stripped) >= 2 else core).lower()


@dataclass
class DuplicateMatch:
    id: int | None  # None when the actor may not open the record
    code: str
    name: str
    owner: str
    reasons: tuple[str, ...]  # uscc | phone | name | pinyin | similar_name
    score: float
    archived: bool = False
    visible: bool = True  # False: someone else's customer — only name, code, owner shown


_DUPLICATE_CANDIDATES = 200  # customers read and compared at most for one check


def find_duplicates(db, actor, values: Mapping[str, Any], *, exclude_id: int | None = None,
                    limit: int = 10) -> list[DuplicateMatch]:
    """Existing customers that look like the one being entered: same USCC, same
    normalised phone (company or contact), same or similar name, same pinyin.

    Searches all customers, whoever owns them, so a salesperson learns a match exists;
    for customers the actor may not read it shows only name, code and owner."""
    perm.require(actor, perm.CUSTOMER_CREATE if exclude_id is None else perm.CUSTOMER_READ)
    for key in ("name", "uscc", "phone", "contact_phone"):
        check_text(key, values.get(key))
    name = str(values.get("name") or "").strip()[:200]
    uscc = re.sub(r"[\s-]", "", str(values.get("uscc") or "")).upper()[:18]
    phones = []
    for key in ("phone", "contact_phone"):
        raw = str(values.get(key) or "").strip()[:40]
        pv = parse_phone(raw) if raw else None
        if pv:
            phones.append(pv.e164)
    core = name_core(name) if name else ""
    full = pinyin_keys(name)[0] if name else ""
    conds, params = [], []
    if len(uscc) == 18:
        conds.append("c.uscc_key = ?")
        params.append(uscc)
    if phones:
        marks = ", ".join("?" * len(phones))
        conds.append(f"c.phone_e164 IN ({marks})")
        params += phones
        conds.append(f"c.id IN (SELECT customer_id FROM contacts WHERE phone_e164 IN ({marks}) AND NOT deleted)")
        params += phones
    if name:
        conds.append("lower(c.name) = ?")
        params.append(name.lower())
    if len(full) >= 4:
        conds.append("c.name_pinyin = ?")
        params.append(full)
    if len(core) >= 2:
        conds.append("contains(c.search_text, ?)")
        params.append(core)
    if not conds:
        return []
    select = ("SELECT c.id, c.code, c.name, c.owner, c.archived, c.uscc_key, c.phone_e164, c.name_pinyin,"
              " (SELECT list(phone_e164) FROM contacts p WHERE p.customer_id = c.id AND NOT p.deleted)"
              " AS contact_phones FROM customers c WHERE c.merged_into IS NULL AND c.id IS DISTINCT FROM ?")
    # The in-memory search index finds the candidates (every condition above is a part
    # of the search text, which is lower-case: the name first, the full pinyin a part,
    # each phone's E.164 digits a part), the USCC its unique index; only they are read.
    # The same conditions as SQL are one scan of every customer's search text (at 1M:
    # ~180 ms, ~340 ms of CPU on two cores), used while the index is not built.
    exact = search_index.index(db).ids_containing(
        [*([SEP + full + SEP] if len(full) >= 4 else []), *(SEP + digits(e) for e in phones)],
        starts=[name.lower() + SEP] if name else [])
    with db.read() as cur:
        if exact is None:
            rows = cur.execute(f"{select} AND ({' OR '.join(conds)}) LIMIT {_DUPLICATE_CANDIDATES}",
                               [exclude_id, *params]).fetchall()
        else:
            if len(uscc) == 18:
                exact += [r[0] for r in cur.execute("SELECT id FROM customers WHERE uscc_key = ?", [uscc]).fetchall()]
            similar = search_index.index(db).ids_containing([core]) if len(core) >= 2 else []
            ids = list(dict.fromkeys([*exact, *(similar or [])]))[:_DUPLICATE_CANDIDATES]  # the exact ones first
            rows = cur.execute(f"{select} AND c.id IN ({', '.join('?' * len(ids))})",
                               [exclude_id, *ids]).fetchall() if ids else []
    matches = []
    for cid, code, other, owner, archived, o_uscc, o_phone, o_pinyin, o_contact_phones in rows:
        reasons = []
        if uscc and o_uscc == uscc:
            reasons.append("uscc")
        if phones and (o_phone in phones or any(p in phones for p in (o_contact_phones or []))):
            reasons.append("phone")
        if name and other.lower() == name.lower():
            reasons.append("name")
        elif full and o_pinyin == full:
            reasons.append("pinyin")
        score = float(fuzz.ratio(core, name_core(other))) if core else 0.0
        if not reasons and score >= 60:
            reasons.append("similar_name")
        if not reasons:
            continue
        strength = 100 * ("uscc" in reasons) + 90 * ("phone" in reasons) + 80 * ("name" in reasons) \
            + 70 * ("pinyin" in reasons) + score / 10
        visible = perm.can(actor, perm.CUSTOMER_READ, {"owner": owner})
        matches.append((strength, DuplicateMatch(cid if visible else None, code, other, owner, tuple(reasons),
                                                 score, archived, visible)))
    matches.sort(key=lambda m: -m[0])
    return [m for _, m in matches[:limit]]
