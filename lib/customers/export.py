"""Export of the customers page's search as CSV or XLSX, and the blank import template.

``export_customers`` writes the rows ``filters`` select (``CustomerFilters``, the same
WHERE as the customers page through ``where_clause``), limited by the scope of
``customer.export``: a salesperson's export holds their own customers. Columns are the
customer code, every declared field (``lib.customers.fields``, so a new field is
exported without touching this module) and the other system columns
(``fields.SYSTEM_COLUMNS``: created, updated, updated by, last reviewed, archived).
Headers are the labels in the user's language. Cells:

* list values (``choice``): the item's label in the user's language (an import reads
  codes and labels in either language back);
* users (owner, updated by): the **username**, not the display name: usernames are
  unique and are what the form, the grid and an import accept, so an exported file
  re-imports unchanged; display names may repeat and change;
* money: a number (CSV ``100000.00``; XLSX a number cell shown ``#,##0.00``); a number
  field's value (kind ``number``) with the places it has (CSV ``12.5``; XLSX a number
  cell in the General format, so beyond 15 significant digits as Excel rounds it);
* timestamps: Asia/Shanghai local time, ``2026-03-01 14:05:00`` (XLSX a date cell in
  that format); dates ``2026-03-01``; yes/no (archived, a ``yesno`` field) as 是/否 or
  yes/no in the user's language, which an import reads back; web addresses as text;
* text: as stored, through ``lib.core.text.formula_safe``: a value starting with
  ``= + - @``, tab or carriage return gets a leading apostrophe, so no spreadsheet
  reads it as a formula (XLSX cells are written as strings besides, never formulas).

Streamed, in batches of ``BATCH`` ids: each batch is the customers of one range of
ids (``c.id BETWEEN lo AND hi``, which DuckDB answers from the row groups of that range)
and their primary contacts (a second query over the same range), converted and written
to ``out`` before the next batch is read, all in one transaction, so memory does not
grow with the number of rows and the file is one consistent snapshot. Rows come in id
(creation) order. CSV is UTF-8 with a BOM (Excel shows Chinese only with it). XLSX is
written by xlsxwriter in ``constant_memory`` mode (each row goes to a temporary file as
it is written; the zip is assembled from it at the end); a sheet holds at most
1,048,576 rows, so a larger export continues on further sheets.

The export's read and its audit entry (action and entity ``export``, no customer;
``changes``: format, filters, scope and row count) are one transaction: the entry is
written after the last row and committed with the read; a failed export leaves none.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import queue
import tempfile
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Sequence

from lib.accounts import permissions as perm
from lib.core.clock import SHANGHAI_OFFSET_HOURS, local_today, utcnow
from lib.core.errors import CustomerMasterError
from lib.core.i18n import t
from lib.core.text import formula_safe
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers.fields import Field, SystemColumn
from lib.customers.kinds import plain_number
from lib.customers.search import CustomerFilters, list_filters, where_clause

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH = 5000  # ids per batch: its two queries and one write
XLSX_MAX_ROWS = 1_048_576  # rows of one worksheet (Excel's limit), header included
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_XLSX_TIME = "yyyy-mm-dd hh:mm:ss"
_XLSX_DATE = "yyyy-mm-dd"
_XLSX_MONEY = "#,##0.00"
_XLSX_OPTIONS = {
    "constant_memory": True,
    # Nothing a user typed becomes a formula, a number or a link: strings stay strings.
    "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
}

# What a cell holds, by the kind of the field or system column. Every kind of
# lib.customers.kinds has an entry (tests/test_export.py checks it).
TEXT, LABEL, MONEY, NUMBER, DAY, TIME, YES_NO = "text", "label", "money", "number", "date", "time", "yes_no"
DECIMAL = "decimal"  # a number kind's value: every place it has, none added
CELL_OF_KIND = {
    "text": TEXT, "longtext": TEXT, "phone": TEXT, "email": TEXT, "uscc": TEXT, "user": TEXT, "code": TEXT,
    "choice": LABEL, "money": MONEY, "date": DAY, "timestamp": TIME, "bool": YES_NO, "int": NUMBER,
    "number": DECIMAL, "yesno": YES_NO, "url": TEXT,
}


class ExportFormatError(CustomerMasterError):
    key = "error.export_format"


@dataclass(frozen=True)
class Column:
    """One exported column: a declared field or a system column."""

    name: str
    sql: str  # the SELECT expression (customers ``c``, primary contact ``p``)
    cell: str  # one of TEXT, LABEL, MONEY, NUMBER, DECIMAL, DAY, TIME, YES_NO
    source: Field | SystemColumn

    def label(self, lang: str) -> str:
        return self.source.label(lang)


def export_columns(fields: Sequence[Field] | None = None) -> tuple[Column, ...]:
    """The code, every declared field of the customer and its primary contact, then the
    other system columns, in that order."""
    system = [c for c in F.SYSTEM_COLUMNS if c.name != "code"]
    out = [Column("code", "c.code", CELL_OF_KIND["code"], F.SYSTEM_BY_NAME["code"])]
    for f in F.declared(fields):
        table = {"customer": "c", "primary_contact": "p"}[f.storage]
        out.append(Column(f.name, f"{table}.{f.db_column}", CELL_OF_KIND[f.kind], f))
    out += [Column(c.name, f"c.{c.name}", CELL_OF_KIND[c.kind], c) for c in system]
    return tuple(out)


def headers(lang: str, fields: Sequence[Field] | None = None) -> list[str]:
    return [formula_safe(c.label(lang)) for c in export_columns(fields)]


def _converters(db, columns: Sequence[Column], lang: str, fmt: str) -> list[Callable[[Any], Any]]:
    """Per column, stored value -> cell value: str (through ``formula_safe``), Decimal
    or None; for XLSX dates and naive local datetimes, for CSV their text. (The CSV's
    text is made here, once per value, rather than by testing every cell's type.)"""
    lists = db.reference_lists()
    yes, no = t("export.yes", lang), t("export.no", lang)
    key = "label_zh" if lang == "zh" else "label_en"

    def text(v):
        return None if v is None else formula_safe(str(v))

    def number(v):
        return v

    def decimal(v):
        # 12.5, not the column's 12.5000 (nor 1.25E+1): a Decimal the CSV writes as it reads.
        return None if v is None else Decimal(plain_number(v))

    as_text = fmt == "csv"
    # Asia/Shanghai has a fixed offset (lib.core.clock): adding it is to_local without
    # the time-zone arithmetic, a tenth of the export's time at 1M rows.
    shift = timedelta(hours=SHANGHAI_OFFSET_HOURS)

    def day(v):
        return None if v is None else (v.isoformat() if as_text else v)

    def time(v):
        if v is None:
            return None
        local = (v + shift).replace(microsecond=0)
        return local.strftime(TIME_FORMAT) if as_text else local

    def yes_no(v):
        return None if v is None else (yes if v else no)

    def label_of(options: str):
        labels = {it["code"]: it[key] for it in lists.get(options, [])}

        def label(v):
            return None if v is None else formula_safe(labels.get(v, str(v)))

        return label

    out = []
    for c in columns:
        if c.cell == LABEL:
            out.append(label_of(c.source.options))
        else:
            out.append({TEXT: text, MONEY: number, NUMBER: number, DECIMAL: decimal, DAY: day, TIME: time,
                        YES_NO: yes_no}[c.cell])
    return out


def _batches(cur, columns: Sequence[Column], where: str, params: list[Any], batch_size: int) -> Iterator[list[tuple]]:
    """The rows ``where`` selects, in id order, ``batch_size`` ids at a time: each batch is
    the customers of one range of ids and, by a second query over the same range, their
    primary contacts, in the caller's transaction. A result never holds more than one
    range's rows: a single query joining the contacts made DuckDB hold every primary
    contact in its hash join (+140 MB at 1M, and "out of memory" under a 64 MB limit)."""
    own = [i for i, c in enumerate(columns) if c.sql.startswith("c.")]
    contact = [i for i, c in enumerate(columns) if c.sql.startswith("p.")]
    rows_sql = (f"SELECT c.id, {', '.join(columns[i].sql for i in own)} FROM customers c"
                f" WHERE {where} AND c.id BETWEEN ? AND ? ORDER BY c.id")
    contacts_sql = (f"SELECT p.customer_id, {', '.join(columns[i].sql for i in contact)} FROM contacts p"
                    " WHERE p.customer_id BETWEEN ? AND ? AND p.is_primary AND NOT p.deleted")
    lo, top = cur.execute("SELECT min(id), max(id) FROM customers").fetchone()
    while lo is not None and lo <= top:
        hi = lo + batch_size - 1  # ids are unique: at most batch_size rows
        found = cur.execute(rows_sql, [*params, lo, hi]).fetchall()
        if found:
            contacts = {}
            if contact:
                contacts = {r[0]: r[1:] for r in cur.execute(contacts_sql, [found[0][0], found[-1][0]]).fetchall()}
            empty = (None,) * len(contact)
            batch = []
            for r in found:
                row: list[Any] = [None] * len(columns)
                for i, v in zip(own, r[1:]):
                    row[i] = v
                for i, v in zip(contact, contacts.get(r[0], empty)):
                    row[i] = v
                batch.append(tuple(row))
            yield batch
            lo = hi + 1
        else:
            # Over a gap in the ids (a restore moves the sequence on) in one step. (Not
            # min(id): with the index preferred (db.py) that walked the index, 0.5 s at 1M.)
            after = cur.execute("SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT 1", [hi]).fetchone()
            lo = after[0] if after else None


def filters_json(filters: CustomerFilters) -> dict[str, Any]:
    """The filters as the audit entry records them (only what narrows the search)."""
    out: dict[str, Any] = {}
    if filters.text:
        out["text"] = filters.text
    choices = {name: list(filters.chosen(name)) for name in list_filters() if filters.chosen(name)}
    if choices:
        out["choices"] = choices
    if filters.created_from:
        out["created_from"] = filters.created_from.isoformat()
    if filters.created_to:
        out["created_to"] = filters.created_to.isoformat()
    if filters.not_reviewed_days is not None:
        out["not_reviewed_days"] = filters.not_reviewed_days
    out["archived"] = filters.archived
    return out


def filters_from_json(data: Any) -> CustomerFilters:
    """The filters ``filters_json`` recorded (anything not in its shape is left out)."""
    data = data if isinstance(data, dict) else {}
    choices = data.get("choices") if isinstance(data.get("choices"), dict) else {}
    names = set(list_filters())

    def day(v: Any) -> date | None:
        try:
            return date.fromisoformat(v) if isinstance(v, str) else None
        except ValueError:
            return None

    days = data.get("not_reviewed_days")
    archived = data.get("archived")
    return CustomerFilters(
        text=data["text"] if isinstance(data.get("text"), str) else "",
        choices={k: tuple(str(x) for x in v) for k, v in choices.items() if k in names and isinstance(v, list)},
        created_from=day(data.get("created_from")), created_to=day(data.get("created_to")),
        not_reviewed_days=days if isinstance(days, int) and not isinstance(days, bool) else None,
        archived=archived if archived in ("active", "archived", "all") else "active")


# -- download links -----------------------------------------------------------------------------
# The customers page offers an export as a link to the server's download route
# (server.py), which streams the file as it is written instead of handing Streamlit the
# whole file to hold. The link carries a ticket: what to export (format, language,
# filters) for whom, until when, signed with the app's signing key so it cannot be
# altered or made up. A ticket alone is not enough: the request must also carry the
# login cookie of a live session of the same user (a leaked link is no use to anyone
# else), and the export checks that user's permission as it is now.
TICKET_PURPOSE = "customers-export"
TICKET_MINUTES = 60


@dataclass(frozen=True)
class Ticket:
    username: str
    fmt: str
    lang: str
    filters: CustomerFilters


def download_ticket(actor, filters: CustomerFilters, fmt: str, lang: str, key: str,
                    now: datetime | None = None) -> str:
    """A signed ticket for ``actor``'s export of ``filters`` as ``fmt``, good for
    ``TICKET_MINUTES``."""
    from lib.accounts import sessions

    if fmt not in FORMATS:
        raise ExportFormatError(format=str(fmt)[:20])
    return sessions.link_ticket(TICKET_PURPOSE, actor.username, lang, key, TICKET_MINUTES, now,
                                fmt=fmt, filters=filters_json(filters))


def read_ticket(raw: Any, key: str, now: datetime | None = None) -> Ticket | None:
    """The ticket ``download_ticket`` made, or None if it does not verify, is not an
    export ticket, or has expired."""
    from lib.accounts import sessions

    claims = sessions.read_link_ticket(raw, key, TICKET_PURPOSE, now)
    if claims is None or claims.get("fmt") not in FORMATS:
        return None
    return Ticket(claims["username"], claims["fmt"], claims["lang"], filters_from_json(claims.get("filters")))


@contextlib.contextmanager
def _binary_out(out: BinaryIO | str | os.PathLike) -> Iterator[BinaryIO]:
    """``out`` itself, or a new file at that path (removed again if the export fails)."""
    if not isinstance(out, (str, os.PathLike)):
        yield out
        return
    path = Path(out)
    try:
        with open(path, "wb") as fh:
            yield fh
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def export_customers(db, actor, filters: CustomerFilters, fmt: str, out: BinaryIO | str | os.PathLike,
                     lang: str, *, batch_size: int = BATCH) -> int:
    """Write the customers ``filters`` select, as ``actor`` may export them
    (``customer.export``; PermissionDenied without it), to ``out`` (a binary file
    object or a path) as ``fmt`` ("csv" or "xlsx"), headers and labels in ``lang``.
    Returns the number of rows written; the audit entry is committed with the read."""
    if fmt not in FORMATS:
        raise ExportFormatError(format=str(fmt)[:20])
    where, params = where_clause(actor, filters, action=perm.CUSTOMER_EXPORT)
    columns = export_columns()
    convert = _converters(db, columns, lang, fmt)
    batch_size = max(1, int(batch_size))
    with _binary_out(out) as sink, db.transaction() as cur:

        def batches() -> Iterator[list[list[Any]]]:
            for rows in _batches(cur, columns, where, params, batch_size):
                yield [[f(v) for f, v in zip(convert, row)] for row in rows]

        head = headers(lang)
        if fmt == "csv":
            written = _write_csv(sink, head, batches())
        else:
            written = _write_xlsx(sink, head, columns, batches(), lang)
        changes = {"format": fmt, "filters": filters_json(filters), "rows": written,
                   "scope": actor.scope(perm.CUSTOMER_EXPORT)}
        # Like the users' and backups' entries: no customer, entity id 0.
        cs.append_audit(cur, now=utcnow(), actor=actor.username, action="export", customer_id=None, version=None,
                        changes=changes, entity="export", entity_id=0)
    return written


# -- streaming to a reader ------------------------------------------------------------------------
class Cancelled(Exception):
    """The reader of an ``ExportStream`` went away."""


STREAM_CHUNK = 256 * 1024  # bytes handed over at a time
STREAM_CHUNKS = 8  # chunks that may wait for the reader; then the export waits


class ExportStream:
    """An export written on a thread of its own and read chunk by chunk, as a web
    response sends it: ``read()`` gives the next chunk (None at the end), ``cancel()``
    stops it. At most ``STREAM_CHUNKS`` chunks wait for the reader, so a slow reader
    slows the export instead of piling the file up in memory.

    CSV goes to the reader as it is written. XLSX cannot (the zip is assembled at the
    end): it is written to a temporary file, which is then read out and removed. The
    permission is checked when the stream is made, so a refusal comes before any byte.
    A CSV export the reader abandons stops at its next write; its read and audit entry
    are rolled back, and an ``export`` entry with ``cancelled`` and the bytes sent
    records what left the building."""

    def __init__(self, db, actor, filters: CustomerFilters, fmt: str, lang: str, *, batch_size: int = BATCH,
                 chunk: int = STREAM_CHUNK, chunks: int = STREAM_CHUNKS):
        perm.require(actor, perm.CUSTOMER_EXPORT)
        if fmt not in FORMATS:
            raise ExportFormatError(format=str(fmt)[:20])
        self.db, self.actor, self.filters, self.fmt, self.lang = db, actor, filters, fmt, lang
        self.batch_size = batch_size
        self.rows: int | None = None  # set when the export has finished
        self.sent = 0  # bytes handed to the reader
        self._chunk = chunk
        self._queue: queue.Queue = queue.Queue(chunks)
        self._buffer = bytearray()
        self._gone = threading.Event()
        self._thread = threading.Thread(target=self._work, name="customers-export", daemon=True)

    def start(self) -> "ExportStream":
        self._thread.start()
        return self

    # the reader's side
    def read(self) -> bytes | None:
        """The next chunk; None at the end or once cancelled. Raises what the export
        raised."""
        if self._gone.is_set():
            return None
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        if item is not None:
            self.sent += len(item)
        return item

    def cancel(self) -> None:
        """Stop: the export ends at its next write; a reader waiting in ``read`` gets
        None. Does not wait for the export's thread. Nothing if already finished."""
        if self._gone.is_set():
            return
        self._gone.set()
        while True:  # the writer may be waiting for room: make it
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        try:
            self._queue.put_nowait(None)  # for a reader waiting in read()
        except queue.Full:  # the writer got one more chunk in; read() sees _gone
            pass

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    # the export's side (a file object for the writers)
    def write(self, data) -> int:
        self._buffer += data
        if len(self._buffer) >= self._chunk:
            self._put(bytes(self._buffer))
            self._buffer.clear()
        return len(data)

    def flush(self) -> None:
        pass

    def _put(self, item) -> None:
        """Hand ``item`` to the reader, waiting for room; raises ``Cancelled`` once the
        stream is cancelled. It waits a tenth of a second at a time: ``cancel`` makes room
        and then puts its own None in for a reader, which can take the room this writer
        was waiting for, and nobody reads after a cancel (a writer waiting for good
        held its thread and its read transaction for the server's lifetime)."""
        while True:
            if self._gone.is_set():
                raise Cancelled
            try:
                self._queue.put(item, timeout=0.1)
                break
            except queue.Full:
                continue
        if self._gone.is_set():
            raise Cancelled

    def _work(self) -> None:
        try:
            if self.fmt == "csv":
                self.rows = export_customers(self.db, self.actor, self.filters, "csv", self, self.lang,
                                             batch_size=self.batch_size)
            else:
                with tempfile.TemporaryFile(prefix="cm-export-") as tmp:
                    self.rows = export_customers(self.db, self.actor, self.filters, "xlsx", tmp, self.lang,
                                                 batch_size=self.batch_size)
                    tmp.seek(0)
                    while block := tmp.read(self._chunk):
                        self.write(block)
            if self._buffer:
                self._put(bytes(self._buffer))
            self._put(None)
        except Cancelled:
            if self.rows is None:  # the read was rolled back: record what was sent
                self._record_cancelled()
        except BaseException as exc:  # noqa: BLE001 (handed to the reader)
            if not self._gone.is_set():
                self._queue.put(exc)

    def _record_cancelled(self) -> None:
        changes = {"format": self.fmt, "filters": filters_json(self.filters), "cancelled": True,
                   "bytes_sent": self.sent, "scope": self.actor.scope(perm.CUSTOMER_EXPORT)}
        with self.db.transaction() as cur:
            cs.append_audit(cur, now=utcnow(), actor=self.actor.username, action="export", customer_id=None,
                            version=None, changes=changes, entity="export", entity_id=0)


# -- CSV ----------------------------------------------------------------------------------------
def _write_csv(out: BinaryIO, head: list[str], batches: Iterator[list[list[Any]]]) -> int:
    out.write(codecs.BOM_UTF8)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(head)
    written = 0
    for rows in batches:
        writer.writerows(rows)  # text, Decimal or None (an empty cell) already
        out.write(buf.getvalue().encode("utf-8"))
        buf.seek(0)
        buf.truncate()
        written += len(rows)
    out.write(buf.getvalue().encode("utf-8"))  # the header of an empty export
    return written


# -- XLSX ---------------------------------------------------------------------------------------
def _write_xlsx(out: BinaryIO, head: list[str], columns: Sequence[Column], batches: Iterator[list[list[Any]]],
                lang: str) -> int:
    import xlsxwriter

    book = xlsxwriter.Workbook(out, _XLSX_OPTIONS)
    bold = book.add_format({"bold": True})
    formats = {TIME: book.add_format({"num_format": _XLSX_TIME}), DAY: book.add_format({"num_format": _XLSX_DATE}),
               MONEY: book.add_format({"num_format": _XLSX_MONEY}), NUMBER: None, DECIMAL: None}
    cells = [c.cell for c in columns]
    title = t("export.sheet_customers", lang)
    sheets = 0

    def new_sheet():
        nonlocal sheets
        sheets += 1
        sheet = book.add_worksheet(title if sheets == 1 else f"{title} ({sheets})")
        for i, c in enumerate(columns):
            sheet.set_column(i, i, 20 if c.cell in (TIME, TEXT) else 14)
        sheet.freeze_panes(1, 0)
        for i, h in enumerate(head):
            sheet.write_string(0, i, h, bold)
        return sheet

    sheet = new_sheet()
    row_no = 0
    written = 0
    for rows in batches:
        for row in rows:
            row_no += 1
            if row_no >= XLSX_MAX_ROWS:
                sheet = new_sheet()
                row_no = 1
            for i, v in enumerate(row):
                if v is None:
                    continue
                cell = cells[i]
                if cell == MONEY or cell == NUMBER or cell == DECIMAL:
                    sheet.write_number(row_no, i, float(v), formats[cell])
                elif cell == TIME:
                    sheet.write_datetime(row_no, i, v, formats[TIME])
                elif cell == DAY:
                    sheet.write_datetime(row_no, i, datetime(v.year, v.month, v.day), formats[DAY])
                else:
                    sheet.write_string(row_no, i, v)
        written += len(rows)
    book.close()
    return written


# -- the import template ------------------------------------------------------------------------
def _sample_text(f: Field, lang: str) -> str:
    label = f.label(lang)
    # "Sample address", not "Sample Address"
    return t("export.sample_text", lang, label=label[:1].lower() + label[1:] if lang == "en" else label)


_SAMPLES: dict[str, Callable[[Field, str], Any]] = {
    # A value of each kind that validation accepts (the USCC passes its checksum).
    "text": lambda f, lang: _sample_text(f, lang),
    "longtext": lambda f, lang: _sample_text(f, lang),
    "phone": lambda f, lang: "13800138000",
    "email": lambda f, lang: "name@example.com",
    "uscc": lambda f, lang: "91110108551385082Q",
    "money": lambda f, lang: Decimal("100000.00"),
    "number": lambda f, lang: 12.5,  # a float: written as a plain number cell (a Decimal is money's)
    "yesno": lambda f, lang: t("export.yes", lang),
    "url": lambda f, lang: "https://www.example.com",
    "date": lambda f, lang: local_today(),
    "choice": lambda f, lang: None,  # the default's label, else the first active item's
    "user": lambda f, lang: None,  # the actor's username, when given
}


def template_fields(fields: Sequence[Field] | None = None) -> tuple[Field, ...]:
    """The columns of the import template: every declared field, in declaration order."""
    return F.declared(fields)


def sample_row(db, lang: str, actor=None, fields: Sequence[Field] | None = None) -> list[Any]:
    """A customer the template shows as an example, one value per ``template_fields``."""
    lists = db.reference_lists()
    key = "label_zh" if lang == "zh" else "label_en"
    row = []
    for f in template_fields(fields):
        value = _SAMPLES[f.kind](f, lang)
        if f.kind == "choice":
            items = [it for it in lists.get(f.options, []) if it["active"]]
            chosen = next((it for it in items if it["code"] == f.default), items[0] if items else None)
            value = chosen[key] if chosen else None
        elif f.kind == "user" and actor is not None:
            value = actor.username
        row.append(value)
    return row


def import_template(db, lang: str, *, actor=None, fields: Sequence[Field] | None = None) -> bytes:
    """A blank import file (XLSX): the declared fields' labels in ``lang`` as the header
    row, one sample row, and for every list column a drop-down (data validation) of the
    active items' labels, kept on a second, hidden sheet."""
    import xlsxwriter

    decl = template_fields(fields)
    lists = db.reference_lists()
    key = "label_zh" if lang == "zh" else "label_en"
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {k: v for k, v in _XLSX_OPTIONS.items() if k != "constant_memory"})
    sheet = book.add_worksheet(t("export.sheet_customers", lang))
    values_sheet_name = t("export.sheet_lists", lang)
    values = book.add_worksheet(values_sheet_name)
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": _XLSX_MONEY})
    day = book.add_format({"num_format": _XLSX_DATE})
    sheet.freeze_panes(1, 0)
    list_col = 0
    for i, (f, sample) in enumerate(zip(decl, sample_row(db, lang, actor, decl))):
        sheet.set_column(i, i, 18)
        sheet.write_string(0, i, formula_safe(f.label(lang)), bold)
        if isinstance(sample, Decimal):
            sheet.write_number(1, i, float(sample), money)
        elif isinstance(sample, float):
            sheet.write_number(1, i, sample)
        elif isinstance(sample, date):
            sheet.write_datetime(1, i, datetime(sample.year, sample.month, sample.day), day)
        elif sample is not None:
            sheet.write_string(1, i, formula_safe(str(sample)))
        if f.kind != "choice":
            continue
        labels = [it[key] for it in lists.get(f.options, []) if it["active"]]
        if not labels:
            continue
        values.write_string(0, list_col, formula_safe(f.label(lang)), bold)
        for r, label in enumerate(labels, start=1):
            values.write_string(r, list_col, formula_safe(label))
        letter = xlsxwriter.utility.xl_col_to_name(list_col)
        sheet.data_validation(1, i, XLSX_MAX_ROWS - 1, i, {
            "validate": "list",
            "source": f"='{values_sheet_name}'!${letter}$2:${letter}${len(labels) + 1}",
            # A warning, not a stop: an import also reads codes and the other language's labels.
            "error_type": "warning",
            "error_title": formula_safe(f.label(lang))[:32],
            "error_message": t("export.not_in_list", lang)[:255],
        })
        list_col += 1
    values.hide()
    book.close()
    return buf.getvalue()


def file_name(fmt: str, today: date | None = None) -> str:
    """customers-2026-12-06.csv (the local date)."""
    return f"customers-{(today or local_today()).isoformat()}.{fmt}"


TEMPLATE_FILE_NAME = "customer-import-template.xlsx"

