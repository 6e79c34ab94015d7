"""The duplicate finder over the whole customer base (重复客户): groups of live customers
that are probably one and the same, ranked by confidence, one page at a time.

A group is a set of customers sharing one of:

* ``uscc`` — the same USCC (the unique ``uscc_key`` keeps live customers from sharing
  one through the write path; rows written around it, e.g. by an import, still show);
* ``phone`` — the same E.164 number, as a company phone, a contact's phone or a
  contact's mobile (``lib.customers.kinds`` stores the E.164 form beside what was typed);
* ``name`` — the same normalised company name (``name_key``): case, full/half width,
  punctuation and spaces, legal suffixes (有限公司, 股份有限公司, Co., Ltd., …) and where a
  city sits (北京某某科技 = 某某科技（北京）) do not count;
* ``pinyin`` — the same pinyin of that name, written with other characters (凯铭 / 凯明);
* ``similar_name`` — company names whose cores (the name without its city) are very
  similar by ``rapidfuzz`` (``fuzz.ratio`` ≥ ``SIMILAR_MIN``). Candidates are compared only
  inside blocks (the same first characters, or the same pinyin initials), never all pairs.

Individuals (customer_type ``individual``) are grouped by USCC and phone only: people
share names far more often than companies do.

The name keys cost Python time (regular expressions and a pinyin table, ~10 µs a name),
so they are precomputed in the ``duplicate_keys`` table (migration 9) and brought up to
date before each grouping (``refresh_keys``): a row missing, or computed from another
name or an older ``RULE``, is recomputed, whatever path wrote the customer. The groups
themselves are found by a few GROUP BY queries in DuckDB and rapidfuzz, and the answer
is kept per scope (``GroupCache``), so paging is free; on a large base it is found
again in a background thread after writes, and the page shows the last answer with its
time meanwhile (``GroupPage.as_of``, ``refreshing``, ``preparing``).

Scope: a salesperson (``customer.read`` scope own) gets the groups among their own
customers only; everyone else the groups over all customers.
"""
from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

import pyarrow as pa
from rapidfuzz import fuzz, process

from lib.accounts import permissions as perm
from lib.core.clock import utcnow
from lib.customers.customer import CHANGES
from lib.customers.search import DuplicateMatch, find_duplicates

log = logging.getLogger(__name__)

RULE = 2  # the normaliser's version: a change here recomputes every stored key
SIMILAR_MIN = 85  # fuzz.ratio of two name cores that makes them "very similar"
PREFIX = 3  # similar-name candidates: cores that start with the same characters ...
BLOCK_MAX = 2000  # ... a larger block of candidates is compared in parts (see _split)
PAGE_SIZE = 20
KEYS_VIEW = "duplicate_keys_now"  # the company keys of one grouping, registered on its cursor
# More stale name keys than this (a first visit after a bulk load, say: ~20 s at 1M)
# are computed in a background thread; the page says so instead of waiting.
BACKGROUND_AFTER = 50_000

# How much each reason says, 0-100; a group with several reasons gets the strongest
# plus ``EXTRA_REASON`` for each further one.
CONFIDENCE = {"uscc": 100, "phone": 90, "name": 85, "pinyin": 75}
EXTRA_REASON = 5
REASONS = ("uscc", "phone", "name", "pinyin", "similar_name")

# -- normalising a company name ----------------------------------------------------------------
_SUFFIX = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|集团有限公司|集团公司|集团|总公司|分公司|公司|"
    r"co\.?,?\s*ltd\.?|co\.?,?\s*limited|company\s+limited|company|limited|ltd\.?|inc\.?|incorporated|"
    r"corp\.?|corporation|group|llc|plc|gmbh)\s*$",
    re.I,
)
_PLACES = (
    "北京|上海|天津|重庆|深圳|广州|杭州|南京|苏州|成都|武汉|西安|厦门|青岛|宁波|东莞|佛山|珠海|合肥|"
    "长沙|郑州|济南|沈阳|大连|哈尔滨|长春|石家庄|太原|呼和浩特|南昌|福州|昆明|贵阳|南宁|海口|兰州|"
    "西宁|银川|乌鲁木齐|拉萨|无锡|常州|温州|绍兴|嘉兴|中山|惠州|香港|澳门|台北|广东|江苏|浙江|山东|"
    "河南|河北|湖南|湖北|四川|福建|安徽|江西|辽宁|吉林|黑龙江|山西|陕西|云南|贵州|广西|海南|甘肃|"
    "青海|宁夏|新疆|西藏|内蒙古"
)
# Any other place: two or three characters and 省/市/自治区 (not 市政, 市场: 某某市政工程).
_PLACE = rf"(?:{_PLACES})(?:省|市(?!政|场)|自治区)?|[\u4e00-\u9fff]{{2,3}}(?:省|市(?!政|场)|自治区)"
_PLACE_PREFIX = re.compile(rf"^({_PLACE})")
# A bracketed place anywhere, e.g. 某某科技（北京）: after NFKC the brackets are ASCII.
_PLACE_BRACKET = re.compile(rf"\(({_PLACE})\)")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class NameKeys:
    """What the finder compares of a name: ``name_key`` (place and core), ``core`` (no
    place), ``sound`` (full pinyin of the name key) and ``block`` (pinyin initials of
    the core: the candidates ``similar_name`` compares)."""

    name_key: str
    core: str
    sound: str
    block: str


def _strip_suffixes(s: str) -> str:
    for _ in range(4):
        new = _SUFFIX.sub("", s).strip(" ,.，、-")
        if new == s:
            break
        s = new
    return s


def name_keys(name: str) -> NameKeys:
    """The keys of one name. ``北京某某科技有限公司`` and ``某某科技（北京）股份有限公司`` have
    the same ``name_key``; ``ACME Co., Ltd.`` and ``Acme Ltd`` too."""
    s = unicodedata.normalize("NFKC", name or "").strip().lower()
    place = ""
    bracket = _PLACE_BRACKET.search(s)
    if bracket:
        place = bracket.group(1)
        s = (s[:bracket.start()] + s[bracket.end():]).strip()
    s = _strip_suffixes(s)
    if not place:
        prefix = _PLACE_PREFIX.match(s)
        if prefix and len(s) - prefix.end() >= 2:
            place = prefix.group(1)
            s = s[prefix.end():]
    s = _strip_suffixes(s)
    core = _NOT_WORD.sub("", s)
    place = re.sub(r"(省|市|自治区)$", "", place)
    if not core:  # nothing but a suffix or a place: the whole name, normalised
        core = _NOT_WORD.sub("", unicodedata.normalize("NFKC", name or "").lower())
    key = f"{place}{core}" if place else core
    return NameKeys(key, core, _sound(key), _initials(core))


@functools.lru_cache(maxsize=1)
def _char_pinyin() -> dict[str, str]:
    """Each Chinese character's first reading without tone (pypinyin's character table),
    built once. A key needs only the same answer for the same character: a word-aware
    reading (``lib.core.text.pinyin_keys``, ~0.1 ms a name) would cost minutes at 1M."""
    from pypinyin.pinyin_dict import pinyin_dict

    out = {}
    for code, readings in pinyin_dict.items():
        first = readings.split(",")[0]
        plain = "".join(ch for ch in unicodedata.normalize("NFKD", first) if not unicodedata.combining(ch))
        out[chr(code)] = plain.lower()
    return out


def _sound(text: str) -> str:
    table = _char_pinyin()
    return "".join(table.get(ch, ch) for ch in text)


def _initials(core: str) -> str:
    # Latin cores block by their first three letters (pinyin initials of Latin text
    # would be the whole word, and a typo in it would leave the block).
    if not re.search(r"[\u4e00-\u9fff]", core):
        return core[:3]
    table = _char_pinyin()
    return "".join((table.get(ch) or ch)[:1] for ch in core)


# -- keeping the keys ----------------------------------------------------------------------------
_KEY_SCHEMA = pa.schema([("customer_id", pa.int64()), ("name", pa.string()), ("rule", pa.int32()),
                         ("name_key", pa.string()), ("sound_key", pa.string()), ("core_key", pa.string()),
                         ("block_key", pa.string())])


_STALE = ("FROM customers c LEFT JOIN duplicate_keys k ON k.customer_id = c.id"
          " WHERE c.merged_into IS NULL AND (k.customer_id IS NULL OR k.name <> c.name OR k.rule <> ?)")


def stale_keys(db) -> int:
    """How many live customers' name keys are missing or out of date."""
    with db.read() as cur:
        return cur.execute(f"SELECT count(*) {_STALE}", [RULE]).fetchone()[0]


def refresh_keys(db, chunk: int = 100_000) -> int:
    """Bring ``duplicate_keys`` up to date with the live customers' names; returns how
    many rows were (re)computed. Safe to run at any time and from several sessions.
    Works through ``chunk`` customers at a time (one transaction each), so a first run
    over a million names holds one chunk in memory, not all of them."""
    done = 0
    with db.read() as cur:
        res = cur.execute(f"SELECT c.id, c.name {_STALE} ORDER BY c.id", [RULE])
        while rows := res.fetchmany(chunk):
            _store_keys(db, rows)
            done += len(rows)
    return done


def _store_keys(db, rows: list[tuple[int, str]]) -> None:
    cols: dict[str, list] = {n: [] for n in _KEY_SCHEMA.names}
    for cid, name in rows:
        k = name_keys(name)
        for col, v in (("customer_id", cid), ("name", name), ("rule", RULE), ("name_key", k.name_key),
                       ("sound_key", k.sound), ("core_key", k.core), ("block_key", k.block)):
            cols[col].append(v)
    table = pa.table(cols, schema=_KEY_SCHEMA)

    def work(cur):
        # A name changed again since the read is caught by the next refresh (the row
        # keeps the name it was computed from).
        cur.register("fresh_keys", table)
        try:
            cur.execute("INSERT OR REPLACE INTO duplicate_keys SELECT * FROM fresh_keys")
        finally:
            cur.unregister("fresh_keys")

    db.run_in_transaction(work)


# -- groups ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """Customers that are probably one (ids ascending), why, and how sure (0-100)."""

    ids: tuple[int, ...]
    reasons: tuple[str, ...]
    confidence: int
    values: tuple[str, ...]  # what they share, one per reason (USCC, phone, name key, …)


@dataclass
class Member:
    id: int
    code: str
    name: str
    owner: str
    version: int
    archived: bool
    uscc: str | None
    phone: str | None


@dataclass
class GroupPage:
    groups: list[tuple[Group, list[Member]]]  # each group with the members the actor may read
    total: int
    offset: int
    size: int
    preparing: int = 0  # > 0: the first grouping runs in the background (over this many customers)
    refreshing: bool = False  # a newer grouping is being found in the background
    as_of: datetime | None = None  # when the groups shown were found (UTC)

    @property
    def rows(self) -> list[tuple[Group, list[Member]]]:  # a paged result, as ui.widgets.paged reads it
        return self.groups


def _scope_sql(owner: str | None) -> tuple[str, list]:
    return (" AND c.owner = ?", [owner]) if owner is not None else ("", [])


def _uscc_groups(cur, owner):
    scope, params = _scope_sql(owner)
    return cur.execute(
        "SELECT c.uscc, list(c.id ORDER BY c.id) FROM customers c WHERE c.merged_into IS NULL AND c.uscc IS NOT NULL"
        f"{scope} GROUP BY c.uscc HAVING count(*) > 1", params).fetchall()


def _phone_groups(cur, owner):
    scope, params = _scope_sql(owner)
    return cur.execute(
        "WITH p AS ("
        " SELECT id AS cid, phone_e164 AS e FROM customers WHERE phone_e164 IS NOT NULL AND merged_into IS NULL"
        " UNION SELECT customer_id, phone_e164 FROM contacts WHERE phone_e164 IS NOT NULL AND NOT deleted"
        " UNION SELECT customer_id, mobile_e164 FROM contacts WHERE mobile_e164 IS NOT NULL AND NOT deleted)"
        " SELECT p.e, list(DISTINCT p.cid ORDER BY p.cid) FROM p JOIN customers c ON c.id = p.cid"
        f" WHERE c.merged_into IS NULL{scope} GROUP BY p.e HAVING count(DISTINCT p.cid) > 1", params).fetchall()


def _company_keys(cur, owner):
    """The live companies' keys (of ``owner``), read once as Arrow: the groupings below
    run over this table instead of each joining customers to duplicate_keys again."""
    scope, params = _scope_sql(owner)
    return cur.sql(
        "SELECT c.id, k.name_key, k.sound_key, k.core_key, k.block_key FROM duplicate_keys k"
        " JOIN customers c ON c.id = k.customer_id AND c.name = k.name"
        f" WHERE c.merged_into IS NULL AND c.customer_type = 'company'{scope}", params=params).to_arrow_table()


def _name_groups(cur, keys: str):
    return cur.execute(f"SELECT name_key, list(id ORDER BY id) FROM {keys} GROUP BY name_key HAVING count(*) > 1"
                       ).fetchall()


def _pinyin_groups(cur, keys: str):
    return cur.execute(
        f"SELECT sound_key, list(id ORDER BY id) FROM {keys} WHERE sound_key <> name_key"
        " GROUP BY sound_key HAVING count(DISTINCT name_key) > 1").fetchall()


def _core_groups(cur, keys: str):
    """The same core in other places (北京永迅纺织 / 上海永迅纺织): very similar names."""
    return cur.execute(f"SELECT core_key, list(id ORDER BY id) FROM {keys} GROUP BY core_key"
                       " HAVING count(DISTINCT name_key) > 1").fetchall()


def _similar_groups(cur, keys: str) -> list[tuple[str, list[int], int]]:
    """(a core, ids, lowest score) per cluster of very similar name cores.

    Blocking: a core is compared only with the cores of its blocks — those starting
    with the same ``PREFIX`` characters, and those with the same pinyin initials
    (``block_key``: catches other characters of the same sound anywhere) — with
    ``rapidfuzz.process.cdist``; pairs scoring ``SIMILAR_MIN`` or more join one cluster
    (union-find over all blocks). Only blocks holding two or more different cores come
    back from DuckDB, each core once with its customers."""
    rows = cur.execute(
        f"WITH cores AS (SELECT core_key, any_value(block_key) AS block_key, list(id) AS ids FROM {keys}"
        " GROUP BY core_key)"
        f" SELECT left(core_key, {PREFIX}) AS b, list(core_key), list(ids) FROM cores GROUP BY b HAVING count(*) > 1"
        " UNION ALL SELECT block_key, list(core_key), list(ids) FROM cores GROUP BY block_key HAVING count(*) > 1"
    ).fetchall()
    ids_of: dict[str, list[int]] = {}
    parent: dict[str, str] = {}
    score_of: dict[str, int] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for _block, cores, ids in rows:
        for core, its in zip(cores, ids):
            ids_of[core] = its
        for part in _split(sorted(cores), PREFIX):
            if len(part) < 2:
                continue
            scores = process.cdist(part, part, scorer=fuzz.ratio, score_cutoff=SIMILAR_MIN, dtype="uint8")
            for a, b in zip(*(x.tolist() for x in scores.nonzero())):
                if a < b:
                    ra, rb = find(part[a]), find(part[b])
                    if ra != rb:
                        parent[rb] = ra
                        score_of[ra] = min(score_of.get(ra, 100), score_of.get(rb, 100), int(scores[a, b]))
                    else:
                        score_of[ra] = min(score_of.get(ra, 100), int(scores[a, b]))
    clusters: dict[str, list[str]] = defaultdict(list)
    for core in parent:
        clusters[find(core)].append(core)
    for root in list(clusters):
        if root not in clusters[root]:
            clusters[root].append(root)
    return [(root, sorted({i for c in cores for i in ids_of[c]}), score_of.get(root, SIMILAR_MIN))
            for root, cores in clusters.items()]


def _split(cores: list[str], length: int) -> Iterable[list[str]]:
    """A block of more than ``BLOCK_MAX`` cores is compared in parts sharing one more
    leading character (a typo right there then goes unnoticed; the cost stays bounded)."""
    if len(cores) <= BLOCK_MAX or length > 12:
        yield cores
        return
    parts: dict[str, list[str]] = defaultdict(list)
    for c in cores:
        parts[c[:length + 1]].append(c)
    for p in parts.values():
        yield from _split(p, length + 1)


def _similar_confidence(score: int) -> int:
    """A similarity of 85-100 maps to 60-74: below the same name written otherwise."""
    return 60 + (score - SIMILAR_MIN) * 14 // (100 - SIMILAR_MIN)


def find_groups(db, owner: str | None) -> list[Group]:
    """Every group of likely duplicates among the live customers (of ``owner``, if
    given), strongest first. Refreshes the name keys first. Prefer ``duplicate_groups``,
    which checks the actor and caches."""
    refresh_keys(db)
    found: dict[tuple[int, ...], dict[str, Any]] = {}

    def add(ids, reason, value, confidence):
        key = tuple(sorted(set(ids)))
        if len(key) < 2:
            return
        g = found.setdefault(key, {"reasons": {}, "conf": []})
        if reason not in g["reasons"]:
            g["reasons"][reason] = str(value)
            g["conf"].append(confidence)

    with db.read() as cur:
        for value, ids in _uscc_groups(cur, owner):
            add(ids, "uscc", value, CONFIDENCE["uscc"])
        for value, ids in _phone_groups(cur, owner):
            add(ids, "phone", value, CONFIDENCE["phone"])
        cur.register(KEYS_VIEW, _company_keys(cur, owner))
        try:
            for value, ids in _name_groups(cur, KEYS_VIEW):
                add(ids, "name", value, CONFIDENCE["name"])
            for value, ids in _pinyin_groups(cur, KEYS_VIEW):
                add(ids, "pinyin", value, CONFIDENCE["pinyin"])
            similar = [(core, ids, 100) for core, ids in _core_groups(cur, KEYS_VIEW)]
            similar += _similar_groups(cur, KEYS_VIEW)
        finally:
            cur.unregister(KEYS_VIEW)
    for core, ids, score in similar:
        add(ids, "similar_name", core, _similar_confidence(score))
    groups = []
    for ids, g in found.items():
        order = sorted(g["reasons"], key=REASONS.index)
        conf = sorted(g["conf"], reverse=True)
        confidence = min(100, conf[0] + EXTRA_REASON * (len(conf) - 1))
        groups.append(Group(ids, tuple(order), confidence, tuple(g["reasons"][r] for r in order)))
    # Strongest first; then the smaller group (a pair is easier to judge), then the oldest.
    groups.sort(key=lambda g: (-g.confidence, len(g.ids), g.ids))
    return groups


@dataclass(frozen=True)
class _Answer:
    groups: list[Group]
    version: int  # the cache's write count when the grouping started
    at: datetime  # when the grouping started (UTC)


class GroupCache:
    """The groups per scope (all, or one owner), found again after committed customer
    writes (any write may make or break a group: a name, a phone, a contact, a merge).

    Up to ``SYNC_MAX`` live customers (and ``BACKGROUND_AFTER`` stale keys) the request
    that finds the answer out of date computes it.
    Above, grouping takes seconds (~6-15 s at 1M, docs/benchmarks.md), so it runs in a
    background thread per scope: the page gets the last answer, marked with its time,
    while the next one is found, or "preparing" when there is none yet. Members are
    read fresh for each page, so a merged or changed customer never shows stale data;
    only which customers form a group may lag a write by one grouping."""

    MAX = 16

    def __init__(self, db):
        self._lock = threading.Lock()
        self._answers: dict[str | None, _Answer] = {}
        self._workers: dict[str | None, threading.Thread] = {}
        self._version = 0
        db.on_commit(CHANGES, self._noted)

    def _noted(self, _keys: list[Any]) -> None:
        with self._lock:
            self._version += 1

    def get(self, db, owner: str | None) -> tuple[_Answer | None, bool, int]:
        """(the answer to show or None, whether a newer one is being found, and when
        there is no answer yet, how many customers the first grouping covers)."""
        with self._lock:
            hit = self._answers.get(owner)
            version = self._version
            busy = owner in self._workers and self._workers[owner].is_alive()
        if hit is not None and hit.version == version:
            return hit, False, 0
        if busy:
            return hit, True, 0 if hit else max(_live_customers(db), 1)
        live = _live_customers(db)
        if live > SYNC_MAX or stale_keys(db) > BACKGROUND_AFTER:
            self._start(db, owner)
            return hit, True, 0 if hit else max(live, 1)
        return self._compute(db, owner), False, 0

    def _compute(self, db, owner: str | None) -> _Answer:
        with self._lock:
            version = self._version
        answer = _Answer(find_groups(db, owner), version, utcnow())
        with self._lock:
            current = self._answers.get(owner)
            if current is None or current.version <= version:
                if owner not in self._answers and len(self._answers) >= self.MAX:
                    self._answers.clear()
                self._answers[owner] = answer
        return answer

    def _start(self, db, owner: str | None) -> None:
        with self._lock:
            if owner in self._workers and self._workers[owner].is_alive():
                return
            worker = threading.Thread(target=self._background, args=(db, owner), daemon=True,
                                      name=f"duplicate-groups-{owner or 'all'}")
            self._workers[owner] = worker
            worker.start()

    def _background(self, db, owner: str | None) -> None:
        try:
            self._compute(db, owner)
        except Exception:  # noqa: BLE001 - a background thread: log it; the next visit starts another
            log.exception("finding duplicate groups failed")

    def wait(self) -> None:
        """Wait for the background groupings running now (tests, the bench)."""
        with self._lock:
            workers = list(self._workers.values())
        for w in workers:
            w.join()


SYNC_MAX = 50_000  # live customers up to which a request groups them itself (~0.3 s)


def _live_customers(db) -> int:
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM customers WHERE merged_into IS NULL").fetchone()[0]


def duplicate_groups(db, actor, *, offset: int = 0, size: int = PAGE_SIZE) -> GroupPage:
    """One page of duplicate groups the actor may see, strongest first, with their
    members' codes, names, owners and versions as stored now (what a merge needs), and
    the total. A group of which fewer than two members are still live is left out.

    A salesperson sees groups among their own customers only."""
    perm.require(actor, perm.CUSTOMER_READ)
    owner = actor.username if perm.sees_only_own(actor) else None
    size = max(1, min(int(size), 100))
    offset = max(0, int(offset))
    answer, refreshing, preparing = db.service("duplicate_groups", GroupCache).get(db, owner)
    if answer is None:
        return GroupPage([], 0, offset, size, preparing=preparing, refreshing=refreshing)
    groups = answer.groups
    page = groups[offset:offset + size]
    ids = sorted({i for g in page for i in g.ids})
    members: dict[int, Member] = {}
    if ids:
        with db.read() as cur:
            rows = cur.execute(
                "SELECT id, code, name, owner, version, archived, uscc, phone FROM customers"
                f" WHERE id IN ({', '.join('?' * len(ids))}) AND merged_into IS NULL", ids).fetchall()
        members = {r[0]: Member(*r) for r in rows}
    out = []
    for g in page:
        shown = [members[i] for i in g.ids
                 if i in members and perm.can(actor, perm.CUSTOMER_READ, {"owner": members[i].owner})]
        if len(shown) >= 2:
            out.append((g, shown))
    return GroupPage(out, len(groups), offset, size, refreshing=refreshing, as_of=answer.at)


# -- after an edit -------------------------------------------------------------------------------
# The fields whose change may make a customer look like another (find_duplicates reads them).
WATCHED = ("name", "uscc", "phone", "contact_phone")


def looks_like(db, actor, values: Mapping[str, Any], *, exclude_id: int | None = None, limit: int = 10,
               by_name_key: bool = True) -> list:
    """Customers that the one entered or edited (``values`` by field name) may be: the
    entry check (``lib.customers.search.find_duplicates``: USCC, phones, name, pinyin,
    similar name), plus, for a company (``by_name_key``), the finder's own name key over
    the stored keys (北京某某科技 = 某某科技（北京）, ``name_keys``), which the entry
    check's text search misses when the city is in brackets. A key not refreshed since
    its customer's rename does not match (the join on the name), so nothing stale is
    shown; a customer entered since the last refresh has no key yet."""
    found = find_duplicates(db, actor, values, exclude_id=exclude_id, limit=limit)
    name = str(values.get("name") or "").strip()
    if not by_name_key or values.get("customer_type", "company") != "company" or not name:
        return found
    key = name_keys(name).name_key
    known = {m.code for m in found}
    with db.read() as cur:
        rows = cur.execute(
            "SELECT c.id, c.code, c.name, c.owner, c.archived FROM duplicate_keys k"
            " JOIN customers c ON c.id = k.customer_id AND c.name = k.name"
            " WHERE k.name_key = ? AND c.id IS DISTINCT FROM ? AND c.merged_into IS NULL"
            " AND c.customer_type = 'company' ORDER BY c.id LIMIT ?", [key, exclude_id, limit]).fetchall()
    for cid, code, other, owner, archived in rows:
        if code in known or len(found) >= limit:
            continue
        visible = perm.can(actor, perm.CUSTOMER_READ, {"owner": owner})
        found.append(DuplicateMatch(cid if visible else None, code, other, owner, ("name",), 100.0, archived, visible))
    return found


def edit_warnings(db, actor, record: Mapping[str, Any], changed: Iterable[str], *, limit: int = 10) -> list:
    """After a grid or detail edit of ``record`` (as saved) that changed ``changed``: the
    other customers it now looks like (``looks_like``; the name key only when the name
    changed), for a warning that does not block; empty when no watched field changed."""
    if not set(changed) & set(WATCHED):
        return []
    return looks_like(db, actor, {k: record.get(k) for k in (*WATCHED, "customer_type")}, exclude_id=record["id"],
                      limit=limit, by_name_key="name" in set(changed))


def companies_with_name_keys(cur, keys: Iterable[str]) -> list[tuple[str, str, str]]:
    """(name_key, code, name) of the live companies whose stored name key is one of
    ``keys`` (``name_keys(...).name_key``), in one join against them: what an import
    flags as looking like an existing customer. Keys not refreshed since their
    customer's rename do not match, as in ``edit_warnings``."""
    keys = sorted(set(keys))
    if not keys:
        return []
    return cur.execute(
        "SELECT k.name_key, c.code, c.name FROM duplicate_keys k"
        " JOIN (SELECT unnest(?::VARCHAR[]) AS name_key) a ON a.name_key = k.name_key"
        " JOIN customers c ON c.id = k.customer_id AND c.name = k.name"
        " WHERE c.merged_into IS NULL AND c.customer_type = 'company' ORDER BY c.id", [keys]).fetchall()
