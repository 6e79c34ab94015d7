"""Messages of the customer file (客户档案): its parts (contacts, relationships,
follow-ups, files), the customer page and the home page. One section per part of the
file, so each grows on its own."""
from __future__ import annotations

FILE: dict[str, dict[str, str]] = {
    # -- contacts ---------------------------------------------------------------------
    "contact.is_primary": {"zh": "主联系人", "en": "Primary contact"},

    # -- relationships ----------------------------------------------------------------

    # -- follow-ups -------------------------------------------------------------------

    # -- files ------------------------------------------------------------------------

    # -- the customer page ------------------------------------------------------------
    "error.history_entry_not_found": {"zh": "找不到该历史记录（{ref}）。", "en": "History entry not found ({ref})."},

    # -- the home page ----------------------------------------------------------------
}
