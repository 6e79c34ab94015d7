"""One customer (客户档案): ``/customer?code=C2026-000123``.

A header (name, code, classification and access level as badges, owner, credit limit,
what the file lacks, archive / restore) over six tabs: Details (every field, saved at
the version read; "Mark as reviewed"), Contacts, Relationships, Follow-ups, Files and
History (with "Restore this version"). The drawing is in ``ui.customer_file`` and
``ui.customer_parts``; every write is one service call.
A code the user may not see reads "not found", exactly like a code that does not exist;
the code of a customer merged into another opens the survivor (saying so).
"""
from __future__ import annotations

import streamlit as st

from lib.accounts import permissions as perm
from lib.core.errors import NotFound
from lib.customers import contacts as ct
from lib.customers.customer import get_customer_by_code
from ui import customer_file as CF
from ui import customer_parts as CP
from ui import nav
from ui import widgets as W
from ui.context import page_context
from ui.format import md_escape


def render() -> None:
    ctx = page_context(perm.PAGE_CUSTOMER)
    W.keep_state_for(ctx.actor)
    t = ctx.t
    CF.show_toast(t)
    code = (st.query_params.get("code") or "").strip()
    if not code:
        st.title(t("nav.customer"), anchor=False)  # like every page: its name on top
        st.info(t("cf.no_code"), icon=":material/search:")
        nav.page_link("customers", t, label=t("cf.back"))
        return
    # A link from one customer to another opens this same page, and Streamlit updates
    # the browser's address only for another page or when the script sets the query:
    # without this the address (a reload, a copied link) still named the first customer.
    st.query_params["code"] = code
    try:
        rec = get_customer_by_code(ctx.db, ctx.actor, code)
    except NotFound:
        st.title(t("nav.customer"), anchor=False)
        st.warning(t("cf.not_found", code=md_escape(code)), icon=":material/search_off:")
        nav.page_link("customers", t, label=t("cf.back"))
        return
    if rec["code"] != code.upper():
        # A merged customer's code (lib.customers.merge): its survivor, under its own code.
        st.query_params["code"] = rec["code"]
        st.info(t("cf.merged_here", old=md_escape(code.upper()), code=rec["code"]), icon=":material/call_merge:")
    CF.forget_other_customers(rec["id"])
    CF.header(ctx, rec)
    CF.general_error(ctx, rec)
    contacts, n_contacts = ct.contacts_of(ctx.db, ctx.actor, rec["id"])
    details, people, links, followups, files, history = CF.tabs(rec["id"], [
        t("cf.tab.details"), t("cf.tab.contacts", n=n_contacts), t("cf.tab.relationships"),
        t("cf.tab.followups"), t("cf.tab.files"), t("cf.tab.history")])
    with details:
        CF.details(ctx, rec)
    with people:
        CF.contacts(ctx, rec, contacts)
    with links:
        CP.relationships(ctx, rec)
    with followups:
        CP.followups(ctx, rec)
    with files:
        CP.files(ctx, rec)
    with history:
        CF.history(ctx, rec)


nav.leave_if_run_directly(__name__)
