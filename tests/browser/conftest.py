"""Browser fixtures: a seeded demo database, real ``streamlit run`` servers, and
Debian's Chromium driven by Playwright.

Fixtures
- ``demo_db`` (session): a DuckDB file with the demo users and 300 demo customers;
  ``.names`` / ``.codes`` list every customer, to assert nothing leaks.
- ``streamlit_server`` (session): one server shared by all browser tests that do not
  need a fresh one; ``.base_url``, ``.db_path`` (its own copy of ``demo_db``).
- ``fresh_server`` (module): a server started for the requesting test module only,
  so the module's first test is the first visitor (legacy ``pages/`` mode).
- ``browser`` (session): Chromium at /usr/bin/chromium. Missing: the tests skip, or
  fail when CI=true.
- ``page`` (function): a new incognito context (no cookies), locale zh-CN, 1440x900.
  ``new_page(locale="en-US")`` makes more.

Helpers (login, logout, wait_idle, shot, body_text, leaked) are in tests/browser/util.py.
Every test in this folder is marked ``browser``. A failed test's report ends with what
each of its pages showed (``util.describe_pages``; screenshots FAILED-*.png in
test-artifacts/).
"""
from __future__ import annotations

import os

import pytest

from tests.browser import util


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test's report ends with what each of its pages showed (a
    screenshot in test-artifacts/, the visible text, the last script runs): the CI log
    is often all there is to read."""
    outcome = yield
    report = outcome.get_result()
    make = item.funcargs.get("new_page") if report.failed and call.when == "call" else None
    if make is not None:
        report.sections.append(("what the pages showed", util.describe_pages(item.name, make.contexts)))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> util.DemoData:
    path = tmp_path_factory.mktemp("browser-db") / "demo.duckdb"
    return util.seed_demo_db(path)


@pytest.fixture(scope="session")
def _servers():
    started: list[util.Server] = []
    yield started
    for server in started:
        server.stop()


def _start(name, demo_db, tmp_path_factory, started) -> util.Server:
    db_path = util.copy_db(demo_db.path, tmp_path_factory.mktemp(f"server-{name}") / "app.duckdb")
    server = util.start_server(name, db_path)
    started.append(server)
    return server


@pytest.fixture(scope="session")
def streamlit_server(demo_db, tmp_path_factory, _servers) -> util.Server:
    return _start("shared", demo_db, tmp_path_factory, _servers)


@pytest.fixture(scope="module")
def fresh_server(request, demo_db, tmp_path_factory, _servers) -> util.Server:
    server = _start(request.module.__name__.rsplit(".", 1)[-1], demo_db, tmp_path_factory, _servers)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if util.chromium_missing():
        message = f"Chromium not found at {util.CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=util.CHROMIUM, headless=True, args=util.CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(locale: str = "zh-CN", width: int = 1440, height: int = 900):
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
        context.set_default_timeout(30_000)
        contexts.append(context)
        context.on("page", util.watch_runs)  # pages a test opens itself too
        return util.watch_runs(context.new_page())

    make.contexts = contexts  # read by pytest_runtest_makereport when a test fails
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
