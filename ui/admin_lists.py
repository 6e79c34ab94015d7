"""The administration page's reference lists section: pick a list, see its items (code,
labels, active) and add, rename, move, retire or bring back one
(``lib.customers.reference_admin``; ``lists.manage``). Refused input stays in its
inputs with the message in the user's language."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.accounts import permissions as perm
from lib.customers import custom_fields
from lib.customers import reference_admin as ra
from ui import widgets as W
from ui.format import md_escape
from ui.kinds import item_label

LIST = "al_list"  # the list shown
DONE = "al_done"  # (message key, code) of the last change, shown once after the rerun
ADD = "al_add"  # the add form; its inputs' keys: W.form_round(ADD) + code / label_zh / label_en
_INPUT_LABELS = {"code": "lists.col_code", "label_zh": "lists.col_zh", "label_en": "lists.col_en"}


def render(ctx) -> None:
    t = ctx.t
    st.caption(t("lists.intro"))
    lists = ra.managed_lists(ctx.db)
    custom = {n: f.label(ctx.lang) for n, f in custom_fields.choice_lists(ctx.db).items()}
    list_name = st.selectbox(t("lists.choose"), lists, key=LIST,
                             format_func=lambda n: custom.get(n) or t("lists.name." + n))
    done = st.session_state.pop(DONE, None)
    if done:
        st.success(t(done[0], code=md_escape(done[1])), icon=":material/check_circle:")
    items = ra.items(ctx.db, list_name)
    st.caption(t("lists.caption", n=len(items), active=sum(it.active for it in items)))
    st.dataframe(pd.DataFrame([{
        t("lists.col_code"): it.code, t("lists.col_zh"): it.label_zh, t("lists.col_en"): it.label_en,
        t("lists.col_active"): it.active,
    } for it in items]), hide_index=True, width="stretch")
    if not perm.can(ctx.actor, perm.LISTS_MANAGE):
        return
    _one_item(ctx, list_name, items)
    _add_form(ctx, list_name)


def _shown(ctx, it: ra.ReferenceItem) -> str:
    label = f"{it.code} · {item_label(vars(it), ctx.lang)}"
    return label if it.active else ctx.t("lists.retired_mark", label=label)


def _one_item(ctx, list_name: str, items: list[ra.ReferenceItem]) -> None:
    t = ctx.t
    by_code = {it.code: it for it in items}
    code = st.selectbox(t("lists.item"), list(by_code), key=f"al_item_{list_name}",
                        format_func=lambda c: _shown(ctx, by_code[c]))
    if code is None:
        return
    it = by_code[code]
    i = list(by_code).index(code)
    up, down, toggle = st.columns(3)
    if up.button(t("lists.move_up"), key="al_up", icon=":material/arrow_upward:", disabled=i == 0,
                 width="stretch"):
        _apply(ctx, "lists.done_move", code, lambda: ra.move_item(ctx.db, ctx.actor, list_name, code, -1))
    if down.button(t("lists.move_down"), key="al_down", icon=":material/arrow_downward:",
                   disabled=i == len(items) - 1, width="stretch"):
        _apply(ctx, "lists.done_move", code, lambda: ra.move_item(ctx.db, ctx.actor, list_name, code, 1))
    if it.active:
        if toggle.button(t("lists.retire"), key="al_retire", icon=":material/block:", width="stretch"):
            _apply(ctx, "lists.done_retire", code, lambda: ra.set_active(ctx.db, ctx.actor, list_name, code, False))
    elif toggle.button(t("lists.restore"), key="al_restore", icon=":material/undo:", width="stretch"):
        _apply(ctx, "lists.done_restore", code, lambda: ra.set_active(ctx.db, ctx.actor, list_name, code, True))
    # Rename: inputs keyed by the item and given its labels as their own values (not
    # through the session state, whose value reaches the browser with one run only).
    rename = f"al_ren_{list_name}_{code}"
    k = W.form_round(rename)  # renamed: the next round's inputs show the new labels
    with st.form(rename, border=True):
        st.markdown(f"**{t('lists.rename_title')}**")
        st.text_input(t("lists.col_zh"), value=it.label_zh, key=k + "label_zh")
        st.text_input(t("lists.col_en"), value=it.label_en, key=k + "label_en")
        if st.form_submit_button(t("lists.rename"), icon=":material/save:"):
            _apply(ctx, "lists.done_rename", code,
                   lambda: ra.rename_item(ctx.db, ctx.actor, list_name, code, st.session_state[k + "label_zh"],
                                          st.session_state[k + "label_en"]),
                   new_round=rename)


def _add_form(ctx, list_name: str) -> None:
    t = ctx.t
    k = W.form_round(ADD)  # an item added: the next round's inputs are empty again
    with st.form(ADD, border=True):
        st.markdown(f"**{t('lists.add_title')}**")
        st.text_input(t("lists.col_code"), key=k + "code", help=t("lists.code_help"))
        st.text_input(t("lists.col_zh"), key=k + "label_zh")
        st.text_input(t("lists.col_en"), key=k + "label_en")
        if st.form_submit_button(t("lists.add"), icon=":material/add:", type="primary"):
            s = st.session_state
            code = (s.get(k + "code") or "").strip()
            _apply(ctx, "lists.done_add", code,
                   lambda: ra.add_item(ctx.db, ctx.actor, list_name, s.get(k + "code"), s.get(k + "label_zh"),
                                       s.get(k + "label_en")),
                   new_round=ADD)


def _apply(ctx, done_key: str, code: str, change, new_round: str | None = None) -> None:
    W.apply_change(ctx, change, input_labels=_INPUT_LABELS, new_round=new_round, done_key=DONE,
                   done=lambda changed: (done_key if changed is not False else "lists.nothing_changed", code))
