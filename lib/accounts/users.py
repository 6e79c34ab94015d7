"""Users, passwords and the credential check.

The login page (``ui.auth``) keeps streamlit-authenticator for the form and the cookie
but asks ``verify_credentials`` here, so lockout (append-only ``login_attempts``) and
server-side session revocation (``sessions_valid_after``) live in the database.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt

from lib.accounts import permissions as perm
from lib.core.clock import utcnow
from lib.core.errors import AuthError, DuplicateError, NotFound, ValidationError

MIN_PASSWORD = 10
USERNAME_RE = re.compile(r"^[a-z0-9_.-]{2,40}$")

# Demo users, one per role (two salespeople, to show row scoping). Created only in demo
# mode; production refuses to start while any of them is active.
DEMO_USERS = (
    ("admin", "演示管理员 Admin", "admin", "admin-demo-2026"),
    ("manager", "王经理 Manager", "manager", "manager-demo-2026"),
    ("sales", "李销售 Sales", "sales", "sales-demo-2026"),
    ("sales2", "赵销售 Sales 2", "sales", "sales2-demo-2026"),
    ("viewer", "陈只读 Viewer", "viewer", "viewer-demo-2026"),
)


def bcrypt_rounds() -> int:
    """Cost factor: 12 in production; tests set CM_BCRYPT_ROUNDS=4 to stay fast."""
    return int(os.environ.get("CM_BCRYPT_ROUNDS", "12"))


def check_password_policy(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError("password", "auth.password_too_short", min=MIN_PASSWORD)
    if _password_bytes(password) is None:  # lone surrogates cannot be encoded or hashed
        raise ValidationError("password", "validation.control_chars")
    if len(password.encode("utf-8")) > 72:
        raise ValidationError("password", "auth.password_too_long")
    if any(ord(ch) < 32 for ch in password):
        raise ValidationError("password", "validation.control_chars")


def _password_bytes(password) -> bytes | None:
    """UTF-8 bytes of a password as typed; None if it cannot be one (not text, or lone
    surrogates, which UTF-8 cannot encode)."""
    if not isinstance(password, str):
        return None
    try:
        raw = password.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return raw


def hash_password(password: str, rounds: int | None = None) -> str:
    check_password_policy(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds or bcrypt_rounds())).decode("ascii")


_DUMMY_HASH: dict[int, bytes] = {}


def _dummy_hash() -> bytes:
    # Checked against when the user does not exist, so a wrong username costs as much
    # time as a wrong password and usernames cannot be told apart by timing.
    rounds = bcrypt_rounds()
    if rounds not in _DUMMY_HASH:
        _DUMMY_HASH[rounds] = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds))
    return _DUMMY_HASH[rounds]


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    email: str | None
    active: bool
    is_demo: bool
    sessions_valid_after: datetime | None
    password_hash: str = ""


_USER_COLS = "username, display_name, role, email, active, is_demo, sessions_valid_after, password_hash"


def get_user(db, username: str) -> User | None:
    with db.read() as cur:
        row = cur.execute(f"SELECT {_USER_COLS} FROM users WHERE username = ?", [username]).fetchone()
    return User(*row) if row else None


def list_users(db) -> list[User]:
    with db.read() as cur:
        rows = cur.execute(f"SELECT {_USER_COLS} FROM users ORDER BY username").fetchall()
    return [User(*r) for r in rows]


def _user_audit(cur, actor_name: str, action: str, username: str, changes: dict) -> None:
    audit_id = cur.execute("SELECT nextval('audit_id_seq')").fetchone()[0]
    cur.execute(
        "INSERT INTO audit_log (id, changed_at, actor, action, entity, entity_id, customer_id, version, changes)"
        " VALUES (?, ?, ?, ?, 'user', 0, NULL, NULL, ?)",
        [audit_id, utcnow(), actor_name, action, json.dumps({"username": username, **changes}, ensure_ascii=False)],
    )


def _require_admin(actor) -> str:
    """``actor=None`` means the command line, run by whoever owns the machine."""
    if actor is None:
        return "system"
    perm.require(actor, perm.USERS_MANAGE)
    return actor.username


def create_user(db, actor, username: str, display_name: str, role: str, password: str,
                email: str | None = None, is_demo: bool = False) -> User:
    actor_name = _require_admin(actor)
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationError("username", "auth.bad_username")
    if role not in db.roles():
        raise ValidationError("role", "auth.bad_role", role=role)
    display_name = (display_name or username).strip()[:100] or username
    pw_hash = hash_password(password)

    def work(cur):
        if cur.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise DuplicateError("error.duplicate_user", username=username)
        now = utcnow()
        cur.execute(
            "INSERT INTO users (username, display_name, email, role, password_hash, active, is_demo,"
            " password_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, TRUE, ?, ?, ?, ?)",
            [username, display_name, email, role, pw_hash, is_demo, now, now, now],
        )
        _user_audit(cur, actor_name, "user.create", username, {"role": role, "display_name": display_name})

    db.run_in_transaction(work)
    db.invalidate("usernames")
    return get_user(db, username)


def set_password(db, actor, username: str, new_password: str) -> None:
    """Reset a user's password (admin or command line). Ends the user's other sessions."""
    actor_name = _require_admin(actor)
    _store_password(db, actor_name, username, new_password, "user.reset_password")


def change_own_password(db, actor, current_password: str, new_password: str) -> None:
    user = get_user(db, actor.username)
    pw = _password_bytes(current_password)
    if user is None or pw is None or len(pw) > 72 or not bcrypt.checkpw(pw, user.password_hash.encode()):
        raise ValidationError("current_password", "auth.wrong_current_password")
    _store_password(db, actor.username, actor.username, new_password, "user.change_password")


def _store_password(db, actor_name: str, username: str, new_password: str, action: str) -> None:
    pw_hash = hash_password(new_password)

    def work(cur):
        now = utcnow()
        n = cur.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ?, sessions_valid_after = ?,"
            " locked_until = NULL, updated_at = ?, version = version + 1 WHERE username = ?",
            [pw_hash, now, now, now, username],
        ).fetchone()[0]
        if n != 1:
            raise NotFound("auth.unknown_user", username=username)
        _user_audit(cur, actor_name, action, username, {})

    db.run_in_transaction(work)


def log_out_everywhere(db, username: str) -> None:
    """The user logged out: every login session issued until now ends, on the server.

    Deleting the browser's cookie is not enough: a copy of it (or a cookie whose
    deletion had not reached the browser yet) would still log in. This also ends the
    user's sessions in other browsers, which for a shared office machine is what a
    person expects of "log out"."""

    def work(cur):
        now = utcnow()
        cur.execute("UPDATE users SET sessions_valid_after = ? WHERE username = ?", [now, username])
        _user_audit(cur, username, "user.logout", username, {})

    db.run_in_transaction(work)


def set_active(db, actor, username: str, active: bool) -> None:
    actor_name = _require_admin(actor)

    def work(cur):
        now = utcnow()
        n = cur.execute(
            "UPDATE users SET active = ?, sessions_valid_after = ?, updated_at = ?, version = version + 1"
            " WHERE username = ?", [active, now, now, username]).fetchone()[0]
        if n != 1:
            raise NotFound("auth.unknown_user", username=username)
        _user_audit(cur, actor_name, "user.activate" if active else "user.deactivate", username, {})

    db.run_in_transaction(work)
    db.invalidate("usernames")


def _recent_failures(cur, username: str, window_start: datetime) -> int:
    return cur.execute(
        "SELECT count(*) FROM login_attempts WHERE username = ? AND attempted_at >= ? AND NOT success"
        " AND attempted_at > coalesce((SELECT max(attempted_at) FROM login_attempts"
        "   WHERE username = ? AND success), TIMESTAMP '1970-01-01')",
        [username, window_start, username],
    ).fetchone()[0]


def verify_credentials(db, username: str, password: str):
    """The credential check behind the login form. Returns an ``Actor``; raises
    ``AuthError`` with the same message whether the user is unknown, inactive or the
    password wrong, and ``auth.locked`` after too many recent failures."""
    username = (username or "").strip().lower()
    password = password or ""
    settings = db.settings()
    max_failures = int(settings.get("lockout_attempts", "5"))
    minutes = int(settings.get("lockout_minutes", "15"))
    user = get_user(db, username) if USERNAME_RE.match(username) else None
    pw = _password_bytes(password)
    # Always one bcrypt check, so a bad input costs as much time as a wrong password.
    ok = bcrypt.checkpw(pw[:72] if pw else b"", user.password_hash.encode() if user else _dummy_hash())
    # More than 72 bytes is never a stored password, even if its first 72 bytes match.
    ok = ok and pw is not None and len(pw) <= 72 and user is not None and user.active
    now = utcnow()
    with db.read() as cur:
        # Unknown names are counted and locked too, so the lockout reveals nothing.
        if _recent_failures(cur, username[:40], now - timedelta(minutes=minutes)) >= max_failures:
            raise AuthError("auth.locked", minutes=minutes)
        if username:
            # Append-only: concurrent attempts never conflict on a counter row.
            cur.execute(
                "INSERT INTO login_attempts (id, username, attempted_at, success)"
                " VALUES (nextval('login_attempt_id_seq'), ?, ?, ?)", [username[:40], now, ok])
    if not ok:
        raise AuthError("auth.invalid_credentials")
    return db.actor(user.username, user.role, user.display_name)


def session_valid(db, username: str, issued_at: datetime) -> bool:
    """Is a login session issued at ``issued_at`` (UTC) still good? False once the user is
    deactivated or their sessions were revoked (password change, admin action)."""
    user = get_user(db, username)
    if user is None or not user.active:
        return False
    return user.sessions_valid_after is None or issued_at >= user.sessions_valid_after


def actor_for(db, username: str):
    """The ``Actor`` of an active user, or None."""
    user = get_user(db, username)
    if user is None or not user.active:
        return None
    return db.actor(user.username, user.role, user.display_name)


def ensure_demo_users(db) -> list[str]:
    """Create the demo users that do not exist yet; returns the names created."""
    created = []
    existing = {u.username for u in list_users(db)}
    for username, display, role, password in DEMO_USERS:
        if username not in existing:
            create_user(db, None, username, display, role, password, is_demo=True)
            created.append(username)
    return created


def active_demo_users(db) -> list[str]:
    return [u.username for u in list_users(db) if u.is_demo and u.active]


def preferred_lang(db, username: str) -> str | None:
    """The language the user last chose ('zh' / 'en'), or None to follow the browser."""
    with db.read() as cur:
        row = cur.execute("SELECT lang FROM users WHERE username = ?", [username]).fetchone()
    return row[0] if row else None


def set_preferred_lang(db, username: str, lang: str) -> None:
    """Remember the user's language choice across sessions (a preference, not audited)."""
    from lib.core.i18n import LANGS

    if lang not in LANGS:
        raise ValidationError("lang", "validation.not_in_list", value=lang)
    db.run_in_transaction(
        lambda cur: cur.execute("UPDATE users SET lang = ? WHERE username = ?", [lang, username]))
