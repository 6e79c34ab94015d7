"""The administration page's custom fields section (字段自定义): the customer's custom
fields in a table, a form to add one, and for a chosen field: move, retire or bring
back, change labels and rules (``lib.customers.custom_fields``; ``fields.manage``).
Refused input stays in its inputs with the message in the user's language."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.accounts import permissions as perm
from lib.core.errors import ValidationError
from lib.customers import custom_fields as cf
from ui import widgets as W
from ui.format import md_escape

DONE = "af_done"  # (message key, field label) of the last change, shown once after the rerun
ADD = "af_add"  # the add form; its inputs' keys: W.form_round(ADD) + input name
_INPUT_LABELS = {"key": "fields.col_key", "label_zh": "fields.col_zh", "label_en": "fields.col_en",
                 "kind": "fields.col_kind", "max_length": "fields.col_max_length", "edit_roles": "fields.col_roles",
                 "searchable": "fields.col_searchable", "filter": "fields.col_filter",
                 "dimension": "fields.col_dimension", "choices": "fields.col_choices"}


def render(ctx) -> None:
    t = ctx.t
    st.caption(t("fields.intro"))
    done = st.session_state.pop(DONE, None)
    if done:
        st.success(t(done[0], field=md_escape(done[1])), icon=":material/check_circle:")
    fields = cf.all_fields(ctx.db)
    roles = ctx.db.roles()
    if fields:
        st.dataframe(pd.DataFrame([{
            t("fields.col_key"): f.key, t("fields.col_zh"): f.label_zh, t("fields.col_en"): f.label_en,
            t("fields.col_kind"): t("fields.kind." + f.kind), t("fields.col_required"): f.required,
            t("fields.col_max_length"): f.max_length,
            t("fields.col_roles"): ", ".join(_role_label(roles, r, ctx.lang) for r in f.edit_roles),
            t("fields.col_searchable"): f.searchable, t("fields.col_filter"): f.filter,
            t("fields.col_dimension"): f.dimension, t("fields.col_active"): f.active,
        } for f in fields]), hide_index=True, width="stretch")
    else:
        st.info(t("fields.none"), icon=":material/info:")
    if not perm.can(ctx.actor, perm.FIELDS_MANAGE):
        return
    if fields:
        _one_field(ctx, fields, roles)
    _add_form(ctx, roles)


def _role_label(roles: dict, code: str, lang: str) -> str:
    r = roles.get(code)
    return (r["label_zh"] if lang == "zh" else r["label_en"]) if r else code


def _shown(ctx, f: cf.CustomField) -> str:
    label = f"{f.key} · {f.label(ctx.lang)}"
    return label if f.active else ctx.t("fields.retired_mark", label=label)


def _one_field(ctx, fields: list[cf.CustomField], roles: dict) -> None:
    t = ctx.t
    by_key = {f.key: f for f in fields}
    key = st.selectbox(t("fields.choose"), list(by_key), key="af_field", format_func=lambda k: _shown(ctx, by_key[k]))
    if key is None:
        return
    f = by_key[key]
    i = list(by_key).index(key)
    label = f.label(ctx.lang)
    up, down, toggle = st.columns(3)
    if up.button(t("fields.move_up"), key="af_up", icon=":material/arrow_upward:", disabled=i == 0, width="stretch"):
        _apply(ctx, "fields.done_move", label, lambda: cf.move_field(ctx.db, ctx.actor, key, -1))
    if down.button(t("fields.move_down"), key="af_down", icon=":material/arrow_downward:",
                   disabled=i == len(fields) - 1, width="stretch"):
        _apply(ctx, "fields.done_move", label, lambda: cf.move_field(ctx.db, ctx.actor, key, 1))
    if f.active:
        if toggle.button(t("fields.retire"), key="af_retire", icon=":material/block:", width="stretch"):
            _apply(ctx, "fields.done_retire", label, lambda: cf.set_active(ctx.db, ctx.actor, key, False, f.version))
    elif toggle.button(t("fields.restore"), key="af_restore", icon=":material/undo:", width="stretch"):
        _apply(ctx, "fields.done_restore", label, lambda: cf.set_active(ctx.db, ctx.actor, key, True, f.version))
    # Inputs keyed by the field and its version, each given the stored value as its own
    # (not through the session state: a value put there reaches the browser with one run
    # only, and an input the browser first draws in a later run would show empty).
    # Anyone's save makes a new version: new inputs from the stored field.
    k = f"af_edit_{key}_{f.version}_"
    with st.form(f"af_edit_{key}", border=True):
        st.markdown(f"**{t('fields.edit')}** · {md_escape(f.key)} · {t('fields.kind.' + f.kind)}")
        st.text_input(t("fields.col_zh"), value=f.label_zh, key=k + "label_zh")
        st.text_input(t("fields.col_en"), value=f.label_en, key=k + "label_en")
        st.checkbox(t("fields.col_required"), value=f.required, key=k + "required")
        if f.kind in cf.TEXT_KINDS:
            st.text_input(t("fields.col_max_length"), value="" if f.max_length is None else str(f.max_length),
                          key=k + "max_length", help=t("fields.help_max_length"))
        st.multiselect(t("fields.col_roles"), list(roles), default=list(f.edit_roles), key=k + "edit_roles",
                       format_func=lambda r: _role_label(roles, r, ctx.lang))
        if f.kind in cf.LISTED_KINDS:
            st.checkbox(t("fields.col_filter"), value=f.filter, key=k + "filter")
            st.checkbox(t("fields.col_dimension"), value=f.dimension, key=k + "dimension")
        if st.form_submit_button(t("fields.save"), icon=":material/save:", key="af_save_edit"):
            s = st.session_state
            changes = {name: s[k + name] for name in ("label_zh", "label_en", "required", "edit_roles")}
            if f.kind in cf.TEXT_KINDS:
                changes["max_length"] = _whole_number(s[k + "max_length"])
            if f.kind in cf.LISTED_KINDS:
                changes.update(filter=s[k + "filter"], dimension=s[k + "dimension"])
            _apply(ctx, "fields.done_change", label,
                   lambda: cf.change_field(ctx.db, ctx.actor, key, f.version, **changes))


def _add_form(ctx, roles: dict) -> None:
    t = ctx.t
    editors = [r for r, actions in ctx.db.permissions().items() if perm.CUSTOMER_UPDATE in actions and r in roles]
    k = W.form_round(ADD)  # a field added: the next round's inputs are empty again
    with st.form(ADD, border=True):
        st.markdown(f"**{t('fields.add')}**")
        a, b, c = st.columns(3)
        a.text_input(t("fields.col_key"), key=k + "key", help=t("fields.help_key"))
        b.text_input(t("fields.col_zh"), key=k + "label_zh")
        c.text_input(t("fields.col_en"), key=k + "label_en")
        a, b = st.columns(2)
        a.selectbox(t("fields.col_kind"), cf.CUSTOM_KINDS, key=k + "kind",
                    format_func=lambda kind: t("fields.kind." + kind))
        b.text_input(t("fields.col_max_length"), key=k + "max_length", help=t("fields.help_max_length"))
        st.multiselect(t("fields.col_roles"), list(roles), default=editors, key=k + "edit_roles",
                       format_func=lambda r: _role_label(roles, r, ctx.lang))
        a, b, c, d = st.columns(4)
        a.checkbox(t("fields.col_required"), key=k + "required")
        b.checkbox(t("fields.col_searchable"), key=k + "searchable", help=t("fields.help_searchable"))
        c.checkbox(t("fields.col_filter"), key=k + "filter", help=t("fields.help_listed"))
        d.checkbox(t("fields.col_dimension"), key=k + "dimension", help=t("fields.help_listed"))
        st.text_area(t("fields.col_choices"), key=k + "choices", help=t("fields.help_choices"), height=120)
        if st.form_submit_button(t("fields.save"), icon=":material/add:", type="primary", key="af_save_add"):
            s = st.session_state
            label = (s.get(k + "label_zh") if ctx.lang == "zh" else s.get(k + "label_en")) or ""

            def add():
                choices = parse_choices(s.get(k + "choices") or "") if s.get(k + "kind") == "choice" else []
                return cf.add_field(
                    ctx.db, ctx.actor, key=s.get(k + "key") or "", label_zh=s.get(k + "label_zh"),
                    label_en=s.get(k + "label_en"), kind=s.get(k + "kind"), required=s.get(k + "required"),
                    max_length=_whole_number(s.get(k + "max_length")), edit_roles=s.get(k + "edit_roles"),
                    searchable=s.get(k + "searchable"), filter=s.get(k + "filter"),
                    dimension=s.get(k + "dimension"), choices=choices)

            _apply(ctx, "fields.done_add", label.strip(), add, new_round=ADD)


def parse_choices(text: str) -> list[tuple[str, str]]:
    """Lines "中文 / English" (or one label for both languages) as (zh, en) pairs; blank
    lines are skipped. A line with more than one "/" is refused with its number."""
    out: list[tuple[str, str]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("/")]
        if len(parts) == 1:
            out.append((parts[0], parts[0]))
        elif len(parts) == 2:
            out.append((parts[0], parts[1]))
        else:
            raise ValidationError("choices", "custom_fields.bad_choice_line", line=n)
    return out


def _whole_number(text) -> int | str | None:
    """A typed max length: empty is None, digits an int, anything else stays text (the
    service refuses it with its message)."""
    text = (text or "").strip() if isinstance(text, str) else text
    if text in ("", None):
        return None
    return int(text) if isinstance(text, str) and text.isdigit() else text


def _apply(ctx, done_key: str, label: str, change, new_round: str | None = None) -> None:
    W.apply_change(ctx, change, input_labels=_INPUT_LABELS, new_round=new_round, done_key=DONE,
                   done=lambda _field: (done_key, label))
