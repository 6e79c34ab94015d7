"""Does a session slow down the longer it lasts? Server-side time of a rerun of the
customer page in one session after it has opened 1, 30 and 100 customers, and of the
customers page after 1 and 40 searches, with the number of session-state keys.

Runs the real app.py in-process with Streamlit's AppTest as a logged-in manager (like
bench_pages.py); the database is only read (the manager's language may be stored).

    .venv/bin/python bench/bench_session_state.py --db /tmp/dbs/k100.duckdb
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from tests.apptest_util import make_app, open_page  # noqa: E402

TERMS = ["科技", "贸易", "138", "xm", "有限", "公司", "厦门", "北京", "上海", "wang", "li", "zhang", "食品",
         "电子", "机械", "13", "15", "18", "c2026", "深圳"]


def _keys(at) -> int:
    return len(at.session_state._state.filtered_state)  # AppTest's view has no keys()


def _reruns(at, rounds: int) -> float:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        at.run()
        out.append((time.perf_counter() - t) * 1000)
        if at.exception:
            raise SystemExit(str(at.exception[0].value))
    return statistics.median(out)


def customer_page(db: str, codes: list[str], opened: int, rounds: int) -> tuple[int, float]:
    at = make_app(db, "manager", lang="zh")
    at.query_params["code"] = codes[0]
    open_page(at, "customer").run()
    for code in codes[1:opened]:
        at.query_params["code"] = code
        at.run()
    at.query_params["code"] = codes[0]
    at.run()
    return _keys(at), _reruns(at, rounds)


def customers_page(db: str, searches: int, rounds: int) -> tuple[int, float]:
    at = make_app(db, "manager", lang="zh")
    open_page(at, "customers").run()
    for i in range(searches):
        at.text_input(key="flt_text").input(TERMS[i % len(TERMS)] + ("" if i < len(TERMS) else str(i)))
        at.run()
    return _keys(at), _reruns(at, rounds)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--rounds", type=int, default=15, help="reruns timed after each session (median)")
    args = ap.parse_args(argv)
    with duckdb.connect(args.db, read_only=True) as con:
        codes = [r[0] for r in con.execute(
            "SELECT code FROM customers WHERE NOT archived USING SAMPLE 100 ROWS").fetchall()]
    print("page       after               state keys   rerun median ms")
    for opened in (1, 30, 100):
        keys, ms = customer_page(args.db, codes, opened, args.rounds)
        print(f"customer   {opened:>3} customers opened {keys:>10} {ms:>14.1f}")
    for searches in (1, 40):
        keys, ms = customers_page(args.db, searches, args.rounds)
        print(f"customers  {searches:>3} searches        {keys:>10} {ms:>14.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
