"""The login gate: streamlit-authenticator for the form and the cookie, the database for
everything that decides who may come in.

One ``Gate`` (and so one ``Authenticate``) is built per script run: the library keeps
per-user state on the instance and its cookie component has a fixed key, so an
instance at module level or in ``st.cache_resource`` would be shared between users.

What the library does: draws the login form, writes and deletes the login cookie,
keeps ``authentication_status`` / ``username`` / ``name`` / ``roles`` in the session.
What this module and the database do, through methods replaced on the library's
instance: check the password (``lib.accounts.users.verify_credentials``, with its
delays per browser), write and read the cookie's value (``lib.accounts.sessions``: a
signed token naming a server-side session), and on every run ask the database whether
this session is still active. A cookie that does not verify, or whose session has
ended, means "logged out" and is deleted. The library's own counters are never used.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Mapping

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from lib.accounts import sessions, users
from lib.core.clock import utcnow
from lib.core.config import AppConfig, load_config
from lib.core.errors import AuthError
from lib.accounts.permissions import Actor
from ui import context

log = logging.getLogger(__name__)

# Session keys this module owns (the library owns name, username, roles, email,
# authentication_status, logout, init, password_hint).
SESSION_KEY = "cm_login_session"  # (username, id of the row in login_sessions) of this session
BROWSER_KEY = "cm_browser_id"  # this browser's id (from its cookie, or issued at login)
NOTICE_KEY = "cm_auth_notice"  # message key shown above the login form once
LOGIN_ERROR_KEY = "cm_login_error"  # (key, params, show until) of the last refused login
LANG_LOADED_KEY = "cm_lang_loaded_for"  # whose stored language this session applied
LOGIN_FORM_KEY = "cm_login"
LOGOUT_BUTTON_KEY = "cm_logout"  # never "logout": the library owns that key
RENEW_COOKIE_KEY = "cm_renew_cookie"  # write a fresh cookie in the next run
BROWSER_COOKIE = "customer_master_browser"
BROWSER_COOKIE_SET_KEY = "cm_set_browser_cookie"  # the cookie component's key for it


def request_cookies() -> Mapping[str, str]:
    """The cookies the browser sent when this session connected. (AppTest cannot send
    cookies; the tests replace this function.)"""
    return st.context.cookies


def session_id(username: str) -> str | None:
    """The id of this browser session's login session, if it is ``username``'s."""
    stored = st.session_state.get(SESSION_KEY)
    return stored[1] if isinstance(stored, tuple) and stored[0] == username else None


class Gate:
    """Who is this session? Build once per run: ``Gate(db, config)``."""

    def __init__(self, db, config: AppConfig):
        self.db = db
        self.config = config
        self._key = config.signing_key()
        self._form_login: sessions.LoginSession | None = None
        self._cookie_session: str | None = None
        self._cookie_dropped = False
        # Only active users, rebuilt every run, so a deactivated user's cookie is
        # refused by the library itself; no password hashes are handed over.
        credentials = {
            "usernames": {
                u.username: {"name": u.display_name, "email": u.email, "roles": [u.role]}
                for u in users.list_users(db)
                if u.active
            }
        }
        self.authenticator = stauth.Authenticate(
            credentials,
            config.cookie_name,
            self._key,
            config.cookie_expiry_days,
            auto_hash=False,
            login_sleep_time=0,
        )
        model = self.authenticator.authentication_controller.authentication_model
        model.check_credentials = self._check_credentials
        cookie = self.authenticator.cookie_controller.cookie_model
        cookie.get_cookie = self._read_login_cookie
        cookie._token_encode = self._login_cookie_value

    # -- the credential check and the cookie, as the library calls them -----------------
    def _check_credentials(self, username: str, password: str) -> bool:
        # Raises AuthError (wrong password, unknown user, delayed): it propagates out
        # of ``authenticator.login`` and ``login_form`` shows it.
        actor = users.verify_credentials(self.db, username, password, self._browser_id())
        # The session row is written here, before the library marks the session logged
        # in, so no rerun can slip in between and leave a login without its session.
        self._form_login = sessions.start(self.db, actor.username, self.config.cookie_expiry_days)
        st.session_state[SESSION_KEY] = (actor.username, self._form_login.secret)
        return True

    def _login_cookie_value(self) -> str:
        """The value the library writes as the login cookie: this session's token."""
        username = st.session_state.get("username") or ""
        secret = session_id(username)
        if not secret:  # never expected: every login starts a session first
            secret = sessions.start(self.db, username, self.config.cookie_expiry_days).secret
            st.session_state[SESSION_KEY] = (username, secret)
        with self.db.read() as cur:
            row = cur.execute("SELECT issued_at, expires_at FROM login_sessions WHERE id_hash = ?",
                              [sessions.digest(secret)]).fetchone()
        issued, expires = row if row else (utcnow(), utcnow())
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

    def _write_browser_cookie(self) -> None:
        if st.session_state.get(BROWSER_KEY + "_written") or not st.session_state.get(BROWSER_KEY):
            return
        manager = self.authenticator.cookie_controller.cookie_model.cookie_manager
        manager.set(BROWSER_COOKIE, sessions.browser_token(st.session_state[BROWSER_KEY], self._key),
                    expires_at=datetime.now() + timedelta(days=sessions.BROWSER_COOKIE_DAYS),
                    key=BROWSER_COOKIE_SET_KEY)
        st.session_state[BROWSER_KEY + "_written"] = True

    # -- who is logged in ------------------------------------------------------------
    def current_actor(self) -> Actor | None:
        """Resolve this run's user (session, else cookie) and check it against the
        database. Sets ``st.session_state[context.ACTOR_KEY]`` and returns the actor."""
        st.session_state[context.ACTOR_KEY] = None  # never a previous run's actor
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
        actor = users.actor_for(self.db, username)
        if actor is None or not sessions.is_active(self.db, session_id(username), username,
                                                   self.config.cookie_expiry_days):
            log.info("session of %r ended: user inactive, unknown or session ended", username)
            self.end_session(notice="auth.session_ended")
            return None
        if st.session_state.pop(RENEW_COOKIE_KEY, False):
            self.authenticator.cookie_controller.set_cookie()
        self._apply_stored_lang(username)
        return self._set_actor(actor)

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
            if not self.config.production:
                st.caption(context.t("auth.demo_hint"))

    def login_form(self) -> None:
        """The login form with its messages. A refused login's message stays above the
        form (the cookie component's own reruns would otherwise wipe it) until the next
        attempt; a delay's message counts down and goes when the wait is over."""
        lang = context.current_lang()
        notice = st.session_state.pop(NOTICE_KEY, None)
        if notice:
            st.info(context.t(notice))
        fields = {
            "Form name": context.t("auth.login_title"),
            "Username": context.t("auth.username"),
            "Password": context.t("auth.password"),
            "Login": context.t("auth.login_button"),
        }
        error_box = st.empty()  # above the form, filled after the attempt
        try:
            self.authenticator.login(location="main", fields=fields, key=LOGIN_FORM_KEY)
        except AuthError as exc:  # wrong password / unknown user (same words) or delayed
            seconds = exc.params.get("seconds")
            until = utcnow() + timedelta(seconds=seconds) if seconds else None
            st.session_state[LOGIN_ERROR_KEY] = (exc.key, dict(exc.params), until)
        except LoginError:  # the library's own refusals; never say which part was wrong
            st.session_state[LOGIN_ERROR_KEY] = ("auth.invalid_credentials", {}, None)
        else:
            if self._form_login is not None:
                st.session_state.pop(LOGIN_ERROR_KEY, None)
        self._show_login_error(error_box)
        if self._form_login is not None and st.session_state.get("authentication_status"):
            self._write_browser_cookie()
            # No st.rerun() here: it would drop the cookie component before the browser
            # wrote the cookie. The component reruns the script by itself.
            st.success(context.t("auth.logging_in"))

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
        box.error(context.t(key, **params), icon=":material/error:")

    def log_out(self) -> None:
        """The user pressed "log out": end the session and delete the cookie (the
        cookie component is drawn where this is called)."""
        if st.session_state.get("authentication_status"):
            username = st.session_state.get("username")
            if username:
                users.log_out_everywhere(self.db, username)
            self.authenticator.logout(location="unrendered")
            self._cookie_dropped = True  # the library deleted it
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
        if self._cookie_dropped:  # the delete component has a fixed key: once per run
            return
        self._cookie_dropped = True
        self.authenticator.cookie_controller.delete_cookie()
        # The library would otherwise try the (deleted) cookie again in this session.
        st.session_state["logout"] = True


def renew_session(db, username: str) -> None:
    """Call after the user changed their own password: the change ended every session
    of the user, this one included; start a new one for this browser (the next run
    writes its cookie) while the user's other sessions stay ended."""
    lifetime = load_config().cookie_expiry_days
    st.session_state[SESSION_KEY] = (username, sessions.start(db, username, lifetime).secret)
    st.session_state[RENEW_COOKIE_KEY] = True
