"""The app shell in AppTest: login gate, role gating, sidebar, language, production
refusal, revocation, error boundary, account page; plus lib.core.config."""
from __future__ import annotations

import ast
import base64
import json
import logging
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import jwt
import pytest

import pages.account
import ui.auth as ui_auth
from lib.accounts import sessions
from lib.core import config as app_config
from lib.accounts import users
from lib.core.db import Database
from lib.core.errors import NotFound
from lib.core.i18n import LANGS, MESSAGES, t
from tests.apptest_util import current_page, make_app, nav_paths, open_page, texts
from tests.conftest import TEST_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = app_config.new_cookie_key()  # made now: a key written here would be public


@pytest.fixture(autouse=True)
def app_env(monkeypatch, db_path):
    monkeypatch.setenv("CM_DB_PATH", str(db_path))
    monkeypatch.setenv("CM_COOKIE_KEY", GOOD_KEY)
    monkeypatch.delenv("CM_MODE", raising=False)
    monkeypatch.delenv("CM_COOKIE_EXPIRY_DAYS", raising=False)


@pytest.fixture
def demo_db_path(db_path):
    database = Database(db_path)
    users.ensure_demo_users(database)
    database.close()
    return db_path


def run(at):
    at.run()
    assert not at.exception, at.exception
    return at


def submit_login(at, username: str, password: str):
    assert [w.label for w in at.text_input] == [t("auth.username", at.session_state["lang"]),
                                                 t("auth.password", at.session_state["lang"])]
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    return run(at)


def logged_in_user(at) -> str | None:
    actor = at.session_state["cm_actor"] if "cm_actor" in at.session_state else None
    return actor.username if actor else None


def logout_button(at):
    return next(b for b in at.sidebar.button if b.key == "cm_logout")


# -- the login form ------------------------------------------------------------------------
def test_logged_out_every_page_url_shows_the_login_form(demo_db_path):
    at = run(make_app(demo_db_path))
    assert sorted(nav_paths(at)) == sorted(["login", "home", "customers", "new_customer", "analytics", "duplicates",
                                            "import_customers", "admin", "account", "customer"])
    for path in ("home", "customers", "new_customer", "analytics", "duplicates", "import_customers", "admin",
                 "account", "customer"):
        run(open_page(at, path))
        assert current_page(at) == path
        assert len(at.text_input) == 2 and logged_in_user(at) is None
        assert len(at.sidebar) == 0


def test_the_real_form_logs_in_a_demo_user_on_the_page_asked_for(demo_db_path):
    at = run(open_page(make_app(demo_db_path), "analytics"))
    submit_login(at, "manager", "manager-demo-2026")  # the page asked for, in the same run
    assert logged_in_user(at) == "manager"
    assert current_page(at) == "analytics"
    run(at)  # a rerun (a widget, a language switch)
    assert logged_in_user(at) == "manager"
    assert current_page(at) == "analytics"
    assert at.title[0].value == t("nav.analytics", "zh")
    sidebar = texts(at)
    assert "王经理 Manager" in sidebar and t("shell.role", "zh", role="经理") in sidebar
    assert logout_button(at).label == t("auth.logout", "zh")


@pytest.mark.parametrize("username", ["manager", "no-such-user"])
def test_a_wrong_password_says_so_and_shows_no_page(db, db_path, make_customer, username):
    secret = make_customer(name="机密客户有限公司")
    at = run(make_app(db_path, lang="en"))
    submit_login(at, username, "wrong-password-123")
    assert [e.value for e in at.error] == [t("auth.invalid_credentials", "en")]
    assert logged_in_user(at) is None and at.session_state["authentication_status"] is not True
    shown = texts(at)
    assert secret["name"] not in shown and secret["code"] not in shown
    assert len(at.sidebar) == 0


def test_repeated_failures_delay_the_next_attempt_and_the_message_stays(demo_db_path):
    at = run(make_app(demo_db_path, lang="en"))
    for _ in range(5):
        submit_login(at, "sales", "wrong-password-123")
    submit_login(at, "sales", "sales-demo-2026")
    [error] = at.error
    seconds = int(re.search(r"in (\d+) s", error.value).group(1))
    assert 0 < seconds <= 30 and error.value == t("auth.login_delayed", "en", seconds=seconds)
    assert logged_in_user(at) is None
    run(at)  # a rerun (a widget, a language switch) keeps the message, counting down
    [error] = at.error
    assert 0 < int(re.search(r"in (\d+) s", error.value).group(1)) <= seconds
    assert len(at.text_input) == 2


def test_a_wrong_password_message_stays_after_a_rerun(demo_db_path):
    at = run(make_app(demo_db_path, lang="en"))
    submit_login(at, "sales", "wrong-password-123")
    run(at)
    assert [e.value for e in at.error] == [t("auth.invalid_credentials", "en")]
    submit_login(at, "sales", "sales-demo-2026")
    assert len(at.error) == 0
    run(at)
    assert logged_in_user(at) == "sales"


def test_a_login_whose_run_streamlit_stops_after_the_password_check_is_finished(demo_db_path, monkeypatch):
    """A rerun request can arrive while a login is under way (on a fresh server the
    library's cookie component, drawn then, sent one); Streamlit stops a run at any
    st.session_state access when a newer rerun request waits. Here the run stops at the
    first access after the password check passed."""
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
    from streamlit.runtime.state.safe_session_state import SafeSessionState

    armed, stops = [], []
    real_check = users.verify_credentials

    def check(*args, **kwargs):
        actor = real_check(*args, **kwargs)
        armed.append(True)  # a rerun request arrives during the check
        return actor

    def stop_when_armed(real):
        def access(self, *args):
            if armed:
                armed.clear()
                stops.append(args[0])
                raise RerunException(RerunData())  # what Streamlit does with the waiting request
            return real(self, *args)
        return access

    monkeypatch.setattr(users, "verify_credentials", check)
    monkeypatch.setattr(SafeSessionState, "__getitem__", stop_when_armed(SafeSessionState.__getitem__))
    monkeypatch.setattr(SafeSessionState, "__setitem__", stop_when_armed(SafeSessionState.__setitem__))
    with_cookies(monkeypatch, {})
    at = run(make_app(demo_db_path, lang="en"))
    submit_login(at, "manager", "manager-demo-2026")  # the stopped run, then the waiting one
    assert len(stops) == 1
    assert logged_in_user(at) == "manager"
    written = {c["cookie"]: c["value"] for c in cookie_calls(at) if c["method"] == "set"}
    assert set(written) == {app_config.COOKIE_NAME, ui_auth.BROWSER_COOKIE}
    assert sessions.read_login_token(written[app_config.COOKIE_NAME], GOOD_KEY)["username"] == "manager"
    run(at)  # the next run sends the same script
    assert logged_in_user(at) == "manager"
    assert {c["cookie"]: c["value"] for c in cookie_calls(at) if c["method"] == "set"} == written


# -- cookies -------------------------------------------------------------------------------------
def with_cookies(monkeypatch, cookies: dict) -> None:
    """What the browser sends (AppTest cannot send cookies)."""
    monkeypatch.setattr(ui_auth, "request_cookies", lambda: cookies)


def cookie_calls(at) -> list[dict]:
    """What the last run's cookie script has the browser do: {"method": "set", "cookie",
    "value", "expires" (ms since 1970)} or {"method": "delete", "cookie"}."""
    calls = []
    for element in [*at.main, *at.sidebar]:
        found = re.fullmatch(r"<script>\(function\(\)\{var d=(\{.*?\});.*</script>",
                             getattr(getattr(element, "proto", None), "body", "") or "", re.S)
        if found:
            d = json.loads(found.group(1))
            calls += [{"method": "set", "cookie": n, "value": v, "expires": e} for n, v, e in d["set"]]
            calls += [{"method": "delete", "cookie": n} for n in d["delete"]]
    return calls


def cookie_components(at) -> list:
    """Components drawn by the cookie manager of the library (none: each would ask for a
    rerun once the browser had run it)."""
    return [e for e in [*at.main, *at.sidebar]
            if "cookie_manager" in getattr(getattr(e, "proto", None), "component_name", "")]


def login_cookie(db, username: str, lifetime: float = 7, key: str | None = None) -> str:
    return sessions.login_token(sessions.start(db, username, lifetime), key or GOOD_KEY)


def test_a_cookie_naming_an_active_session_logs_in(db, db_path, monkeypatch):
    with_cookies(monkeypatch, {app_config.COOKIE_NAME: login_cookie(db, "viewer")})
    at = run(make_app(db_path, lang="en"))
    assert logged_in_user(at) == "viewer" and cookie_calls(at) == []


def test_no_cookie_component_is_drawn_the_cookies_are_read_on_the_server(db, db_path, monkeypatch):
    # The library's reader component ("getAll") only reran the page once it had loaded
    # in the browser, and a click on another page's link in that moment was lost.
    with_cookies(monkeypatch, {app_config.COOKIE_NAME: login_cookie(db, "viewer")})
    at = run(make_app(db_path, lang="en"))
    assert logged_in_user(at) == "viewer" and cookie_components(at) == []


def test_a_login_writes_its_cookies_by_script_with_no_rerun_and_keeps_sending_the_same(demo_db_path, monkeypatch):
    # Written by components, each cookie asked for a rerun once the browser had written
    # it, with the page the browser showed then: a click on a sidebar link just before
    # was overtaken, and the person stayed where they were. The script asks for nothing.
    with_cookies(monkeypatch, {})
    at = run(make_app(demo_db_path, lang="en"))
    submit_login(at, "manager", "manager-demo-2026")
    assert logged_in_user(at) == "manager" and current_page(at) == "home"
    calls = cookie_calls(at)
    assert {c["cookie"] for c in calls} == {app_config.COOKIE_NAME, ui_auth.BROWSER_COOKIE}
    assert {c["method"] for c in calls} == {"set"} and cookie_components(at) == []
    days = {c["cookie"]: (c["expires"] / 1000 - time.time()) / 86400 for c in calls}
    assert days[app_config.COOKIE_NAME] == pytest.approx(app_config.load_config().cookie_expiry_days, abs=0.01)
    assert days[ui_auth.BROWSER_COOKIE] == pytest.approx(sessions.BROWSER_COOKIE_DAYS, abs=0.01)
    run(open_page(at, "customers"))  # the next run draws the same script (the browser runs it once)
    assert current_page(at) == "customers" and cookie_calls(at) == calls


def test_the_cookie_script_cannot_be_ended_by_a_value_and_sets_every_cookie_for_the_site():
    script = ui_auth.cookie_script({"a": ("x</script><script>alert(1)", 1_700_000_000_000)}, ["b"])
    assert script.count("</script>") == 1 and script.endswith("</script>")
    assert "\\u003c/script>" in script
    assert ";path=/;expires=" in script and ";SameSite=Strict" in script and "encodeURIComponent(c[1])" in script


def test_a_copied_cookie_stays_logged_out_after_log_out_even_with_a_shorter_lifetime(db, db_path, monkeypatch):
    cookie = login_cookie(db, "sales")
    with_cookies(monkeypatch, {app_config.COOKIE_NAME: cookie})
    at = run(make_app(db_path, lang="en"))
    assert logged_in_user(at) == "sales"
    logout_button(at).click()
    run(at)
    assert logged_in_user(at) is None
    assert cookie_calls(at) == [{"method": "delete", "cookie": app_config.COOKIE_NAME}]  # in the log-out's run
    assert cookie_components(at) == []
    # The copy is sent again after a restart with a shorter cookie lifetime.
    monkeypatch.setenv("CM_COOKIE_EXPIRY_DAYS", "0.5")
    again = run(make_app(db_path, lang="en"))
    assert logged_in_user(again) is None and len(again.text_input) == 2
    assert {"method": "delete", "cookie": app_config.COOKIE_NAME} in [
        {k: c[k] for k in ("method", "cookie")} for c in cookie_calls(again)]


def alg_none_token(claims: dict) -> str:
    part = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


FUTURE = 4_102_444_800  # 2100-01-01


@pytest.mark.parametrize("make_cookie", [
    lambda db: alg_none_token({"username": "admin", "exp_date": FUTURE, "sid": "x"}),
    lambda db: jwt.encode({"username": "admin", "exp_date": FUTURE}, GOOD_KEY, algorithm="HS512"),
    lambda db: jwt.encode({"username": "admin", "exp_date": FUTURE}, GOOD_KEY, algorithm="HS256"),  # no session
    lambda db: jwt.encode({"username": "admin", "exp_date": "soon", "sid": "x"}, GOOD_KEY, algorithm="HS256"),
    lambda db: login_cookie(db, "admin", key=app_config.new_cookie_key()),  # another key
    lambda db: "not-a-token",
], ids=["alg-none", "hs512", "no-session-id", "bad-expiry", "other-key", "garbage"])
def test_a_cookie_that_does_not_verify_means_logged_out_and_is_removed(db, db_path, monkeypatch, make_cookie):
    with_cookies(monkeypatch, {app_config.COOKIE_NAME: make_cookie(db)})
    at = run(make_app(db_path, lang="en"))
    assert logged_in_user(at) is None
    assert len(at.text_input) == 2 and len(at.error) == 0  # the login form, no "something went wrong"
    assert [c["method"] for c in cookie_calls(at)] == ["delete"]
    run(at)  # the next run does not try it again; it draws the same deletion (run once by the browser)
    assert logged_in_user(at) is None and len(at.text_input) == 2
    assert cookie_calls(at) == [{"method": "delete", "cookie": app_config.COOKIE_NAME}]


def test_a_form_login_writes_a_session_cookie_and_a_browser_cookie(demo_db_path, monkeypatch):
    with_cookies(monkeypatch, {})
    at = run(make_app(demo_db_path, lang="en"))
    submit_login(at, "sales", "sales-demo-2026")
    written = {c["cookie"]: c["value"] for c in cookie_calls(at) if c["method"] == "set"}
    assert set(written) == {app_config.COOKIE_NAME, ui_auth.BROWSER_COOKIE}
    claims = sessions.read_login_token(written[app_config.COOKIE_NAME], GOOD_KEY)
    database = Database(demo_db_path)
    try:
        assert claims["username"] == "sales" and sessions.is_active(database, claims["sid"], "sales", 7)
        browser = sessions.read_browser_token(written[ui_auth.BROWSER_COOKIE], GOOD_KEY)
        with database.read() as cur:
            assert sessions.is_trusted(cur, browser, "sales")
    finally:
        database.close()


def test_the_user_gets_in_from_their_own_browser_while_strangers_hammer_their_name(demo_db_path, monkeypatch):
    database = Database(demo_db_path)
    try:
        own = sessions.new_browser_id()
        users.verify_credentials(database, "sales", "sales-demo-2026", own)  # logged in from it before
    finally:
        database.close()
    with_cookies(monkeypatch, {})  # strangers: browsers without the user's browser cookie
    stranger = run(make_app(demo_db_path, lang="en"))
    for i in range(7):
        submit_login(stranger, "sales", f"guess-number-{i}")
    assert [e.value.split(".")[0] for e in stranger.error] == [t("auth.login_delayed", "en").split(".")[0]]

    with_cookies(monkeypatch, {ui_auth.BROWSER_COOKIE: sessions.browser_token(own, GOOD_KEY)})
    user = run(make_app(demo_db_path, lang="en"))
    submit_login(user, "sales", "sales-demo-2026")
    run(user)
    assert logged_in_user(user) == "sales"


def test_an_unknown_or_inactive_user_in_the_session_is_not_let_in(db, db_path):
    at = run(make_app(db_path, "ghost"))
    assert logged_in_user(at) is None and len(at.text_input) == 2
    users.set_active(db, None, "sales", False)
    at = run(make_app(db_path, "sales"))
    assert logged_in_user(at) is None and len(at.text_input) == 2


# -- server-side revocation ------------------------------------------------------------
def test_a_password_reset_ends_a_running_session(demo_db_path):
    at = run(make_app(demo_db_path))
    submit_login(at, "sales", "sales-demo-2026")
    run(at)
    assert logged_in_user(at) == "sales"
    database = Database(demo_db_path)
    users.set_password(database, None, "sales", "a-new-password-1")
    run(at)
    assert logged_in_user(at) is None
    assert [i.value for i in at.info] == [t("auth.session_ended", "zh")]
    assert len(at.text_input) == 2 and len(at.sidebar) == 0


def test_deactivation_ends_a_running_session(db, db_path):
    at = run(make_app(db_path, "sales"))
    assert logged_in_user(at) == "sales"
    users.set_active(db, None, "sales", False)
    run(at)
    assert logged_in_user(at) is None


# -- role gating ----------------------------------------------------------------------------
@pytest.mark.parametrize("role, expected", [
    ("admin", ["home", "customers", "new_customer", "analytics", "duplicates", "import_customers", "admin",
               "account", "customer"]),
    ("manager", ["home", "customers", "new_customer", "analytics", "duplicates", "import_customers", "account",
                 "customer"]),
    ("sales", ["home", "customers", "new_customer", "analytics", "duplicates", "account", "customer"]),
    ("viewer", ["home", "customers", "analytics", "account", "customer"]),
])
def test_the_navigation_holds_only_the_pages_of_the_role(db, db_path, role, expected):
    at = run(make_app(db_path, role))
    assert nav_paths(at) == expected


def test_a_viewer_cannot_reach_the_entry_form(db, db_path):
    at = run(make_app(db_path, "viewer"))
    run(open_page(at, "new_customer"))
    assert current_page(at) == "home"  # the default page, not the form
    assert at.title[0].value == t("nav.home", "zh")
    with pytest.raises(ValueError):
        at.switch_page("pages/new_customer.py")


def test_the_navigation_follows_the_permission_table(db, db_path):
    # Pages are rows of role_permissions: a revoked page leaves the menu, a granted one joins it.
    with db.transaction() as cur:
        cur.execute("DELETE FROM role_permissions WHERE role = 'sales' AND action = 'page.analytics'")
        cur.execute("INSERT INTO role_permissions VALUES ('viewer', 'page.new_customer', 'all', 99)")
    db.invalidate("permissions")
    assert nav_paths(run(make_app(db_path, "sales"))) == ["home", "customers", "new_customer", "duplicates", "account",
                                                          "customer"]
    assert nav_paths(run(make_app(db_path, "viewer"))) == ["home", "customers", "new_customer", "analytics", "account",
                                                           "customer"]


# -- sidebar: language and log-out --------------------------------------------------------
def test_the_language_switch_changes_labels_and_is_remembered(db, db_path):
    at = run(make_app(db_path, "manager", lang="zh"))
    assert at.title[0].value == t("nav.home", "zh")
    at.sidebar.radio(key="cm_lang_switch").set_value("en")
    run(at)
    assert at.title[0].value == t("nav.home", "en")
    assert logout_button(at).label == t("auth.logout", "en")
    assert users.preferred_lang(db, "manager") == "en"

    # A new session of the same user starts in the remembered language.
    again = make_app(db_path, "manager", lang="zh")
    del again.session_state["cm_lang_loaded_for"]
    run(again)
    assert again.title[0].value == t("nav.home", "en")


def test_the_default_language_follows_the_browser(db, db_path):
    at = make_app(db_path, "manager")
    del at.session_state["lang"]
    at.context = {"locale": "en-GB"}
    run(at)
    assert at.title[0].value == t("nav.home", "en")


def test_log_out_removes_every_page(db, db_path):
    at = run(make_app(db_path, "manager"))
    logout_button(at).click()
    run(at)
    assert logged_in_user(at) is None
    assert sorted(nav_paths(at)) == sorted(["login", "home", "customers", "new_customer", "analytics", "duplicates",
                                            "import_customers", "admin", "account", "customer"])
    assert len(at.text_input) == 2 and len(at.sidebar.button) == 0
    assert "Manager" not in texts(at)
    run(at)  # a rerun
    assert logged_in_user(at) is None and len(at.sidebar) == 0


# -- production mode -------------------------------------------------------------------------
def test_production_refuses_to_start_with_an_active_demo_user(demo_db_path, monkeypatch):
    monkeypatch.setenv("CM_MODE", "production")
    at = run(make_app(demo_db_path, lang="en"))
    [error] = at.error
    assert error.value.startswith(t("config.refuse_title", "en"))
    assert t("config.demo_users_active", "en", users="admin, manager, sales, sales2, viewer") in error.value
    assert len(at.text_input) == 0  # no login form


def test_production_refuses_a_weak_key_even_for_a_logged_in_session(db, db_path, monkeypatch):
    monkeypatch.setenv("CM_MODE", "production")
    weak = "our-customer-master-cookie-key-" + str(random.randrange(10**12, 10**13))  # in no project file
    monkeypatch.setenv("CM_COOKIE_KEY", weak)
    at = run(make_app(db_path, "admin", lang="en"))
    assert t("config.cookie_key_sample", "en") in at.error[0].value
    assert len(at.title) == 0


def test_production_starts_with_a_good_key_and_no_demo_user(db, db_path, monkeypatch):
    monkeypatch.setenv("CM_MODE", "production")
    at = run(make_app(db_path, "admin", lang="en"))
    assert len(at.error) == 0 and at.title[0].value == t("nav.home", "en")


# -- error boundary ---------------------------------------------------------------------------
def test_an_unexpected_error_shows_an_id_and_logs_the_traceback(db, db_path, monkeypatch, caplog):
    def broken():
        raise RuntimeError("database exploded")

    monkeypatch.setattr(pages.account, "render", broken)
    caplog.set_level(logging.ERROR, logger="customer_master")
    at = run(open_page(make_app(db_path, "manager", lang="en"), "account"))
    [error] = at.error
    match = re.search(r"error id ([0-9a-f]{8})", error.value)
    assert match, error.value
    assert "database exploded" not in error.value and "RuntimeError" not in error.value
    [record] = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert record.exc_info and "database exploded" in str(record.exc_info[1])
    assert len(at.sidebar.button) >= 1  # the frame around the page still works


def test_a_typed_error_is_shown_in_the_users_language(db, db_path, monkeypatch):
    def missing():
        raise NotFound(ref="C2026-999999")

    monkeypatch.setattr(pages.account, "render", missing)
    at = run(open_page(make_app(db_path, "manager", lang="zh"), "account"))
    assert [e.value.replace("\\", "") for e in at.error] == [t("error.not_found", "zh", ref="C2026-999999")]


# -- account page -------------------------------------------------------------------------------
def account_form(at):
    gen = at.session_state["account_form_generation"] if "account_form_generation" in at.session_state else 0
    return (at.text_input(key=f"acc_current_{gen}"), at.text_input(key=f"acc_new_{gen}"),
            at.text_input(key=f"acc_repeat_{gen}"))


def change_password(at, current, new, repeat=None):
    cur, new_w, rep = account_form(at)
    cur.input(current)
    new_w.input(new)
    rep.input(new if repeat is None else repeat)
    next(b for b in at.button if b.label == t("account.submit", at.session_state["lang"])).click()
    return run(at)


def test_account_page_refuses_bad_input_and_keeps_it(db, db_path):
    at = run(open_page(make_app(db_path, "sales", lang="en"), "account"))
    assert at.title[0].value == t("nav.account", "en")
    change_password(at, "not-my-password", "a-new-password-1")
    assert [e.value for e in at.error] == [t("auth.wrong_current_password", "en")]
    assert [w.value for w in account_form(at)] == ["not-my-password", "a-new-password-1", "a-new-password-1"]

    change_password(at, TEST_PASSWORD, "short", "short")
    assert [e.value for e in at.error] == [t("auth.password_too_short", "en", min=users.MIN_PASSWORD)]

    change_password(at, TEST_PASSWORD, "a-new-password-1", "a-new-password-2")
    assert [e.value for e in at.error] == [t("account.passwords_differ", "en")]
    users.verify_credentials(db, "sales", TEST_PASSWORD)  # unchanged


def test_account_page_changes_the_password_and_keeps_this_session(db, db_path):
    at = run(open_page(make_app(db_path, "sales", lang="en"), "account"))
    change_password(at, TEST_PASSWORD, "a-new-password-1")
    assert [x.value for x in at.toast] == [t("account.password_changed", "en")]
    assert [w.value for w in account_form(at)] == ["", "", ""]
    run(at)
    assert logged_in_user(at) == "sales" and current_page(at) == "account"
    users.verify_credentials(db, "sales", "a-new-password-1")


# -- user text as markup ------------------------------------------------------------------------
MARKUP_NAME = "<b>Bold</b> :material/home: :red[x] $x$ *y*"


def test_the_escape_helpers_keep_markup_literal():
    from ui.format import md_escape, plotly_text

    # Markdown: backslashes before syntax; the closing colon of a :shortcode: is cut off
    # by an invisible word joiner (Streamlit matches icons and emoji after parsing).
    escaped = md_escape(MARKUP_NAME)
    assert ":material/home:" not in escaped.replace("\\", "") and "home\u2060\\:" in escaped
    assert escaped.replace("\\", "").replace("\u2060", "") == MARKUP_NAME
    assert "\\<b\\>" in escaped and "\\:red\\[x\\]" in escaped and "\\$x\\$" in escaped
    assert md_escape(":smile: 10:30:45") == "\\:smile\u2060\\: 10\\:30\u2060\\:45"
    assert md_escape("Name: x") == "Name\\: x"  # a lone colon stays as it was
    # Plotly: HTML tags and entities shown as typed.
    assert plotly_text("<b>x</b> &lt;") == "&lt;b&gt;x&lt;/b&gt; &amp;lt;"


def test_one_markdown_and_one_plotly_helper_serve_ui_and_pages():
    sources = {p: p.read_text(encoding="utf-8") for d in ("ui", "pages") for p in (ROOT / d).glob("*.py")}
    helpers = [str(p.relative_to(ROOT)) for p, text in sources.items()
               if re.search(r"^def \w*(escape|plotly_text)\w*\(", text, re.M)]
    assert helpers == ["ui/format.py"]
    assert "unsafe_allow_html" not in "".join(sources.values())


def test_a_display_name_with_markup_is_shown_as_typed(db, db_path):
    from lib.customers import customer as cs
    from tests.conftest import customer_values
    from ui.format import md_escape, plotly_text

    marked = users.create_user(db, None, "marked", MARKUP_NAME, "sales", TEST_PASSWORD)
    at = run(open_page(make_app(db_path, "marked", lang="en"), "account"))
    sidebar = [m.value for m in at.sidebar.markdown]
    assert f"**{md_escape(MARKUP_NAME)}**" in sidebar
    assert any(md_escape(MARKUP_NAME) in m.value for m in at.main.markdown)
    assert MARKUP_NAME not in texts(at)

    cs.create_customer(db, db.actor(marked.username, marked.role, marked.display_name), customer_values())
    at = run(open_page(make_app(db_path, "manager", lang="en"), "analytics"))
    shown = [json.loads(c.proto.spec)["data"][0] for c in at.get("plotly_chart")]
    [owner] = [d for d in shown if [plotly_text(MARKUP_NAME)] in d["customdata"]]  # hover text
    assert plotly_text(MARKUP_NAME)[:20] in owner["y"][0]  # axis label (shortened)
    assert not any("<b>" in json.dumps(d, ensure_ascii=False) for d in shown)


# -- module structure ---------------------------------------------------------------------------
def ui_imports() -> dict[str, set[str]]:
    """ui module -> the ui modules it imports anywhere (function-level imports too)."""
    graph = {}
    for path in (ROOT / "ui").glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "ui":
                deps |= {f"ui.{a.name}" for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ui."):
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("ui.")}
        graph[f"ui.{path.stem}"] = deps
    return graph


def test_ui_modules_import_each_other_without_cycles():
    graph = ui_imports()

    def reaches(start, goal, seen=()):
        return any(d == goal or (d not in seen and reaches(d, goal, (*seen, d))) for d in graph.get(start, ()))

    cycles = sorted(m for m in graph if reaches(m, m))
    assert cycles == []


# -- make run ----------------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_run_serves_the_loopback_address_unless_told_otherwise():
    def command(*args):
        out = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
        return next(line for line in out.splitlines() if "streamlit run server.py" in line)

    assert "--server.address 127.0.0.1 " in command() and "--server.port 8501" in command()
    assert "--server.address 0.0.0.0 " in command("ADDRESS=0.0.0.0")
    assert "--server.port 8600" in command("PORT=8600")


# -- lib.core.config ---------------------------------------------------------------------------------
def test_config_reads_env_before_the_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\ncookie_key = "from-the-file-7f3a9c1e5b2d4c6e8a0b1c3d5e7f"\n')
    from_file = app_config.load_config({}, app_config.read_secrets(secrets))
    assert from_file.cookie_key.startswith("from-the-file") and from_file.mode == "demo"
    from_env = app_config.load_config({"CM_COOKIE_KEY": "env-key"}, app_config.read_secrets(secrets))
    assert from_env.cookie_key == "env-key"
    assert app_config.read_secrets(tmp_path / "missing.toml") == {}


WEAK_KEYS = [
    "some_key",  # streamlit-authenticator's default
    "please-change-me-to-a-long-random-string-1234",
    "a" * 64,
    "0123456789abcdef" * 4,  # hex, but a repeated piece
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",  # the alphabet in order
    "correct horse battery staple correct horse battery staple",  # a passphrase, not random bytes
    "MyCompanyCustomerMasterCookieKey2026!",
    "MyCompanyCustomerMasterCookieKeyForProduction2026",  # 36 bytes of base64, but words
    "kkkkkkkk3f9c1e7a5b2d4c6e8a0b1c3d5e7f9a2b4c6d8e0f",  # one case only
    "3F9C1E7A5B2D4C6E8a0b1c3d5e7f9a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f",  # hex in two cases
    "Zq3-81kfP0x",  # random-looking but 8 bytes
]


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_production_refuses_weak_keys(key, tmp_path):
    problems = app_config.key_problems(key, root=tmp_path)  # an empty project: none is "published"
    assert [p.key for p in problems] in (["config.cookie_key_sample"], ["config.cookie_key_short"])
    config = app_config.load_config({"CM_MODE": "production", "CM_COOKIE_KEY": key}, {})
    assert app_config.startup_problems(config)
    demo = app_config.load_config({"CM_COOKIE_KEY": key}, {})
    assert app_config.startup_problems(demo) == []  # demo mode always starts


def test_production_refuses_a_key_written_in_the_project(tmp_path):
    published = app_config.new_cookie_key()
    assert app_config.key_problems(published, root=tmp_path) == []
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text(f"KEY = {published!r}\n")
    [problem] = app_config.key_problems(published, root=tmp_path)
    assert (problem.key, problem.params) == ("config.cookie_key_public", {"path": "tests/conftest.py"})
    # The keys the project's own tests and docs write are found in the real project.
    written_here = "Kq7vT2xW9mLp4RzB8nYc3HdF6sJg1QaE5uVt0XoI-kNbMwZyLr"  # random, but in this file
    assert app_config.key_problems(written_here, root=tmp_path) == []
    assert [p.key for p in app_config.key_problems(written_here)] == ["config.cookie_key_public"]
    assert [p.key for p in app_config.key_problems(None)] == ["config.cookie_key_missing"]


def test_generated_keys_pass_and_the_refusals_say_how_to_make_one(tmp_path):
    rng = random.Random(6)
    keys = [app_config.new_cookie_key()]
    for _ in range(500):  # what generators write: hex and base64 of 32 or 48 random bytes
        raw = rng.randbytes(rng.choice((32, 48)))
        keys += [raw.hex(), raw.hex().upper(), base64.urlsafe_b64encode(raw).decode().rstrip("="),
                 base64.b64encode(raw).decode()]
    refused = [k for k in keys if app_config.key_problems(k, root=tmp_path)]
    assert refused == []
    for key in ("config.cookie_key_sample", "config.cookie_key_short", "config.cookie_key_public"):
        for lang in LANGS:
            assert "python -m lib.cli secrets --print" in t(key, lang, min=32, path="x")


def test_an_unknown_mode_is_refused():
    assert [p.key for p in app_config.startup_problems(app_config.load_config({"CM_MODE": "prod"}, {}))] == [
        "config.bad_mode"]


def test_new_cookie_keys_pass_the_production_rules():
    assert app_config.key_problems(app_config.new_cookie_key()) == []


# -- drift: every label of the shell exists in both languages -----------------------------------
SHELL_FILES = ["app.py", "ui/auth.py", "ui/shell.py", "ui/context.py", "pages/account.py", "lib/core/config.py"]
KEY_RE = re.compile(r"^(app|nav|page|auth|shell|config|account|error)\.[a-z0-9_.]+$")


def test_every_key_the_shell_uses_exists_in_both_languages():
    used = set()
    for name in SHELL_FILES:
        for node in ast.walk(ast.parse((ROOT / name).read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY_RE.match(node.value)
                    and not node.value.endswith((".py", ".toml"))):
                used.add(node.value)
    assert len(used) > 30
    missing = sorted(k for k in used if k not in MESSAGES or set(MESSAGES[k]) != set(LANGS))
    assert missing == []


def test_the_apps_database_caps_duckdbs_memory_as_configured(demo_db_path, monkeypatch):
    from tests.test_db import duckdb_reading_of, memory_limit_of
    from ui import context

    monkeypatch.setenv("CM_DUCKDB_MEMORY_LIMIT", "300MB")
    run(make_app(demo_db_path))
    assert memory_limit_of(context.database()) == duckdb_reading_of("300MB")


def test_a_bad_memory_limit_is_a_message_not_a_crash(db_path, monkeypatch):
    monkeypatch.setenv("CM_DUCKDB_MEMORY_LIMIT", "lots")
    at = run(make_app(db_path, lang="en"))
    assert [e.value for e in at.error] == [t("config.bad_memory_limit", "en", value="lots")]


@pytest.mark.parametrize("lang", LANGS)
def test_forgot_your_password_says_whom_to_ask_and_logs_nobody_in(demo_db_path, lang):
    at = run(make_app(demo_db_path, lang=lang))
    help_text = t("auth.forgot_password_help", lang, page=t("nav.admin", lang))
    assert t("nav.admin", lang) in help_text
    assert help_text not in [i.value for i in at.info]
    forgot = at.button(key=ui_auth.FORGOT_KEY)
    assert forgot.label == t("auth.forgot_password", lang)
    forgot.click()
    run(at)
    assert [i.value for i in at.info] == [help_text]
    assert logged_in_user(at) is None and len(at.text_input) == 2  # still the login form
