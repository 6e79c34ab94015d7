"""The administration page's backups section (``lib.ops.backup``; ``backup.run``): make
a backup now, download or restore a stored one, upload a backup file to restore.

Backups are kept in the backup folder (``backup.backup_dir``: ``CM_BACKUP_DIR``, else
``backups`` beside the database). A download is a link to the server's download route
(``ui.downloads``), which sends the file from disk. A restore first makes a backup of
the current state into the same folder, then replaces the database file with the
chosen backup while this process holds no connection to it
(``ui.context.with_database_closed``); everyone may have to log in again, since login
sessions are restored too.
"""
from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from lib.core.errors import CustomerMasterError
from lib.ops import backup
from ui import downloads
from ui.context import note_refusal, with_database_closed
from ui.format import local_datetime

DONE = "ad_backup_done"  # (message key, params) after an action
RESTORE_GEN = "ad_restore_gen"  # a new generation = the restore's choice and confirmation empty again


def _size(n: int) -> str:
    return f"{n / 2**20:,.1f} MB"


def render(ctx) -> None:
    t, lang = ctx.t, ctx.lang
    folder = backup.backup_dir(ctx.db.path)
    st.caption(t("admin.backups_intro", folder=str(folder)))
    done = st.session_state.pop(DONE, None)
    if done:
        st.success(t(done[0], **done[1]))
    if st.button(t("admin.backup_now"), type="primary", key="ad_backup_now"):
        try:
            info = backup.backup_into(ctx.db, folder, ctx.actor)
        except CustomerMasterError as exc:
            note_refusal(exc)
            st.error(exc.translate(lang))
        else:
            st.session_state[DONE] = ("admin.backup_made", {"name": info.path.name, "size": _size(info.size_bytes),
                                                             "customers": f"{info.customers:,}"})
            st.rerun()
    stored = backup.list_backups(folder)
    if not stored:
        st.caption(t("admin.backups_none"))
    for b in stored:
        made = datetime.fromtimestamp(b.made_at, tz=timezone.utc).replace(tzinfo=None)
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(f"`{b.path.name}` · {local_datetime(made, lang)} · {_size(b.size_bytes)}")
        right.link_button(t("admin.backup_download"), downloads.backup_url(ctx.actor, b.path.name, lang),
                          icon=":material/download:", width="stretch")
    _restore(ctx, folder, stored)


def _restore(ctx, folder, stored) -> None:
    t, lang = ctx.t, ctx.lang
    st.subheader(t("admin.restore_title"), anchor=False)
    st.warning(t("admin.restore_warning"), icon=":material/warning:")
    upload = st.file_uploader(t("admin.restore_upload"), type=["duckdb"], key="ad_restore_upload")
    if upload is not None and st.button(t("admin.restore_keep_upload"), key="ad_restore_keep"):
        try:
            path = backup.keep_upload(folder, upload.getvalue(), ctx.actor)
        except CustomerMasterError as exc:
            note_refusal(exc)
            st.error(exc.translate(lang))
        else:
            st.session_state[DONE] = ("admin.backup_uploaded", {"name": path.name})
            st.rerun()
    names = [b.path.name for b in stored]
    if not names:
        return
    gen = st.session_state.get(RESTORE_GEN, 0)
    name = st.selectbox(t("admin.restore_choose"), names, index=None, key=f"ad_restore_name_{gen}",
                        placeholder=t("admin.restore_choose"))
    sure = st.checkbox(t("admin.restore_confirm"), key=f"ad_restore_sure_{gen}", disabled=name is None)
    if st.button(t("admin.restore"), key="ad_restore", disabled=not (name and sure)):
        try:
            source = backup.stored_backup(folder, name)
            backup.inspect(source)  # refuse a file that is not a backup of this app before anything
            before = backup.backup_into(ctx.db, folder, ctx.actor, label="before-restore")
            info = with_database_closed(lambda path: backup.restore(source, path, actor_name=ctx.actor.username))
        except CustomerMasterError as exc:
            note_refusal(exc)
            st.error(exc.translate(lang))
            return
        st.session_state[DONE] = ("admin.restored", {"name": name, "customers": f"{info.customers:,}",
                                                      "before": before.path.name})
        st.session_state[RESTORE_GEN] = gen + 1  # a next restore is chosen and confirmed anew
        st.rerun()
