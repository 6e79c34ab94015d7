"""The reference lists as the migrations seeded them, by list name.

Each entry is ``(code, label_zh, label_en)`` in display order. The rows themselves are
written once, frozen with the migration that seeded them (``lib/core/seeds/m001.py``,
``m006.py``);
this module only groups them. The database table ``reference_items`` is the source of
truth at run time (``Database.reference_lists()``); demo data and tests read the
seeded lists from here.
"""
from __future__ import annotations

from lib.core.seeds import m001, m006


def _seeded() -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list[tuple[int, str, str, str]]] = {}
    for lst, code, zh, en, ordinal, _active in (*m001.REFERENCE_ITEMS, *m006.REFERENCE_ITEMS):
        out.setdefault(lst, []).append((ordinal, code, zh, en))
    return {lst: [(code, zh, en) for _, code, zh, en in sorted(items)] for lst, items in out.items()}


# Lists kept in the reference_items table, by list name: customer_type, industry (GB/T
# 4754-2017, 20 sections), tier, size (by headcount), status, region (province-level
# divisions, GB/T 2260 codes, plus overseas), relationship_kind (read "from -> to");
# access_level, followup_kind, need_state, file_kind (migration 6).
LISTS = _seeded()
CUSTOMER_TYPES = LISTS["customer_type"]
INDUSTRIES = LISTS["industry"]
TIERS = LISTS["tier"]
SIZES = LISTS["size"]
STATUSES = LISTS["status"]
REGIONS = LISTS["region"]
RELATIONSHIP_KINDS = LISTS["relationship_kind"]
ACCESS_LEVELS = LISTS["access_level"]
FOLLOWUP_KINDS = LISTS["followup_kind"]
NEED_STATES = LISTS["need_state"]
FILE_KINDS = LISTS["file_kind"]
