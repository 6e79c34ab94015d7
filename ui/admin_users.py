"""The administration page's users section: every user with role and state, and the
login waits an administrator may lift (``lib.accounts.users``; ``users.manage``)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.accounts import users
from ui.context import role_label
from ui.format import local_datetime, md_escape

LIFTED = "ad_lifted"  # the username whose wait was just lifted


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
    _login_waits(ctx)


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
