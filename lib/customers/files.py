"""A customer's files (签约文件): signed contracts, licences, quotations.

The metadata a user edits (title, document kind) is ``lib.customers.fields.FILE_FIELDS``
and goes through the parts write path (``lib.customers.parts``) like a contact's; the
system sets the rest from the uploaded bytes. The rules of this kind:

* **What is accepted** is decided from the bytes, never from the name: ``puremagic``
  (pure Python, no libmagic) names the candidate type, and container formats are then
  opened to confirm it: an OOXML file must be a zip whose ``[Content_Types].xml``
  declares the main part of a Word, Excel or PowerPoint document *and* has that part
  (macro-enabled variants declare another content type and are refused); a legacy
  Word or Excel file must be an OLE2 compound file with a ``WordDocument`` or
  ``Workbook``/``Book`` stream (an MSI installer is OLE2 too). Allowed: PDF, PNG,
  JPEG, GIF, WebP, docx, xlsx, pptx, doc, xls. Everything else is refused, an
  executable (ELF, PE, Mach-O, a ``#!`` script) whatever it is called, text, HTML and
  SVG (which can carry script) included.
* **Size**: empty files are refused; the largest is the setting ``upload_max_mb``
  (MB), read at each upload.
* **Storage**: the bytes go to ``attachment_blobs`` under the file's id, in the same
  transaction as its row and its audit entry. The user's file name is kept (cleaned)
  only to show and to offer on download; it never names anything stored. The audit
  entry has the name, size, type and SHA-256, never the bytes.
* **Download** returns exactly the stored bytes, after checking their SHA-256.
* **Removal** marks the file deleted (audited); its bytes stay, like every removed part.

Files are rows of the database file, so a backup (``lib.ops.backup``) carries them.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import posixpath
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any, Mapping

import puremagic

from lib.core import settings
from lib.core.errors import CustomerMasterError, NotFound, ValidationError
from lib.customers import fields as F
from lib.customers import parts
from lib.customers.parts import PartKind, Write

FILENAME_MAX = 255  # attachments.filename CHECK (length BETWEEN 1 AND 255)


@dataclass(frozen=True)
class FileType:
    name: str  # pdf, png, …
    content_type: str
    extensions: tuple[str, ...]  # the first is added to a name that has none of them


PDF = FileType("pdf", "application/pdf", (".pdf",))
PNG = FileType("png", "image/png", (".png",))
JPEG = FileType("jpeg", "image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"))
GIF = FileType("gif", "image/gif", (".gif",))
WEBP = FileType("webp", "image/webp", (".webp",))
DOCX = FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))
XLSX = FileType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
PPTX = FileType("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",))
DOC = FileType("doc", "application/msword", (".doc",))
XLS = FileType("xls", "application/vnd.ms-excel", (".xls",))
ALLOWED_TYPES = (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, DOC, XLS)

# What puremagic calls the types that need no further look.
_BY_MIME = {t.content_type: t for t in (PDF, PNG, JPEG, GIF, WEBP)}
# puremagic calls every zip one of the OOXML types and every OLE2 file a Word file; the
# container is opened to find which it really is (or that it is none).
_ZIP_MIMES = {DOCX.content_type, XLSX.content_type, PPTX.content_type}
_OLE_MIMES = {DOC.content_type, XLS.content_type}

# OOXML: (the main part, the content type [Content_Types].xml gives it).
_OOXML_MAIN = (
    (DOCX, "word/document.xml",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    (XLSX, "xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    (PPTX, "ppt/presentation.xml",
     "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
)
_OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Stream names in an OLE2 directory are UTF-16LE, padded with zeros.
_OLE_STREAMS = ((DOC, ("WordDocument",)), (XLS, ("Workbook", "Book")))

# Executables refused by name in the message, before anything else looks at the bytes.
_EXECUTABLE_HEADERS = (
    b"\x7fELF",  # Linux / Unix
    b"MZ",  # Windows PE, DOS
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Mach-O universal (and Java classes)
    b"#!",  # scripts
)


# -- what the bytes are ----------------------------------------------------------------
def _ooxml_type(data: bytes) -> FileType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "[Content_Types].xml" not in names:
                return None
            if z.getinfo("[Content_Types].xml").file_size > 1_000_000:
                return None
            declared = z.read("[Content_Types].xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, ValueError):
        return None
    for file_type, main_part, main_type in _OOXML_MAIN:
        if main_part in names and f'"{main_type}"' in declared:
            return file_type
    return None


def _ole_type(data: bytes) -> FileType | None:
    if not data.startswith(_OLE_HEADER):
        return None
    for file_type, streams in _OLE_STREAMS:
        if any(s.encode("utf-16-le") + b"\x00\x00" in data for s in streams):
            return file_type
    return None


def sniff(data: bytes) -> FileType | None:
    """The allowed type of ``data``, judged from the bytes alone; None if it is none of
    them."""
    if not data or data.startswith(_EXECUTABLE_HEADERS):
        return None
    try:
        matches = puremagic.magic_string(data)
    except puremagic.PureError:  # nothing it knows: plain text, random bytes
        return None
    if not matches:
        return None
    best = max(m.confidence for m in matches)
    mimes = [m.mime_type for m in matches if m.confidence == best]
    for mime in mimes:
        if mime in _BY_MIME:
            return _BY_MIME[mime]
    if _ZIP_MIMES & set(mimes):
        return _ooxml_type(data)
    if _OLE_MIMES & set(mimes):
        return _ole_type(data)
    return None


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')


def clean_filename(name: Any, file_type: FileType) -> str:
    """The user's file name as shown and offered on download: its last path component,
    without control or reserved characters, at most 255 characters, ending with an
    extension of its real type (``contract.pdf`` holding a PNG becomes
    ``contract.pdf.png``). Never used to store anything."""
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    text = posixpath.basename(text.replace("\\", "/"))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    text = _UNSAFE_NAME.sub("_", text).strip().strip(".").strip()
    stem = text if text else "file"
    if not stem.lower().endswith(file_type.extensions):
        stem += file_type.extensions[0]
    if len(stem) > FILENAME_MAX:
        ext = posixpath.splitext(stem)[1]
        stem = stem[:FILENAME_MAX - len(ext)] + ext
    return stem


def max_bytes(db) -> int:
    """The upload limit in bytes, from the setting ``upload_max_mb`` as it is now (a value
    that is not a whole number of MB within the declared bounds counts as the default:
    an administrator's typo is not "no limit")."""
    return settings.value(db, "upload_max_mb") * 1024 * 1024


# -- the part kind -----------------------------------------------------------------------
# The columns the system sets, audited with the user's fields: name, type, size, hash.
_SYSTEM = {"filename": None, "content_type": None, "size_bytes": None, "sha256": None}

FILE = PartKind(
    name="file",
    table="attachments",
    id_seq="attachment_id_seq",
    fields=F.FILE_FIELDS,
    system_defaults=_SYSTEM,
    order_by="id DESC",  # newest first
)


# Storage types of the columns the write path sets itself, beside the fields' (the bulk
# demo loader's Arrow schema is ``file_columns()``; the bytes go to ``attachment_blobs``).
SYSTEM_COLUMN_TYPES = {
    "id": "BIGINT", "customer_id": "BIGINT", "filename": "VARCHAR", "content_type": "VARCHAR",
    "size_bytes": "BIGINT", "sha256": "VARCHAR", "created_at": "TIMESTAMP", "created_by": "VARCHAR",
    "updated_at": "TIMESTAMP", "updated_by": "VARCHAR", "version": "INTEGER", "deleted": "BOOLEAN",
}
BLOB_COLUMN_TYPES = {"attachment_id": "BIGINT", "content": "BLOB"}


def file_columns() -> dict[str, str]:
    """Every column of a new ``attachments`` row, with its SQL type."""
    return {**FILE.value_columns(), **SYSTEM_COLUMN_TYPES}


def system_values(filename: str, data: bytes) -> dict[str, Any]:
    """The columns the system sets from an upload's bytes: its cleaned name, type, size and
    SHA-256. ``ValidationError`` on field ``file`` if the bytes are of no allowed type."""
    file_type = sniff(data)
    if file_type is None:
        raise ValidationError("file", "validation.file_type")
    return {"filename": clean_filename(filename, file_type), "content_type": file_type.content_type,
            "size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def add_file(db, actor, customer_id: int, filename: str, data: bytes,
             values: Mapping[str, Any] | None = None) -> dict:
    """Store an uploaded file for the customer; returns its record (no bytes).

    ``ValidationError`` on field ``file`` if it is empty (``validation.file_empty``),
    larger than the setting ``upload_max_mb`` (``validation.file_too_large``) or not
    of an allowed type (``validation.file_type``); permission and "not found" as for
    any part."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValidationError("file", "validation.invalid")
    data = bytes(data)
    if not data:
        raise ValidationError("file", "validation.file_empty")
    limit = max_bytes(db)
    if len(data) > limit:
        raise ValidationError("file", "validation.file_too_large", max_mb=f"{limit / 1024 / 1024:g}",
                              size_mb=f"{len(data) / 1024 / 1024:.1f}")
    system = system_values(filename, data)

    def store_bytes(write: Write) -> None:
        write.cur.execute("INSERT INTO attachment_blobs (attachment_id, content) VALUES (?, ?)",
                          [write.part_id, data])

    # This upload's kind: the same kind, with its bytes written in the part's transaction.
    kind = dataclasses.replace(FILE, after=store_bytes)
    return parts.add_part(db, actor, kind, customer_id, values or {}, system_values=system)


def files_of(db, actor, customer_id: int, *, limit: int | None = None, offset: int = 0) -> tuple[list[dict], int]:
    """One page of the customer's files, newest first, and their count."""
    return parts.parts_of(db, actor, FILE, customer_id, limit=limit, offset=offset)


def get_file(db, actor, file_id: int) -> dict:
    return parts.get_part(db, actor, FILE, file_id)


def change_file(db, actor, file_id: int, changes: Mapping[str, Any], expected_version: int) -> dict:
    """Change a file's title or kind (its bytes never change: upload a new file)."""
    return parts.change_part(db, actor, FILE, file_id, changes, expected_version)


def remove_file(db, actor, file_id: int, expected_version: int) -> None:
    """Mark a file deleted (audited); it no longer lists or downloads."""
    parts.remove_part(db, actor, FILE, file_id, expected_version)


def download(db, actor, file_id: int) -> tuple[str, str, bytes]:
    """(file name, content type, bytes) of a file of a customer the actor may read:
    exactly the bytes stored. ``CustomerMasterError('error.file_damaged')`` if they no
    longer match the SHA-256 recorded at upload."""
    rec = get_file(db, actor, file_id)
    with db.read() as cur:
        row = cur.execute("SELECT content FROM attachment_blobs WHERE attachment_id = ?", [file_id]).fetchone()
    if row is None:
        raise NotFound("error.not_found", ref=file_id)
    content = bytes(row[0])
    if len(content) != rec["size_bytes"] or hashlib.sha256(content).hexdigest() != rec["sha256"]:
        raise CustomerMasterError("error.file_damaged", name=rec["filename"])
    return rec["filename"], rec["content_type"], content
