"""What every page needs: the process's Database, the logged-in actor, the language
(and the switch that sets it, used by the login card and the sidebar).

Pages start with ``ctx = page_context(perm.PAGE_X)``: it re-checks login and role
(the router already hid pages the role may not see, but a page never trusts that).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

import streamlit as st

from lib.core import i18n
from lib.accounts import audit_log
from lib.accounts import permissions as perm
from lib.accounts.users import set_preferred_lang
from lib.core.db import Database, default_path, server_memory_limit
from lib.customers import custom_fields, search_index
from lib.accounts.permissions import Actor
from lib.core.errors import CustomerMasterError, PermissionDenied

T = TypeVar("T")
LANG_KEY = "lang"
ACTOR_KEY = "cm_actor"
LANG_NAMES = {"zh": "中文", "en": "English"}
SIDEBAR_LANG_KEY = "cm_lang_switch"
LOGIN_LANG_KEY = "cm_lang_switch_login"
DENIALS_KEY = "cm_denials_noted"  # the page refusals this session already recorded


@st.cache_resource(show_spinner=False)
def _database(path: str) -> Database:
    # One connection per process; each unit of work takes its own cursor. The search
    # index starts building now, in the background (searches use SQL until it is ready).
    db = Database(path, memory_limit=server_memory_limit())
    custom_fields.install(db)  # the customer's declaration: built-in and custom fields
    search_index.index(db).build(background=True)
    return db


# Held while the database file is replaced (a restore): whoever asks for the database
# meanwhile waits for the new one instead of opening the old file again.
_SWAP = threading.Lock()


def database() -> Database:
    with _SWAP:
        return _database(str(default_path()))


def with_database_closed(work: Callable[[Path], T]) -> T:
    """Close this process's database, run ``work(path)`` (which may replace the file:
    ``lib.ops.backup.restore``), then open it again, migrating it if it is older. Runs
    of other sessions still holding the old object fail once and get the new one on
    their next run; new requests wait until it is open."""
    with _SWAP:
        path = str(default_path())
        _database(path).close()
        _database.clear()
        try:
            return work(Path(path))
        finally:
            _database(path)


def current_lang() -> str:
    """The user's language: chosen in the sidebar, else the browser's, else Chinese."""
    lang = st.session_state.get(LANG_KEY)
    if lang in i18n.LANGS:
        return lang
    browser = st.context.locale or st.context.headers.get("Accept-Language", "") or ""
    lang = "en" if browser.lower().startswith("en") else "zh"
    st.session_state[LANG_KEY] = lang
    return lang


def t(key: str, **params) -> str:
    return i18n.t(key, current_lang(), **params)


def role_label(role: str, lang: str | None = None) -> str:
    """A role's name in the user's language, from the roles table (the code if unknown)."""
    labels = database().roles().get(role)
    if labels is None:
        return role
    return labels["label_zh"] if (lang or current_lang()) == "zh" else labels["label_en"]


def language_switch(widget_key: str, username: str | None = None, db=None) -> None:
    """中文 / English. The choice applies to this session at once and, for a logged-in
    user, is remembered in the database for their next login."""
    current = current_lang()
    # Keep the widget in step with the language (which the login may have changed).
    st.session_state[widget_key] = current

    def changed() -> None:
        chosen = st.session_state[widget_key]
        st.session_state[LANG_KEY] = chosen
        if username and db is not None:
            set_preferred_lang(db, username, chosen)

    st.radio(
        t("shell.language"),
        options=list(i18n.LANGS),
        format_func=LANG_NAMES.get,
        key=widget_key,
        horizontal=True,
        on_change=changed,
    )


def current_actor() -> Actor | None:
    """Set by the login gate (``ui.auth``) on every run; None when logged out."""
    return st.session_state.get(ACTOR_KEY)


@dataclass
class PageContext:
    db: Database
    actor: Actor
    lang: str

    def t(self, key: str, **params) -> str:
        return i18n.t(key, self.lang, **params)


def page_context(page_action: str) -> PageContext:
    """Gate a page: logged in and the role may open it, or stop with a notice."""
    actor = current_actor()
    lang = current_lang()
    if actor is None or not perm.can(actor, page_action):
        if actor is not None:
            note_denial(actor, page_action, once=True, where="page")
        st.warning(i18n.t("page.no_access", lang))
        st.stop()
    return PageContext(db=database(), actor=actor, lang=lang)


def note_denial(actor: Actor | None, action: str, *, once: bool = False, **details) -> None:
    """Record that ``actor`` was refused ``action`` (a page's or a service action's
    permission) in the audit log and the server log (``audit_log.record_denial``).
    ``once``: only the first time in this session, for a refusal drawn again on every
    rerun (a page), not for one the user asked for again (a button)."""
    if once:
        seen = st.session_state.setdefault(DENIALS_KEY, set())
        key = (action, tuple(sorted(details.items())))
        if key in seen:
            return
        seen.add(key)
    audit_log.record_denial(database(), actor, action, **details)


def note_refusal(exc: CustomerMasterError, **details) -> None:
    """Record ``exc`` when it is a permission refusal (``PermissionDenied``: the actor
    was refused a service action), as ``note_denial`` does. Every handler of a page that
    catches service errors calls it (or ``ui.shell.show_error``, which does):
    tests/test_permissions.py checks. Other errors (bad input, a conflict) are not
    security events and are not recorded."""
    if isinstance(exc, PermissionDenied):
        note_denial(current_actor(), exc.params.get("action", ""), where="action",
                    code=exc.params.get("code", ""), field=exc.params.get("field"), **details)
