"""A customer's files (签约文件) through the parts write path (service layer, real DuckDB
file): what is accepted, the size limit, the bytes and their hash, permissions, audit,
backup and restore."""
from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib

import openpyxl
import pytest

from lib.core.db import Database
from lib.core.errors import ConflictError, CustomerMasterError, NotFound, PermissionDenied, ValidationError
from lib.customers import customer as cs
from lib.customers import files as fl
from lib.ops import backup as bk


# -- tiny valid samples, built here ------------------------------------------------------
def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def png() -> bytes:
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def gif() -> bytes:
    return b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


def webp() -> bytes:
    return b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"


OOXML_MAIN = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "pptx": ("ppt/presentation.xml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
    "docm": ("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
}


def ooxml(kind: str, *, with_part: bool = True) -> bytes:
    part, content_type = OOXML_MAIN[kind]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/content-types"><Override PartName="/{part}" ContentType="{content_type}"/>'
                   "</Types>")
        z.writestr("_rels/.rels", "<Relationships/>")
        if with_part:
            z.writestr(part, "<document/>")
    return out.getvalue()


def xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "合同金额"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("contract.txt", "not an office file")
    return out.getvalue()


def ole2(stream: str) -> bytes:
    """An OLE2 compound-file header and one directory entry named ``stream``."""
    name = stream.encode("utf-16-le") + b"\x00\x00"
    entry = name.ljust(64, b"\x00") + struct.pack("<H", len(name)) + b"\x02"
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + entry.ljust(128, b"\x00")


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48
MACH_O = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 24
SCRIPT = b"#!/bin/sh\nrm -rf /\n"


def audit(db, customer_id) -> list[tuple]:
    with db.read() as cur:
        return cur.execute("SELECT action, entity_id, version, changes FROM audit_log"
                           " WHERE customer_id = ? AND entity = 'file' ORDER BY id", [customer_id]).fetchall()


def set_limit(db, mb: str) -> None:
    db.run_in_transaction(lambda cur: cur.execute("UPDATE settings SET value = ? WHERE key = 'upload_max_mb'", [mb]))
    db.invalidate("settings")


def refused(db, actor, customer_id, name, data) -> str:
    with pytest.raises(ValidationError) as ei:
        fl.add_file(db, actor, customer_id, name, data)
    assert ei.value.field == "file"
    return ei.value.problems[0].key


# -- what is accepted ---------------------------------------------------------------------
@pytest.mark.parametrize("name, build, content_type", [
    ("合同.pdf", pdf, "application/pdf"),
    ("scan.png", png, "image/png"),
    ("photo.jpg", jpeg, "image/jpeg"),
    ("stamp.gif", gif, "image/gif"),
    ("seal.webp", webp, "image/webp"),
    ("报价.docx", lambda: ooxml("docx"), fl.DOCX.content_type),
    ("报价.xlsx", xlsx, fl.XLSX.content_type),
    ("slides.pptx", lambda: ooxml("pptx"), fl.PPTX.content_type),
    ("old.doc", lambda: ole2("WordDocument"), "application/msword"),
    ("old.xls", lambda: ole2("Workbook"), "application/vnd.ms-excel"),
])
def test_documents_and_images_are_accepted_and_typed_from_their_bytes(db, actors, make_customer, name, build,
                                                                      content_type):
    c = make_customer()
    data = build()
    rec = fl.add_file(db, actors["manager"], c["id"], name, data, {"file_title": "签约合同"})
    assert (rec["filename"], rec["content_type"], rec["size_bytes"]) == (name, content_type, len(data))
    assert rec["sha256"] == hashlib.sha256(data).hexdigest()
    assert rec["file_title"] == "签约合同" and rec["file_kind"] == "contract" and rec["version"] == 1
    assert fl.download(db, actors["viewer"], rec["id"]) == (name, content_type, data)


def test_the_type_comes_from_the_bytes_not_the_name(db, actors, make_customer):
    c = make_customer()
    rec = fl.add_file(db, actors["manager"], c["id"], "contract.pdf", png())
    # A PNG called .pdf is a PNG; the offered name gets the real type's extension.
    assert rec["content_type"] == "image/png" and rec["filename"] == "contract.pdf.png"
    rec = fl.add_file(db, actors["manager"], c["id"], "no-extension", pdf())
    assert rec["filename"] == "no-extension.pdf"


@pytest.mark.parametrize("name, data", [
    ("contract.pdf", ELF),
    ("contract.pdf", PE),
    ("invoice.docx", MACH_O),
    ("photo.png", SCRIPT),
    ("setup.exe", PE),
])
def test_a_renamed_executable_is_refused_whatever_its_name(db, actors, make_customer, name, data):
    c = make_customer()
    assert refused(db, actors["manager"], c["id"], name, data) == "validation.file_type"
    assert fl.files_of(db, actors["manager"], c["id"]) == ([], 0)


@pytest.mark.parametrize("name, data", [
    ("notes.txt", "合同条款：见附件\n".encode()),
    ("page.pdf", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("data.xlsx", plain_zip()),  # a zip that is not an Office document
    ("doc.docx", ooxml("docx", with_part=False)),  # declares a Word document it does not contain
    ("macro.docx", ooxml("docm")),  # macro-enabled Word
    ("setup.doc", ole2("SummaryInformation")),  # OLE2 but neither Word nor Excel (an MSI, say)
    ("random.pdf", bytes(range(256)) * 4),
])
def test_text_html_svg_and_other_containers_are_refused(db, actors, make_customer, name, data):
    c = make_customer()
    assert refused(db, actors["manager"], c["id"], name, data) == "validation.file_type"


def test_an_empty_file_is_refused(db, actors, make_customer):
    c = make_customer()
    assert refused(db, actors["manager"], c["id"], "empty.pdf", b"") == "validation.file_empty"
    assert fl.files_of(db, actors["manager"], c["id"]) == ([], 0)


def test_the_size_limit_is_the_setting_read_at_each_upload(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer()
    assert db.settings()["upload_max_mb"] == "20"  # migration 6's default
    big = pdf() + b"%" + b"0" * (2 * 1024 * 1024)  # a PDF a little over 2 MB
    assert fl.add_file(db, m, c["id"], "big.pdf", big)["size_bytes"] == len(big)
    set_limit(db, "2")
    with pytest.raises(ValidationError) as ei:
        fl.add_file(db, m, c["id"], "big.pdf", big)
    assert (ei.value.problems[0].key, ei.value.problems[0].params["max_mb"]) == ("validation.file_too_large", "2")
    exactly = pdf().ljust(2 * 1024 * 1024, b"0")
    assert fl.add_file(db, m, c["id"], "exact.pdf", exactly)["size_bytes"] == 2 * 1024 * 1024
    assert fl.files_of(db, m, c["id"])[1] == 2


def test_the_users_file_name_is_cleaned_and_names_nothing_stored(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer()
    assert fl.add_file(db, m, c["id"], "../../etc/passwd.pdf", pdf())["filename"] == "passwd.pdf"
    assert fl.add_file(db, m, c["id"], "合\x00同\r\n<x>?.pdf", pdf())["filename"] == "合同_x__.pdf"
    assert fl.add_file(db, m, c["id"], "C:\\Users\\li\\合同.pdf", pdf())["filename"] == "合同.pdf"
    assert fl.add_file(db, m, c["id"], "", pdf())["filename"] == "file.pdf"
    long = fl.add_file(db, m, c["id"], "长" * 300 + ".pdf", pdf())["filename"]
    assert len(long) == 255 and long.endswith(".pdf")
    with db.read() as cur:  # the bytes are kept by the file's id, nothing else
        keys = cur.execute("SELECT attachment_id FROM attachment_blobs ORDER BY 1").fetchall()
    assert [k for (k,) in keys] == sorted(r["id"] for r in fl.files_of(db, m, c["id"])[0])


# -- the bytes ------------------------------------------------------------------------------
def test_download_returns_exactly_the_stored_bytes_and_checks_their_hash(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer()
    data = xlsx()
    rec = fl.add_file(db, m, c["id"], "报价.xlsx", data)
    name, content_type, back = fl.download(db, m, rec["id"])
    assert back == data and hashlib.sha256(back).hexdigest() == rec["sha256"]
    damaged = data[:-1] + bytes([data[-1] ^ 0xFF])
    with db.transaction() as cur:  # changed behind the service's back
        cur.execute("UPDATE attachment_blobs SET content = ? WHERE attachment_id = ?", [damaged, rec["id"]])
    with pytest.raises(CustomerMasterError) as ei:
        fl.download(db, m, rec["id"])
    assert ei.value.key == "error.file_damaged"


def test_files_list_newest_first_and_page(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer()
    made = [fl.add_file(db, m, c["id"], f"f{i}.pdf", pdf() + bytes([i])) for i in range(3)]
    rows, total = fl.files_of(db, m, c["id"], limit=2, offset=0)
    assert total == 3 and [r["id"] for r in rows] == [made[2]["id"], made[1]["id"]]
    rows, _ = fl.files_of(db, m, c["id"], limit=2, offset=2)
    assert [r["id"] for r in rows] == [made[0]["id"]]
    assert "content" not in rows[0]


# -- metadata, removal, audit ----------------------------------------------------------------
def test_metadata_changes_through_the_version_check_and_stale_ones_are_refused(db, actors, make_customer):
    m, s = actors["manager"], actors["sales"]
    c = make_customer(owner="sales")
    rec = fl.add_file(db, s, c["id"], "合同.pdf", pdf())
    changed = fl.change_file(db, m, rec["id"], {"file_title": "2026 年框架合同", "file_kind": "quotation"},
                             rec["version"])
    assert (changed["file_title"], changed["file_kind"], changed["version"]) == ("2026 年框架合同", "quotation", 2)
    with pytest.raises(ConflictError) as ei:
        fl.change_file(db, s, rec["id"], {"file_title": "旧标题"}, rec["version"])
    assert ei.value.current["file_title"] == "2026 年框架合同" and ei.value.params["by"] == "manager"
    with pytest.raises(ConflictError):
        fl.remove_file(db, s, rec["id"], rec["version"])
    with pytest.raises(ValidationError) as ei:
        fl.change_file(db, s, rec["id"], {"file_kind": "invoice"}, changed["version"])
    assert ei.value.problems[0].key == "validation.not_in_list"
    # The system's columns are not the user's to change.
    for key in ("filename", "sha256", "content_type", "size_bytes"):
        with pytest.raises(ValidationError) as ei:
            fl.change_file(db, m, rec["id"], {key: "x"}, changed["version"])
        assert ei.value.problems[0].key == "validation.read_only"
        with pytest.raises(ValidationError):
            fl.add_file(db, m, c["id"], "x.pdf", pdf(), {key: "x"})
    assert fl.download(db, s, rec["id"]) == ("合同.pdf", "application/pdf", pdf())


def test_every_file_write_is_audited_with_name_size_type_and_hash_never_the_bytes(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer()
    data = pdf()
    rec = fl.add_file(db, m, c["id"], "合同.pdf", data, {"file_kind": "license"})
    rec = fl.change_file(db, m, rec["id"], {"file_title": "营业执照"}, rec["version"])
    fl.remove_file(db, m, rec["id"], rec["version"])
    entries = audit(db, c["id"])
    assert [(a, i, v) for a, i, v, _ in entries] == [("create", rec["id"], 1), ("update", rec["id"], 2),
                                                     ("delete", rec["id"], 3)]
    created, updated, deleted = (json.loads(ch) for *_, ch in entries)
    assert created == {"file_kind": [None, "license"], "filename": [None, "合同.pdf"],
                       "content_type": [None, "application/pdf"], "size_bytes": [None, len(data)],
                       "sha256": [None, hashlib.sha256(data).hexdigest()]}
    assert updated == {"file_title": [None, "营业执照"]}
    assert deleted["filename"] == ["合同.pdf", None] and deleted["sha256"][0] == hashlib.sha256(data).hexdigest()
    assert [e["entity"] for e in cs.history(db, m, c["id"])].count("file") == 3


def test_a_removed_file_no_longer_lists_or_downloads_but_its_bytes_stay(db, actors, make_customer):
    m = actors["manager"]
    c = make_customer()
    keep = fl.add_file(db, m, c["id"], "keep.pdf", pdf())
    gone = fl.add_file(db, m, c["id"], "gone.png", png())
    fl.remove_file(db, m, gone["id"], gone["version"])
    assert [r["id"] for r in fl.files_of(db, m, c["id"])[0]] == [keep["id"]]
    with pytest.raises(NotFound):
        fl.download(db, m, gone["id"])
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM attachment_blobs WHERE attachment_id = ?",
                           [gone["id"]]).fetchone()[0] == 1


class AuditDown(Exception):
    pass


def test_a_file_its_bytes_and_its_audit_entry_commit_together(db, actors, make_customer, monkeypatch):
    m = actors["manager"]
    c = make_customer()

    def failing_audit(*args, **kwargs):
        raise AuditDown()

    monkeypatch.setattr(cs, "append_audit", failing_audit)
    with pytest.raises(AuditDown):
        fl.add_file(db, m, c["id"], "合同.pdf", pdf())
    monkeypatch.undo()
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM attachments").fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM attachment_blobs").fetchone()[0] == 0


# -- who may do what ---------------------------------------------------------------------------
def test_who_may_touch_files(db, actors, make_customer):
    own = make_customer(owner="sales")
    others = make_customer(owner="sales2")
    s, v = actors["sales"], actors["viewer"]
    mine = fl.add_file(db, s, own["id"], "mine.pdf", pdf())
    theirs = fl.add_file(db, actors["sales2"], others["id"], "theirs.pdf", pdf())
    # Another owner's customer and its files: not found, for reading and writing.
    with pytest.raises(NotFound):
        fl.add_file(db, s, others["id"], "x.pdf", pdf())
    with pytest.raises(NotFound):
        fl.files_of(db, s, others["id"])
    with pytest.raises(NotFound):
        fl.download(db, s, theirs["id"])
    with pytest.raises(NotFound):
        fl.change_file(db, s, theirs["id"], {"file_title": "x"}, theirs["version"])
    with pytest.raises(NotFound):
        fl.remove_file(db, s, theirs["id"], theirs["version"])
    # A viewer reads and downloads, and writes nothing.
    assert fl.files_of(db, v, own["id"])[1] == 1
    assert fl.download(db, v, mine["id"])[2] == pdf()
    with pytest.raises(PermissionDenied):
        fl.add_file(db, v, own["id"], "x.pdf", pdf())
    with pytest.raises(PermissionDenied):
        fl.change_file(db, v, mine["id"], {"file_title": "x"}, mine["version"])
    with pytest.raises(PermissionDenied):
        fl.remove_file(db, v, mine["id"], mine["version"])
    # Managers change anyone's.
    fl.remove_file(db, actors["manager"], theirs["id"], theirs["version"])
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM attachments").fetchone()[0] == 2  # nothing erased
        assert cur.execute("SELECT count(*) FROM audit_log WHERE entity = 'file'").fetchone()[0] == 3
    # An archived customer's files are read-only until it is restored.
    archived = cs.archive_customer(db, actors["manager"], own["id"], own["version"])
    with pytest.raises(CustomerMasterError) as ei:
        fl.add_file(db, s, own["id"], "x.pdf", pdf())
    assert ei.value.key == "error.archived"
    assert fl.download(db, s, mine["id"])[2] == pdf()
    cs.restore_customer(db, actors["manager"], own["id"], archived["version"])
    assert fl.add_file(db, s, own["id"], "x.pdf", pdf())["customer_id"] == own["id"]


# -- backup and restore --------------------------------------------------------------------------
def test_backup_and_restore_carry_the_files_bytes(db, db_path, actors, make_customer, tmp_path):
    m = actors["manager"]
    c = make_customer()
    data = xlsx()
    rec = fl.add_file(db, m, c["id"], "报价.xlsx", data)
    other = fl.add_file(db, m, c["id"], "合同.pdf", pdf())
    target = tmp_path / "b.duckdb"
    bk.backup(db, target)
    # After the backup: one file removed, one renamed, one added.
    fl.remove_file(db, m, rec["id"], rec["version"])
    fl.change_file(db, m, other["id"], {"file_title": "改名"}, other["version"])
    fl.add_file(db, m, c["id"], "later.png", png())
    db.close()

    bk.restore(target, db_path)
    restored = Database(db_path)
    try:
        m2 = restored.actor("manager", "manager")
        rows, total = fl.files_of(restored, m2, c["id"])
        assert total == 2 and {r["filename"] for r in rows} == {"报价.xlsx", "合同.pdf"}
        assert next(r for r in rows if r["id"] == other["id"])["file_title"] is None
        name, content_type, back = fl.download(restored, m2, rec["id"])
        assert (name, content_type, back) == ("报价.xlsx", fl.XLSX.content_type, data)
        assert hashlib.sha256(back).hexdigest() == rec["sha256"]
        assert fl.download(restored, m2, other["id"])[2] == pdf()
    finally:
        restored.close()
