"""Users, passwords and the credential check.

The login page (``ui.auth``) keeps streamlit-authenticator for the form and the cookie
but asks ``verify_credentials`` here. Failed logins are rows of the append-only
``login_attempts``; too many from one kind of browser make the next attempt for that
user wait (doubling, capped), counted apart for each browser that logged in as the user
before (``lib.accounts.sessions``: trusted browsers) and for all other browsers
together. So strangers guessing a password slow themselves down, never the user in
their own browser, and nobody is locked out for good. Log-out, password changes and
deactivation end the user's login sessions (``lib.accounts.sessions``) on the server.
"""
from __future__ import annotations

import math
import os
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import bcrypt

from lib.accounts import audit_log
from lib.accounts import permissions as perm
from lib.accounts import sessions
from lib.core import audit
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
    # An administrator set the password (a new user's, a reset): the user must choose
    # their own before anything else (app.py lets them open only their account page).
    must_change_password: bool = False


_USER_COLS = ("username, display_name, role, email, active, is_demo, sessions_valid_after, password_hash,"
              " must_change_password")


def get_user(db, username: str) -> User | None:
    with db.read() as cur:
        row = cur.execute(f"SELECT {_USER_COLS} FROM users WHERE username = ?", [username]).fetchone()
    return User(*row) if row else None


def user_and_session(db, username: str, secret: str | None, lifetime_days: float) -> tuple[User | None, bool]:
    """The user as stored, and whether their login session ``secret`` is still good
    (``sessions.is_active``), in one read: the login gate asks on every run and every
    click (``ui.auth``), so one transaction instead of two."""
    with db.read() as cur:
        row = cur.execute(f"SELECT {_USER_COLS} FROM users WHERE username = ?", [username]).fetchone()
        user = User(*row) if row else None
        good = bool(user and secret and sessions.is_good(cur, db, secret, username, active=user.active,
                                                          valid_after=user.sessions_valid_after,
                                                          lifetime_days=lifetime_days))
    return user, good


def list_users(db) -> list[User]:
    with db.read() as cur:
        rows = cur.execute(f"SELECT {_USER_COLS} FROM users ORDER BY username").fetchall()
    return [User(*r) for r in rows]


# What the database caches from the users table: every write that creates a user or
# changes one's active flag, role, name or e-mail calls ``db.invalidate(*USER_CACHES)``.
USER_CACHES = ("usernames", "active_users")


def active_users(db) -> tuple[User, ...]:
    """The active users, without their password hashes, in username order. The login
    gate asks on every run of every session, so it is cached (``USER_CACHES``)."""
    return db.cached("active_users",
                     lambda: tuple(replace(u, password_hash="") for u in list_users(db) if u.active))


def _user_audit(cur, actor_name: str, action: str, username: str, changes: dict) -> None:
    audit.append(cur, actor=actor_name, action=action, entity="user", changes={"username": username, **changes})


def _require_admin(actor) -> str:
    """``actor=None`` means the command line, run by whoever owns the machine."""
    if actor is None:
        return "system"
    perm.require(actor, perm.USERS_MANAGE)
    return actor.username


def _clean_email(email: str | None) -> str | None:
    """``email`` normalised (syntax only), None if blank; ValidationError if it is not one."""
    from email_validator import EmailNotValidError, validate_email

    email = (email or "").strip()
    if not email:
        return None
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError("email", "validation.email_invalid", value=email[:100]) from None


def create_user(db, actor, username: str, display_name: str, role: str, password: str,
                email: str | None = None, is_demo: bool = False, must_change: bool = False) -> User:
    """A new active user. ``must_change``: the password is one an administrator chose or
    was given (``new_password``), to be replaced by the user at their first login."""
    actor_name = _require_admin(actor)
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationError("username", "auth.bad_username")
    if role not in db.roles():
        raise ValidationError("role", "auth.bad_role", role=role)
    display_name = (display_name or username).strip()[:100] or username
    email = _clean_email(email)
    pw_hash = hash_password(password)

    def work(cur):
        if cur.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise DuplicateError("error.duplicate_user", username=username)
        now = utcnow()
        cur.execute(
            "INSERT INTO users (username, display_name, email, role, password_hash, active, is_demo,"
            " password_changed_at, created_at, updated_at, must_change_password)"
            " VALUES (?, ?, ?, ?, ?, TRUE, ?, ?, ?, ?, ?)",
            [username, display_name, email, role, pw_hash, is_demo, now, now, now, must_change],
        )
        _user_audit(cur, actor_name, "user.create", username, {"role": role, "display_name": display_name})

    db.run_in_transaction(work)
    db.invalidate(*USER_CACHES)
    return get_user(db, username)


def set_password(db, actor, username: str, new_password: str) -> None:
    """Reset a user's password (admin or command line). Ends the user's other sessions."""
    actor_name = _require_admin(actor)
    _store_password(db, actor_name, username, new_password, "user.reset_password")


# Letters and digits that cannot be mistaken for one another when read out or copied
# by hand (no 0/O, 1/l/I).
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
NEW_PASSWORD_LENGTH = 14  # about 81 bits


def new_password() -> str:
    """A random password for an administrator to hand over (shown once)."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(NEW_PASSWORD_LENGTH))


def reset_password(db, actor, username: str) -> str:
    """Give ``username`` a new random password, to be changed at their next login, and
    end their sessions everywhere. Returns the password: the only time it is known."""
    actor_name = _require_admin(actor)
    password = new_password()
    _store_password(db, actor_name, username, password, "user.reset_password", must_change=True)
    return password


def change_own_password(db, actor, current_password: str, new_password: str) -> None:
    user = get_user(db, actor.username)
    pw = _password_bytes(current_password)
    if user is None or pw is None or len(pw) > 72 or not bcrypt.checkpw(pw, user.password_hash.encode()):
        raise ValidationError("current_password", "auth.wrong_current_password")
    _store_password(db, actor.username, actor.username, new_password, "user.change_password")


def _store_password(db, actor_name: str, username: str, new_password: str, action: str,
                    must_change: bool = False) -> None:
    pw_hash = hash_password(new_password)

    def work(cur):
        now = utcnow()
        n = cur.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ?, sessions_valid_after = ?,"
            " locked_until = NULL, updated_at = ?, version = version + 1, must_change_password = ?"
            " WHERE username = ?",
            [pw_hash, now, now, now, must_change, username],
        ).fetchone()[0]
        if n != 1:
            raise NotFound("auth.unknown_user", username=username)
        sessions.end_all(cur, username, "password", now)
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
        sessions.end_all(cur, username, "logout", now)
        _user_audit(cur, username, "user.logout", username, {})

    db.run_in_transaction(work)


def _keep_an_admin(cur, username: str) -> None:
    """Refuse a change that would leave no active administrator besides ``username``.

    Every active admin's row is written first (its version bumped), so two such changes
    at once (two admins demoting each other) conflict instead of both committing: the
    one run again sees the other's change. (A write that changes nothing, ``version =
    version``, does not conflict with another such write in DuckDB 2.0.)"""
    cur.execute("UPDATE users SET version = version + 1 WHERE role = 'admin' AND active")
    others = cur.execute("SELECT count(*) FROM users WHERE role = 'admin' AND active AND username <> ?",
                         [username]).fetchone()[0]
    if others == 0:
        raise ValidationError("role", "auth.last_admin")


def set_role(db, actor, username: str, role: str) -> None:
    """Change a user's role; it applies from their next action (the login gate reads
    the user on every run). The last active administrator keeps the role."""
    actor_name = _require_admin(actor)
    if role not in db.roles():
        raise ValidationError("role", "auth.bad_role", role=role)

    def work(cur):
        row = cur.execute("SELECT role, active FROM users WHERE username = ?", [username]).fetchone()
        if row is None:
            raise NotFound("auth.unknown_user", username=username)
        before, active = row
        if before == role:
            return
        if before == "admin" and active:
            _keep_an_admin(cur, username)
        cur.execute("UPDATE users SET role = ?, updated_at = ?, version = version + 1 WHERE username = ?",
                    [role, utcnow(), username])
        _user_audit(cur, actor_name, "user.set_role", username, {"role": [before, role]})

    db.run_in_transaction(work)
    db.invalidate(*USER_CACHES)


def set_active(db, actor, username: str, active: bool) -> None:
    """Deactivate (their sessions end everywhere) or reactivate a user. The last active
    administrator cannot be deactivated."""
    actor_name = _require_admin(actor)

    def work(cur):
        now = utcnow()
        if not active:
            row = cur.execute("SELECT role, active FROM users WHERE username = ?", [username]).fetchone()
            if row and row == ("admin", True):
                _keep_an_admin(cur, username)
        n = cur.execute(
            "UPDATE users SET active = ?, sessions_valid_after = ?, updated_at = ?, version = version + 1"
            " WHERE username = ?", [active, now, now, username]).fetchone()[0]
        if n != 1:
            raise NotFound("auth.unknown_user", username=username)
        sessions.end_all(cur, username, "activate" if active else "deactivate", now)
        _user_audit(cur, actor_name, "user.activate" if active else "user.deactivate", username, {})

    db.run_in_transaction(work)
    db.invalidate(*USER_CACHES)


# -- the credential check and its delays --------------------------------------------------
@dataclass(frozen=True)
class DelayRules:
    free_failures: int  # failures allowed before any wait (setting lockout_attempts)
    window: timedelta  # failures older than this are forgiven (setting lockout_minutes)
    first_wait: int  # seconds after the first failure too many (setting login_delay_seconds)

    @classmethod
    def from_settings(cls, settings: dict) -> "DelayRules":
        return cls(max(1, int(settings.get("lockout_attempts", "5"))),
                   timedelta(minutes=max(1, int(settings.get("lockout_minutes", "15")))),
                   max(1, int(settings.get("login_delay_seconds", "30"))))

    @property
    def longest_wait(self) -> int:
        # Short enough that someone trying at the slowest allowed pace still has
        # ``free_failures`` failures inside the window, so the delay never lapses
        # for them: at most free_failures + 1 guesses per window.
        return max(self.first_wait, int(self.window.total_seconds()) // (self.free_failures + 1))

    def wait(self, failures: int) -> int:
        """Seconds to wait after the last of ``failures`` counted failures."""
        if failures < self.free_failures:
            return 0
        return min(self.first_wait * 2 ** min(failures - self.free_failures, 30), self.longest_wait)


def _counted_failures(cur, username: str, browser_hash: str | None, since: datetime) -> tuple[int, datetime | None]:
    """Failures of ``username`` from one kind of browser (a trusted browser's digest, or
    None for all untrusted ones) after ``since``, the last success from that kind of
    browser and the last lift by an administrator: their number and the latest."""
    return cur.execute(
        "SELECT count(*), max(attempted_at) FROM login_attempts a"
        " WHERE a.username = $1 AND NOT a.success AND a.browser_hash IS NOT DISTINCT FROM $2"
        " AND a.attempted_at > greatest($3,"
        "   coalesce((SELECT max(attempted_at) FROM login_attempts WHERE username = $1 AND success"
        "             AND browser_hash IS NOT DISTINCT FROM $2), $3),"
        "   coalesce((SELECT max(lifted_at) FROM login_delay_lifts WHERE username = $1), $3))",
        [username, browser_hash, since]).fetchone()


def _seconds_to_wait(rules: DelayRules, failures: int, last: datetime | None, now: datetime) -> int:
    if last is None:
        return 0
    remaining = (last + timedelta(seconds=rules.wait(failures)) - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else 0


def verify_credentials(db, username: str, password: str, browser_id: str | None = None):
    """The credential check behind the login form. Returns an ``Actor``; raises
    ``AuthError`` with the same message whether the user is unknown, inactive or the
    password wrong, and ``auth.login_delayed`` (with ``seconds``) while this kind of
    browser must wait after too many failures.

    ``browser_id`` is the id the browser's signed browser cookie carries (or a new one
    the caller will write on success). If that browser logged in as this user before,
    its failures are counted on their own; all other browsers share one count. A
    delayed attempt is refused at once, without a password check and with one append-only
    audit row as its only write, so hammering costs the server little and cannot extend
    anyone's wait. A success marks the browser as trusted for this user.

    Every attempt is in the audit log and the server log (``lib.accounts.audit_log``):
    ``user.login``; ``user.login_failed`` with the reason the user is not told
    (unknown_user, inactive, wrong_password; a name that cannot be a username is not
    recorded, as it may be a password typed in the wrong box); ``user.login_delayed`` for
    the failure that starts a wait; ``user.login_refused`` for an attempt refused during
    a wait (one append-only row: it cannot extend the wait, which counts
    ``login_attempts`` only). Never the password."""
    username = (username or "").strip().lower()
    password = password or ""
    rules = DelayRules.from_settings(db.settings())
    name = username[:40]  # unknown names are counted and delayed too, so a delay reveals nothing
    now = utcnow()
    with db.read() as cur:
        trusted = sessions.is_trusted(cur, browser_id, name)
        browser_hash = sessions.digest(browser_id) if trusted else None
        failures, last = _counted_failures(cur, name, browser_hash, now - rules.window)
    wait = _seconds_to_wait(rules, failures, last, now)
    if wait:
        if USERNAME_RE.match(name):
            refused = {"username": name, "known_browser": trusted, "seconds": wait}
            db.run_in_transaction(
                lambda cur: audit_log.record_event(cur, "-", audit_log.LOGIN_REFUSED, "user", refused))
            audit_log.log_event("-", audit_log.LOGIN_REFUSED, refused)
        raise AuthError("auth.login_delayed", seconds=wait)

    user = get_user(db, username) if USERNAME_RE.match(username) else None
    pw = _password_bytes(password)
    # Always one bcrypt check, so a bad input costs as much time as a wrong password.
    ok = bcrypt.checkpw(pw[:72] if pw else b"", user.password_hash.encode() if user else _dummy_hash())
    # More than 72 bytes is never a stored password, even if its first 72 bytes match.
    ok = ok and pw is not None and len(pw) <= 72 and user is not None and user.active
    # What the audit log and the server log say (the user is told none of it).
    events: list[tuple[str, str, dict]] = []
    if ok:
        events.append((name, audit_log.LOGIN, {"username": name, "known_browser": trusted}))
    elif USERNAME_RE.match(name):
        reason = "unknown_user" if user is None else "inactive" if not user.active else "wrong_password"
        events.append(("-", audit_log.LOGIN_FAILED, {"username": name, "known_browser": trusted, "reason": reason}))
        if failures + 1 == rules.free_failures:
            events.append(("-", audit_log.LOGIN_DELAYED, {"username": name, "known_browser": trusted,
                                                          "seconds": rules.wait(failures + 1)}))
    if name:
        def record(cur):
            at = utcnow()
            # Append-only: concurrent attempts never conflict on a counter row.
            cur.execute(
                "INSERT INTO login_attempts (id, username, attempted_at, success, browser_hash)"
                " VALUES (nextval('login_attempt_id_seq'), ?, ?, ?, ?)", [name, at, ok, browser_hash])
            if ok and browser_id:
                sessions.trust(cur, browser_id, name, at)
            for actor_name, action, details in events:
                audit_log.record_event(cur, actor_name, action, "user", details)

        db.run_in_transaction(record)
        for actor_name, action, details in events:
            audit_log.log_event(actor_name, action, details)
    if not ok:
        raise AuthError("auth.invalid_credentials")
    return db.actor(user.username, user.role, user.display_name)


@dataclass(frozen=True)
class LoginDelay:
    """A user whose next login from some browsers must wait."""
    username: str
    known_browser: bool  # False: the browsers that never logged in as this user
    failures: int
    wait_until: datetime  # naive UTC


def login_delays(db, actor) -> list[LoginDelay]:
    """Who must wait before their next login attempt, and until when (administrators)."""
    _require_admin(actor)
    rules = DelayRules.from_settings(db.settings())
    now = utcnow()
    out = []
    with db.read() as cur:
        scopes = cur.execute(
            "SELECT DISTINCT username, browser_hash FROM login_attempts WHERE NOT success AND attempted_at > ?"
            " ORDER BY username, browser_hash NULLS FIRST", [now - rules.window]).fetchall()
        for username, browser_hash in scopes:
            failures, last = _counted_failures(cur, username, browser_hash, now - rules.window)
            wait = _seconds_to_wait(rules, failures, last, now)
            if wait:
                out.append(LoginDelay(username, browser_hash is not None, failures, now + timedelta(seconds=wait)))
    return out


def lift_login_delay(db, actor, username: str) -> None:
    """Forgive ``username``'s failed logins so far, from every browser (administrators)."""
    actor_name = _require_admin(actor)
    username = (username or "").strip().lower()

    def work(cur):
        cur.execute("INSERT INTO login_delay_lifts VALUES (?, ?, ?)", [username[:40], utcnow(), actor_name])
        _user_audit(cur, actor_name, "user.lift_login_delay", username, {})

    db.run_in_transaction(work)


def actor_for(db, username: str):
    """The ``Actor`` of an active user, or None."""
    return actor_of(db, get_user(db, username))


def actor_of(db, user: User | None):
    """The ``Actor`` of ``user`` (as read) if they are active, or None."""
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


def active_actor(cur, username: str) -> perm.Actor | None:
    """In the caller's transaction: the active user ``username`` as an ``Actor`` with its
    role's permissions (e.g. to ask whether someone a record is assigned to may read it),
    or None if there is no such active user."""
    row = cur.execute("SELECT role, display_name FROM users WHERE username = ? AND active", [username]).fetchone()
    if row is None:
        return None
    scopes = dict(cur.execute("SELECT action, scope FROM role_permissions WHERE role = ?", [row[0]]).fetchall())
    return perm.Actor(username=username, role=row[0], display_name=row[1] or "", permissions=scopes)
