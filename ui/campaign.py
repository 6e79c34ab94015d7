"""The care campaign panel (客户关怀) of the customers page: a care follow-up for every
customer of the current search, through ``lib.customers.campaigns.run_campaign``.

Drawn only for whoever may run one (``campaign.run``). The expander runs its content
only while open (``on_change="rerun"``), so the count of customers it will reach
(``matching_count``) is asked for only then. The inputs are the campaign's declared
fields (``campaign_fields``), drawn by their kinds; the input is kept when the service
refuses (a missing field, a search above the cap) and cleared after a campaign ran.
"""
from __future__ import annotations

import streamlit as st

from lib.accounts import permissions as perm
from lib.core.errors import CustomerMasterError, ValidationError
from lib.customers import campaigns
from lib.customers.search import CustomerFilters
from ui import widgets as W
from ui.context import note_refusal
from ui.format import md_escape, number

OPEN = "cu_cmp_open"  # the expander's state
INPUT = "cu_cmp_"  # + field name: the inputs
PROBLEMS, DONE = "cu_cmp_problems", "cu_cmp_done"


def campaign_panel(ctx, filters: CustomerFilters) -> None:
    """The "care campaign" expander over ``filters`` (the customers page's search)."""
    if not perm.can(ctx.actor, perm.CAMPAIGN_RUN):
        return
    t, lang, db = ctx.t, ctx.lang, ctx.db
    panel = st.expander(t("campaign.title"), key=OPEN, on_change="rerun", icon=":material/volunteer_activism:")
    with panel:
        if not panel.open:
            return
        if (done := st.session_state.pop(DONE, None)) is not None:
            label, created = done
            st.success(md_escape(t("campaign.done", label=label, n=number(created))), icon=":material/check_circle:")
        reach = campaigns.matching_count(db, ctx.actor, filters)
        if not reach:
            st.info(t("campaign.reach_none"), icon=":material/search_off:")
            return
        st.caption(t("campaign.reach", n=number(reach)))
        problems = st.session_state.get(PROBLEMS) or {}
        if problems:
            st.error(t("error.validation"), icon=":material/error:")
        fields = campaigns.campaign_fields()
        with st.form("cu_cmp_form", border=False):
            cols = st.columns(2)
            for i, f in enumerate(fields):
                with cols[i % 2]:
                    W.form_input(f, lang=lang, db=db, key=INPUT + f.name, t=t)
                    W.show_problems(problems.get(f.name, []), lang)
            W.show_problems([p for name, ps in problems.items() if name not in {f.name for f in fields} for p in ps],
                            lang)
            submitted = st.form_submit_button(t("campaign.run"), type="primary", icon=":material/send:")
        if submitted:
            _run(ctx, filters, fields)


def _run(ctx, filters: CustomerFilters, fields) -> None:
    t = ctx.t
    values = {f.name: st.session_state.get(INPUT + f.name) for f in fields}
    bar = st.progress(0.0, text=t("campaign.progress", done=0, total="…"))

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0,
                     text=t("campaign.progress", done=number(done), total=number(total)))

    try:
        result = campaigns.run_campaign(ctx.db, ctx.actor, filters, values, progress=progress)
    except ValidationError as exc:
        st.session_state[PROBLEMS] = exc.fields  # shown under each input on the rerun
        st.rerun()
    except CustomerMasterError as exc:  # above the cap (CampaignTooLarge), or refused
        note_refusal(exc)
        bar.empty()
        st.session_state.pop(PROBLEMS, None)
        st.error(md_escape(exc.translate(ctx.lang)), icon=":material/error:")
        return
    st.session_state.pop(PROBLEMS, None)
    for f in fields:  # a new campaign starts from empty inputs
        st.session_state.pop(INPUT + f.name, None)
    st.session_state[DONE] = (result.label, result.created)
    st.rerun()
