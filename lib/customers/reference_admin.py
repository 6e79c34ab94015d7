"""Reference lists an administrator manages (系统管理 → 基础数据): add an item, rename it
in both languages, move it up or down, retire it and bring it back.

Every change checks ``lists.manage``, writes the ``reference_items`` row and one audit
entry (entity ``reference_item``, no customer) in one transaction, then drops the cached
lists (``Database.reference_lists()``) so the next read sees it.

A code is never changed once created: customers, contacts, links and follow-ups store
codes. Retiring sets ``active = FALSE`` instead of deleting: old records keep the value
and its label (filters, analytics, the customer file), but validation
(``lib.customers.kinds.clean_choice``) refuses it as a *new* value, so the entry form,
the grid, the import and the care campaign cannot set it; a record that already has it
may keep it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lib.accounts import permissions as perm
from lib.core.clock import utcnow
from lib.core.errors import DuplicateError, FieldProblem, NotFound, ValidationError
from lib.customers import custom_fields
from lib.customers.customer import append_audit

# The lists an administrator manages, in the order the page offers them. Not here:
# customer_type, need_state and file_kind, whose codes the program's rules name
# (individual customers, a need's open state, the default file kind).
MANAGED_LISTS = ("industry", "tier", "size", "status", "region", "access_level", "relationship_kind",
                 "followup_kind")
# Letters, digits and ``_ - +`` (the seeded codes: "A", "110000", "1000+", "cash_only"),
# starting with a letter or digit; at most 40, like the table's CHECK.
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+\-]{0,39}")
LABEL_MAX = 100
ENTITY = "reference_item"


@dataclass(frozen=True)
class ReferenceItem:
    list: str
    code: str
    label_zh: str
    label_en: str
    active: bool


def managed_lists(db) -> tuple[str, ...]:
    """``MANAGED_LISTS``, then the list of each custom choice field (``cf_<key>``,
    lib.customers.custom_fields), retired fields' included."""
    return MANAGED_LISTS + tuple(custom_fields.choice_lists(db))


def items(db, list_name: str) -> list[ReferenceItem]:
    """One managed list's items in display order, retired ones included."""
    _check_list(db, list_name)
    return [ReferenceItem(list_name, it["code"], it["label_zh"], it["label_en"], it["active"])
            for it in db.reference_lists().get(list_name, [])]


def add_item(db, actor, list_name: str, code: str, label_zh: str, label_en: str) -> ReferenceItem:
    """Append a new, active item at the end of the list."""
    perm.require(actor, perm.LISTS_MANAGE)
    _check_list(db, list_name)
    code = _clean_code(code)
    zh, en = _clean_labels(label_zh, label_en)

    def work(cur):
        taken = cur.execute("SELECT code FROM reference_items WHERE list = ? AND lower(code) = lower(?)",
                            [list_name, code]).fetchone()
        if taken:
            raise DuplicateError("lists.duplicate_code", code=taken[0])
        _refuse_taken_labels(cur, list_name, code, zh, en)
        ordinal = cur.execute("SELECT coalesce(max(ordinal) + 1, 0) FROM reference_items WHERE list = ?",
                              [list_name]).fetchone()[0]
        cur.execute("INSERT INTO reference_items VALUES (?, ?, ?, ?, ?, TRUE)", [list_name, code, zh, en, ordinal])
        _audit(cur, actor, "reference_item.add", list_name, code,
               {"label_zh": [None, zh], "label_en": [None, en], "active": [None, True]})

    db.run_in_transaction(work)
    db.invalidate("reference_lists")
    return ReferenceItem(list_name, code, zh, en, True)


def rename_item(db, actor, list_name: str, code: str, label_zh: str, label_en: str) -> bool:
    """New labels in both languages; the code stays. False if nothing changed."""
    perm.require(actor, perm.LISTS_MANAGE)
    _check_list(db, list_name)
    zh, en = _clean_labels(label_zh, label_en)

    def work(cur) -> bool:
        old_zh, old_en, _active = _fetch(cur, list_name, code)
        if (old_zh, old_en) == (zh, en):
            return False
        _refuse_taken_labels(cur, list_name, code, zh, en)
        cur.execute("UPDATE reference_items SET label_zh = ?, label_en = ? WHERE list = ? AND code = ?",
                    [zh, en, list_name, code])
        changes = {k: [old, new] for k, old, new in (("label_zh", old_zh, zh), ("label_en", old_en, en)) if old != new}
        _audit(cur, actor, "reference_item.rename", list_name, code, changes)
        return True

    changed = db.run_in_transaction(work)
    db.invalidate("reference_lists")
    return changed


def move_item(db, actor, list_name: str, code: str, step: int) -> bool:
    """Move an item one place up (``step=-1``) or down (``+1``). False at either end.
    The list is renumbered 0..n-1 in its new order."""
    perm.require(actor, perm.LISTS_MANAGE)
    _check_list(db, list_name)
    if step not in (-1, 1):
        raise ValidationError("step", "lists.bad_step")

    def work(cur) -> bool:
        _fetch(cur, list_name, code)
        order = [r[0] for r in cur.execute(
            "SELECT code FROM reference_items WHERE list = ? ORDER BY ordinal, code", [list_name]).fetchall()]
        i = order.index(code)
        j = i + step
        if not 0 <= j < len(order):
            return False
        order[i], order[j] = order[j], order[i]
        cur.executemany("UPDATE reference_items SET ordinal = ? WHERE list = ? AND code = ?",
                        [[n, list_name, c] for n, c in enumerate(order)])
        _audit(cur, actor, "reference_item.move", list_name, code, {"position": [i + 1, j + 1]})
        return True

    moved = db.run_in_transaction(work)
    db.invalidate("reference_lists")
    return moved


def set_active(db, actor, list_name: str, code: str, active: bool) -> bool:
    """Retire an item (``active=False``) or bring it back. False if it already was so.
    The last active item of a list is not retired: nothing could be entered any more."""
    perm.require(actor, perm.LISTS_MANAGE)
    _check_list(db, list_name)
    active = bool(active)

    def work(cur) -> bool:
        _zh, _en, was = _fetch(cur, list_name, code)
        if was == active:
            return False
        if not active:
            others = cur.execute("SELECT count(*) FROM reference_items WHERE list = ? AND active AND code <> ?",
                                 [list_name, code]).fetchone()[0]
            if not others:
                raise ValidationError("code", "lists.last_active", code=code)
        cur.execute("UPDATE reference_items SET active = ? WHERE list = ? AND code = ?", [active, list_name, code])
        _audit(cur, actor, "reference_item.restore" if active else "reference_item.retire", list_name, code,
               {"active": [was, active]})
        return True

    changed = db.run_in_transaction(work)
    db.invalidate("reference_lists")
    return changed


# -- checks ------------------------------------------------------------------------------
def _check_list(db, list_name: str) -> None:
    if list_name not in managed_lists(db):
        raise ValidationError("list", "lists.unknown_list", list=str(list_name)[:40])


def _clean_code(code) -> str:
    code = code.strip() if isinstance(code, str) else ""
    if not code:
        raise ValidationError("code", "lists.code_required")
    if not CODE_RE.fullmatch(code):
        raise ValidationError("code", "lists.bad_code", code=code[:40])
    return code


def _clean_labels(label_zh, label_en) -> tuple[str, str]:
    problems = []
    out = []
    for name, value in (("label_zh", label_zh), ("label_en", label_en)):
        text = unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else ""
        if not text:
            problems.append(("lists.label_required", {}))
        elif len(text) > LABEL_MAX:
            problems.append(("lists.label_too_long", {"max": LABEL_MAX, "n": len(text)}))
        elif any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
            problems.append(("validation.control_chars", {}))
        else:
            problems.append(None)
        out.append(text)
    bad = [(name, p) for name, p in zip(("label_zh", "label_en"), problems) if p]
    if bad:
        raise ValidationError([FieldProblem(name, key, params) for name, (key, params) in bad])
    return out[0], out[1]


def _refuse_taken_labels(cur, list_name: str, code: str, zh: str, en: str) -> None:
    """A label names one item: the import reads labels in either language as the code."""
    for column, label in (("label_zh", zh), ("label_en", en)):
        other = cur.execute(
            f"SELECT code FROM reference_items WHERE list = ? AND code <> ? AND lower({column}) = lower(?)",
            [list_name, code, label]).fetchone()
        if other:
            raise DuplicateError("lists.duplicate_label", label=label, code=other[0])


def _fetch(cur, list_name: str, code: str) -> tuple[str, str, bool]:
    row = cur.execute("SELECT label_zh, label_en, active FROM reference_items WHERE list = ? AND code = ?",
                      [list_name, code]).fetchone()
    if row is None:
        raise NotFound("lists.not_found", code=str(code)[:40])
    return row


def _audit(cur, actor, action: str, list_name: str, code: str, changes: dict) -> None:
    append_audit(cur, now=utcnow(), actor=actor.username, action=action, customer_id=None, version=None,
                 changes={"list": list_name, "code": code, **changes}, entity=ENTITY, entity_id=0)
