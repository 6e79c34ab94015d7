"""Today (今日工作): the default page after login — what to do today.

Follow-ups due today or overdue (a manager: everyone's, counted per assignee, or only
theirs), open customer needs, customers not reviewed for the review period and customers
changed lately, from ``lib.customers.home``: counts are the database's, each list is one
server-side page, every row links to its customer, and only the open tab's list is
drawn. A due follow-up is marked done from the list
(``lib.customers.followups.mark_done``, with the version the list was read at).
While it is read, the browser fetches the analytics page's chart script (``ui.prefetch``).
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from lib.accounts import permissions as perm
from lib.core.clock import local_today
from lib.core.errors import ConflictError, CustomerMasterError
from lib.customers import followups as fu
from lib.customers import home
from ui import nav, prefetch
from ui import widgets as W
from ui.auth import as_live_user
from ui.context import PageContext, note_refusal, page_context
from ui.format import local_datetime, md_escape, number

PAGE_SIZE = 10
ONLY_MINE, FLASH, TAB = "hm_only_mine", "hm_flash", "hm_tab"
# The remembered offset of each list.
DUE, NEEDS, NOT_REVIEWED, RECENT = "hm_due", "hm_needs", "hm_not_reviewed", "hm_recent"


def render() -> None:
    ctx = page_context(perm.PAGE_HOME)
    W.keep_state_for(ctx.actor)
    t, db, actor = ctx.t, ctx.db, ctx.actor
    st.title(t("nav.home"), anchor=False)
    st.caption(t("home.intro"))
    everyone = _top_row(ctx)

    today = local_today()
    due, due_at = W.paged(DUE, PAGE_SIZE, lambda limit, offset: home.my_due(
        db, actor, today, limit, offset, everyone=None if everyone else False))
    needs, needs_at = W.paged(NEEDS, PAGE_SIZE, lambda limit, offset: home.open_needs(db, actor, limit, offset))
    stale, stale_at = W.paged(NOT_REVIEWED, PAGE_SIZE,
                              lambda limit, offset: home.not_reviewed(db, actor, limit=limit, offset=offset))
    recent, recent_at = W.paged(RECENT, PAGE_SIZE,
                                lambda limit, offset: home.recently_changed(db, actor, limit=limit, offset=offset))

    cols = st.columns(4)
    cols[0].metric(t("home.metric_due"), number(due.total), help=t("home.metric_due_help"))
    cols[0].caption(t("home.metric_overdue", n=number(due.overdue)))
    cols[1].metric(t("home.metric_needs"), number(needs.total))
    cols[2].metric(t("home.metric_not_reviewed", days=stale.days), number(stale.total))
    cols[3].metric(t("home.metric_recent", days=recent.days), number(recent.total))

    # Only the open tab's list is drawn (a tab's click reruns the page): each row is
    # several elements, and the four lists were most of what the page sent. The labels
    # carry no count (the metrics above do), so the tabs stay the same widget, and on
    # the same tab, when a count changes.
    tabs = st.tabs([t("home.tab_due"), t("home.tab_needs"), t("home.tab_not_reviewed"), t("home.tab_recent")],
                   key=TAB, on_change="rerun")
    draw_list = (lambda: _due(ctx, due, due_at, today), lambda: _needs(ctx, needs, needs_at),
                 lambda: _not_reviewed(ctx, stale, stale_at), lambda: _recent(ctx, recent, recent_at))
    for tab, draw in zip(tabs, draw_list):
        if tab.open:
            with tab:
                draw()
    prefetch.charts_ahead(actor)


def _top_row(ctx: PageContext) -> bool:
    """Quick links, and for a manager the "only mine" switch; returns whether the due
    list is everyone's."""
    t = ctx.t
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="center")
    with c1:
        if perm.can(ctx.actor, perm.PAGE_NEW_CUSTOMER):
            nav.page_link("new_customer", t)
    with c2:
        nav.page_link("customers", t, label=t("home.find_customers"), icon=":material/search:")
    manager = perm.can(ctx.actor, perm.FOLLOWUP_EDIT_ANY)
    if manager:
        with c3:
            st.toggle(t("home.only_mine"), key=ONLY_MINE)
    return manager and not st.session_state.get(ONLY_MINE, False)


def _counts(rows: list[dict], who: str, who_label: str, columns: dict[str, str], t) -> None:
    """A small table of counts per person (the service's GROUP BY)."""
    frame = pd.DataFrame([{who_label: r[who] or t("home.unassigned"), **{label: r[c] for c, label in columns.items()}}
                          for r in rows])
    st.dataframe(frame, hide_index=True, width="content")


def _due(ctx: PageContext, due: home.DueFollowUps, offset: int, today: date) -> None:
    t = ctx.t
    if (flash := st.session_state.pop(FLASH, None)) is not None:
        kind, text = flash
        (st.success if kind == "ok" else st.error)(md_escape(text))
    if due.everyone:
        st.caption(t("home.due_everyone"))
        if due.by_assignee:
            _counts(due.by_assignee, "assignee", t("home.col_assignee"),
                    {"total": t("home.col_total"), "overdue": t("home.col_overdue")}, t)
    else:
        st.caption(t("home.due_mine"))
    if not due.rows:
        st.info(t("home.none_due"), icon=":material/task_alt:")
    for row in due.rows:
        with st.container(border=True):
            c1, c2 = st.columns([6, 1], vertical_alignment="center")
            with c1:
                W.customer_link(row["customer_code"], row["customer_name"], t)
                st.markdown(md_escape(row["followup_summary"]))
                due_on = row["followup_due_on"]
                when = t("home.overdue_by", days=(today - due_on).days) if due_on < today else t("home.due_today")
                meta = [f":red[{when}]" if due_on < today else f":orange[{when}]",
                        md_escape(t("home.due_line", date=due_on.isoformat(),
                                    assignee=row["followup_assignee"] or t("home.unassigned")))]
                if row["followup_next_action"]:
                    meta.append(md_escape(t("home.next_action", action=row["followup_next_action"])))
                if row["campaign"]:
                    meta.append(md_escape(t("home.campaign", label=row["campaign"])))
                st.caption(" · ".join(meta))
            with c2:
                if _may_mark_done(ctx.actor, row):
                    st.button(t("home.mark_done"), key=f"hm_done_{row['id']}", help=t("home.mark_done_help"),
                              icon=":material/task_alt:", on_click=_mark_done, args=(ctx, row), width="stretch")
    W.pager(DUE, offset=offset, shown=len(due.rows), total=due.total, size=PAGE_SIZE, t=t)


def _may_mark_done(actor, row: dict) -> bool:
    """Show "done" only where the service would accept it: the follow-up's author,
    assignee or a manager, on a customer the actor may change."""
    customer = {"owner": row["customer_owner"]}
    return perm.can(actor, perm.CUSTOMER_UPDATE, customer) and fu.may_edit(actor, row, customer)


@as_live_user
def _mark_done(ctx: PageContext, row: dict) -> None:
    # A button callback: runs before the page, so the lists below already leave the row out.
    try:
        fu.mark_done(ctx.db, ctx.actor, row["id"], row["version"])
        st.session_state[FLASH] = ("ok", ctx.t("home.marked_done", summary=row["followup_summary"]))
    except ConflictError as exc:
        st.session_state[FLASH] = ("error", ctx.t("home.done_conflict", by=exc.params.get("by", ""),
                                                  at=exc.params.get("at", "")))
    except CustomerMasterError as exc:  # removed meanwhile, or no longer the actor's to change
        note_refusal(exc)
        st.session_state[FLASH] = ("error", exc.translate(ctx.lang))


def _needs(ctx: PageContext, needs: home.OpenNeeds, offset: int) -> None:
    t = ctx.t
    if needs.by_owner and not perm.sees_only_own(ctx.actor):
        st.caption(t("home.needs_by_owner"))
        _counts(needs.by_owner, "owner", t("home.col_owner"), {"total": t("home.col_total")}, t)
    if not needs.rows:
        st.info(t("home.none_needs"), icon=":material/task_alt:")
    for row in needs.rows:
        with st.container(border=True):
            W.customer_link(row["customer_code"], row["customer_name"], t)
            st.markdown(md_escape(row["followup_summary"]))
            st.caption(md_escape(" · ".join([t("home.need_since", date=row["followup_occurred_on"].isoformat()),
                                             f"{t('home.col_owner')} {row['customer_owner'] or ''}"])))
    W.pager(NEEDS, offset=offset, shown=len(needs.rows), total=needs.total, size=PAGE_SIZE, t=t)


def _not_reviewed(ctx: PageContext, stale: home.CustomerList, offset: int) -> None:
    t = ctx.t
    if not stale.rows:
        st.info(t("home.none_not_reviewed", days=stale.days), icon=":material/task_alt:")
    for row in stale.rows:
        with st.container(border=True):
            c1, c2 = st.columns([3, 2], vertical_alignment="center")
            with c1:
                W.customer_link(row["customer_code"], row["customer_name"], t)
            with c2:
                reviewed = row["reviewed_at"]
                st.caption(md_escape(" · ".join([
                    t("home.reviewed_on", date=local_datetime(reviewed, ctx.lang)) if reviewed
                    else t("home.never_reviewed"),
                    f"{t('home.col_owner')} {row['customer_owner'] or ''}"])))
    W.pager(NOT_REVIEWED, offset=offset, shown=len(stale.rows), total=stale.total, size=PAGE_SIZE, t=t)


def _recent(ctx: PageContext, recent: home.CustomerList, offset: int) -> None:
    t = ctx.t
    if not recent.rows:
        st.info(t("home.none_recent", days=recent.days), icon=":material/history:")
    for row in recent.rows:
        with st.container(border=True):
            c1, c2 = st.columns([3, 2], vertical_alignment="center")
            with c1:
                W.customer_link(row["customer_code"], row["customer_name"], t)
            with c2:
                st.caption(md_escape(t("home.changed_line", at=local_datetime(row["changed_at"], ctx.lang),
                                       by=row["changed_by"], n=number(row["changes"]))))
    W.pager(RECENT, offset=offset, shown=len(recent.rows), total=recent.total, size=PAGE_SIZE, t=t)


nav.leave_if_run_directly(__name__)
