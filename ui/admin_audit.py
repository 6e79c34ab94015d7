"""The administration page's audit log section: filters (user, customer code, action,
Asia/Shanghai dates), one page of entries at a time newest first, what one entry
changed, and the CSV export of the filtered entries (``lib.accounts.audit_log``;
``audit.view_log``).

The export is a download button whose data is made when it is clicked (Streamlit runs
the callable then, on a thread of its own), so a page view reads nothing more than its
page. The file is built in memory before it is sent, so one export takes at most
``EXPORT_MAX_ROWS`` entries (about 60 MB of CSV); more, and the button is disabled with
a message to narrow the filters (the service refuses too, if the log grew meanwhile).
"""
from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from lib.accounts import audit_log as A
from lib.accounts import permissions as perm
from lib.core.clock import local_today
from lib.core.errors import CustomerMasterError, PermissionDenied
from lib.core.i18n import MESSAGES
from lib.customers import fields as F
from ui.customer_file import shown
from ui.format import local_datetime, md_escape
from ui.shell import show_error

PAGE_SIZE = 25
EXPORT_MAX_ROWS = 100_000
CURSOR = "aa_cursor"  # ("older" | "newer", id) of the page shown; None: the newest entries
FORM = "aa_filters"
ACTOR, CODE, ACTION, FROM, TO = "aa_actor", "aa_code", "aa_action", "aa_from", "aa_to"
ENTRY = "aa_entry"  # the id of the entry whose changes are shown


def render(ctx) -> None:
    t = ctx.t
    st.caption(t("audit.intro"))
    if not perm.can(ctx.actor, perm.AUDIT_VIEW_LOG):  # a role given the page but not the log
        show_error(PermissionDenied(action=perm.AUDIT_VIEW_LOG), ctx.lang)  # recorded there
        return
    filters = _filter_form(ctx)
    cursor = st.session_state.get(CURSOR)
    try:
        page = A.audit_page(ctx.db, ctx.actor, filters, size=PAGE_SIZE,
                            older_than=cursor[1] if cursor and cursor[0] == "older" else None,
                            newer_than=cursor[1] if cursor and cursor[0] == "newer" else None)
    except CustomerMasterError as exc:  # an unknown customer code, dates the wrong way round
        show_error(exc, ctx.lang)
        return
    _export(ctx, filters, page.total)
    if not page.rows:
        st.info(t("audit.empty"), icon=":material/manage_search:")
        return
    _table(ctx, page)
    _pager(ctx, page)
    _entry(ctx, page.rows)


def _filter_form(ctx) -> A.AuditFilters:
    """The filters as last submitted; a new submission starts again at the newest entry."""
    t, lang = ctx.t, ctx.lang
    with st.form(FORM, border=True):
        c1, c2, c3 = st.columns(3)
        c1.selectbox(t("audit.filter_actor"), ["", *A.known_actors(ctx.db, ctx.actor)], key=ACTOR,
                     format_func=lambda v: v or t("audit.any"), accept_new_options=True)
        c2.text_input(t("audit.filter_customer"), key=CODE, max_chars=40, placeholder="C2026-000123")
        c3.selectbox(t("audit.filter_action"), ["", *A.ACTIONS], key=ACTION,
                     format_func=lambda v: A.action_label(v, lang) if v else t("audit.any"))
        d1, d2, d3 = st.columns([1, 1, 1], vertical_alignment="bottom")
        d1.date_input(t("audit.filter_from"), value=None, key=FROM, format="YYYY-MM-DD")
        d2.date_input(t("audit.filter_to"), value=None, key=TO, format="YYYY-MM-DD")
        d3.form_submit_button(t("audit.apply"), icon=":material/filter_alt:", on_click=_restart)
        st.caption(t("audit.dates_hint"))
    state = st.session_state
    return A.AuditFilters(actor=state.get(ACTOR) or "", customer_code=state.get(CODE) or "",
                          action=state.get(ACTION) or "", date_from=state.get(FROM), date_to=state.get(TO))


def _restart() -> None:
    st.session_state.pop(CURSOR, None)
    st.session_state.pop(ENTRY, None)


def _table(ctx, page: A.AuditPage) -> None:
    t, lang = ctx.t, ctx.lang
    first = page.rows[0]["id"]
    st.caption(t("audit.count", total=page.total, first=f"#{first}", last=f"#{page.rows[-1]['id']}"))
    st.dataframe(pd.DataFrame([{
        t("audit.col.id"): r["id"],
        t("audit.col.changed_at"): local_datetime(r["changed_at"], lang),
        t("audit.col.actor"): r["actor"],
        t("audit.col.action"): A.action_label(r["action"], lang),
        t("audit.col.entity"): A.entity_label(r["entity"], lang),
        t("audit.col.customer_code"): r["customer_code"] or "",
    } for r in page.rows]), hide_index=True, width="stretch")


def _pager(ctx, page: A.AuditPage) -> None:
    t = ctx.t
    c1, c2, _ = st.columns([1, 1, 3])
    c1.button(t("audit.newer"), key="aa_newer", disabled=page.newer is None, icon=":material/chevron_left:",
              on_click=_go, args=(("newer", page.newer),), width="stretch")
    c2.button(t("audit.older"), key="aa_older", disabled=page.older is None, icon=":material/chevron_right:",
              icon_position="right", on_click=_go, args=(("older", page.older),), width="stretch")


def _go(cursor: tuple[str, int]) -> None:
    st.session_state[CURSOR] = cursor
    st.session_state.pop(ENTRY, None)


def _entry(ctx, rows: list[dict]) -> None:
    """What one entry of the page changed: field, before, after for a customer's or a
    part's write; the recorded facts for the others (a user, a login, an export)."""
    t, lang = ctx.t, ctx.lang
    by_id = {r["id"]: r for r in rows}
    if st.session_state.get(ENTRY) not in by_id:
        st.session_state.pop(ENTRY, None)
    chosen = st.selectbox(t("audit.open_entry"), list(by_id), key=ENTRY, index=None,
                          format_func=lambda i: f"#{i} · {A.action_label(by_id[i]['action'], lang)}")
    if chosen is None:
        return
    e = by_id[chosen]
    what = A.action_label(e["action"], lang) + " · " + A.entity_label(e["entity"], lang)
    st.markdown("**" + md_escape(t("audit.entry_title", id=e["id"], when=local_datetime(e["changed_at"], lang),
                                     who=e["actor"], what=what)) + "**")
    changes = e["changes"] if isinstance(e["changes"], dict) else {"": e["changes"]}
    if not changes:
        st.caption(t("audit.no_changes"))
    elif A.is_diff(e):
        st.dataframe(pd.DataFrame([{t("audit.field"): _field_label(ctx, name), t("audit.before"): shown(ctx, name, b),
                                    t("audit.after"): shown(ctx, name, a)}
                                   for name, (b, a) in changes.items()]), hide_index=True, width="stretch")
    else:
        st.dataframe(pd.DataFrame([{t("audit.fact"): name, t("audit.value"): A.value_text(v)}
                                   for name, v in changes.items()]), hide_index=True, width="stretch")


def _field_label(ctx, name: str) -> str:
    """A declared field's label; else a part's own column (``is_primary``, …) as the
    customer's history names it; else the name as stored."""
    label = F.label(name, ctx.lang)
    if label == name and "cf.hist.col." + name in MESSAGES:
        return ctx.t("cf.hist.col." + name)
    return label


def _export(ctx, filters: A.AuditFilters, total: int) -> None:
    t = ctx.t
    too_many = total > EXPORT_MAX_ROWS
    db, actor, lang = ctx.db, ctx.actor, ctx.lang

    def csv_bytes() -> bytes:  # run when the button is clicked, on Streamlit's thread for it
        out = io.BytesIO()
        A.export_audit_log(db, actor, filters, out, lang, max_rows=EXPORT_MAX_ROWS)
        return out.getvalue()

    left, right = st.columns([1, 3], vertical_alignment="center")
    left.download_button(t("audit.export_button"), data=csv_bytes, on_click="ignore", mime="text/csv",
                         file_name=f"{t('audit.export_file')}-{local_today().isoformat()}.csv",
                         icon=":material/download:", disabled=too_many or total == 0, key="aa_export")
    if too_many:
        right.warning(t("audit.export_too_large", rows=total, limit=EXPORT_MAX_ROWS))
    else:
        right.caption(t("audit.export_caption", limit=EXPORT_MAX_ROWS))
