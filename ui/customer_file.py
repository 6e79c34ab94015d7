"""The customer page's parts (``pages/customer.py``): the header, the Details form, the
Contacts tab and the History tab of one customer (Relationships, Follow-ups and Files
are in ``ui.customer_parts``).

Every write is one service call (``lib.customers.customer``, ``lib.customers.contacts``)
made in a button's callback, so it runs before the page is drawn and may reset inputs.
What the user typed stays in its inputs until it is saved: a refused save (invalid,
stale, not allowed) keeps it and says why — by field, in the user's language. The
session keys of one customer start with ``cf_<id>_`` (``W.keep_state_for`` drops them
when another user logs in).
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Mapping

import pandas as pd
import streamlit as st

from lib.accounts import permissions as perm
from lib.core.clock import utcnow
from lib.core.errors import (
    ConfirmationRequired,
    ConflictError,
    CustomerMasterError,
    FieldProblem,
    PermissionDenied,
    ValidationError,
)
from lib.customers import contacts as ct
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers.duplicates import edit_warnings
from ui import duplicate_warning
from ui import grid as G
from ui import widgets as W
from ui.auth import as_live_user
from ui.context import note_denial, note_refusal
from ui.format import local_datetime, md_escape, money
from ui.kinds import input_value, ui_kind

PREFIX = "cf_"
TOAST = "cf_toast"  # (key, params) shown once on the next run
RECENT = "cf_recent"  # customers whose page state is kept (forget_other_customers), the open one last
KEPT_CUSTOMERS = 5  # besides the open one: customers with a refused save
# The state a refused save leaves beside the typed values (forms' problems, a stale
# save's stored record, a part's error shown above its list).
REFUSED_SAVE = ("_errors", "_warnings", "_conflict", "_general")
_CUSTOMER_KEY = re.compile(r"cf_(\d+)_")
HISTORY_PAGE_SIZE = 20

# The access level's badge: green trades normally, orange is restricted, red is stopped.
ACCESS_LEVEL_COLORS = {"normal": "green", "cash_only": "orange", "on_hold": "red"}


def _k(cid: int, name: str) -> str:
    return f"{PREFIX}{cid}_{name}"


def forget_other_customers(cid: int) -> None:
    """Drop the page state of every customer but ``cid`` (its loaded inputs, paging,
    what is being edited) unless it holds a refused save — what the user typed and why it was
    refused — of which the last ``KEPT_CUSTOMERS`` customers' are kept, so coming back
    to such a customer still shows the typed values. Streamlit builds a dict of the
    whole session state for every text input and select box it draws: with the state
    of every customer opened in the session kept (~30 keys each), a run grew slower the
    longer the session lasted (this page's rerun 94 ms after one customer, 218 ms after
    30, 614 ms after 100; docs/benchmarks.md)."""
    recent = st.session_state.get(RECENT) or []
    if recent and recent[-1] == cid:
        return
    by_customer: dict[int, list[str]] = {}
    refused: set[int] = set()
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and (m := _CUSTOMER_KEY.match(key)):
            other = int(m.group(1))
            by_customer.setdefault(other, []).append(key)
            if key.endswith(REFUSED_SAVE) and st.session_state[key]:
                refused.add(other)
    recent = [i for i in recent if i != cid and i in refused][-KEPT_CUSTOMERS:] + [cid]
    st.session_state[RECENT] = recent
    for other, keys in by_customer.items():
        if other not in recent:
            for key in keys:
                del st.session_state[key]


def show_toast(t) -> None:
    if (toast := st.session_state.pop(TOAST, None)) is not None:
        key, params = toast
        st.toast(t(key, **params), icon=":material/check_circle:")


def shown(ctx, name: str, value: Any, fields=None) -> str:
    """A value as a person reads it (labels for codes, ¥ for money); a dash if empty."""
    if G._empty(value):
        return "—"
    f = F.by_name(name, fields) or next((f for d in F.DECLARATIONS.values() for f in d if f.name == name), None)
    if f is not None:
        return ui_kind(f).shown(f, value, ctx.db, ctx.lang)
    return str(value)


def may_change(actor, rec: Mapping) -> bool:
    return not rec["archived"] and perm.can(actor, perm.CUSTOMER_UPDATE, rec)


# -- header -------------------------------------------------------------------------------------
def quality_hints(rec: Mapping, settings: Mapping[str, str], now=None) -> list[tuple[str, dict]]:
    """What the file lacks, as (message key, params): no phone, no industry, not reviewed
    for the review period (setting ``review_days``), no primary contact."""
    hints: list[tuple[str, dict]] = []
    if G._empty(rec.get("phone")):
        hints.append(("cf.hint.no_phone", {}))
    if G._empty(rec.get("industry")):
        hints.append(("cf.hint.no_industry", {}))
    review_days = int(settings.get("review_days", "180"))
    reviewed = rec.get("reviewed_at")
    if reviewed is not None and (now or utcnow()) - reviewed > timedelta(days=review_days):
        hints.append(("cf.hint.not_reviewed", {"days": ((now or utcnow()) - reviewed).days}))
    if G._empty(rec.get("contact_name")):
        hints.append(("cf.hint.no_primary_contact", {}))
    return hints


def header(ctx, rec: Mapping) -> None:
    """Name and code; type, tier, status and access level as badges; owner and credit
    limit; what the file lacks; archive / restore for those allowed."""
    t, lang = ctx.t, ctx.lang
    top, actions = st.columns([5, 1], vertical_alignment="bottom")
    with top:
        st.title(md_escape(rec["name"]), anchor=False)
    with actions:
        if perm.can(ctx.actor, perm.CUSTOMER_ARCHIVE, rec):
            archived = bool(rec["archived"])
            st.button(t("cf.restore" if archived else "cf.archive"), key=_k(rec["id"], "archive"),
                      icon=":material/unarchive:" if archived else ":material/archive:", width="stretch",
                      on_click=_set_archived, args=(ctx, rec, not archived))
    with st.container(horizontal=True, vertical_alignment="center"):
        st.badge(rec["code"], icon=":material/tag:", color="gray")
        if rec["archived"]:
            st.badge(t("cf.archived"), icon=":material/archive:", color="gray")
        for name in ("customer_type", "tier", "status"):
            if not G._empty(rec.get(name)):
                st.badge(f"{F.label(name, lang)}: {shown(ctx, name, rec[name])}", color="blue")
        level = rec.get("access_level")
        if not G._empty(level):
            st.badge(f"{F.label('access_level', lang)}: {shown(ctx, 'access_level', level)}",
                     icon=":material/verified_user:", color=ACCESS_LEVEL_COLORS.get(level, "gray"))
    st.caption(" · ".join([t("cf.owner", owner=md_escape(rec.get("owner") or "—")),
                           t("cf.credit_limit", amount=money(rec.get("credit_limit"), lang))]))
    hints = quality_hints(rec, ctx.db.settings())
    if hints:
        with st.container(horizontal=True):
            for key, params in hints:
                st.badge(t(key, **params), icon=":material/warning:", color="orange")


@as_live_user
def _set_archived(ctx, rec: Mapping, archived: bool) -> None:
    try:
        service = cs.archive_customer if archived else cs.restore_customer
        service(ctx.db, ctx.actor, rec["id"], rec["version"])
    except CustomerMasterError as exc:
        note_refusal(exc)
        st.session_state[_k(rec["id"], "general")] = exc
        return
    st.session_state[TOAST] = ("cf.archived_toast" if archived else "cf.restored_toast", {"code": rec["code"]})


def general_error(ctx, rec: Mapping) -> None:
    """A refusal that belongs to no field (archive refused, conflict on archive, …)."""
    if (exc := st.session_state.pop(_k(rec["id"], "general"), None)) is not None:
        st.error(md_escape(exc.translate(ctx.lang)), icon=":material/error:")


def tabs(cid: int, labels: list[str]):
    """The page's tabs. They carry a key, so the browser keeps the chosen tab, by its
    label, across reruns and re-mounts (a write's rerun, an error shown above them);
    without one it went back to Details after a write in another tab. They are not a
    widget (``on_change`` stays "ignore"): a widget can ask for a rerun on its own (the
    stateful tabs do when the server's tab index changes), and such a rerun takes this
    page, so a click on another page's link in that moment is lost (docs/design.md,
    "The customer page").
    A tab whose label changes (the Contacts count after adding or removing a contact)
    is found again through ``default``: the tab of this session's last contact write
    to this customer, else Details."""
    default = labels[CONTACTS_TAB] if st.session_state.get(_k(cid, "contact_written")) else labels[0]
    return st.tabs(labels, key=_k(cid, "tab"), default=default)


CONTACTS_TAB = 1  # the Contacts tab's place in pages/customer.py's tabs


# -- details ------------------------------------------------------------------------------------
def detail_fields() -> tuple[F.Field, ...]:
    """The customer's own fields; the primary contact's are edited in the Contacts tab
    (writing them here from a copy read before a contact edit would undo that edit)."""
    return F.stored_in("customer")


def _load_inputs(cid: int, rec: Mapping) -> None:
    for f in detail_fields():
        st.session_state[_k(cid, "f_" + f.name)] = input_value(f, rec.get(f.name))
    st.session_state[_k(cid, "base")] = dict(rec)
    for name in ("errors", "warnings", "conflict"):
        st.session_state.pop(_k(cid, name), None)


def _typed(cid: int) -> dict[str, Any]:
    return {f.name: st.session_state.get(_k(cid, "f_" + f.name)) for f in detail_fields()}


def _changes(cid: int) -> dict[str, Any]:
    """The fields whose input differs from the record the inputs were loaded from."""
    base = st.session_state.get(_k(cid, "base")) or {}
    return {n: (None if G._empty(v) else v) for n, v in _typed(cid).items() if not G.same_value(n, v, base.get(n))}


def details(ctx, rec: Mapping) -> None:
    """Every field of the customer in a form (locked where the actor may not write),
    saved through ``update_customer`` at the version read; "Mark as reviewed"."""
    t, lang, cid = ctx.t, ctx.lang, rec["id"]
    base = st.session_state.get(_k(cid, "base"))
    fields = detail_fields()
    missing = [f for f in fields if _k(cid, "f_" + f.name) not in st.session_state]
    if base is None or len(missing) == len(fields) or (base["version"] != rec["version"] and not _changes(cid)
                                                       and _k(cid, "conflict") not in st.session_state):
        _load_inputs(cid, rec)  # nothing typed: show the record as stored now
    else:
        # A field an administrator added since the inputs were loaded: fill its input
        # alone, so what the user typed in the others (a refused save) stays.
        for f in missing:
            st.session_state[_k(cid, "f_" + f.name)] = input_value(f, rec.get(f.name))
    writable = may_change(ctx.actor, rec)
    if rec["archived"]:
        st.caption(":material/lock: " + t("cf.archived_read_only"))
    elif not writable:
        st.caption(":material/lock: " + t("cf.read_only"))
    errors: dict[str, list[FieldProblem]] = {}
    for p in st.session_state.get(_k(cid, "errors"), []):
        errors.setdefault(p.field, []).append(p)
    warnings: dict[str, list[FieldProblem]] = {}
    for p in st.session_state.get(_k(cid, "warnings"), []):
        warnings.setdefault(p.field, []).append(p)
    _conflict_panel(ctx, rec)
    if look_alikes := st.session_state.pop(_k(cid, "look_alikes"), None):
        duplicate_warning.show(t, rec["code"], look_alikes)
    with st.form(_k(cid, "form"), enter_to_submit=False, border=False):
        if errors:
            st.error(t("error.validation"), icon=":material/error:")
        elif warnings:
            st.warning(t("error.confirmation_required"), icon=":material/warning:")
        fields = detail_fields()
        for row in range(0, len(fields), 2):
            for col, f in zip(st.columns(2), fields[row:row + 2]):
                with col:
                    allowed = writable and W.may_write_field(ctx.actor, f, rec)
                    if not allowed:
                        st.session_state[_k(cid, "f_" + f.name)] = input_value(f, rec.get(f.name))
                    W.form_input(f, lang=lang, db=ctx.db, key=_k(cid, "f_" + f.name), disabled=not allowed, t=t)
                    W.show_problems(errors.get(f.name, []), lang)
                    for w in warnings.get(f.name, []):
                        st.warning(md_escape(w.translate(lang)), icon=":material/warning:")
                        st.checkbox(t("form.confirm_warning"), key=_k(cid, "confirm_" + w.code))
        W.show_problems([p for n, ps in errors.items() if F.by_name(n) is None for p in ps], lang)
        st.caption(":material/contacts: " + t("cf.contact_fields_elsewhere"))
        c1, c2, _ = st.columns([1, 1, 2])
        with c1:
            st.form_submit_button(t("cf.save"), type="primary", icon=":material/save:", disabled=not writable,
                                  on_click=_save, args=(ctx, rec), key=_k(cid, "save"), width="stretch")
        with c2:
            st.form_submit_button(t("cf.mark_reviewed"), icon=":material/fact_check:", disabled=not writable,
                                  on_click=_mark_reviewed, args=(ctx, rec), key=_k(cid, "review"),
                                  width="stretch")
    st.caption(t("cf.last_reviewed", at=local_datetime(rec.get("reviewed_at"), lang)))


@as_live_user
def _save(ctx, rec: Mapping) -> None:
    cid = rec["id"]
    state = st.session_state
    base = state.get(_k(cid, "base")) or rec
    changes = _changes(cid)
    confirm = [w.code for w in state.get(_k(cid, "warnings"), []) if state.get(_k(cid, "confirm_" + w.code))]
    for name in ("errors", "warnings"):
        state.pop(_k(cid, name), None)
    if not changes:
        state[TOAST] = ("cf.nothing_changed", {})
        return
    try:
        saved = cs.update_customer(ctx.db, ctx.actor, cid, changes, base["version"], confirm=confirm)
    except ConflictError as exc:
        state[_k(cid, "conflict")] = exc
        return
    except ConfirmationRequired as exc:
        state[_k(cid, "warnings")] = exc.problems
        return
    except ValidationError as exc:
        state[_k(cid, "errors")] = exc.problems
        return
    except PermissionDenied as exc:
        note_denial(ctx.actor, exc.params.get("action", ""), where="action", code=rec["code"],
                    field=exc.params.get("field"))
        field = exc.params.get("field")
        if field and F.by_name(field) is not None:
            state[_k(cid, "errors")] = [FieldProblem(field, exc.key, exc.params)]
        else:
            state[_k(cid, "general")] = exc
        return
    except CustomerMasterError as exc:
        state[_k(cid, "general")] = exc
        return
    state.pop(_k(cid, "conflict"), None)
    _load_inputs(cid, saved)
    state[TOAST] = ("cf.saved_toast", {"code": rec["code"]})
    # Saved; if the new name, phone or USCC looks like another customer's, say so once.
    state[_k(cid, "look_alikes")] = edit_warnings(ctx.db, ctx.actor, saved, changes)


@as_live_user
def _mark_reviewed(ctx, rec: Mapping) -> None:
    cid = rec["id"]
    base = st.session_state.get(_k(cid, "base")) or rec
    try:
        cs.mark_reviewed(ctx.db, ctx.actor, cid, base["version"])
    except ConflictError as exc:
        st.session_state[_k(cid, "conflict")] = exc
        return
    except CustomerMasterError as exc:
        note_refusal(exc)
        st.session_state[_k(cid, "general")] = exc
        return
    if not _changes(cid):
        st.session_state.pop(_k(cid, "base"), None)  # reload the inputs at the new version
    else:  # keep what is typed, based on the version just written
        st.session_state[_k(cid, "base")] = {**base, "version": base["version"] + 1}
    st.session_state[TOAST] = ("cf.reviewed_toast", {"code": rec["code"]})


def _conflict_panel(ctx, rec: Mapping) -> None:
    """A stale save: who changed the customer, their values next to mine; take theirs or
    keep mine (the next save then applies mine over theirs, which the user has seen)."""
    cid = rec["id"]
    exc = st.session_state.get(_k(cid, "conflict"))
    if exc is None:
        return
    t, lang = ctx.t, ctx.lang
    base = st.session_state.get(_k(cid, "base")) or {}
    typed = _typed(cid)
    with st.container(border=True):
        st.warning(md_escape(exc.translate(lang)), icon=":material/sync_problem:")
        rows = []
        for f in detail_fields():
            theirs = exc.current.get(f.name)
            if not G.same_value(f.name, base.get(f.name), theirs) or not G.same_value(f.name, typed[f.name], theirs):
                rows.append({t("grid.col_field"): f.label(lang), t("grid.col_mine"): shown(ctx, f.name, typed[f.name]),
                             t("grid.col_theirs"): shown(ctx, f.name, theirs)})
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        c1, c2, _ = st.columns([1, 1, 2])
        c1.button(t("grid.take_theirs"), key=_k(cid, "theirs"), icon=":material/cloud_download:",
                  on_click=_take_theirs, args=(cid, exc), width="stretch")
        c2.button(t("grid.keep_mine"), key=_k(cid, "mine"), icon=":material/edit:", help=t("grid.keep_mine_help"),
                  on_click=_keep_mine, args=(cid, exc), width="stretch")


def _take_theirs(cid: int, exc: ConflictError) -> None:
    _load_inputs(cid, exc.current)


def _keep_mine(cid: int, exc: ConflictError) -> None:
    st.session_state[_k(cid, "base")] = dict(exc.current)
    st.session_state.pop(_k(cid, "conflict"), None)


# -- contacts -----------------------------------------------------------------------------------
def contacts(ctx, rec: Mapping, items: list[dict]) -> None:
    """The customer's contacts, primary first; edit / remove / make primary each; a form
    to add one."""
    t, cid = ctx.t, rec["id"]
    writable = may_change(ctx.actor, rec)
    general_contact_error(ctx, cid)
    if not items:
        st.info(t("contact.none"), icon=":material/person_off:")
    editing = st.session_state.get(_k(cid, "editing"))
    for c in items:
        with st.container(border=True):
            if editing == c["id"] and writable:
                _contact_form(ctx, rec, c)
            else:
                _contact_card(ctx, rec, c, writable)
    if writable:
        with st.expander(t("contact.add_title"), icon=":material/person_add:", expanded=not items):
            _contact_form(ctx, rec, None)


def general_contact_error(ctx, cid: int) -> None:
    if (exc := st.session_state.pop(_k(cid, "contact_general"), None)) is not None:
        if isinstance(exc, ConflictError):
            st.warning(md_escape(exc.translate(ctx.lang)), icon=":material/sync_problem:")
        else:
            st.error(md_escape(exc.translate(ctx.lang)), icon=":material/error:")


def _contact_card(ctx, rec: Mapping, c: Mapping, writable: bool) -> None:
    t, lang, cid = ctx.t, ctx.lang, rec["id"]
    main, buttons = st.columns([4, 2], vertical_alignment="center")
    with main:
        title = f"**{md_escape(c.get('contact_name') or '—')}**"
        if c.get("is_primary"):
            title += f" · :green-badge[{t('contact.is_primary')}]"
        st.markdown(title)
        details = [f"{f.label(lang)}: {md_escape(shown(ctx, f.name, c.get(f.name)))}"
                   for f in F.CONTACT_FIELDS if f.name != "contact_name" and not G._empty(c.get(f.name))]
        if details:
            st.caption(" · ".join(details))
    if not writable:
        return
    with buttons, st.container(horizontal=True):
        st.button(t("contact.edit"), key=_k(cid, f"c{c['id']}_edit"), icon=":material/edit:",
                  on_click=_start_edit, args=(cid, c))
        if not c.get("is_primary"):
            st.button(t("contact.make_primary"), key=_k(cid, f"c{c['id']}_primary"), icon=":material/star:",
                      on_click=_contact_call, args=(ctx, cid, "primary", c))
        st.button(t("contact.remove"), key=_k(cid, f"c{c['id']}_remove"), icon=":material/delete:",
                  on_click=_contact_call, args=(ctx, cid, "remove", c))


def _contact_key(cid: int, contact_id: int | None, name: str) -> str:
    return _k(cid, f"c{contact_id or 'new'}_{name}")


def _start_edit(cid: int, c: Mapping) -> None:
    st.session_state[_k(cid, "editing")] = c["id"]
    for f in F.CONTACT_FIELDS:
        st.session_state[_contact_key(cid, c["id"], "f_" + f.name)] = input_value(f, c.get(f.name))
    st.session_state.pop(_contact_key(cid, c["id"], "errors"), None)


def _contact_form(ctx, rec: Mapping, c: Mapping | None) -> None:
    """Add (``c`` None) or edit one contact; errors under their inputs, input kept."""
    t, lang, cid = ctx.t, ctx.lang, rec["id"]
    contact_id = c["id"] if c else None
    errors: dict[str, list[FieldProblem]] = {}
    for p in st.session_state.get(_contact_key(cid, contact_id, "errors"), []):
        errors.setdefault(p.field, []).append(p)
    warnings: dict[str, list[FieldProblem]] = {}
    for p in st.session_state.get(_contact_key(cid, contact_id, "warnings"), []):
        warnings.setdefault(p.field, []).append(p)
    with st.form(_contact_key(cid, contact_id, "form"), enter_to_submit=False, border=False):
        if errors:
            st.error(t("error.validation"), icon=":material/error:")
        elif warnings:
            st.warning(t("error.confirmation_required"), icon=":material/warning:")
        fields = F.CONTACT_FIELDS
        for row in range(0, len(fields), 2):
            for col, f in zip(st.columns(2), fields[row:row + 2]):
                with col:
                    W.form_input(f, lang=lang, db=ctx.db, key=_contact_key(cid, contact_id, "f_" + f.name), t=t)
                    W.show_problems(errors.get(f.name, []), lang)
                    for w in warnings.get(f.name, []):
                        st.warning(md_escape(w.translate(lang)), icon=":material/warning:")
                        st.checkbox(t("form.confirm_warning"), key=_contact_key(cid, contact_id, "confirm_" + w.code))
        W.show_problems([p for n, ps in errors.items() if F.by_name(n, fields) is None for p in ps], lang)
        if c is None:
            st.checkbox(t("contact.add_as_primary"), key=_contact_key(cid, None, "primary"))
            st.form_submit_button(t("contact.add"), type="primary", icon=":material/person_add:",
                                  on_click=_contact_call, args=(ctx, cid, "add", None), key=_contact_key(cid, None, "go"))
        else:
            b1, b2, _ = st.columns([1, 1, 2])
            b1.form_submit_button(t("contact.save"), type="primary", icon=":material/save:", on_click=_contact_call,
                                  args=(ctx, cid, "change", c), key=_contact_key(cid, contact_id, "go"),
                                  width="stretch")
            b2.form_submit_button(t("contact.cancel"), on_click=_stop_edit, args=(cid,),
                                  key=_contact_key(cid, contact_id, "cancel"), width="stretch")


def _stop_edit(cid: int) -> None:
    st.session_state.pop(_k(cid, "editing"), None)


def _contact_values(cid: int, contact_id: int | None) -> dict[str, Any]:
    out = {}
    for f in F.CONTACT_FIELDS:
        v = st.session_state.get(_contact_key(cid, contact_id, "f_" + f.name))
        out[f.name] = None if G._empty(v) else v
    return out


@as_live_user
def _contact_call(ctx, cid: int, op: str, c: Mapping | None) -> None:
    """One contact service call; refusals land by field (the form's input stays) or,
    for a stale edit or removal, as a message above the list."""
    state = st.session_state
    state[_k(cid, "contact_written")] = True  # the Contacts count may change: see tabs()
    contact_id = c["id"] if c else None
    confirm = [w.code for w in state.get(_contact_key(cid, contact_id, "warnings"), [])
               if state.get(_contact_key(cid, contact_id, "confirm_" + w.code))]
    for name in ("errors", "warnings"):
        state.pop(_contact_key(cid, contact_id, name), None)
    try:
        if op == "add":
            values = _contact_values(cid, None)
            out = ct.add_contact(ctx.db, ctx.actor, cid, values, confirm=confirm,
                                 primary=bool(state.get(_contact_key(cid, None, "primary"))))
            for f in F.CONTACT_FIELDS:
                state.pop(_contact_key(cid, None, "f_" + f.name), None)
            state.pop(_contact_key(cid, None, "primary"), None)
            toast = ("contact.added_toast", out)
        elif op == "change":
            changes = {n: v for n, v in _contact_values(cid, contact_id).items()
                       if not G.same_value(n, v, c.get(n))}
            out = ct.change_contact(ctx.db, ctx.actor, contact_id, changes, c["version"], confirm=confirm)
            state.pop(_k(cid, "editing"), None)
            toast = ("contact.saved_toast", out)
        elif op == "primary":
            out = ct.make_primary(ctx.db, ctx.actor, contact_id, c["version"])
            toast = ("contact.primary_toast", out)
        else:
            ct.remove_contact(ctx.db, ctx.actor, contact_id, c["version"])
            toast = ("contact.removed_toast", c)
    except ConfirmationRequired as exc:
        state[_contact_key(cid, contact_id, "warnings")] = exc.problems
        return
    except ValidationError as exc:
        state[_contact_key(cid, contact_id, "errors")] = exc.problems
        return
    except CustomerMasterError as exc:
        note_refusal(exc)
        state[_k(cid, "contact_general")] = exc
        return
    state[TOAST] = (toast[0], {"name": md_escape(toast[1].get("contact_name") or "")})


# -- history ------------------------------------------------------------------------------------
def history(ctx, rec: Mapping) -> None:
    """The customer's audit entries, newest first, one page at a time: who, when, what,
    from what, to what; "Restore this version" on the customer's own entries."""
    t, lang, cid = ctx.t, ctx.lang, rec["id"]
    page_key = _k(cid, "hist_offset")
    offset = st.session_state.get(page_key, 0)
    entries, total = cs.history_page(ctx.db, ctx.actor, cid, limit=HISTORY_PAGE_SIZE, offset=offset)
    if not entries:
        st.info(t("cf.hist.empty"), icon=":material/history:")
        return
    general_error(ctx, rec)
    can_restore = may_change(ctx.actor, rec)
    st.caption(t("cf.hist.count", first=offset + 1, last=offset + len(entries), total=total))
    for e in entries:
        with st.container(border=True):
            what = t("cf.hist.action." + e["action"]) + " · " + t("cf.hist.entity." + e["entity"])
            c1, c2 = st.columns([4, 1], vertical_alignment="center")
            c1.markdown("**" + t("cf.hist.entry", when=local_datetime(e["changed_at"], lang),
                                  who=md_escape(e["actor"]), what=what) + "**")
            own = e["customer_id"] == cid  # else an entry of a customer merged into this one
            if not own:
                c1.caption(t("cf.hist.merged_entry", code=md_escape(e["customer_code"])))
            if can_restore and own and e["entity"] == "customer" and e["action"] in ("create", "update"):
                c2.button(t("cf.hist.restore"), key=_k(cid, f"restore_{e['id']}"), icon=":material/restore:",
                          on_click=_restore, args=(ctx, rec, e["id"]), width="stretch")
            rows = [{t("cf.hist.field"): _column_label(t, name, lang), t("cf.hist.from"): shown(ctx, name, before),
                     t("cf.hist.to"): shown(ctx, name, after)}
                    for name, (before, after) in e["changes"].items()]
            if rows:
                st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    c1, c2, _ = st.columns([1, 1, 3])
    c1.button(t("cf.hist.prev"), key=_k(cid, "hist_prev"), disabled=offset == 0, icon=":material/chevron_left:",
              on_click=_page_history, args=(page_key, max(0, offset - HISTORY_PAGE_SIZE)), width="stretch")
    c2.button(t("cf.hist.next"), key=_k(cid, "hist_next"), disabled=offset + len(entries) >= total,
              icon=":material/chevron_right:", icon_position="right", on_click=_page_history,
              args=(page_key, offset + HISTORY_PAGE_SIZE), width="stretch")


def _column_label(t, name: str, lang: str) -> str:
    """A history row's field: a declared field's label, else a part's own column
    (``is_primary``, a file's SHA-256, …) from the catalogue."""
    label = F.label(name, lang)
    return t("cf.hist.col." + name) if label == name else label


def _page_history(key: str, offset: int) -> None:
    st.session_state[key] = offset


@as_live_user
def _restore(ctx, rec: Mapping, audit_id: int) -> None:
    cid = rec["id"]
    try:
        saved = cs.restore_version(ctx.db, ctx.actor, cid, audit_id, rec["version"])
    except CustomerMasterError as exc:
        note_refusal(exc)
        st.session_state[_k(cid, "general")] = exc
        return
    _load_inputs(cid, saved)
    st.session_state[_k(cid, "hist_offset")] = 0
    st.session_state[TOAST] = ("cf.hist.restored_toast", {"code": rec["code"]})
