"""The whole audit log, for administrators (``audit.view_log``): filtered, paged,
exported; and the security events (logins, refusals) written to it.

Every write of the app appends one row to ``audit_log`` (``lib.customers.customer``
``append_audit``, the users', backups' and exports' own entries); this module only
reads them, plus the entries it writes itself: security events (``record_event``) and
the export of the log (action ``audit.export``).

Reading. ``AuditFilters`` narrows by user (the entry's actor, exactly), customer (by
code: that customer's entries and those of customers merged into it, as its history
shows them), action (exactly) and a range of Asia/Shanghai dates (both ends included).
``audit_page`` pages newest first by keyset on ``id`` (ids come from ``audit_id_seq``,
so a larger id is a later entry): a page is the ``size`` newest entries below a cursor
id (older) or above one (newer), so paging never skips or repeats an entry however
many rows are appended meanwhile, and only one page of rows is ever read in full.

Export. ``export_audit_log`` writes the filtered entries, newest first, as CSV (UTF-8
with a BOM, every text cell through ``formula_safe``), reading ``BATCH`` ids at a time
(``id BETWEEN lo AND hi``, one row group's worth) and writing each batch before the next
is read, so memory does not grow with the log. The read and the export's own audit
entry are one transaction (as ``lib.customers.export``): a failed export leaves none.

Security events. ``record_event`` appends an entry for a login, a failed login, a
login refused during a wait, or an access denial, in the caller's transaction, with
one statement (the id drawn in the INSERT; rows are only ever appended, so two such
writes never conflict). Its details never hold a password, cookie, token or secret:
``record_event`` refuses such keys. ``log_event`` writes the matching line to the
server log (Python ``logging``); call it after the transaction committed.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, BinaryIO, Iterator

from lib.accounts import permissions as perm
from lib.core import audit
from lib.core.clock import local_date_start_utc, to_local
from lib.core.errors import NotFound, ValidationError
from lib.core.i18n import MESSAGES, t
from lib.core.text import formula_safe

log = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
BATCH = 5000  # ids per export batch
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Every action the app writes to the audit log, in the order the filter offers them.
# Entries of customers and their parts say what happened to which entity ("create" of a
# contact); the others name the area ("user.", "access.", "audit.").
ACTIONS = (
    "create", "update", "delete", "archive", "restore", "review", "merge", "import", "export",
    "backup",
    "user.create", "user.activate", "user.deactivate", "user.reset_password", "user.change_password",
    "user.logout", "user.lift_login_delay", "user.set_role",
    "user.login", "user.login_failed", "user.login_delayed", "user.login_refused",
    "access.denied", "audit.export",
    "settings.update", "backup.download",
    "reference_item.add", "reference_item.rename", "reference_item.move", "reference_item.retire",
    "reference_item.restore",
    "custom_field.add", "custom_field.change", "custom_field.move", "custom_field.retire", "custom_field.restore",
)
# Entities an entry is about (``audit_log.entity``).
ENTITIES = ("customer", "contact", "relationship", "followup", "file", "user", "system", "export", "access",
            "audit_log", "settings", "reference_item",
            "custom_field")
# Entries whose ``changes`` are field -> [before, after] (the customer and its parts).
DIFF_ENTITIES = ("customer", "contact", "relationship", "followup", "file")

# Security events (``record_event``).
LOGIN = "user.login"
LOGIN_FAILED = "user.login_failed"  # details: reason (unknown_user, wrong_password, inactive)
LOGIN_DELAYED = "user.login_delayed"  # the failure that starts a wait
LOGIN_REFUSED = "user.login_refused"  # an attempt refused unchecked during a wait
ACCESS_DENIED = "access.denied"  # a page or an action refused by role
EXPORT = "audit.export"
# Keys a security event's details may never have: what was typed as a password, or
# anything that would let someone act as the user.
SECRET_WORDS = ("password", "passwd", "token", "cookie", "secret", "session", "ticket", "key")

_COLUMNS = "a.id, a.changed_at, a.actor, a.action, a.entity, a.entity_id, a.customer_id, a.version, a.changes"
_NAMES = ("id", "changed_at", "actor", "action", "entity", "entity_id", "customer_id", "version", "changes")
_TEXT_MAX = 100  # longest user name, code or action a filter takes


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log is narrowed to; empty fields do not narrow."""

    actor: str = ""  # the user who acted ("system" for the command line, "-" for a failed login)
    customer_code: str = ""  # the customer's code (its merged customers' entries included)
    action: str = ""  # one of ACTIONS (or any action found in the log)
    date_from: date | None = None  # Asia/Shanghai local date, included
    date_to: date | None = None  # Asia/Shanghai local date, included

    def as_json(self) -> dict[str, str]:
        """What narrows, as the export's audit entry records it."""
        out = {"actor": self.actor.strip(), "customer_code": self.customer_code.strip(), "action": self.action.strip(),
               "date_from": self.date_from.isoformat() if self.date_from else "",
               "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in out.items() if v}


@dataclass
class AuditPage:
    rows: list[dict]  # newest first; ``changes`` parsed, ``customer_code`` added
    total: int  # entries matching the filters
    older: int | None = None  # cursor (an id) of the next page, towards older entries
    newer: int | None = None  # cursor of the previous page, towards newer entries


def _text(name: str, value: str) -> str:
    value = (value or "").strip()
    if len(value) > _TEXT_MAX:
        raise ValidationError(name, "validation.too_long", max=_TEXT_MAX, length=len(value))
    if any("\ud800" <= ch <= "\udfff" or ord(ch) < 32 for ch in value):
        raise ValidationError(name, "validation.control_chars")
    return value


def _where(cur, filters: AuditFilters) -> tuple[str, list[Any]]:
    """The WHERE of the page, its count and the export (audit_log ``a``)."""
    parts, params = ["TRUE"], []
    actor = _text("actor", filters.actor)
    if actor:
        parts.append("a.actor = ?")
        params.append(actor)
    action = _text("action", filters.action)
    if action:
        parts.append("a.action = ?")
        params.append(action)
    code = _text("customer_code", filters.customer_code)
    if code:
        row = cur.execute("SELECT id FROM customers WHERE code IN (?, ?) ORDER BY code = ? DESC LIMIT 1",
                          [code, code.upper(), code]).fetchone()  # as typed, else upper-cased
        if row is None:
            raise NotFound("audit.unknown_customer", code=code)
        # As the customer's history: its entries and those of customers merged into it.
        parts.append("a.customer_id IN (SELECT ? UNION ALL SELECT id FROM customers WHERE merged_into = ?)")
        params += [row[0], row[0]]
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationError("date_to", "audit.bad_dates")
    if filters.date_from:
        parts.append("a.changed_at >= ?")
        params.append(local_date_start_utc(filters.date_from))
    if filters.date_to:
        parts.append("a.changed_at < ?")
        params.append(local_date_start_utc(filters.date_to + timedelta(days=1)))
    return " AND ".join(parts), params


def _rows(res, parse: bool = True) -> list[dict]:
    rows = [dict(zip((*_NAMES, "customer_code"), r)) for r in res.fetchall()]
    if parse:
        for r in rows:
            r["changes"] = json.loads(r["changes"])
    return rows


def audit_page(db, actor, filters: AuditFilters = AuditFilters(), *, size: int = PAGE_SIZE,
               older_than: int | None = None, newer_than: int | None = None) -> AuditPage:
    """One page of the entries ``filters`` select, newest first, and their number
    (``audit.view_log``). ``older_than`` (a page's ``older``) gives the next page,
    ``newer_than`` (a page's ``newer``) the previous one; neither, the newest entries."""
    perm.require(actor, perm.AUDIT_VIEW_LOG)
    size = max(1, min(int(size), MAX_PAGE_SIZE))
    backwards = newer_than is not None and older_than is None
    with db.read() as cur:
        where, params = _where(cur, filters)
        total = cur.execute(f"SELECT count(*) FROM audit_log a WHERE {where}", params).fetchone()[0]
        keyset, key = "", []
        if older_than is not None:
            keyset, key = " AND a.id < ?", [int(older_than)]
        elif newer_than is not None:
            keyset, key = " AND a.id > ?", [int(newer_than)]
        # The page's ids first (a top-N over the filtered ids), then their rows and codes.
        res = cur.execute(
            f"SELECT {_COLUMNS}, c.code FROM (SELECT * FROM audit_log a WHERE {where}{keyset}"
            f" ORDER BY a.id {'ASC' if backwards else 'DESC'} LIMIT ?) a"
            f" LEFT JOIN customers c ON c.id = a.customer_id ORDER BY a.id {'ASC' if backwards else 'DESC'}",
            [*params, *key, size + 1])
        rows = _rows(res)
    more = len(rows) > size  # one row beyond the page says whether another page exists
    rows = rows[:size]
    if backwards:
        rows.reverse()
    page = AuditPage(rows=rows, total=total)
    if rows:
        if backwards:
            page.newer = rows[0]["id"] if more else None
            page.older = rows[-1]["id"]
        else:
            page.older = rows[-1]["id"] if more else None
            page.newer = rows[0]["id"] if older_than is not None else None
    return page


def count_entries(db, actor, filters: AuditFilters = AuditFilters()) -> int:
    """How many entries ``filters`` select (``audit.view_log``)."""
    perm.require(actor, perm.AUDIT_VIEW_LOG)
    with db.read() as cur:
        where, params = _where(cur, filters)
        return cur.execute(f"SELECT count(*) FROM audit_log a WHERE {where}", params).fetchone()[0]


def known_actors(db, actor) -> list[str]:
    """Every user name, plus the actors that are not users ("system", "-"), for the
    user filter (``audit.view_log``). Read from the users table, not the log: a scan of
    millions of entries per page view would be the cost of a drop-down."""
    perm.require(actor, perm.AUDIT_VIEW_LOG)
    with db.read() as cur:
        names = [r[0] for r in cur.execute("SELECT username FROM users ORDER BY username").fetchall()]
    return [*names, "system", "-"]


# -- what an entry says, for people --------------------------------------------------------------
def action_label(action: str, lang: str) -> str:
    """An action in the user's language; an action this version does not know, as stored."""
    key = "audit.action." + action
    return t(key, lang) if key in MESSAGES else action


def entity_label(entity: str, lang: str) -> str:
    key = "audit.entity." + entity
    return t(key, lang) if key in MESSAGES else entity


def is_diff(entry: dict) -> bool:
    """True when the entry's ``changes`` are field -> [before, after] (a customer's or a
    part's write); else they are facts about the event (a user, a login, an export)."""
    changes = entry["changes"]
    return (entry["entity"] in DIFF_ENTITIES and isinstance(changes, dict)
            and all(isinstance(v, list) and len(v) == 2 for v in changes.values()))


def value_text(value: Any) -> str:
    """A stored JSON value as one line of text: strings as they are, the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# -- export -----------------------------------------------------------------------------------
EXPORT_COLUMNS = ("id", "changed_at", "actor", "action", "action_code", "entity", "entity_id", "customer_code",
                  "version", "changes")


class ExportTooLarge(ValidationError):
    """More entries than the caller's limit: narrow the filters."""

    def __init__(self, rows: int, limit: int):
        super().__init__("filters", "audit.export_too_large", rows=rows, limit=limit)


def export_headers(lang: str) -> list[str]:
    return [formula_safe(t("audit.col." + c, lang)) for c in EXPORT_COLUMNS]


def _cells(row: dict, lang: str) -> list[Any]:
    local = to_local(row["changed_at"])
    return [row["id"], local.strftime(TIME_FORMAT) if local else "", formula_safe(row["actor"]),
            formula_safe(action_label(row["action"], lang)), formula_safe(row["action"]),
            formula_safe(entity_label(row["entity"], lang)), row["entity_id"],
            formula_safe(row["customer_code"] or ""), row["version"],
            formula_safe(row["changes"])]  # the JSON text as stored


def _batches(cur, where: str, params: list[Any], batch_size: int) -> Iterator[list[dict]]:
    """The entries ``where`` selects, newest first, ``batch_size`` ids at a time: each
    batch is one range of ids, which DuckDB answers from the row group(s) of that range
    (a keyset ``id < ? ORDER BY id DESC LIMIT n`` would read every older entry again per
    batch). Ranges are stepped, not looked up: "the next id below" walked the primary
    key's index, 0.8 s per batch at 1.5M entries; an empty range costs about 2 ms."""
    lowest, hi = cur.execute("SELECT min(id), max(id) FROM audit_log").fetchone()
    while hi is not None and hi >= lowest:
        lo = hi - batch_size + 1
        res = cur.execute(
            f"SELECT {_COLUMNS}, c.code FROM audit_log a LEFT JOIN customers c ON c.id = a.customer_id"
            f" WHERE {where} AND a.id BETWEEN ? AND ? ORDER BY a.id DESC", [*params, lo, hi])
        rows = _rows(res, parse=False)
        if rows:
            yield rows
        hi = lo - 1


def export_audit_log(db, actor, filters: AuditFilters, out: BinaryIO, lang: str, *, batch_size: int = BATCH,
                     max_rows: int | None = None) -> int:
    """Write the entries ``filters`` select, newest first, to ``out`` (a binary file
    object) as CSV, headers and action names in ``lang`` (``audit.view_log``). With
    ``max_rows``, more entries than that raise ``ExportTooLarge`` before any byte is
    written. Returns the number of entries written; the export's own entry (action
    ``audit.export``) is committed with the read."""
    perm.require(actor, perm.AUDIT_VIEW_LOG)
    batch_size = max(1, int(batch_size))
    with db.transaction() as cur:
        where, params = _where(cur, filters)
        if max_rows is not None:
            total = cur.execute(f"SELECT count(*) FROM audit_log a WHERE {where}", params).fetchone()[0]
            if total > max_rows:
                raise ExportTooLarge(total, max_rows)
        out.write(codecs.BOM_UTF8)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(export_headers(lang))
        written = 0
        for rows in _batches(cur, where, params, batch_size):
            writer.writerows(_cells(r, lang) for r in rows)
            out.write(buf.getvalue().encode("utf-8"))
            buf.seek(0)
            buf.truncate()
            written += len(rows)
        out.write(buf.getvalue().encode("utf-8"))  # the header of an empty export
        record_event(cur, actor.username, EXPORT, "audit_log",
                     {"format": "csv", "filters": filters.as_json(), "rows": written})
    log_event(actor.username, EXPORT, {"rows": written, "filters": filters.as_json()})
    return written


# -- security events --------------------------------------------------------------------------
def _check_details(details: dict) -> None:
    for k in details:
        if any(word in str(k).lower() for word in SECRET_WORDS):
            raise ValueError(f"a security event never records {k!r}")


def record_event(cur, actor: str, action: str, entity: str, details: dict) -> None:
    """Append one entry (no customer, entity id 0) in the caller's transaction. One
    INSERT drawing its own id: no read, nothing another writer could conflict with.
    ``details`` never name a password, cookie, token or secret (ValueError)."""
    _check_details(details)
    audit.append(cur, actor=actor, action=action, entity=entity, changes=dict(sorted(details.items())))


def log_event(actor: str, action: str, details: dict) -> None:
    """The server log's line for a security event (after its entry committed)."""
    _check_details(details)
    level = logging.INFO if action in (LOGIN, EXPORT) else logging.WARNING
    log.log(level, "audit %s by %r: %s", action, actor,
            json.dumps(details, ensure_ascii=False, sort_keys=True))


def record_denial(db, actor, action: str, **details: Any) -> None:
    """An access denial: ``actor`` (an Actor, or None when logged out) was refused
    ``action`` (a page's or a service action's permission). Its own transaction, since
    the refused work (if any) was rolled back."""
    username = actor.username if actor is not None else "-"
    facts = {"action": action, **({"role": actor.role} if actor is not None else {}),
             **{k: v for k, v in details.items() if v not in (None, "")}}
    db.run_in_transaction(lambda cur: record_event(cur, username, ACCESS_DENIED, "access", facts))
    log_event(username, ACCESS_DENIED, facts)
