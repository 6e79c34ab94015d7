"""Duplicates (重复客户): groups of customers that are probably one, and merging them.

The groups come from ``lib.customers.duplicates.duplicate_groups`` (ranked, paged, a
salesperson's own customers only); a manager or admin opens "Merge…" on a group,
picks the customers, the one to keep and, where they differ, whose value each field
keeps, confirms, and ``lib.customers.merge.merge_customers`` does the rest. The panel
is driven by a session-state flag (not a dialog), so every click reaches the script.
"""
from __future__ import annotations

import streamlit as st

from lib.accounts import permissions as perm
from lib.core.errors import ConflictError, CustomerMasterError
from lib.customers import fields as F
from lib.customers.duplicates import duplicate_groups
from lib.customers.merge import differing_fields, merge_candidates, merge_customers
from ui import nav
from ui import widgets as W
from ui.auth import as_live_user
from ui.context import note_refusal, page_context
from ui.customer_file import shown
from ui.format import local_datetime, md_escape

SIZE = 20
OFFSET = "dp_offset"
MERGING = "dp_merging"  # the ids of the group whose merge panel is open
DONE = "dp_done"  # (survivor code, name, number merged) after a merge
ERROR = "dp_error"
CONTACT = "contact"  # one choice for all the primary contact's fields


def render() -> None:
    ctx = page_context(perm.PAGE_DUPLICATES)
    W.keep_state_for(ctx.actor)
    t = ctx.t
    st.title(t("nav.duplicates"), anchor=False)
    st.caption(t("dp.intro"))
    if perm.sees_only_own(ctx.actor):
        st.caption(":material/person: " + t("dp.own_only"))
    done = st.session_state.pop(DONE, None)
    if done:
        code, name, n = done
        st.success(t("dp.merged", n=n, code=code), icon=":material/call_merge:")
        W.link_to_customer(code, t("dp.open_survivor", code=code, name=md_escape(name)), t)
    can_merge = perm.can(ctx.actor, perm.CUSTOMER_MERGE)
    if can_merge and st.session_state.get(MERGING):
        _merge_panel(ctx, st.session_state[MERGING])
    try:
        page, offset = W.paged(OFFSET, SIZE, lambda size, off: duplicate_groups(ctx.db, ctx.actor, offset=off,
                                                                                size=size))
    except CustomerMasterError as exc:
        note_refusal(exc)
        st.error(md_escape(exc.translate(ctx.lang)), icon=":material/error:")
        return
    if page.preparing:
        st.info(t("dp.preparing", n=page.preparing), icon=":material/hourglass_top:")
        st.button(t("dp.check_again"), key="dp_again", icon=":material/refresh:")
        return
    if page.refreshing:
        st.caption(":material/update: " + t("dp.refreshing", at=local_datetime(page.as_of, ctx.lang)))
        st.button(t("dp.check_again"), key="dp_again", icon=":material/refresh:")
    if not page.total:
        st.info(t("dp.none"), icon=":material/done_all:")
        return
    for group, members in page.groups:
        _group(ctx, group, members, can_merge)
    W.pager(OFFSET, offset=offset, shown=len(page.groups), total=page.total, size=SIZE, t=t)


def _group(ctx, group, members, can_merge: bool) -> None:
    t = ctx.t
    with st.container(border=True):
        c1, c2 = st.columns([4, 1], vertical_alignment="center")
        reasons = " · ".join(t("dp.reason." + r) for r in group.reasons)
        c1.markdown(f"**{t('dp.group', n=len(members), confidence=group.confidence)}** — {reasons}")
        if can_merge and len(members) >= 2:
            c2.button(t("dp.open_merge"), key="dp_open_" + "_".join(map(str, group.ids)), icon=":material/call_merge:",
                      on_click=_open, args=(tuple(m.id for m in members),), width="stretch")
        for m in members:
            a, b, c = st.columns([3, 2, 2])
            with a:
                W.customer_link(m.code, m.name, t)
            b.caption(md_escape(" · ".join(x for x in (m.phone, m.uscc) if x)) or "—")
            c.caption(t("dup.owner", owner=md_escape(m.owner)) + (" · " + t("dup.archived") if m.archived else ""))


def _open(ids: tuple[int, ...]) -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith("dp_m_")]:
        del st.session_state[key]
    st.session_state.pop(ERROR, None)
    st.session_state[MERGING] = ids


def _close() -> None:
    st.session_state.pop(MERGING, None)
    st.session_state.pop(ERROR, None)


def _merge_panel(ctx, ids) -> None:
    t, lang = ctx.t, ctx.lang
    records = {r["id"]: r for r in merge_candidates(ctx.db, ctx.actor, ids)}
    with st.container(border=True):
        st.subheader(t("dp.merge_title"), anchor=False)
        error = st.session_state.get(ERROR)
        if error is not None:
            text = error.translate(lang) if isinstance(error, CustomerMasterError) else t(error)
            st.error(md_escape(text), icon=":material/error:")

        def label(i):
            return f"{records[i]['code']} {records[i]['name']}"

        chosen = st.multiselect(t("dp.pick"), options=list(records), default=list(records), format_func=label,
                                key="dp_m_pick")
        if len(chosen) < 2:
            st.info(t("dp.need_two"))
            st.button(t("dp.cancel"), key="dp_m_cancel", on_click=_close)
            return
        survivor = st.radio(t("dp.survivor"), options=chosen, format_func=label, key="dp_m_survivor")
        differ = differing_fields([records[i] for i in chosen])
        keep: dict[str, str] = {}
        if differ:
            st.markdown(t("dp.keep_values"))
        else:
            st.caption(t("dp.same_values"))
        contact_fields = [f for f in differ if f.storage == "primary_contact"]
        for f in [f for f in differ if f.storage == "customer"]:
            keep[f.name] = st.radio(
                f.label(lang), options=chosen, index=chosen.index(survivor), key=f"dp_m_keep_{f.name}",
                format_func=lambda i, f=f: t("dp.value_of", code=records[i]["code"],
                                             value=shown(ctx, f.name, records[i].get(f.name))))
        if contact_fields:
            contact = st.radio(
                t("form.group.contact"), options=chosen, index=chosen.index(survivor), key="dp_m_keep_contact",
                format_func=lambda i: t("dp.value_of", code=records[i]["code"], value=" · ".join(
                    shown(ctx, f.name, records[i].get(f.name)) for f in F.stored_in("primary_contact"))))
            keep.update({f.name: contact for f in F.stored_in("primary_contact")})
        st.caption(":material/move_item: " + t("dp.moves"))
        sure = st.checkbox(t("dp.confirm"), key="dp_m_confirm")
        versions = {i: records[i]["version"] for i in chosen}
        c1, c2, _ = st.columns([1, 1, 3])
        c1.button(t("dp.merge"), key="dp_m_merge", type="primary", disabled=not sure, icon=":material/call_merge:",
                  on_click=_merge, args=(ctx, survivor, versions, keep), width="stretch")
        c2.button(t("dp.cancel"), key="dp_m_cancel", on_click=_close, width="stretch")


@as_live_user
def _merge(ctx, survivor: int, versions: dict[int, int], keep: dict[str, int]) -> None:
    others = {i: v for i, v in versions.items() if i != survivor}
    try:
        rec = merge_customers(ctx.db, ctx.actor, survivor, versions[survivor], others, keep)
    except ConflictError:
        st.session_state[ERROR] = "dp.stale"  # the panel has read them again: check and merge again
        return
    except CustomerMasterError as exc:
        note_refusal(exc)
        st.session_state[ERROR] = exc
        return
    _close()
    st.session_state[DONE] = (rec["code"], rec["name"], len(others))


nav.leave_if_run_directly(__name__)
