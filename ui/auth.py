"""The login gate: streamlit-authenticator for the form and the cookie, the database for
everything that decides who may come in.

One ``Gate`` (and so one ``Authenticate``) is built per script run: the library keeps
per-user state on the instance and its cookie component has a fixed key, so an
instance at module level or in ``st.cache_resource`` would be shared between users.

What the library does: draws the login form, writes and reads the signed login
cookie, keeps ``authentication_status`` / ``username`` / ``name`` / ``roles`` in the
session. What the database does (``lib.accounts.users``): checks the password (bcrypt, the
append-only lockout), says whether the user is active and whether this session was
issued before its revocation instant. The library's own check is replaced on the
instance by ``lib.accounts.users.verify_credentials``; the library's counters are never used.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from lib.accounts import users
from lib.core.clock import utcnow
from lib.core.config import AppConfig
from lib.core.errors import AuthError
from lib.accounts.permissions import Actor
from ui import context

log = logging.getLogger(__name__)

# Session keys this module owns (the library owns name, username, roles, email,
# authentication_status, logout, init, password_hint).
ISSUED_AT_KEY = "cm_session_issued_at"  # naive UTC: when this session logged in
NOTICE_KEY = "cm_auth_notice"  # message key shown above the login form once
LANG_LOADED_KEY = "cm_lang_loaded_for"  # whose stored language this session applied
LOGIN_FORM_KEY = "cm_login"
LOGOUT_BUTTON_KEY = "cm_logout"  # never "logout": the library owns that key
RENEW_COOKIE_KEY = "cm_renew_cookie"  # write a fresh cookie in the next run


class Gate:
    """Who is this session? Build once per run: ``Gate(db, config)``."""

    def __init__(self, db, config: AppConfig):
        self.db = db
        self.config = config
        self._form_login_at: datetime | None = None
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
            config.signing_key(),
            config.cookie_expiry_days,
            auto_hash=False,
            login_sleep_time=0,
        )
        model = self.authenticator.authentication_controller.authentication_model
        model.check_credentials = self._check_credentials

    # -- the credential check, as the library calls it ---------------------------------
    def _check_credentials(self, username: str, password: str) -> bool:
        # Raises AuthError (wrong password, unknown user, locked out): it propagates
        # out of ``authenticator.login`` and ``login_form`` shows it.
        users.verify_credentials(self.db, username, password)
        # Recorded here, before the library marks the session logged in, so no rerun
        # can slip in between and leave a logged-in session without its login time.
        self._form_login_at = st.session_state[ISSUED_AT_KEY] = utcnow()
        return True

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
        if ISSUED_AT_KEY not in st.session_state:
            if not was_logged_in:  # logged in by the cookie in this very call
                st.session_state[ISSUED_AT_KEY] = self._cookie_issued_at()
            else:  # only a session seeded by a test (tests/apptest_util.py) gets here
                st.session_state[ISSUED_AT_KEY] = utcnow()
        actor = users.actor_for(self.db, username)
        if actor is None or not users.session_valid(self.db, username, st.session_state[ISSUED_AT_KEY]):
            log.info("session of %r ended: user inactive, unknown or revoked", username)
            self.end_session(notice="auth.session_ended")
            return None
        if st.session_state.pop(RENEW_COOKIE_KEY, False):
            self.authenticator.cookie_controller.set_cookie()
        self._apply_stored_lang(username)
        return self._set_actor(actor)

    def _cookie_issued_at(self) -> datetime:
        """When the cookie was written: its expiry minus its lifetime (naive UTC)."""
        token = self.authenticator.cookie_controller.cookie_model.token or {}
        try:
            expires = float(token["exp_date"])
        except (KeyError, TypeError, ValueError):
            return datetime(1970, 1, 1)  # unknown: older than any revocation
        issued = datetime.fromtimestamp(expires, tz=timezone.utc) - timedelta(days=self.config.cookie_expiry_days)
        return issued.replace(tzinfo=None)

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
            st.session_state.pop(ISSUED_AT_KEY, None)
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
        """The login form with its messages."""
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
        try:
            self.authenticator.login(location="main", fields=fields, key=LOGIN_FORM_KEY)
        except AuthError as exc:  # wrong password / unknown user (same words) or locked
            st.error(exc.translate(lang))
            return
        except LoginError:  # the library's own refusals; never say which part was wrong
            st.error(context.t("auth.invalid_credentials"))
            return
        if self._form_login_at is not None and st.session_state.get("authentication_status"):
            # No st.rerun() here: it would drop the cookie component before the browser
            # wrote the cookie. The component reruns the script by itself.
            st.success(context.t("auth.logging_in"))

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


def renew_session() -> None:
    """Call after the user changed their own password: the change revoked every
    session issued before it, including this one; keep this one (the next run also
    writes a fresh login cookie) while the user's other sessions end."""
    st.session_state[ISSUED_AT_KEY] = utcnow()
    st.session_state[RENEW_COOKIE_KEY] = True
