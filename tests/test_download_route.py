"""The export download route (ui/downloads.py, mounted by server.py) on a real server:
a link is served only with a good ticket, a live login of the ticket's user and the
permission as it is now; the file is the export, streamed; refusals say why in the
user's language and export nothing. (The file's contents are lib.customers.export's,
tested in test_export.py; a browser downloads through it in tests/browser/test_export.py.)"""
from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
from datetime import timedelta
from email.message import Message
from urllib.parse import urlencode

import openpyxl
import pytest

from lib.accounts import sessions, users
from lib.core.clock import utcnow
from lib.core.config import COOKIE_NAME
from lib.core.db import Database
from lib.core.i18n import t
from lib.customers import export as ex
from lib.customers.search import CustomerFilters
from lib.ops import backup
from tests.browser import util
from ui.downloads import BACKUP_PATH, CUSTOMERS_PATH

KEY = util.COOKIE_KEY  # the key start_server gives the server
DAYS = 7  # the default login lifetime


@pytest.fixture
def served(tmp_path_factory):
    """A server on a small demo database, and everything the requests need, made before
    it starts (the server then holds the database file)."""
    demo = util.seed_demo_db(tmp_path_factory.mktemp("download") / "demo.duckdb", customers=300)
    db = Database(demo.path)
    actor = {u: users.actor_for(db, u) for u in ("admin", "manager", "sales", "viewer")}
    admin = actor["admin"]
    users.create_user(db, admin, "leaver", "Leaver", "manager", "leaver-pass-2026")
    actor["leaver"] = users.actor_for(db, "leaver")

    def cookie(username: str) -> str:
        return sessions.login_token(sessions.start(db, username, DAYS), KEY)

    filters = CustomerFilters(text=demo.names[0][:2])  # a city, as the names begin
    out = io.BytesIO()
    expected_rows = ex.export_customers(db, actor["manager"], filters, "csv", out, "zh")
    ended = sessions.start(db, "manager", DAYS)
    sessions.end(db, ended.secret, "logout")
    stuff = {
        "filters": filters, "csv": out.getvalue(), "rows": expected_rows,
        "cookie": {u: cookie(u) for u in ("manager", "sales", "viewer", "leaver")},
        "ended_cookie": sessions.login_token(ended, KEY),
        "ticket": {(u, fmt, lang): ex.download_ticket(actor[u], filters, fmt, lang, KEY)
                   for u in ("manager", "viewer", "leaver") for fmt in ex.FORMATS for lang in ("zh", "en")},
        "expired": ex.download_ticket(actor["manager"], filters, "csv", "en", KEY,
                                      now=utcnow() - timedelta(minutes=ex.TICKET_MINUTES + 1)),
    }
    stored = backup.backup_into(db, backup.backup_dir(demo.path), admin)  # where the server looks
    stuff["backup"] = stored.path
    stuff["backup_ticket"] = {u: backup.download_ticket(actor[u], stored.path.name, "en", KEY)
                              for u in ("admin", "manager")}
    stuff["cookie"]["admin"] = cookie("admin")
    users.set_active(db, admin, "leaver", False)
    with db.read() as cur:
        stuff["audits_before"] = cur.execute("SELECT count(*) FROM audit_log WHERE action = 'export'").fetchone()[0]
    db.close()
    server = util.start_server("download", demo.path)
    try:
        yield server, stuff
    finally:
        server.stop()


def get(server, ticket: str | None, cookie: str | None = None, lang: str = "zh",
        path: str = CUSTOMERS_PATH) -> tuple[int, Message, bytes]:
    query = "" if ticket is None else "?" + urlencode({"ticket": ticket})
    headers = {"Accept-Language": "en-US" if lang == "en" else "zh-CN"}
    if cookie:
        headers["Cookie"] = f"{COOKIE_NAME}={cookie}"
    request = urllib.request.Request(server.base_url + path + query, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_a_good_link_streams_the_export_refusals_say_why_and_only_exports_are_audited(served):
    server, s = served
    ticket, cookie = s["ticket"], s["cookie"]

    status, headers, body = get(server, ticket["manager", "csv", "zh"], cookie["manager"])
    assert status == 200 and body == s["csv"]
    assert headers["content-type"].startswith("text/csv")
    assert headers["content-disposition"] == f'attachment; filename="{ex.file_name("csv")}"'
    assert headers["transfer-encoding"] == "chunked"  # streamed, not sized up front
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert len(rows) == s["rows"] + 1 and s["rows"] > 0

    status, headers, body = get(server, ticket["manager", "xlsx", "en"], cookie["manager"])
    assert status == 200 and headers["content-disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(values_only=True)] == ["Customer code", *(r[0] for r in rows[1:])]

    def refused(status_code: int, key: str, lang: str, *a, **params):
        status, headers, body = get(server, *a)
        assert status == status_code, (a, body[:300])
        assert headers["content-type"].startswith("text/html")
        page = body.decode("utf-8")
        assert t(key, lang, **params) in page and f'<html lang="{lang}">' in page
        return page

    login = "export.link_login"
    refused(403, login, "zh", ticket["manager", "csv", "zh"], None)  # no login cookie
    refused(403, login, "en", ticket["manager", "csv", "en"], cookie["sales"])  # someone else's link
    refused(403, login, "zh", ticket["manager", "csv", "zh"], s["ended_cookie"])  # logged out since
    refused(403, login, "zh", ticket["leaver", "csv", "zh"], cookie["leaver"])  # deactivated since
    refused(403, "error.permission_denied", "en", ticket["viewer", "csv", "en"], cookie["viewer"])
    expired = refused(410, "export.link_expired", "zh", s["expired"], cookie["manager"], "zh",
                      minutes=ex.TICKET_MINUTES)
    assert s["expired"] not in expired
    refused(410, "export.link_expired", "zh", None, cookie["manager"], minutes=ex.TICKET_MINUTES)
    head, body, sig = ticket["manager", "csv", "zh"].split(".")
    altered = f"{head}.{body}.{'B' if sig[0] == 'A' else 'A'}{sig[1:]}"
    refused(410, "export.link_expired", "en", altered, cookie["manager"], "en",
            minutes=ex.TICKET_MINUTES)  # in the browser's language: nothing else is known

    # A stored backup, for an administrator only.
    status, headers, body = get(server, s["backup_ticket"]["admin"], cookie["admin"], path=BACKUP_PATH)
    assert status == 200 and body == s["backup"].read_bytes()
    assert headers["content-disposition"] == f'attachment; filename="{s["backup"].name}"'
    status, _, body = get(server, s["backup_ticket"]["manager"], cookie["manager"], "en", path=BACKUP_PATH)
    assert status == 403 and t("error.permission_denied", "en") in body.decode()
    status, _, _ = get(server, s["backup_ticket"]["admin"], cookie["manager"], path=BACKUP_PATH)
    assert status == 403
    status, _, _ = get(server, s["ticket"]["manager", "csv", "zh"], cookie["manager"], path=BACKUP_PATH)
    assert status == 410  # an export ticket opens no backup

    # Only the two exports served are in the audit log, the one backup download and the one
    # refusal by permission.
    server.stop()  # the file is the server's until it stops
    db = Database(server.db_path)
    try:
        with db.read() as cur:
            entries = cur.execute("SELECT actor, changes FROM audit_log WHERE action = 'export' ORDER BY id"
                                  ).fetchall()[s["audits_before"]:]
            downloads = cur.execute("SELECT actor, changes FROM audit_log WHERE action = 'backup.download'"
                                    ).fetchall()
            denied = cur.execute("SELECT actor, changes FROM audit_log WHERE action = 'access.denied'").fetchall()
    finally:
        db.close()
    # The viewer's refusal by permission is an access denial (the others are no login).
    assert [(a, json.loads(c)) for a, c in denied] == [
        ("viewer", {"action": "customer.export", "role": "viewer", "where": "download"}),
        ("manager", {"action": "backup.run", "role": "manager", "where": "download"})]
    assert [(a, json.loads(c)["format"]) for a, c in entries] == [("manager", "csv"), ("manager", "xlsx")]
    assert [(a, json.loads(c)["file"]) for a, c in downloads] == [("admin", s["backup"].name)]
    assert all(json.loads(c)["rows"] == s["rows"] and json.loads(c)["filters"]["text"] == s["filters"].text
               for _, c in entries)
