"""The administration page's users section (``lib.accounts.users``; ``users.manage``):
every user with role and state; creating a user; changing a user's role, deactivating
or reactivating them, resetting their password; and the login waits an administrator
may lift.

A new user's password and a reset one are made by the server (``users.new_password``),
shown once, right after the action, for the administrator to hand over; the user must
choose their own at the first login (``must_change_password``).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.accounts import users
from lib.core.errors import CustomerMasterError, ValidationError
from ui import widgets as W
from ui.context import note_refusal, role_label
from ui.format import local_datetime, md_escape

LIFTED = "ad_lifted"  # the username whose wait was just lifted
DONE = "ad_user_done"  # (message key, params, password or None) after an action: shown once
CREATE_FORM = "ad_new_user"  # its inputs' keys: W.form_round(CREATE_FORM) + name; a new round = an empty form


def render(ctx) -> None:
    t, lang = ctx.t, ctx.lang
    everyone = users.list_users(ctx.db)
    st.caption(t("admin.users_caption", n=len(everyone), active=sum(u.active for u in everyone)))
    table = pd.DataFrame([{
        t("admin.col_username"): u.username, t("admin.col_display_name"): u.display_name,
        t("admin.col_email"): u.email or "", t("admin.col_role"): role_label(u.role, lang),
        t("admin.col_active"): u.active, t("admin.col_demo"): u.is_demo,
    } for u in everyone])
    st.dataframe(table, hide_index=True, width="stretch")
    done = st.session_state.pop(DONE, None)
    if done:
        key, params, password = done
        st.success(t(key, **params))
        if password:
            st.caption(t("admin.password_once"))
            st.code(password, language=None)
    left, right = st.columns(2, gap="large")
    with left:
        _create_form(ctx)
    with right:
        _manage(ctx, everyone)
    _login_waits(ctx)


def _show_error(ctx, exc: CustomerMasterError) -> None:
    if isinstance(exc, ValidationError):
        for problem in exc.problems:
            st.error(problem.translate(ctx.lang))
    else:
        st.error(exc.translate(ctx.lang))


def _role_options(ctx) -> list[str]:
    return list(ctx.db.roles())


def _create_form(ctx) -> None:
    t, lang = ctx.t, ctx.lang
    st.subheader(t("admin.create_title"), anchor=False)
    k = W.form_round(CREATE_FORM)
    with st.form(k + "form", clear_on_submit=False, border=True):
        username = st.text_input(t("admin.col_username"), key=k + "username", help=t("admin.username_rules"))
        name = st.text_input(t("admin.col_display_name"), key=k + "name")
        email = st.text_input(t("admin.col_email"), key=k + "email")
        role = st.selectbox(t("admin.col_role"), _role_options(ctx), key=k + "role",
                            format_func=lambda r: role_label(r, lang))
        submitted = st.form_submit_button(t("admin.create"), type="primary")
    if not submitted:
        return
    password = users.new_password()
    try:
        user = users.create_user(ctx.db, ctx.actor, username, name, role, password, email=email or None,
                                 must_change=True)
    except CustomerMasterError as exc:  # the form keeps what was typed
        note_refusal(exc)
        _show_error(ctx, exc)
        return
    W.next_round(CREATE_FORM)
    st.session_state[DONE] = ("admin.created", {"username": user.username}, password)
    st.rerun()


def _manage(ctx, everyone) -> None:
    t, lang = ctx.t, ctx.lang
    st.subheader(t("admin.manage_title"), anchor=False)
    names = [u.username for u in everyone]
    chosen = st.selectbox(t("admin.col_username"), names, key="ad_manage_user", index=None,
                          placeholder=t("admin.choose_user"))
    user = next((u for u in everyone if u.username == chosen), None)
    if user is None:
        return
    with st.container(border=True):
        state = t("admin.state_active") if user.active else t("admin.state_inactive")
        st.markdown(f"**{md_escape(user.display_name)}** (`{user.username}`) · {role_label(user.role, lang)} · {state}")
        roles = _role_options(ctx)
        role = st.selectbox(t("admin.col_role"), roles, index=roles.index(user.role) if user.role in roles else 0,
                            key=f"ad_role_{user.username}", format_func=lambda r: role_label(r, lang))
        cols = st.columns(3)
        if cols[0].button(t("admin.set_role"), key=f"ad_set_role_{user.username}", disabled=role == user.role):
            _act(ctx, lambda: users.set_role(ctx.db, ctx.actor, user.username, role),
                 ("admin.role_set", {"username": user.username, "role": role_label(role, lang)}, None))
        if user.active:
            if cols[1].button(t("admin.deactivate"), key=f"ad_deactivate_{user.username}"):
                _act(ctx, lambda: users.set_active(ctx.db, ctx.actor, user.username, False),
                     ("admin.deactivated", {"username": user.username}, None))
        elif cols[1].button(t("admin.reactivate"), key=f"ad_reactivate_{user.username}"):
            _act(ctx, lambda: users.set_active(ctx.db, ctx.actor, user.username, True),
                 ("admin.reactivated", {"username": user.username}, None))
        if cols[2].button(t("admin.reset_password"), key=f"ad_reset_{user.username}",
                          help=t("admin.reset_help")):
            try:
                password = users.reset_password(ctx.db, ctx.actor, user.username)
            except CustomerMasterError as exc:
                note_refusal(exc)
                _show_error(ctx, exc)
                return
            st.session_state[DONE] = ("admin.password_reset", {"username": user.username}, password)
            st.rerun()


def _act(ctx, action, done) -> None:
    try:
        action()
    except CustomerMasterError as exc:
        note_refusal(exc)
        _show_error(ctx, exc)
        return
    st.session_state[DONE] = done
    st.rerun()


def _login_waits(ctx) -> None:
    t, lang = ctx.t, ctx.lang
    st.subheader(t("admin.delays_title"), anchor=False)
    lifted = st.session_state.pop(LIFTED, None)
    if lifted:
        st.success(t("admin.lifted", username=lifted))
    delays = users.login_delays(ctx.db, ctx.actor)
    if not delays:
        st.caption(t("admin.delays_none"))
        return
    for d in delays:
        where = t("admin.delay_known_browser") if d.known_browser else t("admin.delay_other_browsers")
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(t("admin.delay_line", username=md_escape(d.username), failures=d.failures, where=where,
                        until=local_datetime(d.wait_until, lang)))
        if right.button(t("admin.lift"), key=f"ad_lift_{d.username}_{int(d.known_browser)}"):
            users.lift_login_delay(ctx.db, ctx.actor, d.username)
            st.session_state[LIFTED] = d.username
            st.rerun()
