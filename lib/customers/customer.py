"""The one write path for customers.

``create_customer``, ``update_customer``, ``mark_reviewed``, ``restore_version``,
``archive_customer``, ``restore_customer`` and ``bulk_update`` (and later import; merge
through ``apply_update``, lib.customers.merge) all: check the actor's permission,
validate, check the expected version, write, and append the audit entry — in one
transaction. Reads for display live in ``lib.customers.search``.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

import duckdb

from lib.accounts import permissions as perm
from lib.core import audit
from lib.core.clock import to_local, utcnow
from lib.core.db import note_change, page_and_total
from lib.core.errors import (
    ConflictError,
    CustomerMasterError,
    DuplicateError,
    FieldProblem,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from lib.customers import fields as F
from lib.customers.fields import Field
from lib.core.text import pinyin_keys, search_text
from lib.customers.kinds import Kind, kind_of
from lib.customers.kinds import ValidationContext
from lib.customers.validation import CleanCustomer, validate_customer

# Columns the write path sets itself, beside the declared fields' columns, with their
# storage types (the bulk loader builds its Arrow schema from these and the kinds').
CUSTOMER_SYSTEM_COLUMNS = {
    "id": "BIGINT", "code": "VARCHAR", "uscc_key": "VARCHAR", "name_pinyin": "VARCHAR",
    "name_initials": "VARCHAR", "search_text": "VARCHAR", "created_at": "TIMESTAMP", "created_by": "VARCHAR",
    "updated_at": "TIMESTAMP", "updated_by": "VARCHAR", "reviewed_at": "TIMESTAMP", "version": "INTEGER",
    "archived": "BOOLEAN", "archived_at": "TIMESTAMP", "archived_by": "VARCHAR", "merged_into": "BIGINT",
}
CONTACT_SYSTEM_COLUMNS = {
    "id": "BIGINT", "customer_id": "BIGINT", "is_primary": "BOOLEAN", "created_at": "TIMESTAMP",
    "created_by": "VARCHAR", "updated_at": "TIMESTAMP", "updated_by": "VARCHAR", "version": "INTEGER",
    "deleted": "BOOLEAN",
}
AUDIT_COLUMN_TYPES = audit.COLUMN_TYPES
AUDIT_COLUMNS = audit.COLUMNS
# The note_change topic of a customer's searchable data (lib.customers.search_index).
CHANGES = "customers"
# Topic of a change of the customer's declaration (lib.customers.custom_fields): records
# read before it lack the new columns.
FIELD_CHANGES = "custom_fields"
# The system columns a customer record carries for pages (besides every field by name).
RECORD_SYSTEM_COLUMNS = ("id", "code", "created_at", "created_by", "updated_at", "updated_by", "reviewed_at",
                         "version", "archived", "archived_at", "archived_by")


def value_columns(storage: str, fields: Sequence[Field] | None = None) -> dict[str, str]:
    """Column -> SQL type of every column the declared fields of one storage ("customer",
    "primary_contact") fill, extra columns of their kind included (phone_e164, …)."""
    return dict(_value_columns(F.declared(fields), storage))


@F.per_declaration
def _value_columns(decl: tuple[Field, ...], storage: str) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for f in F.stored_in(storage, decl):
        out.update(kind_of(f).columns(f))
    return tuple(out.items())


def customer_columns(fields: Sequence[Field] | None = None) -> dict[str, str]:
    """Every column of a new ``customers`` row, with its SQL type."""
    return {**value_columns("customer", fields), **CUSTOMER_SYSTEM_COLUMNS}


def contact_columns(fields: Sequence[Field] | None = None) -> dict[str, str]:
    return {**value_columns("primary_contact", fields), **CONTACT_SYSTEM_COLUMNS}


# As declared at import (the bulk loader's schemas); the write path calls the functions.
CUSTOMER_COLUMNS = tuple(customer_columns())
CONTACT_COLUMNS = tuple(contact_columns())


def customer_record_columns(fields: Sequence[Field] | None = None) -> str:
    """SELECT list (alias ``c``) of one customer as pages see it: every declared field of
    the customers table by name, plus the system columns."""
    return ", ".join([*(f"c.{c}" for c in RECORD_SYSTEM_COLUMNS),
                      *(f"c.{f.db_column} AS {f.name}" for f in F.stored_in("customer", fields))])


def primary_contact_columns(fields: Sequence[Field] | None = None) -> str:
    return ", ".join(f"p.{f.db_column} AS {f.name}" for f in F.stored_in("primary_contact", fields))


def _record_select(fields: Sequence[Field] | None = None) -> str:
    """Whole records, each joined to its primary contact (for one customer at a time)."""
    contact = primary_contact_columns(fields)
    return (
        f"SELECT {customer_record_columns(fields)}{', ' + contact if contact else ''} FROM customers c"
        " LEFT JOIN contacts p ON p.customer_id = c.id AND p.is_primary AND NOT p.deleted"
    )


def primary_contact_rows(cur, customer_ids: list[int]) -> tuple[list[str], list[tuple]]:
    """What a page of records needs of their primary contacts, for ``customer_ids``: (the
    fields' names, rows of customer id, primary, deleted and the fields). One indexed
    look-up for the page, instead of a join that would scan the contacts table; the
    rows are given to ``merge_primary_contacts``."""
    names = [f.name for f in F.stored_in("primary_contact")]
    if not customer_ids or not names:
        return names, []
    # Filtered by customer_id alone and the rest here: with ``AND p.is_primary`` in the
    # condition DuckDB scans the contacts instead of using their index (28.6 ms against
    # 8.6 ms for a page of 50 at 1M customers, issue 8 §4).
    sql = (
        f"SELECT p.customer_id, p.is_primary, p.deleted, {primary_contact_columns()} FROM contacts p"
        f" WHERE p.customer_id IN ({', '.join('?' * len(customer_ids))}) ORDER BY p.id"
    )
    return names, cur.execute(sql, list(customer_ids)).fetchall()


def merge_primary_contacts(records: list[dict], found: tuple[list[str], list[tuple]]) -> None:
    """Set each record's primary-contact fields from ``primary_contact_rows`` (None
    where it has no primary contact)."""
    names, rows = found
    by_id = {r["id"]: r for r in records}
    for r in records:
        r.update(dict.fromkeys(names))
    for row in rows:
        if row[1] and not row[2] and row[0] in by_id:
            by_id[row[0]].update(zip(names, row[3:]))


def record_search_text(row: Mapping[str, Any], contacts: Iterable[Mapping[str, Any]],
                       fields: Sequence[Field] | None = None) -> str:
    """The search haystack of a customers ``row`` and its contacts' rows: the name, code,
    full pinyin and initials first (``lib.customers.search`` ranks on that layout), then
    what every searchable field's kind contributes (``lib.customers.kinds``), the
    contacts' searchable fields included."""
    head = [row.get("name"), row.get("code"), row.get("name_pinyin"), row.get("name_initials")]
    parts: list[str] = []
    own, of_contacts = _search_fields(F.declared(fields))
    for f, kind in own:
        parts += kind.search_parts(kind.stored(f, row))
    for c in contacts:
        for f, kind in of_contacts:
            parts += kind.search_parts(kind.stored(f, c))
    return search_text(head, parts)


@F.per_declaration
def _search_fields(decl: tuple[Field, ...]) -> tuple[tuple[tuple[Field, Kind], ...], tuple[tuple[Field, Kind], ...]]:
    """The searchable fields (with their kinds) that a customers row and a contact row
    add to the search text after the head, once per declaration."""
    own = tuple((f, kind_of(f)) for f in F.searchable_fields(decl) if f.storage == "customer" and f.name != "name")
    return own, tuple((f, kind_of(f)) for f in _contact_search_fields(decl))


def _contact_search_fields(fields: Sequence[Field] | None = None) -> list[Field]:
    """The searchable fields of a contact row: the customer's primary-contact fields and
    the contact declaration's (one per column)."""
    by_column: dict[str, Field] = {}
    for f in (*F.searchable_fields(fields), *F.searchable_fields(F.CONTACT_FIELDS)):
        if f.storage in ("primary_contact", "contact"):
            by_column.setdefault(f.db_column, f)
    return list(by_column.values())


def contact_search_columns(fields: Sequence[Field] | None = None) -> dict[str, str]:
    """Every contacts column the search text reads."""
    out: dict[str, str] = {}
    for f in _contact_search_fields(fields):
        out.update(kind_of(f).columns(f))
    return out


# -- helpers shared with the bulk (demo/import) path ----------------------------------
def validation_context(db) -> ValidationContext:
    return ValidationContext(lists=db.reference_lists(), usernames=active_usernames(db))


def active_usernames(db) -> frozenset[str]:
    def load():
        with db.read() as cur:
            return frozenset(r[0] for r in cur.execute("SELECT username FROM users WHERE active").fetchall())

    return db.cached("usernames", load)


def format_code(seq: int, created_at: datetime, settings: Mapping[str, str]) -> str:
    """C2026-000123: prefix, the year of creation (Asia/Shanghai) and the sequence number."""
    prefix = settings.get("code_prefix", "C")
    width = int(settings.get("code_width", "6"))
    if settings.get("code_with_year", "1") == "1":
        year = to_local(created_at).year
        return f"{prefix}{year}-{seq:0{width}d}"
    return f"{prefix}{seq:0{width}d}"


def json_value(v: Any, f: Field | None = None) -> Any:
    """A value as stored in the audit log's JSON (by the field's kind, when given)."""
    if f is not None:
        return kind_of(f).to_json(v)
    if isinstance(v, Decimal):
        return f"{v:.2f}"
    if isinstance(v, datetime):
        return v.isoformat()
    return v


def audit_values(values: Mapping[str, Any], fields: Sequence[Field]) -> dict[str, Any]:
    by_name = F.named(F.declared(fields))
    return {name: json_value(v, by_name.get(name)) for name, v in values.items()}


def build_rows(
    clean: CleanCustomer,
    *,
    customer_id: int,
    code: str,
    contact_id: int | None,
    audit_id: int,
    actor: str,
    now: datetime,
) -> tuple[dict, dict | None, dict]:
    """The customer row, its primary contact row (or None) and the audit row for a new
    customer. Used by ``create_customer`` and by the bulk path, so both store the same."""
    c = clean.customer
    full, initials = pinyin_keys(c["name"])
    contact = None
    contact_cols = value_columns("primary_contact", clean.fields)
    if any(clean.contact.get(col) for col in contact_cols):
        contact = {col: clean.contact.get(col) for col in contact_cols}
        contact.update(id=contact_id, customer_id=customer_id, is_primary=True, created_at=now,
                       created_by=actor, updated_at=now, updated_by=actor, version=1, deleted=False)
    row = {col: c.get(col) for col in value_columns("customer", clean.fields)}
    row.update(
        id=customer_id, code=code, uscc_key=c.get("uscc"), name_pinyin=full, name_initials=initials,
        created_at=now, created_by=actor, updated_at=now, updated_by=actor, reviewed_at=now, version=1,
        archived=False, archived_at=None, archived_by=None, merged_into=None,
    )
    row["search_text"] = record_search_text(row, [contact] if contact else [], clean.fields)
    after = audit_values(clean.field_values(), clean.fields)
    changes = {name: [None, v] for name, v in after.items() if v is not None}
    changes["code"] = [None, code]
    entry = audit.row(audit_id, now=now, actor=actor, action="create", entity="customer", entity_id=customer_id,
                      customer_id=customer_id, version=1, changes=changes)
    return row, contact, entry


def insert_row(cur, table: str, row: Mapping[str, Any]) -> None:
    """INSERT one row given as {column: value} (this package's write paths only)."""
    cols = list(row)
    cur.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )
    if table == "customers":
        note_change(cur, CHANGES, row["id"])  # keeps the search index in step


def audit_row(audit_id: int, *, now, actor, action, customer_id, version, changes, entity="customer",
              entity_id=None) -> dict:
    """One audit entry as stored (``changes``: field -> [before, after]); the bulk
    (demo, import) paths build theirs with it."""
    return audit.row(audit_id, now=now, actor=actor, action=action, entity=entity,
                     entity_id=entity_id if entity_id is not None else customer_id, customer_id=customer_id,
                     version=version, changes=changes)


def append_audit(cur, *, now, actor, action, customer_id, version, changes, entity="customer", entity_id=None):
    """Append one audit entry in the caller's transaction (``changes``: field -> [before, after])."""
    audit.append(cur, now=now, actor=actor, action=action, entity=entity,
                 entity_id=entity_id if entity_id is not None else customer_id, customer_id=customer_id,
                 version=version, changes=changes)
    if customer_id is not None:
        note_change(cur, CHANGES, customer_id)  # keeps the search index in step


def update_at_version(cur, table: str, sets: str, params: Sequence[Any], row_id: int, expected_version: int) -> bool:
    """``UPDATE table SET <sets> version = version + 1 WHERE id = ?`` for a row this
    transaction read at ``expected_version``; True if it was still at that version (the
    caller raises its conflict otherwise, which rolls the write back). ``sets`` is
    "col = ?, " per column, ``params`` their values.

    The version is checked on the row returned, not in the WHERE: DuckDB looks a row up
    by its key through the index only when the key is the whole condition; ``AND version
    = ?`` made it scan the key's row group (10-12 ms at 1M rows instead of 3 ms). A row
    another transaction changed since this one read it fails the UPDATE itself (DuckDB's
    write conflict, retried by ``Database.run_in_transaction``)."""
    got = cur.execute(f"UPDATE {table} SET {sets}version = version + 1 WHERE id = ? RETURNING version",
                      [*params, row_id]).fetchone()
    return got is not None and got[0] == expected_version + 1


def _fetch_record(cur, customer_id: int) -> dict | None:
    return _fetch_with_contacts(cur, customer_id)[0]


def _fetch_with_contacts(cur, customer_id: int) -> tuple[dict | None, list[dict]]:
    """One live customer as pages see it, with its primary contact's fields: the row by
    its key, then its contacts by theirs (``_attach_primary``). One joined query (as in
    ``_record_select``) took 4-10 ms at 1M customers: the join reads the contacts table
    instead of looking the customer's contacts up (docs/benchmarks.md, issue 8 §4)."""
    rec = _fetch_own(cur, customer_id)
    if rec is None:
        return None, []
    contacts = _customer_contacts(cur, customer_id)
    _attach_primary(rec, contacts)
    return rec, contacts


def _fetch_own(cur, customer_id: int) -> dict | None:
    """A live customer's own fields (by name) and system columns, without its contacts."""
    res = cur.execute(
        f"SELECT {customer_record_columns()} FROM customers c WHERE c.id = ? AND c.merged_into IS NULL", [customer_id])
    row = res.fetchone()
    return None if row is None else dict(zip([d[0] for d in res.description], row))


def _customer_contacts(cur, customer_id: int, fields: Sequence[Field] | None = None) -> list[dict]:
    """The customer's contacts (not deleted), primary first then oldest first, by column:
    what the record's primary-contact fields and the search text read.

    Filtered by ``customer_id`` alone, the rest in Python: DuckDB uses the
    ``contacts_customer`` index for ``customer_id = ?`` but scans the table (4-15 ms
    at 1M) once ``is_primary`` is added to the condition."""
    cols = ["id", "is_primary", "deleted",
            *dict.fromkeys([*(f.db_column for f in F.stored_in("primary_contact", fields)),
                            *contact_search_columns(fields)])]
    res = cur.execute(f"SELECT {', '.join(cols)} FROM contacts WHERE customer_id = ?", [customer_id])
    rows = [dict(zip(cols, r)) for r in res.fetchall()]
    live = [r for r in rows if not r["deleted"]]
    live.sort(key=lambda r: (not r["is_primary"], r["id"]))
    return live


def _attach_primary(rec: dict, contacts: Sequence[Mapping[str, Any]], fields: Sequence[Field] | None = None) -> None:
    """Add the primary contact's fields (by field name; None without a primary) to ``rec``."""
    primary = next((c for c in contacts if c["is_primary"]), None)
    for f in F.stored_in("primary_contact", fields):
        rec[f.name] = primary.get(f.db_column) if primary else None


def may_set_field(actor, f: Field, record: Mapping | None) -> bool:
    """May ``actor`` set or change field ``f`` (on top of creating/updating the customer)?"""
    if f.edit_roles is not None and actor.role not in f.edit_roles:
        return False
    return not f.write_permission or perm.can(actor, f.write_permission, record)


def check_field_permissions(actor, names: Iterable[str], record: Mapping | None) -> None:
    by_name = F.named(F.declared())
    for name in names:
        f = by_name.get(name)
        if f is not None and not may_set_field(actor, f, record):
            raise PermissionDenied("error.field_permission", field=name)


def _duplicate_uscc(cur, uscc: str | None, exclude_id: int | None) -> None:
    if not uscc:
        return
    other = cur.execute(
        "SELECT code FROM customers WHERE uscc_key = ? AND id IS DISTINCT FROM ?", [uscc, exclude_id]
    ).fetchone()
    if other:
        raise DuplicateError("error.duplicate_uscc", uscc=uscc, code=other[0])


def _translate_constraint(exc: duckdb.Error, uscc: str | None) -> CustomerMasterError | None:
    msg = str(exc)
    if "uscc_key" in msg or (uscc and uscc in msg):
        return DuplicateError("error.duplicate_uscc", uscc=uscc or "", code="?")
    return None


def _raise_translated(db, exc: duckdb.ConstraintException, uscc: str | None, exclude_id: int | None):
    """Turn a unique-constraint failure into ``DuplicateError``. Two simultaneous saves of
    one USCC both pass the pre-check and the loser fails here; look the winner up so the
    message names who holds the code (its commit may take a moment to become visible)."""
    translated = _translate_constraint(exc, uscc)
    if translated is None:
        raise exc
    for attempt in range(5 if uscc else 0):
        with db.read() as cur:
            _duplicate_uscc(cur, uscc, exclude_id)
        time.sleep(0.01 * (attempt + 1))
    raise translated from exc


def _record_to_change(cur, actor, action: str, customer_id: int, expected_version: int) -> dict:
    """The stored record, if the actor may read it, may do ``action`` to it, and read it at
    ``expected_version``. A record the actor may not read is "not found", like a missing
    one: a salesperson learns nothing about others' files."""
    return _record_and_contacts_to_change(cur, actor, action, customer_id, expected_version)[0]


def _record_and_contacts_to_change(cur, actor, action: str, customer_id: int,
                                   expected_version: int) -> tuple[dict, list[dict]]:
    """``_record_to_change`` and the customer's contacts as ``_customer_contacts`` reads them."""
    rec, contacts = _readable_with_contacts(cur, actor, customer_id)
    perm.require(actor, action, rec)
    if rec["version"] != expected_version:
        raise _conflict(rec)
    return rec, contacts


def _readable(cur, actor, customer_id: int) -> dict:
    return _readable_with_contacts(cur, actor, customer_id)[0]


def _readable_with_contacts(cur, actor, customer_id: int) -> tuple[dict, list[dict]]:
    rec, contacts = _fetch_with_contacts(cur, customer_id)
    if rec is None or not perm.can(actor, perm.CUSTOMER_READ, rec):
        raise NotFound("error.not_found", ref=customer_id)
    return rec, contacts


def check_readable(cur, actor, customer_id: int) -> dict:
    """In the caller's read: the customer's id, code, owner and archived flag, if it is
    live and the actor may read it; "not found" otherwise, like a missing id. For reads of
    what hangs on a customer (its parts, links and history), which need the permission
    and nothing else of the record: one look-up by key instead of the record and its
    contacts."""
    row = cur.execute("SELECT code, owner, archived FROM customers WHERE id = ? AND merged_into IS NULL",
                      [customer_id]).fetchone()
    rec = None if row is None else {"id": customer_id, "code": row[0], "owner": row[1], "archived": row[2]}
    if rec is None or not perm.can(actor, perm.CUSTOMER_READ, rec):
        raise NotFound("error.not_found", ref=customer_id)
    return rec


def customer_for_change(cur, actor, customer_id: int, action: str) -> dict:
    """In the caller's transaction: the customer, if the actor may read it ("not found"
    otherwise), may do ``action`` to it, and it is not archived; its row is claimed
    (``claim_customers``). For writes to the customer's parts (``lib.customers.parts``),
    which do not change its version.

    The customer's own fields and system columns only, not its primary contact's: no
    part rule reads them, and looking the contacts up cost each part write ~0.7 ms."""
    rec = _fetch_own(cur, customer_id)
    if rec is None or not perm.can(actor, perm.CUSTOMER_READ, rec):
        raise NotFound("error.not_found", ref=customer_id)
    perm.require(actor, action, rec)
    if rec["archived"]:
        raise CustomerMasterError("error.archived", code=rec["code"])
    claim_customers(cur, [customer_id])
    return rec


def claim_customers(cur, customer_ids: Sequence[int]) -> None:
    """Write the customers' rows without changing them (``version = version``), so that
    this transaction and any other that writes them — an archive, a merge, an edit —
    cannot both commit: DuckDB reports a write-write conflict on the same column of the
    same row, and ``run_in_transaction`` runs the later one again, which then sees the
    other's commit. A part written while its customer was merged away would otherwise
    stay with the merged customer, out of sight."""
    if len(customer_ids) == 1:
        cur.execute("UPDATE customers SET version = version WHERE id = ?", [customer_ids[0]])
    elif customer_ids:
        cur.execute("UPDATE customers SET version = version WHERE id IN (SELECT unnest(?::BIGINT[]))",
                    [sorted(set(customer_ids))])


def refresh_search_text(cur, customer_id: int) -> None:
    """Rebuild a customer's search text from its row and its contacts (after a contact
    changed; the customer's version stays: its own fields did not change)."""
    cols = ["name", "code", "name_pinyin", "name_initials"]
    for f in F.searchable_fields():
        if f.storage == "customer":
            cols += [c for c in kind_of(f).columns(f) if c not in cols]
    res = cur.execute(f"SELECT {', '.join(cols)} FROM customers WHERE id = ?", [customer_id])
    row = dict(zip(cols, res.fetchone()))
    cur.execute("UPDATE customers SET search_text = ? WHERE id = ?",
                [record_search_text(row, _contacts_for_search(cur, customer_id)), customer_id])


def _conflict(record: Mapping) -> ConflictError:
    at = to_local(record["updated_at"])
    return ConflictError(
        "error.conflict",
        current=dict(record),
        by=record["updated_by"],
        at=at.strftime("%Y-%m-%d %H:%M:%S") if at else "",
        version=record["version"],
    )


def is_blank(v: Any) -> bool:
    """Empty as validation sees it: None, NaN (an empty grid cell) or only white space."""
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


# -- the write path -----------------------------------------------------------------------
def new_customer_defaults(actor, fields: Sequence[Field] | None = None) -> dict[str, Any]:
    """What a new customer gets when the input leaves a field empty: the declared
    defaults, and the actor as owner. The entry form shows these (a locked input shows
    exactly what will be stored)."""
    out = {f.name: f.default for f in F.declared(fields) if f.default is not None}
    if F.by_name("owner", fields) is not None:
        out["owner"] = actor.username
    return out


@dataclass
class NewCustomer:
    """A new customer's input after permission checks and validation, ready to insert."""

    values: dict[str, Any]
    clean: CleanCustomer


def prepare_new(db, actor, values: Mapping[str, Any], *, confirm: Iterable[str] = ()) -> NewCustomer:
    """Check and validate a new customer (once): the create permission, the owner
    default, each set field's own permission, then every field.
    Raises like ``create_customer``; writes nothing."""
    perm.require(actor, perm.CUSTOMER_CREATE)
    values = dict(values) if isinstance(values, Mapping) else values
    if isinstance(values, dict):
        defaults = new_customer_defaults(actor)
        # An absent field takes its declared default in validation; an empty owner means
        # the actor (a required list value left empty stays an error).
        if "owner" in defaults and is_blank(values.get("owner")):
            values["owner"] = defaults["owner"]
        # A field left at its default needs no right of its own (a salesperson's locked
        # owner input holds the salesperson); setting any other value does.
        set_fields = [k for k, v in values.items() if not is_blank(v) and not (k in defaults and v == defaults[k])]
        check_field_permissions(actor, set_fields, {"owner": values.get("owner")})
    clean = validate_customer(values, validation_context(db), confirm=confirm)
    return NewCustomer(values=values, clean=clean)


def insert_new(db, actor, new: NewCustomer) -> dict:
    """Write a prepared customer, its primary contact and the audit entry in one
    transaction; returns the stored record with its code."""
    clean = new.clean
    settings = db.settings()
    uscc = clean.customer.get("uscc")

    def work(cur):
        _duplicate_uscc(cur, uscc, None)
        now = utcnow()
        customer_id, seq, contact_id, audit_id = cur.execute(
            "SELECT nextval('customer_id_seq'), nextval('customer_code_seq'),"
            " nextval('contact_id_seq'), nextval('audit_id_seq')"
        ).fetchone()
        code = format_code(seq, now, settings)
        row, contact, entry = build_rows(clean, customer_id=customer_id, code=code, contact_id=contact_id,
                                         audit_id=audit_id, actor=actor.username, now=now)
        insert_row(cur, "customers", row)
        if contact:
            insert_row(cur, "contacts", contact)
        audit.insert(cur, entry)
        return _written_record(row, contact, clean.fields)

    try:
        return db.run_in_transaction(work)
    except duckdb.ConstraintException as exc:
        _raise_translated(db, exc, uscc, None)


def _written_record(row: Mapping[str, Any], contact: Mapping[str, Any] | None,
                    fields: Sequence[Field] | None = None) -> dict:
    """The record (as ``_fetch_record`` reads it) of a customer row and primary contact
    row just inserted: what was written, without reading it back."""
    rec = {c: row[c] for c in RECORD_SYSTEM_COLUMNS}
    rec.update({f.name: row.get(f.db_column) for f in F.stored_in("customer", fields)})
    rec.update({f.name: contact.get(f.db_column) if contact else None for f in F.stored_in("primary_contact", fields)})
    return rec


def create_customer(db, actor, values: Mapping[str, Any], *, confirm: Iterable[str] = ()) -> dict:
    """Create a customer (and its primary contact); returns the stored record with its code.

    The owner defaults to the actor; setting another owner or a credit limit needs the
    field's own permission. (The entry form's save, which also asks about possible
    duplicates, is ``lib.customers.entry.enter_customer``.)"""
    return insert_new(db, actor, prepare_new(db, actor, values, confirm=confirm))


def get_customer(db, actor, customer_id: int) -> dict:
    """One customer by id, if the actor may read it."""
    with db.read() as cur:
        rec = _fetch_record(cur, customer_id)
    if rec is None:
        raise NotFound("error.not_found", ref=customer_id)
    if not perm.can(actor, perm.CUSTOMER_READ, rec):
        # Same answer as a missing id: a salesperson learns nothing about others' files.
        raise NotFound("error.not_found", ref=customer_id)
    return rec


def get_customer_by_code(db, actor, code: str) -> dict:
    """One customer by its code (客户编号, e.g. from a pasted link), if the actor may read
    it; a code the actor may not see is "not found", like one that does not exist. The
    code of a customer merged into another gives the survivor (``lib.customers.merge``
    keeps ``merged_into`` pointing at the last survivor), so old links keep working."""
    code = (code or "").strip().upper()
    with db.read() as cur:
        row = cur.execute("SELECT coalesce(merged_into, id) FROM customers WHERE code = ?", [code]).fetchone()
    if row is None:
        raise NotFound("error.not_found", ref=code)
    try:
        return get_customer(db, actor, row[0])
    except NotFound:
        raise NotFound("error.not_found", ref=code) from None


def _field_values(rec: Mapping, fields: Sequence[Field]) -> dict:
    return {f.name: rec.get(f.name) for f in fields}


def update_customer(db, actor, customer_id: int, changes: Mapping[str, Any], expected_version: int,
                    *, confirm: Iterable[str] = ()) -> dict:
    """Change some fields of a customer read at ``expected_version``; returns the record
    as this call wrote it (not a later read, which could hold another writer's change).

    Raises ``ConflictError`` (naming who changed it and when) if the stored version
    differs, ``ValidationError`` / ``ConfirmationRequired`` for bad input,
    ``PermissionDenied`` for a record or field the actor may not change."""
    if not isinstance(changes, Mapping):
        raise ValidationError("_record", "validation.invalid")
    fields = F.declared()
    read_only = [k for k in changes if F.by_name(k, fields) is None]
    if read_only:
        raise ValidationError([FieldProblem(str(k)[:50], "validation.read_only") for k in read_only])
    ctx = validation_context(db)
    state: dict[str, Any] = {}

    def work(cur):
        return apply_update(cur, actor, customer_id, changes, expected_version, fields=fields, ctx=ctx,
                            confirm=confirm, state=state)

    try:
        return db.run_in_transaction(work)
    except duckdb.ConstraintException as exc:
        _raise_translated(db, exc, state.get("uscc"), customer_id)


def apply_update(cur, actor, customer_id: int, changes: Mapping[str, Any], expected_version: int, *,
                 fields: Sequence[Field], ctx: ValidationContext, confirm: Iterable[str] = (),
                 state: dict | None = None, action: str = "update", extra_changes: Mapping[str, list] | None = None,
                 need: str = perm.CUSTOMER_UPDATE) -> dict:
    """``update_customer``'s work in the caller's transaction (``need``: the action the
    actor needs on the record). A merge (``lib.customers.merge``) passes its own audit
    ``action`` and ``extra_changes``: then the record is written and audited in one
    entry even when no field changes. ``state["uscc"]`` gets a changed USCC, for
    translating a unique-constraint failure."""
    state = {} if state is None else state
    rec, stored = _record_and_contacts_to_change(cur, actor, need, customer_id, expected_version)
    if rec["archived"]:
        raise CustomerMasterError("error.archived", code=rec["code"])
    current = _field_values(rec, fields)
    clean = validate_customer(dict(changes), ctx, current=current, confirm=confirm, fields=fields)
    after = clean.field_values()
    before_json, after_json = audit_values(current, fields), audit_values(after, fields)
    diff = [k for k in after if before_json[k] != after_json[k]]
    if not diff and extra_changes is None:
        return rec
    check_field_permissions(actor, diff, rec)
    if "owner" in diff:
        # Handing a customer to someone else needs the owner right on the new owner too.
        check_field_permissions(actor, ["owner"], {"owner": after["owner"]})
    c = clean.customer
    if "uscc" in diff:
        state["uscc"] = c.get("uscc")
        _duplicate_uscc(cur, c.get("uscc"), customer_id)
    now = utcnow()
    contact_cols = value_columns("primary_contact", fields)
    contact = {col: clean.contact.get(col) for col in contact_cols}
    # Only the columns this change touches: the changed fields' own, the USCC key with
    # the USCC, the pinyin keys with the name, and the search text when a searchable
    # field changed (it is built from the stored row and contacts otherwise).
    changed = [F.by_name(k, fields) for k in diff]
    row: dict[str, Any] = {}
    for f in changed:
        if f.storage == "customer":
            row.update({col: c.get(col) for col in kind_of(f).columns(f)})
    if "uscc" in diff:
        row["uscc_key"] = c.get("uscc")
    if "name" in diff:
        row["name_pinyin"], row["name_initials"] = pinyin_keys(c["name"])
    if any(f.searchable for f in changed):
        primary = next((x for x in stored if x["is_primary"]), {})
        others = [x for x in stored if not x["is_primary"]]
        full, initials = row.get("name_pinyin"), row.get("name_initials")
        if full is None:
            full, initials = pinyin_keys(c["name"])
        own = {col: c.get(col) for col in value_columns("customer", fields)}
        row["search_text"] = record_search_text(
            dict(own, code=rec["code"], name_pinyin=full, name_initials=initials),
            [{**primary, **contact}, *others], fields)
    sets = "".join(f"{k} = ?, " for k in row)
    if not update_at_version(cur, "customers", f"{sets}updated_at = ?, updated_by = ?, reviewed_at = ?, ",
                             [*row.values(), now, actor.username, now], customer_id, expected_version):
        raise _conflict(_fetch_record(cur, customer_id))  # changed between our read and our write
    if any(F.by_name(k, fields).storage == "primary_contact" for k in diff):
        primary_id = next((x["id"] for x in stored if x["is_primary"]), None)
        _write_primary_contact(cur, customer_id, contact, actor.username, now, primary_id)
    append_audit(cur, now=now, actor=actor.username, action=action, customer_id=customer_id,
                 version=expected_version + 1,
                 changes={**{k: [before_json[k], after_json[k]] for k in diff}, **(extra_changes or {})})
    # The record as written: what was read in this transaction plus this write.
    return {**rec, **after, "version": expected_version + 1, "updated_at": now,
            "updated_by": actor.username, "reviewed_at": now}


def mark_reviewed(db, actor, customer_id: int, expected_version: int) -> dict:
    """"Mark as reviewed" (定期更新): stamp ``reviewed_at`` without changing a field. Needs
    the right to update the customer; checks the version, bumps it and is audited
    (action "review"), like any other change of the record."""

    def work(cur):
        rec = _record_to_change(cur, actor, perm.CUSTOMER_UPDATE, customer_id, expected_version)
        if rec["archived"]:
            raise CustomerMasterError("error.archived", code=rec["code"])
        now = utcnow()
        if not update_at_version(cur, "customers", "reviewed_at = ?, updated_at = ?, updated_by = ?, ",
                                 [now, now, actor.username], customer_id, expected_version):
            raise _conflict(_fetch_record(cur, customer_id))
        append_audit(cur, now=now, actor=actor.username, action="review", customer_id=customer_id,
                     version=expected_version + 1,
                     changes={"reviewed_at": [json_value(rec["reviewed_at"]), json_value(now)]})
        return {**rec, "version": expected_version + 1, "updated_at": now, "updated_by": actor.username,
                "reviewed_at": now}

    return db.run_in_transaction(work)


def values_as_of(db, actor, customer_id: int, audit_id: int) -> dict[str, Any]:
    """The customer's own fields (storage "customer") as they were right after audit
    entry ``audit_id``, as input for ``update_customer``.

    Folded backwards from the stored record: a field's value then is the "before" value
    of the first later customer entry that changed it, else its value now. (Folding
    forwards from the creation would miss what no entry recorded: a creation leaves
    empty fields out, and a migration fills a new field's default without an entry.)
    Contact fields are left out: contacts have their own entries and their own page."""
    rec = get_customer(db, actor, customer_id)
    perm.require(actor, perm.AUDIT_VIEW, rec)
    with db.read() as cur:
        target = cur.execute(
            "SELECT id FROM audit_log WHERE id = ? AND customer_id = ? AND entity = 'customer'",
            [audit_id, customer_id]).fetchone()
        if target is None:
            raise NotFound("error.history_entry_not_found", ref=audit_id)
        later = cur.execute(
            "SELECT changes FROM audit_log WHERE customer_id = ? AND entity = 'customer' AND id > ?"
            " ORDER BY id", [customer_id, audit_id]).fetchall()
    own = F.stored_in("customer")
    values = {f.name: json_value(rec.get(f.name), f) for f in own}
    seen: set[str] = set()
    for (changes,) in later:
        for name, (before, _after) in json.loads(changes).items():
            if name in values and name not in seen:
                values[name] = before
                seen.add(name)
    return values


def restore_version(db, actor, customer_id: int, audit_id: int, expected_version: int, *,
                    confirm: Iterable[str] = ()) -> dict:
    """"Restore this version": set the customer's own fields back to what they were
    right after audit entry ``audit_id`` (``values_as_of``), through ``update_customer``
    — same validation, field permissions and version check, audited as an update.
    Nothing to restore writes nothing."""
    values = values_as_of(db, actor, customer_id, audit_id)
    return update_customer(db, actor, customer_id, values, expected_version, confirm=confirm)


def _contacts_for_search(cur, customer_id: int, fields: Sequence[Field] | None = None) -> list[dict]:
    """The customer's contacts, primary first, with the columns the search text reads."""
    return _customer_contacts(cur, customer_id, fields)


def _write_primary_contact(cur, customer_id: int, contact: dict, actor: str, now: datetime,
                           primary_id: int | None) -> None:
    """Write the primary contact's columns: over the primary ``primary_id`` (read in this
    transaction), or as a new primary contact if there is none and a value is set."""
    if primary_id is not None:
        sets = ", ".join(f"{k} = ?" for k in contact)
        cur.execute(
            f"UPDATE contacts SET {sets}, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ?",
            [*contact.values(), now, actor, primary_id],
        )
    elif any(contact.values()):
        contact_id = cur.execute("SELECT nextval('contact_id_seq')").fetchone()[0]
        row = dict(contact, id=contact_id, customer_id=customer_id, is_primary=True, created_at=now,
                   created_by=actor, updated_at=now, updated_by=actor, version=1, deleted=False)
        insert_row(cur, "contacts", row)


def _set_archived(db, actor, customer_id: int, expected_version: int, archived: bool) -> dict:
    def work(cur):
        rec = _record_to_change(cur, actor, perm.CUSTOMER_ARCHIVE, customer_id, expected_version)
        if rec["archived"] == archived:
            return
        now = utcnow()
        if not update_at_version(
                cur, "customers", "archived = ?, archived_at = ?, archived_by = ?, updated_at = ?, updated_by = ?, ",
                [archived, now if archived else None, actor.username if archived else None, now, actor.username],
                customer_id, expected_version):
            raise _conflict(_fetch_record(cur, customer_id))
        append_audit(cur, now=now, actor=actor.username, action="archive" if archived else "restore",
               customer_id=customer_id, version=expected_version + 1, changes={"archived": [not archived, archived]})

    db.run_in_transaction(work)
    with db.read() as cur:
        return _fetch_record(cur, customer_id)


def archive_customer(db, actor, customer_id: int, expected_version: int) -> dict:
    """Hide a customer from everyday lists; nothing is deleted."""
    return _set_archived(db, actor, customer_id, expected_version, True)


def restore_customer(db, actor, customer_id: int, expected_version: int) -> dict:
    return _set_archived(db, actor, customer_id, expected_version, False)


# -- bulk edit (grid) -----------------------------------------------------------------------
@dataclass
class RowEdit:
    customer_id: int
    expected_version: int
    changes: dict[str, Any]
    confirm: tuple[str, ...] = ()


@dataclass
class RowResult:
    customer_id: int
    ok: bool
    record: dict | None = None
    error: CustomerMasterError | None = None
    edit: RowEdit | None = None  # the edit as sent, kept for the user to correct


def bulk_update(db, actor, edits: Iterable[RowEdit]) -> list[RowResult]:
    """Apply each row's edit in its own transaction (DuckDB has no savepoints): good rows
    commit, bad rows come back with their error and their edit intact."""
    results = []
    for e in edits:
        try:
            rec = update_customer(db, actor, e.customer_id, e.changes, e.expected_version, confirm=e.confirm)
            results.append(RowResult(e.customer_id, True, record=rec, edit=e))
        except CustomerMasterError as exc:
            results.append(RowResult(e.customer_id, False, error=exc, edit=e))
    return results


def set_archived_many(db, actor, items: Iterable[tuple[int, int]], archived: bool) -> list[RowResult]:
    """Archive or restore several (id, version) pairs, one transaction each."""
    out = []
    for cid, ver in items:
        try:
            rec = _set_archived(db, actor, cid, ver, archived)
            out.append(RowResult(cid, True, record=rec))
        except CustomerMasterError as exc:
            out.append(RowResult(cid, False, error=exc))
    return out


# A customer's history includes the entries of the customers merged into it
# (lib.customers.merge): audit rows are never rewritten, they are read through
# ``customers.merged_into`` (a merge points earlier merges' rows at the new survivor).
_HISTORY_OF = "customer_id IN (SELECT ? UNION ALL SELECT id FROM customers WHERE merged_into = ?)"
_HISTORY_COLUMNS = "id, changed_at, actor, action, entity, entity_id, customer_id, version, changes"


def history_page(db, actor, customer_id: int, *, limit: int = 20, offset: int = 0) -> tuple[list[dict], int]:
    """One page of a customer's audit entries, newest first, and their count
    (``audit.view`` on that customer); the entries of customers merged into it included
    (their ``customer_id`` and ``customer_code`` say whose they were)."""
    with db.read() as cur:
        perm.require(actor, perm.AUDIT_VIEW, check_readable(cur, actor, customer_id))
        rows, total = page_and_total(cur, _HISTORY_COLUMNS, f"FROM audit_log WHERE {_HISTORY_OF}",
                                     [customer_id, customer_id], order_by="id DESC", limit=limit, offset=offset)
        merged = sorted({r["customer_id"] for r in rows} - {customer_id})
        codes = dict(cur.execute(f"SELECT id, code FROM customers WHERE id IN ({', '.join('?' * len(merged))})",
                                 merged).fetchall()) if merged else {}
    for r in rows:
        r["changes"] = json.loads(r["changes"])
        r["customer_code"] = codes.get(r["customer_id"])  # set for a merged customer's entry
    return rows, total


def history(db, actor, customer_id: int) -> list[dict]:
    """The audit entries of one customer, oldest first (``audit.view`` on that
    customer), the entries of customers merged into it included."""
    with db.read() as cur:
        perm.require(actor, perm.AUDIT_VIEW, check_readable(cur, actor, customer_id))
        res = cur.execute(f"SELECT {_HISTORY_COLUMNS} FROM audit_log WHERE {_HISTORY_OF} ORDER BY id",
                          [customer_id, customer_id])
        cols = [d[0] for d in res.description]
        rows = [dict(zip(cols, r)) for r in res.fetchall()]
    for r in rows:
        r["changes"] = json.loads(r["changes"])
    return rows


# -- look-ups by many keys at once (import) --------------------------------------------------
def _joined(cur, keys: Iterable[str], sql: str) -> list[tuple]:
    """``sql`` run with the distinct ``keys`` as the table ``_keys_asked`` (column ``k``)
    to join against: one join, where an IN list of thousands of values made DuckDB scan
    the customers once per chunk of the list."""
    keys = sorted(set(keys))
    if not keys:
        return []
    return cur.execute(sql.replace("_keys_asked", "(SELECT unnest(?::VARCHAR[]) AS k)"),
                       [keys] * sql.count("_keys_asked")).fetchall()


def live_ids_by(cur, column: str, keys: Iterable[str]) -> list[int]:
    """Ids of the live (not merged-away) customers whose ``column`` ("code" or
    "uscc_key") is one of ``keys``."""
    if column not in ("code", "uscc_key"):
        raise ValueError(column)
    return [r[0] for r in _joined(cur, keys, f"SELECT c.id FROM customers c JOIN _keys_asked a ON c.{column} = a.k"
                                             " WHERE c.merged_into IS NULL ORDER BY c.id")]


def uscc_holders(cur, usccs: Iterable[str]) -> dict[str, tuple[int, str]]:
    """USCC -> (id, code) of the customers holding any of ``usccs`` (merged-away ones
    hold none: a merge clears their key)."""
    rows = _joined(cur, usccs, "SELECT c.uscc_key, c.id, c.code FROM customers c JOIN _keys_asked a ON c.uscc_key = a.k")
    return {uscc: (cid, code) for uscc, cid, code in rows}


def with_phones(cur, e164s: Iterable[str]) -> list[tuple[str, str, str]]:
    """(E.164, code, name) of live customers whose company phone or a contact's phone
    is one of ``e164s``."""
    return _joined(cur, e164s,
                   "SELECT c.phone_e164, c.code, c.name FROM customers c JOIN _keys_asked a ON c.phone_e164 = a.k"
                   " WHERE c.merged_into IS NULL UNION ALL"
                   " SELECT p.phone_e164, c.code, c.name FROM contacts p JOIN _keys_asked a ON p.phone_e164 = a.k"
                   " JOIN customers c ON c.id = p.customer_id WHERE NOT p.deleted AND c.merged_into IS NULL")


def with_names(cur, lowered: Iterable[str]) -> list[tuple[str, str, str]]:
    """(lower-case name, code, name) of live customers whose lower-cased name is one of
    ``lowered``."""
    return _joined(cur, lowered, "SELECT lower(c.name), c.code, c.name FROM customers c"
                                 " JOIN _keys_asked a ON lower(c.name) = a.k WHERE c.merged_into IS NULL")
