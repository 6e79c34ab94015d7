"""Customer Master: the router.

Checks the configuration, asks the login gate who this is, draws the sidebar, then
hands ``st.navigation`` the pages this user's role may open (``lib.accounts.permissions``: pages
are actions too) and runs the chosen one inside the error boundary.

The page modules under ``pages/`` only define ``render()``; they are registered here
explicitly. While logged out, every page URL is registered as a hidden page showing the
login form, so a deep link asks for a login and then opens the page asked for.
"""
from __future__ import annotations

import streamlit as st

from lib.core import config as app_config
from lib.accounts import permissions as perm
from lib.core.errors import CustomerMasterError
from pages import account, analytics, customers, new_customer
from ui import auth, shell
from ui.context import current_lang, database, t

# (page action, render function, URL path, title key, icon), in menu order.
PAGES = [
    (perm.PAGE_CUSTOMERS, customers.render, "customers", "nav.customers", ":material/groups:"),
    (perm.PAGE_NEW_CUSTOMER, new_customer.render, "new-customer", "nav.new_customer", ":material/person_add:"),
    (perm.PAGE_ANALYTICS, analytics.render, "analytics", "nav.analytics", ":material/monitoring:"),
    (perm.PAGE_ACCOUNT, account.render, "account", "nav.account", ":material/account_circle:"),
]

st.set_page_config(page_title=t("app.title"), page_icon=":material/contacts:", layout="wide")

try:
    db = database()
except CustomerMasterError as exc:  # e.g. the file is held by another process
    st.error(exc.translate(current_lang()))
    st.stop()

config = app_config.load_config()
shell.refuse_if_misconfigured(config, db)

gate = auth.Gate(db, config)
actor = None  # logged out unless the gate says otherwise (also if the gate fails)
with shell.error_boundary("login gate"):
    actor = gate.current_actor()
if actor is not None:
    actor = shell.sidebar(gate, actor)  # None if the log-out button was pressed

if actor is None:
    login = st.Page(gate.login_page, title=t("auth.login_title"), icon=":material/login:",
                    url_path="login", default=True)
    hidden = [st.Page(gate.login_page, title=t("auth.login_title"), icon=":material/login:",
                      url_path=url_path, visibility="hidden") for _, _, url_path, _, _ in PAGES]
    page = st.navigation([login, *hidden], position="hidden")
else:
    allowed = [st.Page(render, title=t(title_key), icon=icon, url_path=url_path)
               for action, render, url_path, title_key, icon in PAGES if perm.can(actor, action)]
    page = st.navigation(allowed, position="sidebar")

with shell.error_boundary(f"page {page.title!r}"):
    page.run()
