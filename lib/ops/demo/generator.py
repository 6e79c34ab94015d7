"""Demo customers as a user would type them, from a seed.

Chunk ``k`` is generated from ``Random(seed, k)`` and the global index only, so the same
seed and count give the same customers whatever the number of workers the loader uses
(``lib.ops.demo.loader``). Word lists live in ``lib.ops.demo.words``."""
from __future__ import annotations

import bisect
import functools
import itertools
import math
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping, Sequence

from lib.accounts import permissions as perm
from lib.core.clock import SHANGHAI_OFFSET_HOURS, to_local, utcnow
from lib.core.errors import ConfigError
from lib.customers import customer as cs
from lib.customers.kinds import USCC_ALPHABET, uscc_check_char
from lib.ops.demo.words import (
    CITIES,
    MUNICIPALITIES,
    PROVINCE_NAMES,
    CORE_FIRST,
    CORE_SECOND,
    INDUSTRY_WORDS,
    NO_LEGAL_FORM,
    ASSOCIATION,
    ASSOCIATION_TRADES,
    LEGAL_FORMS,
    EN_FIRST,
    EN_SECOND,
    EN_INDUSTRY,
    EN_SUFFIX_OVERSEAS,
    EN_ORGS,
    OVERSEAS,
    HONG_KONG_PHONE,
    SURNAMES,
    SURNAME_WEIGHTS,
    GIVEN_CHARS,
    EN_PEOPLE_FIRST,
    EN_PEOPLE_LAST,
    TITLES,
    EN_TITLES,
    ROADS,
    ESTATES,
    COMPANY_MAILBOXES,
    PERSONAL_MAIL,
    TLDS,
    NOTES,
    BLOCKED_NOTES,
    ACTIVITY_KINDS,
    ACTIVITY_SUMMARIES,
    NEED_STATES,
    NEXT_ACTIONS,
    SIZES,
    SIZE_WEIGHTS,
    TIERS,
    DEPARTMENT_TITLES,
    EN_DEPARTMENT_TITLES,
    CONTACT_NOTES,
    RELATIONSHIP_KINDS,
    RELATIONSHIP_NOTES,
    FILE_KINDS,
)

CHUNK_SIZE = 10_000
HISTORY_DAYS = 3 * 365
# Roles whose users own demo customers.
OWNER_ROLES = ("sales", "manager")


# -- the plan: everything a worker needs, picklable ------------------------------------
@dataclass(frozen=True)
class Person:
    username: str
    role: str
    weight: float
    # may set any owner and a credit limit (manager, admin): creates customers for others
    can_assign: bool


@dataclass(frozen=True)
class DemoShares:
    """Which share of the customers get more than their row, primary contact and
    follow-ups (tests raise the shares to see every branch in a few customers)."""

    contacts: float = 0.25  # of those with a primary contact: 1-3 more contacts
    links: float = 0.05  # of companies: 1-2 links to earlier companies of their chunk
    files: float = 0.005  # 1-2 small PDF files


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    total: int
    now: datetime  # naive UTC; every generated instant is before it
    lists: dict
    usernames: frozenset
    settings: dict
    owners: tuple[Person, ...]
    assigners: tuple[str, ...]
    activities: bool = True
    chunk_size: int = CHUNK_SIZE
    shares: DemoShares = DemoShares()
    _cum_days: tuple[float, ...] = field(default=(), repr=False)
    _first_day: date = field(default=date(2000, 1, 1), repr=False)


@dataclass(frozen=True)
class DemoCustomer:
    """One generated customer: the values a user would type, plus its history."""

    index: int
    values: dict[str, Any]
    created_at: datetime
    created_by: str
    reviewed_at: datetime
    reviewed_by: str
    activities: tuple[dict, ...] = ()
    # More of its records, each with ``values`` by field name as a user would type them
    # (the loader validates them against the declaration) and who added it when:
    contacts: tuple[dict, ...] = ()  # lib.customers.fields.CONTACT_FIELDS, not primary
    # RELATIONSHIP_FIELDS; ``to_offset``: the other customer, an earlier one of the chunk
    links: tuple[dict, ...] = ()
    files: tuple[dict, ...] = ()  # FILE_FIELDS and a ``filename`` (bytes: ``demo_pdf``)


@dataclass
class DemoStats:
    customers: int = 0
    contacts: int = 0
    activities: int = 0
    relationships: int = 0
    files: int = 0
    first_code: str | None = None
    last_code: str | None = None
    seconds: float = 0.0
    workers: int = 1


def make_plan(db, customers: int, seed: int = 42, *, now: datetime | None = None, activities: bool = True,
              chunk_size: int = CHUNK_SIZE, shares: DemoShares | None = None) -> DemoPlan:
    """Read what generation depends on from the database: reference lists, users,
    settings and permissions. Raises ``ConfigError`` when nobody could own a customer."""
    ctx = cs.validation_context(db)
    permissions = db.permissions()
    with db.read() as cur:
        rows = cur.execute(
            "SELECT username, role FROM users WHERE active ORDER BY username").fetchall()

    def can_assign(role: str) -> bool:
        p = permissions.get(role, {})
        return all(p.get(a) == perm.ALL for a in (perm.CUSTOMER_CREATE, perm.CUSTOMER_SET_OWNER,
                                                   perm.CUSTOMER_SET_CREDIT))

    rng = random.Random(f"demo-owners:{seed}")
    owners = []
    for username, role in rows:
        if role in OWNER_ROLES and permissions.get(role, {}).get(perm.CUSTOMER_CREATE):
            # Salespeople carry most customers; some carry far more than others.
            base = 3.0 if role == "sales" else 1.0
            owners.append(Person(username, role, base * rng.uniform(0.4, 2.0), can_assign(role)))
    if not owners:
        raise ConfigError("error.demo_no_owner")
    assigners = tuple(u for u, r in rows if r == "manager" and can_assign(r)) or \
        tuple(u for u, r in rows if can_assign(r))
    now = now or utcnow().replace(microsecond=0)
    first_day, cum = _day_distribution(now)
    return DemoPlan(seed=seed, total=customers, now=now, lists=dict(ctx.lists), usernames=frozenset(ctx.usernames),
                    settings=dict(db.settings()), owners=tuple(owners), assigners=assigners, activities=activities,
                    chunk_size=chunk_size, shares=shares or DemoShares(), _cum_days=cum, _first_day=first_day)


# Growth with seasons: few new customers around the Spring Festival and the National
# Day holiday, more after them and at year end; weekends are quiet.
_MONTH_FACTOR = {1: 0.9, 2: 0.55, 3: 1.15, 4: 1.05, 5: 1.0, 6: 1.05, 7: 0.95, 8: 0.95, 9: 1.05,
                 10: 0.8, 11: 1.1, 12: 1.15}
_WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 0.95, 0.25, 0.15)


def _day_distribution(now: datetime) -> tuple[date, tuple[float, ...]]:
    last_day = to_local(now).date() - timedelta(days=1)
    first_day = last_day - timedelta(days=HISTORY_DAYS - 1)
    weights = []
    for d in range(HISTORY_DAYS):
        day = first_day + timedelta(days=d)
        growth = math.exp(1.1 * d / HISTORY_DAYS)
        weights.append(growth * _MONTH_FACTOR[day.month] * _WEEKDAY_FACTOR[day.weekday()])
    total = sum(weights)
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc / total)
    cum[-1] = 1.0
    return first_day, tuple(cum)


def _created_at(plan: DemoPlan, position: float) -> datetime:
    """The creation instant at ``position`` in [0, 1) of the history: monotonic, so codes
    (handed out in index order) grow with time as they would in real life."""
    cum = plan._cum_days
    d = bisect.bisect_right(cum, position)
    d = min(d, len(cum) - 1)
    lo = cum[d - 1] if d else 0.0
    frac = (position - lo) / ((cum[d] - lo) or 1.0)
    # Office hours, 08:30-18:30 Shanghai time, stored as UTC.
    seconds = int(min(max(frac, 0.0), 0.999999) * 36000)
    return _office_opens(plan._first_day, d) + timedelta(seconds=seconds)


@functools.lru_cache(maxsize=4096)
def _office_opens(first_day: date, d: int) -> datetime:
    """08:30 Shanghai time on day ``d`` of the history, as UTC."""
    day = first_day + timedelta(days=d)
    return datetime(day.year, day.month, day.day, 8, 30) - timedelta(hours=SHANGHAI_OFFSET_HOURS)


# -- values --------------------------------------------------------------------------------
# random.choice and randint cost about a microsecond each (argument checks, rejection
# sampling); a generated customer needs a few dozen of them, so these do the same job
# on one random() each.
def _one(rng: random.Random, seq: Sequence) -> Any:
    return seq[int(rng.random() * len(seq))]


def _int(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _digits(rng: random.Random, n: int, first: str = "0123456789") -> str:
    """n digits, the first one from ``first``."""
    rest = n - 1
    return _one(rng, first) + (f"{int(rng.random() * 10 ** rest):0{rest}d}" if rest > 0 else "")


def _pattern(rng: random.Random, pattern: str) -> str:
    """'+1 212 #{2-9}## ####': '#' is a digit, '{..}' a digit from a set or range."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "#" and pattern[i + 1:i + 2] == "{":
            end = pattern.index("}", i)
            spec = pattern[i + 2:end]
            choices = "".join(str(x) for x in range(int(spec[0]), int(spec[2]) + 1)) if "-" in spec else spec
            out.append(_one(rng, choices))
            i = end + 1
            continue
        out.append(_one(rng, "0123456789") if ch == "#" else ch)
        i += 1
    return "".join(out)


_MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                    "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183",
                    "185", "186", "187", "188", "189", "191", "195", "198", "199")


def mobile(rng: random.Random) -> str:
    number = _one(rng, _MOBILE_PREFIXES) + _digits(rng, 8)
    style = rng.random()
    if style < 0.7:
        return number
    if style < 0.85:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style < 0.95:
        return f"+86 {number[:3]} {number[3:7]} {number[7:]}"
    return f"{number[:3]}-{number[3:7]}-{number[7:]}"


def landline(rng: random.Random, city: tuple, extension: bool = False) -> str:
    area, length = city[2], city[3]
    local = _one(rng, "2345678") + _digits(rng, length - 1, "123456789")
    style = rng.random()
    if style < 0.7:
        text = f"{area}-{local}"
    elif style < 0.85:
        text = f"({area}){local}"
    else:
        text = f"{area} {local[:4]} {local[4:]}"
    if extension:
        ext = _digits(rng, _one(rng, (2, 3, 3, 4)), "123456789")
        form = rng.random()
        if form < 0.45:
            text = f"{area}-{local} 转 {ext}"
        elif form < 0.7:
            text = f"{area}-{local}-{ext}"
        elif form < 0.85:
            text = f"{area}-{local} 分机 {ext}"
        else:
            text = f"{area}-{local} ext. {ext}"
    return text


def service_number(rng: random.Random) -> str:
    prefix = "400" if rng.random() < 0.85 else "800"
    number = prefix + _digits(rng, 7)
    return f"{number[:3]}-{number[3:6]}-{number[6:]}" if rng.random() < 0.7 else number


def person_name(rng: random.Random) -> tuple[str, str, str]:
    """(Chinese name, surname pinyin, given-name pinyin)."""
    surname, s_py = W_SURNAME.pick(rng)
    n = 1 if rng.random() < 0.3 else 2
    given = [_one(rng, GIVEN_CHARS) for _ in range(n)]
    return surname + "".join(g for g, _ in given), s_py, "".join(p for _, p in given)


def _org_code(seq: int, modern: bool) -> str:
    """Positions 9-17 of a USCC: an organisation code with its GB 11714 check character.

    The body is a bijection of the customer-code number, which the sequence never repeats,
    so no two demo customers share a USCC, across runs on the same database too."""
    if modern:  # codes issued since 2015 often read MA + 6 characters
        x = (seq * 91_815_541 + 7_654_321) % (31 ** 6)
        chars = []
        for _ in range(6):
            x, r = divmod(x, 31)
            chars.append(USCC_ALPHABET[r])
        body = "MA" + "".join(chars)
    else:
        body = f"{(seq * 73_939_133 + 12_345_679) % 10 ** 8:08d}"
    values = [int(ch) if ch.isdigit() else ord(ch) - 55 for ch in body]
    c = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    return body + ("X" if c == 10 else "0" if c == 11 else str(c))


def uscc_for(seq: int, admin_code: str, kind: str, modern: bool) -> str:
    first17 = kind + admin_code + _org_code(seq, modern)
    return first17 + uscc_check_char(first17)


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    """A credit limit in [low, high]: mostly round figures, a few with cents (limits
    computed from turnover)."""
    if rng.random() < 0.12:
        return Decimal(f"{rng.uniform(max(low, 1000), high):.2f}")
    lo_exp = int(math.log10(max(low, 1000)))
    hi_exp = int(math.log10(high))
    value = _one(rng, (1, 1.5, 2, 3, 5, 8)) * 10 ** _int(rng, lo_exp, hi_exp)
    return Decimal(f"{min(max(value, low), high):.2f}")


_CREDIT_RANGE = {"A": (1_000_000, 20_000_000), "B": (200_000, 5_000_000), "C": (20_000, 500_000),
                 "D": (0, 50_000)}


def _address(rng: random.Random, city: tuple, district: str, core: str | None) -> str:
    region = city[0]
    prefix = "" if region in MUNICIPALITIES else PROVINCE_NAMES[region]
    city_name = "" if region in MUNICIPALITIES else city[1]
    base = f"{prefix}{city_name}{district}" if region not in MUNICIPALITIES else f"{city[1]}{district}"
    road = _one(rng, ROADS)
    number = _int(rng, 1, 999)
    if core is None:  # a home address
        return (f"{base}{road}{number}号{_one(rng, ESTATES)}{_int(rng, 1, 30)}栋"
                f"{_int(rng, 1, 4)}单元{_int(rng, 1, 33)}{_int(rng, 1, 4):02d}室")
    style = rng.random()
    if style < 0.5:
        return f"{base}{road}{number}号{core}大厦{_one(rng, 'ABCD')}座{_int(rng, 2, 40)}{_int(rng, 1, 20):02d}室"
    if style < 0.8:
        return f"{base}{road}{number}号{_int(rng, 1, 12)}栋{_int(rng, 1, 9)}{_int(rng, 1, 30):02d}室"
    return f"{base}{road}{number}号{_one(rng, ('工业园', '科技园', '产业园'))}{_int(rng, 1, 20)}号厂房"


class Weighted:
    """A weighted choice whose cumulative weights are computed once: ``random.choices``
    recomputes them on every call, which adds up at a million customers."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs: Iterable[tuple[Any, float]]):
        pairs = list(pairs)
        items = tuple(p[0] for p in pairs)
        # The last item once more: a draw that rounds up to the total lands on it.
        self.items = items + items[-1:]
        self.cum = tuple(itertools.accumulate(p[1] for p in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


W_SURNAME = Weighted(zip(SURNAMES, SURNAME_WEIGHTS))
W_INDUSTRY = Weighted((code, w) for code, (w, _) in INDUSTRY_WORDS.items())
W_CITY = Weighted((c, c[5]) for c in CITIES)
W_CITY_BIG = Weighted((c, c[5]) for c in CITIES[:6])
W_LEGAL = Weighted(LEGAL_FORMS)
W_TLD = Weighted(TLDS)
W_PERSONAL_MAIL = Weighted(PERSONAL_MAIL)
W_TITLE = Weighted(TITLES)
W_ACTIVITY_KIND = Weighted(ACTIVITY_KINDS)
W_NEED_STATE = Weighted(NEED_STATES)
W_ACTIVITY_COUNT = Weighted(zip((1, 2, 3, 4, 5), (40, 25, 15, 12, 8)))
W_SIZE = Weighted(zip(SIZES, SIZE_WEIGHTS))
W_SIZE_FOREIGN = Weighted(zip(SIZES, (10, 25, 30, 22, 13)))
W_TIER_SMALL = Weighted(zip(TIERS, (3, 13, 52, 32)))
W_TIER_LARGE = Weighted(zip(TIERS, (15, 30, 45, 10)))
W_TIER_FOREIGN = Weighted(zip(TIERS, (8, 25, 47, 20)))
W_TIER_PERSON = Weighted(zip(TIERS, (0, 5, 55, 40)))
W_STATUS = Weighted((("prospect", 12), ("active", 64), ("dormant", 18), ("blocked", 6)))
W_STATUS_PROSPECT_TIER = Weighted((("prospect", 70), ("active", 15), ("dormant", 13), ("blocked", 2)))
W_STATUS_PERSON = Weighted((("prospect", 35), ("active", 45), ("dormant", 17), ("blocked", 3)))
# Credit limits are set once there is business: most active and blocked customers have
# one, few prospects do.
CREDIT_SHARE = {"prospect": 0.15, "active": 0.8, "dormant": 0.6, "blocked": 0.85}


def _company_values(rng: random.Random, seq: int) -> dict[str, Any]:
    industry = W_INDUSTRY.pick(rng)
    english = industry == "T" or rng.random() < 0.05
    if english:
        return _english_company(rng, seq, industry)
    city = W_CITY.pick(rng)
    district, admin_code = _one(rng, city[4])
    (c1, p1), (c2, p2) = _one(rng, CORE_FIRST), _one(rng, CORE_SECOND)
    core, slug = c1 + c2, p1 + p2
    word = _one(rng, INDUSTRY_WORDS[industry][1])
    city_short = city[1].rstrip("市")
    if word.endswith(ASSOCIATION):
        name = f"{city[1]}{_one(rng, ASSOCIATION_TRADES)}{word}"
    elif word.endswith(NO_LEGAL_FORM):
        name = f"{city_short}{core}{word}"
    else:
        legal = W_LEGAL.pick(rng)
        style = rng.random()
        if style < 0.68:
            name = f"{city_short}{core}{word}{legal}"
        elif style < 0.83:
            name = f"{core}{word}（{city_short}）{legal}"
        elif style < 0.93:
            province = PROVINCE_NAMES[city[0]].rstrip("省市")
            name = f"{province}{core}{word}{legal}"
        else:
            name = f"{core}{word}{legal}"
        if legal == "有限公司" and rng.random() < 0.04:
            name = f"{core}{word}{legal}{city_short}分公司"
    size = W_SIZE.pick(rng)
    large = SIZES.index(size) >= 3
    tier = (W_TIER_LARGE if large else W_TIER_SMALL).pick(rng)
    kind = "91"
    if word.endswith(ASSOCIATION):
        kind, size = "51", _one(rng, SIZES[:2])
    elif word == "医院" or word.endswith("学校"):
        kind = "52"
    elif industry == "A" and rng.random() < 0.3:
        kind = "93"
    values: dict[str, Any] = {
        "name": name, "customer_type": "company", "industry": industry, "tier": tier, "size": size,
        "region": city[0],
        "uscc": uscc_for(seq, admin_code, kind, rng.random() < 0.55) if rng.random() < 0.88 else None,
        "address": _address(rng, city, district, core) if rng.random() < 0.9 else None,
    }
    r = rng.random()
    if r < 0.45:
        values["phone"] = landline(rng, city)
    elif r < 0.55:
        values["phone"] = landline(rng, city, extension=True)
    elif r < 0.72:
        values["phone"] = mobile(rng)
    elif r < 0.82 + (0.1 if large else 0.0):
        values["phone"] = service_number(rng)
    domain = slug + W_TLD.pick(rng)
    if rng.random() < 0.7:
        values["email"] = f"{_one(rng, COMPANY_MAILBOXES)}@{domain}"
    if rng.random() < 0.9:
        cname, s_py, g_py = person_name(rng)
        values["contact_name"] = cname
        values["contact_title"] = W_TITLE.pick(rng) if rng.random() < 0.9 else None
        values["contact_phone"] = mobile(rng) if rng.random() < 0.85 else landline(rng, city, extension=True)
        r = rng.random()
        if r < 0.45:
            values["contact_email"] = f"{s_py}.{g_py}@{domain}"
        elif r < 0.6:
            values["contact_email"] = f"{g_py[:1]}{s_py}{_int(rng, 1, 99)}@{W_PERSONAL_MAIL.pick(rng)}"
    _tier_status_credit(rng, values, tier)
    return values


def _english_company(rng: random.Random, seq: int, industry: str) -> dict[str, Any]:
    first, second = _one(rng, EN_FIRST), _one(rng, EN_SECOND)
    slug = (first + second).lower().replace(" ", "")
    if industry == "T":
        name, industry_words = _one(rng, EN_ORGS), None
    else:
        industry = industry if industry in EN_INDUSTRY else "F"
        industry_words = _one(rng, EN_INDUSTRY[industry])
        name = None
    where = rng.random()
    values: dict[str, Any] = {"customer_type": "company", "industry": industry}
    size = W_SIZE_FOREIGN.pick(rng)
    if where < 0.25 and industry != "T":  # foreign-invested company registered in China
        city = W_CITY_BIG.pick(rng)
        district, admin_code = _one(rng, city[4])
        name = f"{first} {second} {industry_words} ({_city_en(city)}) Co., Ltd."
        values.update(region=city[0], uscc=uscc_for(seq, admin_code, "91", True),
                      address=_address(rng, city, district, _one(rng, CORE_FIRST)[0] + _one(rng, CORE_SECOND)[0]),
                      phone=landline(rng, city, extension=rng.random() < 0.3))
    elif where < 0.4:  # Hong Kong
        name = name or f"{first} {second} {industry_words} {_one(rng, ('Limited', 'Ltd', 'Company Limited'))}"
        values.update(region="810000", phone=_pattern(rng, HONG_KONG_PHONE),
                      address=f"{_int(rng, 1, 300)} {_one(rng, ('Queen’s Road Central', 'Nathan Road', 'Des Voeux Road', 'Canton Road'))}, Hong Kong")
    else:
        country, pattern, cities, streets = _one(rng, OVERSEAS)
        name = name or f"{first} {second} {industry_words} {_one(rng, EN_SUFFIX_OVERSEAS)}"
        values.update(region="overseas", phone=_pattern(rng, pattern),
                      address=f"{_int(rng, 1, 999)} {_one(rng, streets)}, {_one(rng, cities)}, {country}")
    values["name"] = name
    values["size"] = size
    tier = W_TIER_FOREIGN.pick(rng)
    values["tier"] = tier
    values["email"] = f"{_one(rng, ('info', 'sales', 'contact', 'procurement'))}@{slug}.com"
    if rng.random() < 0.85:
        first_name, last_name = _one(rng, EN_PEOPLE_FIRST), _one(rng, EN_PEOPLE_LAST)
        values["contact_name"] = f"{first_name} {last_name}"
        values["contact_title"] = _one(rng, EN_TITLES)
        values["contact_email"] = f"{first_name.lower()}.{_ascii(last_name).lower()}@{slug}.com"
        if values.get("region") == "overseas" or values.get("region") == "810000":
            values["contact_phone"] = mobile(rng) if rng.random() < 0.4 else values["phone"]
        else:
            values["contact_phone"] = mobile(rng)
    _tier_status_credit(rng, values, tier)
    return values


_CITY_EN = {"北京市": "Beijing", "上海市": "Shanghai", "天津市": "Tianjin", "重庆市": "Chongqing",
            "广州市": "Guangzhou", "深圳市": "Shenzhen"}


def _city_en(city: tuple) -> str:
    return _CITY_EN.get(city[1], "China")


def _ascii(text: str) -> str:
    return text.replace("ü", "ue")


def _tier_status_credit(rng: random.Random, values: dict, tier: str) -> None:
    values["status"] = (W_STATUS_PROSPECT_TIER if tier == "D" else W_STATUS).pick(rng)
    values["credit_limit"] = _money(rng, *_CREDIT_RANGE[tier]) if rng.random() < CREDIT_SHARE[values["status"]] else None
    if values["status"] == "blocked" and rng.random() < 0.7:
        values["notes"] = _one(rng, BLOCKED_NOTES)
    elif rng.random() < 0.2:
        values["notes"] = _one(rng, NOTES)


def _individual_values(rng: random.Random) -> dict[str, Any]:
    name, s_py, g_py = person_name(rng)
    city = W_CITY.pick(rng)
    district, _ = _one(rng, city[4])
    tier = W_TIER_PERSON.pick(rng)
    values: dict[str, Any] = {
        "name": name, "customer_type": "individual", "region": city[0], "tier": tier,
        "phone": mobile(rng),
        "industry": _one(rng, ("O", "F", "H")) if rng.random() < 0.2 else None,
        "address": _address(rng, city, district, None) if rng.random() < 0.6 else None,
    }
    r = rng.random()
    if r < 0.35:
        values["email"] = f"{s_py}{g_py}{_int(rng, 1, 999)}@{W_PERSONAL_MAIL.pick(rng)}"
    elif r < 0.5:
        values["email"] = f"{_digits(rng, _int(rng, 8, 10), '123456789')}@qq.com"
    values["status"] = W_STATUS_PERSON.pick(rng)
    values["credit_limit"] = Decimal(_one(rng, ("5000.00", "10000.00", "20000.00"))) if rng.random() < 0.1 else None
    if rng.random() < 0.1:
        values["notes"] = _one(rng, ("个人买家，偏好微信联系。", "老客户介绍的个人客户。", "需要开具普通发票。"))
    return values


def _activities(rng: random.Random, created_at: datetime, now: datetime, owner: str) -> tuple[dict, ...]:
    """Follow-ups of one customer: ``values`` by field name as a user would type them
    (``lib.customers.fields.FOLLOWUP_FIELDS``; the loader validates them), plus the
    columns the write path sets (who wrote it when, and whether it was marked done)."""
    count = W_ACTIVITY_COUNT.pick(rng)
    span = max((now - created_at).total_seconds(), 60.0)
    moments = sorted(created_at + timedelta(seconds=int(rng.random() * span)) for _ in range(count))
    out = []
    for at in moments:
        kind = W_ACTIVITY_KIND.pick(rng)
        next_action = due = done_at = None
        if rng.random() < 0.6:
            next_action = _one(rng, NEXT_ACTIONS)
            due = (at + timedelta(days=_int(rng, 1, 30))).replace(hour=1, minute=0, second=0)
            # Most past follow-ups were done; the rest are overdue tasks on the dashboard.
            if due < now and rng.random() < 0.8:
                done_at = at + timedelta(seconds=int(rng.random() * (due - at).total_seconds()))
        values = {"followup_kind": kind, "followup_occurred_on": to_local(at).date(),
                  "followup_summary": _one(rng, ACTIVITY_SUMMARIES[kind]), "followup_next_action": next_action,
                  "followup_due_on": to_local(due).date() if due else None,
                  # The write path's defaults: the author is the assignee of a next action,
                  # and only a need has a state.
                  "followup_assignee": owner if next_action else None,
                  "followup_need_state": W_NEED_STATE.pick(rng) if kind == "need" else None}
        out.append({"values": values, "done": done_at is not None, "done_at": done_at,
                    "done_by": owner if done_at else None, "created_at": at, "created_by": owner,
                    # Marking it done was its one change (mark_done bumps the version).
                    "updated_at": done_at or at, "updated_by": owner, "version": 2 if done_at else 1})
    return tuple(out)


W_DEPARTMENT = Weighted((d[:2], d[2]) for d in DEPARTMENT_TITLES)
W_EN_DEPARTMENT = Weighted((d[:2], d[2]) for d in EN_DEPARTMENT_TITLES)
W_RELATIONSHIP_KIND = Weighted(RELATIONSHIP_KINDS)
W_FILE_KIND = Weighted((k[::2], k[1]) for k in FILE_KINDS)
_COMPANY_LANDLINE = re.compile(r"0\d{2,3}-[2-8]\d{6,7}")


def _later(rng: random.Random, start: datetime, now: datetime) -> datetime:
    """An instant between ``start`` and ``now``."""
    return start + timedelta(seconds=int(rng.random() * max((now - start).total_seconds(), 0.0)))


def _more_contacts(rng: random.Random, values: Mapping[str, Any], created_at: datetime, now: datetime,
                   owner: str) -> tuple[dict, ...]:
    """1-3 more contacts of a company that has a primary contact, added by its owner."""
    english = values["contact_name"].isascii()
    email = values.get("email") or values.get("contact_email") or ""
    domain = email.split("@")[1] if "@" in email else None
    switchboard = values.get("phone") if _COMPANY_LANDLINE.fullmatch(values.get("phone") or "") else None
    out = []
    for _ in range(_int(rng, 1, 3)):
        if english:
            first, last = _one(rng, EN_PEOPLE_FIRST), _one(rng, EN_PEOPLE_LAST)
            name, user = f"{first} {last}", f"{first.lower()}.{_ascii(last).lower()}"
            department, titles = W_EN_DEPARTMENT.pick(rng)
        else:
            name, s_py, g_py = person_name(rng)
            user = f"{s_py}.{g_py}" if rng.random() < 0.6 else f"{g_py[:1]}{s_py}"
            department, titles = W_DEPARTMENT.pick(rng)
        c: dict[str, Any] = {"contact_name": name, "contact_title": _one(rng, titles),
                             "contact_department": department if rng.random() < 0.85 else None,
                             "contact_mobile": mobile(rng) if rng.random() < 0.9 else None}
        if switchboard and rng.random() < 0.4:  # the company's switchboard and an extension
            c["contact_phone"] = f"{switchboard} 转 {_digits(rng, _one(rng, (3, 4)), '123456789')}"
        if domain and rng.random() < 0.7:
            c["contact_email"] = f"{user}@{domain}"
        elif not english and rng.random() < 0.3:
            c["contact_email"] = f"{user}{_int(rng, 1, 99)}@{W_PERSONAL_MAIL.pick(rng)}"
        if rng.random() < 0.1:
            c["contact_notes"] = _one(rng, CONTACT_NOTES)
        if not c["contact_mobile"] and not c.get("contact_phone"):
            c["contact_mobile"] = mobile(rng)
        out.append({"values": {k: v for k, v in c.items() if v is not None},
                    "created_at": _later(rng, created_at, now), "created_by": owner})
    return tuple(out)


def _links(rng: random.Random, companies: Sequence[int], created_at: datetime, now: datetime,
           owner: str) -> tuple[dict, ...]:
    """1-2 links of a company to earlier companies of its chunk (``companies``: their
    offsets in the chunk). Every link runs from the newer customer to an older one and a
    customer links to each other customer once, so no link is a self-link or a
    duplicate, and parent links (child -> parent, always newer -> older) make no cycle."""
    targets: list[int] = []
    for _ in range(1 if rng.random() < 0.8 else 2):
        target = _one(rng, companies)
        if target not in targets:
            targets.append(target)
    out = []
    for target in targets:
        kind = W_RELATIONSHIP_KIND.pick(rng)
        note = _one(rng, RELATIONSHIP_NOTES[kind]) if rng.random() < 0.3 else None
        out.append({"to_offset": target, "values": {"relationship_kind": kind, "relationship_note": note},
                    "created_at": _later(rng, created_at, now), "created_by": owner})
    return tuple(out)


def _files(rng: random.Random, created_at: datetime, now: datetime, owner: str) -> tuple[dict, ...]:
    out = []
    for _ in range(1 if rng.random() < 0.75 else 2):
        at = _later(rng, created_at, now)
        kind, titles = W_FILE_KIND.pick(rng)
        title = _one(rng, titles).format(year=to_local(at).year)
        out.append({"values": {"file_title": title if rng.random() < 0.8 else None, "file_kind": kind},
                    "filename": f"{title}.pdf", "created_at": at, "created_by": owner})
    return tuple(out)


def demo_pdf(code: str, kind: str) -> bytes:
    """A small valid one-page PDF naming the customer's code (ASCII only)."""
    text = f"Demo {kind} of customer {code}".replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _reviewed_at(rng: random.Random, created_at: datetime, now: datetime) -> datetime:
    r = rng.random()
    if r < 0.3:  # never looked at again since it was entered
        return created_at
    span = (now - created_at).total_seconds()
    if r < 0.75:  # looked after: reviewed in the last five months
        start = max(created_at, now - timedelta(days=150))
        return start + timedelta(seconds=int(rng.random() * (now - start).total_seconds()))
    return created_at + timedelta(seconds=int(rng.random() * span))


def chunk_inputs(plan: DemoPlan, chunk: int, code_seqs: Sequence[int]) -> list[DemoCustomer]:
    """The generated input of chunk ``chunk``: a function of (seed, chunk) and the code
    numbers only (the USCC is derived from the code number, which keeps it unique)."""
    rng = random.Random(f"demo:{plan.seed}:{chunk}")
    # Contacts, links and files draw from their own stream, so adding them changed none
    # of the customers a seed gives.
    more = random.Random(f"demo-more:{plan.seed}:{chunk}")
    shares = plan.shares
    start = chunk * plan.chunk_size
    owners = Weighted((o, o.weight) for o in plan.owners)
    companies: list[int] = []  # offsets of the chunk's companies so far
    out = []
    for offset, seq in enumerate(code_seqs):
        index = start + offset
        position = (index + rng.random()) / plan.total
        created_at = _created_at(plan, position)
        values = _company_values(rng, seq) if rng.random() < 0.86 else _individual_values(rng)
        if values["customer_type"] == "individual":
            values.pop("size", None)
        owner = owners.pick(rng)
        values["owner"] = owner.username
        # Who entered it: the owner, unless the record needs rights the owner lacks (a
        # credit limit) or a manager handed a new customer to a salesperson.
        creator = owner.username
        if not owner.can_assign and (values.get("credit_limit") is not None or rng.random() < 0.1):
            if plan.assigners:
                creator = _one(rng, plan.assigners)
            else:
                values["credit_limit"] = None
        values = {k: v for k, v in values.items() if v is not None}
        reviewed_at = _reviewed_at(rng, created_at, plan.now)
        reviewer = owner.username if reviewed_at > created_at else creator
        acts = ()
        if plan.activities and rng.random() < 0.22:
            acts = _activities(rng, created_at, plan.now, owner.username)
        contacts = links = files = ()
        if "contact_name" in values and more.random() < shares.contacts:
            contacts = _more_contacts(more, values, created_at, plan.now, owner.username)
        if values["customer_type"] == "company":
            if companies and more.random() < shares.links:
                links = _links(more, companies, created_at, plan.now, owner.username)
            companies.append(offset)
        if more.random() < shares.files:
            files = _files(more, created_at, plan.now, owner.username)
        out.append(DemoCustomer(index, values, created_at, creator, reviewed_at, reviewer, acts, contacts, links,
                                files))
    return out


def iter_inputs(plan: DemoPlan, code_seqs: Sequence[int]) -> Iterator[DemoCustomer]:
    """Every generated input for ``code_seqs`` (one per customer, in index order)."""
    for chunk in range(math.ceil(len(code_seqs) / plan.chunk_size)):
        lo = chunk * plan.chunk_size
        yield from chunk_inputs(plan, chunk, code_seqs[lo:lo + plan.chunk_size])
