"""The frame around every page: start-up refusal, sidebar, error boundary."""
from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Iterator

import streamlit as st

from lib.core import i18n


from lib.core.config import AppConfig, startup_problems
from lib.core.errors import CustomerMasterError, ValidationError
from lib.accounts.permissions import Actor
from ui import context
from ui.format import md_escape
from ui.auth import LOGOUT_BUTTON_KEY, Gate

log = logging.getLogger("customer_master")




# -- start-up --------------------------------------------------------------------------
def refuse_if_misconfigured(config: AppConfig, db) -> None:
    """Production mode with a bad key or an active demo user: say why and stop."""
    problems = startup_problems(config, db)
    if not problems:
        return
    log.error("refusing to start: %s", "; ".join(p.key for p in problems))
    lang = context.current_lang()
    st.error(
        context.t("config.refuse_title") + "\n\n" + "\n".join(f"- {p.translate(lang)}" for p in problems),
        icon=":material/block:",
    )
    st.stop()


# -- sidebar ----------------------------------------------------------------------------
def sidebar(gate: Gate, actor: Actor) -> Actor | None:
    """Who is logged in, their role, the language switch and the log-out button.
    Drawn before the navigation is built, so a log-out click takes effect in the same
    run. Returns the actor, or None if the user just logged out."""
    lang = context.current_lang()
    with st.sidebar:
        box = st.empty()
        with box.container():
            with st.container(border=True):
                st.caption(context.t("shell.signed_in_as"))
                st.markdown(f"**{md_escape(actor.display_name or actor.username)}**")
                st.caption(context.t("shell.role", role=md_escape(context.role_label(actor.role, lang))))
            context.language_switch(context.SIDEBAR_LANG_KEY, actor.username, gate.db)
            clicked = st.button(context.t("auth.logout"), key=LOGOUT_BUTTON_KEY, icon=":material/logout:",
                                width="stretch")
    if clicked:
        box.empty()
        gate.log_out()  # outside the sidebar: it draws the cookie script in the gate's own area
        return None
    return actor


# -- error boundary ------------------------------------------------------------------------
def show_error(exc: CustomerMasterError, lang: str) -> None:
    """A typed error in the user's language (each field problem on its own line).
    Messages may quote what a user typed, so they are shown as text, not Markdown."""
    context.note_refusal(exc)  # a service refusal the page surfaces: recorded
    text = md_escape(exc.translate(lang))
    if isinstance(exc, ValidationError) and exc.problems:
        text += "\n\n" + "\n".join(f"- {md_escape(p.translate(lang))}" for p in exc.problems)
    st.error(text)


@contextlib.contextmanager
def error_boundary(where: str = "") -> Iterator[None]:
    """Typed errors become a message in the user's language; anything else becomes a
    short message with an error id, and the traceback goes to the server log under
    that id. Streamlit's own control flow (st.stop, st.rerun, switch_page) derives from
    BaseException and passes through."""
    try:
        yield
    except CustomerMasterError as exc:
        log.info("%s: %s", where or "page", exc)
        show_error(exc, context.current_lang())
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        actor = context.current_actor()
        log.exception("unexpected error %s in %s (user %s)", error_id, where or "page",
                      actor.username if actor else "-")
        st.error(i18n.t("error.unexpected", context.current_lang(), error_id=error_id),
                 icon=":material/error:")
