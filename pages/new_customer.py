"""Placeholder until the page is built (replaced in this same change)."""
import streamlit as st

from lib import permissions as perm
from ui.context import page_context


def render() -> None:
    ctx = page_context(perm.PAGE_NEW_CUSTOMER)
    st.title(ctx.t("nav.new_customer"))


if __name__ == "__main__":
    # Streamlit runs a file under pages/ directly on a deep link to a fresh server;
    # send it through the router (and so the login gate) instead.
    st.switch_page("app.py")
