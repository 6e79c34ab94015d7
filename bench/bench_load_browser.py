"""The Chromium sessions of ``bench_load.py``: Debian's Chromium (never a downloaded
browser) driven by Playwright, doing the light clients' mix the way a person does it,
and timing what the person sees: from the click / Enter until the app is idle (the
script run that the action started has finished and the status widget is gone) and
the expected text is on screen.

"Open customer" is the customer's link opened as a page (``/customer?code=…``): the
grid's link column opens it that way, so its time includes loading the app and the
login by cookie.

Selectors are the ones the browser tests use (``tests/browser/util.py``).
"""
from __future__ import annotations

import random
import re
import threading
import time

from bench_load import ROOT, T, Record
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from tests.browser.util import CHROMIUM, CHROMIUM_ARGS, login_form, logout_button, open_expander, wait_idle

FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
CODE = re.compile(r"C\d{4}-\d{6,}")  # 7 digits past the millionth customer of a year
TIMEOUT = 60_000
SHOTS = ROOT / "bench" / "results"  # a screenshot of every failed action, and the reruns asked for before it


class BrowserSession:
    def __init__(self, n: int, base_url: str, user: tuple[str, str], work: dict, rec: Record, seed: int, tag: str,
                 page, think_s):
        self.name = f"B{n:02d}-{user[0]}"
        self.base_url, self.user, self.work, self.rec, self.tag = base_url, user, work, rec, tag
        self.rng = random.Random(f"{seed}:browser:{n}")
        self.page = page
        self.think_s = think_s
        # Script runs finished, counted from the websocket frames the page receives (the
        # same ForwardMsgs the light clients read): an action waits for a run that
        # finished after it started. (The DOM's script-state attribute was tried first:
        # under load React coalesced running -> notRunning into one render, and
        # runs went uncounted.)
        self.finished = 0
        self.toasts: list[str] = []  # toasts the server sent (a toast is gone from the screen after ~4 s)
        page.on("websocket", lambda ws: (ws.on("framereceived", self._on_frame), ws.on("framesent", self._on_sent)))
        # The reruns this page asked for (time, page, query, widgets whose value changed
        # since the previous request), written beside the screenshot of a failed action.
        self.sent: list[str] = []
        self._last_widgets: dict[str, str] = {}
        self.count = self.shots = 0
        self.codes: list[str] = []

    # -- timing --------------------------------------------------------------------------
    def _on_frame(self, payload) -> None:
        if isinstance(payload, (bytes, bytearray)) and len(payload) < 2000:  # script_finished is tiny
            msg = ForwardMsg()
            msg.ParseFromString(bytes(payload))
            kind = msg.WhichOneof("type")
            if kind == "script_finished" and msg.script_finished == FINISHED:
                self.finished += 1
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element" \
                    and msg.delta.new_element.WhichOneof("type") == "toast":
                self.toasts.append(msg.delta.new_element.toast.body)

    def _on_sent(self, payload) -> None:
        msg = BackMsg()
        try:
            msg.ParseFromString(payload.encode() if isinstance(payload, str) else bytes(payload))
        except Exception:  # not a BackMsg: nothing to record
            return
        if msg.WhichOneof("type") != "rerun_script":
            return
        r = msg.rerun_script
        widgets = {w.id: str(w).replace("\n", " ")[-80:] for w in r.widget_states.widgets}
        changed = [i.rsplit("-", 1)[-1] for i, v in widgets.items() if self._last_widgets.get(i) != v]
        self._last_widgets = widgets
        self.sent = (self.sent + [f"{time.strftime('%H:%M:%S')} rerun page {r.page_script_hash[:8]} "
                                  f"query {r.query_string!r}; {len(widgets)} widgets, changed: {changed[:8]}"])[-12:]

    def runs(self) -> int:
        return self.finished

    def settle(self, before: int) -> None:
        """Until a run has finished after ``before`` had, and the app is idle."""
        deadline = time.monotonic() + TIMEOUT / 1000
        while self.finished <= before:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no script run finished within {TIMEOUT / 1000:.0f} s")
            self.page.wait_for_timeout(20)  # Playwright delivers the frame events meanwhile
        wait_idle(self.page, TIMEOUT)

    def timed(self, action: str, do, expect) -> bool:
        """``do()`` then ``expect()`` (waits for what the person should see); the time of
        both is the browser-visible time of ``action``. A failure is an error."""
        t0 = time.perf_counter()
        try:
            do()
            expect()
        except Exception as exc:  # Playwright timeouts and assertion failures alike
            self.rec.error(self.name, action, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                           f" (screenshot {self.screenshot(action)})")
            return False
        self.rec.time("browser", action, (time.perf_counter() - t0) * 1000)
        for problem in self.page_errors():
            self.rec.error(self.name, action, problem)
        return True

    def screenshot(self, action: str) -> str:
        self.shots += 1
        path = SHOTS / f"load-{self.name}-{self.shots}-{action.replace(' ', '-')}.png"
        try:
            SHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(path), full_page=True)
            path.with_suffix(".txt").write_text("\n".join(self.sent) + "\n", encoding="utf-8")
        except Exception:  # the page may be gone; the error itself is recorded
            return "-"
        return str(path.relative_to(ROOT))

    def page_errors(self) -> list[str]:
        out = []
        for loc in self.page.locator('[data-testid="stException"]').all():
            out.append("exception: " + loc.inner_text()[:200])
        for loc in self.page.locator('[data-testid="stAlertContentError"]').all():
            out.append("error: " + loc.inner_text()[:200])
        return out

    def think(self) -> None:
        self.page.wait_for_timeout(1000 * self.rng.uniform(*self.think_s))

    def sidebar_link(self, label: str):
        return self.page.locator('[data-testid="stSidebar"]').get_by_role("link", name=label)

    # -- the mix -------------------------------------------------------------------------
    def login(self) -> bool:
        page = self.page

        def form_shown():
            login_form(page).wait_for(state="visible", timeout=TIMEOUT)
            wait_idle(page, TIMEOUT)

        # A first visit (a new browser context: nothing cached) loads the app's scripts;
        # timed apart from the login itself, which is timed as the light clients time it.
        if not self.timed("open the app", lambda: page.goto(self.base_url), form_shown):
            return False

        def do():
            form = login_form(page)
            form.locator('input[type="text"]').fill(self.user[0])
            form.locator('input[type="password"]').fill(self.user[1])
            form.locator('[data-testid="stFormSubmitButton"] button').click()

        def expect():
            logout_button(page).wait_for(state="visible", timeout=TIMEOUT)
            wait_idle(page, TIMEOUT)

        return self.timed("log in", do, expect)

    def customers_page(self) -> bool:
        if self.page.get_by_role("textbox", name=T("search.label")).count() and \
                self.page.get_by_role("heading", name=T("nav.customers")).count():
            return True
        before = self.runs()
        return self.timed("customers page", lambda: self.sidebar_link(T("nav.customers")).click(),
                          lambda: (self.settle(before),
                                   self.page.get_by_role("heading", name=T("nav.customers")).wait_for(timeout=TIMEOUT)))

    def search(self) -> None:
        if not self.customers_page():
            return
        kind = self.rng.choice(sorted(self.work["terms"]))
        term = self.rng.choice(self.work["terms"][kind])
        box = self.page.get_by_role("textbox", name=T("search.label"))
        box.fill(term)
        before = self.runs()
        counted = re.compile(re.escape(T("customers.count", total="§", first="§", last="§")).replace("§", ".+?"))

        def expect():
            self.settle(before)
            self.page.get_by_text(counted).or_(self.page.get_by_text(T("customers.no_match"))).first.wait_for(
                timeout=TIMEOUT)

        if self.timed("search", lambda: box.press("Enter"), expect):
            self.codes = [c for c in CODE.findall(self.grid_text())]

    def grid_text(self) -> str:
        cells = self.page.locator('[data-testid^="glide-cell-"]')
        return " ".join(cells.all_inner_texts()) if cells.count() else ""

    def next_page(self) -> None:
        button = self.page.get_by_role("button", name=T("grid.next"))
        if not button.count() or button.is_disabled():
            return
        before = self.runs()
        self.timed("next page", button.click, lambda: self.settle(before))

    def open_customer(self) -> str | None:
        code = self.rng.choice(self.codes or self.work["codes"])

        def expect():
            self.page.get_by_text(code).first.wait_for(timeout=TIMEOUT)
            self.page.get_by_role("button", name=T("cf.save")).wait_for(timeout=TIMEOUT)
            wait_idle(self.page, TIMEOUT)

        ok = self.timed("open customer", lambda: self.page.goto(f"{self.base_url}/customer?code={code}"), expect)
        return code if ok else None

    def save_edit(self, code: str) -> None:
        page = self.page
        notes = page.get_by_role("textbox", name=T_label("notes"), exact=True)
        save = page.get_by_role("button", name=T("cf.save"))
        if not notes.count() or notes.is_disabled() or save.is_disabled():
            return
        self.count += 1
        value = f"负载测试 {self.tag} {self.name} #{self.count}"
        notes.fill(value)
        before = self.runs()
        saved = T("cf.saved_toast", code=code)
        conflict = page.get_by_role("button", name=T("grid.take_theirs"))

        def expect():
            self.settle(before)
            while saved not in self.toasts and not conflict.count():
                self.settle(self.finished)  # not yet: the toast comes with a later run

        del self.toasts[:]
        if self.timed("save edit", save.click, expect):
            if saved in self.toasts:
                self.rec.add("saves", (self.name, None, code, "notes", value))
            else:
                self.rec.add("conflicts", (self.name, code))
                before = self.runs()
                conflict.first.click()
                self.settle(before)

    def add_followup(self) -> None:
        page = self.page
        tab = page.get_by_role("tab", name=T("cf.tab.followups"))
        if not tab.count():
            return
        before = self.runs()
        tab.click()
        if self.runs() > before:
            wait_idle(page, TIMEOUT)
        panel = page.get_by_role("tabpanel").filter(has=page.get_by_role("button", name=T("cf.fu.add"), exact=True))
        if not panel.count():
            return  # read-only for this user
        open_expander(panel.first, T("cf.fu.add_title"))
        self.count += 1
        text = f"负载测试跟进 {self.tag} {self.name} #{self.count}"
        kind = panel.first.get_by_role("combobox", name=re.compile("^" + re.escape(T_label("followup_kind"))))
        if kind.count():
            kind.first.click()
            page.get_by_role("option").first.click()
        panel.first.get_by_role("textbox", name=re.compile("^" + re.escape(T_label("followup_summary")))).fill(text)
        before = self.runs()
        done = T("cf.fu.added_toast")

        def expect():
            self.settle(before)
            while done not in self.toasts:
                self.settle(self.finished)

        del self.toasts[:]

        if self.timed("add follow-up", panel.first.get_by_role("button", name=T("cf.fu.add"), exact=True).click,
                      expect):
            self.rec.add("followups", (self.name, None, self.current_code(), text))

    def current_code(self) -> str | None:
        m = re.search(r"code=(C\d{4}-\d{6})", self.page.url)
        return m.group(1) if m else None

    def analytics(self) -> None:
        before = self.runs()
        self.timed("analytics", lambda: self.sidebar_link(T("nav.analytics")).click(),
                   lambda: (self.settle(before),
                            self.page.locator(".js-plotly-plot").first.wait_for(timeout=TIMEOUT)))

    def loop_once(self, deadline: float) -> None:
        w, rng = self.work, self.rng
        self.search()
        self.think()
        if rng.random() < 0.5:
            self.next_page()
            self.think()
        if time.monotonic() > deadline:
            return
        code = self.open_customer()
        self.think()
        if code and w["can_update"] and rng.random() < 0.6:
            self.save_edit(code)
            self.think()
        if code and w["can_update"] and rng.random() < 0.4:
            self.add_followup()
            self.think()
        if time.monotonic() > deadline:
            return
        if rng.random() < 0.35:
            self.analytics()
            self.think()


def T_label(field_name: str) -> str:
    from lib.customers import fields as F

    return F.label(field_name, "zh")


class Start:
    """When the measured run begins, for the browser threads: ``begin(deadline)`` is
    called once the server has settled. Until then each thread has launched its
    Chromium and opened a blank page, so a browser's own start (its processes, a few
    hundred ms of CPU on the cores the server shares here) is not inside the run: a
    person's browser is already running, on another machine."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.deadline = 0.0
        self.t0 = 0.0

    def begin(self, deadline: float) -> None:
        self.t0, self.deadline = time.monotonic(), deadline
        self.ready.set()


def run_browser_session(n: int, base_url: str, user: tuple[str, str], work: dict, rec: Record, seed: int, tag: str,
                        start: Start, delay: float, think_s, launched: threading.Barrier | None = None) -> None:
    """One Chromium session (run in its own thread): launched at once, then from
    ``delay`` seconds after the run begins (``start``) until its deadline. Waits at
    ``launched`` (if given) once its browser is up."""
    from playwright.sync_api import sync_playwright

    name = f"B{n:02d}-{user[0]}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                              viewport={"width": 1440, "height": 900})
                context.set_default_timeout(TIMEOUT)
                page = context.new_page()
                if launched is not None:
                    launched.wait(timeout=TIMEOUT / 1000)
                start.ready.wait()
                time.sleep(max(0.0, start.t0 + delay - time.monotonic()))
                session = BrowserSession(n, base_url, user, work, rec, seed, tag, page, think_s)
                if not session.login():
                    return
                session.think()
                while time.monotonic() < start.deadline:
                    session.loop_once(start.deadline)
            finally:
                browser.close()
    except Exception as exc:
        if launched is not None:
            launched.abort()  # the run starts without waiting for this browser
        rec.error(name, "browser", f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}")
