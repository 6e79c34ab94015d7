"""The customers page's export buttons: the current search and filters as CSV or Excel,
and the blank import template.

Drawn only for whoever may export (``customer.export``); the service checks again.

CSV and Excel are links to the server's download route (``ui.downloads``), which
streams the export (``lib.customers.export.ExportStream``) to the browser as it is
written: memory stays bounded whatever the size, and no browser timeout applies. Each
link carries a signed ticket for this user and these filters (made as the page is
drawn: signing costs microseconds and writes nothing); the export and its audit entry
happen only when the link is opened, once per click. The link opens a new tab, which
the browser closes as the download starts; a refusal (expired link, logged out) is
shown there.

The import template is small and made in memory: a Streamlit download button whose
callable runs when clicked.
"""
from __future__ import annotations

import streamlit as st

from lib.accounts import permissions as perm
from lib.customers import export as ex
from lib.customers.search import CustomerFilters
from ui import downloads


def export_buttons(ctx, filters: CustomerFilters) -> None:
    """"Export CSV", "Export Excel" and "Import template" for ``filters``."""
    if not perm.can(ctx.actor, perm.CUSTOMER_EXPORT):
        return
    t, lang = ctx.t, ctx.lang
    own = perm.sees_only_own(ctx.actor, perm.CUSTOMER_EXPORT)
    help_text = t("export.help") + (" " + t("export.own_only") if own else "")
    cols = st.columns([1, 1, 1, 3], vertical_alignment="center")
    for col, fmt, icon in ((cols[0], "csv", ":material/download:"), (cols[1], "xlsx", ":material/table_view:")):
        col.link_button(t(f"export.{fmt}"), downloads.customers_url(ctx.actor, filters, fmt, lang), icon=icon,
                        help=help_text, width="stretch")
    cols[2].download_button(t("export.template"), data=lambda: ex.import_template(ctx.db, lang, actor=ctx.actor),
                            file_name=ex.TEMPLATE_FILE_NAME, mime=ex.MEDIA_TYPES["xlsx"], on_click="ignore",
                            icon=":material/note_add:", key="cu_export_template", help=t("export.template_help"),
                            type="tertiary", width="stretch")
