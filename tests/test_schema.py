"""Schema and migrations; the constraints that back the Python checks; file locking."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
from datetime import datetime

import duckdb
import pytest

from lib.core import schema
from lib.core.db import Database
from lib.core.errors import DatabaseInUse
from lib.customers.kinds import _USCC_RE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def scalar(db, sql, params=()):
    with db.read() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def table_counts(db):
    return {t: scalar(db, f"SELECT count(*) FROM {t}")
            for t in ("settings", "reference_items", "roles", "role_permissions", "users")}


# -- migrations --------------------------------------------------------------------------------
def test_fresh_file_is_at_the_latest_version(db):
    latest = max(n for n, _, _ in schema.MIGRATIONS)
    with db.read() as cur:
        versions = [r[0] for r in cur.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
    assert versions == [n for n, _, _ in schema.MIGRATIONS] and versions[-1] == latest
    numbers = [n for n, _, _ in schema.MIGRATIONS]
    # Numbered 1, 2, 3, ... Branches written at the same time reserve numbers apart
    # (``migrate`` applies every number a file has not recorded); merged, none is missing.
    assert numbers == list(range(1, len(numbers) + 1)), "numbered 1, 2, 3, ..."


def test_migrating_twice_is_harmless(db, db_path):
    before = table_counts(db)
    latest = schema.migrate(db)
    assert schema.migrate(db) == latest
    db.close()
    reopened = Database(db_path)  # migrates again on open
    try:
        with reopened.read() as cur:
            rows = cur.execute("SELECT version, count(*) FROM schema_version GROUP BY version ORDER BY 1").fetchall()
        assert rows == [(n, 1) for n, _, _ in schema.MIGRATIONS]
        assert table_counts(reopened) == before
    finally:
        reopened.close()


def test_migration_stops_at_the_first_failure_and_resumes(db_path, monkeypatch):
    calls = []

    def broken(cur):
        calls.append(1)
        cur.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("boom")

    migrations = list(schema.MIGRATIONS) + [(max(n for n, _, _ in schema.MIGRATIONS) + 1, "broken", broken)]
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)
    with pytest.raises(RuntimeError):
        Database(db_path)
    monkeypatch.setattr(schema, "MIGRATIONS", migrations[:-1])
    db = Database(db_path)
    try:
        assert scalar(db, "SELECT max(version) FROM schema_version") == migrations[-2][0]
        # the failed migration's work was rolled back with it
        assert scalar(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'") == 0
    finally:
        db.close()


def test_a_lower_number_arriving_later_is_still_applied(db_path, monkeypatch):
    """Two branches number their migrations apart in advance (7 and 8): a file that
    got 8 first must get 7 when the branches meet, not skip it as "older"."""
    declared = list(schema.MIGRATIONS)
    late = declared[-2]  # the second newest stands in for the number that arrives later
    monkeypatch.setattr(schema, "MIGRATIONS", [m for m in declared if m is not late])
    Database(db_path).close()
    monkeypatch.setattr(schema, "MIGRATIONS", declared)
    db = Database(db_path)
    try:
        with db.read() as cur:
            versions = [r[0] for r in cur.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
        assert versions == [n for n, _, _ in declared]
        assert schema.migrate(db) == declared[-1][0]  # and only once
    finally:
        db.close()


def test_migration_4_upgrades_a_version_3_file(db_path, monkeypatch):
    declared = schema.MIGRATIONS
    monkeypatch.setattr(schema, "MIGRATIONS", declared[:3])
    old = Database(db_path)
    now = datetime(2026, 1, 2, 3, 4, 5)
    rows = [(f"u_{role}", f"User {role}", f"{role}@example.com", role, "hash", role != "viewer", role == "sales",
             now, now, now, now, now, 3, "en") for role in ("admin", "manager", "sales", "viewer")]
    with old.transaction() as cur:
        cur.executemany(
            "INSERT INTO users (username, display_name, email, role, password_hash, active, is_demo, locked_until,"
            " sessions_valid_after, password_changed_at, created_at, updated_at, version, lang)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        before_rp = cur.execute("SELECT count(*) FROM role_permissions").fetchone()[0]
    old.close()
    monkeypatch.setattr(schema, "MIGRATIONS", declared[:4])  # later migrations add permissions too
    db = Database(db_path)
    try:
        with db.read() as cur:
            got = cur.execute(
                "SELECT username, display_name, email, role, password_hash, active, is_demo, locked_until,"
                " sessions_valid_after, password_changed_at, created_at, updated_at, version, lang"
                " FROM users ORDER BY username").fetchall()
            assert got == rows
            actions = {r[0] for r in cur.execute("SELECT DISTINCT action FROM role_permissions").fetchall()}
            after_rp = cur.execute("SELECT count(*) FROM role_permissions").fetchone()[0]
        # the role codes are no longer repeated in a CHECK: a new role is a row
        with db.transaction() as cur:
            cur.execute("INSERT INTO roles VALUES ('auditor', '审计', 'Auditor', 4)")
            cur.execute("UPDATE users SET role = 'auditor' WHERE username = 'u_viewer'")
        with pytest.raises(duckdb.ConstraintException), db.transaction() as cur:
            cur.execute("UPDATE users SET role = 'nobody' WHERE username = 'u_viewer'")
        with pytest.raises(duckdb.ConstraintException), db.transaction() as cur:
            cur.execute("DELETE FROM roles WHERE code = 'sales'")  # in use
        assert not actions & {"customer.add_record", "customer.export", "settings.manage", "page.admin"}
        # 4 removed from admin, 2 from manager, 1 from sales; audit.view added for 3 roles
        assert after_rp == before_rp - 7 + 3
        assert list(db.roles()) == ["admin", "manager", "sales", "viewer", "auditor"]
        assert {r: p.get("audit.view") for r, p in db.permissions().items()} == {
            "admin": "all", "manager": "all", "sales": "own", "viewer": "all"}
    finally:
        db.close()


def test_migration_15_stores_the_look_up_columns_plainly_and_keeps_every_row_column_and_index(
        db_path, monkeypatch):
    from lib.accounts import users
    from lib.customers import custom_fields as cf
    from lib.ops.demo import loader
    from tests.conftest import ROLES, TEST_PASSWORD

    declared = schema.MIGRATIONS
    monkeypatch.setattr(schema, "MIGRATIONS", [m for m in declared if m[0] < 15])
    old = Database(db_path)
    for username, role in ROLES.items():
        users.create_user(old, None, username, username.title(), role, TEST_PASSWORD)
    loader.generate(old, 120, seed=4, now=datetime(2026, 6, 1, 9, 0), chunk_size=60, workers=1)
    admin = old.actor("admin", "admin", "Admin")
    cf.add_field(old, admin, key="wechat", label_zh="微信号", label_en="WeChat ID", kind="text", max_length=40,
                 edit_roles=["admin"], searchable=True)
    with old.transaction() as cur:
        cur.execute("UPDATE customers SET cf_wechat = 'wx-' || id WHERE id % 3 = 0")

    def dump(database):
        with database.read() as cur:
            return {t: cur.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in ("customers", "contacts")}

    def definition(database):
        with database.read() as cur:
            tables = dict(cur.execute("SELECT table_name, sql FROM duckdb_tables()"
                                      " WHERE table_name IN ('customers', 'contacts')").fetchall())
            indexes = sorted(cur.execute("SELECT table_name, sql FROM duckdb_indexes()"
                                         " WHERE table_name IN ('customers', 'contacts')").fetchall())
        return tables, indexes

    before, (tables_before, indexes_before) = dump(old), definition(old)
    old.close()
    monkeypatch.setattr(schema, "MIGRATIONS", declared)
    db = Database(db_path)
    try:
        assert dump(db) == before  # every row and column, in the same storage order
        tables, indexes = definition(db)
        assert indexes == indexes_before and len(indexes) == 2
        for table, cols in schema.M015_UNCOMPRESSED.items():
            assert tables[table] != tables_before[table]
            # the same definition but for the compression of the look-up columns
            plain = tables[table].replace(" USING COMPRESSION Uncompressed", "")
            assert plain == tables_before[table].replace(" USING COMPRESSION Uncompressed", "")
            for col in cols:
                assert re.search(rf'"?{col}"? VARCHAR USING COMPRESSION Uncompressed', tables[table]), (table, col)
        assert "search_text VARCHAR USING COMPRESSION Uncompressed" in tables["customers"]
        assert '"cf_wechat" VARCHAR' in tables["customers"] or "cf_wechat VARCHAR" in tables["customers"]
        # the constraints hold as before: codes unique, names checked
        with pytest.raises(duckdb.ConstraintException), db.transaction() as cur:
            cur.execute("UPDATE customers SET code = (SELECT min(code) FROM customers) WHERE id = "
                        "(SELECT max(id) FROM customers)")
        with pytest.raises(duckdb.ConstraintException), db.transaction() as cur:
            cur.execute("UPDATE customers SET name = ' x' WHERE id = (SELECT min(id) FROM customers)")
    finally:
        db.close()


def test_migrations_use_only_their_own_frozen_rows():
    """An old migration must not change when today's code does: the schema module and its
    seeds import nothing outside lib.core (no permission or reference constants)."""
    from tests.test_layers import ROOT as root, imports_of

    for path in [root / "lib/core/schema.py", *sorted((root / "lib/core/seeds").glob("*.py"))]:
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        outside = sorted(n for n in imports_of(path, module) if n.startswith("lib.") and not n.startswith("lib.core"))
        assert outside == [], f"{path.name} imports {outside}"


def test_seed_matches_the_reference_lists(db):
    from lib.customers import reference

    for name, items in reference.LISTS.items():
        assert [it["code"] for it in db.reference_lists()[name]] == [c for c, _, _ in items]
    assert len(db.reference_lists()["industry"]) == 20
    assert db.settings()["code_prefix"] == "C"


# -- constraints back the rules --------------------------------------------------------------
GOOD_ROW = {
    "id": 1, "code": "C2026-000001", "name": "甲公司", "customer_type": "company", "status": "active",
    "owner": "manager", "name_pinyin": "jiagongsi", "name_initials": "jgs", "search_text": "甲公司",
    "created_at": datetime(2026, 1, 1), "created_by": "manager", "updated_at": datetime(2026, 1, 1),
    "updated_by": "manager", "version": 1,
}


def insert_customer(db, **overrides):
    row = dict(GOOD_ROW, **overrides)
    with db.transaction() as cur:
        cur.execute(f"INSERT INTO customers ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))


def test_good_row_inserts(db):
    insert_customer(db)
    assert scalar(db, "SELECT count(*) FROM customers") == 1


@pytest.mark.parametrize("overrides", [
    {"credit_limit": -1},
    {"credit_limit": -0.01},
    {"uscc": "91110108551385082"},  # 17 characters
    {"uscc": "9111010855138508IQ"},  # I is not in the alphabet
    {"uscc": "91A10108551385082Q"},  # letter in positions 3-8
    {"uscc": "91110108551385082q"},  # lower case
    {"uscc": "91110108551385082Q", "uscc_key": "91350203M0001QAY9B"},  # key must equal the code
    {"name": ""},
    {"name": " 甲公司"},
    {"name": "甲公司 "},
    {"name": "名" * 201},
    {"name": None},
    {"customer_type": "robot"},
    {"customer_type": "individual", "size": "10-49"},
    {"phone": "1" * 41},
    {"email": "a" * 255},
    {"address": "a" * 301},
    {"notes": "a" * 2001},
    {"owner": None},
    {"status": None},
    {"version": 0},
    {"archived": None},
])
def test_constraints_refuse_what_validation_refuses(db, overrides):
    with pytest.raises(duckdb.ConstraintException):
        insert_customer(db, **overrides)
    assert scalar(db, "SELECT count(*) FROM customers") == 0


def test_codes_and_live_usccs_are_unique(db):
    insert_customer(db, uscc="91110108551385082Q", uscc_key="91110108551385082Q")
    with pytest.raises(duckdb.ConstraintException):
        insert_customer(db, id=2)  # same code
    with pytest.raises(duckdb.ConstraintException):
        insert_customer(db, id=1, code="C2026-000002")  # same id
    with pytest.raises(duckdb.ConstraintException):
        insert_customer(db, id=2, code="C2026-000002", uscc="91110108551385082Q", uscc_key="91110108551385082Q")
    # a merged customer keeps its USCC but drops the key, so the survivor is not blocked
    insert_customer(db, id=3, code="C2026-000003", uscc="91110108551385082Q", uscc_key=None, merged_into=1)
    assert scalar(db, "SELECT count(*) FROM customers") == 2


def test_username_and_role_constraints(db):
    now = datetime(2026, 1, 1)
    for username, role in (("Has Space", "sales"), ("x", "sales"), ("newbie", "superuser")):
        with pytest.raises(duckdb.ConstraintException), db.transaction() as cur:
            cur.execute("INSERT INTO users (username, display_name, role, password_hash, created_at, updated_at)"
                        " VALUES (?, 'x', ?, 'h', ?, ?)", [username, role, now, now])


def test_schema_uscc_pattern_matches_validation():
    con = duckdb.connect()
    samples = ["91110108551385082Q", "91350203M0001QAY9B", "9111010855138508IQ", "91A10108551385082Q",
               "911101085513850829", "91110108551385082", "Y1110108551385082Q", "0" * 18, "OO0000000000000000",
               "91110108551385082Z", "11111111111111111Y"]
    for s in samples:
        in_db = con.execute("SELECT regexp_full_match(?, ?)", [s, schema.USCC_PATTERN]).fetchone()[0]
        assert in_db == bool(_USCC_RE.match(s)), s


def test_a_20_mb_contract_fits_in_attachment_blobs(db):
    content = os.urandom(20 * 1024 * 1024)
    now = datetime(2026, 1, 1)
    with db.transaction() as cur:
        cur.execute("INSERT INTO attachments (id, customer_id, filename, content_type, size_bytes, sha256,"
                    " created_at, created_by) VALUES (1, 1, '合同.pdf', 'application/pdf', ?, ?, ?, 'manager')",
                    [len(content), hashlib.sha256(content).hexdigest(), now])
        cur.execute("INSERT INTO attachment_blobs VALUES (1, ?)", [content])
    db.close()
    reopened = Database(db.path)
    try:
        with reopened.read() as cur:
            back, sha = cur.execute("SELECT b.content, a.sha256 FROM attachment_blobs b"
                                    " JOIN attachments a ON a.id = b.attachment_id").fetchone()
        assert len(back) == len(content) and hashlib.sha256(back).hexdigest() == sha
        assert back == content
    finally:
        reopened.close()


# -- one process per file ----------------------------------------------------------------------
def test_second_process_gets_database_in_use_naming_the_holder(db, db_path):
    db.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {ROOT!r})
            from lib.core.db import Database
            db = Database({str(db_path)!r})
            print("ready", flush=True)
            sys.stdin.read()  # hold the file until the test closes our stdin
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseInUse) as ei:
            Database(db_path)
        err = ei.value
        assert err.key == "error.database_in_use"
        assert err.params["pid"] == str(holder.pid)
        assert err.params["path"] == str(db_path)
        assert err.params["holder"] not in ("", "?")
        assert str(holder.pid) in err.translate("en") and str(holder.pid) in err.translate("zh")
        with pytest.raises(DatabaseInUse):
            Database(db_path, migrate=False)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    # once the holder is gone the file opens again
    again = Database(db_path)
    again.close()


def test_lock_message_parser_handles_unexpected_text():
    from lib.core.db import lock_holder

    assert lock_holder("something else entirely") == ("?", "?")
    holder, pid = lock_holder(
        'IO Error: Could not set lock on file "/x.duckdb": Conflicting lock is held in /usr/bin/python3.11 '
        '(PID 4242) by user app. See also https://duckdb.org/docs/stable/connect/concurrency')
    assert (holder, pid) == ("/usr/bin/python3.11", "4242")
    assert re.fullmatch(r"\d+", pid)
