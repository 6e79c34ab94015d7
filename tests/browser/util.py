"""Helpers for the browser tests: a seeded database, a real ``streamlit run`` on a free
port, Debian's Chromium (never a downloaded browser), and page helpers.

Import the page helpers from here in browser tests:

    from tests.browser.util import login, logout, wait_idle, shot, body_text
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Made per test run: a key written in the project is public (production refuses it).
COOKIE_KEY = secrets.token_urlsafe(48)
DEMO_CUSTOMERS = 300

# Demo logins (lib.accounts.users.DEMO_USERS), by role.
DEMO_PASSWORDS = {"admin": "admin-demo-2026", "manager": "manager-demo-2026", "sales": "sales-demo-2026",
                  "sales2": "sales2-demo-2026", "viewer": "viewer-demo-2026"}

# The page URLs app.py registers, and the URL names Streamlit's legacy pages/ mode
# derives from each file in pages/ (a fresh server answers those too).
PAGE_URLS = ("home", "customers", "new_customer", "analytics", "duplicates", "import_customers", "admin",
             "account", "customer")


def legacy_page_urls() -> list[str]:
    return sorted(p.stem for p in (ROOT / "pages").glob("*.py") if not p.name.startswith(("_", ".")))


def chromium_missing() -> bool:
    return not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK))


# -- the database ------------------------------------------------------------------------
@dataclass
class DemoData:
    path: Path
    names: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


def seed_demo_db(path: Path, customers: int = DEMO_CUSTOMERS) -> DemoData:
    """Demo users and ``customers`` demo customers in a new DuckDB file. Uses the
    command line (``lib.cli init --demo``) when it exists, else the service functions."""
    env = {**os.environ, "CM_BCRYPT_ROUNDS": "4"}
    if (ROOT / "lib" / "cli.py").exists():
        subprocess.run([sys.executable, "-m", "lib.cli", "--db", str(path), "init", "--demo",
                        "--customers", str(customers)], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)
    else:
        _seed_directly(path, customers)
    return _read_sample(path)


def _seed_directly(path: Path, customers: int) -> None:
    os.environ.setdefault("CM_BCRYPT_ROUNDS", "4")
    from lib.customers import customer as cs
    from lib.accounts import users
    from lib.core.db import Database

    surnames = "华东 宏远 天成 金桥 恒信 鼎盛 瑞丰 嘉禾 新维 中科 博远 永安 东方 明德 润泽".split()
    trades = "科技 贸易 机械 物流 食品 医药 电子 建材 软件 服装".split()
    cities = [("北京", "110000", "010"), ("上海", "310000", "021"), ("广州", "440000", "020"),
              ("杭州", "330000", "0571"), ("成都", "510000", "028")]
    industries, tiers, statuses = "CFIGMLK", "ABCD", ("active", "prospect", "dormant")
    db = Database(path)
    try:
        users.ensure_demo_users(db)
        owners = {u: db.actor(u, role, u) for u, role in (("manager", "manager"), ("sales", "sales"),
                                                           ("sales2", "sales"))}
        for i in range(customers):
            city, region, area = cities[i % len(cities)]
            actor = list(owners.values())[i % len(owners)]
            values = {
                "name": f"{city}{surnames[i % len(surnames)]}{trades[(i // 3) % len(trades)]}有限公司{i + 1}部",
                "customer_type": "company",
                "phone": f"139{(i * 7919) % 100_000_000:08d}",
                "industry": industries[i % len(industries)],
                "tier": tiers[i % len(tiers)],
                "status": statuses[i % len(statuses)],
                "region": region,
            }
            cs.create_customer(db, actor, values)
    finally:
        db.close()


def _read_sample(path: Path) -> DemoData:
    from lib.core.db import Database

    db = Database(path)
    try:
        with db.read() as cur:
            rows = cur.execute("SELECT name, code FROM customers").fetchall()
    finally:
        db.close()
    return DemoData(path=path, names=[r[0] for r in rows], codes=[r[1] for r in rows])


# -- the server --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    base_url: str
    db_path: Path
    process: subprocess.Popen
    log_path: Path

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


def start_server(name: str, db_path: Path, extra_env: dict | None = None, timeout: float = 90,
                 port: int | None = None, log_path: Path | None = None) -> Server:
    """``streamlit run server.py`` (as ``make run``) on ``port`` (default: a free one) against ``db_path``;
    returns once /_stcore/health answers. Its output goes to ``log_path`` (default
    test-artifacts/server-<name>.log)."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = port or free_port()
    env = {
        **os.environ,
        "CM_DB_PATH": str(db_path),
        "CM_COOKIE_KEY": COOKIE_KEY,
        "CM_MODE": "demo",
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        **(extra_env or {}),
    }
    log_path = log_path or ARTIFACTS / f"server-{name}.log"
    log_file = open(log_path, "w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    log_file.close()
    base_url = f"http://127.0.0.1:{port}"
    server = Server(name, base_url, db_path, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(base_url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"streamlit did not become healthy in {timeout}s:\n{server.log()}")


def copy_db(template: Path, target: Path) -> Path:
    shutil.copyfile(template, target)
    wal = template.with_name(template.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


# -- in the page -------------------------------------------------------------------------
def wait_idle(page, timeout: int = 20_000) -> None:
    """Until the script run has finished and the status widget is gone."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)


class RunWatch:
    """Script runs of one page, read from its websocket (Streamlit's own protobuf
    messages): how many reruns the browser asked for, and each run that ended since.

    The page's ``data-test-script-state`` attribute is no reliable sign of a run: React
    may draw "running" and "not running" in one commit when the browser is busy, and
    the attribute never changes. (In CI, on a loaded machine, a wait for that change
    after a search's Enter timed out; the messages on the websocket say what happened.)"""

    def __init__(self, page):
        self.page = page
        self.requests = 0  # BackMsg.rerun_script sent
        self.finished: list[tuple[int, int]] = []  # (requests sent before it, status)
        page.on("websocket", self._attach)

    def _attach(self, ws) -> None:
        if not ws.url.endswith("/_stcore/stream"):
            return
        ws.on("framesent", self._sent)
        ws.on("framereceived", self._received)

    def _sent(self, payload) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if isinstance(payload, bytes):
            msg = BackMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "rerun_script":
                self.requests += 1

    def _received(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, bytes):
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "script_finished":
                self.finished.append((self.requests, msg.script_finished))

    def wait_for_run_after(self, requests_before: int, timeout: int) -> None:
        """Until a rerun was asked for after ``requests_before`` requests and a run
        asked for then has ended (not one stopped early for a newer rerun)."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        early = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
        deadline = time.monotonic() + timeout / 1000
        while not any(sent > requests_before and status != early for sent, status in self.finished):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no script run ended after the input: {self.requests - requests_before}"
                                   f" rerun request(s) sent, runs ended since: {self.finished[-3:]}")
            self.page.wait_for_timeout(20)  # lets Playwright deliver the websocket events


_WATCHES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def watch_of(page) -> RunWatch:
    """The script runs ``watch_runs`` has been reading for ``page``."""
    return _WATCHES[page]


def watch_runs(page):
    """Start reading ``page``'s script runs; call before the page opens the app (the
    browser fixtures do it for every page their contexts open)."""
    if page not in _WATCHES:
        _WATCHES[page] = RunWatch(page)
    return page


def after_run(page, action, timeout: int = 20_000) -> None:
    """Do ``action`` (an input that starts a script run) and return once that run has
    finished and the page is drawn. ``wait_idle`` alone may return before the run
    starts: the page is still idle from the last run while the input is on its way."""
    watch = _WATCHES.get(page)
    if watch is None:
        raise RuntimeError("this page's runs are not watched: util.watch_runs(page) before it opens the app")
    before = watch.requests
    action()
    watch.wait_for_run_after(before, timeout)
    wait_idle(page, timeout)


def login_form(page):
    """The login form (language-independent selector): the form with a user name and a
    password input (the account page's password form, which may still be on screen
    while a log-out reruns, has no text input)."""
    return (page.locator('[data-testid="stForm"]').filter(has=page.locator('input[type="password"]'))
            .filter(has=page.locator('input[type="text"]')))


def wait_for_login_form(page, timeout: int = 30_000):
    form = login_form(page)
    form.wait_for(state="visible", timeout=timeout)
    wait_idle(page, timeout)
    return form


def login(page, base_url: str, username: str, password: str | None = None, path: str = "",
          timeout: int = 30_000) -> None:
    """Open ``base_url/path`` (logged out), log in through the real form, and wait until
    the logged-in app (sidebar with the log-out button) is shown."""
    page.goto(f"{base_url}/{path.lstrip('/')}")
    form = wait_for_login_form(page, timeout)
    form.locator('input[type="text"]').fill(username)
    form.locator('input[type="password"]').fill(password or DEMO_PASSWORDS[username])
    form.locator('[data-testid="stFormSubmitButton"] button').click()
    logout_button(page).wait_for(state="visible", timeout=timeout)
    # The page's cookie script writes the login and the browser cookie when the browser
    # draws it: wait until both are there, then for the app to be idle.
    deadline = time.monotonic() + timeout / 1000
    while not {"customer_master_auth", "customer_master_browser"} <= {c["name"] for c in page.context.cookies()}:
        if time.monotonic() > deadline:
            raise TimeoutError("the login cookies were not written")
        page.wait_for_timeout(50)
    wait_idle(page, timeout)


def fill_date(scope, label: str, day) -> None:
    """Type ``day`` into the date input labelled ``label`` (inside ``scope``) and close
    its calendar. Typing opens the calendar and the Enter leaves it open; on a busy
    machine it covered the form's submit button and the test's click on it timed out
    (CI). So, as a person would, Escape closes it before the test goes on."""
    box = scope.locator('[data-testid="stDateInput"]').filter(has_text=label).locator("input")
    calendar = scope.page.locator("#stFloatingOverlayPortal header")
    box.fill(day.isoformat())
    box.press("Enter")
    expect(box).to_have_value(day.isoformat())
    expect(calendar).to_be_visible()
    scope.page.keyboard.press("Escape")
    expect(calendar).to_have_count(0)
    expect(box).to_have_value(day.isoformat())


def logout_button(page):
    return page.locator('[data-testid="stSidebar"] [data-testid="stButton"] button').last


def logout(page, timeout: int = 30_000) -> None:
    logout_button(page).click()
    wait_for_login_form(page, timeout)


def open_expander(scope, label: str) -> None:
    """Open the expander titled ``label`` inside ``scope`` (if closed) and wait until its
    opening animation has finished: a select box clicked while the panel still grows
    took the focus but did not open its list (4 of 6 tries on a fresh server)."""
    summary = scope.locator("summary").filter(has_text=label)
    details = summary.locator("xpath=..")
    if details.get_attribute("open") is None:
        summary.click()
    details.locator('[data-testid="stExpanderDetails"]').wait_for(state="visible")
    # Polled, not awaited: a rerun the opening starts (``on_change="rerun"``) may cancel
    # the animation and start another.
    details.page.wait_for_function("d => d.open && d.getAnimations().length === 0", arg=details.element_handle())


def body_text(page) -> str:
    return page.locator("body").inner_text()


def describe_pages(test_name: str, contexts) -> str:
    """For a failed test: each open page's address, a screenshot in test-artifacts/, its
    visible text and its last script runs (requests sent before each, status)."""
    out = []
    pages = [p for c in contexts for p in c.pages]
    for i, p in enumerate(pages):
        try:
            path = shot(p, f"FAILED-{test_name}-{i}")
            text = p.locator("body").inner_text(timeout=5_000)
        except Exception as exc:  # a page that is gone or hangs: say so, describe the rest
            out.append(f"--- page {i}: not readable ({exc!r})")
            continue
        watch = _WATCHES.get(p)
        runs = f"rerun requests {watch.requests}, runs ended {watch.finished[-5:]}" if watch else "not watched"
        out.append(f"--- page {i}: {p.url} ({path.name}; {runs})\n{text[:3000]}")
    return "\n".join(out) or "no pages"


def shot(page, name: str) -> Path:
    """A full-page screenshot in test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def leaked(text: str, demo: DemoData) -> list[str]:
    """Demo customer names or codes that appear in ``text``."""
    return [v for v in (*demo.names, *demo.codes) if v and v in text]


# -- the customers grid ------------------------------------------------------------------
# The grid is a canvas (glide-data-grid). Cells are read from its accessibility table
# (``data-testid="glide-cell-<col>-<row>"``: stored values, i.e. codes, and only the
# columns in view) and edited like a person does it: click a cell, walk with the arrow
# keys (the grid scrolls along), Enter opens the cell's editor.
GRID_ROW_HEIGHT = 35  # rows and header, as Streamlit draws them
GRID_LEFT_OF_NAME = 36 + 36 + 120 + 60  # px of the columns left of "name": state, select, code, open
# (ui.widgets.grid_column_config)

NEXT_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def grid_columns() -> list[str]:
    from ui.widgets import grid_column_order

    return grid_column_order()  # pinned columns come first in this order too


def next_frames(page) -> None:
    """Until the browser has drawn twice: React has rendered what the last input set."""
    page.evaluate(NEXT_FRAMES)


def grid_cell(page, name: str, row: int):
    return page.locator(f'[data-testid="glide-cell-{grid_columns().index(name)}-{row}"]')


def grid_cell_text(page, name: str, row: int) -> str:
    loc = grid_cell(page, name, row)
    loc.wait_for(state="attached")
    return loc.inner_text()


def grid_selected(page, name: str, row: int):
    """The cell, once the grid reports it selected (its accessibility table says so)."""
    return page.locator(f'[data-testid="glide-cell-{grid_columns().index(name)}-{row}"][aria-selected="true"]')


def grid_point(page, row: int) -> tuple[float, float]:
    """Where the name cell of ``row`` is on screen (the grid scrolled to its top left:
    Enter on the last row in view scrolls it down a row)."""
    grid = page.locator('[data-testid="data-grid-canvas"]').first
    grid.wait_for(state="visible")
    page.locator(".dvn-scroller").first.evaluate("e => { e.scrollLeft = 0; e.scrollTop = 0; }")
    next_frames(page)
    box = grid.bounding_box()
    assert box is not None, "the grid is not on screen"
    return box["x"] + GRID_LEFT_OF_NAME + 60, box["y"] + GRID_ROW_HEIGHT * (row + 1) + GRID_ROW_HEIGHT / 2


def click_name_cell(page, row: int = 0, *, editable: bool = True) -> None:
    """Point at the name cell of ``row`` and click it, as a hand on a mouse does: the
    pointer moves onto the grid, then clicks. (Streamlit's grid ignores a click that
    arrives in the same frame as the pointer's first move onto it after the pointer
    was elsewhere; a person's pointer always travels.)"""
    x, y = grid_point(page, row)
    page.mouse.move(x - 40, y, steps=2)
    page.mouse.move(x, y, steps=2)
    next_frames(page)
    page.mouse.click(x, y)
    if editable:  # a disabled grid does not report a selection
        grid_selected(page, "name", row).wait_for(state="attached")


def walk_right(page, from_name: str, to_name: str, row: int = 0) -> None:
    cols = grid_columns()
    for _ in range(cols.index(to_name) - cols.index(from_name)):
        page.keyboard.press("ArrowRight")
    grid_selected(page, to_name, row).wait_for(state="attached")


def select_cell(page, name: str, row: int = 0) -> None:
    """Select the row's name cell and walk right to column ``name`` (the grid scrolls)."""
    click_name_cell(page, row)
    if name != "name":
        walk_right(page, "name", name, row)


def open_cell_editor(page) -> None:
    """Enter on the selected cell; returns once its text editor has the focus."""
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'TEXTAREA'")


def commit_text(page, text: str, key: str = "Tab") -> None:
    """Replace the open editor's text with ``text`` and commit it with ``key``.

    The grid's editor commits the text of its last render, not what the box holds
    (ui/grid_keys.js, point 2): Enter/Tab waits until the typed text is drawn."""
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.wait_for_function("t => document.activeElement && document.activeElement.value === t", arg=text)
    next_frames(page)
    page.keyboard.press(key)
    page.locator(".gdg-clip-region").wait_for(state="detached")  # the editor has closed


def type_on_selected_cell(page, text: str) -> None:
    """Type ``text`` on the selected cell with no delay between keys (a scanner: the first
    key opens the editor) and commit it with Enter; returns once the editor has closed."""
    page.keyboard.type(text)
    page.wait_for_function("t => document.activeElement && document.activeElement.value === t", arg=text)
    page.keyboard.press("Enter")
    page.locator(".gdg-clip-region").wait_for(state="detached")


def search_for(page, text: str) -> None:
    """Search the customers page for ``text`` (Enter in the search box)."""
    from lib.core.i18n import t

    box = page.get_by_role("textbox", name=t("search.label", "zh"))
    if box.input_value() == text:  # an unchanged value starts no run
        return
    box.fill(text)
    after_run(page, lambda: box.press("Enter"))
