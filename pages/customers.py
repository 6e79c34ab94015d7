"""Customers (客户查询): search, filter, page through and edit customers in a grid.

The grid shows one server-side page (50/100/200 rows, keyset cursors). The page's rows
stay put while the user edits (``ui.grid.GridView``); "Save changes" sends only the
changed rows, each with the version it was read at, through ``lib.customers.customer.bulk_update``.
Unsaved edits survive saving, re-opening the page and a new search (``GridView.carry_from``).
Managers run a care campaign over the current search from here (``ui.campaign``); whoever
may export downloads the search as CSV or Excel, and the blank import template (``ui.export``).
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lib.customers import fields as F
from lib.accounts import permissions as perm
from lib.customers.customer import bulk_update, set_archived_many
from lib.customers.duplicates import edit_warnings
from lib.core.errors import ConflictError, CustomerMasterError
from lib.customers.search import PageRequest, search
from ui import duplicate_warning, nav
from ui import grid as G
from ui import widgets as W
from ui.campaign import campaign_panel
from ui.export import export_buttons
from ui.context import note_refusal, page_context
from ui.kinds import ui_kind
from ui.format import local_datetime, md_escape, number

VIEW, TOAST = "cu_view", "cu_toast"
LOOK_ALIKES = "cu_look_alikes"  # [(code, matches)] of the last save, shown once


def render() -> None:
    ctx = page_context(perm.PAGE_CUSTOMERS)
    W.keep_state_for(ctx.actor)
    t = ctx.t
    st.title(t("nav.customers"), anchor=False)
    if (toast := st.session_state.pop(TOAST, None)) is not None:
        key, params = toast
        icon = ":material/warning:" if params.get("failed") else ":material/check_circle:"
        st.toast(t(key, **params), icon=icon)
    if (q := st.query_params.get("q")) is not None:
        # A link from elsewhere ("find it", "open" a duplicate) searches for a code.
        W.set_search_text(q)
        del st.query_params["q"]

    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    with c1:
        W.search_box(t)
    with c2:
        sort, size = W.sort_and_size(t)
    filters = W.filter_panel(ctx, "customers")
    campaign_panel(ctx, filters)
    export_buttons(ctx, filters)

    view = _view(W.filters_signature())
    turned = _turn_page(view)
    if view.needs_load:
        try:
            result = search(ctx.db, ctx.actor, filters, sort=sort,
                            page=PageRequest(size=size, after=view.cursor))
        except CustomerMasterError as exc:
            note_refusal(exc)
            st.error(md_escape(exc.translate(ctx.lang)), icon=":material/error:")
            view.stack.clear()
            return
        view.load(result)

    if view.total == 0 and not view.rows:
        _empty_state(ctx, filters)
        return
    _grid(ctx, view, size, turned)


def _turn_page(view: G.GridView) -> bool:
    """A click on "previous" or "next" (drawn below the grid) turns the page before the
    grid is drawn, so it costs one run instead of a run that draws the page it leaves
    and a second one. Only when nothing is edited, neither kept in the view nor in the
    editor (the buttons are disabled while edits wait to be saved; with anything else
    in the editor, such as a row selection, the button below decides as before).
    True if the page was turned."""
    state = st.session_state.get(view.editor_key)
    if view.pending or (isinstance(state, dict) and state.get("edited_rows")):
        return False
    if st.session_state.get("cu_next") and view.next_cursor is not None:
        view.stack.append(view.next_cursor)
    elif st.session_state.get("cu_prev") and view.stack:
        view.stack.pop()
    else:
        return False
    view.needs_load = True
    return True


def _view(signature: tuple) -> G.GridView:
    """The page being edited; a new search (filters, sort, page size) starts a new one,
    which takes over the unsaved edits of the last."""
    old = st.session_state.get(VIEW)
    if isinstance(old, G.GridView) and old.signature == signature:
        return old
    view = G.GridView(signature=signature)
    if isinstance(old, G.GridView):
        view.carry_from(old, st.session_state.get(old.editor_key))
    st.session_state[VIEW] = view
    return view


def _empty_state(ctx, filters) -> None:
    t = ctx.t
    searching = filters.narrowed
    with st.container(border=True):
        if searching:
            st.info(t("customers.no_match"), icon=":material/search_off:")
            st.button(t("filters.clear"), on_click=W.clear_filters, icon=":material/filter_list_off:",
                      key="cu_empty_clear")
        else:
            st.info(t("customers.empty"), icon=":material/person_add:")
            if perm.can(ctx.actor, perm.CUSTOMER_CREATE):
                nav.page_link("new_customer", t, label=t("customers.empty_action"))


def _grid(ctx, view: G.GridView, size: int, turned: bool = False) -> None:
    """The grid and its buttons; ``turned``: this run's click on "previous" or "next"
    already turned the page (``_turn_page``)."""
    t, lang, actor = ctx.t, ctx.lang, ctx.actor
    first = len(view.stack) * size + 1
    last = len(view.stack) * size + len(view.rows)
    st.caption(t("customers.count", total=number(view.total), first=number(first), last=number(last)))

    editable = W.grid_editable_fields(actor)
    can_archive = perm.can(actor, perm.CUSTOMER_ARCHIVE)
    read_only = not editable and not can_archive
    columns = tuple(W.grid_column_order())
    locked_columns = [c for c in columns if c not in editable and not (c == W.ROW_SELECT and can_archive)]
    view.keep_edits_across((columns, tuple(locked_columns), read_only), st.session_state.get(view.editor_key))
    frame = G.build_frame(view, actor, lang)
    config = W.grid_column_config(lang=lang, db=ctx.db, editable=editable, can_select=can_archive, t=t)
    st.data_editor(
        frame,
        key=view.editor_key,
        column_config=config,
        column_order=[c for c in W.grid_column_order() if c != W.ROW_SELECT or can_archive],
        hide_index=True,
        num_rows="fixed",
        disabled=True if read_only else locked_columns,
        height=min(38 + 35 * len(frame), 38 + 35 * 20),
        placeholder="",
        alt=t("nav.customers"),
    )
    if not read_only:
        st.html(G.keys_script(), unsafe_allow_javascript=True)  # a static script, no user data
    state = st.session_state.get(view.editor_key)
    edits = G.changed_rows(view, frame, state)
    selected = G.selected_ids(frame, state)
    if read_only:
        st.caption(":material/lock: " + t("grid.read_only"))
    else:
        st.caption(t("grid.legend"))

    cols = st.columns([2, 1.3, 1.3, 1.3, 0.9, 0.9], vertical_alignment="center")
    with cols[0]:
        # A read-only user's grid is disabled, so edits can only come from a tampered
        # browser; the button then appears and the service refuses them with a reason.
        if (not read_only or edits) and st.button(t("grid.save", n=len(edits)), type="primary",
                                                  disabled=not edits, icon=":material/save:", key="cu_save",
                                                  width="stretch"):
            _save(ctx, view, edits)
    with cols[1]:
        if not read_only and st.button(t("grid.discard"), disabled=not edits, icon=":material/undo:",
                                       key="cu_discard", width="stretch"):
            G.discard_all(view)
            st.rerun()
    busy = bool(edits)  # archiving and paging load rows anew: save or discard edits first
    with cols[2]:
        if can_archive and st.button(t("grid.archive", n=len(selected)), disabled=not selected or busy,
                                     icon=":material/archive:", key="cu_archive", width="stretch",
                                     help=t("grid.archive_busy") if busy else None):
            _set_archived(ctx, view, selected, True)
    with cols[3]:
        if can_archive and st.button(t("grid.restore", n=len(selected)), disabled=not selected or busy,
                                     icon=":material/unarchive:", key="cu_restore", width="stretch"):
            _set_archived(ctx, view, selected, False)
    with cols[4]:
        if st.button(t("grid.prev"), disabled=not view.stack or busy, icon=":material/chevron_left:", key="cu_prev",
                     width="stretch", help=t("grid.archive_busy") if busy else None) and not turned:
            view.stack.pop()
            view.needs_load = True
            st.rerun()
    with cols[5]:
        if st.button(t("grid.next"), disabled=view.next_cursor is None or busy, icon=":material/chevron_right:",
                     icon_position="right", key="cu_next", width="stretch",
                     help=t("grid.archive_busy") if busy else None) and not turned:
            view.stack.append(view.next_cursor)
            view.needs_load = True
            st.rerun()
    _problems(ctx, view)


def _save(ctx, view: G.GridView, edits) -> None:
    results = bulk_update(ctx.db, ctx.actor, edits)
    ok, failed = G.apply_results(view, results)
    # Saved rows whose new name, phone or USCC looks like another customer's: a warning.
    st.session_state[LOOK_ALIKES] = [
        (r.record["code"], found) for r in results
        if r.ok and r.edit is not None and (found := edit_warnings(ctx.db, ctx.actor, r.record, r.edit.changes))]
    key = "grid.saved_toast" if not failed else "grid.saved_some_toast" if ok else "grid.not_saved_toast"
    st.session_state[TOAST] = (key, {"ok": ok, "failed": failed})
    st.rerun()


def _set_archived(ctx, view: G.GridView, ids: list[int], archived: bool) -> None:
    view.fold_editor(st.session_state.get(view.editor_key))  # a fresh editor: no rows ticked
    items = [(cid, view.record(cid)["version"]) for cid in ids if view.record(cid)]
    results = set_archived_many(ctx.db, ctx.actor, items, archived)
    ok = [r for r in results if r.ok]
    for r in results:
        if not r.ok and r.error is not None:
            view.errors[r.customer_id] = r.error
    st.session_state[TOAST] = ("grid.archived_toast" if archived else "grid.restored_toast",
                               {"ok": len(ok), "failed": len(results) - len(ok)})
    view.needs_load = True
    st.rerun()


def _problems(ctx, view: G.GridView) -> None:
    """Saved rows that now look like other customers (once), and rows whose last save
    failed: what is wrong, and for a conflict the other person's values next to mine,
    with a choice."""
    for code, found in st.session_state.pop(LOOK_ALIKES, None) or []:
        duplicate_warning.show(ctx.t, code, found)
    if not view.errors:
        return
    t, lang = ctx.t, ctx.lang
    st.subheader(t("grid.problems_title", n=len(view.errors)), anchor=False)
    for cid, err in list(view.errors.items()):
        rec = view.record(cid) or {}
        who = f"**{md_escape(rec.get('code', cid))}** {md_escape(rec.get('name') or '')}"
        with st.container(border=True):
            if isinstance(err, ConflictError):
                st.warning(who + " — " + md_escape(err.translate(lang)), icon=":material/sync_problem:")
                diff = G.conflict_rows(view, err, cid)
                if diff:
                    st.dataframe(pd.DataFrame(
                        [{t("grid.col_field"): F.label(n, lang), t("grid.col_mine"): _shown(ctx, n, mine),
                          t("grid.col_theirs"): _shown(ctx, n, theirs)} for n, mine, theirs in diff]),
                        hide_index=True, width="stretch")
                c1, c2, _ = st.columns([1, 1, 2])
                c1.button(t("grid.take_theirs"), key=f"cu_theirs_{cid}", on_click=_drop_edit,
                          args=(G.take_theirs, view, cid),
                          icon=":material/cloud_download:", width="stretch")
                c2.button(t("grid.keep_mine"), key=f"cu_mine_{cid}", on_click=G.keep_mine, args=(view, cid),
                          icon=":material/edit:", width="stretch", help=t("grid.keep_mine_help"))
            else:
                st.error(who + " — " + md_escape(G.describe_error(err, lang)), icon=":material/error:")
                st.button(t("grid.discard_row"), key=f"cu_drop_{cid}", on_click=_drop_edit, args=(G.discard, view, cid),
                          icon=":material/undo:")


def _drop_edit(drop, view: G.GridView, cid: int) -> None:
    """Drop one row's edit (``G.take_theirs`` / ``G.discard``), keeping the editor's others."""
    drop(view, cid, st.session_state.get(view.editor_key))


def _shown(ctx, name: str, value: Any) -> str:
    """A value as a person reads it: labels for codes, ¥ for money, local time."""
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return "—"
    f = F.by_name(name)
    if f is not None:
        return ui_kind(f).shown(f, value, ctx.db, ctx.lang)
    if hasattr(value, "year") and hasattr(value, "hour"):
        return local_datetime(value, ctx.lang)
    return str(value)


nav.leave_if_run_directly(__name__)
