"""A person logging in with Chromium, one at a time against a real server (issue 8 §6:
what a person sees, target 2 s). Each login in a new browser context (no cookies, no
cache, as a first visit): open the address, wait for the login form ("form"), type and
send, wait for the home page's heading and the log-out button ("home shown"), then for
the two login cookies and the page to be idle after any further run ("settled": when
the last script run's end reached the browser; before the cookies were written by
script, each cookie's writer asked for a run of its own). Also per login: the server
process's CPU (from /proc, in 10 ms ticks) and the script runs the browser asked for.

With ``--returning``, a person who comes back: every login (the warm-up's included) in
one browser context, in a new tab, and logged out through the sidebar's button
afterwards, so the browser keeps the app's scripts in its cache (Streamlit serves them
as immutable) and the browser cookie, but no login cookie.

    .venv/bin/python bench/bench_browser_login.py --db /tmp/dbs/m1.duckdb --logins 10 --settle 150
    .venv/bin/python bench/bench_browser_login.py --db /tmp/dbs/k100.duckdb --logins 10 --returning

Works on a copy of ``--db`` (never written). The first login after the start is a
warm-up and not counted; at 1M, ``--settle`` waits for the search index build the first
request starts. Debian's Chromium (``/usr/bin/chromium``), never a downloaded browser.
To compare with other code, run this script from a worktree of that commit.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from playwright.sync_api import sync_playwright  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from bench_load import proc_cpu_s  # noqa: E402
from lib.core import i18n  # noqa: E402
from tests.browser.util import (CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORDS, login_form, logout,  # noqa: E402
                                logout_button, start_server, wait_idle, watch_of, watch_runs)

WAIT_MS = 60_000
COOKIES = {"customer_master_auth", "customer_master_browser"}


def new_context(browser):
    return browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})


def one_login(browser, base_url: str, user: str, pid: int, returning=None) -> dict[str, float]:
    """One login in a new browser context, or in a new tab of ``returning`` (a context
    kept between logins), logging out afterwards."""
    context = returning or new_context(browser)
    page = watch_runs(context.new_page())
    finished: list[float] = []  # when each script run's end reached the browser

    def received(payload) -> None:
        if isinstance(payload, bytes):
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "script_finished":
                finished.append(time.perf_counter())

    page.on("websocket", lambda ws: ws.on("framereceived", received))
    try:
        cpu0, t0 = proc_cpu_s(pid), time.perf_counter()
        page.goto(base_url)
        form = login_form(page)
        form.wait_for(state="visible", timeout=WAIT_MS)
        wait_idle(page, WAIT_MS)
        t_form = time.perf_counter()
        form.locator('input[type="text"]').fill(user)
        form.locator('input[type="password"]').fill(DEMO_PASSWORDS[user])
        form.locator('[data-testid="stFormSubmitButton"] button').click()
        page.get_by_role("heading", name=i18n.t("nav.home", "zh")).wait_for(timeout=WAIT_MS)
        logout_button(page).wait_for(state="visible", timeout=WAIT_MS)
        t_home = time.perf_counter()
        while not COOKIES <= {c["name"] for c in context.cookies()}:
            if time.perf_counter() - t0 > WAIT_MS / 1000:
                raise TimeoutError("the login cookies were not written")
            page.wait_for_timeout(20)
        wait_idle(page, WAIT_MS)
        page.wait_for_timeout(1000)  # a run the browser asked for may still be on its way when the page looks idle
        wait_idle(page, WAIT_MS)
        cpu = proc_cpu_s(pid) - cpu0
        out = {"form": t_form - t0, "home shown": t_home - t0, "settled": finished[-1] - t0,
               "server CPU": cpu, "runs asked": watch_of(page).requests}
        if returning is not None:
            logout(page, WAIT_MS)
            if "customer_master_auth" in {c["name"] for c in context.cookies()}:
                raise RuntimeError("the login cookie is still there after logging out")
        return out
    finally:
        if returning is None:
            context.close()
        else:
            page.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, type=Path, help="a demo database (copied, never written)")
    ap.add_argument("--logins", type=int, default=10)
    ap.add_argument("--user", default="manager", choices=sorted(DEMO_PASSWORDS))
    ap.add_argument("--settle", type=float, default=2.0, help="seconds to wait after the warm-up login")
    ap.add_argument("--returning", action="store_true",
                    help="one browser context for every login, logged out after each (its cache kept)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="browserlogin-"))
    copy = work / "db.duckdb"
    shutil.copyfile(args.db, copy)
    server = start_server("browserlogin", copy, timeout=180, log_path=work / "server.log")
    results: list[dict[str, float]] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            kept = new_context(browser) if args.returning else None
            one_login(browser, server.base_url, args.user, server.process.pid, kept)  # warm-up
            time.sleep(args.settle)
            for _ in range(args.logins):
                results.append(one_login(browser, server.base_url, args.user, server.process.pid, kept))
            browser.close()
    finally:
        server.stop(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.logins} {'returning ' if args.returning else 'first-visit '}logins of {args.user} with Chromium"
          f" on {args.db} (code of {ROOT});"
          f" load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'':14s} {'median':>8s} {'max':>8s}")
    for name in results[0]:
        vs = [r[name] for r in results]
        unit = 1000 if name != "runs asked" else 1
        print(f"{name:14s} {statistics.median(vs) * unit:8.0f} {max(vs) * unit:8.0f}"
              + ("  ms" if name != "runs asked" else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
