"""The warning after an edit (grid or customer page) that makes a customer look like
others (``lib.customers.duplicates.edit_warnings``): shown once, does not undo the save."""
from __future__ import annotations

import streamlit as st

from ui import widgets as W
from ui.format import md_escape


def show(t, code: str, matches) -> None:
    """One saved customer's look-alikes: code, name, owner, why; a link where the user
    may open it."""
    with st.container(border=True):
        st.warning(t("dupwarn.title", code=md_escape(code), n=len(matches)), icon=":material/content_copy:")
        for m in matches:
            c1, c2 = st.columns([3, 2], vertical_alignment="center")
            with c1:
                if m.visible:
                    W.customer_link(m.code, m.name, t)
                else:
                    st.markdown(md_escape(f"{m.code} {m.name}"))
            c2.caption(t("dup.owner", owner=md_escape(m.owner)) + " · "
                       + t("dupwarn.reasons", reasons=", ".join(t("dup.reason." + r) for r in m.reasons)))
