"""Reading an uploaded table (CSV or XLSX) into a header and rows, for import.

What arrives in practice: CSV written by Excel or by another system in UTF-8, UTF-8
with a BOM or GBK/GB18030 (the encoding is detected with ``charset_normalizer``, never
asked), separated by commas, semicolons or tabs; XLSX with a title row above the
header, header cells merged across or down two rows, empty rows in between and blank
columns at the end. ``read_sheet`` answers with the header it found, the data rows with
their row numbers in the file (what the user sees in Excel) and the names of the
workbook's sheets. Nothing here knows the customer: which header row is the real one is
decided with a scoring function the caller passes (import scores a row by how many of
its cells name a declared field).

Cells are returned as Python values: ``str`` (stripped; a spreadsheet's text marker
``'`` before a formula character removed, ``lib.core.text.formula_unsafe``), ``int``,
``float``, ``datetime``/``date``, ``bool`` or ``None`` for empty.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterator, Sequence

from charset_normalizer import from_bytes

from lib.core.errors import CustomerMasterError
from lib.core.text import formula_unsafe

# How many rows from the top may hold the header (title rows above it are skipped).
HEADER_SEARCH_ROWS = 10
# The GB family is read as GB18030, a superset of GB2312 and GBK: a detector that
# names the smaller set on a sample would otherwise fail on a rarer character later on.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936"}


@dataclass
class Sheet:
    """One table read from a file."""

    headers: list[str]  # one per column, "" where the header cell is empty
    rows: list[tuple[int, list[Any]]]  # (row number in the file, 1-based; cells)
    sheet_names: list[str] = field(default_factory=list)  # XLSX: every sheet; CSV: []
    sheet: str | None = None  # the sheet read (XLSX)
    encoding: str | None = None  # the encoding detected (CSV)
    header_row: int = 1  # the header's row number in the file


class SheetError(CustomerMasterError):
    """A file that cannot be read as a table (message key and parameters)."""


def is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def detect_encoding(data: bytes) -> str:
    """The encoding of a text file's bytes: a BOM decides; otherwise the detector's best
    guess (valid UTF-8 reads as UTF-8; the GB family as GB18030)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = list(from_bytes(data))
    if not matches:
        raise SheetError("import.unreadable_encoding")
    # The detector's candidates that read the bytes with the least noise; on a short
    # file (a header and a few names) GBK and a Korean or Japanese code page often tie,
    # and a customer file here is Chinese, so the GB family wins a tie.
    least = min(m.chaos for m in matches)
    tied = [m.encoding for m in matches if m.chaos == least]
    if any(_is_gb(enc) for enc in tied):
        return "gb18030"
    return tied[0]


def _is_gb(encoding: str) -> bool:
    enc = encoding.lower().replace("-", "").replace("_", "")
    return enc in _GB_FAMILY


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = formula_unsafe(value.strip())
        return value if value.strip() else None
    return value


def _is_empty(cells: Sequence[Any]) -> bool:
    return all(c is None for c in cells)


def _csv_rows(data: bytes, encoding: str) -> Iterator[list[Any]]:
    text = data.decode(encoding)
    sample = text[:65536]
    # Only the separator is guessed; quoting is Excel's (the sniffer takes the leading
    # apostrophe of a text-marked cell for a quote character).
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    for row in csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter):
        yield [_cell(c) for c in row]


def _xlsx_rows(data: bytes, sheet: str | None) -> tuple[Iterator[list[Any]], list[str], str]:
    """The rows of one sheet, from A1 (so row numbers are Excel's), with ``calamine``: it
    read a 100,000-row sheet in under 1 s where openpyxl's read-only mode took 17 s. A
    merged range's value is in its first cell, the others empty; a formula's last
    computed value is read, never the formula."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(wb.sheet_names)
        name = sheet if sheet in names else names[0]
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, IndexError, OSError) as exc:
        # not a workbook, a damaged or a password-protected one (CalamineError's kinds)
        raise SheetError("import.unreadable_xlsx") from exc
    return (list(map(_cell, r)) for r in rows), names, name


def _two_row_header(upper: Sequence[Any], lower: Sequence[Any], width: int,
                    known: Callable[[str], bool]) -> list[str]:
    """The headings of a header written over two rows: a group heading (联系人) merged
    across the columns of its sub-headings (姓名, 电话) reads 联系人姓名 and 联系人电话
    where that names a column; a heading merged down both rows is read from the upper
    row. Read-only XLSX gives a merged range's value in its first cell only, so a group
    heading is carried right over the empty upper cells that have a sub-heading."""
    out, carried = [], ""
    for j in range(width):
        up = _text(upper[j]) if j < len(upper) else ""
        low = _text(lower[j]) if j < len(lower) else ""
        if up:
            carried = up
        elif low:
            up = carried
        options = [o for o in (up + low if up and low else "", low, up) if o]
        out.append(next((o for o in options if known(o)), low or up))
    return out


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def read_sheet(data: bytes, *, sheet: str | None = None,
               header_score: Callable[[str], bool] = lambda h: bool(h)) -> Sheet:
    """Read a CSV or XLSX file's bytes. ``header_score(text)`` says whether a header
    cell names a known column; the header is the row among the first
    ``HEADER_SEARCH_ROWS`` non-empty ones with the most such cells (a two-row header,
    such as 联系人 merged over 姓名 and 电话, is read as 联系人姓名 and 联系人电话 when
    that names a column). Empty rows and blank columns at the end are dropped."""
    if not data:
        raise SheetError("import.empty_file")
    encoding = None
    names: list[str] = []
    name = None
    if is_xlsx(data):
        rows, names, name = _xlsx_rows(data, sheet)
    else:
        encoding = detect_encoding(data)
        try:
            rows = _csv_rows(data, encoding)
        except UnicodeDecodeError as exc:
            raise SheetError("import.unreadable_encoding") from exc
    numbered = ((i + 1, r) for i, r in enumerate(rows))
    top: list[tuple[int, list[Any]]] = []
    try:
        for n, cells in numbered:
            if not _is_empty(cells):
                top.append((n, cells))
                if len(top) >= HEADER_SEARCH_ROWS:
                    break
        rest = [(n, cells) for n, cells in numbered if not _is_empty(cells)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SheetError("import.unreadable_csv") from exc
    if not top:
        raise SheetError("import.empty_file")

    width = max(len(c) for _, c in [*top, *rest])
    # Candidates: each of the top rows alone, and each with the row just above it as a
    # two-row header; the one naming the most columns wins (a single row on a tie).
    candidates = []
    for i, (number, cells) in enumerate(top):
        candidates.append((i, [_text(cells[j]) if j < len(cells) else "" for j in range(width)]))
        if i > 0 and top[i - 1][0] == number - 1:
            candidates.append((i, _two_row_header(top[i - 1][1], cells, width, header_score)))

    def score(headers: Sequence[str]) -> int:
        return sum(1 for h in headers if h and header_score(h))

    best, headers = max(candidates, key=lambda c: score(c[1]))  # max keeps the first of equals
    if score(headers) == 0:
        best, headers = candidates[0]
    header_no = top[best][0]
    data_rows = [*top[best + 1:], *rest]
    # Blank columns at the end: no header and no value in any row.
    while width and not headers[width - 1] and all(
            len(c) < width or c[width - 1] is None for _, c in data_rows):
        width -= 1
    headers = headers[:width]
    data_rows = [(n, (list(c) + [None] * width)[:width]) for n, c in data_rows]
    return Sheet(headers=headers, rows=data_rows, sheet_names=names, sheet=name, encoding=encoding,
                 header_row=header_no)


def cell_text(value: Any) -> str | None:
    """A cell as the text a form field receives: numbers without a spurious ``.0`` (an
    Excel number cell holding a phone or an amount), dates as ISO dates."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
