"""The login gate: streamlit-authenticator for the cookie, the database for everything
that decides who may come in.

One ``Gate`` (and so one ``Authenticate``) is built per script run: the library keeps
per-user state on the instance, so an instance at module level or in
``st.cache_resource`` would be shared between users.

What the library does: logs a session in from the cookie, keeps
``authentication_status`` / ``username`` / ``name`` / ``roles`` in the session. What
this module and the database do: draw the login form and check the password in its
button's callback (``lib.accounts.users.verify_credentials``, with its delays per
browser; see ``_CHECKS`` for why a callback), and, through methods replaced on the
library's instance, write and read the cookie's value (``lib.accounts.sessions``: a
signed token naming a server-side session). The cookies are read on the server
(``request_cookies``) and written and deleted by a script the page runs in the browser
(``cookie_script``), not by the library's cookie component: each of its writes asked
for a rerun of the page. Every run asks the database whether this session is still
active. A cookie that does not verify, or whose session has ended, means "logged out"
and is deleted. The library's own form, password check and counters are never used.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable, Mapping, Sequence

import extra_streamlit_components as stx
import streamlit as st
import streamlit_authenticator as stauth
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit_authenticator.models import cookie_model as _library_cookie_model
from streamlit_authenticator.utilities import LoginError

from lib.accounts import sessions, users
from lib.core.clock import utcnow
from lib.core.config import AppConfig, load_config
from lib.core.errors import AuthError
from lib.accounts.permissions import Actor
from ui import context
from ui.format import script_data

log = logging.getLogger(__name__)

# Session keys this module owns (the library owns name, username, roles, email,
# authentication_status, logout, init, password_hint).
SESSION_KEY = "cm_login_session"  # (username, id of the row in login_sessions) of this session
SEEN_KEY = "cm_session_seen"  # (session id, when its last action was written)
BROWSER_KEY = "cm_browser_id"  # this browser's id (from its cookie, or issued at login)
NOTICE_KEY = "cm_auth_notice"  # message key shown above the login form once
LOGIN_ERROR_KEY = "cm_login_error"  # (key, params, show until) of the last refused login
LANG_LOADED_KEY = "cm_lang_loaded_for"  # whose stored language this session applied
LOGIN_FORM_KEY = "cm_login"
FORGOT_KEY = "cm_login_forgot"  # "forgot your password?" under the form
USERNAME_KEY = "cm_login_username"
PASSWORD_KEY = "cm_login_password"
LOGOUT_BUTTON_KEY = "cm_logout"  # never "logout": the library owns that key
RENEW_COOKIE_KEY = "cm_renew_cookie"  # write a fresh cookie in the next run
BROWSER_COOKIE = "customer_master_browser"
COOKIES_KEY = "cm_cookies"  # name -> (value, expiry in ms since 1970): the cookies this session's browser holds
DROP_COOKIE_KEY = "cm_drop_cookie"  # the login cookie is to be deleted (logged out, or it did not verify)


# Login checks, keyed by Streamlit's id of the browser session that submitted the form
# (never shared with another session). Why not in st.session_state: every
# st.session_state read or write is a point where Streamlit stops a run for a newer
# rerun request, and a stopped run's button click is gone; and when a request arrives
# while a run is inside a callback, Streamlit may start the next run on a new thread
# while the callback (bcrypt, ~0.3 s) is still going. On a freshly started server the
# library's cookie component (no longer drawn) mounted a second time (its element id
# changed once the page was known) and its value arrived ~1 s after the login form
# appeared: a login submitted then was lost (the form stayed filled, nothing happened).
# So the button's callback records the check here before anything else, and the run
# finishes the login once the check is done (``Gate._finish_login_check``), waiting for
# it if it is still going.
@dataclass
class _LoginCheck:
    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    username: str | None = None  # set when the password was right
    session_secret: str | None = None
    error: tuple | None = None  # (message key, params, show until) when refused


_CHECKS: dict[str, _LoginCheck] = {}
_CHECKS_LOCK = threading.Lock()
_CHECK_TTL = 120.0  # seconds; a check nobody came back for is dropped
_CHECK_WAIT = 10.0  # seconds a run waits for a check still under way


def _browser_session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def _submit_login(db, lifetime_days: float, browser: str) -> None:
    """The login button's callback: check the password and record the outcome in
    ``_CHECKS`` (see there why not in the session state)."""
    check = _LoginCheck()
    now = time.monotonic()
    with _CHECKS_LOCK:
        for sid in [k for k, v in _CHECKS.items() if now - v.started > _CHECK_TTL]:
            del _CHECKS[sid]
        _CHECKS[_browser_session_id()] = check
    try:
        username = st.session_state.get(USERNAME_KEY) or ""
        password = (st.session_state.get(PASSWORD_KEY) or "").strip()  # as the library did
        try:
            actor = users.verify_credentials(db, username, password, browser)
        except AuthError as exc:  # wrong password / unknown user (same words) or delayed
            seconds = exc.params.get("seconds")
            check.error = (exc.key, dict(exc.params), utcnow() + timedelta(seconds=seconds) if seconds else None)
            return
        check.session_secret = sessions.start(db, actor.username, lifetime_days).secret
        check.username = actor.username
    finally:
        check.done.set()


def request_cookies() -> Mapping[str, str]:
    """The cookies the browser sent when this session connected. (AppTest cannot send
    cookies; the tests replace this function.)"""
    return st.context.cookies


def session_id(username: str) -> str | None:
    """The id of this browser session's login session, if it is ``username``'s."""
    stored = st.session_state.get(SESSION_KEY)
    return stored[1] if isinstance(stored, tuple) and stored[0] == username else None


class _ServerSideCookies(dict):
    """The cookies the browser sent; deleting one it did not send is no error."""

    def __delitem__(self, name: str) -> None:
        self.pop(name, None)


class _NoCookieComponent:
    """Where the library keeps the component its manager draws. Nothing here draws it
    (the cookie script writes and deletes the cookies); a library path that would (its
    own login form, its logout button) is not used, and fails loudly if it ever is."""

    def __getattr__(self, name: str):
        raise RuntimeError(f"the library's cookie component ({name}) is not drawn: see ui.auth.cookie_script")


class _CookieManagerWithoutReader(stx.CookieManager):
    """The library's cookie manager, minus the component it draws to read every cookie
    ("getAll", key "init"). The cookies are read on the server (``st.context.cookies``:
    ``request_cookies``), so that component's only effect was a rerun of the page once
    it had loaded in the browser, seconds after the page was shown on a busy server: a
    click on another page's link in that moment was lost, the rerun taking the page it
    was drawn on (bench/bench_load.py's Chromium sessions, docs/design.md "Login").
    Nothing draws the component: the cookie script writes and deletes the cookies."""

    def __init__(self, key: str = "init"):  # noqa: ARG002 (the library's signature)
        self.cookie_manager = _NoCookieComponent()
        self.cookies = _ServerSideCookies(request_cookies())


# The library builds its manager as ``stx.CookieManager()`` in its cookie model.
_library_cookie_model.stx = type("_Stx", (), {"CookieManager": _CookieManagerWithoutReader})


# The cookie script shows nothing, but an element drawn in one run and gone in the next
# moves everything below it (a click aimed at a grid row just after logging in landed on
# the next row, when the cookies were written by components). It is drawn in one area
# out of the page's flow.
COOKIE_AREA = "cm_cookie_area"
COOKIE_AREA_STYLE = (f"<style>.st-key-{COOKIE_AREA} {{ position: absolute; width: 1px; height: 0;"
                     " overflow: hidden; }</style>")


def _expiry_ms(lifetime: timedelta) -> int:
    """When a cookie written now for ``lifetime`` expires, in ms since 1970 (UTC)."""
    return int((time.time() + lifetime.total_seconds()) * 1000)


def cookie_script(writes: Mapping[str, tuple[str, int]], deletes: Sequence[str]) -> str:
    """A script that writes each cookie of ``writes`` (name -> (value, expiry in ms since
    1970)) and deletes each of ``deletes``, for the whole site, sent only with requests
    from the site itself (``SameSite=Strict``), its value URI-encoded as the library's
    component wrote it. No value can end the script (``ui.format.script_data``)."""
    data = script_data({"set": [[n, v, e] for n, (v, e) in sorted(writes.items())], "delete": list(deletes)})
    return ("<script>(function(){var d=" + data + ";"
            "d.set.forEach(function(c){document.cookie=c[0]+'='+encodeURIComponent(c[1])"
            "+';path=/;expires='+new Date(c[2]).toUTCString()+';SameSite=Strict';});"
            "d.delete.forEach(function(n){document.cookie=n+'=;path=/;expires=Thu, 01 Jan 1970 00:00:00 GMT"
            ";SameSite=Strict';});})();</script>")


class Gate:
    """Who is this session? Build once per run: ``Gate(db, config)``."""

    def __init__(self, db, config: AppConfig):
        st.html(COOKIE_AREA_STYLE)  # style only: Streamlit gives it no room on the page
        self._cookie_area = st.container(key=COOKIE_AREA)
        self.db = db
        self.config = config
        self._key = config.signing_key()
        self._cookie_session: str | None = None
        self._cookie_dropped = False
        self._cookie_script = ""  # the cookie script drawn in this run
        self.must_change_password = False  # set by current_actor
        # Only active users, rebuilt every run, so a deactivated user's cookie is
        # refused by the library itself; no password hashes are handed over.
        credentials = {
            "usernames": {
                u.username: {"name": u.display_name, "email": u.email, "roles": [u.role]}
                for u in users.active_users(db)
            }
        }
        with self._cookie_area:
            self.authenticator = stauth.Authenticate(
                credentials,
                config.cookie_name,
                self._key,
                config.cookie_expiry_days,
                auto_hash=False,
                login_sleep_time=0,
            )
        model = self.authenticator.authentication_controller.authentication_model
        model.check_credentials = self._library_password_check
        cookie = self.authenticator.cookie_controller.cookie_model
        cookie.get_cookie = self._read_login_cookie
        cookie._token_encode = self._login_cookie_value

    # -- the credential check and the cookie, as the library calls them -----------------
    @staticmethod
    def _library_password_check(username: str, password: str) -> bool:
        # The library's own login form is never drawn (``login_form`` draws ours), so
        # its password check must never run; if it did, it would refuse.
        raise AuthError("auth.invalid_credentials")

    def _finish_login_check(self) -> None:
        """Finish this browser session's login check, if one was submitted: show its
        refusal, or mark the session logged in as the library would and write the
        cookies. Every step can be repeated, so a run stopped in here is finished by
        the next one."""
        sid = _browser_session_id()
        with _CHECKS_LOCK:
            check = _CHECKS.get(sid)
        if check is None or not check.done.wait(_CHECK_WAIT):
            return
        if check.error is not None:
            st.session_state[LOGIN_ERROR_KEY] = check.error
        elif check.username is not None:
            self._log_in(check.username, check.session_secret)
        with _CHECKS_LOCK:
            if _CHECKS.get(sid) is check:
                del _CHECKS[sid]

    def _log_in(self, username: str, secret: str) -> None:
        model = self.authenticator.authentication_controller.authentication_model
        user = model.credentials["usernames"].get(username)
        if user is None:  # deactivated since the check
            return
        st.session_state[SESSION_KEY] = (username, secret)
        # The session was started just now with its last action at its start: nothing to write.
        st.session_state[SEEN_KEY] = (secret, utcnow())
        if st.session_state.get("username") != username or not st.session_state.get("authentication_status"):
            for key, value in (("email", user.get("email")), ("name", user.get("name")), ("roles", user.get("roles")),
                               ("username", username), ("authentication_status", True)):
                st.session_state[key] = value
        st.session_state[RENEW_COOKIE_KEY] = True  # written by current_actor in this run
        st.session_state.pop(DROP_COOKIE_KEY, None)
        st.session_state.pop(LOGIN_ERROR_KEY, None)
        st.session_state[PASSWORD_KEY] = ""  # the login is logged with its audit entry (users.verify_credentials)

    def _login_cookie_value(self) -> str:
        """The value the library writes as the login cookie: this session's token."""
        username = st.session_state.get("username") or ""
        secret = session_id(username)
        if not secret:  # never expected: every login starts a session first
            secret = sessions.start(self.db, username, self.config.cookie_expiry_days).secret
            st.session_state[SESSION_KEY] = (username, secret)
        issued, expires = sessions.lifetime(self.db, secret) or (utcnow(), utcnow())
        return sessions.login_token(sessions.LoginSession(secret, username, issued, expires), self._key)

    def _read_login_cookie(self) -> dict | None:
        """The login cookie's claims if it names an active session; anything else (no
        cookie, a token that does not verify, an ended session) is None, and a cookie
        that is there but not good is deleted."""
        if st.session_state.get("logout"):  # logged out in this session: ignore the cookie
            return None
        raw = request_cookies().get(self.config.cookie_name)
        if raw is None:
            return None
        claims = sessions.read_login_token(raw, self._key)
        if claims is None or not sessions.is_active(self.db, claims["sid"], claims["username"],
                                                    self.config.cookie_expiry_days):
            log.info("login cookie refused: it does not verify or its session has ended")
            self._drop_cookie()
            return None
        self._cookie_session = claims["sid"]
        return claims

    def _browser_id(self) -> str:
        """This browser's id: from its signed browser cookie, else one issued now (and
        written as a cookie if a login succeeds)."""
        if st.session_state.get(BROWSER_KEY):
            return st.session_state[BROWSER_KEY]
        known = sessions.read_browser_token(request_cookies().get(BROWSER_COOKIE), self._key)
        st.session_state[BROWSER_KEY] = known or sessions.new_browser_id()
        st.session_state[BROWSER_KEY + "_written"] = known is not None
        return st.session_state[BROWSER_KEY]

    def _queue_cookies(self) -> None:
        """Have the browser hold a fresh login cookie (and the browser cookie, if this
        browser has none)."""
        username = st.session_state.get("username") or ""
        cookies = dict(st.session_state.get(COOKIES_KEY) or {})
        cookies[self.config.cookie_name] = (self._login_cookie_value(),
                                            _expiry_ms(timedelta(days=self.config.cookie_expiry_days)))
        if username and not st.session_state.get(BROWSER_KEY + "_written") and st.session_state.get(BROWSER_KEY):
            cookies[BROWSER_COOKIE] = (sessions.browser_token(st.session_state[BROWSER_KEY], self._key),
                                       _expiry_ms(timedelta(days=sessions.BROWSER_COOKIE_DAYS)))
            st.session_state[BROWSER_KEY + "_written"] = True
        st.session_state[COOKIES_KEY] = cookies

    def _draw_cookie_script(self) -> None:
        """Draw the script that writes this session's cookies (``COOKIES_KEY``) or deletes
        the login cookie (``DROP_COOKIE_KEY``), on every run while there is one: the
        browser runs it when it first draws it, and keeps the drawn element while later
        runs send the same text, so it runs once. Drawn again, it is there even if the
        run that drew it first was cut short by the next one before its messages left
        the server (Streamlit drops the unsent messages of a run it replaces)."""
        writes = st.session_state.get(COOKIES_KEY) or {}
        drop = [self.config.cookie_name] if st.session_state.get(DROP_COOKIE_KEY) else []
        script = cookie_script(writes, drop) if writes or drop else ""
        if script and script != self._cookie_script:
            with self._cookie_area:
                st.html(script, unsafe_allow_javascript=True)
            self._cookie_script = script

    # -- who is logged in ------------------------------------------------------------
    def current_actor(self) -> Actor | None:
        """Resolve this run's user (session, else cookie) and check it against the
        database. Sets ``st.session_state[context.ACTOR_KEY]`` and returns the actor;
        draws the cookie script."""
        try:
            return self._resolve_actor()
        finally:
            self._draw_cookie_script()

    def _resolve_actor(self) -> Actor | None:
        st.session_state[context.ACTOR_KEY] = None  # never a previous run's actor
        self._finish_login_check()
        was_logged_in = bool(st.session_state.get("authentication_status"))
        try:
            # 'unrendered': read the cookie but draw nothing; the form is drawn by
            # the login page (``login_form``) if this returns None.
            self.authenticator.login(location="unrendered")
        except LoginError:
            # A validly signed cookie for a user who is not (or no longer) active.
            self._drop_cookie()
            return self._set_actor(None)
        if not st.session_state.get("authentication_status"):
            return self._set_actor(None)

        username = st.session_state.get("username") or ""
        if session_id(username) is None:
            if not was_logged_in and self._cookie_session:  # logged in by the cookie in this very call
                secret = self._cookie_session
            else:  # only a login seeded by a test (tests/apptest_util.py) gets here
                secret = sessions.start(self.db, username, self.config.cookie_expiry_days).secret
            st.session_state[SESSION_KEY] = (username, secret)
        user, actor = _checked(self.db, username, session_id(username), self.config.cookie_expiry_days)
        # A password an administrator set must be replaced first (app.py).
        self.must_change_password = bool(user and user.must_change_password)
        if actor is None:
            log.info("session of %r ended: user inactive, unknown or session ended", username)
            self.end_session(notice="auth.session_ended")
            return None
        self._note_action(session_id(username))
        if st.session_state.pop(RENEW_COOKIE_KEY, False):
            self._queue_cookies()
        self._apply_stored_lang(username)
        return self._set_actor(actor)

    def _note_action(self, secret: str) -> None:
        """This run is an action of the session: its idle time starts again
        (``sessions.seen``, written at most once every ``sessions.SEEN_EVERY``)."""
        now = utcnow()
        last = st.session_state.get(SEEN_KEY)
        if last is not None and last[0] == secret and now - last[1] < sessions.SEEN_EVERY:
            return
        sessions.seen(self.db, secret, now)
        st.session_state[SEEN_KEY] = (secret, now)

    def _apply_stored_lang(self, username: str) -> None:
        # The first run of a login takes the user's remembered language, if any;
        # after that the sidebar switch rules (and stores it again).
        if st.session_state.get(LANG_LOADED_KEY) == username:
            return
        stored = users.preferred_lang(self.db, username)
        if stored:
            st.session_state[context.LANG_KEY] = stored
        st.session_state[LANG_LOADED_KEY] = username

    @staticmethod
    def _set_actor(actor: Actor | None) -> Actor | None:
        st.session_state[context.ACTOR_KEY] = actor
        if actor is None:
            st.session_state.pop(SESSION_KEY, None)
            st.session_state.pop(COOKIES_KEY, None)  # a logged-out session writes no login cookie
            st.session_state.pop(LANG_LOADED_KEY, None)
        return actor

    # -- logging in and out ------------------------------------------------------------
    def login_page(self) -> None:
        """What every page URL shows while logged out: a centred login card."""
        _, middle, _ = st.columns([1, 1.2, 1])
        with middle:
            st.markdown(f"## :material/contacts: {context.t('app.title')}")
            st.caption(context.t("auth.login_intro"))
            context.language_switch(context.LOGIN_LANG_KEY)
            self.login_form()
            # A plain button: besides helping, it has the browser fetch Streamlit's button
            # script while the user types, so the sidebar's log-out button after the login
            # is drawn at once (a first visit's sidebar was complete 0.7 s later without).
            if st.button(context.t("auth.forgot_password"), key=FORGOT_KEY, type="tertiary"):
                st.info(context.t("auth.forgot_password_help", page=context.t("nav.admin")), icon=":material/key:")
            if not self.config.production:
                st.caption(context.t("auth.demo_hint"))

    def login_form(self) -> None:
        """The login form with its messages. The password is checked in the submit
        button's callback, which Streamlit runs at the very start of the next run,
        before anything that could stop that run; the run itself then finishes the
        login (``_finish_login_check``). A refused login's message stays above the
        form (reruns would otherwise wipe it) until the next attempt; a delay's message
        counts down and goes when the wait is over."""
        notice = st.session_state.pop(NOTICE_KEY, None)
        if notice:
            st.info(context.t(notice))
        self._show_login_error(st.empty())
        browser = self._browser_id()  # read now: the callback must not wait for it
        with st.form(LOGIN_FORM_KEY, clear_on_submit=False):
            st.subheader(context.t("auth.login_title"), anchor=False)
            st.text_input(context.t("auth.username"), key=USERNAME_KEY, autocomplete="username", max_chars=40)
            st.text_input(context.t("auth.password"), key=PASSWORD_KEY, type="password",
                          autocomplete="current-password", max_chars=200)
            st.form_submit_button(context.t("auth.login_button"), on_click=_submit_login,
                                  args=(self.db, self.config.cookie_expiry_days, browser))

    @staticmethod
    def _show_login_error(box) -> None:
        stored = st.session_state.get(LOGIN_ERROR_KEY)
        if not stored:
            return
        key, params, until = stored
        if until is not None:
            remaining = (until - utcnow()).total_seconds()
            if remaining <= 0:  # the wait is over
                st.session_state.pop(LOGIN_ERROR_KEY, None)
                return
            params = {**params, "seconds": max(1, round(remaining))}
        box.error(context.t(key, **params))

    def log_out(self) -> None:
        """The user pressed "log out": end the session and delete the cookie (in this
        run: the cookie script is drawn again)."""
        if st.session_state.get("authentication_status"):
            username = st.session_state.get("username")
            if username:
                users.log_out_everywhere(self.db, username)
            self.authenticator.authentication_controller.logout()  # the library's session keys
            self._drop_cookie()
        self._set_actor(None)

    def end_session(self, notice: str | None = None) -> None:
        """Log this session out from the server side (revoked, deactivated)."""
        if st.session_state.get("authentication_status"):
            self.authenticator.authentication_controller.logout()
        self._drop_cookie()
        self._set_actor(None)
        if notice:
            st.session_state[NOTICE_KEY] = notice

    def _drop_cookie(self) -> None:
        """Delete the login cookie (the cookie script, from this run on while logged
        out) and stop writing it."""
        if self._cookie_dropped:
            return
        self._cookie_dropped = True
        st.session_state[DROP_COOKIE_KEY] = True
        st.session_state.pop(COOKIES_KEY, None)
        # The library would otherwise try the (deleted) cookie again in this session.
        st.session_state["logout"] = True
        self._draw_cookie_script()  # also when logging out, after the gate's own drawing


def _checked(db, username: str, secret: str | None, lifetime_days: float) -> tuple[users.User | None, Actor | None]:
    """The user as stored, and their actor if they are active and the login session
    ``secret`` is still good (``sessions.is_active``), else None: the gate's check of
    every run and of every callback (``live_actor``)."""
    user, session_good = users.user_and_session(db, username, secret, lifetime_days)
    actor = users.actor_of(db, user)
    return user, actor if session_good else None


def live_actor(db) -> Actor | None:
    """This browser session's actor as the database has it now, with the role's
    permissions as they are now; None when the session or the user is no longer good."""
    held = st.session_state.get(SESSION_KEY)
    if not held:
        return None
    username, secret = held
    return _checked(db, username, secret, load_config().cookie_expiry_days)[1]


def as_live_user(callback: Callable[..., None]) -> Callable[..., None]:
    """For a button's callback taking the page's ``PageContext`` first. Streamlit runs
    a callback at the start of the next run, before the page script and so before the
    login gate, with the arguments of the run that drew the button: its actor may have
    been deactivated, logged out or given another role since. The wrapped callback runs
    with the actor the database knows now (``live_actor``), and not at all when there is
    none: the gate then sends the page to the login form in that same run.
    tests/test_permissions.py checks that every callback given a context is wrapped."""

    @functools.wraps(callback)
    def run(ctx, *args, **kwargs) -> None:
        actor = live_actor(ctx.db)
        if actor is None:
            log.info("a click of an ended session was ignored (%s)", callback.__name__)
            return None
        st.session_state[context.ACTOR_KEY] = actor  # what a refusal it meets records
        return callback(dataclasses.replace(ctx, actor=actor), *args, **kwargs)

    return run


def renew_session(db, username: str) -> None:
    """Call after the user changed their own password: the change ended every session
    of the user, this one included; start a new one for this browser (the next run
    writes its cookie) while the user's other sessions stay ended."""
    lifetime = load_config().cookie_expiry_days
    st.session_state[SESSION_KEY] = (username, sessions.start(db, username, lifetime).secret)
    st.session_state[RENEW_COOKIE_KEY] = True
