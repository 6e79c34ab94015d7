"""Care campaigns (客户关怀): one care follow-up for every customer of a search.

A campaign takes the search the user is looking at (``CustomerFilters``, scoped to the
customers the actor may change, archived ones left out) and gives each customer a
follow-up of kind ``care`` with the campaign's summary and due date, assigned to the
customer's owner and labelled with the campaign's name (``follow_ups.campaign``), so it
shows on the customer's file and on its owner's home page.

It is all or nothing: one transaction writes every follow-up and its audit entry (the
same entry ``lib.customers.followups.add_followup`` would write), in set-based
``INSERT … SELECT`` batches so five thousand customers take a few statements rather
than ten thousand. A search larger than the setting ``campaign_max_customers`` (or the
``cap`` given) is refused before anything is written.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from lib.accounts import permissions as perm
from lib.core import settings
from lib.core.clock import local_today, utcnow
from lib.core.errors import CustomerMasterError, ValidationError
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers.customer import is_blank
from lib.customers.fields import Field
from lib.customers.followups import FOLLOW_UP
from lib.customers.kinds import kind_of
from lib.customers.parts import PART_SYSTEM_COLUMNS
from lib.customers.search import CustomerFilters, where_clause
from lib.customers.validation import validate_customer

CARE = "care"
# Customers per INSERT … SELECT; progress is reported after each.
BATCH = 500

# What the user fills in: the campaign's name, and the follow-up each customer gets (a
# campaign is a task, so its due date is required).
CAMPAIGN_LABEL = Field("campaign_label", "text", "关怀活动名称", "Campaign name", "campaign", required=True,
                       max_length=100, storage="campaign", column="campaign",
                       help_zh="如：2026 春节问候", help_en="E.g. Spring Festival greetings 2026")


def campaign_fields() -> tuple[Field, ...]:
    followup = {f.name: f for f in F.FOLLOWUP_FIELDS}
    return (
        CAMPAIGN_LABEL,
        followup["followup_summary"],
        followup["followup_next_action"],
        dataclasses.replace(followup["followup_due_on"], required=True),
        followup["followup_occurred_on"],
    )


class CampaignTooLarge(CustomerMasterError):
    """The search reaches more customers than one campaign may; nothing was written."""

    key = "error.campaign_too_large"


@dataclass(frozen=True)
class CampaignResult:
    label: str
    created: int  # follow-ups written, one per customer


def _validate(db, values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(label, {follow_ups column: value}) from the user's input."""
    if not isinstance(values, Mapping):
        raise ValidationError("_record", "validation.invalid")
    values = dict(values)
    if is_blank(values.get("followup_occurred_on")):
        values["followup_occurred_on"] = local_today()
    ctx = cs.validation_context(db)
    clean = validate_customer(values, ctx, fields=campaign_fields())
    # Every follow-up gets the kind ``care``: a retired kind is not written as new input.
    if not ctx.choice("followup_kind", CARE)[1]:
        raise ValidationError("followup_kind", "lists.care_retired")
    return clean.tables["campaign"]["campaign"], dict(clean.tables["followup"])


def _row_template(label: str, columns: Mapping[str, Any], actor: str, now) -> dict[str, Any]:
    """The new follow-up's columns as ``parts.add_part`` would store them; the id,
    customer and assignee are filled per customer by the SQL."""
    row = {col: columns.get(col) for col in FOLLOW_UP.value_columns()}
    row.update(FOLLOW_UP.system_defaults or {})
    row.update(kind=CARE, campaign=label, created_at=now, created_by=actor, updated_at=now, updated_by=actor,
               version=1, deleted=False)
    return row


# Columns the SQL fills per customer.
_PER_CUSTOMER = {"id": f"nextval('{FOLLOW_UP.id_seq}')", "customer_id": "c.id", "assignee": "c.owner"}


def _insert_sql(row: Mapping[str, Any]) -> tuple[str, list[Any]]:
    cols = ["id", "customer_id", *(c for c in row if c not in _PER_CUSTOMER), "assignee"]
    assert set(PART_SYSTEM_COLUMNS) <= set(cols)
    exprs = [_PER_CUSTOMER.get(c, "?") for c in cols]
    sql = (f"INSERT INTO {FOLLOW_UP.table} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM customers c"
           " WHERE c.id IN (SELECT unnest(?::BIGINT[])) RETURNING id")
    return sql, [row[c] for c in cols if c not in _PER_CUSTOMER]


def _audit_sql(row: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """An INSERT … SELECT of one audit entry per new follow-up, with the changes a single
    add would record (every non-empty field and column, the assignee per row)."""
    values = {f.name: kind_of(f).to_json(row.get(f.db_column)) for f in FOLLOW_UP.fields}
    values.update({c: cs.json_value(row.get(c)) for c in FOLLOW_UP.system_defaults or {}})
    parts, params = [], []
    for name, v in values.items():
        if name == "followup_assignee":
            parts.append(f"'{name}', json_array(NULL, f.assignee)")
        elif v not in (None, False):
            parts.append(f"'{name}', json_array(NULL, ?::JSON)")
            params.append(json.dumps(v, ensure_ascii=False))
    sql = (f"INSERT INTO audit_log ({', '.join(cs.AUDIT_COLUMNS)})"
           " SELECT nextval('audit_id_seq'), ?, ?, 'create', ?, f.id, f.customer_id, 1,"
           f" json_object({', '.join(parts)})::VARCHAR"
           f" FROM {FOLLOW_UP.table} f WHERE f.id IN (SELECT unnest(?::BIGINT[]))")
    return sql, [row["created_at"], row["created_by"], FOLLOW_UP.name, *params]


def _write_batch(cur, row: Mapping[str, Any], customer_ids: list[int]) -> int:
    """The follow-ups and audit entries of one batch of customers; returns how many."""
    cs.claim_customers(cur, customer_ids)  # a customer merged or archived meanwhile: run again
    sql, params = _insert_sql(row)
    new_ids = [r[0] for r in cur.execute(sql, [*params, customer_ids]).fetchall()]
    sql, params = _audit_sql(row)
    cur.execute(sql, [*params, new_ids])
    return len(new_ids)


def matching_count(db, actor, filters: CustomerFilters) -> int:
    """How many customers a campaign over ``filters`` would reach (for the page to show
    before the user starts it)."""
    where, params = _where(actor, filters)
    with db.read() as cur:
        return cur.execute(f"SELECT count(*) FROM customers c WHERE {where}", params).fetchone()[0]


def _where(actor, filters: CustomerFilters) -> tuple[str, list[Any]]:
    # Customers the actor may change (a campaign writes to each one's file), never an
    # archived one (its file is read-only), whatever the archive filter says.
    where, params = where_clause(actor, filters, action=perm.CUSTOMER_UPDATE)
    return where + " AND NOT c.archived", params


def run_campaign(db, actor, filters: CustomerFilters, values: Mapping[str, Any], cap: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> CampaignResult:
    """Give every customer matching ``filters`` a care follow-up assigned to its owner.

    ``values``: ``campaign_label``, ``followup_summary``, ``followup_due_on`` (required),
    ``followup_next_action``, ``followup_occurred_on`` (default today). ``cap``: the most
    customers allowed (default: the setting ``campaign_max_customers``); above it
    ``CampaignTooLarge`` is raised and nothing is written. ``progress(done, total)`` is
    called as batches are written (again from 0 if the transaction is retried)."""
    perm.require(actor, perm.CAMPAIGN_RUN)
    label, columns = _validate(db, values)
    if cap is None:
        cap = settings.value(db, "campaign_max_customers")
    where, where_params = _where(actor, filters)

    def work(cur):
        total = cur.execute(f"SELECT count(*) FROM customers c WHERE {where}", where_params).fetchone()[0]
        if total > cap:
            raise CampaignTooLarge("error.campaign_too_large", count=total, cap=cap)
        ids = [r[0] for r in cur.execute(f"SELECT c.id FROM customers c WHERE {where} ORDER BY c.id",
                                         where_params).fetchall()]
        row = _row_template(label, columns, actor.username, utcnow())
        done = 0
        if progress:
            progress(0, len(ids))
        for start in range(0, len(ids), BATCH):
            done += _write_batch(cur, row, ids[start:start + BATCH])
            if progress:
                progress(done, len(ids))
        return done

    return CampaignResult(label=label, created=db.run_in_transaction(work))
