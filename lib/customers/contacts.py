"""A customer's contacts (联系人): many per customer, exactly one primary when any exist.

The fields are ``lib.customers.fields.CONTACT_FIELDS``; writes go through the parts
write path (``lib.customers.parts``). The rules of this kind:

* The first contact of a customer is its primary contact, and so is a contact added
  with ``primary=True`` (the previous primary stops being one). The primary contact is
  the one the entry form, the grid and search results show as the customer's contact.
* Removing the primary contact makes the oldest remaining contact primary.
* Every contact's name, phones and e-mail find the customer (its search text is
  rebuilt after each write).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from lib.core.clock import utcnow
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers import parts
from lib.customers.parts import PartKind, Write


def _promote(cur, write: Write, contact_id: int) -> None:
    """Make ``contact_id`` the only primary contact of the customer (audited per contact)."""
    # By customer_id alone (its index), the rest here: DuckDB scans the table once
    # is_primary is in the condition (issue 8 §4).
    res = cur.execute("SELECT id, version, is_primary, deleted FROM contacts WHERE customer_id = ? ORDER BY id",
                      [write.customer["id"]])
    others = [(i, v) for i, v, primary, deleted in res.fetchall() if primary and not deleted and i != contact_id]
    for other_id, version in others:
        cur.execute("UPDATE contacts SET is_primary = FALSE, updated_at = ?, updated_by = ?, version = version + 1"
                    " WHERE id = ?", [write.now, write.actor.username, other_id])
        cs.append_audit(cur, now=write.now, actor=write.actor.username, action="update",
                        customer_id=write.customer["id"], version=version + 1,
                        changes={"is_primary": [True, False]}, entity=CONTACT.name, entity_id=other_id)


def _check(write: Write) -> None:
    """Before the write: a new contact is primary if asked or if it is the first."""
    if write.op != "create":
        return
    has_primary = write.cur.execute(
        "SELECT count_if(is_primary AND NOT deleted) FROM contacts WHERE customer_id = ?",
        [write.customer["id"]]).fetchone()[0]
    if not has_primary:
        write.after["is_primary"] = True


def _after(write: Write) -> None:
    cur = write.cur
    if write.op == "create" and write.after.get("is_primary"):
        _promote(cur, write, write.part_id)
    if write.op == "delete" and write.before.get("is_primary"):
        heir = cur.execute("SELECT id, version FROM contacts WHERE customer_id = ? AND NOT deleted ORDER BY id"
                           " LIMIT 1", [write.customer["id"]]).fetchone()
        if heir:
            cur.execute("UPDATE contacts SET is_primary = TRUE, updated_at = ?, updated_by = ?,"
                        " version = version + 1 WHERE id = ?", [write.now, write.actor.username, heir[0]])
            cs.append_audit(cur, now=write.now, actor=write.actor.username, action="update",
                            customer_id=write.customer["id"], version=heir[1] + 1,
                            changes={"is_primary": [False, True]}, entity=CONTACT.name, entity_id=heir[0])
    cs.refresh_search_text(cur, write.customer["id"])


CONTACT = PartKind(
    name="contact",
    table="contacts",
    id_seq="contact_id_seq",
    fields=F.CONTACT_FIELDS,
    system_defaults={"is_primary": False},
    check=_check,
    after=_after,
    order_by="is_primary DESC, id",
)


def contact_columns() -> dict[str, str]:
    """Every column of a new ``contacts`` row, primary or not, with its SQL type: the
    contact declaration's columns and the customer's primary-contact columns (the bulk
    demo loader's Arrow schema)."""
    return {**CONTACT.value_columns(), **cs.contact_columns()}


def contacts_of(db, actor, customer_id: int, *, limit: int | None = None, offset: int = 0) -> tuple[list[dict], int]:
    """The customer's contacts, primary first, then oldest first."""
    return parts.parts_of(db, actor, CONTACT, customer_id, limit=limit, offset=offset)


def add_contact(db, actor, customer_id: int, values: Mapping[str, Any], *, primary: bool = False,
                confirm: Iterable[str] = ()) -> dict:
    """A new contact; ``primary=True`` makes it the customer's primary contact."""
    return parts.add_part(db, actor, CONTACT, customer_id, values, confirm=confirm,
                          system_values={"is_primary": True} if primary else None)


def change_contact(db, actor, contact_id: int, changes: Mapping[str, Any], expected_version: int, *,
                   confirm: Iterable[str] = ()) -> dict:
    return parts.change_part(db, actor, CONTACT, contact_id, changes, expected_version, confirm=confirm)


def remove_contact(db, actor, contact_id: int, expected_version: int) -> None:
    """Remove a contact; if it was primary, the oldest remaining contact becomes primary."""
    parts.remove_part(db, actor, CONTACT, contact_id, expected_version)


def make_primary(db, actor, contact_id: int, expected_version: int) -> dict:
    """Make a contact the customer's primary contact (the former primary stays a contact)."""

    def work(cur):
        customer, row = parts.part_for_change(cur, actor, CONTACT, contact_id, expected_version)
        write = Write(cur, actor, customer, row, dict(row, is_primary=True), "update", utcnow(), contact_id)
        out = parts.change_columns(write, CONTACT)
        _promote(cur, write, contact_id)
        return out

    return db.run_in_transaction(work)

