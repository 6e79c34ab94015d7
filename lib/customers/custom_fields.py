"""Fields an administrator adds to the customer (字段自定义), without code or restart.

A custom field is a row of ``custom_fields`` (migration 14) and a column ``cf_<key>`` of
``customers``, added by ``ALTER TABLE`` in the same transaction as the row and its audit
entry. ``to_field`` turns the row into an ordinary ``lib.customers.fields.Field`` (name
and column ``cf_<key>``, group "custom"), and ``install`` makes the customer's
declaration the built-in fields plus the active custom ones (``fields.install``). Every
channel reads that one declaration (``fields.declared()``), so from the commit on a
custom field is in the entry form, the customer page, the grid, filters, search,
analytics, import mapping and template, export and history, validated by its kind like a
built-in field: there is no second mechanism beside the declaration.

Rules an administrator meets here (each refused with a message, nothing half done):

* ``key``: ``[a-z][a-z0-9_]{1,29}``, never reused (retired fields keep theirs); the key
  and the ``kind`` cannot change once created, nor can ``searchable`` (customers' search
  text is written when a customer is saved: switching it on later would find only
  customers saved since).
* Labels in both languages, unique among the customer's fields in each language (an
  imported file's headings are matched by label).
* ``max_length`` for the text kinds (text, long text, URL) only, never below the
  longest value already stored.
* ``filter`` and ``dimension`` for single choice only (its values come from a list);
  a choice field has its own reference list ``cf_<key>``, given at least one item when
  the field is added, then managed like every list (lib.customers.reference_admin).
* ``edit_roles``: the roles that may set or change it (at least one). Others see it.
* ``required``: required when a customer is created and whenever the field is given; a
  customer saved before the field was added is not blocked from other changes.
* Retiring hides the field from every channel and keeps its column and data: its values
  stay in history (labelled), in backups, and the field can be brought back.

The declaration is installed process-wide: this process serves one database file (the
one ``install`` read last, re-read after each committed change through
``Database.on_commit``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from lib.accounts import permissions as perm
from lib.core.clock import utcnow
from lib.core.db import note_change
from lib.core.errors import ConflictError, DuplicateError, FieldProblem, NotFound, ValidationError
from lib.customers import fields as F
from lib.customers.customer import FIELD_CHANGES, append_audit
from lib.customers.kinds import KINDS

PREFIX = "cf_"
GROUP = "custom"
TOPIC = FIELD_CHANGES
ENTITY = "custom_field"
KEY_RE = re.compile(r"[a-z][a-z0-9_]{1,29}")
LABEL_MAX = 100
# Kinds an administrator may choose, in the order the page offers them.
CUSTOM_KINDS = ("text", "longtext", "number", "money", "date", "yesno", "choice", "url")
TEXT_KINDS = ("text", "longtext", "url")  # have a max length and may be searchable
LISTED_KINDS = ("choice",)  # may be a filter and an analytics dimension
MAX_LENGTH = {"text": 200, "longtext": 2000, "url": 500}  # default and upper bound
CHOICES_MAX = 200

_COLUMNS = ("key", "label_zh", "label_en", "kind", "required", "max_length", "edit_roles", "searchable",
            "is_filter", "is_dimension", "ordinal", "active", "version")


@dataclass(frozen=True)
class CustomField:
    """One row of ``custom_fields`` as the administration page shows it."""

    key: str
    label_zh: str
    label_en: str
    kind: str
    required: bool
    max_length: int | None
    edit_roles: tuple[str, ...]
    searchable: bool
    filter: bool
    dimension: bool
    ordinal: int
    active: bool
    version: int

    @property
    def name(self) -> str:
        return PREFIX + self.key

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


def to_field(cf: CustomField) -> F.Field:
    """The custom field as a field of the customer's declaration."""
    return F.Field(
        PREFIX + cf.key, cf.kind, cf.label_zh, cf.label_en, GROUP, required=cf.required,
        max_length=cf.max_length, options=PREFIX + cf.key if cf.kind == "choice" else None,
        searchable=cf.searchable, filter=cf.filter, dimension=cf.dimension, custom=True,
        edit_roles=cf.edit_roles, synonyms=(cf.key,))


# -- reading and installing -----------------------------------------------------------------
def _read(cur) -> list[CustomField]:
    rows = cur.execute(f"SELECT {', '.join(_COLUMNS)} FROM custom_fields ORDER BY ordinal, key").fetchall()
    return [CustomField(key, zh, en, kind, req, ml, tuple(roles or ()), s, fi, di, o, a, v)
            for key, zh, en, kind, req, ml, roles, s, fi, di, o, a, v in rows]


def all_fields(db) -> list[CustomField]:
    """Every custom field, retired ones included, in display order."""
    with db.read() as cur:
        return _read(cur)


def install(db) -> tuple[F.Field, ...]:
    """Read ``db``'s custom fields and make them part of the customer's declaration;
    keep it so after every committed change of them. Returns the declaration."""
    db.service("custom_fields.listener", _listen)
    _install_from(db)
    return F.declared()


def _listen(db) -> bool:
    db.on_commit(TOPIC, lambda keys: _install_from(db))
    return True


def _install_from(db) -> None:
    rows = all_fields(db)
    F.install([to_field(r) for r in rows if r.active], [to_field(r) for r in rows if not r.active])


def choice_lists(db) -> dict[str, CustomField]:
    """The reference list of each choice field (``cf_<key>``) -> its field, retired
    fields' too, in display order (one read)."""
    return {PREFIX + cf.key: cf for cf in all_fields(db) if cf.kind == "choice"}


# -- changes ------------------------------------------------------------------------------
def add_field(db, actor, *, key: str, label_zh: str, label_en: str, kind: str, required: bool = False,
              max_length: int | None = None, edit_roles: Sequence[str] = (), searchable: bool = False,
              filter: bool = False, dimension: bool = False,
              choices: Sequence[tuple[str, str]] = ()) -> CustomField:
    """Add a field to the customer: its row, its column, its list (choice), one audit
    entry, in one transaction. ``choices``: (label_zh, label_en) of a choice field's items."""
    perm.require(actor, perm.FIELDS_MANAGE)
    db.service("custom_fields.listener", _listen)
    problems: list[FieldProblem] = []
    key = key.strip().lower() if isinstance(key, str) else ""
    if not KEY_RE.fullmatch(key):
        problems.append(_problem("key", "custom_fields.bad_key", value=key[:40]))
    if kind not in CUSTOM_KINDS or kind not in KINDS:
        problems.append(_problem("kind", "custom_fields.bad_kind", kind=str(kind)[:40]))
    zh, en = _labels(label_zh, label_en, problems)
    rules = _rules(db, kind, required, max_length, edit_roles, searchable, filter, dimension, problems)
    items = _choices(choices, problems) if kind == "choice" else []
    if problems:
        raise ValidationError(problems)

    def work(cur):
        if cur.execute("SELECT 1 FROM custom_fields WHERE key = ?", [key]).fetchone():
            raise DuplicateError("custom_fields.duplicate_key", value=key)
        _refuse_taken_labels(cur, key, zh, en)
        ordinal = cur.execute("SELECT coalesce(max(ordinal) + 1, 0) FROM custom_fields").fetchone()[0]
        now = utcnow()
        cur.execute(
            f"INSERT INTO custom_fields ({', '.join(_COLUMNS)}, created_at, created_by, updated_at, updated_by) "
            f"VALUES ({', '.join('?' * (len(_COLUMNS) + 4))})",
            [key, zh, en, kind, rules["required"], rules["max_length"], list(rules["edit_roles"]),
             rules["searchable"], rules["filter"], rules["dimension"], ordinal, True, 1,
             now, actor.username, now, actor.username])
        columns = KINDS[kind].columns(F.Field(PREFIX + key, kind, zh, en, GROUP))
        for column, sql_type in columns.items():
            cur.execute(f'ALTER TABLE customers ADD COLUMN "{column}" {sql_type}')
        for i, (item_zh, item_en) in enumerate(items, start=1):
            cur.execute("INSERT INTO reference_items VALUES (?, ?, ?, ?, ?, TRUE)",
                        [PREFIX + key, str(i), item_zh, item_en, i - 1])
        _audit(cur, actor, "custom_field.add", key, {
            "label_zh": [None, zh], "label_en": [None, en], "kind": [None, kind],
            **{k: [None, list(v) if isinstance(v, tuple) else v] for k, v in rules.items()},
            **({"choices": [None, [f"{a} / {b}" for a, b in items]]} if items else {})})
        note_change(cur, TOPIC)

    db.run_in_transaction(work)
    db.invalidate("reference_lists")
    return _one(db, key)


def change_field(db, actor, key: str, expected_version: int, **changes: Any) -> CustomField:
    """Change labels, ``required``, ``max_length``, ``edit_roles``, ``filter`` or
    ``dimension`` of a custom field (not its key, kind or searchability)."""
    perm.require(actor, perm.FIELDS_MANAGE)
    db.service("custom_fields.listener", _listen)
    allowed = {"label_zh", "label_en", "required", "max_length", "edit_roles", "filter", "dimension"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError([_problem(k, "custom_fields.fixed") for k in sorted(unknown)])
    cf = _one(db, key)
    problems: list[FieldProblem] = []
    zh, en = _labels(changes.get("label_zh", cf.label_zh), changes.get("label_en", cf.label_en), problems)
    rules = _rules(db, cf.kind, changes.get("required", cf.required), changes.get("max_length", cf.max_length),
                   changes.get("edit_roles", cf.edit_roles), cf.searchable, changes.get("filter", cf.filter),
                   changes.get("dimension", cf.dimension), problems)
    if problems:
        raise ValidationError(problems)
    after = {"label_zh": zh, "label_en": en, **{k: rules[k] for k in
                                                ("required", "max_length", "edit_roles", "filter", "dimension")}}
    before = {"label_zh": cf.label_zh, "label_en": cf.label_en, "required": cf.required,
              "max_length": cf.max_length, "edit_roles": cf.edit_roles, "filter": cf.filter,
              "dimension": cf.dimension}
    diff = {k: [_j(before[k]), _j(after[k])] for k in after if before[k] != after[k]}
    if not diff:
        return cf

    def work(cur):
        if cf.active:
            _refuse_taken_labels(cur, key, zh, en)
        if "max_length" in diff:
            # A stored value longer than the new limit would fail validation on every
            # later save of its customer, whichever field the user changed.
            longest = cur.execute(f'SELECT max(length("{PREFIX + key}")) FROM customers').fetchone()[0]
            if longest and longest > after["max_length"]:
                raise ValidationError([_problem("max_length", "custom_fields.shorter_than_stored", longest=longest)])
        n = cur.execute(
            "UPDATE custom_fields SET label_zh = ?, label_en = ?, required = ?, max_length = ?, edit_roles = ?, "
            "is_filter = ?, is_dimension = ?, version = version + 1, updated_at = ?, updated_by = ? "
            "WHERE key = ? AND version = ? RETURNING version",
            [zh, en, after["required"], after["max_length"], list(after["edit_roles"]), after["filter"],
             after["dimension"], utcnow(), actor.username, key, expected_version]).fetchall()
        if not n:
            raise ConflictError("custom_fields.stale", field=key)
        _audit(cur, actor, "custom_field.change", key, diff)
        note_change(cur, TOPIC)

    db.run_in_transaction(work)
    return _one(db, key)


def set_active(db, actor, key: str, active: bool, expected_version: int) -> CustomField:
    """Retire a custom field (hidden everywhere, data kept) or bring it back."""
    perm.require(actor, perm.FIELDS_MANAGE)
    db.service("custom_fields.listener", _listen)
    cf = _one(db, key)
    if cf.active == active:
        return cf

    def work(cur):
        if active:
            _refuse_taken_labels(cur, key, cf.label_zh, cf.label_en)
        n = cur.execute("UPDATE custom_fields SET active = ?, version = version + 1, updated_at = ?, updated_by = ? "
                        "WHERE key = ? AND version = ? RETURNING version",
                        [active, utcnow(), actor.username, key, expected_version]).fetchall()
        if not n:
            raise ConflictError("custom_fields.stale", field=key)
        _audit(cur, actor, "custom_field.restore" if active else "custom_field.retire", key,
               {"active": [not active, active]})
        note_change(cur, TOPIC)

    db.run_in_transaction(work)
    return _one(db, key)


def move_field(db, actor, key: str, step: int) -> bool:
    """Move a custom field up (-1) or down (+1) in the entry form's order. False at an end."""
    perm.require(actor, perm.FIELDS_MANAGE)
    db.service("custom_fields.listener", _listen)

    def work(cur):
        keys = [r[0] for r in cur.execute("SELECT key FROM custom_fields ORDER BY ordinal, key").fetchall()]
        if key not in keys:
            raise NotFound("custom_fields.not_found", field=str(key)[:40])
        i = keys.index(key)
        j = i + (1 if step > 0 else -1)
        if not 0 <= j < len(keys):
            return False
        keys[i], keys[j] = keys[j], keys[i]
        for ordinal, k in enumerate(keys):
            cur.execute("UPDATE custom_fields SET ordinal = ? WHERE key = ?", [ordinal, k])
        _audit(cur, actor, "custom_field.move", key, {"position": [i + 1, j + 1]})
        note_change(cur, TOPIC)
        return True

    return db.run_in_transaction(work)


# -- checks -------------------------------------------------------------------------------
def _problem(name: str, key: str, **params: Any) -> FieldProblem:
    return FieldProblem(name, key, params)


def _one(db, key: str) -> CustomField:
    found = next((cf for cf in all_fields(db) if cf.key == key), None)
    if found is None:
        raise NotFound("custom_fields.not_found", field=str(key)[:40])
    return found


def _clean_label(value: Any, name: str, problems: list[FieldProblem]) -> str:
    text = unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else ""
    if not text:
        problems.append(_problem(name, "validation.required"))
    elif len(text) > LABEL_MAX:
        problems.append(_problem(name, "validation.too_long", max=LABEL_MAX, length=len(text)))
    elif any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        problems.append(_problem(name, "validation.control_chars"))
    return text


def _labels(label_zh: Any, label_en: Any, problems: list[FieldProblem]) -> tuple[str, str]:
    return _clean_label(label_zh, "label_zh", problems), _clean_label(label_en, "label_en", problems)


def _rules(db, kind: str, required: Any, max_length: Any, edit_roles: Iterable[str] | None, searchable: Any,
           filter: Any, dimension: Any, problems: list[FieldProblem]) -> dict[str, Any]:
    out: dict[str, Any] = {"required": bool(required), "searchable": bool(searchable), "filter": bool(filter),
                           "dimension": bool(dimension)}
    if kind in TEXT_KINDS:
        limit = MAX_LENGTH[kind]
        if max_length in (None, ""):
            out["max_length"] = limit
        elif isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= limit:
            problems.append(_problem("max_length", "custom_fields.bad_max_length", max=limit))
            out["max_length"] = None
        else:
            out["max_length"] = max_length
    else:
        if max_length not in (None, ""):
            problems.append(_problem("max_length", "custom_fields.no_max_length"))
        out["max_length"] = None
    if out["searchable"] and kind not in TEXT_KINDS:
        problems.append(_problem("searchable", "custom_fields.not_searchable"))
    for name in ("filter", "dimension"):
        if out[name] and kind not in LISTED_KINDS:
            problems.append(_problem(name, "custom_fields.not_listed"))
    roles = tuple(dict.fromkeys(edit_roles or ()))
    known = db.roles()
    if not roles:
        problems.append(_problem("edit_roles", "custom_fields.no_roles"))
    for r in roles:
        if r not in known:
            problems.append(_problem("edit_roles", "custom_fields.unknown_role", role=str(r)[:40]))
    out["edit_roles"] = roles
    return out


def _choices(choices: Sequence[tuple[str, str]], problems: list[FieldProblem]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not choices:
        problems.append(_problem("choices", "custom_fields.no_choices"))
    elif len(choices) > CHOICES_MAX:
        problems.append(_problem("choices", "custom_fields.too_many_choices", max=CHOICES_MAX))
    seen_zh: set[str] = set()
    seen_en: set[str] = set()
    for zh, en in list(choices)[:CHOICES_MAX]:
        item: list[FieldProblem] = []
        zh, en = _clean_label(zh, "choices", item), _clean_label(en, "choices", item)
        if item:
            problems.append(item[0])
            continue
        if zh.casefold() in seen_zh or en.casefold() in seen_en:
            problems.append(_problem("choices", "custom_fields.duplicate_choice", label=f"{zh} / {en}"))
            continue
        seen_zh.add(zh.casefold())
        seen_en.add(en.casefold())
        out.append((zh, en))
    return out


def _refuse_taken_labels(cur, key: str, zh: str, en: str) -> None:
    """A label names one field of the customer in each language: an imported file's
    headings are matched by label."""
    others = [(f.label_zh, f.label_en) for f in F.FIELDS]
    others += [(c.label_zh, c.label_en) for c in F.SYSTEM_COLUMNS]
    others += cur.execute("SELECT label_zh, label_en FROM custom_fields WHERE active AND key <> ?", [key]).fetchall()
    for their_zh, their_en in others:
        for mine, theirs in ((zh, their_zh), (en, their_en)):
            if mine.casefold() == theirs.casefold():
                raise DuplicateError("custom_fields.duplicate_label", label=mine)


def _j(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def _audit(cur, actor, action: str, key: str, changes: Mapping[str, Any]) -> None:
    append_audit(cur, now=utcnow(), actor=actor.username, action=action, customer_id=None, version=None,
                 changes={"field": key, **changes}, entity=ENTITY, entity_id=0)
