"""Import customers from a file (CSV or XLSX): column mapping, a dry run, then one
all-or-nothing transaction.

The journey: ``read_sheet`` (lib.customers.sheets) reads the file; ``suggest_mapping``
maps each column to a declared field (by its name, either label or a synonym from the
declaration, or what this user chose for that heading last time); ``dry_run`` puts
every row through the same validation as the form and reports, without writing
anything, every problem (row, column, value, message), the warnings the user may
confirm for the whole file, rows that look like existing customers or like each other,
and the counts of new, updated, unchanged and failing rows; ``run_import`` does it again
inside one transaction and writes only when no row fails and every warning was
confirmed, so a file is imported whole or not at all (a server killed in the middle
leaves the database as it was: DuckDB never applies an uncommitted transaction).

What a row does:

* Rows are matched to existing customers by code (客户编号) or by USCC, as the user
  chooses. A matched row updates that customer through the write path's own update
  (``customer.apply_update``: permission, validation, version check, audit); a row that
  matches nothing creates a customer, built by ``customer.build_rows`` like the form's
  and inserted in bulk. A code that names no customer is an error (codes are given by
  the system, never by a file).
* In an update, an empty cell leaves the stored value alone (to clear a value, edit
  the customer); a cell equal to the stored value changes nothing, so exporting the
  customers and importing the file again writes nothing.
* List values are matched by code or by either language's label (``金融业``, ``J``,
  ``Finance``); the owner by username.
* The customers matched in the dry run must still be at the versions it read when the
  import runs; otherwise the import is refused (``ConflictError``) and nothing is
  written, so the user looks at the new dry run instead of overwriting a colleague.

The actor needs ``customer.import``; each created or updated customer is also checked
like a single save (``customer.create`` / ``customer.update`` on that customer, and the
field rights such as the credit limit).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence


from lib.accounts import permissions as perm
from lib.core.clock import utcnow
from lib.core.db import note_change
from lib.core.text import formula_safe
from lib.core.errors import (
    ConfirmationRequired,
    ConflictError,
    CustomerMasterError,
    PermissionDenied,
    ValidationError,
)
from lib.customers import bulk
from lib.customers import contacts as ct
from lib.customers import parts
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers.fields import Field
from lib.customers.duplicates import companies_with_name_keys, name_keys
from lib.customers.search import fetch_records
from lib.customers.sheets import Sheet, cell_text
from lib.customers.validation import validate_customer

MATCH_BY = ("code", "uscc")
# What a file holds: customers (created or updated), or contacts added to existing
# customers named by their code (a second sheet or file beside the customers).
CUSTOMERS, CONTACTS = "customers", "contacts"
HOLDS = (CUSTOMERS, CONTACTS)
# ``confirm=ALL_WARNINGS``: accept every warning the file raises (the command line's
# --confirm-warnings); otherwise ``confirm`` names the accepted warning codes.
ALL_WARNINGS = "all"
CODE = "code"  # the mapping's name for the customer code column (a match key, never written)
# Above this many written customers, one "everything changed" note replaces one note per
# customer (the search index rebuilds instead of patching itself row by row).
NOTE_EACH_UP_TO = 2000
# Customers read at once when the dry run looks up matched records.
READ_CHUNK = 1000
# New customers built and inserted at once (within the import's one transaction).
INSERT_CHUNK = 10_000

_HEADER_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def header_key(text: str) -> str:
    """A heading as compared with the declaration's names: NFKC (full-width letters and
    digits as ASCII), case-folded, without spaces, punctuation and required-field stars."""
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", str(text or "")).casefold())


def importable_fields(holds: str = CUSTOMERS, fields: Sequence[Field] | None = None) -> tuple[Field, ...]:
    """The fields a file may set: for a file of customers every declared field of the
    customer and its primary contact (``fields``: the customer's declaration, default
    as it stands now); for a file of contacts the contact's fields."""
    if holds == CONTACTS:
        return F.CONTACT_FIELDS
    if holds != CUSTOMERS:
        raise CustomerMasterError("import.unknown_holds", value=holds)
    return _customer_importable(F.declared(fields))


@F.per_declaration
def _customer_importable(decl: tuple[Field, ...]) -> tuple[Field, ...]:
    return tuple(f for f in decl if f.storage in ("customer", "primary_contact"))


@F.per_declaration
def _known_headings(fields: tuple[Field, ...]) -> dict[str, str]:
    """header_key -> field name (or ``CODE``), from the declaration: names, labels and
    synonyms. The first field to claim a heading keeps it. Derived once per declaration
    (shared: read only); ``read_sheet`` asks for every cell of the top rows."""
    out: dict[str, str] = {}
    code = F.SYSTEM_BY_NAME["code"]
    for h in (code.name, code.label_zh, code.label_en, *code.synonyms):
        out.setdefault(header_key(h), CODE)
    for f in fields:
        for h in (f.name, f.label_zh, f.label_en):
            out.setdefault(header_key(h), f.name)
    for f in fields:  # synonyms after every label: a label wins
        for h in f.synonyms:
            out.setdefault(header_key(h), f.name)
    return out


def names_a_field(heading: str) -> bool:
    """Whether a heading names a field of a customer or a contact, or the code (how
    ``read_sheet`` finds the header row)."""
    key = header_key(heading)
    return bool(key) and any(key in _known_headings(importable_fields(h)) for h in HOLDS)


def suggest_mapping(headers: Sequence[str], remembered: Mapping[str, str] | None = None,
                    holds: str = CUSTOMERS, fields: Sequence[Field] | None = None) -> list[str | None]:
    """For each column, the field it fills (a field name, ``CODE``) or None (not
    imported). What this user chose for the same heading before comes first (an empty
    choice meaning "not imported"), then the declaration's names, labels and synonyms.
    No field is given to two columns: the first column keeps it."""
    declared = importable_fields(holds, fields)
    known = _known_headings(declared)
    valid = {f.name for f in declared} | {CODE}
    remembered = remembered or {}
    out: list[str | None] = []
    taken: set[str] = set()
    for h in headers:
        key = header_key(h)
        # A remembered choice of a field this kind of file does not have (a contact's
        # mobile, in a file of customers) does not count.
        choice = remembered[key] if remembered.get(key) in valid or remembered.get(key) == "" else known.get(key)
        if choice not in valid or choice in taken:
            choice = None
        if choice:
            taken.add(choice)
        out.append(choice)
    return out


def check_mapping(mapping: Sequence[str | None], headers: Sequence[str], holds: str = CUSTOMERS,
                  fields: Sequence[Field] | None = None) -> None:
    """Refuse a mapping that names an unknown field or gives one field two columns."""
    valid = {f.name for f in importable_fields(holds, fields)} | {CODE}
    if len(mapping) != len(headers):
        raise CustomerMasterError("import.mapping_width")
    seen: dict[str, str] = {}
    for name, heading in zip(mapping, headers):
        if not name:
            continue
        if name not in valid:
            raise CustomerMasterError("import.mapping_unknown", field=name)
        if name in seen:
            raise CustomerMasterError("import.mapping_twice", field=F.label(name, "en") if name != CODE else name,
                                      first=seen[name], second=heading)
        seen[name] = heading


# -- remembered choices -------------------------------------------------------------------
def remembered_mapping(db, username: str) -> dict[str, str]:
    """What ``username`` mapped each heading to in earlier imports (header_key -> field
    name, "" for "not imported")."""
    with db.read() as cur:
        rows = cur.execute("SELECT heading, field FROM import_heading_choices WHERE username = ?",
                           [username]).fetchall()
    return {h: f for h, f in rows}


def remember_mapping(db, username: str, headers: Sequence[str], mapping: Sequence[str | None]) -> None:
    """Keep this user's choice for each heading for their next import (a preference,
    not customer data: not audited)."""
    now = utcnow()
    rows = [(username, header_key(h), m or "", now) for h, m in zip(headers, mapping) if header_key(h)]
    if not rows:
        return

    def work(cur):
        cur.executemany("INSERT OR REPLACE INTO import_heading_choices VALUES (?, ?, ?, ?)", rows)

    db.run_in_transaction(work)


# -- the dry run ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RowProblem:
    """One problem of one row: ``column`` is the file's heading, ``value`` what the cell
    held, ``key``/``params`` the message (``lib.core.i18n``). ``warning``: the user may
    confirm it (``code``) for the whole file."""

    row: int
    column: str
    value: str
    key: str
    params: dict = field(default_factory=dict)
    warning: bool = False
    code: str | None = None


@dataclass(frozen=True)
class Lookalike:
    """A row that looks like an existing customer (``code``) or like another row of the
    file (``other_row``): ``reason`` is phone | name (the same name) | similar_name (the
    same company name once case, width, punctuation, legal suffix and city are set
    aside: ``lib.customers.duplicates.name_keys``)."""

    row: int
    reason: str
    code: str | None = None
    name: str | None = None
    other_row: int | None = None


@dataclass
class Outcome:
    """What a dry run found (or an import did)."""

    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failing: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    lookalikes: list[Lookalike] = field(default_factory=list)
    warnings: dict[str, int] = field(default_factory=dict)  # warning code -> rows
    unconfirmed: dict[str, int] = field(default_factory=dict)  # of those, not confirmed
    versions: dict[int, int] = field(default_factory=dict)  # matched customer id -> version read
    codes: list[str] = field(default_factory=list)  # codes created (after an import)
    unmapped: list[str] = field(default_factory=list)  # headings not imported

    @property
    def clean(self) -> bool:
        """Nothing fails and every warning is confirmed: the import may run."""
        return self.failing == 0 and not self.unconfirmed


def _problem(number: int, column: str, value: str, key: str, /, **params) -> RowProblem:
    """An error of row ``number`` (message ``key`` with its parameters)."""
    return RowProblem(number, column, value, key, params)


@dataclass
class _Row:
    number: int
    values: dict[str, Any]  # field name -> text as typed (blank cells left out)
    raw: dict[str, str]  # field name -> the heading it came from
    code: str | None = None  # the code cell, if mapped
    target: dict | None = None  # the matched stored record
    clean: Any = None  # CleanCustomer of a new customer
    action: str = "error"  # new | update | unchanged | error


def _values(sheet: Sheet, mapping: Sequence[str | None]) -> Iterable[_Row]:
    cols = [(j, name, sheet.headers[j] or f"#{j + 1}") for j, name in enumerate(mapping) if name]
    for number, cells in sheet.rows:
        values, raw, code = {}, {}, None
        for j, name, heading in cols:
            text = cell_text(cells[j])
            if text is None or not text.strip():
                continue
            if name == CODE:
                code = text.strip().upper()
            else:
                values[name] = text
            raw[name] = heading
        if not values and code is None:
            continue  # a row whose mapped cells are all empty (a note beside the table)
        yield _Row(number, values, raw, code)


def _uscc_key(text: str | None) -> str | None:
    return re.sub(r"[\s-]", "", text).upper() if text else None


def _existing(cur, rows: list[_Row], match_by: str) -> dict[str, dict]:
    """Stored live customers the rows name, by code or USCC key -> record (with the
    primary contact's fields)."""
    keys = sorted({r.code for r in rows if r.code} if match_by == "code"
                  else {k for r in rows if (k := _uscc_key(r.values.get("uscc")))})
    all_ids = cs.live_ids_by(cur, "code" if match_by == "code" else "uscc_key", keys)
    out: dict[str, dict] = {}
    for i in range(0, len(all_ids), READ_CHUNK):
        ids = all_ids[i:i + READ_CHUNK]
        records = fetch_records(cur, ids)
        cs.merge_primary_contacts(records, cs.primary_contact_rows(cur, ids))
        for rec in records:
            out[rec["code"] if match_by == "code" else rec["uscc"]] = rec
    return out


def _problems_of(exc: ValidationError, row: _Row, warning: bool) -> list[RowProblem]:
    out = []
    for p in exc.problems:
        heading = row.raw.get(p.field, F.label(p.field, "zh"))
        out.append(RowProblem(row.number, heading, str(row.values.get(p.field, ""))[:200], p.key,
                              dict(p.params), warning, p.code if warning else None))
    return out


class _Planner:
    """Puts each row through validation and matching, inside one transaction (a read
    for the dry run, the import's own for the import)."""

    def __init__(self, db, actor, match_by: str, confirm: Iterable[str] | str, fields: Sequence[Field] | None,
                 holds: str = CUSTOMERS):
        if match_by not in MATCH_BY:
            raise CustomerMasterError("import.unknown_match_by", value=match_by)
        importable_fields(holds)  # refuses an unknown kind of file
        self.holds = holds
        self.actor = actor
        self.match_by = match_by
        self.confirm_all = confirm == ALL_WARNINGS
        self.confirm = set() if self.confirm_all else set(confirm)
        self.fields = F.CONTACT_FIELDS if holds == CONTACTS else F.declared(fields)
        self.ctx = cs.validation_context(db)
        self.defaults = cs.new_customer_defaults(actor, self.fields)

    def plan(self, cur, sheet: Sheet, mapping: Sequence[str | None],
             progress: Callable[[int, int], None] | None = None) -> tuple[list[_Row], Outcome]:
        out = Outcome(unmapped=[h or f"#{j + 1}" for j, (h, m) in enumerate(zip(sheet.headers, mapping))
                                if not m and (h or any(c[j] is not None for _, c in sheet.rows[:50]))])
        rows = list(_values(sheet, mapping))
        out.rows = len(rows)
        if self.holds == CONTACTS:
            return rows, self._plan_contacts(cur, rows, out, progress)
        existing = _existing(cur, rows, self.match_by)
        seen_code: dict[str, int] = {}
        seen_uscc: dict[str, int] = {}
        for i, row in enumerate(rows):
            problems: list[RowProblem] = []
            key = row.code if self.match_by == "code" else _uscc_key(row.values.get("uscc"))
            first = (seen_code if self.match_by == "code" else seen_uscc).get(key) if key else None
            if key and first is not None:
                problems.append(_problem(row.number, row.raw.get(CODE if self.match_by == "code" else "uscc", ""),
                                         key, "import.twice_in_file", row=first))
            elif key:
                (seen_code if self.match_by == "code" else seen_uscc)[key] = row.number
            row.target = existing.get(key) if key else None
            if not problems and self.match_by == "code" and row.code and row.target is None:
                problems.append(_problem(row.number, row.raw[CODE], row.code, "import.no_such_code", code=row.code))
            if not problems:
                problems = self._validate(cur, row)
            out.problems += problems
            if any(not p.warning for p in problems):
                row.action = "error"
            if progress and (i % 1000 == 0 or i == len(rows) - 1):
                progress(i + 1, len(rows))
        # A new or changed USCC must be free, in the database and in the file (matching by
        # USCC, a second row with the same USCC was refused above, and a matched row keeps
        # its USCC). One join for the whole file, not a look-up per row.
        if self.match_by == "code":
            claims = [(row, row.clean.customer.get("uscc"), row.target["id"] if row.target else None)
                      for row in rows if row.action in ("new", "update") and row.clean is not None
                      and row.clean.customer.get("uscc")
                      and (row.target is None or row.clean.customer.get("uscc") != row.target.get("uscc"))]
            held = cs.uscc_holders(cur, [uscc for _, uscc, _ in claims])
            for row, uscc, own in claims:
                holder = held.get(uscc)
                if holder and holder[0] != own:
                    problem = _problem(row.number, row.raw.get("uscc", ""), uscc, "error.duplicate_uscc",
                                       uscc=uscc, code=holder[1])
                elif uscc in seen_uscc:
                    problem = _problem(row.number, row.raw.get("uscc", ""), uscc, "import.twice_in_file",
                                       row=seen_uscc[uscc])
                else:
                    seen_uscc[uscc] = row.number
                    continue
                out.problems.append(problem)
                row.action = "error"
        out.versions = {row.target["id"]: row.target["version"] for row in rows
                        if row.target is not None and row.action in ("update", "unchanged")}
        out.lookalikes = _lookalikes(cur, [r for r in rows if r.action == "new"])
        return rows, self._summed(out, rows)

    def _summed(self, out: Outcome, rows: list[_Row]) -> Outcome:
        """The counts of ``out`` from each row's action and the warnings among its
        problems (the same for a file of customers and a file of contacts)."""
        actions = Counter(r.action for r in rows)
        out.new, out.updated, out.unchanged = actions["new"], actions["update"], actions["unchanged"]
        out.failing = actions["error"]
        warned = Counter(p.code for p in out.problems if p.warning)
        out.warnings = dict(warned)
        out.unconfirmed = {} if self.confirm_all else {c: n for c, n in warned.items() if c not in self.confirm}
        out.problems.sort(key=lambda p: (p.row, p.warning))
        return out

    def _plan_contacts(self, cur, rows: list[_Row], out: Outcome,
                       progress: Callable[[int, int], None] | None) -> Outcome:
        """A file of contacts: each row adds a contact to the existing customer its code
        names, validated as the contact form validates one."""
        existing = _existing(cur, rows, "code")
        for i, row in enumerate(rows):
            problems: list[RowProblem] = []
            rec = existing.get(row.code) if row.code else None
            if not row.code:
                problems.append(_problem(row.number, "", "", "import.code_required"))
            elif rec is None:
                problems.append(_problem(row.number, row.raw[CODE], row.code, "import.no_such_code", code=row.code))
            elif rec["archived"]:
                problems.append(_problem(row.number, row.raw[CODE], row.code, "error.archived", code=row.code))
            elif not perm.can(self.actor, perm.CUSTOMER_UPDATE, rec):
                problems.append(_problem(row.number, row.raw[CODE], row.code, "import.may_not_change", code=row.code))
            else:
                row.target = rec
                try:
                    clean = self._validated(row, problems)
                    row.clean = dict(clean.tables.get("contact", {}))
                    row.action = "new"
                except ValidationError as exc:
                    problems += _problems_of(exc, row, False)
            out.problems += problems
            if progress and (i % 1000 == 0 or i == len(rows) - 1):
                progress(i + 1, len(rows))
        return self._summed(out, rows)

    def _validate(self, cur, row: _Row) -> list[RowProblem]:
        """Validate one row as the form or the grid would; sets ``row.action`` (and
        ``row.clean`` for a new customer). Warnings are reported, and the row is
        validated as if they were confirmed, so its other errors show too."""
        problems: list[RowProblem] = []
        rec = row.target
        if rec is not None:
            if rec["archived"]:
                return [_problem(row.number, row.raw.get(CODE, row.raw.get("uscc", "")), rec["code"],
                                 "error.archived", code=rec["code"])]
            if not perm.can(self.actor, perm.CUSTOMER_UPDATE, rec):
                return [_problem(row.number, row.raw.get(CODE, row.raw.get("uscc", "")), rec["code"],
                                 "import.may_not_change", code=rec["code"])]
            current = {f.name: rec.get(f.name) for f in self.fields}
            try:
                clean = self._validated(row, problems, current=current)
            except ValidationError as exc:
                return problems + _problems_of(exc, row, False)
            before = cs.audit_values(current, self.fields)
            after = cs.audit_values(clean.field_values(), self.fields)
            diff = [k for k in after if before[k] != after[k]]
            try:
                cs.check_field_permissions(self.actor, diff, rec)
                if "owner" in diff:
                    cs.check_field_permissions(self.actor, ["owner"], {"owner": after["owner"]})
            except PermissionDenied as exc:
                return problems + [RowProblem(row.number, row.raw.get(exc.params.get("field", ""), ""),
                                              "", exc.key, dict(exc.params))]
            row.action = "update" if diff else "unchanged"
            row.clean = clean
            return problems
        if not perm.can(self.actor, perm.CUSTOMER_CREATE):
            return [_problem(row.number, "", "", "error.permission_denied")]
        values = dict(row.values)
        if "owner" in self.defaults and not values.get("owner"):
            values["owner"] = self.defaults["owner"]
        set_fields = [k for k, v in values.items() if not (k in self.defaults and v == self.defaults[k])]
        try:
            cs.check_field_permissions(self.actor, set_fields, {"owner": values.get("owner")})
        except PermissionDenied as exc:
            name = exc.params.get("field", "")
            return [RowProblem(row.number, row.raw.get(name, ""), str(values.get(name, ""))[:200], exc.key,
                               dict(exc.params))]
        try:
            row.clean = self._validated(row, problems, values=values)
        except ValidationError as exc:
            return problems + _problems_of(exc, row, False)
        row.action = "new"
        return problems

    def _validated(self, row: _Row, problems: list[RowProblem], *, current=None, values=None):
        values = row.values if values is None else values
        try:
            return validate_customer(values, self.ctx, current=current, fields=self.fields)
        except ConfirmationRequired as exc:
            problems += _problems_of(exc, row, True)
            return validate_customer(values, self.ctx, current=current, fields=self.fields, confirm=exc.codes)


def _lookalikes(cur, rows: list[_Row]) -> list[Lookalike]:
    """New rows that look like existing customers (same company or contact phone, same
    name) or like another new row of the file (same phone or name)."""
    out: list[Lookalike] = []
    if not rows:
        return out
    phones: dict[str, list[int]] = defaultdict(list)
    names: dict[str, list[int]] = defaultdict(list)
    # Companies by the duplicate finder's name key: 北京某某科技有限公司 and
    # 某某科技（北京）股份有限公司 are one company (people share names: not compared).
    similar: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        c, p = r.clean.customer, r.clean.contact
        for e164 in {c.get("phone_e164"), p.get("phone_e164")} - {None}:
            phones[e164].append(r.number)
        names[c["name"].casefold()].append(r.number)
        if c.get("customer_type") == "company":
            similar[name_keys(c["name"]).name_key].append(r.number)
    same_name = {n: numbers[0] for numbers in names.values() for n in numbers[1:]}
    for key, numbers, reason in [*((k, v, "phone") for k, v in phones.items()),
                                 *((k, v, "name") for k, v in names.items()),
                                 *((k, v, "similar_name") for k, v in similar.items())]:
        for n in numbers[1:]:
            if reason != "similar_name" or same_name.get(n) != numbers[0]:
                out.append(Lookalike(n, reason, other_row=numbers[0]))
    for e164, code, name in cs.with_phones(cur, phones):
        for n in phones[e164]:
            out.append(Lookalike(n, "phone", code=code, name=name))
    for low, code, name in cs.with_names(cur, names):
        for n in names.get(low, ()):
            out.append(Lookalike(n, "name", code=code, name=name))
    exact = {(x.row, x.code) for x in out if x.reason == "name"}
    for key, code, name in companies_with_name_keys(cur, similar):
        for n in similar[key]:
            if (n, code) not in exact:
                out.append(Lookalike(n, "similar_name", code=code, name=name))
    unique = {(x.row, x.reason, x.code, x.other_row): x for x in out}
    return sorted(unique.values(), key=lambda x: (x.row, x.reason))


def dry_run(db, actor, sheet: Sheet, mapping: Sequence[str | None], *, match_by: str = "code",
            confirm: Iterable[str] | str = (), holds: str = CUSTOMERS, fields: Sequence[Field] | None = None,
            progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Everything ``run_import`` would do, written nowhere."""
    perm.require(actor, perm.CUSTOMER_IMPORT)
    check_mapping(mapping, sheet.headers, holds, fields)
    planner = _Planner(db, actor, match_by, confirm, fields, holds)
    with db.read() as cur:
        _, out = planner.plan(cur, sheet, mapping, progress)
    return out


def run_import(db, actor, sheet: Sheet, mapping: Sequence[str | None], *, match_by: str = "code",
               confirm: Iterable[str] | str = (), expected: Mapping[int, int] | None = None,
               holds: str = CUSTOMERS, fields: Sequence[Field] | None = None, source: str = "",
               progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Import the file in one transaction, or nothing.

    Every row is checked again inside the transaction. Nothing is written (and the
    outcome is returned with ``clean`` False) when a row fails or a warning is not in
    ``confirm``. ``expected`` (the dry run's ``versions``) must equal the versions found
    now, else ``ConflictError``: someone changed a customer of the file since the dry
    run. ``source`` (the file name) goes into the import's own audit entry. A file of
    contacts (``holds=CONTACTS``) adds each row as a contact of the customer its code
    names, through the contacts' write path."""
    perm.require(actor, perm.CUSTOMER_IMPORT)
    check_mapping(mapping, sheet.headers, holds, fields)
    planner = _Planner(db, actor, match_by, confirm, fields, holds)
    settings = db.settings()
    with db.transaction() as cur:
        rows, out = planner.plan(cur, sheet, mapping, progress)
        if not out.clean:
            return out
        if expected is not None and dict(expected) != out.versions:
            raise ConflictError("import.changed_since_dry_run")
        now = utcnow()
        if holds == CONTACTS:
            for row in rows:
                parts.add_part_in(cur, actor, ct.CONTACT, row.target["id"], row.clean)
            written = 0
        else:
            written = _insert_new(cur, actor, [r for r in rows if r.action == "new"], settings, now, out)
        for row in rows:
            if row.action == "update":
                rec = row.target
                cs.apply_update(cur, actor, rec["id"], row.values, rec["version"], fields=planner.fields,
                                ctx=planner.ctx, confirm=set(out.warnings))
                written += 1
        if written >= NOTE_EACH_UP_TO:
            note_change(cur, cs.CHANGES)  # many customers at once: the search index rebuilds
        cs.append_audit(cur, now=now, actor=actor.username, action="import", customer_id=None, version=None,
                        entity="import", entity_id=0,
                        changes={"file": source, "holds": holds, "match_by": match_by, "rows": out.rows, "new": out.new,
                                 "updated": out.updated, "unchanged": out.unchanged})
    return out


def _insert_new(cur, actor, rows: list[_Row], settings: Mapping[str, str], now, out: Outcome) -> int:
    """Insert the new customers (rows, primary contacts, audit entries) in bulk: each
    built by ``customer.build_rows``, as ``create_customer`` builds one. In chunks, each
    row's validated values let go once built, so the built rows of a whole file never
    sit in memory at once."""
    if not rows:
        return 0
    n = len(rows)
    ids = bulk.reserve(cur, "customer_id_seq", n)
    seqs = bulk.reserve(cur, "customer_code_seq", n)
    contact_ids = bulk.reserve(cur, "contact_id_seq", n)
    audit_ids = bulk.reserve(cur, "audit_id_seq", n)
    schemas = bulk.customer_schema(), bulk.contact_schema(), bulk.audit_schema()
    for lo in range(0, n, INSERT_CHUNK):
        customers, contacts, audits = [], [], []
        for i in range(lo, min(lo + INSERT_CHUNK, n)):
            row = rows[i]
            code = cs.format_code(seqs[i], now, settings)
            rec, contact, audit = cs.build_rows(row.clean, customer_id=ids[i], code=code, contact_id=contact_ids[i],
                                                audit_id=audit_ids[i], actor=actor.username, now=now)
            row.clean = None
            customers.append(rec)
            if contact:
                contacts.append(contact)
            audits.append(audit)
            out.codes.append(code)
        for table, built, schema in zip(("customers", "contacts", "audit_log"), (customers, contacts, audits), schemas):
            bulk.insert(cur, table, bulk.table(built, schema))
    if n < NOTE_EACH_UP_TO:
        for cid in ids:
            note_change(cur, cs.CHANGES, cid)
    return n


def problem_rows(out: Outcome, lang: str) -> list[dict[str, Any]]:
    """The dry run's problems as table rows in ``lang`` (row, column, value, message,
    warning), for the page and the downloadable report."""
    from lib.core.i18n import t

    return [{"row": p.row, "column": p.column, "value": p.value,
             "message": t(p.key, lang, **{k: (F.label(v, lang) if k == "field" else v) for k, v in p.params.items()}),
             "warning": p.warning} for p in out.problems]



PROBLEM_COLUMNS = ("row", "column", "value", "message", "warning")


def problem_report_csv(out: Outcome, lang: str) -> bytes:
    """The dry run's problems as a CSV file for Excel (UTF-8 with BOM), headings in
    ``lang``; cells that a spreadsheet would read as formulas are neutralised."""
    import csv
    import io

    from lib.core.i18n import t

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([t(f"import.col.{c}", lang) for c in PROBLEM_COLUMNS])
    kinds = {True: t("import.warning", lang), False: t("import.error", lang)}
    for p in problem_rows(out, lang):
        w.writerow([formula_safe(v) for v in (p["row"], p["column"], p["value"], p["message"], kinds[p["warning"]])])
    return buf.getvalue().encode("utf-8-sig")
