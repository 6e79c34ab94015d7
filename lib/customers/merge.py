"""Merging duplicates (合并客户): two or more customers become one, nothing is lost.

``merge_customers`` takes the surviving customer, the others with the version each was
read at, and, field by field, whose value the survivor keeps. In one transaction:

* every customer involved is checked: readable, ``customer.merge`` and
  ``customer.update`` on it, still at the version read; the survivor is live and not
  archived. Merging a customer into itself, or nothing into it, is refused;
* the others are archived with ``merged_into`` = the survivor and their ``uscc_key``
  cleared (their USCC stays readable, but no longer blocks the survivor); customers
  merged into them earlier now point at the survivor too, so ``merged_into`` is always
  one step and ``get_customer_by_code`` of any old code lands on the survivor;
* their contacts, follow-ups and files move to the survivor; exactly one primary
  contact is left: the survivor's, or the one of the customer chosen for the contact
  fields; a moved record's version goes up (an open edit of it is refused as stale);
* their relationships are re-pointed at the survivor; a link that would become a
  self-link (between two merged customers) or a duplicate of another link is removed;
  a merge that would make the survivor its own parent company is refused;
* the survivor's fields are updated through the write path's ``apply_update``
  (validation, field permissions, USCC check) and the one audit entry of the merge
  (action ``merge``) is written on the survivor: the chosen values as changes, plus
  ``merged`` = the merged customers' codes and ``moved`` = what moved. The survivor's
  history shows the merged customers' earlier entries too (audit rows are not
  rewritten; ``customer.history`` reads them through ``merged_into``), so the entry
  is seen from every code involved;
* the survivor's search text is rebuilt from its row and all its contacts, and every
  customer involved is noted as changed (the search index, record and duplicate caches
  follow after the commit).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import duckdb

from lib.accounts import permissions as perm
from lib.core.clock import utcnow
from lib.core.db import note_change
from lib.core.errors import CustomerMasterError, FieldProblem, NotFound, ValidationError
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers import relationships as rel

# The tables of a customer's parts that move to the survivor, and their name in the
# merge's audit entry.
MOVED_TABLES = (("contacts", "contacts"), ("follow_ups", "followups"), ("attachments", "files"))


def mergeable_fields() -> tuple[F.Field, ...]:
    """The fields a merge chooses a value for, in declaration order: the customer's own
    fields, and the primary contact's (they choose whose primary contact stays primary:
    all contacts move)."""
    return tuple(f for f in F.declared() if f.storage in ("customer", "primary_contact"))


def merge_customers(db, actor, survivor_id: int, expected_version: int, merged: Mapping[int, int],
                    keep: Mapping[str, int] | None = None, *, confirm: Iterable[str] = ()) -> dict:
    """Merge the customers ``merged`` (id -> version read) into ``survivor_id`` (read at
    ``expected_version``); ``keep``: field name -> id of the customer whose value the
    survivor keeps (its own where not named). Returns the survivor as stored after.

    Raises ``CustomerMasterError`` for a refused merge (itself, fewer than two, an
    archived or merged survivor, a parent-company cycle), ``NotFound`` /
    ``PermissionDenied`` for a customer the actor may not read / merge or update,
    ``ConflictError`` for a stale version, ``ValidationError`` /
    ``ConfirmationRequired`` for the chosen values."""
    perm.require(actor, perm.CUSTOMER_MERGE)
    merged = {int(k): int(v) for k, v in dict(merged).items()}
    if survivor_id in merged:
        raise CustomerMasterError("error.merge_into_itself")
    if not merged:
        raise CustomerMasterError("error.merge_too_few")
    keep = dict(keep or {})
    involved = [survivor_id, *merged]
    by_name = {f.name: f for f in mergeable_fields()}
    problems = [FieldProblem(str(name)[:50], "validation.read_only") for name in keep if name not in by_name]
    problems += [FieldProblem(name, "validation.merge_source") for name, src in keep.items()
                 if name in by_name and src not in involved]
    if problems:
        raise ValidationError(problems)
    contact_sources = {src for name, src in keep.items() if by_name[name].storage == "primary_contact"}
    if len(contact_sources) > 1:
        raise ValidationError([FieldProblem(n, "validation.merge_one_contact") for n, f in by_name.items()
                               if f.storage == "primary_contact"])
    contact_source = next(iter(contact_sources), survivor_id)
    fields = F.declared()
    ctx = cs.validation_context(db)
    state: dict[str, Any] = {}

    def work(cur):
        survivor = _survivor(cur, actor, survivor_id, expected_version)
        others = {}
        for oid, version in merged.items():
            rec, _contacts = cs._record_and_contacts_to_change(cur, actor, perm.CUSTOMER_MERGE, oid, version)
            perm.require(actor, perm.CUSTOMER_UPDATE, rec)
            others[oid] = rec
        records = {survivor_id: survivor, **others}
        changes = {name: records[src][name] for name, src in keep.items()
                   if src != survivor_id and by_name[name].storage == "customer"}
        now = utcnow()
        for oid, rec in others.items():
            if not cs.update_at_version(
                    cur, "customers",
                    "merged_into = ?, uscc_key = NULL, archived = TRUE, archived_at = coalesce(archived_at, ?),"
                    " archived_by = coalesce(archived_by, ?), updated_at = ?, updated_by = ?, ",
                    [survivor_id, now, actor.username, now, actor.username], oid, rec["version"]):
                raise cs._conflict(rec)
            note_change(cur, cs.CHANGES, oid)
        ids = list(others)
        marks = ", ".join("?" * len(ids))
        # Customers merged into these earlier now point at the survivor (one step).
        cur.execute(f"UPDATE customers SET merged_into = ? WHERE merged_into IN ({marks})", [survivor_id, *ids])
        source_primary = next((c["id"] for c in cs._customer_contacts(cur, contact_source) if c["is_primary"]), None)
        moved = {}
        for table, label in MOVED_TABLES:
            got = cur.execute(
                f"UPDATE {table} SET customer_id = ?, updated_at = ?, updated_by = ?, version = version + 1"
                f" WHERE customer_id IN ({marks}) RETURNING NOT deleted",
                [survivor_id, now, actor.username, *ids]).fetchall()
            moved[label] = sum(1 for (live,) in got if live)
        _one_primary(cur, survivor_id, source_primary, now, actor.username)
        moved["relationships"], dropped = _repoint_links(cur, survivor_id, ids, now, actor.username)
        extra = {"merged": [None, [others[i]["code"] for i in ids]],
                 "moved": [None, {**moved, "relationships_removed": dropped}]}
        cs.apply_update(cur, actor, survivor_id, changes, expected_version, fields=fields, ctx=ctx,
                        confirm=confirm, state=state, action="merge", extra_changes=extra,
                        need=perm.CUSTOMER_MERGE)
        cs.refresh_search_text(cur, survivor_id)  # its own row and every contact it has now

    try:
        db.run_in_transaction(work)
    except duckdb.ConstraintException as exc:
        cs._raise_translated(db, exc, state.get("uscc"), survivor_id)
    return cs.get_customer(db, actor, survivor_id)


def _survivor(cur, actor, survivor_id: int, expected_version: int) -> dict:
    row = cur.execute("SELECT code, owner, merged_into FROM customers WHERE id = ?", [survivor_id]).fetchone()
    if row is not None and row[2] is not None and perm.can(actor, perm.CUSTOMER_READ, {"owner": row[1]}):
        raise CustomerMasterError("error.merge_target_merged", code=row[0])
    rec, _contacts = cs._record_and_contacts_to_change(cur, actor, perm.CUSTOMER_MERGE, survivor_id,
                                                       expected_version)
    perm.require(actor, perm.CUSTOMER_UPDATE, rec)
    if rec["archived"]:
        raise CustomerMasterError("error.merge_target_archived", code=rec["code"])
    return rec


def _one_primary(cur, survivor_id: int, chosen: int | None, now, actor: str) -> None:
    """Leave exactly one primary contact on the survivor (if it has any contact):
    ``chosen`` (the primary contact, before the move, of the customer chosen for the
    contact fields: the survivor unless named), else the oldest primary, else the
    oldest contact."""
    rows = cur.execute("SELECT id, is_primary FROM contacts WHERE customer_id = ? AND NOT deleted ORDER BY id",
                       [survivor_id]).fetchall()
    if not rows:
        return
    primaries = [cid for cid, is_primary in rows if is_primary]
    keep = chosen if chosen in {cid for cid, _ in rows} else (primaries[0] if primaries else rows[0][0])
    for cid, is_primary in rows:
        if is_primary != (cid == keep):
            cur.execute("UPDATE contacts SET is_primary = ?, updated_at = ?, updated_by = ?, version = version + 1"
                        " WHERE id = ?", [cid == keep, now, actor, cid])


def _repoint_links(cur, survivor_id: int, merged_ids: list[int], now, actor: str) -> tuple[int, int]:
    """Point the merged customers' links at the survivor; remove those that would link
    the survivor to itself or repeat another link (same pair, same meaning, either
    direction). Returns (links moved, links removed)."""
    everyone = [survivor_id, *merged_ids]
    marks = ", ".join("?" * len(everyone))
    rows = cur.execute(
        "SELECT id, from_customer, to_customer, kind FROM relationships WHERE NOT deleted"
        f" AND (from_customer IN ({marks}) OR to_customer IN ({marks})) ORDER BY id",
        [*everyone, *everyone]).fetchall()
    merged = set(merged_ids)
    # The survivor's own links first: when a moved link repeats one, the survivor's stays.
    rows.sort(key=lambda r: (r[1] in merged or r[2] in merged, r[0]))
    seen: set[tuple[int, int, str]] = set()
    moved = removed = 0
    partners = set()
    repointed: list[tuple[int, int, int, str]] = []
    for link_id, a, b, kind in rows:
        na = survivor_id if a in merged else a
        nb = survivor_id if b in merged else b
        partners.update((na, nb))
        if na == nb or (na, nb, kind) in seen or (nb, na, rel.inverse(kind)) in seen:
            cur.execute("UPDATE relationships SET deleted = TRUE, updated_at = ?, updated_by = ?,"
                        " version = version + 1 WHERE id = ?", [now, actor, link_id])
            removed += 1
            continue
        seen.add((na, nb, kind))
        if (na, nb) != (a, b):
            cur.execute("UPDATE relationships SET from_customer = ?, to_customer = ?, updated_at = ?,"
                        " updated_by = ?, version = version + 1 WHERE id = ?", [na, nb, now, actor, link_id])
            moved += 1
            repointed.append((link_id, na, nb, kind))
    # A company tree must stay a tree: merging a parent with its grandchild, say, would
    # make the survivor its own ancestor. Refused (the user unlinks first), as linking is.
    for link_id, na, nb, kind in repointed:
        rel._no_parent_cycle(cur, link_id, na, nb, kind)
    if rows:
        # A link saved at the same moment to one of these customers conflicts with this
        # merge and is checked again after it (lib.customers.relationships).
        rel._claim(cur,  # the relationships module's own claim rows
                    sorted(partners | set(everyone)))
    return moved, removed


def merge_candidates(db, actor, ids: Iterable[int]) -> list[dict]:
    """The customers of ``ids`` the actor may read, as records (with their versions), in
    that order: what the merge form shows and sends back. Customers merged or gone
    meanwhile are left out."""
    out = []
    for cid in dict.fromkeys(ids):
        try:
            out.append(cs.get_customer(db, actor, cid))
        except NotFound:
            continue
    return out


def differing_fields(records: list[Mapping[str, Any]]) -> list[F.Field]:
    """The mergeable fields whose values differ between ``records`` (a choice to make);
    a field set on one record only counts too."""
    return [f for f in mergeable_fields() if len({repr(cs.json_value(r.get(f.name), f)) for r in records}) > 1]
