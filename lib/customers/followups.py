"""A customer's follow-ups (跟进 / 沟通记录): calls, visits, e-mails, meetings, care
activities, customer needs and notes, each with a date, a summary and optionally a next
action with a due date and an assignee.

The fields are ``lib.customers.fields.FOLLOWUP_FIELDS``; writes go through the parts
write path (``lib.customers.parts``). The rules of this kind:

* Adding one needs the right to change the customer (``customer.update``; a salesperson
  on their own customers). Changing, removing or marking one done is for its author
  (``created_by``) and its assignee, and for whoever has ``followup.edit_any`` on the
  customer (managers, admins) — always on a customer the actor may change, so a viewer
  writes nothing.
* ``occurred_on`` defaults to today in Asia/Shanghai; the assignee defaults to the
  author when a next action or a due date is given.
* Only a need (kind ``need``) has a state (open / met / dropped); a need starts open. A
  state on any other kind is refused.
* Marking done (and undoing it) stamps ``done_at`` and ``done_by``, audited like any
  change. Care campaigns (``lib.customers.campaigns``) write follow-ups in bulk.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from lib.accounts import permissions as perm
from lib.accounts import users
from lib.core.clock import local_today, utcnow
from lib.core.errors import PermissionDenied, ValidationError
from lib.customers import fields as F
from lib.customers import parts
from lib.customers.customer import is_blank
from lib.customers.parts import PartKind, Write

NEED = "need"
NEED_OPEN = "open"


def may_edit(actor, followup: Mapping[str, Any], customer: Mapping[str, Any]) -> bool:
    """May ``actor`` change, remove or mark done this follow-up (a stored row, or a record
    as ``followups_of`` returns it) of ``customer``? The right to change the customer
    itself is checked by the write path."""
    author = followup.get("created_by")
    assignee = followup.get("assignee", followup.get("followup_assignee"))
    return actor is not None and (actor.username in (author, assignee)
                                  or perm.can(actor, perm.FOLLOWUP_EDIT_ANY, customer))


def _check(write: Write) -> None:
    if write.op != "create" and not may_edit(write.actor, write.before, write.customer):
        raise PermissionDenied("error.followup_not_yours", code=write.customer.get("code", ""))
    if write.op == "delete":
        return
    after = write.after
    if after.get("kind") == NEED:
        if after.get("need_state") is None:
            after["need_state"] = NEED_OPEN
    elif after.get("need_state") is not None:
        raise ValidationError("followup_need_state", "validation.need_state_only_for_needs")
    if after.get("assignee") is None and (after.get("next_action") or after.get("due_on")):
        author = write.actor.username if write.op == "create" else write.before["created_by"]
        after["assignee"] = author
    assignee = after.get("assignee")
    if assignee and (write.op == "create" or assignee != write.before.get("assignee")):
        # Assigned to someone who cannot open the customer, it would never reach them.
        if not perm.can(users.active_actor(write.cur, assignee), perm.CUSTOMER_READ, write.customer):
            raise ValidationError("followup_assignee", "validation.assignee_cannot_see", user=assignee)


FOLLOW_UP = PartKind(
    name="followup",
    table="follow_ups",
    id_seq="follow_up_id_seq",
    fields=F.FOLLOWUP_FIELDS,
    # done_at / done_by are set only by mark_done; campaign only by a care campaign.
    system_defaults={"done": False, "done_at": None, "done_by": None, "campaign": None},
    check=_check,
    order_by="occurred_on DESC, id DESC",
)


# Storage types of the columns the write path sets itself, beside the fields' (the bulk
# loader's Arrow schema is ``followup_columns()``).
SYSTEM_COLUMN_TYPES = {
    "id": "BIGINT", "customer_id": "BIGINT", "done": "BOOLEAN", "done_at": "TIMESTAMP", "done_by": "VARCHAR",
    "campaign": "VARCHAR", "created_at": "TIMESTAMP", "created_by": "VARCHAR", "updated_at": "TIMESTAMP",
    "updated_by": "VARCHAR", "version": "INTEGER", "deleted": "BOOLEAN",
}


def followup_columns() -> dict[str, str]:
    """Every column of a new ``follow_ups`` row, with its SQL type."""
    return {**FOLLOW_UP.value_columns(), **SYSTEM_COLUMN_TYPES}


def followups_of(db, actor, customer_id: int, limit: int | None = None, offset: int = 0) -> tuple[list[dict], int]:
    """One page of the customer's follow-ups, newest first, and their count."""
    return parts.parts_of(db, actor, FOLLOW_UP, customer_id, limit=limit, offset=offset)


def get_followup(db, actor, followup_id: int) -> dict:
    return parts.get_part(db, actor, FOLLOW_UP, followup_id)


def add_followup(db, actor, customer_id: int, values: Mapping[str, Any], *, confirm: Iterable[str] = ()) -> dict:
    """A new follow-up of the customer; the date defaults to today (Asia/Shanghai)."""
    if isinstance(values, Mapping) and is_blank(values.get("followup_occurred_on")):
        values = {**values, "followup_occurred_on": local_today()}
    return parts.add_part(db, actor, FOLLOW_UP, customer_id, values, confirm=confirm)


def change_followup(db, actor, followup_id: int, changes: Mapping[str, Any], expected_version: int, *,
                    confirm: Iterable[str] = ()) -> dict:
    return parts.change_part(db, actor, FOLLOW_UP, followup_id, changes, expected_version, confirm=confirm)


def remove_followup(db, actor, followup_id: int, expected_version: int) -> None:
    parts.remove_part(db, actor, FOLLOW_UP, followup_id, expected_version)


def set_need_state(db, actor, followup_id: int, state: str, expected_version: int) -> dict:
    """Move a need to open, met or dropped (a code or a label of the need_state list)."""
    return change_followup(db, actor, followup_id, {"followup_need_state": state}, expected_version)


def mark_done(db, actor, followup_id: int, expected_version: int, done: bool = True) -> dict:
    """Mark a follow-up done (who and when are stamped), or undo that with ``done=False``.
    Marking it as it already is writes nothing."""

    def work(cur):
        customer, row = parts.part_for_change(cur, actor, FOLLOW_UP, followup_id, expected_version)
        now = utcnow()
        after = dict(row)
        if bool(row["done"]) != bool(done):
            after.update(done=bool(done), done_at=now if done else None, done_by=actor.username if done else None)
        return parts.change_columns(Write(cur, actor, customer, row, after, "update", now, followup_id), FOLLOW_UP)

    return db.run_in_transaction(work)
