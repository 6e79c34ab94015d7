"""The audit log's one writer: every entry of one write goes through ``append`` (or, for
a customer's creation, ``insert`` of a ``row`` built with ids drawn beside the
customer's), in the caller's transaction, so an entry is committed or rolled back with
the write it records.

The table (``audit_log``, lib.core.schema) is append-only. Who reads it: a customer's
history (lib.customers.customer), the administration page's log and its security events
(lib.accounts.audit_log), and the answers cached by ``data_version`` (analytics, the
home page). Paths that write thousands of entries in one statement (the demo loader and
the import through lib.customers.bulk, the care campaign's INSERT … SELECT) build the
same columns (``COLUMNS``) and draw ids from the same sequence.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping

from lib.core.clock import utcnow

# Column -> storage type (the bulk loader builds its Arrow schema from these).
COLUMN_TYPES = {
    "id": "BIGINT", "changed_at": "TIMESTAMP", "actor": "VARCHAR", "action": "VARCHAR", "entity": "VARCHAR",
    "entity_id": "BIGINT", "customer_id": "BIGINT", "version": "INTEGER", "changes": "VARCHAR",
}
COLUMNS = tuple(COLUMN_TYPES)
SEQUENCE = "audit_id_seq"

_INSERT_DRAWING_ID = (f"INSERT INTO audit_log ({', '.join(COLUMNS)})"
                      f" VALUES (nextval('{SEQUENCE}'), {', '.join('?' * (len(COLUMNS) - 1))})")
_INSERT = f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def data_version(cur) -> tuple[int, int]:
    """The audit log's (number of entries, newest id) as ``cur``'s transaction sees it:
    a version of the data for answers cached from it (analytics, the home page's lists).

    Every committed write appends an entry in its own transaction and entries are never
    deleted, so the count grows with every such commit, in commit order. The newest id
    alone would not: ids are drawn when a write asks for one, so a slow save can commit a
    lower id after a quicker save's higher one. The id tells a restored backup apart
    (restore moves the sequences past the replaced file's). Both come from the table's
    statistics on a checkpointed file (~0.3 ms at 1.5M entries)."""
    n, newest = cur.execute("SELECT count(*), coalesce(max(id), 0) FROM audit_log").fetchone()
    return n, newest


def row(audit_id: int, *, now: datetime, actor: str, action: str, entity: str, entity_id: int,
        customer_id: int | None, version: int | None, changes: Mapping[str, Any]) -> dict:
    """One entry as stored (``changes`` as JSON text, non-ASCII kept)."""
    return dict(id=audit_id, changed_at=now, actor=actor, action=action, entity=entity, entity_id=entity_id,
                customer_id=customer_id, version=version, changes=json.dumps(changes, ensure_ascii=False))


def append(cur, *, actor: str, action: str, entity: str, changes: Mapping[str, Any], entity_id: int = 0,
           customer_id: int | None = None, version: int | None = None, now: datetime | None = None) -> None:
    """Append one entry in the caller's transaction. One INSERT that draws its own id:
    no read, nothing another writer could conflict with."""
    entry = row(0, now=now or utcnow(), actor=actor, action=action, entity=entity, entity_id=entity_id,
                customer_id=customer_id, version=version, changes=changes)
    cur.execute(_INSERT_DRAWING_ID, [entry[c] for c in COLUMNS[1:]])


def insert(cur, entry: Mapping[str, Any]) -> None:
    """Insert an entry built by ``row`` with an id the caller drew from ``SEQUENCE``."""
    cur.execute(_INSERT, [entry[c] for c in COLUMNS])
