"""The customer page's tabs for the parts of the file beyond contacts: Relationships,
Follow-ups and Files (``pages/customer.py``; the header, Details, Contacts and History
are in ``ui.customer_file``).

They follow the Contacts tab: every write is one service call
(``lib.customers.relationships``, ``lib.customers.followups``, ``lib.customers.files``)
made in a button's callback; inputs are built from the field declaration
(``W.form_input``); a refused write keeps what was typed and says why — by field, in
the user's language, with a checkbox per warning to confirm; a stale edit shows the
conflict message above the list. Buttons are hidden from those who may not act; the
services enforce the same rules. Session keys start with ``cf_<customer id>_`` like the
rest of the page (``rl``, ``fu``, ``fl`` per tab).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import streamlit as st

from lib.core.clock import local_today
from lib.core.errors import (
    ConfirmationRequired,
    ConflictError,
    CustomerMasterError,
    FieldProblem,
    ValidationError,
)
from lib.customers import fields as F
from lib.customers import files as fl
from lib.customers import followups as fu
from lib.customers import relationships as rl
from ui import grid as G
from ui import widgets as W
from ui.auth import as_live_user
from ui.context import note_refusal
from ui.customer_file import TOAST, _k, may_change, shown
from ui.format import local_datetime, md_escape
from ui.kinds import input_value, ref_labels

PAGE_SIZE = 10


# -- shared by the three tabs -------------------------------------------------------------------
def _pk(cid: int, tab: str, part_id: int | None, name: str) -> str:
    """Session key of one input or state of a part (``part_id`` None: the add form)."""
    return _k(cid, f"{tab}{part_id or 'new'}_{name}")


def _load(cid: int, tab: str, part_id: int | None, fields: Sequence[F.Field], values: Mapping) -> None:
    for f in fields:
        st.session_state[_pk(cid, tab, part_id, "f_" + f.name)] = input_value(f, values.get(f.name))
    for name in ("errors", "warnings"):
        st.session_state.pop(_pk(cid, tab, part_id, name), None)


def _forget(cid: int, tab: str, part_id: int | None, fields: Sequence[F.Field]) -> None:
    for f in fields:
        st.session_state.pop(_pk(cid, tab, part_id, "f_" + f.name), None)


def _typed(cid: int, tab: str, part_id: int | None, fields: Sequence[F.Field]) -> dict[str, Any]:
    out = {}
    for f in fields:
        v = st.session_state.get(_pk(cid, tab, part_id, "f_" + f.name))
        out[f.name] = None if G._empty(v) else v
    return out


def _changes(cid: int, tab: str, part: Mapping, fields: Sequence[F.Field]) -> dict[str, Any]:
    return {n: v for n, v in _typed(cid, tab, part["id"], fields).items() if not G.same_value(n, v, part.get(n))}


def _inputs(ctx, cid: int, tab: str, part_id: int | None, fields: Sequence[F.Field],
            shown_elsewhere: Sequence[str] = ()) -> None:
    """The inputs of ``fields`` two by two, each with its errors and confirmable warnings
    (as the Contacts form draws them)."""
    t, lang = ctx.t, ctx.lang
    errors: dict[str, list[FieldProblem]] = {}
    for p in st.session_state.get(_pk(cid, tab, part_id, "errors"), []):
        errors.setdefault(p.field, []).append(p)
    warnings: dict[str, list[FieldProblem]] = {}
    for p in st.session_state.get(_pk(cid, tab, part_id, "warnings"), []):
        warnings.setdefault(p.field, []).append(p)
    if errors:
        st.error(t("error.validation"), icon=":material/error:")
    elif warnings:
        st.warning(t("error.confirmation_required"), icon=":material/warning:")
    for f in fields:  # a new input starts at the field's default, or empty (not a list's first item)
        st.session_state.setdefault(_pk(cid, tab, part_id, "f_" + f.name), input_value(f, f.default))
    for row in range(0, len(fields), 2):
        for col, f in zip(st.columns(2), fields[row:row + 2]):
            with col:
                W.form_input(f, lang=lang, db=ctx.db, key=_pk(cid, tab, part_id, "f_" + f.name), t=t)
                W.show_problems(errors.get(f.name, []), lang)
                for w in warnings.get(f.name, []):
                    st.warning(md_escape(w.translate(lang)), icon=":material/warning:")
                    st.checkbox(t("form.confirm_warning"), key=_pk(cid, tab, part_id, "confirm_" + w.code))
    names = {f.name for f in fields} | set(shown_elsewhere)
    W.show_problems([p for n, ps in errors.items() if n not in names for p in ps], lang)


def _call(ctx, cid: int, tab: str, part_id: int | None, work: Callable[[list[str]], tuple[str, dict]]) -> bool:
    """Run one service call (``work(confirm)`` returns the toast); refusals land by field
    under the form of ``part_id`` (its input stays) or, when they belong to no field
    (stale, duplicate, not allowed), above the tab's list. True if it was written."""
    state = st.session_state
    confirm = [w.code for w in state.get(_pk(cid, tab, part_id, "warnings"), [])
               if state.get(_pk(cid, tab, part_id, "confirm_" + w.code))]
    for name in ("errors", "warnings"):
        state.pop(_pk(cid, tab, part_id, name), None)
    try:
        toast = work(confirm)
    except ConfirmationRequired as exc:
        state[_pk(cid, tab, part_id, "warnings")] = exc.problems
        return False
    except ValidationError as exc:
        state[_pk(cid, tab, part_id, "errors")] = exc.problems
        return False
    except CustomerMasterError as exc:
        note_refusal(exc)
        state[_k(cid, tab + "_general")] = exc
        return False
    state[TOAST] = toast
    return True


def _general_error(ctx, cid: int, tab: str) -> None:
    if (exc := st.session_state.pop(_k(cid, tab + "_general"), None)) is not None:
        if isinstance(exc, ConflictError):
            st.warning(md_escape(exc.translate(ctx.lang)), icon=":material/sync_problem:")
        else:
            st.error(md_escape(exc.translate(ctx.lang)), icon=":material/error:")


def _page(cid: int, tab: str, fetch: Callable[[int, int], tuple[list[dict], int]]) -> tuple[list[dict], int, int]:
    """(rows, total, offset) of the tab's current page; back onto the last page if the
    rows it showed went away."""
    key = _k(cid, tab + "_offset")
    offset = st.session_state.get(key, 0)
    rows, total = fetch(PAGE_SIZE, offset)
    if not rows and offset:
        offset = max(0, (math.ceil(total / PAGE_SIZE) - 1) * PAGE_SIZE)
        st.session_state[key] = offset
        rows, total = fetch(PAGE_SIZE, offset)
    return rows, total, offset


def _pager(ctx, cid: int, tab: str, offset: int, shown_n: int, total: int) -> None:
    if total <= PAGE_SIZE:
        return
    t = ctx.t
    key = _k(cid, tab + "_offset")
    st.caption(t("cf.hist.count", first=offset + 1, last=offset + shown_n, total=total))
    c1, c2, _ = st.columns([1, 1, 3])
    c1.button(t("cf.hist.prev"), key=_k(cid, tab + "_prev"), disabled=offset == 0, icon=":material/chevron_left:",
              on_click=_set, args=(key, max(0, offset - PAGE_SIZE)), width="stretch")
    c2.button(t("cf.hist.next"), key=_k(cid, tab + "_next"), disabled=offset + shown_n >= total,
              icon=":material/chevron_right:", icon_position="right", on_click=_set,
              args=(key, offset + PAGE_SIZE), width="stretch")


def _set(key: str, value: Any) -> None:
    st.session_state[key] = value


def _pop(key: str) -> None:
    st.session_state.pop(key, None)


def _by(ctx, who: str | None, at) -> str:
    return ctx.t("cf.part.by", who=md_escape(who or "—"), at=local_datetime(at, ctx.lang))


# -- relationships ------------------------------------------------------------------------------
RL = "rl"
PICKED = "relationship_other"  # the picker's problems (not a declared field: the service sets to_customer)
NOTE_FIELDS = tuple(f for f in F.RELATIONSHIP_FIELDS if f.name == "relationship_note")


def relationships(ctx, rec: Mapping) -> None:
    """The customer's links, both directions, in this customer's words ("X is our
    upstream supplier"), newest first and paged; add a link (the other customer picked
    by name, code or pinyin); edit a link's note, unlink."""
    t, cid = ctx.t, rec["id"]
    _general_error(ctx, cid, RL)
    links, total, offset = _page(cid, RL, lambda n, o: rl.links_of(ctx.db, ctx.actor, cid, limit=n, offset=o))
    if not links:
        st.info(t("cf.rel.none"), icon=":material/link_off:")
    editing = st.session_state.get(_k(cid, RL + "_editing"))
    for r in links:
        with st.container(border=True):
            _link_card(ctx, rec, r, editing == r["id"] and r["can_change"])
    _pager(ctx, cid, RL, offset, len(links), total)
    if may_change(ctx.actor, rec):
        with st.expander(t("cf.rel.add_title"), icon=":material/add_link:", expanded=not links):
            _link_form(ctx, rec)


def _link_card(ctx, rec: Mapping, r: Mapping, editing: bool) -> None:
    t, cid = ctx.t, rec["id"]
    main, buttons = st.columns([4, 2], vertical_alignment="center")
    with main:
        kind = shown(ctx, "relationship_kind", r["relationship_kind"], F.RELATIONSHIP_FIELDS)
        st.markdown(f"**{md_escape(kind)}**")
        other = t("cf.rel.other", name=md_escape(r["other_name"]), code=md_escape(r["other_code"]))
        if r["can_open"]:
            W.link_to_customer(r["other_code"], other, t)
        else:
            st.markdown(other)
            st.caption(":material/lock: " + t("cf.rel.not_yours"))
        note = [md_escape(r["relationship_note"])] if r.get("relationship_note") and not editing else []
        st.caption("  \n".join([*note, _by(ctx, r["created_by"], r["created_at"])]))  # one element, two lines
    if editing:
        with st.form(_pk(cid, RL, r["id"], "form"), enter_to_submit=False, border=False):
            _inputs(ctx, cid, RL, r["id"], NOTE_FIELDS)
            b1, b2, _ = st.columns([1, 1, 2])
            b1.form_submit_button(t("cf.part.save"), type="primary", icon=":material/save:", on_click=_save_note,
                                  args=(ctx, cid, r), key=_pk(cid, RL, r["id"], "go"), width="stretch")
            b2.form_submit_button(t("contact.cancel"), on_click=_pop, args=(_k(cid, RL + "_editing"),),
                                  key=_pk(cid, RL, r["id"], "cancel"), width="stretch")
    elif r["can_change"]:
        with buttons, st.container(horizontal=True):
            st.button(t("cf.rel.edit_note"), key=_pk(cid, RL, r["id"], "edit"), icon=":material/edit_note:",
                      on_click=_start_note, args=(cid, r))
            st.button(t("cf.rel.unlink"), key=_pk(cid, RL, r["id"], "unlink"), icon=":material/link_off:",
                      on_click=_unlink, args=(ctx, cid, r))


def _start_note(cid: int, r: Mapping) -> None:
    st.session_state[_k(cid, RL + "_editing")] = r["id"]
    _load(cid, RL, r["id"], NOTE_FIELDS, r)


@as_live_user
def _save_note(ctx, cid: int, r: Mapping) -> None:
    def work(confirm):
        note = _typed(cid, RL, r["id"], NOTE_FIELDS)["relationship_note"]
        rl.change_note(ctx.db, ctx.actor, r["id"], note, r["version"])
        return "cf.rel.saved_toast", {"name": md_escape(r["other_name"])}

    if _call(ctx, cid, RL, r["id"], work):
        _pop(_k(cid, RL + "_editing"))


@as_live_user
def _unlink(ctx, cid: int, r: Mapping) -> None:
    def work(confirm):
        rl.unlink(ctx.db, ctx.actor, r["id"], r["version"])
        return "cf.rel.unlinked_toast", {"name": md_escape(r["other_name"])}

    _call(ctx, cid, RL, r["id"], work)


def _link_form(ctx, rec: Mapping) -> None:
    """Pick the other customer by typing (its name, code or pinyin) and choosing among
    the matches; the kind, as this customer sees the other; an optional note. Not a
    form: the matches follow what is typed."""
    t, lang, cid = ctx.t, ctx.lang, rec["id"]
    search_key, other_key = _pk(cid, RL, None, "search"), _pk(cid, RL, None, "other")
    st.text_input(t("cf.rel.search"), key=search_key, placeholder=t("cf.rel.search_placeholder"),
                  icon=":material/search:")
    text = (st.session_state.get(search_key) or "").strip()
    candidates: list[dict] = []
    if text:
        try:
            candidates = rl.link_candidates(ctx.db, ctx.actor, text, exclude_id=cid)
        except ValidationError as exc:
            W.show_problems(exc.problems, lang)
    by_id = {c["id"]: c for c in candidates}
    st.session_state[_pk(cid, RL, None, "names")] = {i: c["name"] for i, c in by_id.items()}
    if st.session_state.get(other_key) not in by_id:
        st.session_state[other_key] = candidates[0]["id"] if len(candidates) == 1 else None
    st.selectbox(t("cf.rel.other_customer"), list(by_id), key=other_key,
                 format_func=lambda i: t("cf.rel.other", name=by_id[i]["name"], code=by_id[i]["code"]),
                 placeholder=t("cf.rel.pick") if candidates or not text else t("cf.rel.no_match"),
                 disabled=not candidates)
    W.show_problems([p for p in st.session_state.get(_pk(cid, RL, None, "errors"), [])
                     if p.field == PICKED], lang)
    _inputs(ctx, cid, RL, None, F.RELATIONSHIP_FIELDS, shown_elsewhere=(PICKED,))
    st.button(t("cf.rel.link"), type="primary", icon=":material/add_link:", key=_pk(cid, RL, None, "go"),
              on_click=_link, args=(ctx, cid))


@as_live_user
def _link(ctx, cid: int) -> None:
    other = st.session_state.get(_pk(cid, RL, None, "other"))

    def work(confirm):
        values = _typed(cid, RL, None, F.RELATIONSHIP_FIELDS)
        if other is None:  # nothing picked yet: say so under the picker
            raise ValidationError(PICKED, "cf.rel.pick_first")
        rl.link(ctx.db, ctx.actor, cid, other, values["relationship_kind"], values["relationship_note"])
        name = (st.session_state.get(_pk(cid, RL, None, "names")) or {}).get(other, "")
        return "cf.rel.linked_toast", {"name": md_escape(name)}

    if _call(ctx, cid, RL, None, work):
        _forget(cid, RL, None, F.RELATIONSHIP_FIELDS)
        for name in ("search", "other", "names"):
            _pop(_pk(cid, RL, None, name))


# -- follow-ups ---------------------------------------------------------------------------------
FU = "fu"
# The add and edit forms: every field but the need state, which has its own buttons.
FOLLOWUP_FORM_FIELDS = tuple(f for f in F.FOLLOWUP_FIELDS if f.name != "followup_need_state")


def followups(ctx, rec: Mapping) -> None:
    """The customer's follow-ups, newest first, one page at a time (the database pages
    them); each with its kind, date, summary, author, next action, due date, assignee,
    done and (for a need) its state; mark done / undo, need state, edit and remove for
    its author, its assignee and managers; a form to add one."""
    t, cid = ctx.t, rec["id"]
    _general_error(ctx, cid, FU)
    items, total, offset = _page(cid, FU, lambda n, o: fu.followups_of(ctx.db, ctx.actor, cid, limit=n, offset=o))
    writable = may_change(ctx.actor, rec)
    if writable:
        with st.expander(t("cf.fu.add_title"), icon=":material/add_comment:", expanded=not items):
            _followup_form(ctx, rec, None)
    if not items:
        st.info(t("cf.fu.none"), icon=":material/forum:")
    editing = st.session_state.get(_k(cid, FU + "_editing"))
    for item in items:
        mine = writable and fu.may_edit(ctx.actor, item, rec)
        with st.container(border=True):
            if editing == item["id"] and mine:
                _followup_form(ctx, rec, item)
            else:
                _followup_card(ctx, rec, item, mine)
    _pager(ctx, cid, FU, offset, len(items), total)


def _followup_card(ctx, rec: Mapping, item: Mapping, mine: bool) -> None:
    t, lang, cid, fid = ctx.t, ctx.lang, rec["id"], item["id"]
    fields = F.FOLLOWUP_FIELDS

    def val(name):
        return shown(ctx, name, item.get(name), fields)

    main, buttons = st.columns([4, 2], vertical_alignment="top")
    with main:
        title = f"**{md_escape(val('followup_kind'))}** · {val('followup_occurred_on')}"
        if item.get("done"):
            title += f" · :green-badge[:material/check: {t('cf.fu.done')}]"
        if item.get("followup_kind") == fu.NEED and item.get("followup_need_state"):
            title += f" · :blue-badge[{md_escape(F.label('followup_need_state', lang))}: " \
                     f"{md_escape(val('followup_need_state'))}]"
        # One Markdown for the title and the summary, one caption for the details and
        # who wrote it: each element costs a run about as much to build as to send.
        st.markdown(title + "  \n" + md_escape(item.get("followup_summary") or ""))
        details = [f"{F.label(n, lang)}: {md_escape(val(n))}"
                   for n in ("followup_next_action", "followup_due_on", "followup_assignee")
                   if not G._empty(item.get(n))]
        by = _by(ctx, item.get("created_by"), item.get("created_at")) + (
            " · " + t("cf.fu.done_by", who=md_escape(item["done_by"]), at=local_datetime(item.get("done_at"), lang))
            if item.get("done") else "")
        st.caption("  \n".join([" · ".join(details), by] if details else [by]))
    if not mine:
        return
    with buttons, st.container(horizontal=True):
        done = bool(item.get("done"))
        st.button(t("cf.fu.undo_done" if done else "cf.fu.mark_done"), key=_pk(cid, FU, fid, "done"),
                  icon=":material/undo:" if done else ":material/task_alt:",
                  on_click=_followup_op, args=(ctx, cid, "done", item, not done))
        if item.get("followup_kind") == fu.NEED:
            labels = ref_labels(ctx.db, "need_state", lang)
            for state in labels:
                if state != item.get("followup_need_state"):
                    st.button(t("cf.fu.set_need_state", state=labels[state]), key=_pk(cid, FU, fid, "need_" + state),
                              on_click=_followup_op, args=(ctx, cid, "need", item, state))
        st.button(t("contact.edit"), key=_pk(cid, FU, fid, "edit"), icon=":material/edit:",
                  on_click=_start_followup_edit, args=(cid, item))
        st.button(t("contact.remove"), key=_pk(cid, FU, fid, "remove"), icon=":material/delete:",
                  on_click=_followup_op, args=(ctx, cid, "remove", item, None))


def _start_followup_edit(cid: int, item: Mapping) -> None:
    st.session_state[_k(cid, FU + "_editing")] = item["id"]
    _load(cid, FU, item["id"], FOLLOWUP_FORM_FIELDS, item)


def _followup_form(ctx, rec: Mapping, item: Mapping | None) -> None:
    t, cid = ctx.t, rec["id"]
    fid = item["id"] if item else None
    date_key = _pk(cid, FU, None, "f_followup_occurred_on")
    if item is None and st.session_state.get(date_key) is None:
        st.session_state[date_key] = local_today()  # the service's default, shown
    with st.form(_pk(cid, FU, fid, "form"), enter_to_submit=False, border=False):
        _inputs(ctx, cid, FU, fid, FOLLOWUP_FORM_FIELDS)
        if item is None:
            st.form_submit_button(t("cf.fu.add"), type="primary", icon=":material/add_comment:",
                                  on_click=_followup_op, args=(ctx, cid, "add", None, None),
                                  key=_pk(cid, FU, None, "go"))
        else:
            b1, b2, _ = st.columns([1, 1, 2])
            b1.form_submit_button(t("cf.part.save"), type="primary", icon=":material/save:", on_click=_followup_op,
                                  args=(ctx, cid, "change", item, None), key=_pk(cid, FU, fid, "go"),
                                  width="stretch")
            b2.form_submit_button(t("contact.cancel"), on_click=_pop, args=(_k(cid, FU + "_editing"),),
                                  key=_pk(cid, FU, fid, "cancel"), width="stretch")


@as_live_user
def _followup_op(ctx, cid: int, op: str, item: Mapping | None, arg: Any) -> None:
    fid = item["id"] if item else None
    db, actor = ctx.db, ctx.actor

    def work(confirm):
        if op == "add":
            fu.add_followup(db, actor, cid, _typed(cid, FU, None, FOLLOWUP_FORM_FIELDS), confirm=confirm)
            return "cf.fu.added_toast", {}
        if op == "change":
            fu.change_followup(db, actor, fid, _changes(cid, FU, item, FOLLOWUP_FORM_FIELDS), item["version"],
                               confirm=confirm)
            return "cf.fu.saved_toast", {}
        if op == "done":
            fu.mark_done(db, actor, fid, item["version"], done=arg)
            return ("cf.fu.done_toast" if arg else "cf.fu.undone_toast"), {}
        if op == "need":
            fu.set_need_state(db, actor, fid, arg, item["version"])
            return "cf.fu.need_state_toast", {"state": ref_labels(db, "need_state", ctx.lang).get(arg, arg)}
        fu.remove_followup(db, actor, fid, item["version"])
        return "cf.fu.removed_toast", {}

    if not _call(ctx, cid, FU, fid, work):
        return
    if op == "add":
        _forget(cid, FU, None, FOLLOWUP_FORM_FIELDS)
        st.session_state[_k(cid, FU + "_offset")] = 0  # the new one is on the first page
    elif op == "change":
        _pop(_k(cid, FU + "_editing"))


# -- files --------------------------------------------------------------------------------------
FL = "fl"
SHA_SHOWN = 12  # characters of the SHA-256 shown; the whole hash is in the tooltip


def files(ctx, rec: Mapping) -> None:
    """The customer's files, newest first and paged: name, kind, size, who uploaded it
    when, SHA-256 (short); download (the bytes come from the service when clicked);
    edit title / kind and remove for those who may change the customer; an upload
    form."""
    t, cid = ctx.t, rec["id"]
    _general_error(ctx, cid, FL)
    items, total, offset = _page(cid, FL, lambda n, o: fl.files_of(ctx.db, ctx.actor, cid, limit=n, offset=o))
    writable = may_change(ctx.actor, rec)
    if writable:
        with st.expander(t("cf.file.add_title"), icon=":material/upload_file:", expanded=not items):
            _upload_form(ctx, rec)
    if not items:
        st.info(t("cf.file.none"), icon=":material/folder_off:")
    editing = st.session_state.get(_k(cid, FL + "_editing"))
    for item in items:
        with st.container(border=True):
            _file_card(ctx, rec, item, writable, editing == item["id"] and writable)
    _pager(ctx, cid, FL, offset, len(items), total)


def size_text(n: int | None, lang: str) -> str:
    """Bytes as a person reads them: 512 B, 12.3 KB, 4.5 MB."""
    if n is None:
        return "—"
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def _file_card(ctx, rec: Mapping, item: Mapping, writable: bool, editing: bool) -> None:
    t, lang, cid, file_id = ctx.t, ctx.lang, rec["id"], item["id"]
    main, buttons = st.columns([4, 2], vertical_alignment="center")
    with main:
        title = item.get("file_title") or item["filename"]
        st.markdown(f"**{md_escape(title)}** · :blue-badge[{md_escape(shown(ctx, 'file_kind', item.get('file_kind'), F.FILE_FIELDS))}]")
        st.caption(" · ".join([md_escape(item["filename"]), size_text(item.get("size_bytes"), lang),
                               _by(ctx, item.get("created_by"), item.get("created_at")),
                               t("cf.file.sha", sha=(item.get("sha256") or "")[:SHA_SHOWN])]),
                   help=t("cf.file.sha_help", sha=item.get("sha256") or ""))
    with buttons, st.container(horizontal=True):
        db, actor = ctx.db, ctx.actor
        st.download_button(t("cf.file.download"), data=lambda: fl.download(db, actor, file_id)[2],
                           file_name=item["filename"], mime=item.get("content_type"), on_click="ignore",
                           key=_pk(cid, FL, file_id, "download"), icon=":material/download:")
        if writable and not editing:
            st.button(t("contact.edit"), key=_pk(cid, FL, file_id, "edit"), icon=":material/edit:",
                      on_click=_start_file_edit, args=(cid, item))
            st.button(t("contact.remove"), key=_pk(cid, FL, file_id, "remove"), icon=":material/delete:",
                      on_click=_file_op, args=(ctx, cid, "remove", item))
    if editing:
        with st.form(_pk(cid, FL, file_id, "form"), enter_to_submit=False, border=False):
            _inputs(ctx, cid, FL, file_id, F.FILE_FIELDS)
            b1, b2, _ = st.columns([1, 1, 2])
            b1.form_submit_button(t("cf.part.save"), type="primary", icon=":material/save:", on_click=_file_op,
                                  args=(ctx, cid, "change", item), key=_pk(cid, FL, file_id, "go"),
                                  width="stretch")
            b2.form_submit_button(t("contact.cancel"), on_click=_pop, args=(_k(cid, FL + "_editing"),),
                                  key=_pk(cid, FL, file_id, "cancel"), width="stretch")


def _start_file_edit(cid: int, item: Mapping) -> None:
    st.session_state[_k(cid, FL + "_editing")] = item["id"]
    _load(cid, FL, item["id"], F.FILE_FIELDS, item)


def upload_limit_mb(db) -> int:
    """The uploader's own limit (whole MB, as Streamlit takes it) from the setting
    ``upload_max_mb``; the service checks the exact limit again."""
    return max(1, math.ceil(fl.max_bytes(db) / 1024 / 1024))


def _upload_form(ctx, rec: Mapping) -> None:
    t, cid = ctx.t, rec["id"]
    with st.form(_pk(cid, FL, None, "form"), enter_to_submit=False, border=False):
        # The uploader's key changes after each upload, which empties it.
        st.file_uploader(t("cf.file.choose"), key=_upload_key(cid), max_upload_size=upload_limit_mb(ctx.db),
                         help=t("cf.file.choose_help", mb=upload_limit_mb(ctx.db)))
        W.show_problems([p for p in st.session_state.get(_pk(cid, FL, None, "errors"), []) if p.field == "file"],
                        ctx.lang)
        _inputs(ctx, cid, FL, None, F.FILE_FIELDS, shown_elsewhere=("file",))
        st.form_submit_button(t("cf.file.upload"), type="primary", icon=":material/upload:",
                              on_click=_file_op, args=(ctx, cid, "add", None), key=_pk(cid, FL, None, "go"))


def _upload_key(cid: int) -> str:
    return _pk(cid, FL, None, f"upload{st.session_state.get(_pk(cid, FL, None, 'round'), 0)}")


@as_live_user
def _file_op(ctx, cid: int, op: str, item: Mapping | None) -> None:
    file_id = item["id"] if item else None
    db, actor = ctx.db, ctx.actor

    def work(confirm):
        if op == "add":
            upload = st.session_state.get(_upload_key(cid))
            if upload is None:
                raise ValidationError("file", "cf.file.none_chosen")
            out = fl.add_file(db, actor, cid, upload.name, upload.getvalue(), _typed(cid, FL, None, F.FILE_FIELDS))
            return "cf.file.added_toast", {"name": md_escape(out["filename"])}
        if op == "change":
            fl.change_file(db, actor, file_id, _changes(cid, FL, item, F.FILE_FIELDS), item["version"])
            return "cf.file.saved_toast", {"name": md_escape(item["filename"])}
        fl.remove_file(db, actor, file_id, item["version"])
        return "cf.file.removed_toast", {"name": md_escape(item["filename"])}

    if not _call(ctx, cid, FL, file_id, work):
        return
    if op == "add":
        _forget(cid, FL, None, F.FILE_FIELDS)
        round_key = _pk(cid, FL, None, "round")
        st.session_state[round_key] = st.session_state.get(round_key, 0) + 1
        st.session_state[_k(cid, FL + "_offset")] = 0
    elif op == "change":
        _pop(_k(cid, FL + "_editing"))
