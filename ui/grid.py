"""The customers grid's state: one page of rows held still while the user edits it.

``st.data_editor`` reports edits by row *position*. If the rows came back in another
order, a pending edit would land on another customer (see ../shared/STACK.md), so a
``GridView`` keeps the page's records, in order, until the user searches, pages,
saves or reloads; the frame is indexed by customer id; every save carries each row's
version. Edits that could not be saved (invalid, refused, conflicting) stay on their
row as ``pending`` and are shown (and sent again) until saved or discarded.

No input is lost to a remount. The browser keeps cell edits in the editor instance
named by ``editor_key`` and sends them a moment later; an edit made while the key
changes goes to an instance that no longer exists. So the key changes only when the
user throws edits away (discard, "use their values", archive), never on a save or a
(re)load, and before it changes the editor's other edits are folded into ``pending``.
A new search carries the unsaved edits along (``carry_from``): rows that left the
page keep their record in ``bases`` and are saved with the others.

Nothing here decides what is valid or allowed: the diff is sent to
``lib.customers.customer.bulk_update``, which validates, checks permissions and versions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from lib.customers import fields as F
from lib.accounts import permissions as perm
from lib.core.clock import SHANGHAI
from lib.customers.customer import RowEdit, RowResult
from lib.core.errors import ConflictError, CustomerMasterError, ValidationError
from ui import kinds as K
from ui.widgets import ROW_OPEN, ROW_PROBLEM, ROW_SELECT, ROW_STATE, customer_url, grid_column_order

LOCKED, PROBLEM, SAVED = "🔒", "⚠️", "✅"
KEYS_SCRIPT = Path(__file__).with_name("grid_keys.js")


def keys_script() -> str:
    """The page script that gets keys typed fast into the grid's cell editor, all of them
    and in order (Streamlit's grid drops some: see ui/grid_keys.js)."""
    return "<script>" + KEYS_SCRIPT.read_text(encoding="utf-8") + "</script>"


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
    # id -> record as read, for rows with pending edits that are not on this page
    bases: dict[int, dict] = field(default_factory=dict)
    # id -> editor cells a save already stored: the editor still holds them (its key stays),
    # and a value the service normalised ("05925555555" -> "0592-5555555") is no new change
    saved_cells: dict[int, dict[str, Any]] = field(default_factory=dict)
    generation: int = 0  # part of the editor's key: changes only when edits are thrown away
    # The columns the editor was last drawn with and which of them were locked: its
    # identity in Streamlit (``keep_edits_across``).
    shape: tuple | None = None
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
        return self.bases.get(customer_id)

    def replace(self, record: Mapping) -> None:
        """Put a fresh copy of a record in place (same position)."""
        for i, r in enumerate(self.rows):
            if r["id"] == record["id"]:
                self.rows[i] = dict(record)
                return
        if record["id"] in self.bases:
            self.bases[record["id"]] = dict(record)

    def load(self, result) -> None:
        """Take a search result as the page's rows. Pending edits stay: on their row if it
        is on the page, else with the record they were made on (``bases``)."""
        for r in self.rows:
            if r["id"] in self.pending:
                self.bases.setdefault(r["id"], r)
        self.rows = [dict(r) for r in result.rows]
        self.total = result.total
        self.next_cursor = result.next_cursor
        ids = set(self.ids)
        self.bases = {i: r for i, r in self.bases.items() if i in self.pending and i not in ids}
        self.saved_cells = {i: c for i, c in self.saved_cells.items() if i in ids}
        self.saved = set()
        self.needs_load = False

    def fold_editor(self, state: Mapping | None, *, drop: tuple[int, ...] = ()) -> None:
        """Move the editor's unsaved cell edits into ``pending`` (except rows ``drop``)
        and start a fresh editor: the frame shows them from now on."""
        for cid, cells in editor_cells(self, state).items():
            if cid in drop:
                continue
            rec = self.record(cid) or {}
            changes = {n: v for n, v in cells.items() if not same_value(n, v, rec.get(n))}
            if changes:
                self.pending[cid] = {**self.pending.get(cid, {}), **changes}
        self.saved_cells = {}
        self.generation += 1

    def keep_edits_across(self, shape: tuple, state: Mapping | None) -> bool:
        """Before drawing the editor with ``shape`` (its columns and locked columns):
        Streamlit gives a keyed editor another identity when these change (an
        administrator added or retired a custom field, or changed who may edit one),
        and the new one starts without the old one's edits. So fold them into
        ``pending`` first (a fresh editor shows them). True if it did."""
        changed = self.shape is not None and self.shape != shape
        if changed:
            self.fold_editor(state)
        self.shape = shape
        return changed

    def carry_from(self, old: "GridView", state: Mapping | None) -> None:
        """A new search: keep the old view's unsaved edits (and their errors), with the
        record each was made on, so that nothing typed is lost by searching."""
        old.fold_editor(state)
        for cid, changes in old.pending.items():
            rec = old.record(cid)
            if rec is None:
                continue
            self.pending[cid] = dict(changes)
            self.bases[cid] = rec
            if cid in old.errors:
                self.errors[cid] = old.errors[cid]
        self.generation = old.generation + 1


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
    """The page as a DataFrame indexed by customer id, pending edits shown in place.

    Built a column at a time, each declared field's column made once with its kind's
    dtype (text stays text even when every cell is empty, else pandas makes it float;
    the other columns' dtypes are inferred). Building rows and converting the columns
    afterwards cost 10 ms a page of 50, a tenth of the page's run (docs/benchmarks.md)."""
    rows = view.rows
    index = pd.Index(view.ids, name="id")
    cols: dict[str, pd.Series] = {}
    for f in F.grid_fields():
        n, uk = f.name, K.ui_kind(f)
        values = [view.pending[r["id"]][n] if n in view.pending.get(r["id"], ()) else uk.to_cell(r.get(n))
                  for r in rows]
        if uk.dtype == "object":
            cols[n] = pd.Series(values, index=index, dtype="object")
        else:
            cols[n] = pd.to_numeric(pd.Series(values, index=index, dtype="object"), errors="coerce").astype(uk.dtype)
    codes = [r.get("code") for r in rows]
    cols["code"] = pd.Series(codes, index=index)
    cols[ROW_OPEN] = pd.Series([customer_url(c or "") for c in codes], index=index)
    for c in F.SYSTEM_COLUMNS:
        if c.name == "code":
            continue
        values = [r.get(c.name) for r in rows]
        if c.kind == "timestamp":
            cols[c.name] = pd.Series(pd.to_datetime(values, utc=True), index=index).dt.tz_convert(SHANGHAI)
        elif c.kind == "bool":
            cols[c.name] = pd.Series(values, index=index, dtype="object").astype("bool")
        else:
            cols[c.name] = pd.Series(values, index=index)
    problems, states = [], []
    for r in rows:
        err = view.errors.get(r["id"])
        problems.append(describe_error(err, lang) if err is not None else "")
        states.append(PROBLEM if err is not None else LOCKED if row_locked(actor, r)
                      else SAVED if r["id"] in view.saved else "")
    cols[ROW_PROBLEM] = pd.Series(problems, index=index)
    cols[ROW_STATE] = pd.Series(states, index=index)
    cols[ROW_SELECT] = pd.Series(False, index=index, dtype="bool")
    return pd.DataFrame({name: cols[name] for name in grid_column_order()}, index=index)


def edited_values(frame: pd.DataFrame, state: Mapping | None) -> dict[int, dict[str, Any]]:
    """Each touched row's cells after the editor's edits, by customer id."""
    out: dict[int, dict[str, Any]] = {}
    for p, cells in _edited_positions(state, len(frame)):
        cid = int(frame.index[p])
        row = frame.iloc[p].to_dict()
        row.update(cells)
        out[cid] = row
    return out


def _edited_positions(state: Mapping | None, size: int):
    edited = (state or {}).get("edited_rows", {}) or {}
    for pos, cells in edited.items():
        try:
            p = int(pos)
        except (TypeError, ValueError):
            continue
        if 0 <= p < size:
            yield p, dict(cells or {})


def editor_cells(view: GridView, state: Mapping | None) -> dict[int, dict[str, Any]]:
    """The field cells the editor holds, by customer id, without the ones a save has
    already stored (``saved_cells``). Positions are the page's rows, which stay still."""
    names = {f.name for f in F.grid_fields()}
    out: dict[int, dict[str, Any]] = {}
    for p, cells in _edited_positions(state, len(view.rows)):
        cid = view.rows[p]["id"]
        saved = view.saved_cells.get(cid, {})
        kept = {n: v for n, v in cells.items()
                if n in names and not (n in saved and same_value(n, v, saved[n]))}
        if kept:
            out[cid] = kept
    return out


def selected_ids(frame: pd.DataFrame, state: Mapping | None) -> list[int]:
    return [cid for cid, row in edited_values(frame, state).items() if row.get(ROW_SELECT)]


def changed_rows(view: GridView, frame: pd.DataFrame, state: Mapping | None) -> list[RowEdit]:
    """The rows whose fields differ from what was read — pending edits (on this page or
    carried from another) and the editor's cells — as ``RowEdit``s carrying the version
    each row was read at. Only fields are sent: never the selection, state or system
    columns. ``frame`` is the page as drawn (its rows are ``view.rows``)."""
    assert [int(i) for i in frame.index] == view.ids, "the frame is not this page"
    from_editor = editor_cells(view, state)
    edits = []
    for rec in [*view.rows, *(view.bases[i] for i in view.pending if i in view.bases and i not in view.ids)]:
        cells = {**view.pending.get(rec["id"], {}), **from_editor.get(rec["id"], {})}
        changes = {}
        for f in F.grid_fields():
            if f.name in cells and not same_value(f.name, cells[f.name], rec.get(f.name)):
                changes[f.name] = to_service(f.name, cells[f.name])
        if changes:
            edits.append(RowEdit(customer_id=rec["id"], expected_version=rec["version"], changes=changes))
    return edits


def apply_results(view: GridView, results: list[RowResult]) -> tuple[int, int]:
    """Fold a save's per-row results into the view: saved rows get their fresh record,
    failed rows keep their edit and their error. Returns (saved, failed). The editor
    keeps its key (an edit typed while saving must not go to a removed editor): what
    it still holds of the saved edits is remembered as stored (``saved_cells``)."""
    ok = failed = 0
    view.saved = set()
    for r in results:
        if r.ok and r.record is not None:
            view.replace(r.record)
            view.pending.pop(r.customer_id, None)
            view.errors.pop(r.customer_id, None)
            view.bases.pop(r.customer_id, None)
            if r.edit is not None:
                view.saved_cells[r.customer_id] = {**view.saved_cells.get(r.customer_id, {}),
                                                   **{k: _cell(k, v) for k, v in r.edit.changes.items()}}
            view.saved.add(r.customer_id)
            ok += 1
        else:
            failed += 1
            if r.edit is not None:
                view.pending[r.customer_id] = {k: _cell(k, v) for k, v in r.edit.changes.items()}
            if r.error is not None:
                view.errors[r.customer_id] = r.error
    return ok, failed


def take_theirs(view: GridView, customer_id: int, state: Mapping | None = None) -> None:
    """Drop my edit of a conflicting row and show the stored values (the editor's other
    edits are kept)."""
    err = view.errors.pop(customer_id, None)
    view.pending.pop(customer_id, None)
    if isinstance(err, ConflictError) and err.current:
        view.replace(err.current)
    view.fold_editor(state, drop=(customer_id,))
    view.bases.pop(customer_id, None)


def keep_mine(view: GridView, customer_id: int) -> None:
    """Base my edit of a conflicting row on the stored version; the next save applies it
    over the other person's change (which the user has now seen)."""
    err = view.errors.pop(customer_id, None)
    if isinstance(err, ConflictError) and err.current:
        view.replace(err.current)


def discard(view: GridView, customer_id: int, state: Mapping | None = None) -> None:
    """Drop my edit of one row (the editor's other edits are kept)."""
    view.pending.pop(customer_id, None)
    view.errors.pop(customer_id, None)
    view.fold_editor(state, drop=(customer_id,))
    view.bases.pop(customer_id, None)


def discard_all(view: GridView) -> None:
    """Throw every unsaved edit away and read the page again."""
    view.pending.clear()
    view.errors.clear()
    view.bases.clear()
    view.saved_cells.clear()
    view.generation += 1
    view.needs_load = True


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
