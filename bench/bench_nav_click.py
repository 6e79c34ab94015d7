"""Is a click on a sidebar link ever lost? In Debian's Chromium (Playwright, never a
downloaded browser), log in as a salesperson, then N times: open one of their customers
by its link (``/customer?code=…``, as the grid's link column does), wait until it is
shown (with --edit: save an edit of its notes), pause 0.3-1.5 s, click "Customers" in the sidebar and wait up to 15 s for that
page. Prints each lost click with the websocket messages after it (the reruns the
browser asked for, what the server answered) and the count. Run it on a loaded machine
too: the lost clicks were a race.

With --home-tab, each round instead opens the home page from the sidebar, clicks one of
its other tabs (tabs as a widget: the click reruns the page to draw that tab's list),
pauses 0-1.5 s (0-0.3 s in half the rounds: the tab's run may still be going) and then
clicks "Customers"; it also counts the runs the browser asked for per tab click.

    .venv/bin/python bench/bench_nav_click.py --db /tmp/dbs/k2.duckdb --clicks 50
    .venv/bin/python bench/bench_nav_click.py --db /tmp/dbs/k2.duckdb --clicks 50 --home-tab

Works on a copy of ``--db`` (never written) with its own server.
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from lib.accounts.users import DEMO_USERS  # noqa: E402
from lib.core import i18n  # noqa: E402
from lib.customers import fields as F  # noqa: E402
from tests.browser.util import CHROMIUM, CHROMIUM_ARGS, login_form, logout_button, start_server, wait_idle  # noqa: E402

WAIT_MS = 60_000


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, type=Path, help="a demo database (copied, never written)")
    ap.add_argument("--clicks", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--edit", action="store_true", help="save an edit of the notes before each click")
    ap.add_argument("--home-tab", action="store_true",
                    help="click one of the home page's other tabs before each click (instead of opening a customer)")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    password = {u: p for u, _, _, p in DEMO_USERS}["sales"]
    work = Path(tempfile.mkdtemp(prefix="navclick-"))
    copy = work / "db.duckdb"
    shutil.copy(args.db, copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        codes = [r[0] for r in con.execute(
            "SELECT code FROM customers WHERE owner = 'sales' AND NOT archived LIMIT 200").fetchall()]
    server = start_server("navclick", copy, log_path=work / "server.log")
    log: list[tuple[float, str]] = []

    def sent(payload) -> None:
        msg = BackMsg()
        msg.ParseFromString(payload.encode() if isinstance(payload, str) else bytes(payload))
        if msg.WhichOneof("type") == "rerun_script":
            r = msg.rerun_script
            log.append((time.time(), f"browser asks: rerun page {r.page_script_hash[:8]} query {r.query_string!r}"
                                     f" ({len(r.widget_states.widgets)} widget values)"))

    def received(payload) -> None:
        if isinstance(payload, str):
            return
        msg = ForwardMsg()
        msg.ParseFromString(bytes(payload))
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            log.append((time.time(), f"server runs page {msg.new_session.page_script_hash[:8]}"))
        elif kind == "script_finished":
            log.append((time.time(), f"server finished ({msg.script_finished})"))

    lost = 0
    asked_per_tab: list[int] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.on("websocket", lambda ws: (ws.on("framesent", sent), ws.on("framereceived", received)))
            page.goto(server.base_url)
            form = login_form(page)
            form.wait_for(timeout=WAIT_MS)
            wait_idle(page, WAIT_MS)
            form.locator('input[type="text"]').fill("sales")
            form.locator('input[type="password"]').fill(password)
            form.locator('[data-testid="stFormSubmitButton"] button').click()
            logout_button(page).wait_for(timeout=WAIT_MS)
            wait_idle(page, WAIT_MS)
            lang = "zh" if page.get_by_role("link", name=i18n.t("nav.customers", "zh")).count() else "en"

            def click_customers(i: int) -> bool:
                """Click "Customers" in the sidebar; whether its page came (else print what happened)."""
                log.clear()
                t0 = time.time()
                sidebar = page.locator('[data-testid="stSidebar"]')
                sidebar.get_by_role("link", name=i18n.t("nav.customers", lang)).click()
                try:
                    page.get_by_role("heading", name=i18n.t("nav.customers", lang)).wait_for(timeout=15_000)
                    wait_idle(page, 15_000)
                    return True
                except Exception:
                    shot = work / f"lost-{i}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    print(f"click {i}: lost ({shot})")
                    for ts, what in log:
                        print(f"  {ts - t0:7.3f} s  {what}")
                    return False

            for i in range(args.clicks):
                if args.home_tab:
                    page.locator('[data-testid="stSidebar"]').get_by_role("link", name=i18n.t("nav.home", lang)).click()
                    page.get_by_role("heading", name=i18n.t("nav.home", lang)).wait_for(timeout=WAIT_MS)
                    wait_idle(page, WAIT_MS)
                    page.wait_for_timeout(rng.uniform(300, 1500))
                    tab = rng.choice(["needs", "not_reviewed", "recent"])
                    log.clear()
                    page.get_by_role("tab", name=i18n.t(f"home.tab_{tab}", lang)).click()
                    if rng.random() < 0.5:
                        page.wait_for_timeout(rng.uniform(0, 300))
                    else:
                        wait_idle(page, WAIT_MS)
                        page.wait_for_timeout(rng.uniform(0, 1500))
                        asked_per_tab.append(sum("browser asks" in what for _, what in log))
                    lost += not click_customers(i)
                    continue
                code = rng.choice(codes)
                page.goto(f"{server.base_url}/customer?code={code}")
                page.get_by_text(code).first.wait_for(timeout=WAIT_MS)
                page.get_by_role("button", name=i18n.t("cf.save", lang)).wait_for(timeout=WAIT_MS)
                wait_idle(page, WAIT_MS)
                if args.edit:
                    page.wait_for_timeout(rng.uniform(300, 1500))
                    notes = page.get_by_role("textbox", name=F.label("notes", lang), exact=True)
                    notes.fill(f"bench_nav_click {i}")
                    page.get_by_role("button", name=i18n.t("cf.save", lang)).click()
                    page.get_by_text(i18n.t("cf.saved_toast", lang, code=code)).first.wait_for(timeout=WAIT_MS)
                    wait_idle(page, WAIT_MS)
                page.wait_for_timeout(rng.uniform(300, 1500))
                lost += not click_customers(i)
            browser.close()
    finally:
        server.stop()
    print(f"lost clicks: {lost} of {args.clicks}")
    if asked_per_tab:
        print(f"runs the browser asked for per tab click (settled ones): {sorted(asked_per_tab)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
