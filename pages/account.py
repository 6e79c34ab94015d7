"""My account: who I am, and changing my own password."""
import streamlit as st

from lib.accounts import permissions as perm
from lib.accounts import users
from lib.core.errors import ValidationError
from ui import nav
from ui import auth
from ui.context import page_context, role_label
from ui.format import md_escape

FORM_KEY = "account_password_form"
GEN_KEY = "account_form_generation"  # a new generation = fresh, empty fields
FLASH_KEY = "account_flash"  # message for the toast after the rerun


def render() -> None:
    ctx = page_context(perm.PAGE_ACCOUNT)
    st.title(ctx.t("nav.account"))
    st.caption(ctx.t("account.intro"))
    user = users.get_user(ctx.db, ctx.actor.username)
    if user is not None and user.must_change_password:
        st.warning(ctx.t("account.must_change"), icon=":material/key:")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.toast(ctx.t(flash), icon=":material/check_circle:")

    left, right = st.columns([1, 1], gap="large")
    with left, st.container(border=True):
        st.markdown(f"**{ctx.t('account.display_name')}:** {md_escape(ctx.actor.display_name)}")
        st.markdown(f"**{ctx.t('account.username')}:** `{ctx.actor.username}`")
        st.markdown(f"**{ctx.t('account.role')}:** {md_escape(role_label(ctx.actor.role, ctx.lang))}")

    with right:
        st.subheader(ctx.t("account.change_password"))
        # clear_on_submit=False: after a mistake the user fixes one field, not three.
        gen = st.session_state.get(GEN_KEY, 0)
        with st.form(f"{FORM_KEY}_{gen}", clear_on_submit=False, border=True):
            current = st.text_input(ctx.t("account.current_password"), type="password", key=f"acc_current_{gen}")
            new = st.text_input(ctx.t("account.new_password"), type="password", key=f"acc_new_{gen}",
                                help=ctx.t("account.password_rules", min=users.MIN_PASSWORD))
            repeat = st.text_input(ctx.t("account.repeat_password"), type="password", key=f"acc_repeat_{gen}")
            submitted = st.form_submit_button(ctx.t("account.submit"), type="primary")
        if submitted:
            _change_password(ctx, current, new, repeat)


def _change_password(ctx, current: str, new: str, repeat: str) -> None:
    # The login form strips surrounding spaces from what is typed, so do the same here
    # or a password with a trailing space could never be used to log in.
    current, new, repeat = current.strip(), new.strip(), repeat.strip()
    if new != repeat:
        st.error(ctx.t("account.passwords_differ"))
        return
    try:
        users.change_own_password(ctx.db, ctx.actor, current, new)
    except ValidationError as exc:
        for problem in exc.problems:
            st.error(problem.translate(ctx.lang))
        return
    auth.renew_session(ctx.db, ctx.actor.username)
    st.session_state[GEN_KEY] = st.session_state.get(GEN_KEY, 0) + 1
    st.session_state[FLASH_KEY] = "account.password_changed"
    st.rerun()  # redraw with empty fields; the next run also renews the login cookie


nav.leave_if_run_directly(__name__)
