"""Realistic search benchmark (issue 8 §1): what people actually type, with and without
filters, as each role, next to the plain full-scan query for the same answer.

For every query kind (1-character Chinese, a surname, a full mobile, an exact USCC, ...)
it draws several concrete terms from the database itself (fixed seed, from the customers
the role can see, so every term really occurs), then for each (kind, filter, role) times

- the service: ``search()`` for the first page of 50 with its exact total, and
- the anchor: the naive SQL a developer would write for the same answer, on its own read
  transaction: ``SELECT count(*) FROM customers c WHERE <where_clause>`` plus
  ``SELECT c.* FROM customers c WHERE <where_clause> ORDER BY <relevance> LIMIT 50``,

alternately (service, anchor, service, anchor ...). Round i times the service on term i
and the anchor on term i-1, the term the service ran one round before: the service never
meets a term before its timed call, and the anchor's result is checked against the
service's for the same term (same total, same first-page ids in the same order). Any
difference is printed as MISMATCH and makes the exit status 1. "filtered" adds a tier and
a status filter: those of the customer the term was drawn from.

    .venv/bin/python bench/bench_search.py --db /tmp/dbs/copy-m1.duckdb --rounds 20
    .venv/bin/python bench/bench_search.py --db /tmp/dbs/copy-m1.duckdb --kinds code,uscc --roles sales
    .venv/bin/python bench/bench_search.py --db /tmp/dbs/copy-m1.duckdb --cold --rounds 8

``--cold`` instead times, in fresh processes one after another, opening the database and
the very first search() (then a second one, warm) - the first search after a start (§5).
The operating system's file cache stays warm between those processes.

Read-only, but benchmark a copy all the same. Refuses fewer than 1,000,000 customers
unless --quick. Results also go to bench/results/search-<db>-<timestamp>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import re
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.customers import search_index  # noqa: E402
from lib.core.db import Database  # noqa: E402
from lib.core.text import pinyin_keys  # noqa: E402
from lib.ops.demo.words import CITIES  # noqa: E402
# The search API this benchmark relies on; if search internals move, change this line.
from lib.customers.search import CustomerFilters, PageRequest, _order_sql, search, where_clause  # noqa: E402

MIN_ROWS = 1_000_000
PAGE = 50
TARGET_P95_MS, TARGET_MEDIAN_MS, TARGET_RATIO = 60.0, 20.0, 20.0
SAMPLE_PER_ROLE = 800  # customers per role the terms are drawn from


def percentile(values, p):
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


# -- drawing terms from the database ------------------------------------------------------
@dataclass(frozen=True)
class Term:
    text: str
    tier: str  # of the customer the term was drawn from: the "filtered" variant's filter
    status: str


@dataclass
class Sample:
    customers: list[dict]
    contacts: dict[int, list[dict]]  # customer id -> its contacts


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


_LEGAL = re.compile(r"股份有限公司|有限责任公司|有限公司|分公司|集团|公司")
_CITY_SHORTS = tuple(dict.fromkeys(c[1].rstrip("市") for c in CITIES))
_PERSONAL_MAIL = {"163.com", "qq.com", "126.com", "sina.com", "foxmail.com", "gmail.com", "outlook.com",
                  "hotmail.com", "yahoo.com", "139.com", "sohu.com", "yeah.net", "aliyun.com"}
_EN_STOP = {"limited", "company", "corp", "corporation", "gmbh", "group", "china"}


def name_core(name: str) -> str:
    """The name without legal forms and a bracketed city: 恒卓汽车零部件（杭州）有限公司 -> 恒卓汽车零部件."""
    return re.sub(r"[（(].*?[）)]", "", _LEGAL.sub("", name))


def zh_windows(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(len(text) - size + 1) if all(is_cjk(ch) for ch in text[i:i + size])]


def mobiles(c: dict, contacts: list[dict]) -> list[str]:
    e164s = [c["phone_e164"], *(p["phone_e164"] for p in contacts)]
    return [e[3:] for e in e164s if e and re.fullmatch(r"\+861\d{10}", e)]


def landlines(c: dict, contacts: list[dict]) -> list[str]:
    """Landlines as people type them: area code, hyphen, local number (0592-5555555)."""
    out = []
    for raw, e164 in [(c["phone"], c["phone_e164"]), *((p["phone"], p["phone_e164"]) for p in contacts)]:
        m = re.match(r"\(?(0\d{2,3})\)?", raw or "")
        if m and e164 and e164.startswith("+86" + m.group(1)[1:]) and not e164.startswith("+861"):
            out.append(f"{m.group(1)}-{e164[2 + len(m.group(1)):]}")
    return out


def _pick(rng: random.Random, seq):
    return rng.choice(seq) if seq else None


def company(c: dict) -> bool:
    return c["customer_type"] == "company"


def _zh1(rng, c, cs):
    return _pick(rng, zh_windows(name_core(c["name"]), 1)) if company(c) else None


def _zh2(rng, c, cs):
    return _pick(rng, zh_windows(name_core(c["name"]), 2)) if company(c) else None


def _surname(rng, c, cs):
    return _pick(rng, [p["name"][0] for p in cs if p["name"] and is_cjk(p["name"][0])])


def _city(rng, c, cs):
    return _pick(rng, [city for city in _CITY_SHORTS if city in c["name"]]) if company(c) else None


def _company(rng, c, cs):
    return c["name"] if company(c) else None


def _contact(rng, c, cs):
    return _pick(rng, [p["name"] for p in cs if p["name"]])


def _full_pinyin(rng, c, cs):
    # the pinyin of a word of the name (厦门 -> xiamen), as long as the stored pinyin has it
    word = _zh2(rng, c, cs)
    py = pinyin_keys(word)[0] if word else ""
    return py if len(py) >= 4 and py in c["name_pinyin"] else None


def _pinyin_prefix(rng, c, cs):
    py = c["name_pinyin"]
    return py[:rng.randint(3, 5)] if company(c) and is_cjk(c["name"][0]) and len(py) >= 5 else None


def _initials(rng, c, cs):
    ini = c["name_initials"]
    return ini[:4] if company(c) and is_cjk(c["name"][0]) and len(ini) >= 4 else None


def _phone_prefix(rng, c, cs):
    return (_pick(rng, mobiles(c, cs)) or "")[:3] or None


def _mobile_tail(rng, c, cs):
    return (_pick(rng, mobiles(c, cs)) or "")[-4:] or None


def _mobile(rng, c, cs):
    return _pick(rng, mobiles(c, cs))


def _landline(rng, c, cs):
    return _pick(rng, landlines(c, cs))


def _code(rng, c, cs):
    return c["code"]


def _code_digits(rng, c, cs):
    return c["code"].rsplit("-", 1)[-1]


def _uscc(rng, c, cs):
    return c["uscc"]


def _email(rng, c, cs):
    emails = [e for e in [c["email"], *(p["email"] for p in cs)] if e and "@" in e]
    email = _pick(rng, emails)
    if not email:
        return None
    local, domain = email.split("@", 1)
    # a personal mailbox is found by its name; a company's generic one by its domain
    return local if domain in _PERSONAL_MAIL or "." in local or any(ch.isdigit() for ch in local) else domain


def _english(rng, c, cs):
    words = [w.lower() for w in re.findall(r"[A-Za-z]{4,}", c["name"]) if w.lower() not in _EN_STOP]
    return _pick(rng, words)


def _two_terms(rng, c, cs):
    """A city and the trade word of a name: 厦门中聚百货股份有限公司 -> "厦门 百货"."""
    city = _city(rng, c, cs)
    if not city:
        return None
    rest = name_core(c["name"]).replace(city, "", 1)
    word = rest[2:]  # the demo's names: [city] + two-character brand + trade word + legal form
    return f"{city} {word}" if len(word) >= 2 and all(is_cjk(ch) for ch in word) else None


def _nothing(rng, c, cs):
    if rng.random() < 0.5:
        return "qxz" + "".join(rng.choice("qxzjvk") for _ in range(5))
    return "".join(rng.choice("龘靐齉爩籱") for _ in range(3))


KINDS: dict[str, Callable] = {
    "1 char": _zh1, "2 chars": _zh2, "surname": _surname, "city": _city, "company name": _company,
    "contact name": _contact, "full pinyin": _full_pinyin, "pinyin prefix": _pinyin_prefix,
    "initials": _initials, "phone prefix": _phone_prefix, "mobile tail 4": _mobile_tail,
    "full mobile": _mobile, "landline": _landline, "code": _code, "code digits": _code_digits,
    "uscc": _uscc, "email part": _email, "english word": _english, "two terms": _two_terms,
    "no match": _nothing,
}


def draw_sample(db: Database, actor, seed: int) -> Sample:
    """Customers the actor can see (active, not merged), in a fixed pseudo-random order."""
    where, params = where_clause(actor, CustomerFilters())
    with db.read() as cur:
        res = cur.execute(
            "SELECT c.id, c.customer_type, c.code, c.name, c.name_pinyin, c.name_initials, c.uscc, c.phone, c.phone_e164,"
            f" c.email, c.tier, c.status FROM customers c WHERE {where}"
            f" ORDER BY hash(c.id + ?), c.id LIMIT {SAMPLE_PER_ROLE}", [*params, seed])
        cols = [d[0] for d in res.description]
        customers = [dict(zip(cols, r)) for r in res.fetchall()]
        contacts: dict[int, list[dict]] = {c["id"]: [] for c in customers}
        if customers:
            res = cur.execute(
                "SELECT customer_id, name, phone, phone_e164, email FROM contacts"
                f" WHERE NOT deleted AND customer_id IN ({', '.join('?' * len(contacts))}) ORDER BY id",
                list(contacts))
            cols = [d[0] for d in res.description]
            for r in res.fetchall():
                row = dict(zip(cols, r))
                contacts[row["customer_id"]].append(row)
    return Sample(customers, contacts)


def draw_terms(sample: Sample, kind: str, n: int, seed: int) -> list[Term]:
    """``n`` distinct terms of one kind (fewer distinct ones repeat in turn)."""
    rng = random.Random(f"{seed}:{kind}")
    out: dict[str, Term] = {}
    for _ in range(3):  # a second and third pass when the kind is rare in the sample
        for c in sample.customers:
            text = KINDS[kind](rng, c, sample.contacts.get(c["id"], []))
            if text and text not in out:
                out[text] = Term(text, c["tier"], c["status"])
                if len(out) >= n:
                    return list(out.values())
    terms = list(out.values())
    return [terms[i % len(terms)] for i in range(n)] if terms else []


# -- the two ways of answering -------------------------------------------------------------
def filters_for(term: Term, filtered: bool) -> CustomerFilters:
    choices = {"tier": (term.tier,), "status": (term.status,)} if filtered else {}
    return CustomerFilters(text=term.text, choices=choices)


def run_service(db, actor, filters) -> tuple[int, list[int]]:
    res = search(db, actor, filters, page=PageRequest(size=PAGE))
    return res.total, [r["id"] for r in res.rows]


def anchor_sql(actor, filters) -> tuple[str, list, str, list]:
    where, params = where_clause(actor, filters)
    order, order_params = _order_sql("relevance", filters)
    return (f"SELECT count(*) FROM customers c WHERE {where}", params,
            f"SELECT c.* FROM customers c WHERE {where} ORDER BY {', '.join(order)} LIMIT {PAGE}",
            [*params, *order_params])


def run_anchor(db, sql) -> tuple[int, list[int]]:
    count_sql, count_params, page_sql, page_params = sql
    with db.read() as cur:
        total = cur.execute(count_sql, count_params).fetchone()[0]
        res = cur.execute(page_sql, page_params)
        at = [d[0] for d in res.description].index("id")
        ids = [r[at] for r in res.fetchall()]
    return total, ids


@dataclass
class Case:
    kind: str
    filtered: bool
    role: str
    terms: list[str]
    service_ms: list[float] = field(default_factory=list)
    anchor_ms: list[float] = field(default_factory=list)
    hits: list[int] = field(default_factory=list)  # service totals, by round
    mismatches: list[dict] = field(default_factory=list)

    def stats(self) -> dict:
        sm, am = statistics.median(self.service_ms), statistics.median(self.anchor_ms)
        return {"hits_median": statistics.median(self.hits) if self.hits else None,
                "hits_min": min(self.hits, default=None), "hits_max": max(self.hits, default=None),
                "service_median": sm, "service_p95": percentile(self.service_ms, 95),
                "anchor_median": am, "anchor_p95": percentile(self.anchor_ms, 95),
                "ratio": am / sm if sm else float("nan")}


def measure(db, actor, case: Case, terms: list[Term], rounds: int) -> None:
    """Round i: the service on term i, then the anchor on term i-1 (checked against the
    service's answer for that term). A warm-up pair on the last term goes first."""
    n = len(terms)
    answers: dict[int, tuple[int, list[int]]] = {}  # term index -> the service's answer

    def check(j: int, anchor_answer) -> None:
        service_answer = answers[j]
        if service_answer != anchor_answer:
            s_total, s_ids = service_answer
            a_total, a_ids = anchor_answer
            first = next((k for k, (a, b) in enumerate(zip(s_ids, a_ids)) if a != b), min(len(s_ids), len(a_ids)))
            m = {"term": terms[j].text, "service_total": s_total, "anchor_total": a_total,
                 "service_ids": s_ids, "anchor_ids": a_ids, "first_difference_at": first}
            case.mismatches.append(m)
            print(f"!!! MISMATCH {case.kind} / {'filtered' if case.filtered else 'unfiltered'} / {case.role}"
                  f" term {terms[j].text!r}: total {s_total} (service) vs {a_total} (anchor);"
                  f" first page differs at position {first}: service {s_ids[first:first + 3]}"
                  f" anchor {a_ids[first:first + 3]}", flush=True)

    sqls = [anchor_sql(actor, filters_for(t, case.filtered)) for t in terms]
    warm = n - 1
    answers[warm] = run_service(db, actor, filters_for(terms[warm], case.filtered))
    check(warm, run_anchor(db, sqls[warm]))
    for i in range(rounds):
        j = i % n
        ms, answers[j] = timed(lambda: run_service(db, actor, filters_for(terms[j], case.filtered)))
        case.service_ms.append(ms)
        case.hits.append(answers[j][0])
        k = (i - 1) % n
        ms, answer = timed(lambda: run_anchor(db, sqls[k]))
        case.anchor_ms.append(ms)
        check(k, answer)
    last = (rounds - 1) % n
    check(last, run_anchor(db, sqls[last]))


# -- reporting ------------------------------------------------------------------------------
HEADER = (f"{'kind':<14} {'filter':<10} {'role':<8} {'hits':>8} {'service ms (med / p95)':>23}"
          f" {'anchor ms (med / p95)':>23} {'ratio':>6}")


def row_line(case: Case) -> str:
    s = case.stats()
    hits = f"{s['hits_median']:.0f}" if s["hits_median"] is not None else "-"
    flag = "  MISMATCH" if case.mismatches else ""
    return (f"{case.kind:<14} {'filtered' if case.filtered else 'none':<10} {case.role:<8} {hits:>8}"
            f" {s['service_median']:>10.1f} / {s['service_p95']:>8.1f} {s['anchor_median']:>10.1f} /"
            f" {s['anchor_p95']:>8.1f} {s['ratio']:>6.1f}{flag}")


def summary(cases: list[Case]) -> list[str]:
    def label(c: Case) -> str:
        return f"{c.kind} / {'filtered' if c.filtered else 'none'} / {c.role}"

    stats = [(c, c.stats()) for c in cases]
    worst_p95 = max(stats, key=lambda x: x[1]["service_p95"])
    worst_med = max(stats, key=lambda x: x[1]["service_median"])
    low_ratio = min(stats, key=lambda x: x[1]["ratio"])

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    return [
        f"worst p95     {worst_p95[1]['service_p95']:8.1f} ms  (target ≤ {TARGET_P95_MS:.0f})"
        f"  {verdict(worst_p95[1]['service_p95'] <= TARGET_P95_MS)}  [{label(worst_p95[0])}]",
        f"worst median  {worst_med[1]['service_median']:8.1f} ms  (target ≤ {TARGET_MEDIAN_MS:.0f})"
        f"  {verdict(worst_med[1]['service_median'] <= TARGET_MEDIAN_MS)}  [{label(worst_med[0])}]",
        f"least ratio   {low_ratio[1]['ratio']:8.1f} x   (target ≥ {TARGET_RATIO:.0f})"
        f"  {verdict(low_ratio[1]['ratio'] >= TARGET_RATIO)}  [{label(low_ratio[0])}]",
        f"cases over p95 target: {sum(s['service_p95'] > TARGET_P95_MS for _, s in stats)} of {len(stats)};"
        f" over median target: {sum(s['service_median'] > TARGET_MEDIAN_MS for _, s in stats)};"
        f" under ratio target: {sum(s['ratio'] < TARGET_RATIO for _, s in stats)}",
    ]


def kind_medians(cases: list[Case]) -> list[str]:
    """Per kind: the median of the service medians over its filter/role cases."""
    lines = [f"{'kind':<14} {'service median (none / filtered)':>34} {'anchor median (none / filtered)':>34}"]
    for kind in dict.fromkeys(c.kind for c in cases):
        def med(filtered, attr):
            vals = [statistics.median(getattr(c, attr)) for c in cases if c.kind == kind and c.filtered == filtered]
            return f"{statistics.median(vals):.1f}" if vals else "-"
        lines.append(f"{kind:<14} {med(False, 'service_ms'):>16} / {med(True, 'service_ms'):>15}"
                     f" {med(False, 'anchor_ms'):>16} / {med(True, 'anchor_ms'):>15}")
    return lines


def save(db_path: str, payload: dict) -> Path:
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"search-{Path(db_path).stem}-{stamp}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
    return path


# -- cold start -----------------------------------------------------------------------------
def cold_child(db_path: str, role: str, texts: list[str]) -> int:
    """In a fresh process: open the database, then the first search and a second one."""
    user, role = role.split(":") if ":" in role else (role, role)
    t_open, db = timed(lambda: Database(db_path))
    actor = db.actor(user, role, "bench")
    out = {"open_ms": t_open}
    for name, text in zip(("first_ms", "second_ms"), texts):
        ms, (total, _) = timed(lambda: run_service(db, actor, CustomerFilters(text=text)))
        out[name] = ms
        out.setdefault("hits", total)
    db.close()
    print("COLD " + json.dumps(out))
    return 0


def run_cold(args, terms_by_kind: dict[str, list[Term]]) -> dict:
    kinds = list(terms_by_kind)
    results = []
    print(f"{'kind':<14} {'term':<22} {'hits':>8} {'open ms':>8} {'first search ms':>16}"
          f" {'second ms':>10} {'process ms':>11}")
    for i in range(args.rounds):
        kind = kinds[i % len(kinds)]
        other = kinds[(i + 1) % len(kinds)]
        text = terms_by_kind[kind][(i // len(kinds)) % len(terms_by_kind[kind])].text
        second = terms_by_kind[other][0].text
        cmd = [sys.executable, str(Path(__file__).resolve()), "--db", args.db, "--cold-child",
               args.roles.split(",")[0], "--cold-terms", json.dumps([text, second])]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = (time.perf_counter() - t) * 1000
        line = next((x for x in proc.stdout.splitlines() if x.startswith("COLD ")), None)
        if proc.returncode or not line:
            raise SystemExit(f"cold run failed: {proc.stderr[-2000:]}")
        r = json.loads(line[5:]) | {"kind": kind, "term": text, "process_ms": wall}
        results.append(r)
        print(f"{kind:<14} {text[:22]:<22} {r['hits']:>8} {r['open_ms']:>8.0f} {r['first_ms']:>16.1f}"
              f" {r['second_ms']:>10.1f} {wall:>11.0f}", flush=True)
    firsts = [r["first_ms"] for r in results]
    opens = [r["open_ms"] for r in results]
    print(f"first search: median {statistics.median(firsts):.1f} ms, max {max(firsts):.1f} ms;"
          f" open: median {statistics.median(opens):.0f} ms (target: results within 1 s of a start)")
    return {"cold": results}


# -- main -----------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="DuckDB file with demo data (read only; use a copy)")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--quick", action="store_true", help="allow fewer than 1,000,000 customers")
    ap.add_argument("--roles", default="manager,sales",
                    help="comma-separated demo users (user or user:role; the role defaults to the name)")
    ap.add_argument("--kinds", default="", help=f"comma-separated subset of: {', '.join(KINDS)}")
    ap.add_argument("--filters", default="none,filtered", help="none, filtered or both (default)")
    ap.add_argument("--cold", action="store_true", help="time the first search in fresh processes instead")
    ap.add_argument("--cold-child", help=argparse.SUPPRESS)
    ap.add_argument("--cold-terms", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.cold_child:
        return cold_child(args.db, args.cold_child, json.loads(args.cold_terms))
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] or list(KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise SystemExit(f"unknown kinds {unknown}; known: {', '.join(KINDS)}")
    variants = [v.strip() == "filtered" for v in args.filters.split(",") if v.strip()]
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]

    db = Database(args.db)
    with db.read() as cur:
        n_rows = cur.execute("SELECT count(*) FROM customers").fetchone()[0]
    if n_rows < MIN_ROWS and not args.quick:
        print(f"refusing: {n_rows:,} customers in {args.db}; the targets are for {MIN_ROWS:,} (use --quick)")
        return 2
    load_before = os.getloadavg()
    n_terms = max(args.rounds + 1, 8)
    actors, terms = {}, {}
    for role in roles:
        user, r = role.split(":") if ":" in role else (role, role)
        actors[role] = db.actor(user, r, "bench")
        sample = draw_sample(db, actors[role], args.seed)
        for kind in kinds:
            terms[(kind, role)] = draw_terms(sample, kind, n_terms, args.seed)
            if not terms[(kind, role)]:
                raise SystemExit(f"no {kind!r} term among {role}'s customers")
    meta = {"db": args.db, "customers": n_rows, "rounds": args.rounds, "seed": args.seed, "roles": roles,
            "kinds": kinds, "page_size": PAGE, "started": datetime.now(timezone.utc).isoformat(),
            "loadavg_before": load_before,
            "terms": {f"{k} / {r}": [asdict(t) for t in ts] for (k, r), ts in terms.items()}}

    if args.cold:
        db.close()  # the child processes open the file
        payload = meta | run_cold(args, {k: terms[(k, roles[0])] for k in kinds})
        payload["loadavg_after"] = os.getloadavg()
        print(f"load average {load_before[0]:.2f} before, {payload['loadavg_after'][0]:.2f} after;"
              f" saved {save(args.db, payload)}")
        return 0

    # The server builds the search index in the background at start; here, wait for it.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t_build, state = timed(lambda: search_index.index(db).build(background=False))
    meta["index"] = {"build_ms": t_build, "bytes": state.base.nbytes if state else None,
                     "peak_rss_mb_before": rss_before,
                     "peak_rss_mb_after": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(f"search index: built in {t_build / 1000:.1f} s, {meta['index']['bytes'] / 1e6:.0f} MB;"
          f" peak RSS {rss_before:.0f} MB before, {meta['index']['peak_rss_mb_after']:.0f} MB after")
    print(f"{n_rows:,} customers in {args.db}; {args.rounds} rounds each, first page of {PAGE} with its total;"
          f" load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(HEADER, flush=True)
    cases: list[Case] = []
    started = time.perf_counter()
    for kind in kinds:
        for filtered in variants:
            for role in roles:
                ts = terms[(kind, role)]
                case = Case(kind, filtered, role, [t.text for t in ts])
                measure(db, actors[role], case, ts, args.rounds)
                cases.append(case)
                print(row_line(case), flush=True)
    load_after = os.getloadavg()
    elapsed = time.perf_counter() - started
    mismatches = sum(len(c.mismatches) for c in cases)

    print()
    print(f"{n_rows:,} customers; {args.rounds} rounds; {elapsed:.0f} s; load average"
          f" {load_before[0]:.2f} before, {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} after")
    print(HEADER)
    for c in cases:
        print(row_line(c))
    print()
    print("\n".join(kind_medians(cases)))
    print()
    lines = summary(cases)
    print("\n".join(lines))
    payload = meta | {
        "loadavg_after": load_after, "elapsed_s": elapsed, "summary": lines,
        "cases": [{"kind": c.kind, "filtered": c.filtered, "role": c.role, **c.stats(), "terms": c.terms,
                   "hits": c.hits, "service_ms": c.service_ms, "anchor_ms": c.anchor_ms,
                   "mismatches": c.mismatches} for c in cases],
        "mismatches": mismatches,
    }
    print(f"saved {save(args.db, payload)}")
    if mismatches:
        print(f"!!! {mismatches} MISMATCH(ES) between the service and the anchor: see above")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
