"""The whole audit log (lib.accounts.audit_log): filters, keyset paging, the export, the
permission, and the security events (logins, failures, waits, access denials) recorded
in it and in the server log without secrets."""
from __future__ import annotations

import codecs
import csv
import io
import json
import logging
from datetime import date, datetime

import pytest

from lib.accounts import audit_log as A
from lib.accounts import permissions as perm
from lib.accounts import sessions, users
from lib.core.errors import AuthError, NotFound, PermissionDenied, ValidationError
from lib.core.i18n import LANGS, MESSAGES, t
from lib.customers import customer as cs
from tests.conftest import TEST_PASSWORD


def entry(db, actor="manager", action="update", at=None, customer_id=None, changes=None, entity="customer"):
    """One audit row written as the app writes them, at ``at`` (naive UTC) if given."""
    def work(cur):
        cs.append_audit(cur, now=at or datetime(2026, 3, 1, 4, 0), actor=actor, action=action,
                        customer_id=customer_id, version=None, changes=changes or {}, entity=entity, entity_id=0)
        return cur.execute("SELECT max(id) FROM audit_log").fetchone()[0]

    return db.run_in_transaction(work)


def all_ids(db, where="TRUE", params=()):
    with db.read() as cur:
        return [r[0] for r in cur.execute(f"SELECT id FROM audit_log WHERE {where} ORDER BY id DESC",
                                          list(params)).fetchall()]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data[len(codecs.BOM_UTF8):].decode("utf-8"))))


# -- permission --------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["manager", "sales", "viewer"])
def test_only_admins_read_or_export_the_whole_log(db, actors, role):
    who = actors[role]
    for call in (lambda: A.audit_page(db, who), lambda: A.count_entries(db, who), lambda: A.known_actors(db, who),
                 lambda: A.export_audit_log(db, who, A.AuditFilters(), io.BytesIO(), "en")):
        with pytest.raises(PermissionDenied) as ei:
            call()
        assert ei.value.params["action"] == perm.AUDIT_VIEW_LOG
    with pytest.raises(PermissionDenied):
        A.audit_page(db, None)
    assert A.audit_page(db, actors["admin"]).total == len(all_ids(db))


# -- filters -----------------------------------------------------------------------------------
def test_filter_by_user_and_by_action(db, actors, make_customer):
    make_customer(actor="sales")
    make_customer(actor="manager")
    admin = actors["admin"]
    page = A.audit_page(db, admin, A.AuditFilters(actor="sales"))
    assert page.total == 1 and {r["actor"] for r in page.rows} == {"sales"}
    page = A.audit_page(db, admin, A.AuditFilters(action="user.create"))
    assert page.total == 5 and {r["action"] for r in page.rows} == {"user.create"}
    assert {r["changes"]["username"] for r in page.rows} == {"admin", "manager", "sales", "sales2", "viewer"}
    page = A.audit_page(db, admin, A.AuditFilters(actor="manager", action="create"))
    assert page.total == 1 and page.rows[0]["entity"] == "customer"
    assert A.audit_page(db, admin, A.AuditFilters(actor="nobody")).total == 0


def test_filter_by_customer_code_includes_customers_merged_into_it(db, actors, make_customer):
    from lib.customers.merge import merge_customers

    keep = make_customer(name="保留客户有限公司")
    gone = make_customer(name="并入客户有限公司")
    other = make_customer(name="其他客户有限公司")
    cs.update_customer(db, actors["manager"], keep["id"], {"notes": "x"}, keep["version"])
    admin = actors["admin"]
    page = A.audit_page(db, admin, A.AuditFilters(customer_code=keep["code"].lower()))
    assert [r["action"] for r in page.rows] == ["update", "create"]
    assert {r["customer_code"] for r in page.rows} == {keep["code"]}
    merge_customers(db, actors["manager"], keep["id"], 2, {gone["id"]: gone["version"]}, {})
    page = A.audit_page(db, admin, A.AuditFilters(customer_code=keep["code"]))
    assert {r["customer_id"] for r in page.rows} == {keep["id"], gone["id"]}
    assert other["id"] not in {r["customer_id"] for r in page.rows}
    with pytest.raises(NotFound) as ei:
        A.audit_page(db, admin, A.AuditFilters(customer_code="C1999-999999"))
    assert ei.value.key == "audit.unknown_customer"


def test_filter_by_local_dates_both_days_included(db, actors):
    # 2026-03-01 15:59 UTC is 23:59 in Shanghai; 16:00 UTC is already 2026-03-02 there.
    late = entry(db, action="review", at=datetime(2026, 3, 1, 15, 59))
    next_day = entry(db, action="review", at=datetime(2026, 3, 1, 16, 0))
    early = entry(db, action="review", at=datetime(2026, 2, 28, 16, 0))  # 2026-03-01 00:00 local
    admin = actors["admin"]

    def ids(**kw):
        return [r["id"] for r in A.audit_page(db, admin, A.AuditFilters(action="review", **kw)).rows]

    assert ids(date_from=date(2026, 3, 1), date_to=date(2026, 3, 1)) == [early, late]  # by id, newest first
    assert ids(date_from=date(2026, 3, 2)) == [next_day]
    assert ids(date_to=date(2026, 2, 28)) == []
    with pytest.raises(ValidationError) as ei:
        A.audit_page(db, admin, A.AuditFilters(date_from=date(2026, 3, 2), date_to=date(2026, 3, 1)))
    assert ei.value.problems[0].key == "audit.bad_dates"


def test_filters_refuse_bad_text(db, actors):
    for bad in ("a\x00b", "\ud800", "x" * 101):
        with pytest.raises(ValidationError):
            A.audit_page(db, actors["admin"], A.AuditFilters(actor=bad))


# -- paging ------------------------------------------------------------------------------------
def test_paging_forward_and_back_has_no_gaps_or_repeats(db, actors):
    for i in range(23):
        entry(db, action="review", changes={"n": [i, i + 1]})
    admin = actors["admin"]
    f = A.AuditFilters(action="review")
    expected = all_ids(db, "action = 'review'")
    pages, page = [], A.audit_page(db, admin, f, size=5)
    assert page.newer is None and page.total == 23
    while True:
        pages.append([r["id"] for r in page.rows])
        if page.older is None:
            break
        entry(db, action="review")  # newer entries appended while paging change nothing older
        page = A.audit_page(db, admin, f, size=5, older_than=page.older)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [i for p in pages for i in p] == expected
    back = []
    while page.newer is not None:
        page = A.audit_page(db, admin, f, size=5, newer_than=page.newer)
        back.append([r["id"] for r in page.rows])
    # The way back passes the same pages, then ends at the four entries appended meanwhile.
    assert back[:4] == pages[-2::-1]
    assert back[-1] == all_ids(db, "action = 'review'")[:4] and len(back) == 5


# -- export ------------------------------------------------------------------------------------
def test_export_writes_the_filtered_entries_newest_first_with_its_own_entry(db, actors, make_customer):
    rec = make_customer(actor="sales")
    cs.update_customer(db, actors["sales"], rec["id"], {"notes": "新备注"}, rec["version"])
    out = io.BytesIO()
    n = A.export_audit_log(db, actors["admin"], A.AuditFilters(actor="sales"), out, "zh", batch_size=1)
    rows = read_csv(out.getvalue())
    assert n == 2 and rows[0] == [t("audit.col." + c, "zh") for c in A.EXPORT_COLUMNS]
    assert [r[4] for r in rows[1:]] == ["update", "create"]
    assert [r[3] for r in rows[1:]] == [t("audit.action.update", "zh"), t("audit.action.create", "zh")]
    assert {r[7] for r in rows[1:]} == {rec["code"]}
    assert json.loads(rows[1][9])["notes"][1] == "新备注"
    with db.read() as cur:
        last = cur.execute("SELECT actor, action, entity, changes FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert last[:3] == ("admin", "audit.export", "audit_log")
    assert json.loads(last[3]) == {"format": "csv", "filters": {"actor": "sales"}, "rows": 2}


def test_export_is_formula_safe_and_local_time(db, actors):
    entry(db, actor="=HYPERLINK(\"http://x\")", action="+cmd", at=datetime(2026, 3, 1, 16, 30))
    out = io.BytesIO()
    A.export_audit_log(db, actors["admin"], A.AuditFilters(action="+cmd"), out, "en")
    (row,) = read_csv(out.getvalue())[1:]
    assert row[2] == "'=HYPERLINK(\"http://x\")" and row[3] == "'+cmd" and row[4] == "'+cmd"
    assert row[1] == "2026-03-02 00:30:00"


def test_export_in_batches_equals_one_batch_and_an_empty_export_has_the_header(db, actors, make_customer):
    for _ in range(4):
        make_customer()
    big, small = io.BytesIO(), io.BytesIO()
    A.export_audit_log(db, actors["admin"], A.AuditFilters(actor="manager"), big, "en")
    A.export_audit_log(db, actors["admin"], A.AuditFilters(actor="manager"), small, "en", batch_size=2)
    assert big.getvalue() == small.getvalue() and len(read_csv(big.getvalue())) == 5
    empty = io.BytesIO()
    assert A.export_audit_log(db, actors["admin"], A.AuditFilters(actor="nobody"), empty, "en") == 0
    assert read_csv(empty.getvalue()) == [A.export_headers("en")]


def test_an_export_over_the_cap_or_failing_writes_nothing_and_leaves_no_entry(db, actors):
    before = all_ids(db)
    out = io.BytesIO()
    with pytest.raises(A.ExportTooLarge) as ei:
        A.export_audit_log(db, actors["admin"], A.AuditFilters(), out, "en", max_rows=2)
    assert ei.value.problems[0].params == {"rows": len(before), "limit": 2}
    assert out.getvalue() == b""

    class Broken(io.BytesIO):
        def write(self, data):
            if len(self.getvalue()) > 10:
                raise OSError("disk full")
            return super().write(data)

    with pytest.raises(OSError):
        A.export_audit_log(db, actors["admin"], A.AuditFilters(), Broken(), "en", batch_size=1)
    assert all_ids(db) == before


# -- what the page shows -----------------------------------------------------------------------
def test_every_action_and_entity_is_named_in_both_languages():
    for key in [*("audit.action." + a for a in A.ACTIONS), *("audit.entity." + e for e in A.ENTITIES),
                *("audit.col." + c for c in A.EXPORT_COLUMNS)]:
        assert all(MESSAGES.get(key, {}).get(lang) for lang in LANGS), key
    assert A.action_label("user.login", "zh") == "登录"
    assert A.action_label("some.new_action", "en") == "some.new_action"  # shown as stored


def test_the_actions_the_app_writes_are_declared(db, actors, make_customer):
    from lib.customers import contacts
    rec = make_customer()
    rec = cs.update_customer(db, actors["manager"], rec["id"], {"notes": "x"}, rec["version"])
    rec = cs.archive_customer(db, actors["manager"], rec["id"], rec["version"])
    cs.restore_customer(db, actors["manager"], rec["id"], rec["version"])
    contacts.add_contact(db, actors["manager"], rec["id"], {"contact_name": "王五", "contact_phone": "13800138000"})
    users.verify_credentials(db, "sales", TEST_PASSWORD)
    with pytest.raises(AuthError):
        users.verify_credentials(db, "sales", "wrong-password-1")
    users.set_active(db, None, "viewer", False)
    users.log_out_everywhere(db, "sales")
    A.record_denial(db, actors["viewer"], perm.PAGE_ADMIN, page="admin")
    A.export_audit_log(db, actors["admin"], A.AuditFilters(), io.BytesIO(), "en")
    with db.read() as cur:
        written = {r[0] for r in cur.execute("SELECT DISTINCT action FROM audit_log").fetchall()}
        entities = {r[0] for r in cur.execute("SELECT DISTINCT entity FROM audit_log").fetchall()}
    assert len(written) >= 11 and written <= set(A.ACTIONS), written - set(A.ACTIONS)
    assert entities <= set(A.ENTITIES), entities - set(A.ENTITIES)


def _written_action_literals() -> set[str]:
    """Action names lib/ writes, read from the source: ``action="..."`` keywords (either
    branch of a conditional too) and literals shaped like ``user.…``, ``access.…`` or
    ``audit.…`` that are neither permission names nor message keys (not lib/cli.py, whose
    ``action=`` keywords are argparse's)."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    shaped = re.compile(r"^(user|access|audit)\.[a-z_]+$")
    permissions = {v for k, v in vars(perm).items() if k.isupper() and isinstance(v, str)}
    found: set[str] = set()

    def constants(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.IfExp):
            yield from constants(node.body)
            yield from constants(node.orelse)

    for path in (root / "lib").rglob("*.py"):
        if path.name in ("permissions.py", "cli.py") or "seeds" in path.parts or path.name.startswith("i18n"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "action":
                found.update(constants(node.value))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and shaped.match(node.value):
                if node.value not in permissions and node.value not in MESSAGES:  # not a message key
                    found.add(node.value)
    return found


def test_every_action_written_in_the_source_is_declared():
    written = _written_action_literals()
    assert {"user.create", "user.login_failed", "access.denied", "audit.export", "export", "import"} <= written
    assert written <= set(A.ACTIONS), written - set(A.ACTIONS)


def test_is_diff_tells_field_changes_from_facts(db, actors, make_customer):
    rec = make_customer()
    cs.update_customer(db, actors["manager"], rec["id"], {"notes": "x"}, rec["version"])
    rows = A.audit_page(db, actors["admin"]).rows
    update = next(r for r in rows if r["action"] == "update")
    user = next(r for r in rows if r["action"] == "user.create")
    assert A.is_diff(update) and update["changes"]["notes"] == [None, "x"]
    assert not A.is_diff(user)
    assert A.value_text({"b": 1, "a": "甲"}) == '{"a": "甲", "b": 1}' and A.value_text(None) == ""


# -- security events ---------------------------------------------------------------------------
def login_entries(db):
    with db.read() as cur:
        rows = cur.execute("SELECT actor, action, entity, changes FROM audit_log"
                           " WHERE action LIKE 'user.login%' ORDER BY id").fetchall()
    return [(a, act, ent, json.loads(c)) for a, act, ent, c in rows]


def test_logins_and_failures_are_recorded_with_a_reason_the_user_is_not_told(db, caplog):
    users.set_active(db, None, "viewer", False)
    caplog.set_level(logging.INFO, logger="lib.accounts.audit_log")
    users.verify_credentials(db, "sales", TEST_PASSWORD)
    refusals = []
    for name, password in (("sales", "wrong-password-1"), ("ghost", "ghost-password-9"), ("viewer", TEST_PASSWORD),
                           ("Not A Name!", "typed-in-the-name-box")):
        with pytest.raises(AuthError) as ei:
            users.verify_credentials(db, name, password)
        refusals.append(ei.value.key)
    assert set(refusals) == {"auth.invalid_credentials"}  # the same words whatever the reason
    got = login_entries(db)
    assert [(a, act, c.get("username"), c.get("reason")) for a, act, _, c in got] == [
        ("sales", "user.login", "sales", None),
        ("-", "user.login_failed", "sales", "wrong_password"),
        ("-", "user.login_failed", "ghost", "unknown_user"),
        ("-", "user.login_failed", "viewer", "inactive"),
    ]
    logged = [r.getMessage() for r in caplog.records if r.name == "lib.accounts.audit_log"]
    assert len(logged) == 4 and "user.login_failed" in logged[1] and "wrong_password" in logged[1]
    secrets = (TEST_PASSWORD, "wrong-password-1", "ghost-password-9", "typed-in-the-name-box", "Not A Name")
    everything = json.dumps(got, ensure_ascii=False) + "\n".join(logged) + caplog.text
    assert not [s for s in secrets if s in everything]


def test_a_login_refused_during_a_wait_is_recorded_and_does_not_extend_it(db, caplog):
    db.run_in_transaction(lambda cur: cur.execute("UPDATE settings SET value = '2' WHERE key = 'lockout_attempts'"))
    db.invalidate("settings")
    browser = sessions.new_browser_id()
    caplog.set_level(logging.INFO, logger="lib.accounts.audit_log")
    for _ in range(2):
        with pytest.raises(AuthError):
            users.verify_credentials(db, "sales", "wrong-password-1", browser)
    with db.read() as cur:
        attempts = cur.execute("SELECT count(*) FROM login_attempts").fetchone()[0]
    with pytest.raises(AuthError) as ei:
        users.verify_credentials(db, "sales", TEST_PASSWORD, browser)
    assert ei.value.key == "auth.login_delayed"
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM login_attempts").fetchone()[0] == attempts
    *_, delayed, refused = login_entries(db)
    assert delayed[1] == "user.login_delayed"
    assert refused[:3] == ("-", "user.login_refused", "user")
    assert refused[3] == {"username": "sales", "known_browser": False, "seconds": ei.value.params["seconds"]}
    assert "user.login_refused" in caplog.text and TEST_PASSWORD not in caplog.text and browser not in caplog.text


def test_an_access_denial_is_recorded_and_logged(db, actors, caplog):
    caplog.set_level(logging.INFO, logger="lib.accounts.audit_log")
    A.record_denial(db, actors["viewer"], perm.PAGE_ADMIN, page="admin")
    A.record_denial(db, None, perm.CUSTOMER_EXPORT, where="download", code="")
    (denied, anonymous) = A.audit_page(db, actors["admin"], A.AuditFilters(action="access.denied")).rows[::-1]
    assert (denied["actor"], denied["entity"], denied["changes"]) == (
        "viewer", "access", {"action": "page.admin", "role": "viewer", "page": "admin"})
    assert (anonymous["actor"], anonymous["changes"]) == ("-", {"action": "customer.export", "where": "download"})
    assert "access.denied" in caplog.text and "'viewer'" in caplog.text


def test_a_security_event_never_records_a_secret(db):
    for key in ("password", "new_password", "cookie", "session_token", "secret", "ticket"):
        with pytest.raises(ValueError):
            db.run_in_transaction(lambda cur, key=key: A.record_event(cur, "x", A.ACCESS_DENIED, "access", {key: "v"}))
        with pytest.raises(ValueError):
            A.log_event("x", A.ACCESS_DENIED, {key: "v"})
    assert A.audit_page(db, db.actor("admin", "admin"), A.AuditFilters(action="access.denied")).total == 0
