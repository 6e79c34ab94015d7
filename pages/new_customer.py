"""New customer (新建客户): the entry form, built from the field declaration.

Saving is one service call, ``lib.customers.entry.enter_customer``, which answers with
the new customer or with what it needs from the user: errors by field, warnings to
confirm (a checkbox per warning), possible duplicates ("save anyway"). The page shows
them, keeps them in session state (never in one-off buttons) and calls again with the
confirmations. Everything typed stays in the form until it is saved.
"""
from __future__ import annotations

import hashlib
import re

import streamlit as st

from lib.customers import fields as F
from lib.accounts import permissions as perm
from lib.customers.customer import new_customer_defaults
from lib.customers.entry import PossibleDuplicates, enter_customer
from lib.core.errors import (
    ConfirmationRequired,
    CustomerMasterError,
    DuplicateError,
    FieldProblem,
    PermissionDenied,
    ValidationError,
)
from ui import nav
from ui import widgets as W
from ui.auth import as_live_user
from ui.context import note_refusal, page_context
from ui.format import md_escape

KEY = "nc_"  # widget keys: nc_name, nc_phone, … and nc_confirm_<warning code>
ERRORS, WARNINGS, GENERAL = "nc_errors", "nc_warnings", "nc_general"
DUPLICATES, DUPLICATES_CODE = "nc_duplicates", "nc_duplicates_code"
SAVED, SAVED_SHOWN, TOAST = "nc_saved", "nc_saved_shown", "nc_toast"
_STATE = (ERRORS, WARNINGS, GENERAL, DUPLICATES, DUPLICATES_CODE)


def render() -> None:
    ctx = page_context(perm.PAGE_NEW_CUSTOMER)
    W.keep_state_for(ctx.actor)
    t, lang = ctx.t, ctx.lang
    st.title(t("nav.new_customer"), anchor=False)
    if (toast := st.session_state.pop(TOAST, None)) is not None:
        st.toast(t("new.toast", code=toast), icon=":material/check_circle:")

    saved = st.session_state.get(SAVED)
    if saved and st.session_state.get(SAVED_SHOWN) == "instead_of_form":
        _saved_panel(ctx, saved)
        st.button(t("new.enter_another"), type="primary", icon=":material/person_add:", on_click=_clear_form,
                  key="nc_enter_another")
        return
    if saved:
        _saved_panel(ctx, saved)

    st.caption(t("new.intro"))
    errors: dict[str, list[FieldProblem]] = {}
    for p in st.session_state.get(ERRORS, []):
        errors.setdefault(p.field, []).append(p)
    warnings: dict[str, list[FieldProblem]] = {}
    for p in st.session_state.get(WARNINGS, []):
        warnings.setdefault(p.field, []).append(p)

    with st.form("nc_form", enter_to_submit=False, border=False):
        if (general := st.session_state.get(GENERAL)) is not None:
            st.error(md_escape(general.translate(lang)), icon=":material/error:")
        elif errors:
            st.error(t("error.validation"), icon=":material/error:")
        elif warnings:
            st.warning(t("error.confirmation_required"), icon=":material/warning:")
        defaults = new_customer_defaults(ctx.actor)
        for group in F.GROUPS:
            fields = F.form_fields(group)
            if not fields:  # "custom" until an administrator adds a field
                continue
            with st.container(border=True):
                st.markdown("##### " + t("form.group." + group))
                per_row = 2 if len(fields) > 1 else 1
                for row in range(0, len(fields), per_row):
                    # Fields in rows (a message under one field does not shift the
                    # other column); a column holds one field and its messages.
                    for col, f in zip(st.columns(per_row), fields[row:row + per_row]):
                        with col:
                            _field(ctx, f, defaults.get(f.name), errors.get(f.name, []),
                                   warnings.get(f.name, []))
        unknown = [p for name, ps in errors.items() if F.by_name(name) is None for p in ps]
        W.show_problems(unknown, lang)
        if st.session_state.get(DUPLICATES):
            _duplicates_panel(ctx)
        c1, c2, _ = st.columns([1, 1, 2])
        with c1:
            st.form_submit_button(t("new.save"), type="primary", icon=":material/save:", on_click=_submit,
                                  args=(ctx, "instead_of_form"), key="nc_save", width="stretch")
        with c2:
            st.form_submit_button(t("new.save_and_new"), icon=":material/add:", on_click=_submit,
                                  args=(ctx, "above_form"), key="nc_save_new", width="stretch")


def _field(ctx, f: F.Field, default, errors: list[FieldProblem], warnings: list[FieldProblem]) -> None:
    """One input with, right below it, its notes, errors and warnings to confirm. A new
    input starts at the service's default; a locked one always shows it (what will be
    stored)."""
    t, lang = ctx.t, ctx.lang
    allowed = W.may_write_field(ctx.actor, f)
    key = KEY + f.name
    if (key not in st.session_state and default is not None) or not allowed:
        st.session_state[key] = default
    W.form_input(f, lang=lang, db=ctx.db, key=key, disabled=not allowed, t=t)
    if not allowed:
        st.caption(":material/lock: " + t("form.locked_field"))
    W.show_problems(errors, lang)
    for w in warnings:
        st.warning(md_escape(w.translate(lang)), icon=":material/warning:")
        st.checkbox(t("form.confirm_warning"), key=_confirm_key(w))


def _saved_panel(ctx, saved: dict) -> None:
    t = ctx.t
    with st.container(border=True):
        st.success(t("new.saved", code=saved["code"], name=md_escape(saved["name"])),
                   icon=":material/check_circle:")
        W.link_to_customer(saved["code"], t("cf.open_saved", code=saved["code"]), t)


def _duplicates_panel(ctx) -> None:
    """Possible duplicates, each with its code and owner; the user opens one or saves anyway."""
    t = ctx.t
    matches = st.session_state[DUPLICATES]
    with st.container(border=True):
        st.warning(t("dup.title", n=len(matches)), icon=":material/content_copy:")
        for m in matches:
            c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="center")
            with c1:
                archived = f" · {t('dup.archived')}" if m.archived else ""
                st.markdown(f"**{md_escape(m.code)}** · {md_escape(m.name)}{archived}")
            with c2:
                reasons = ", ".join(t("dup.reason." + r) for r in m.reasons)
                st.caption(t("dup.owner", owner=md_escape(m.owner)) + " · " + reasons)
            with c3:
                if m.visible:
                    W.link_to_customer(m.code, t("dup.open"), t)
                else:
                    st.caption(t("dup.not_yours", owner=md_escape(m.owner)))
        st.caption(t("dup.hint"))
        st.form_submit_button(t("dup.save_anyway"), icon=":material/done_all:", on_click=_submit,
                              args=(ctx, "instead_of_form", True), key="nc_save_anyway")


# -- saving --------------------------------------------------------------------------------
def _values() -> dict:
    """The form's values by field name, as typed."""
    return {f.name: st.session_state.get(KEY + f.name) for f in F.declared()}


def _normal(value) -> str:
    return re.sub(r"[\s-]", "", str(value or "")).upper()


def _confirm_key(w: FieldProblem) -> str:
    """The checkbox of one warning about one value: a new value gets a fresh, unticked box."""
    digest = hashlib.sha1(_normal(w.params.get("value")).encode()).hexdigest()[:10]
    return f"{KEY}confirm_{w.code}_{digest}"


def _confirmed(values: dict) -> list[str]:
    """Warning codes the user ticked — only while the warned value is still the one typed."""
    return sorted({w.code for w in st.session_state.get(WARNINGS, [])
                   if st.session_state.get(_confirm_key(w))
                   and _normal(values.get(w.field)) == _normal(w.params.get("value"))})


def _reset_messages() -> None:
    for k in _STATE:
        st.session_state.pop(k, None)


@as_live_user
def _submit(ctx, show: str, anyway: bool = False) -> None:
    """Form callback: one call of the entry service. Runs before the page is drawn, so
    it may also clear the form's widgets."""
    state = st.session_state
    values = _values()
    confirm = _confirmed(values)
    if anyway and state.get(DUPLICATES_CODE):
        confirm.append(state[DUPLICATES_CODE])
    state.pop(SAVED, None)
    state.pop(GENERAL, None)
    # Confirmed warnings stay (with their ticked boxes) through the duplicates step.
    kept = [w for w in state.get(WARNINGS, []) if w.code in confirm]
    try:
        record = enter_customer(ctx.db, ctx.actor, values, confirm=confirm)
    except PossibleDuplicates as exc:
        state[ERRORS], state[WARNINGS] = [], kept
        state[DUPLICATES], state[DUPLICATES_CODE] = exc.matches, exc.code
        return
    except ConfirmationRequired as exc:
        # New warnings join the confirmed ones (which keep their ticked boxes).
        state[ERRORS], state[WARNINGS] = [], kept + exc.problems
        state.pop(DUPLICATES, None)
        return
    except ValidationError as exc:
        state[ERRORS], state[WARNINGS] = exc.problems, kept
        state.pop(DUPLICATES, None)
        return
    except DuplicateError as exc:
        state[ERRORS] = [FieldProblem("uscc", exc.key, exc.params)]
        return
    except PermissionDenied as exc:
        note_refusal(exc)
        field = exc.params.get("field")
        if F.by_name(field or "") is not None:
            state[ERRORS] = [FieldProblem(field, exc.key, exc.params)]
        else:
            state[GENERAL] = exc
        return
    except CustomerMasterError as exc:  # conflict on the code sequence, database in use, …
        state[GENERAL] = exc
        return
    _reset_messages()
    state[SAVED] = {"id": record["id"], "code": record["code"], "name": record["name"]}
    state[SAVED_SHOWN] = show
    state[TOAST] = record["code"]
    if show == "above_form":
        _clear_inputs()


def _clear_inputs() -> None:
    inputs = {KEY + f.name for f in F.declared()}
    for k in list(st.session_state.keys()):
        if k in inputs or (isinstance(k, str) and k.startswith(KEY + "confirm_")):
            del st.session_state[k]
    _reset_messages()


def _clear_form() -> None:
    """"Enter another customer": an empty form, no messages."""
    _clear_inputs()
    for k in (SAVED, SAVED_SHOWN, TOAST):
        st.session_state.pop(k, None)


nav.leave_if_run_directly(__name__)
