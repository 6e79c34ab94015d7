"""The customers page's export buttons: the current search and filters as CSV or Excel
(``lib.customers.export.export_customers``), and the blank import template.

Drawn only for whoever may export (``customer.export``); the service checks again.
Each button hands Streamlit a callable (``st.download_button(data=callable)``): nothing
is exported while the page is drawn, only when the button is clicked, and each click
is one export and one audit entry.

What Streamlit 1.67 holds (read in its source, ``runtime/media_file_manager.py`` and
``memory_media_file_storage.py``): the callable runs on a server thread when clicked
(``execute_deferred``); whatever it returns — bytes or a file object — is read whole
into a ``bytes`` object and kept in the in-memory media file storage, served from
there at ``/media/…``, and dropped after later script runs no longer reference it.
There is no way to hand it a path to stream from. So the export itself streams to a
temporary file (bounded memory, ``lib.customers.export``), and the server then holds
the finished file's bytes: its whole size (CSV about 35 MB per 100,000 demo customers,
XLSX about 20 MB) until Streamlit drops it two script runs later; a 1M-row CSV peaked at
+1.19 GB in the server (docs/benchmarks.md). The temporary file is unlinked before
Streamlit reads it, so nothing is left on disk. The browser waits at most 180 s for the
callable (Streamlit's frontend timeout): a 1M-row XLSX (about 190 s) never arrives; the
command line (``python -m lib.cli export``) has no such limit.
"""
from __future__ import annotations

import os
import tempfile
from typing import BinaryIO, Callable

import streamlit as st

from lib.accounts import permissions as perm
from lib.customers import export as ex
from lib.customers.search import CustomerFilters


def export_buttons(ctx, filters: CustomerFilters) -> None:
    """"Export CSV", "Export Excel" and "Import template" for ``filters``."""
    if not perm.can(ctx.actor, perm.CUSTOMER_EXPORT):
        return
    t, lang = ctx.t, ctx.lang
    own = perm.sees_only_own(ctx.actor, perm.CUSTOMER_EXPORT)
    help_text = t("export.help") + (" " + t("export.own_only") if own else "")
    cols = st.columns([1, 1, 1, 3], vertical_alignment="center")
    for col, fmt, icon in ((cols[0], "csv", ":material/download:"), (cols[1], "xlsx", ":material/table_view:")):
        col.download_button(t(f"export.{fmt}"), data=exported(ctx.db, ctx.actor, filters, fmt, lang),
                            file_name=ex.file_name(fmt), mime=ex.MEDIA_TYPES[fmt], on_click="ignore",
                            icon=icon, key=f"cu_export_{fmt}", help=help_text, width="stretch")
    cols[2].download_button(t("export.template"), data=lambda: ex.import_template(ctx.db, lang, actor=ctx.actor),
                            file_name=ex.TEMPLATE_FILE_NAME, mime=ex.MEDIA_TYPES["xlsx"], on_click="ignore",
                            icon=":material/note_add:", key="cu_export_template", help=t("export.template_help"),
                            type="tertiary", width="stretch")


def exported(db, actor, filters: CustomerFilters, fmt: str, lang: str) -> Callable[[], BinaryIO]:
    """The download's data: when called, export to a temporary file and return it open
    for reading (already unlinked: it disappears once Streamlit has read and dropped it)."""

    def make() -> BinaryIO:
        fd, path = tempfile.mkstemp(prefix="cm-export-", suffix="." + fmt)
        try:
            with os.fdopen(fd, "wb") as out:
                ex.export_customers(db, actor, filters, fmt, out, lang)
            return open(path, "rb")  # a BufferedReader: Streamlit reads it whole
        finally:
            os.unlink(path)

    return make
