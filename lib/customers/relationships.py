"""Relationships between customers (客户关系): upstream supplier, downstream customer,
partner, parent company, subsidiary — with an optional note.

Storage: one row per link, written from the page of the customer it was linked from.
The row (from A, to B, kind K) reads "B is A's K" (``relationship_kind`` is in A's
words; the list's labels say it: 上游供应商 / upstream supplier, …). On B's page the same
row reads "A is B's inverse(K)" (``lib.customers.fields.RELATIONSHIP_INVERSE``:
supplier <-> customer, parent <-> subsidiary, partner <-> partner). So "A supplies B",
linked from A's page, is stored as (A, B, customer) and, linked from B's page, as
(B, A, supplier): both mean the same, and the second is refused as a duplicate of the
first. Readers never see the stored direction: ``links_of`` gives every link in the
words of the customer whose page is shown.

Writes go through the parts write path (``lib.customers.parts``; the link's customer
is ``from_customer``, so linking, changing the note and unlinking need
``customer.update`` on the from customer). The rules of this kind, checked in the
write's transaction:

* no link of a customer to itself;
* the other customer exists, is not merged away and not archived (when linking);
* no duplicate: the same pair with the same meaning, from either side;
* no parent cycle: a customer is never (through parent / subsidiary links read in
  either direction) its own parent company.

Audit: the from customer's history gets the parts path's entry (changes keyed by field
name, the other customer under ``to_customer``); in the same transaction the other
customer's history gets a mirror entry (same entity and link id, customer_id = the
other customer) in *its* words: ``relationship_kind`` inverted, the other customer
under ``from_customer``.

The other customer is picked with ``link_candidates``: over all customers, whoever owns
them, showing only id, code and name. A salesperson may thus link their customer to
one they cannot open; ``links_of`` then shows only that customer's name and code.
"""
from __future__ import annotations

from typing import Any

import duckdb

from lib.accounts import permissions as perm
from lib.core.db import WriteConflict, page_and_total
from lib.core.errors import CustomerMasterError, DuplicateError
from lib.core.text import normalise_query
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers import parts
from lib.customers.parts import PartKind, Write
from lib.customers.search import check_text

# The kinds whose links make a company tree: (from A, to B, parent) says B is A's parent,
# (from A, to B, subsidiary) says A is B's parent.
PARENT = "parent"
SUBSIDIARY = "subsidiary"
MAX_CANDIDATES = 50


def inverse(kind: str | None) -> str | None:
    """The kind read from the other customer's side. A kind without an entry in
    ``RELATIONSHIP_INVERSE`` (one an administrator added later) reads the same both ways."""
    return None if kind is None else F.RELATIONSHIP_INVERSE.get(kind, kind)


def _parent_and_child(from_id: int, to_id: int, kind: str) -> tuple[int, int] | None:
    if kind == PARENT:
        return to_id, from_id
    if kind == SUBSIDIARY:
        return from_id, to_id
    return None


# -- the rules ------------------------------------------------------------------------------
def _other_for_link(cur, from_id: int, to_id: Any) -> None:
    if not isinstance(to_id, int) or isinstance(to_id, bool):
        raise CustomerMasterError("error.relationship_other_missing")
    if to_id == from_id:
        raise CustomerMasterError("error.relationship_self")
    row = cur.execute("SELECT archived, merged_into FROM customers WHERE id = ?", [to_id]).fetchone()
    if row is None or row[0] or row[1] is not None:
        raise CustomerMasterError("error.relationship_other_missing")


def _no_duplicate(cur, part_id: int, from_id: int, to_id: int, kind: str) -> None:
    other = cur.execute(
        "SELECT 1 FROM relationships WHERE NOT deleted AND id <> ? AND ("
        " (from_customer = ? AND to_customer = ? AND kind = ?) OR (from_customer = ? AND to_customer = ? AND kind = ?))"
        " LIMIT 1", [part_id, from_id, to_id, kind, to_id, from_id, inverse(kind)]).fetchone()
    if other:
        code, name = cur.execute("SELECT code, name FROM customers WHERE id = ?", [to_id]).fetchone()
        raise DuplicateError("error.relationship_duplicate", code=code, name=name)


def _no_parent_cycle(cur, part_id: int, from_id: int, to_id: int, kind: str) -> list[int]:
    """Refuse a parent link whose child is already an ancestor of its parent (walks the
    company tree down from the child; UNION stops at nodes already seen). Returns the
    customers walked."""
    edge = _parent_and_child(from_id, to_id, kind)
    if edge is None:
        return []
    parent, child = edge
    below = [r[0] for r in cur.execute(
        "WITH RECURSIVE edges AS ("
        "  SELECT CASE WHEN kind = ? THEN from_customer ELSE to_customer END AS parent,"
        "         CASE WHEN kind = ? THEN to_customer ELSE from_customer END AS child"
        "  FROM relationships WHERE NOT deleted AND kind IN (?, ?) AND id <> ?),"
        " below(node) AS (SELECT CAST(? AS BIGINT) UNION SELECT e.child FROM edges e JOIN below b ON e.parent = b.node)"
        " SELECT node FROM below",
        [SUBSIDIARY, SUBSIDIARY, PARENT, SUBSIDIARY, part_id, child]).fetchall()]
    if parent in below:
        raise CustomerMasterError("error.relationship_cycle")
    return below


def _claim(cur, customer_ids: list[int]) -> None:
    """Write a claim row for each customer whose links were checked: a transaction that
    checked an overlapping set at the same moment then conflicts and is run again
    (``Database.run_in_transaction``), and its checks see this one's link. Two saves that
    together would close a parent cycle overlap: each one's walk reaches the other's
    parent or child."""
    try:
        cur.executemany("INSERT INTO relationship_claims VALUES (?, 1)"
                        " ON CONFLICT (customer_id) DO UPDATE SET claims = claims + 1",
                        [[i] for i in sorted(set(customer_ids))])
    except duckdb.ConstraintException as exc:
        # The other transaction committed its first claim for one of these customers
        # after this one began: DuckDB cannot update a row this transaction does not see
        # and reports a duplicate key. The same conflict: run again, and see its link.
        raise WriteConflict(str(exc)) from exc


def _check(write: Write) -> None:
    if write.op == "delete":
        return
    from_id, to_id, kind = write.customer["id"], write.after.get("to_customer"), write.after.get("kind")
    if write.op == "create":
        _other_for_link(write.cur, from_id, to_id)
    elif (write.before or {}).get("kind") == kind:
        return  # only the note changed: the meaning of the link is what it was
    _no_duplicate(write.cur, write.part_id, from_id, to_id, kind)
    walked = _no_parent_cycle(write.cur, write.part_id, from_id, to_id, kind)
    _claim(write.cur, [from_id, to_id, *walked])


def mirror_changes(write: Write) -> dict[str, list]:
    """The change as the other customer reads it (see the module's docstring)."""
    before = parts.audit_json(RELATIONSHIP, write.before) if write.before else {}
    after = parts.audit_json(RELATIONSHIP, write.after)
    if write.op == "create":
        changes = {k: [None, v] for k, v in after.items() if v is not None}
    elif write.op == "delete":
        changes = {k: [v, None] for k, v in before.items() if v is not None}
    else:
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    from_id = write.customer["id"]
    out: dict[str, list] = {}
    for key, (old, new) in changes.items():
        if key == "relationship_kind":
            out[key] = [inverse(old), inverse(new)]
        elif key == "to_customer":
            out["from_customer"] = [None if old is None else from_id, None if new is None else from_id]
        else:
            out[key] = [old, new]
    return out


def _after(write: Write) -> None:
    """The mirror audit entry on the other customer's history, same transaction."""
    other = (write.before or write.after)["to_customer"]
    version = 1 if write.op == "create" else write.before["version"] + 1
    cs.append_audit(write.cur, now=write.now, actor=write.actor.username, action=write.op, customer_id=other,
                    version=version, changes=mirror_changes(write), entity=RELATIONSHIP.name,
                    entity_id=write.part_id)


RELATIONSHIP = PartKind(
    name="relationship",
    table="relationships",
    id_seq="relationship_id_seq",
    fields=F.RELATIONSHIP_FIELDS,
    customer_column="from_customer",
    system_defaults={"to_customer": None},
    check=_check,
    after=_after,
    order_by="created_at DESC, id DESC",
)


# Storage types of the columns the write path sets itself, beside the fields' (the bulk
# demo loader's Arrow schema is ``relationship_columns()``).
SYSTEM_COLUMN_TYPES = {
    "id": "BIGINT", "from_customer": "BIGINT", "to_customer": "BIGINT", "created_at": "TIMESTAMP",
    "created_by": "VARCHAR", "updated_at": "TIMESTAMP", "updated_by": "VARCHAR", "version": "INTEGER",
    "deleted": "BOOLEAN",
}


def relationship_columns() -> dict[str, str]:
    """Every column of a new ``relationships`` row, with its SQL type."""
    return {**RELATIONSHIP.value_columns(), **SYSTEM_COLUMN_TYPES}


# -- writes ---------------------------------------------------------------------------------
def link(db, actor, customer_id: int, other_id: int, kind: str, note: str | None = None) -> dict:
    """Link ``customer_id`` (the page's customer) to ``other_id``: "other is customer's
    ``kind``". Needs ``customer.update`` on ``customer_id`` only; the other customer may
    be one the actor cannot open. Returns the link as stored."""
    return parts.add_part(db, actor, RELATIONSHIP, customer_id,
                          {"relationship_kind": kind, "relationship_note": note},
                          system_values={"to_customer": other_id})


def change_note(db, actor, link_id: int, note: str | None, expected_version: int) -> dict:
    """Change a link's note (``ConflictError`` if the link changed since it was read)."""
    return parts.change_part(db, actor, RELATIONSHIP, link_id, {"relationship_note": note}, expected_version)


def unlink(db, actor, link_id: int, expected_version: int) -> None:
    """Remove a link (marked deleted, audited on both customers' histories)."""
    parts.remove_part(db, actor, RELATIONSHIP, link_id, expected_version)


# -- reads ----------------------------------------------------------------------------------
_LINK_COLUMNS = "id, kind, note, version, created_at, created_by, updated_at, updated_by"


def links_of(db, actor, customer_id: int, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    """One page of the customer's links, both directions, newest first, and their total.

    Each row is in the words of ``customer_id``: ``relationship_kind`` is what the other
    customer is to it; ``other_code`` / ``other_name`` name the other customer;
    ``can_open`` says whether the actor may open it (if not, ``other_id`` is None and
    nothing else about it is given); ``can_change`` whether the actor may change the
    note or unlink (``customer.update`` on the customer it was linked from)."""
    limit, offset = max(0, int(limit)), max(0, int(offset))
    mine = (
        f"SELECT {_LINK_COLUMNS}, to_customer AS other, FALSE AS incoming FROM relationships"
        " WHERE from_customer = ? AND NOT deleted"
        f" UNION ALL SELECT {_LINK_COLUMNS}, from_customer AS other, TRUE AS incoming FROM relationships"
        " WHERE to_customer = ? AND NOT deleted"
    )
    # The page of links first, then the customers it names, by key. Joined in one
    # statement, a customer without links cost 250-300 ms at 1M: nothing to join gave
    # DuckDB no key to look up, and it walked the customers' primary-key index instead.
    with db.read() as cur:
        me = cs.check_readable(cur, actor, customer_id)
        rows, total = page_and_total(cur, "*", f"FROM ({mine}) m", [customer_id, customer_id],
                                     order_by="created_at DESC, id DESC", limit=limit, offset=offset)
        ids = sorted({r["other"] for r in rows})
        found = cur.execute("SELECT id, code, name, owner, archived, merged_into FROM customers"
                            f" WHERE id IN ({', '.join('?' * len(ids))})", ids).fetchall() if ids else []
    named = {r[0]: dict(zip(("code", "name", "owner", "archived", "merged_into"), r[1:])) for r in found}
    rows = [{**r, **named[r["other"]], "self_owner": me["owner"], "self_archived": me["archived"]} for r in rows]
    out = []
    for r in rows:
        other = {"owner": r["owner"]}
        can_open = r["merged_into"] is None and perm.can(actor, perm.CUSTOMER_READ, other)
        linked_from = (other, r["archived"]) if r["incoming"] else ({"owner": r["self_owner"]}, r["self_archived"])
        out.append({
            "id": r["id"],
            "version": r["version"],
            "relationship_kind": inverse(r["kind"]) if r["incoming"] else r["kind"],
            "relationship_note": r["note"],
            "incoming": r["incoming"],  # linked from the other customer's page
            "other_id": r["other"] if can_open else None,
            "other_code": r["code"],
            "other_name": r["name"],
            "can_open": can_open,
            "can_change": perm.can(actor, perm.CUSTOMER_UPDATE, linked_from[0]) and not linked_from[1],
            "created_at": r["created_at"],
            "created_by": r["created_by"],
            "updated_at": r["updated_at"],
            "updated_by": r["updated_by"],
        })
    return out, total


def link_candidates(db, actor, text: str, exclude_id: int | None = None, limit: int = 10) -> list[dict]:
    """Customers to link to, found by name, code, full pinyin or initials: over all
    customers (whoever owns them), not archived, not merged, never ``exclude_id`` (the
    page's customer). Only id, code and name; exact matches first, then prefixes, then
    the rest by pinyin. Asks the database for ``limit`` rows (at most 50)."""
    perm.require(actor, perm.CUSTOMER_UPDATE)
    check_text("text", text)
    terms = normalise_query(text)[:8]
    if not terms:
        return []
    limit = max(1, min(int(limit), MAX_CANDIDATES))
    q = "".join(terms)[:200]
    conds, params = ["c.merged_into IS NULL", "NOT c.archived", "c.id IS DISTINCT FROM ?"], [exclude_id]
    for term in terms:
        term = term[:200]
        # search_text holds name, code, pinyin and initials (and more): a cheap first cut
        # over one column; the columns after it say whether the name or code matched.
        conds.append("contains(c.search_text, ?) AND (contains(lower(c.name), ?) OR contains(lower(c.code), ?)"
                     " OR contains(c.name_pinyin, ?) OR contains(c.name_initials, ?))")
        params += [term] * 5
    columns = ("lower(c.name)", "lower(c.code)", "c.name_pinyin", "c.name_initials")
    rank = (f"CASE WHEN ? IN ({', '.join(columns)}) THEN 0"
            f" WHEN {' OR '.join(f'starts_with({c}, ?)' for c in columns)} THEN 1 ELSE 2 END")
    with db.read() as cur:
        rows = cur.execute(
            f"SELECT c.id, c.code, c.name FROM customers c WHERE {' AND '.join(conds)}"
            f" ORDER BY {rank}, c.name_pinyin, c.id LIMIT ?",
            [*params, q, *[q] * len(columns), limit]).fetchall()
    return [{"id": i, "code": code, "name": name} for i, code, name in rows]

