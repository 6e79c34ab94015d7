"""Administration (系统管理), for admins: one tab per section, each drawn by its module
in ``ui/`` and checking its own action in the service layer as well."""
from __future__ import annotations

import streamlit as st

from lib.accounts import permissions as perm
from ui import admin_audit, admin_users, nav
from ui.context import page_context


def render() -> None:
    ctx = page_context(perm.PAGE_ADMIN)
    t = ctx.t
    st.title(t("nav.admin"), anchor=False)
    st.caption(t("admin.intro"))
    users, audit = st.tabs([t("admin.tab_users"), t("audit.tab")])
    with users:
        admin_users.render(ctx)
    with audit:  # the last tab
        admin_audit.render(ctx)

nav.leave_if_run_directly(__name__)
