"""The one write path for a customer's parts: records that belong to one customer
(contacts today; relationships, follow-ups and files use the same path).

Each kind of part is declared once as a ``PartKind``: its table, its fields (declared
like the customer's, in ``lib.customers.fields``, cleaned by the same kinds in
``lib.customers.validation``) and the rules of its own (``lib.customers.contacts``
keeps exactly one primary contact). ``add_part``, ``change_part`` and ``remove_part``
all, in one transaction: find the customer (one the actor may not read is "not found"),
check the actor's right to change it (``customer.update``, scope as for the customer),
validate, check the part's version, write, run the kind's rules, and append the audit
entry (entity = the kind's name, with the customer's id, so the customer's history
shows it). A change that changes nothing writes nothing. Removing a part marks it
deleted; nothing is erased.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

from lib.accounts import permissions as perm
from lib.core.clock import to_local, utcnow
from lib.core.db import page_and_total
from lib.core.errors import ConflictError, FieldProblem, NotFound, ValidationError
from lib.customers import customer as cs
from lib.customers.fields import Field
from lib.customers.kinds import kind_of
from lib.customers.validation import validate_customer

# Columns every part table has besides its fields' (relationships name the customer
# column differently: ``PartKind.customer_column``).
PART_SYSTEM_COLUMNS = ("id", "created_at", "created_by", "updated_at", "updated_by", "version", "deleted")


@dataclass
class Write:
    """One write of a part as the kind's rules see it, inside the transaction."""

    cur: Any
    actor: perm.Actor
    customer: dict  # the customer's own fields and system columns (``customer_for_change``)
    before: dict | None  # the part as stored (None: a new part)
    after: dict  # the part's columns as they will be stored (None values included)
    op: str  # "create" | "update" | "delete"
    now: datetime
    part_id: int | None = None


@dataclass(frozen=True)
class PartKind:
    name: str  # the audit log's entity, and ``Field.storage`` of its fields
    table: str
    id_seq: str
    fields: tuple[Field, ...]
    customer_column: str = "customer_id"
    # Extra columns the kind sets itself (e.g. is_primary), with their values for a new part.
    system_defaults: Mapping[str, Any] | None = None
    # Record-level rules, run in the transaction before the write (may raise, may adjust
    # ``write.after``), and work to do after it (other rows, the customer's search text).
    check: Callable[[Write], None] | None = None
    after: Callable[[Write], None] | None = None
    order_by: str = "id"

    def value_columns(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields:
            out.update(kind_of(f).columns(f))
        return out


def audit_json(kind: PartKind, row: Mapping[str, Any]) -> dict[str, Any]:
    """A part's values by field name as the audit log stores them (plus the kind's own
    columns, e.g. is_primary)."""
    out = {f.name: kind_of(f).to_json(row.get(f.db_column)) for f in kind.fields}
    out.update({c: cs.json_value(row.get(c)) for c in kind.system_defaults or {}})  # done_at: a timestamp
    return out


def _fetch(cur, kind: PartKind, part_id: int) -> dict | None:
    res = cur.execute(
        f"SELECT * FROM {kind.table} WHERE id = ? AND NOT deleted", [part_id])
    row = res.fetchone()
    return None if row is None else dict(zip([d[0] for d in res.description], row))


def _as_record(kind: PartKind, row: Mapping[str, Any]) -> dict:
    """A stored row as pages see it: each field by name, system columns as they are."""
    out = {c: row.get(c) for c in PART_SYSTEM_COLUMNS}
    out["customer_id"] = row.get(kind.customer_column)
    out.update({c: row.get(c) for c in kind.system_defaults or {}})
    for f in kind.fields:  # a phone's E.164 column as contact_phone_e164, …
        out.update({f.name + suffix: v for suffix, v in kind_of(f).stored(f, row).items()})
    return out


def _validate(kind: PartKind, db, values: Mapping[str, Any], current: Mapping[str, Any] | None,
              confirm: Iterable[str]) -> dict[str, Any]:
    unknown = [k for k in values if k not in {f.name for f in kind.fields}]
    if unknown:
        raise ValidationError([FieldProblem(str(k)[:50], "validation.read_only") for k in unknown])
    clean = validate_customer(values, cs.validation_context(db), current=current, confirm=confirm,
                              fields=kind.fields)
    return dict(clean.tables.get(kind.name, {}))


def _conflict(kind: PartKind, row: Mapping[str, Any]) -> ConflictError:
    at = to_local(row["updated_at"])
    return ConflictError("error.conflict", current=_as_record(kind, row), by=row["updated_by"],
                         at=at.strftime("%Y-%m-%d %H:%M:%S") if at else "", version=row["version"])


def _audit(write: Write, kind: PartKind, part_id: int, version: int, changes: dict) -> None:
    cs.append_audit(write.cur, now=write.now, actor=write.actor.username, action=write.op,
                    customer_id=write.customer["id"], version=version, changes=changes,
                    entity=kind.name, entity_id=part_id)


# -- reads ---------------------------------------------------------------------------------
def parts_of(db, actor, kind: PartKind, customer_id: int, *, limit: int | None = None,
             offset: int = 0) -> tuple[list[dict], int]:
    """One page of a customer's parts of one kind (in the kind's order) and their count;
    the customer must be one the actor may read."""
    rest = f"FROM {kind.table} WHERE {kind.customer_column} = ? AND NOT deleted"
    with db.read() as cur:
        cs.check_readable(cur, actor, customer_id)
        if limit is None:
            res = cur.execute(f"SELECT * {rest} ORDER BY {kind.order_by}", [customer_id])
            cols = [d[0] for d in res.description]
            rows = [dict(zip(cols, r)) for r in res.fetchall()]
            total = len(rows)
        else:
            rows, total = page_and_total(cur, "*", rest, [customer_id], order_by=kind.order_by, limit=limit,
                                         offset=offset)
    return [_as_record(kind, r) for r in rows], total


def get_part(db, actor, kind: PartKind, part_id: int) -> dict:
    with db.read() as cur:
        row = _fetch(cur, kind, part_id)
        if row is None:
            raise NotFound("error.not_found", ref=part_id)
        cs.check_readable(cur, actor, row[kind.customer_column])
    return _as_record(kind, row)


# -- writes --------------------------------------------------------------------------------
# A new part's row in three steps, shared by ``add_part`` and the bulk (demo) path.
def initial_values(kind: PartKind, clean: Mapping[str, Any], system_values: Mapping[str, Any] | None = None) -> dict:
    """The columns of a new part before the kind's rules run: the cleaned values (by
    column, as validation leaves them), the kind's defaults and the given system values."""
    after = {col: clean.get(col) for col in kind.value_columns()}
    after.update(kind.system_defaults or {})
    after.update({k: v for k, v in (system_values or {}).items() if k in (kind.system_defaults or {})})
    return after


def new_row(kind: PartKind, after: Mapping[str, Any], *, part_id: int, customer_id: int, actor: str,
            now: datetime) -> dict:
    """The stored row of a new part with columns ``after``."""
    row = dict(after, id=part_id, created_at=now, created_by=actor, updated_at=now, updated_by=actor, version=1,
               deleted=False)
    row[kind.customer_column] = customer_id
    return row


def created_changes(kind: PartKind, row: Mapping[str, Any]) -> dict[str, list]:
    """The audit entry's changes for a new part ``row``."""
    return {k: [None, v] for k, v in audit_json(kind, row).items() if v not in (None, False)}


def add_part(db, actor, kind: PartKind, customer_id: int, values: Mapping[str, Any], *,
             confirm: Iterable[str] = (), system_values: Mapping[str, Any] | None = None) -> dict:
    """A new part of the customer; returns it as stored. ``system_values`` sets the
    kind's own columns (``PartKind.system_defaults``) for this part."""
    if not isinstance(values, Mapping):
        raise ValidationError("_record", "validation.invalid")
    clean = _validate(kind, db, values, None, confirm)
    return db.run_in_transaction(lambda cur: add_part_in(cur, actor, kind, customer_id, clean, system_values))


def add_part_in(cur, actor, kind: PartKind, customer_id: int, clean: Mapping[str, Any],
                system_values: Mapping[str, Any] | None = None) -> dict:
    """``add_part``'s write inside the caller's transaction, with values already
    validated (``clean``: by column, as validation leaves them): import adds many."""
    customer = cs.customer_for_change(cur, actor, customer_id, perm.CUSTOMER_UPDATE)
    now = utcnow()
    part_id = cur.execute(f"SELECT nextval('{kind.id_seq}')").fetchone()[0]
    write = Write(cur, actor, customer, None, initial_values(kind, clean, system_values), "create", now, part_id)
    if kind.check:
        kind.check(write)
    row = new_row(kind, write.after, part_id=part_id, customer_id=customer_id, actor=actor.username, now=now)
    cs.insert_row(cur, kind.table, row)
    _audit(write, kind, part_id, 1, created_changes(kind, row))
    if kind.after:
        kind.after(write)
    return _as_record(kind, row)


def part_for_change(cur, actor, kind: PartKind, part_id: int, expected_version: int) -> tuple[dict, dict]:
    """(customer, part): the part, at ``expected_version``, of a customer the actor may change."""
    row = _fetch(cur, kind, part_id)
    if row is None:
        raise NotFound("error.not_found", ref=part_id)
    customer = cs.customer_for_change(cur, actor, row[kind.customer_column], perm.CUSTOMER_UPDATE)
    if row["version"] != expected_version:
        raise _conflict(kind, row)
    return customer, row


def change_part(db, actor, kind: PartKind, part_id: int, changes: Mapping[str, Any], expected_version: int,
                *, confirm: Iterable[str] = ()) -> dict:
    """Change some fields of a part read at ``expected_version``; returns it as written.
    ``ConflictError`` (with the stored part) if someone changed it since."""
    if not isinstance(changes, Mapping):
        raise ValidationError("_record", "validation.invalid")

    def work(cur):
        customer, row = part_for_change(cur, actor, kind, part_id, expected_version)
        current = {f.name: row.get(f.db_column) for f in kind.fields}
        clean = _validate(kind, db, changes, current, confirm)
        after = {**row, **{col: clean.get(col) for col in kind.value_columns()}}
        return _update(Write(cur, actor, customer, row, after, "update", utcnow(), part_id), kind)

    return db.run_in_transaction(work)


def change_columns(write: Write, kind: PartKind) -> dict:
    """Write ``write.after`` over ``write.before`` (a kind's own operation, e.g. "make
    primary", builds the ``Write`` itself): runs the kind's rules, bumps the version,
    audits the difference. Returns the part as written."""
    return _update(write, kind)


def _update(write: Write, kind: PartKind) -> dict:
    row = write.before
    if kind.check:
        kind.check(write)
    before_json, after_json = audit_json(kind, row), audit_json(kind, write.after)
    diff = {k: [before_json[k], after_json[k]] for k in after_json if before_json[k] != after_json[k]}
    if not diff:
        return _as_record(kind, row)
    cols = [c for c in write.after if c in row and c not in PART_SYSTEM_COLUMNS and row[c] != write.after[c]]
    sets = "".join(f"{c} = ?, " for c in cols)
    if not cs.update_at_version(write.cur, kind.table, f"{sets}updated_at = ?, updated_by = ?, ",
                                [*(write.after[c] for c in cols), write.now, write.actor.username], row["id"],
                                row["version"]):
        raise _conflict(kind, _fetch(write.cur, kind, row["id"]) or row)
    version = row["version"] + 1
    _audit(write, kind, row["id"], version, diff)
    if kind.after:
        kind.after(write)
    return _as_record(kind, {**write.after, "version": version, "updated_at": write.now,
                             "updated_by": write.actor.username})


def remove_part(db, actor, kind: PartKind, part_id: int, expected_version: int) -> None:
    """Mark a part deleted (audited with the values it had)."""

    def work(cur):
        customer, row = part_for_change(cur, actor, kind, part_id, expected_version)
        write = Write(cur, actor, customer, row, dict(row, deleted=True), "delete", utcnow(), part_id)
        if kind.check:
            kind.check(write)
        if not cs.update_at_version(cur, kind.table, "deleted = TRUE, updated_at = ?, updated_by = ?, ",
                                    [write.now, actor.username], part_id, expected_version):
            raise _conflict(kind, _fetch(cur, kind, part_id) or row)
        before = audit_json(kind, row)
        _audit(write, kind, part_id, expected_version + 1,
               {k: [v, None] for k, v in before.items() if v not in (None, False)})
        if kind.after:
            kind.after(write)

    db.run_in_transaction(work)
