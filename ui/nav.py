"""The page registry: every page declared once — the router (``app.py``) registers these,
links between pages point at them, and the page files end with the legacy-URL guard
below.

Each page lives in ``pages/<module>.py`` and defines ``render()``. ``ui`` never imports
``pages`` (a page imports ``ui``): the router binds each entry to its module's
``render``; a link needs no render function, because Streamlit matches a link to the
registered page by its ``url_path``.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.util import calc_hash

from lib.accounts import permissions as perm


@dataclass(frozen=True)
class NavPage:
    module: str  # pages/<module>.py
    action: str  # the page permission (lib.accounts.permissions)
    url_path: str
    title_key: str  # message key of the title (lib.core.i18n)
    icon: str
    # Not in the sidebar: a page opened by a link that says what to show (the customer
    # page needs ?code=...). Registered like the others, so its URL works.
    hidden: bool = False


# In menu order; the first page the role may open is its landing page. A url_path is
# its module's name: on a freshly started server Streamlit's legacy pages/ mode answers
# the first request by file name, and a deep link that it does not know gets a "Page not
# found" dialog over the login (tests/browser/test_first_visit.py).
PAGES: tuple[NavPage, ...] = (
    # First, so every role's landing page (served at "/"; see logged_in_pages).
    NavPage("home", perm.PAGE_HOME, "home", "nav.home", ":material/home:"),
    NavPage("customers", perm.PAGE_CUSTOMERS, "customers", "nav.customers", ":material/groups:"),
    NavPage("new_customer", perm.PAGE_NEW_CUSTOMER, "new_customer", "nav.new_customer", ":material/person_add:"),
    NavPage("analytics", perm.PAGE_ANALYTICS, "analytics", "nav.analytics", ":material/monitoring:"),
    NavPage("duplicates", perm.PAGE_DUPLICATES, "duplicates", "nav.duplicates", ":material/join:"),
    NavPage("import_customers", perm.PAGE_IMPORT, "import_customers", "nav.import_customers", ":material/upload_file:"),
    NavPage("admin", perm.PAGE_ADMIN, "admin", "nav.admin", ":material/admin_panel_settings:"),
    NavPage("account", perm.PAGE_ACCOUNT, "account", "nav.account", ":material/account_circle:"),
    NavPage("customer", perm.PAGE_CUSTOMER, "customer", "nav.customer", ":material/contact_page:", hidden=True),
)
BY_MODULE = {p.module: p for p in PAGES}
ACCOUNT_PAGE = "account"  # the one page of a user who must change an administrator-set password
ASKED_FOR_KEY = "cm_page_asked_for"  # (url_path, query params) of a deep link before login


def st_page(entry: NavPage, t: Callable[..., str], render: Callable[[], None], **kwargs) -> st.Page:
    """``entry`` as an ``st.Page`` running ``render`` (the router's registration);
    ``kwargs`` add to or override its options."""
    options = {"url_path": entry.url_path, "title": t(entry.title_key), "icon": entry.icon, **kwargs}
    if entry.hidden:  # reachable by its URL, not listed in the sidebar
        options.setdefault("visibility", "hidden")
    return st.Page(render, **options)


def logged_in_pages(entries: Sequence[NavPage], t: Callable[..., str],
                    render_of: Mapping[str, Callable[[], None]]) -> list[st.Page]:
    """The navigation of a logged-in user: ``entries`` (the pages the role may open) in
    order, the first one — the landing page — served at "/".

    Streamlit knows its default page only as "/": a typed /home (or /customers, while
    that was the default) found no page and showed a "page not found" dialog. So the
    landing page is also registered, hidden, under its own url_path."""
    if not entries:
        return []
    first, rest = entries[0], entries[1:]
    render = render_of[first.module]
    return [st_page(first, t, render, url_path="", default=True),
            st_page(first, t, render, visibility="hidden"),
            *(st_page(e, t, render_of[e.module]) for e in rest)]


def _registered_elsewhere() -> None:  # pragma: no cover - never run: the router's page runs
    raise RuntimeError("a link target is run by the page the router registered under its url_path")


def page_link(module: str, t: Callable[..., str], *, label: str | None = None,
              query_params: dict | None = None, icon: str | None = None) -> None:
    """A link to the page of ``pages/<module>.py`` (title and icon from the registry
    unless given)."""
    entry = BY_MODULE[module]
    target = st_page(entry, t, _registered_elsewhere)
    st.page_link(target, label=label or t(entry.title_key), query_params=query_params,
                 icon=icon or entry.icon)


def leave_if_run_directly(module_name: str) -> None:
    """The last line of every page file: ``nav.leave_if_run_directly(__name__)``.

    On a freshly started server Streamlit runs a file under ``pages/`` directly (as
    ``__main__``) on a deep link, without the router and so without the login gate;
    send it through the router instead, with its query parameters, and remember the page
    asked for: ``open_page_asked_for`` opens it once the user is logged in (a pasted
    ``/customer?code=…`` lands on that customer). An import (the router's) does nothing."""
    if module_name == "__main__":
        entry = BY_MODULE.get(Path(sys._getframe(1).f_globals.get("__file__", "")).stem)
        params = st.query_params.to_dict()
        if entry is not None:
            st.session_state[ASKED_FOR_KEY] = (entry.url_path, params)
        st.switch_page("app.py", query_params=params)


def open_page_asked_for(pages: Sequence[st.Page]) -> None:
    """In the router, once the user is logged in: open the page a deep link asked for
    before the router was running (see ``leave_if_run_directly``), if the user may."""
    asked = st.session_state.pop(ASKED_FOR_KEY, None)
    if asked:
        url_path, params = asked
        target = next((p for p in pages if p.url_path == url_path), None)
        if target is not None:
            st.switch_page(target, query_params=params)


def refused_page(actor: perm.Actor) -> NavPage | None:
    """The page this run asked for by its URL if ``actor``'s role may not open it, else
    None. The router registers only the role's pages, so Streamlit answers such a request
    with "page not found" and the landing page; this says which page was refused, so the
    router can record the denial. (Read from Streamlit's page manager: the page a run was
    asked for by hash, from a link, or by name, from a typed URL.)"""
    manager = getattr(get_script_run_ctx(), "pages_manager", None)
    if manager is None:
        return None
    asked_hash, asked_name = manager.intended_page_script_hash, manager.intended_page_name
    for entry in PAGES:
        if (asked_hash and asked_hash == calc_hash(entry.url_path)) or (asked_name and asked_name == entry.url_path):
            return None if perm.can(actor, entry.action) else entry
    return None
