"""AppTest helpers for page tests: run the real ``app.py`` as a given user.

    from tests.apptest_util import make_app, open_page, nav_paths

    at = make_app(db_path, "manager", lang="en")   # logged in, language fixed
    open_page(at, "new_customer").run()              # a page by its url_path
    assert "new_customer" in nav_paths(at)

``db_path`` must hold the user (e.g. the ``db`` fixture of tests/conftest.py, which
creates admin, manager, sales, sales2 and viewer): the gate loads the actor from the
database by username on every run, so an unknown or inactive user is logged out.

``make_app`` points ``CM_DB_PATH`` at ``db_path`` for this process (AppTest runs the
script in-process; ``ui.context.database()`` caches one Database per path, so every
test can use its own file). Pages are registered as callables under a ``url_path``, so
``AppTest.switch_page("pages/<name>.py")`` cannot find them; use ``open_page``.

Why app.py is run through a one-line wrapper script instead of ``AppTest.from_file``:
AppTest resets Streamlit's process-wide "legacy ``pages/`` folder" flag before every
run, so each run starts as on a freshly started server, where a request for
``customers``, ``analytics`` or ``account`` runs ``pages/<name>.py`` directly; that
file sends the user to ``app.py`` and the run lands on the default page instead of
the page under test. A real server leaves that mode for good once any session calls
``st.navigation``; the wrapper (in a folder without ``pages/``) behaves like that warm
server. The fresh-server behaviour is covered by the browser tests.
"""
from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 30  # AppTest's default of 3 s is flaky on two busy cores

# Every page's url_path, as app.py registers them ("login" only while logged out).
PAGE_PATHS = ("home", "customers", "new_customer", "analytics", "duplicates", "import_customers", "admin",
              "account", "customer")
LOGIN_PATH = "login"
LANDING_PATH = PAGE_PATHS[0]  # every role's default page after login

_WRAPPER = f"""
import runpy, sys
sys.path.insert(0, {str(ROOT)!r})
runpy.run_path({APP!r}, run_name="__main__")
"""


def make_app(db_path, username: str | None = None, lang: str = "zh") -> AppTest:
    """An AppTest of app.py on ``db_path``; logged in as ``username`` if given (the
    seam streamlit-authenticator reads: ``authentication_status`` and friends), in
    ``lang`` ('zh' or 'en'). Call ``.run()`` on it (or ``open_page(at, ...).run()``)."""
    os.environ["CM_DB_PATH"] = str(db_path)
    os.environ.setdefault("CM_BCRYPT_ROUNDS", "4")
    at = AppTest.from_string(_WRAPPER, default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    if username is not None:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
        at.session_state["name"] = username
        at.session_state["roles"] = None  # the gate reads the role from the database
        # The language was chosen by the test: do not replace it with the user's stored one.
        at.session_state["cm_lang_loaded_for"] = username
    return at


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Request the page registered under ``url_path`` on the next ``run()``. A page the
    user may not open is not registered; the run then shows the default page."""
    at._page_hash = calc_hash(url_path.strip("/"))  # AppTest has no public API for this
    return at


def nav_paths(at: AppTest) -> list[str]:
    """The url_paths the last run registered with st.navigation (hidden ones too).
    (Streamlit reports the default page's path as ""; match by hash instead.)"""
    registered = at._registered_pages
    return [p for p in (LOGIN_PATH, *PAGE_PATHS) if calc_hash(p) in registered]


def current_page(at: AppTest) -> str | None:
    """The url_path of the page the last run showed. (A logged-in user's landing page,
    the first of ``PAGE_PATHS``, is served at "/": ui.nav.logged_in_pages.)"""
    finished = at._finished_page_script_hash
    if finished == calc_hash("") and LANDING_PATH in nav_paths(at):
        return LANDING_PATH
    return next((p for p in (LOGIN_PATH, *PAGE_PATHS) if calc_hash(p) == finished), None)


def texts(at: AppTest) -> str:
    """All visible text of the last run (main area and sidebar), for 'not shown' checks."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "error", "warning",
                 "info", "success", "exception"):
        for el in getattr(at, kind):
            parts.append(str(getattr(el, "value", "")))
    for df in at.dataframe:
        parts.append(df.value.to_string())
    return "\n".join(parts)


def open_customer(db_path, username, code, lang="zh"):
    """A new session of ``username`` on the customer page of ``code``, run once."""
    at = make_app(db_path, username, lang=lang)
    at.query_params["code"] = code
    open_page(at, "customer").run()
    assert not at.exception, at.exception
    return at


def run(at):
    """Run and fail on any exception the script raised."""
    at.run()
    assert not at.exception, at.exception
    return at


def open_filters(at, page: str):
    """Open the filter panel of ``page`` ("customers", "analytics"), as a click on its
    title does (its inputs are drawn only while it is open), and run."""
    from ui import widgets as W

    at.session_state[W.FILTER_PANEL + page] = True
    return run(at)


def click(at, widget_key):
    """Click the button ``widget_key`` and run."""
    at.button(key=widget_key).click()
    return run(at)
