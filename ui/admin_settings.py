"""The administration page's settings section: a form drawn from the declaration
(``lib.core.settings.SETTINGS``), one group of fields each, saved all at once
(``settings.update``: validated, audited; ``settings.manage``)."""
from __future__ import annotations

import streamlit as st

from lib.core import settings as S
from lib.core.errors import ValidationError

SAVED = "ad_settings_saved"  # how many settings the last save changed


def _key(setting: S.Setting) -> str:
    return f"ad_set_{setting.key}"


def render(ctx) -> None:
    t = ctx.t
    st.caption(t("admin.settings_intro"))
    saved = st.session_state.pop(SAVED, None)
    if saved:
        st.success(t("admin.settings_saved", n=saved))
    elif saved == 0:
        st.info(t("admin.settings_unchanged"))
    now = S.values(ctx.db)
    given: dict[str, object] = {}
    with st.form("ad_settings", clear_on_submit=False, border=False):
        for group in S.GROUPS:
            st.subheader(t(f"admin.settings_group.{group}"), anchor=False)
            cols = st.columns(2)
            for i, setting in enumerate(s for s in S.SETTINGS if s.group == group):
                col = cols[i % 2]
                label, help_text = t(setting.label_key), t(setting.help_key)
                if setting.kind == S.BOOL:
                    given[setting.key] = col.checkbox(label, value=now[setting.key], help=help_text,
                                                      key=_key(setting))
                elif setting.kind == S.INT:
                    given[setting.key] = col.number_input(label, value=now[setting.key], step=1,
                                                          min_value=setting.minimum, max_value=setting.maximum,
                                                          help=help_text, key=_key(setting))
                else:
                    given[setting.key] = col.text_input(label, value=now[setting.key], help=help_text,
                                                        key=_key(setting))
        submitted = st.form_submit_button(t("admin.settings_save"), type="primary")
    if not submitted:
        return
    try:
        changes = S.update(ctx.db, ctx.actor, given)
    except ValidationError as exc:  # the form keeps what was typed
        for problem in exc.problems:
            st.error(f"{t(S.BY_KEY[problem.field].label_key)}: {problem.translate(ctx.lang)}"
                     if problem.field in S.BY_KEY else problem.translate(ctx.lang))
        return
    st.session_state[SAVED] = len(changes)
    st.rerun()
