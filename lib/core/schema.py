"""Schema and migrations: the only module that creates or alters tables.

Migrations are numbered, applied in order at start, each in its own transaction, and
recorded in ``schema_version``; applying them again does nothing. The constraints
mirror the checks in ``lib.customers.validation`` so that a bug there cannot store a bad row.

Timestamps are UTC (``TIMESTAMP`` without zone); see ``lib.customers.fields`` for the zone used
in reports.
"""
from __future__ import annotations

import re
from typing import Callable

import duckdb

from lib.core.clock import utcnow
from lib.core.seeds import m001, m004, m006, m007, m008, m009, m010, m011, m012, m013, m014

USCC_PATTERN = "[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}"


def _m001_core(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        """
        CREATE SEQUENCE customer_id_seq START 1;
        -- Feeds customer codes. A sequence never hands out a number twice, even across
        -- rolled-back transactions, and does not conflict under concurrent inserts.
        CREATE SEQUENCE customer_code_seq START 1;
        CREATE SEQUENCE contact_id_seq START 1;
        CREATE SEQUENCE relationship_id_seq START 1;
        CREATE SEQUENCE activity_id_seq START 1;
        CREATE SEQUENCE attachment_id_seq START 1;
        CREATE SEQUENCE audit_id_seq START 1;
        CREATE SEQUENCE login_attempt_id_seq START 1;

        CREATE TABLE settings (
            key VARCHAR PRIMARY KEY,
            value VARCHAR NOT NULL
        );

        CREATE TABLE reference_items (
            list VARCHAR NOT NULL,
            code VARCHAR NOT NULL CHECK (length(code) BETWEEN 1 AND 40),
            label_zh VARCHAR NOT NULL CHECK (length(label_zh) BETWEEN 1 AND 100),
            label_en VARCHAR NOT NULL CHECK (length(label_en) BETWEEN 1 AND 100),
            ordinal INTEGER NOT NULL,
            active BOOLEAN NOT NULL DEFAULT TRUE,
            PRIMARY KEY (list, code)
        );

        CREATE TABLE roles (
            code VARCHAR PRIMARY KEY,
            label_zh VARCHAR NOT NULL,
            label_en VARCHAR NOT NULL
        );

        CREATE TABLE role_permissions (
            role VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            scope VARCHAR NOT NULL CHECK (scope IN ('all', 'own')),
            ordinal INTEGER NOT NULL,
            PRIMARY KEY (role, action)
        );

        CREATE TABLE users (
            username VARCHAR PRIMARY KEY CHECK (regexp_full_match(username, '[a-z0-9_.-]{2,40}')),
            display_name VARCHAR NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
            email VARCHAR,
            role VARCHAR NOT NULL CHECK (role IN ('admin', 'manager', 'sales', 'viewer')),
            password_hash VARCHAR NOT NULL,
            active BOOLEAN NOT NULL DEFAULT TRUE,
            is_demo BOOLEAN NOT NULL DEFAULT FALSE,
            -- lockout: set when too many recent failures are recorded in login_attempts
            locked_until TIMESTAMP,
            -- server-side revocation: a login session issued before this instant is void
            sessions_valid_after TIMESTAMP,
            password_changed_at TIMESTAMP,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        );

        -- Append-only, so concurrent failed logins never conflict on a counter row.
        CREATE TABLE login_attempts (
            id BIGINT PRIMARY KEY DEFAULT nextval('login_attempt_id_seq'),
            username VARCHAR NOT NULL,
            attempted_at TIMESTAMP NOT NULL,
            success BOOLEAN NOT NULL
        );

        CREATE TABLE customers (
            id BIGINT PRIMARY KEY,
            code VARCHAR NOT NULL UNIQUE,
            name VARCHAR NOT NULL CHECK (length(name) BETWEEN 1 AND 200 AND name = trim(name)),
            customer_type VARCHAR NOT NULL CHECK (customer_type IN ('company', 'individual')),
            uscc VARCHAR CHECK (uscc IS NULL OR regexp_full_match(uscc, '"""
        + USCC_PATTERN
        + """')),
            -- equals uscc while the customer is live; NULL once merged into another, so a
            -- merged duplicate never blocks its survivor (DuckDB has no partial index)
            uscc_key VARCHAR UNIQUE,
            phone VARCHAR CHECK (phone IS NULL OR length(phone) <= 40),
            phone_e164 VARCHAR,
            phone_ext VARCHAR,
            email VARCHAR CHECK (email IS NULL OR length(email) <= 254),
            address VARCHAR CHECK (address IS NULL OR length(address) <= 300),
            region VARCHAR,
            industry VARCHAR,
            tier VARCHAR,
            size VARCHAR CHECK (size IS NULL OR customer_type = 'company'),
            status VARCHAR NOT NULL,
            credit_limit DECIMAL(14, 2) CHECK (credit_limit IS NULL OR credit_limit >= 0),
            owner VARCHAR NOT NULL,
            notes VARCHAR CHECK (notes IS NULL OR length(notes) <= 2000),
            name_pinyin VARCHAR NOT NULL,
            name_initials VARCHAR NOT NULL,
            -- lower-cased haystack for free-text search (name, code, phones, email, USCC,
            -- contact names and phones, pinyin); rebuilt by the write path. Stored
            -- uncompressed: substring search over FSST-compressed strings measured 3-6x
            -- slower at 1M rows (docs/benchmarks.md)
            search_text VARCHAR NOT NULL USING COMPRESSION uncompressed,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            updated_by VARCHAR NOT NULL,
            reviewed_at TIMESTAMP,
            version INTEGER NOT NULL CHECK (version >= 1),
            archived BOOLEAN NOT NULL DEFAULT FALSE,
            archived_at TIMESTAMP,
            archived_by VARCHAR,
            merged_into BIGINT,
            CHECK (uscc_key IS NULL OR uscc_key = uscc)
        );

        CREATE TABLE contacts (
            id BIGINT PRIMARY KEY,
            customer_id BIGINT NOT NULL,
            name VARCHAR CHECK (name IS NULL OR length(name) <= 100),
            title VARCHAR CHECK (title IS NULL OR length(title) <= 100),
            phone VARCHAR CHECK (phone IS NULL OR length(phone) <= 40),
            phone_e164 VARCHAR,
            phone_ext VARCHAR,
            email VARCHAR CHECK (email IS NULL OR length(email) <= 254),
            is_primary BOOLEAN NOT NULL DEFAULT FALSE,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            updated_by VARCHAR NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            deleted BOOLEAN NOT NULL DEFAULT FALSE
        );
        CREATE INDEX contacts_customer ON contacts (customer_id);

        -- Stored once, read both ways: "A is B's supplier" is also "B is A's customer".
        CREATE TABLE relationships (
            id BIGINT PRIMARY KEY,
            from_customer BIGINT NOT NULL,
            to_customer BIGINT NOT NULL,
            kind VARCHAR NOT NULL,
            note VARCHAR CHECK (note IS NULL OR length(note) <= 500),
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            deleted BOOLEAN NOT NULL DEFAULT FALSE,
            CHECK (from_customer <> to_customer)
        );

        -- Follow-up and communication records (跟进记录 / 沟通记录).
        CREATE TABLE activities (
            id BIGINT PRIMARY KEY,
            customer_id BIGINT NOT NULL,
            kind VARCHAR NOT NULL CHECK (kind IN ('call', 'visit', 'email', 'meeting', 'care', 'note')),
            summary VARCHAR NOT NULL CHECK (length(summary) BETWEEN 1 AND 2000),
            occurred_at TIMESTAMP NOT NULL,
            next_action VARCHAR CHECK (next_action IS NULL OR length(next_action) <= 500),
            due_at TIMESTAMP,
            done BOOLEAN NOT NULL DEFAULT FALSE,
            owner VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            deleted BOOLEAN NOT NULL DEFAULT FALSE
        );

        -- Contract files: metadata here, bytes in attachment_blobs (a 20 MB BLOB is fine
        -- in DuckDB and keeps the backup a single file).
        CREATE TABLE attachments (
            id BIGINT PRIMARY KEY,
            customer_id BIGINT NOT NULL,
            filename VARCHAR NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
            content_type VARCHAR NOT NULL,
            size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
            sha256 VARCHAR NOT NULL,
            kind VARCHAR NOT NULL DEFAULT 'contract',
            signed_on DATE,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            deleted BOOLEAN NOT NULL DEFAULT FALSE
        );
        CREATE TABLE attachment_blobs (
            attachment_id BIGINT PRIMARY KEY,
            content BLOB NOT NULL
        );

        -- Append-only; one row per write, field-level before/after in ``changes``
        -- (JSON object: field -> [before, after]).
        CREATE TABLE audit_log (
            id BIGINT PRIMARY KEY,
            changed_at TIMESTAMP NOT NULL,
            actor VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            entity VARCHAR NOT NULL,
            entity_id BIGINT NOT NULL,
            customer_id BIGINT,
            version INTEGER,
            changes JSON NOT NULL
        );
        """
    )


def _seed_001(cur: duckdb.DuckDBPyConnection) -> None:
    # Frozen rows (lib/core/seeds/m001.py): this migration writes the same on every database.
    cur.executemany("INSERT INTO settings VALUES (?, ?)", m001.SETTINGS)
    cur.executemany("INSERT INTO reference_items VALUES (?, ?, ?, ?, ?, ?)", m001.REFERENCE_ITEMS)
    cur.executemany("INSERT INTO roles VALUES (?, ?, ?)", m001.ROLES)
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m001.ROLE_PERMISSIONS)


def _m002_indexes(cur: duckdb.DuckDBPyConnection) -> None:
    # Point look-ups (duplicate check by phone, audit history of one customer).
    cur.execute("CREATE INDEX customers_phone ON customers (phone_e164)")
    cur.execute("CREATE INDEX audit_customer ON audit_log (customer_id)")


def _m003_user_lang(cur: duckdb.DuckDBPyConnection) -> None:
    # The language a user last chose in the sidebar ('zh' / 'en'; NULL = follow the
    # browser), so the choice survives logging out and in again.
    cur.execute("ALTER TABLE users ADD COLUMN lang VARCHAR")


def _m004_roles_are_data(cur: duckdb.DuckDBPyConnection) -> None:
    # The roles table is the one list of roles: users and role_permissions refer to it
    # by foreign key (migration 1 repeated the role codes in a CHECK on users). DuckDB
    # cannot add a constraint to a table, so both are rebuilt. The old table is renamed
    # first and the new one created under the final name: a table created with a
    # foreign key and then renamed leaves the referenced table pointing at the old name
    # (tried on DuckDB 2.0.1: deleting a role then fails with "users_new does not exist").
    cur.execute("ALTER TABLE roles ADD COLUMN ordinal INTEGER NOT NULL DEFAULT 0")
    cur.executemany("UPDATE roles SET ordinal = ? WHERE code = ?", [(o, code) for code, o in m004.ROLE_ORDER])
    cur.executemany("DELETE FROM role_permissions WHERE action = ?", [[a] for a in m004.REMOVED_ACTIONS])
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m004.ADDED_PERMISSIONS)
    cur.execute(
        """
        ALTER TABLE role_permissions RENAME TO role_permissions_before_4;
        CREATE TABLE role_permissions (
            role VARCHAR NOT NULL REFERENCES roles (code),
            action VARCHAR NOT NULL,
            scope VARCHAR NOT NULL CHECK (scope IN ('all', 'own')),
            ordinal INTEGER NOT NULL,
            PRIMARY KEY (role, action)
        );
        INSERT INTO role_permissions SELECT role, action, scope, ordinal FROM role_permissions_before_4;
        DROP TABLE role_permissions_before_4;

        ALTER TABLE users RENAME TO users_before_4;
        CREATE TABLE users (
            username VARCHAR PRIMARY KEY CHECK (regexp_full_match(username, '[a-z0-9_.-]{2,40}')),
            display_name VARCHAR NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
            email VARCHAR,
            role VARCHAR NOT NULL REFERENCES roles (code),
            password_hash VARCHAR NOT NULL,
            active BOOLEAN NOT NULL DEFAULT TRUE,
            is_demo BOOLEAN NOT NULL DEFAULT FALSE,
            -- lockout: set when too many recent failures are recorded in login_attempts
            locked_until TIMESTAMP,
            -- server-side revocation: a login session issued before this instant is void
            sessions_valid_after TIMESTAMP,
            password_changed_at TIMESTAMP,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            -- 'zh' / 'en'; NULL = follow the browser (migration 3)
            lang VARCHAR
        );
        INSERT INTO users SELECT username, display_name, email, role, password_hash, active, is_demo,
            locked_until, sessions_valid_after, password_changed_at, created_at, updated_at, version, lang
            FROM users_before_4;
        DROP TABLE users_before_4;
        """
    )


def _m005_sessions(cur: duckdb.DuckDBPyConnection) -> None:
    # See lib.accounts.sessions. Ids are stored as SHA-256 digests only.
    cur.execute(
        """
        -- One row per login. The cookie carries the session id; no row, or an ended one,
        -- means logged out. issued_at is the login's own time, never derived from settings.
        CREATE TABLE login_sessions (
            id_hash VARCHAR PRIMARY KEY,
            username VARCHAR NOT NULL,
            issued_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            ended_at TIMESTAMP,
            end_reason VARCHAR,
            CHECK (expires_at > issued_at)
        );

        -- Browsers that logged in as a user (OWASP "device cookies"): their failed logins
        -- are counted apart from those of unknown browsers.
        CREATE TABLE trusted_browsers (
            browser_hash VARCHAR NOT NULL,
            username VARCHAR NOT NULL,
            first_login TIMESTAMP NOT NULL,
            PRIMARY KEY (browser_hash, username)
        );

        -- The trusted browser an attempt came from; NULL = a browser not trusted for that user.
        ALTER TABLE login_attempts ADD COLUMN browser_hash VARCHAR;
        CREATE INDEX login_attempts_user ON login_attempts (username);

        -- An administrator lifted a user's login delay: earlier failures no longer count.
        CREATE TABLE login_delay_lifts (
            username VARCHAR NOT NULL,
            lifted_at TIMESTAMP NOT NULL,
            lifted_by VARCHAR NOT NULL
        );

        -- The first wait after too many failures (doubling up to a cap; lib.accounts.users).
        INSERT INTO settings VALUES ('login_delay_seconds', '30') ON CONFLICT DO NOTHING;
        """
    )


def _m006_customer_file(cur: duckdb.DuckDBPyConnection) -> None:
    # The customer file (客户档案): access level, contacts with more columns, follow-ups
    # with needs and assignees, relationships and files with versions. Rows: m006.py.
    cur.executemany("INSERT INTO reference_items VALUES (?, ?, ?, ?, ?, ?)", m006.REFERENCE_ITEMS)
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m006.ADDED_PERMISSIONS)
    cur.executemany("INSERT INTO settings VALUES (?, ?)", m006.SETTINGS)
    # Existing customers get the default as the column is added (0.1 s at 1M rows; an
    # UPDATE of every row took minutes).
    cur.execute(f"ALTER TABLE customers ADD COLUMN access_level VARCHAR DEFAULT '{m006.DEFAULT_ACCESS_LEVEL}'")
    cur.execute(
        """
        ALTER TABLE contacts ADD COLUMN department VARCHAR;
        ALTER TABLE contacts ADD COLUMN mobile VARCHAR;
        ALTER TABLE contacts ADD COLUMN mobile_e164 VARCHAR;
        ALTER TABLE contacts ADD COLUMN mobile_ext VARCHAR;
        ALTER TABLE contacts ADD COLUMN notes VARCHAR;

        -- A link is changed (its note) and removed through the version check like any record.
        ALTER TABLE relationships ADD COLUMN updated_at TIMESTAMP;
        ALTER TABLE relationships ADD COLUMN updated_by VARCHAR;
        ALTER TABLE relationships ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        CREATE INDEX relationships_from ON relationships (from_customer);
        CREATE INDEX relationships_to ON relationships (to_customer);
        -- A row per customer whose links a transaction checked (the pair and the company
        -- tree walked): writing it makes two transactions that checked an overlapping set
        -- conflict, so the later one re-checks (a duplicate or a parent cycle is never
        -- stored by two saves at the same moment; lib.customers.relationships).
        CREATE TABLE relationship_claims (
            customer_id BIGINT PRIMARY KEY,
            claims BIGINT NOT NULL
        );

        ALTER TABLE attachments ADD COLUMN updated_at TIMESTAMP;
        ALTER TABLE attachments ADD COLUMN updated_by VARCHAR;
        ALTER TABLE attachments ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        -- What the user calls the file (the file name is only the uploaded one's).
        ALTER TABLE attachments ADD COLUMN title VARCHAR;
        CREATE INDEX attachments_customer ON attachments (customer_id);

        -- Follow-ups replace migration 1's activities table (never written by any
        -- code; its CHECK on kind cannot be altered): kinds come from the followup_kind
        -- list, a need has a state, the next action has a due date and an assignee.
        CREATE TABLE follow_ups (
            id BIGINT PRIMARY KEY,
            customer_id BIGINT NOT NULL,
            kind VARCHAR NOT NULL,
            occurred_on DATE NOT NULL,
            summary VARCHAR NOT NULL CHECK (length(summary) BETWEEN 1 AND 2000),
            next_action VARCHAR CHECK (next_action IS NULL OR length(next_action) <= 500),
            due_on DATE,
            assignee VARCHAR,
            need_state VARCHAR,
            done BOOLEAN NOT NULL DEFAULT FALSE,
            done_at TIMESTAMP,
            done_by VARCHAR,
            campaign VARCHAR,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            updated_by VARCHAR NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            deleted BOOLEAN NOT NULL DEFAULT FALSE
        );
        INSERT INTO follow_ups
            SELECT id, customer_id, kind, CAST(occurred_at AS DATE), summary, next_action,
                   CAST(due_at AS DATE), owner, NULL, done, NULL, NULL, NULL, created_at, created_by,
                   created_at, created_by, version, deleted
            FROM activities;
        DROP TABLE activities;
        DROP SEQUENCE activity_id_seq;
        CREATE SEQUENCE follow_up_id_seq START 1;
        CREATE INDEX follow_ups_customer ON follow_ups (customer_id);
        CREATE INDEX follow_ups_assignee ON follow_ups (assignee);
        """
    )
    # Carry the sequence past any row copied above.
    top = cur.execute("SELECT coalesce(max(id), 0) FROM follow_ups").fetchone()[0]
    if top:
        cur.execute("DROP SEQUENCE follow_up_id_seq")
        cur.execute(f"CREATE SEQUENCE follow_up_id_seq START {int(top) + 1}")


def _m007_import(cur: duckdb.DuckDBPyConnection) -> None:
    # Importing customers from a file: the permission and page (m007.py), and what each
    # user mapped a column heading to, offered again in their next import.
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m007.ADDED_PERMISSIONS)
    cur.execute(
        """
        CREATE TABLE import_heading_choices (
            username VARCHAR NOT NULL,
            heading VARCHAR NOT NULL,  -- lib.customers.importing.header_key of the heading
            field VARCHAR NOT NULL,    -- a field name, 'code', or '' for "not imported"
            chosen_at TIMESTAMP NOT NULL,
            PRIMARY KEY (username, heading)
        )
        """
    )


def _m008_export(cur: duckdb.DuckDBPyConnection) -> None:
    # Export of a search (lib.customers.export) checks customer.export again. Rows: m008.py.
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m008.ADDED_PERMISSIONS)


def _m009_duplicates_and_merge(cur: duckdb.DuckDBPyConnection) -> None:
    # Duplicates and merge (lib.customers.duplicates, lib.customers.merge). Rows: m009.py.
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m009.ADDED_PERMISSIONS)
    cur.execute(
        """
        -- The duplicate finder's name keys, one row per customer, computed in Python
        -- (normalising a name and its pinyin costs ~0.1-0.3 ms: minutes at 1M, so not
        -- per search). ``name`` is the name they were computed from and ``rule`` the
        -- normaliser's version: the finder recomputes a row whose customer's name or
        -- rule differs (or that is missing) before it groups, so a key is never stale
        -- whichever path wrote the customer (form, grid, import, bulk load).
        CREATE TABLE duplicate_keys (
            customer_id BIGINT PRIMARY KEY,
            name VARCHAR NOT NULL,
            rule INTEGER NOT NULL,
            name_key VARCHAR NOT NULL,   -- place and core: 北京某某科技 = 某某科技（北京）
            sound_key VARCHAR NOT NULL,  -- full pinyin of name_key
            core_key VARCHAR NOT NULL,   -- without the place
            block_key VARCHAR NOT NULL   -- pinyin initials of core_key: the similar-name candidates
        );
        """
    )



def _m010_admin(cur: duckdb.DuckDBPyConnection) -> None:
    # The administration page (pages/admin.py). Rows: m010.py.
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m010.ADDED_PERMISSIONS)
    # A password an admin set (a new user's, a reset) is for one login: the user must
    # choose their own before anything else (ui.auth).
    cur.execute("ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE")


def _m011_settings(cur: duckdb.DuckDBPyConnection) -> None:
    # The administration page's settings (lib.core.settings). Rows: m011.py.
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m011.ADDED_PERMISSIONS)
    cur.executemany("INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO NOTHING", m011.SETTINGS)
    # The idle timeout counts from a session's last action (lib.accounts.sessions).
    cur.execute("ALTER TABLE login_sessions ADD COLUMN last_seen_at TIMESTAMP")
    cur.execute("UPDATE login_sessions SET last_seen_at = issued_at")


def _m012_reference_lists(cur: duckdb.DuckDBPyConnection) -> None:
    # The administration page's reference lists section (lib.customers.reference_admin).
    # Rows: m012.py. The table itself needs no change: ``active`` and ``ordinal`` exist
    # since migration 1.
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m012.ADDED_PERMISSIONS)


def _m013_audit_log(cur: duckdb.DuckDBPyConnection) -> None:
    # The administration page's audit log section (lib.accounts.audit_log). Rows: m013.py.
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m013.ADDED_PERMISSIONS)


def _m014_custom_fields(cur: duckdb.DuckDBPyConnection) -> None:
    # Fields an administrator adds to the customer (lib.customers.custom_fields). Each
    # one's values live in its own column of ``customers``, ``cf_<key>``, added by
    # ALTER TABLE when the field is added (and never dropped: a retired field keeps its
    # data). A choice field's items are the reference list ``cf_<key>``. Rows: m014.py.
    cur.executemany("INSERT INTO role_permissions VALUES (?, ?, ?, ?)", m014.ADDED_PERMISSIONS)
    cur.execute(
        """
        CREATE TABLE custom_fields (
            key VARCHAR PRIMARY KEY CHECK (regexp_full_match(key, '[a-z][a-z0-9_]{1,29}')),
            label_zh VARCHAR NOT NULL CHECK (length(label_zh) BETWEEN 1 AND 100),
            label_en VARCHAR NOT NULL CHECK (length(label_en) BETWEEN 1 AND 100),
            kind VARCHAR NOT NULL,
            required BOOLEAN NOT NULL DEFAULT FALSE,
            max_length INTEGER,
            edit_roles VARCHAR[],  -- NULL: whoever may edit the customer
            searchable BOOLEAN NOT NULL DEFAULT FALSE,
            is_filter BOOLEAN NOT NULL DEFAULT FALSE,
            is_dimension BOOLEAN NOT NULL DEFAULT FALSE,
            ordinal INTEGER NOT NULL,
            active BOOLEAN NOT NULL DEFAULT TRUE,
            version INTEGER NOT NULL DEFAULT 1,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            updated_by VARCHAR NOT NULL
        )
        """
    )


# The text columns of a listed customer's row and of its primary contact that are read
# by id, a few rows at a time, and hold a different value in nearly every row.
M015_UNCOMPRESSED = {"customers": ("code", "uscc", "phone", "email"),
                     "contacts": ("name", "title", "phone", "email")}


def _m015_uncompressed_look_up_columns(cur: duckdb.DuckDBPyConnection) -> None:
    # Reading a page of rows by id decodes, for each row, a vector of every column read;
    # DuckDB's dictionary+FSST form of a column of distinct strings makes that the most
    # of a page's read (50 random customers at 1M: 8-10 ms, 4-5 ms with these columns
    # stored plainly; their contacts 6-8 -> 3 ms; docs/benchmarks.md). A column's
    # compression is fixed when its table is created, so each table is made again with
    # the same columns (custom fields' included), rows, constraints and indexes.
    for table, columns in M015_UNCOMPRESSED.items():
        _rebuild_with_uncompressed(cur, table, columns)


def _rebuild_with_uncompressed(cur: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> None:
    ddl = cur.execute("SELECT sql FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
                      [table]).fetchone()[0]
    indexes = [r[0] for r in cur.execute(
        "SELECT sql FROM duckdb_indexes() WHERE schema_name = 'main' AND table_name = ?", [table]).fetchall()]
    head, temp = f"CREATE TABLE {table}(", f"{table}__rebuilt"
    if not ddl.startswith(head):
        raise RuntimeError(f"unexpected definition of {table}: {ddl[:80]}")
    ddl = f"CREATE TABLE {temp}(" + ddl[len(head):]
    for column in columns:
        ddl, n = re.subn(rf'((?:\(|, )"?{column}"? VARCHAR)(?! USING)', r"\1 USING COMPRESSION uncompressed", ddl)
        if n != 1:
            raise RuntimeError(f"column {table}.{column} not found once in {ddl[:80]}...")
    cur.execute(ddl)
    cur.execute(f"INSERT INTO {temp} SELECT * FROM {table} ORDER BY rowid")  # storage order kept
    cur.execute(f"DROP TABLE {table}")
    cur.execute(f"ALTER TABLE {temp} RENAME TO {table}")
    for sql in indexes:
        cur.execute(sql)


MIGRATIONS: list[tuple[int, str, Callable[[duckdb.DuckDBPyConnection], None]]] = [
    (1, "core tables", lambda cur: (_m001_core(cur), _seed_001(cur))),
    (2, "look-up indexes", _m002_indexes),
    (3, "users: preferred language", _m003_user_lang),
    (4, "roles as data: users and permissions refer to roles; unchecked actions removed", _m004_roles_are_data),
    (5, "login sessions, trusted browsers, login delays", _m005_sessions),
    (6, "the customer file: access level, contacts, relationships, follow-ups, files", _m006_customer_file),
    (7, "import: permission, page and remembered column choices", _m007_import),
    (8, "export: customer.export for admins, managers and (own customers) salespeople", _m008_export),
    (9, "duplicates and merge: name keys, merge and page permissions", _m009_duplicates_and_merge),
    (10, "administration: the admin page; a password to change at the next login", _m010_admin),
    (11, "settings: settings.manage, every setting stored, session idle and absolute lifetimes", _m011_settings),
    (12, "reference lists managed by admins: lists.manage", _m012_reference_lists),
    (13, "audit log: audit.view_log for admins", _m013_audit_log),
    (14, "custom fields: the custom_fields table, fields.manage for admins", _m014_custom_fields),
    (15, "customers and contacts: the text columns read by id stored uncompressed", _m015_uncompressed_look_up_columns),
]


def _ensure_version_table(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )


def current_version(cur: duckdb.DuckDBPyConnection) -> int:
    """The newest migration applied to the file (after ``migrate``; reads only)."""
    return cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def migrate(db) -> int:
    """Apply every migration the file has not recorded, in order. Returns the new version.

    Recorded numbers, not the newest one, decide: migrations written on two branches
    at once are numbered apart in advance, and a file migrated by the branch with the
    higher number must still get the lower one when the branches meet."""

    def applied(cur):
        _ensure_version_table(cur)
        return {r[0] for r in cur.execute("SELECT version FROM schema_version").fetchall()}

    # By the set applied, not the highest number: a file that got a later migration
    # first (numbers are reserved per branch, e.g. 9 before 7 and 8) still gets the
    # earlier ones when they arrive.
    done = db.run_in_transaction(applied)
    for number, name, apply in MIGRATIONS:
        if number in done:
            continue

        def work(cur, number=number, name=name, apply=apply):
            # Re-check inside the transaction: two processes never run this at once
            # (DuckDB's file lock), but two threads of one process might.
            if cur.execute("SELECT count(*) FROM schema_version WHERE version = ?", [number]).fetchone()[0]:
                return
            apply(cur)
            cur.execute("INSERT INTO schema_version VALUES (?, ?, ?)", [number, name, utcnow()])

        db.run_in_transaction(work, attempts=1)
    db.invalidate()
    with db.read() as cur:
        return current_version(cur)
