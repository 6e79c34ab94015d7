"""The customers grid's state: one page of rows held still while the user edits it.

``st.data_editor`` reports edits by row *position*. If the rows came back in another
order, a pending edit would land on another customer (see ../shared/STACK.md), so a
``GridView`` keeps the page's records, in order, until the user searches, pages,
saves or reloads; the frame is indexed by customer id; every save carries each row's
version. Edits that could not be saved (invalid, refused, conflicting) stay on their
row as ``pending`` and are shown (and sent again) until saved or discarded.

Nothing here decides what is valid or allowed: the diff is sent to
``lib.customers.customer.bulk_update``, which validates, checks permissions and versions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from lib.customers import fields as F
from lib.accounts import permissions as perm
from lib.core.clock import SHANGHAI
from lib.customers.customer import RowEdit, RowResult
from lib.core.errors import ConflictError, CustomerMasterError, ValidationError
from ui import kinds as K
from ui.widgets import ROW_PROBLEM, ROW_SELECT, ROW_STATE, grid_column_order

LOCKED, PROBLEM, SAVED = "🔒", "⚠️", "✅"


@dataclass
class GridView:
    """One page of search results as the grid shows it."""

    signature: tuple
    stack: list[str | None] = field(default_factory=list)  # cursors of the pages before this one
    rows: list[dict] = field(default_factory=list)  # records as read, in display order
    total: int = 0
    next_cursor: str | None = None
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> changes not yet saved
    errors: dict[int, CustomerMasterError] = field(default_factory=dict)  # id -> why the last save failed
    saved: set[int] = field(default_factory=set)  # ids saved by the last save
    generation: int = 0  # part of the editor's key: a new frame gets a fresh editor
    needs_load: bool = True  # read the page (again) before drawing it

    @property
    def editor_key(self) -> str:
        return f"cu_grid_{self.generation}"

    @property
    def cursor(self) -> str | None:
        return self.stack[-1] if self.stack else None

    @property
    def ids(self) -> list[int]:
        return [r["id"] for r in self.rows]

    def record(self, customer_id: int) -> dict | None:
        for r in self.rows:
            if r["id"] == customer_id:
                return r
        return None

    def replace(self, record: Mapping) -> None:
        """Put a fresh copy of a record in place (same position)."""
        for i, r in enumerate(self.rows):
            if r["id"] == record["id"]:
                self.rows[i] = dict(record)
                return

    def load(self, result) -> None:
        """Take a search result as the page's rows; edits of rows still on the page stay
        pending, the rest are dropped."""
        self.rows = [dict(r) for r in result.rows]
        self.total = result.total
        self.next_cursor = result.next_cursor
        ids = set(self.ids)
        self.pending = {i: c for i, c in self.pending.items() if i in ids}
        self.errors = {i: e for i, e in self.errors.items() if i in ids}
        self.saved = set()
        self.needs_load = False
        self.generation += 1


# -- values (each field's kind converts, ui.kinds) ---------------------------------------------
_empty = K.empty


def same_value(name: str, a: Any, b: Any) -> bool:
    """Do two cell values mean the same (empty == None, 1234.5 == Decimal('1234.50'))?"""
    if _empty(a) and _empty(b):
        return True
    if _empty(a) or _empty(b):
        return False
    f = F.by_name(name)
    return K.ui_kind(f).same(a, b) if f is not None else a == b


def to_service(name: str, v: Any) -> Any:
    """A cell value as the service expects it: None for empty, otherwise as the field's
    kind says (money as text, so no float rounding)."""
    if _empty(v):
        return None
    f = F.by_name(name)
    return K.ui_kind(f).to_service(v) if f is not None else v


def _cell(name: str, v: Any) -> Any:
    """A stored value as the grid shows it."""
    f = F.by_name(name)
    return K.ui_kind(f).to_cell(v) if f is not None else v


# -- the frame -------------------------------------------------------------------------------
def row_locked(actor, record: Mapping) -> bool:
    return bool(record.get("archived")) or not perm.can(actor, perm.CUSTOMER_UPDATE, record)


def build_frame(view: GridView, actor, lang: str) -> pd.DataFrame:
    """The page as a DataFrame indexed by customer id, pending edits shown in place."""
    names = [f.name for f in F.grid_fields()]
    data = []
    for rec in view.rows:
        pending = view.pending.get(rec["id"], {})
        row: dict[str, Any] = {}
        for n in names:
            row[n] = pending[n] if n in pending else _cell(n, rec.get(n))
        row["code"] = rec.get("code")
        for c in F.SYSTEM_COLUMNS:
            if c.name != "code":
                row[c.name] = rec.get(c.name)
        err = view.errors.get(rec["id"])
        row[ROW_PROBLEM] = describe_error(err, lang) if err is not None else ""
        if err is not None:
            row[ROW_STATE] = PROBLEM
        elif row_locked(actor, rec):
            row[ROW_STATE] = LOCKED
        elif rec["id"] in view.saved:
            row[ROW_STATE] = SAVED
        else:
            row[ROW_STATE] = ""
        row[ROW_SELECT] = False
        data.append(row)
    order = grid_column_order()
    df = pd.DataFrame(data, index=pd.Index(view.ids, name="id"), columns=order)
    # Keep text columns as text even when every cell is empty (else they become float).
    for f in F.grid_fields():
        dtype = K.ui_kind(f).dtype
        if dtype == "object":
            df[f.name] = df[f.name].astype("object")
        else:
            df[f.name] = pd.to_numeric(df[f.name], errors="coerce").astype(dtype)
    for c in F.SYSTEM_COLUMNS:
        if c.kind == "timestamp":
            df[c.name] = pd.to_datetime(df[c.name], utc=True).dt.tz_convert(SHANGHAI)
        elif c.kind == "bool":
            df[c.name] = df[c.name].astype("bool")
    df[ROW_SELECT] = df[ROW_SELECT].astype("bool")
    return df


def edited_values(frame: pd.DataFrame, state: Mapping | None) -> dict[int, dict[str, Any]]:
    """Each touched row's cells after the editor's edits, by customer id."""
    out: dict[int, dict[str, Any]] = {}
    edited = (state or {}).get("edited_rows", {}) or {}
    for pos, cells in edited.items():
        try:
            p = int(pos)
        except (TypeError, ValueError):
            continue
        if not 0 <= p < len(frame):
            continue
        cid = int(frame.index[p])
        row = frame.iloc[p].to_dict()
        row.update(cells or {})
        out[cid] = row
    return out


def selected_ids(frame: pd.DataFrame, state: Mapping | None) -> list[int]:
    return [cid for cid, row in edited_values(frame, state).items() if row.get(ROW_SELECT)]


def changed_rows(view: GridView, frame: pd.DataFrame, state: Mapping | None) -> list[RowEdit]:
    """The rows whose fields differ from what was read (pending edits included), as
    ``RowEdit``s carrying the version each row was read at. Only fields are compared:
    the selection, state and system columns are never sent."""
    current = {int(i): frame.loc[i].to_dict() for i in frame.index if int(i) in view.pending}
    current.update(edited_values(frame, state))
    edits = []
    for rec in view.rows:
        cells = current.get(rec["id"])
        if cells is None:
            continue
        changes = {}
        for f in F.grid_fields():
            if f.name in cells and not same_value(f.name, cells[f.name], rec.get(f.name)):
                changes[f.name] = to_service(f.name, cells[f.name])
        if changes:
            edits.append(RowEdit(customer_id=rec["id"], expected_version=rec["version"], changes=changes))
    return edits


def apply_results(view: GridView, results: list[RowResult]) -> tuple[int, int]:
    """Fold a save's per-row results into the view: saved rows get their fresh record,
    failed rows keep their edit and their error. Returns (saved, failed)."""
    ok = failed = 0
    view.saved = set()
    for r in results:
        if r.ok and r.record is not None:
            view.replace(r.record)
            view.pending.pop(r.customer_id, None)
            view.errors.pop(r.customer_id, None)
            view.saved.add(r.customer_id)
            ok += 1
        else:
            failed += 1
            if r.edit is not None:
                view.pending[r.customer_id] = {k: _cell(k, v) for k, v in r.edit.changes.items()}
            if r.error is not None:
                view.errors[r.customer_id] = r.error
    view.generation += 1
    return ok, failed


def take_theirs(view: GridView, customer_id: int) -> None:
    """Drop my edit of a conflicting row and show the stored values."""
    err = view.errors.pop(customer_id, None)
    view.pending.pop(customer_id, None)
    if isinstance(err, ConflictError) and err.current:
        view.replace(err.current)
    view.generation += 1


def keep_mine(view: GridView, customer_id: int) -> None:
    """Base my edit of a conflicting row on the stored version; the next save applies it
    over the other person's change (which the user has now seen)."""
    err = view.errors.pop(customer_id, None)
    if isinstance(err, ConflictError) and err.current:
        view.replace(err.current)
    view.generation += 1


def discard(view: GridView, customer_id: int) -> None:
    view.pending.pop(customer_id, None)
    view.errors.pop(customer_id, None)
    view.generation += 1


def describe_error(err: CustomerMasterError, lang: str) -> str:
    """One line per problem, each naming its field, in the user's language."""
    if isinstance(err, ValidationError):
        return "; ".join(
            (f"{F.label(p.field, lang)}: " if p.field in F.FIELDS_BY_NAME else "") + p.translate(lang)
            for p in err.problems
        )
    return err.translate(lang)


def conflict_rows(view: GridView, err: ConflictError, customer_id: int) -> list[tuple[str, Any, Any]]:
    """(field, mine, theirs) for the fields of a conflicting row that differ."""
    rec = view.record(customer_id) or {}
    fields = F.declared()
    mine = {**{f.name: rec.get(f.name) for f in fields}, **view.pending.get(customer_id, {})}
    out = []
    for f in fields:
        theirs = err.current.get(f.name)
        if not same_value(f.name, mine.get(f.name), theirs) or not same_value(f.name, rec.get(f.name), theirs):
            out.append((f.name, mine.get(f.name), theirs))
    return out
