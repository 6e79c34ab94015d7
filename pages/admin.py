"""Administration (系统管理), for admins: one tab per section, each drawn by its module
in ``ui/`` and checking its own action in the service layer as well."""
from __future__ import annotations

import streamlit as st

from lib.accounts import permissions as perm
from ui import admin_audit, admin_backups, admin_fields, admin_lists, admin_settings, admin_users, nav
from ui.context import page_context


def render() -> None:
    ctx = page_context(perm.PAGE_ADMIN)
    t = ctx.t
    st.title(t("nav.admin"), anchor=False)
    st.caption(t("admin.intro"))
    users, lists, fields, settings, backups, audit = st.tabs(
        [t("admin.tab_users"), t("lists.tab"), t("fields.tab"), t("admin.tab_settings"), t("admin.tab_backups"),
         t("audit.tab")])
    with users:
        admin_users.render(ctx)
    with lists:
        admin_lists.render(ctx)
    with fields:
        admin_fields.render(ctx)
    with settings:
        admin_settings.render(ctx)
    with backups:
        admin_backups.render(ctx)
    with audit:
        admin_audit.render(ctx)

nav.leave_if_run_directly(__name__)
