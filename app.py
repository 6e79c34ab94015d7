"""Customer Master: the router.

Checks the configuration, asks the login gate who this is, draws the sidebar, then
hands ``st.navigation`` the pages this user's role may open (a hidden entry, such as the
customer page, is registered but not listed) (``lib.accounts.permissions``: pages
are actions too) and runs the chosen one inside the error boundary.

The pages are declared once in ``ui.nav.PAGES``; each entry's module under ``pages/``
only defines ``render()`` and is bound to its entry here. While logged out, every page
URL is registered as a hidden page showing the login form, so a deep link asks for a
login and then opens the page asked for.
"""
from __future__ import annotations

import importlib

import streamlit as st

from lib.core import config as app_config
from lib.accounts import permissions as perm
from lib.core.errors import CustomerMasterError
from ui import auth, context, nav, shell
from ui.context import current_lang, database, t

# Each registry entry bound to its page module's render(); importing a page runs nothing.
RENDER = {p.module: importlib.import_module(f"pages.{p.module}").render for p in nav.PAGES}

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
                      url_path=p.url_path, visibility="hidden") for p in nav.PAGES]
    page = st.navigation([login, *hidden], position="hidden")
else:
    allowed = [p for p in nav.PAGES if perm.can(actor, p.action)]
    if gate.must_change_password:  # an administrator set the password: the user chooses one first
        allowed = [p for p in allowed if p.module == nav.ACCOUNT_PAGE]
    refused = nav.refused_page(actor)
    if refused is not None:  # a URL of a page this role may not open: audited, landing page shown
        context.note_denial(actor, refused.action, once=True, where="page", page=refused.url_path)
    pages = nav.logged_in_pages(allowed, t, RENDER)
    page = st.navigation(pages, position="sidebar")
    nav.open_page_asked_for(pages)

with shell.error_boundary(f"page {page.title!r}"):
    page.run()
