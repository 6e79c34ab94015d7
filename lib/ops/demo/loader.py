"""Demo customers loaded through a bulk path.

Why a separate path at all: ``create_customer`` commits one customer per transaction
(~4 ms each), so a million would take over an hour. The bulk path still builds every
record with the write path's own pieces — ``validate_customer`` with the context of
``customers.validation_context(db)`` and ``customers.build_rows`` — so what it stores
is what the form would have stored; only the timestamps (spread over three years), the
creator and the last review differ, because a demo base needs a history.
tests/test_demo.py holds the two paths to that.

Why workers: validating and building a customer (phone and e-mail parsing, pinyin) costs
~0.3 ms, several minutes for a million on one core. Chunk ``k`` is built from
``Random(seed, k)`` and the global index only, so the same seed and count give the same
rows whatever the number of workers; the main process only reserves numbers from the
sequences and inserts the Arrow tables the workers send back, in transactions of
``COMMIT_EVERY`` customers.

Codes and ids come from the database sequences (reserved in one query per sequence;
the ids of follow-ups, other contacts, relationships, files and their audit entries per
chunk, in chunk order, since only the built chunk knows how many there are), so a
customer or part created through the app after a bulk load never gets an id twice.
"""
from __future__ import annotations

import collections
import concurrent.futures
import itertools
import math
import multiprocessing
import random
import time
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

import pyarrow as pa


from lib.core.db import note_change
from lib.core.errors import ConfirmationRequired, ValidationError
from lib.customers import bulk
from lib.customers import contacts as ct
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers import files as fl
from lib.customers import followups as fu
from lib.customers import parts
from lib.customers import relationships as rel
from lib.customers.kinds import ValidationContext
from lib.customers.validation import validate_customer
from lib.ops.demo.generator import (
    CHUNK_SIZE,
    DemoPlan,
    DemoShares,
    DemoStats,
    demo_pdf,
    make_plan,
    mobile,
    chunk_inputs,
)

# Customers per transaction. One transaction for a million held ~2.8 GB in the parent
# (DuckDB keeps uncommitted rows' index entries in memory); 100,000 held ~1.2 GB and
# loaded as fast; a commit per 10,000-row chunk took 2.5 times as long.
COMMIT_EVERY = 100_000

# Arrow types come from the write paths (lib.customers.customer, lib.customers.followups),
# which derive them from the declarations (lib.customers.bulk).
CUSTOMER_SCHEMA = bulk.schema(cs.customer_columns())
CONTACT_SCHEMA = bulk.schema(ct.contact_columns())  # primary and other contacts
AUDIT_SCHEMA = bulk.schema(cs.AUDIT_COLUMN_TYPES)
FOLLOWUP_SCHEMA = bulk.schema(fu.followup_columns())
_EMPTY_CONTACT = dict.fromkeys(CONTACT_SCHEMA.names)
RELATIONSHIP_SCHEMA = bulk.schema(rel.relationship_columns())
FILE_SCHEMA = bulk.schema(fl.file_columns())
BLOB_SCHEMA = bulk.schema(fl.BLOB_COLUMN_TYPES)

# The parts a chunk adds besides customers and primary contacts, in the order their ids
# are taken: (result key, table, id sequence, column of the blob naming the part).
# A worker numbers each kind's rows 0, 1, … (and their audit rows, in this order of
# kinds); the main process swaps those for numbers from the sequences.
PARTS = (("more_contacts", "contacts", ct.CONTACT.id_seq),
         ("relationships", "relationships", rel.RELATIONSHIP.id_seq),
         ("files", "attachments", fl.FILE.id_seq))


# -- building rows (runs in the workers) ----------------------------------------------------
_WORKER_PLAN: DemoPlan | None = None


def _init_worker(plan: DemoPlan) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = plan


def _validated(ctx: ValidationContext, rng: random.Random, values: Mapping[str, Any],
               fields: Sequence[F.Field] | None = None):
    """Validate like the form does. The generator only makes valid numbers, but if
    phonenumbers' metadata ever disagrees, replace the phone with a mobile rather than
    load a record the form would have questioned."""
    phones = {f.name for f in F.declared(fields) if f.kind == "phone"}
    for _ in range(5):
        try:
            return validate_customer(values, ctx, fields=fields)
        except (ConfirmationRequired, ValidationError) as exc:
            problems = {p.field for p in exc.problems}
            if not problems <= phones:
                raise
            values = dict(values, **{f: mobile(rng) for f in problems})
    raise AssertionError("generated phone numbers keep failing validation")


def build_chunk(plan: DemoPlan, chunk: int, customer_ids: Sequence[int], code_seqs: Sequence[int],
                contact_ids: Sequence[int], audit_ids: Sequence[int]) -> dict[str, Any]:
    """Validate and build one chunk; returns Arrow tables ready to insert (the parts of
    ``PARTS`` and their audit rows numbered from 0: see ``_number``)."""
    ctx = ValidationContext(lists=plan.lists, usernames=plan.usernames)
    fix_rng = random.Random(f"demo-fix:{plan.seed}:{chunk}")
    items = chunk_inputs(plan, chunk, code_seqs)
    customers, contacts, audits, activities = [], [], [], []
    more = {key: [] for key, _, _ in PARTS}
    more_audit = {key: [] for key, _, _ in PARTS}
    blobs = []
    for k, item in enumerate(items):
        clean = _validated(ctx, fix_rng, item.values)
        code = cs.format_code(int(code_seqs[k]), item.created_at, plan.settings)
        row, contact, audit = cs.build_rows(
            clean, customer_id=int(customer_ids[k]), code=code, contact_id=int(contact_ids[k]),
            audit_id=int(audit_ids[k]), actor=item.created_by, now=item.created_at)
        row.update(updated_at=item.reviewed_at, updated_by=item.reviewed_by, reviewed_at=item.reviewed_at)
        customers.append(row)
        if contact:  # the columns only other contacts fill (department, mobile, …) empty
            contacts.append({**_EMPTY_CONTACT, **contact})
        audits.append(audit)
        for act in item.activities:
            activities.append(_followup_row(ctx, act, row["id"]))
        cid = row["id"]
        mine = []
        for c in item.contacts:  # as contacts.add_contact stores them
            values = _validated(ctx, fix_rng, c["values"], F.CONTACT_FIELDS).tables[ct.CONTACT.name]
            part = _part(more, more_audit, ct.CONTACT, parts.initial_values(ct.CONTACT, values), cid, c)
            mine.append(part)
        if mine:  # add_contact rebuilds the search text from all the customer's contacts
            row["search_text"] = cs.record_search_text(row, [contact, *mine], clean.fields)
        for link in item.links:  # as relationships.link stores them: audited on both sides
            values = validate_customer(link["values"], ctx, fields=F.RELATIONSHIP_FIELDS).tables[rel.RELATIONSHIP.name]
            other = int(customer_ids[link["to_offset"]])
            after = parts.initial_values(rel.RELATIONSHIP, values, {"to_customer": other})
            part = _part(more, more_audit, rel.RELATIONSHIP, after, cid, link)
            mirror = parts.Write(None, None, {"id": cid}, None, after, "create", link["created_at"], part["id"])
            more_audit["relationships"].append(cs.audit_row(
                0, now=link["created_at"], actor=link["created_by"], action="create", customer_id=other, version=1,
                changes=rel.mirror_changes(mirror), entity=rel.RELATIONSHIP.name, entity_id=part["id"]))
        for f in item.files:  # as files.add_file stores them, bytes in attachment_blobs
            data = demo_pdf(code, f["values"]["file_kind"])
            values = validate_customer(f["values"], ctx, fields=F.FILE_FIELDS).tables[fl.FILE.name]
            after = parts.initial_values(fl.FILE, values, fl.system_values(f["filename"], data))
            part = _part(more, more_audit, fl.FILE, after, cid, f)
            blobs.append({"attachment_id": part["id"], "content": data})
    out = {
        "chunk": chunk,
        "customers": bulk.table(customers, CUSTOMER_SCHEMA),
        "contacts": bulk.table(contacts, CONTACT_SCHEMA),
        "audit": bulk.table(audits, AUDIT_SCHEMA),
        "activities": bulk.table(activities, FOLLOWUP_SCHEMA),
        "more_contacts": bulk.table(more["more_contacts"], CONTACT_SCHEMA),
        "relationships": bulk.table(more["relationships"], RELATIONSHIP_SCHEMA),
        "files": bulk.table(more["files"], FILE_SCHEMA),
        "blobs": bulk.table(blobs, BLOB_SCHEMA),
        "first_code": customers[0]["code"] if customers else None,
        "last_code": customers[-1]["code"] if customers else None,
    }
    out.update({f"{key}_audit": bulk.table(more_audit[key], AUDIT_SCHEMA) for key, _, _ in PARTS})
    return out


_KEYS = {ct.CONTACT.name: "more_contacts", rel.RELATIONSHIP.name: "relationships", fl.FILE.name: "files"}


def _part(rows: dict, audits: dict, kind: parts.PartKind, after: dict, customer_id: int,
          given: Mapping[str, Any]) -> dict:
    """A new part's row (numbered within the chunk) and its audit row, as ``add_part``
    builds them; the generator says who added it when."""
    key = _KEYS[kind.name]
    row = parts.new_row(kind, after, part_id=len(rows[key]), customer_id=customer_id, actor=given["created_by"],
                        now=given["created_at"])
    rows[key].append(row)
    audits[key].append(cs.audit_row(0, now=row["created_at"], actor=row["created_by"], action="create",
                                    customer_id=customer_id, version=1, changes=parts.created_changes(kind, row),
                                    entity=kind.name, entity_id=row["id"]))
    return row


def _followup_row(ctx: ValidationContext, act: Mapping[str, Any], customer_id: int) -> dict[str, Any]:
    """A generated follow-up as the write path stores it: its values validated against
    the declaration, the columns the write path sets taken from the generator. The id
    is filled in by the main process, from the sequence."""
    clean = validate_customer(act["values"], ctx, fields=F.FOLLOWUP_FIELDS)
    row = {col: clean.tables[fu.FOLLOW_UP.name].get(col) for col in fu.FOLLOW_UP.value_columns()}
    row.update(fu.FOLLOW_UP.system_defaults or {})
    row.update({k: v for k, v in act.items() if k != "values"})
    row.update(id=0, customer_id=customer_id, deleted=False)
    return row


def _build_task(task: tuple) -> dict[str, Any]:
    assert _WORKER_PLAN is not None
    return build_chunk(_WORKER_PLAN, *task)


# -- the main process -----------------------------------------------------------------------
def _insert_parts(cur, result: dict[str, Any]) -> dict[str, int]:
    """Insert a chunk's other contacts, relationships and files (with the files' bytes)
    and their audit rows, numbered from the sequences in that order. Returns the count
    of each."""
    counts, audits = {}, []
    for key, table, sequence in PARTS:
        rows, audit = result[key], result[f"{key}_audit"]
        counts[key] = rows.num_rows
        if not rows.num_rows:
            continue
        ids = bulk.reserve(cur, sequence, rows.num_rows)
        bulk.insert(cur, table, bulk.numbered(rows, "id", ids))
        if key == "files":
            bulk.insert(cur, "attachment_blobs", bulk.numbered(result["blobs"], "attachment_id", ids))
        audits.append(bulk.numbered(audit, "entity_id", ids))
    if audits:
        audit = pa.concat_tables(audits)
        ids = bulk.reserve(cur, "audit_id_seq", audit.num_rows)
        bulk.insert(cur, "audit_log", audit.set_column(0, "id", pa.array(ids, pa.int64())))
    return counts


def generate(db, customers: int, seed: int = 42, activities: bool = True,
             progress: Callable[[int, int], None] | None = None, *, now: datetime | None = None,
             workers: int | None = None, chunk_size: int = CHUNK_SIZE, shares: DemoShares | None = None) -> DemoStats:
    """Generate ``customers`` demo customers (with contacts, audit entries and follow-up
    records; for a share of them more contacts, relationships to other customers and
    small PDF files, audited like their write paths audit them) and load them in
    transactions of ``COMMIT_EVERY`` customers. Each customer is stored whole (row,
    contacts, links, files, audit entries) or not at all; an interrupted load keeps the
    transactions committed before it.

    The same seed, count, ``now`` and database state give identical rows, whatever
    ``workers`` is. ``progress(done, total)`` is called after each chunk."""
    started = time.monotonic()
    stats = DemoStats()
    if customers <= 0:
        return stats
    plan = make_plan(db, customers, seed, now=now, activities=activities, chunk_size=chunk_size, shares=shares)
    with db.transaction() as cur:  # nextval writes the sequences
        customer_ids = bulk.reserve(cur, "customer_id_seq", customers)
        code_seqs = bulk.reserve(cur, "customer_code_seq", customers)
        contact_ids = bulk.reserve(cur, "contact_id_seq", customers)
        audit_ids = bulk.reserve(cur, "audit_id_seq", customers)
    n_chunks = math.ceil(customers / chunk_size)
    tasks = []
    for chunk in range(n_chunks):
        lo, hi = chunk * chunk_size, min((chunk + 1) * chunk_size, customers)
        tasks.append((chunk, customer_ids[lo:hi], code_seqs[lo:hi], contact_ids[lo:hi], audit_ids[lo:hi]))
    del customer_ids, code_seqs, contact_ids, audit_ids
    workers = workers if workers is not None else (2 if n_chunks > 1 else 1)
    workers = max(1, min(workers, n_chunks))
    stats.workers = workers

    results = _results(plan, tasks, workers)
    done, more = 0, True
    while more:  # one transaction per COMMIT_EVERY customers
        with db.transaction() as cur:
            uncommitted, more = 0, False
            for result in results:
                bulk.insert(cur, "customers", result["customers"])
                note_change(cur, cs.CHANGES)  # many customers at once: indexes rebuild
                bulk.insert(cur, "contacts", result["contacts"])
                bulk.insert(cur, "audit_log", result["audit"])
                acts = result["activities"]
                if acts.num_rows:
                    ids = bulk.reserve(cur, "follow_up_id_seq", acts.num_rows)
                    acts = acts.set_column(acts.schema.get_field_index("id"), "id", pa.array(ids, pa.int64()))
                    bulk.insert(cur, "follow_ups", acts)
                counts = _insert_parts(cur, result)
                stats.customers += result["customers"].num_rows
                stats.contacts += result["contacts"].num_rows + counts["more_contacts"]
                stats.activities += acts.num_rows
                stats.relationships += counts["relationships"]
                stats.files += counts["files"]
                stats.first_code = stats.first_code or result["first_code"]
                stats.last_code = result["last_code"] or stats.last_code
                done += result["customers"].num_rows
                uncommitted += result["customers"].num_rows
                if progress:
                    progress(done, customers)
                if uncommitted >= COMMIT_EVERY:
                    more = True
                    break
    db.checkpoint()  # fold the load into the file now rather than on the next start
    stats.seconds = time.monotonic() - started
    return stats


def _results(plan: DemoPlan, tasks: list[tuple], workers: int) -> Iterable[dict[str, Any]]:
    """Built chunks in order. With workers, at most two chunks per worker wait in memory,
    so a million customers never sit in the parent at once."""
    if workers == 1:
        for task in tasks:
            yield build_chunk(plan, *task)
        return
    # spawn, not fork: the parent holds an open DuckDB connection and its threads. An
    # executor (unlike multiprocessing.Pool) fails loudly if a worker dies.
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                                initargs=(plan,)) as pool:
        pending: collections.deque = collections.deque()
        queue = iter(tasks)
        try:
            for task in itertools.islice(queue, 2 * workers):
                pending.append(pool.submit(_build_task, task))
            while pending:
                result = pending.popleft().result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append(pool.submit(_build_task, nxt))
                yield result
        finally:
            for future in pending:
                future.cancel()
