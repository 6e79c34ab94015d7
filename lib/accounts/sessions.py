"""Login sessions and trusted browsers, kept on the server.

A login cookie is only a pointer: a signed token carrying the username, its expiry and
a random session id. The session row (``login_sessions``) says whose it is, when it was
issued and until when it lasts, and whether it has ended (log-out, password change,
deactivation). No row, or an ended one, means logged out, whatever the cookie says; the
issue time comes from the row, never from today's settings.

A browser that logged in as a user carries a second signed cookie with a random browser
id (OWASP's "device cookie"); ``trusted_browsers`` records which users it logged in as.
``lib.accounts.users.verify_credentials`` counts failed logins from such a browser apart
from those of unknown browsers, so strangers guessing a password cannot lock the user
out of their own browser.

The database keeps only SHA-256 digests of session and browser ids: a copy of the file
(a backup) does not hold anything a cookie could be made from. Ids and tokens are never
logged or written to the audit log.
"""
from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from lib.core import settings
from lib.core.clock import utcnow

ALGORITHM = "HS256"
BROWSER_COOKIE_DAYS = 365


@dataclass(frozen=True)
class LoginSession:
    secret: str  # the session id; travels in the cookie only
    username: str
    issued_at: datetime  # naive UTC, like every stored timestamp
    expires_at: datetime


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# -- sessions ------------------------------------------------------------------------------
def start(db, username: str, lifetime_days: float) -> LoginSession:
    """A new login session of ``username`` lasting ``lifetime_days``."""
    now = utcnow()
    session = LoginSession(new_secret(), username, now, now + timedelta(days=lifetime_days))
    db.run_in_transaction(lambda cur: cur.execute(
        "INSERT INTO login_sessions (id_hash, username, issued_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
        [digest(session.secret), username, session.issued_at, session.expires_at, session.issued_at]))
    return session


def lifetime(db, secret: str) -> tuple[datetime, datetime] | None:
    """(issued_at, expires_at) of the session ``secret``, None if there is none."""
    with db.read() as cur:
        row = cur.execute("SELECT issued_at, expires_at FROM login_sessions WHERE id_hash = ?",
                          [digest(secret)]).fetchone()
    return (row[0], row[1]) if row else None


def is_active(db, secret: str, username: str, lifetime_days: float, now: datetime | None = None) -> bool:
    """Is the session ``secret`` of ``username`` still good? No when it does not exist or
    belongs to someone else, has ended, has expired, is older than ``lifetime_days``
    (a lifetime shortened since its login shortens it too, never lengthens it) or than
    the setting ``session_max_hours``, has seen no action for ``session_idle_minutes``
    (``seen``), was issued before the user's sessions were revoked, or the user is
    inactive. The settings are read now: a change applies to open sessions too."""
    with db.read() as cur:
        user = cur.execute("SELECT active, sessions_valid_after FROM users WHERE username = ?", [username]).fetchone()
        return user is not None and is_good(cur, db, secret, username, active=user[0], valid_after=user[1],
                                            lifetime_days=lifetime_days, now=now)


def is_good(cur, db, secret: str, username: str, *, active: bool, valid_after: datetime | None,
            lifetime_days: float, now: datetime | None = None) -> bool:
    """``is_active`` inside the caller's read ``cur``, given the user's ``active`` flag and
    ``sessions_valid_after`` as that read has them: the login gate reads the user row
    anyway (``users.user_and_session``), so only the session's row is read here."""
    now = now or utcnow()
    row = cur.execute(
        "SELECT issued_at, expires_at, ended_at, coalesce(last_seen_at, issued_at) FROM login_sessions"
        " WHERE id_hash = ? AND username = ?", [digest(secret), username]).fetchone()
    if row is None:
        return False
    issued_at, expires_at, ended_at, last_seen = row
    return (ended_at is None and active and now < expires_at
            and now < issued_at + timedelta(days=lifetime_days)
            and now < issued_at + timedelta(hours=settings.value(db, "session_max_hours"))
            and now < last_seen + timedelta(minutes=settings.value(db, "session_idle_minutes"))
            and (valid_after is None or issued_at >= valid_after))


SEEN_EVERY = timedelta(minutes=1)  # how often an open session's last action is written


def seen(db, secret: str, now: datetime | None = None) -> None:
    """The session ``secret`` acted now (its idle time starts again). The login gate
    calls it at most once every ``SEEN_EVERY`` per session."""
    now = now or utcnow()
    db.run_in_transaction(lambda cur: cur.execute(
        "UPDATE login_sessions SET last_seen_at = ? WHERE id_hash = ? AND ended_at IS NULL"
        " AND (last_seen_at IS NULL OR last_seen_at < ?)", [now, digest(secret), now]))


def end(db, secret: str, reason: str) -> None:
    """End one session (this browser logged out)."""
    db.run_in_transaction(lambda cur: cur.execute(
        "UPDATE login_sessions SET ended_at = ?, end_reason = ? WHERE id_hash = ? AND ended_at IS NULL",
        [utcnow(), reason, digest(secret)]))


def end_all(cur, username: str, reason: str, now: datetime) -> None:
    """End every open session of ``username`` (inside the caller's transaction)."""
    cur.execute("UPDATE login_sessions SET ended_at = ?, end_reason = ? WHERE username = ? AND ended_at IS NULL",
                [now, reason, username])


# -- trusted browsers ------------------------------------------------------------------------
def new_browser_id() -> str:
    return new_secret()


def is_trusted(cur, browser_id: str | None, username: str) -> bool:
    """Has the browser ``browser_id`` logged in as ``username`` before?"""
    if not browser_id:
        return False
    return cur.execute("SELECT 1 FROM trusted_browsers WHERE browser_hash = ? AND username = ?",
                       [digest(browser_id), username]).fetchone() is not None


def trust(cur, browser_id: str, username: str, now: datetime) -> None:
    cur.execute("INSERT INTO trusted_browsers (browser_hash, username, first_login) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING", [digest(browser_id), username, now])


# -- the signed cookie values ---------------------------------------------------------------
def login_token(session: LoginSession, key: str) -> str:
    """The login cookie's value. ``username`` and ``exp_date`` (epoch seconds) are what
    streamlit-authenticator reads; ``sid`` is the session id."""
    exp = session.expires_at.replace(tzinfo=timezone.utc).timestamp()
    return jwt.encode({"username": session.username, "exp_date": exp, "sid": session.secret}, key,
                      algorithm=ALGORITHM)


def read_login_token(raw, key: str, now: datetime | None = None) -> dict | None:
    """The claims of a login cookie, or None for anything that does not verify: another
    algorithm (``none``, HS512), a wrong signature, garbage, missing or mistyped claims,
    an expired date. Never raises."""
    claims = _decode(raw, key)
    if claims is None:
        return None
    username, exp, sid = claims.get("username"), claims.get("exp_date"), claims.get("sid")
    if not (isinstance(username, str) and isinstance(sid, str) and sid
            and isinstance(exp, (int, float)) and not isinstance(exp, bool) and math.isfinite(exp)):
        return None
    now = now or utcnow()
    if exp <= now.replace(tzinfo=timezone.utc).timestamp():
        return None
    return {"username": username, "exp_date": exp, "sid": sid}


def user_of_cookie(db, raw, key: str, lifetime_days: float, now: datetime | None = None) -> str | None:
    """The username a login cookie stands for, if it verifies and its session is still
    good (``is_active``); else None. For requests that are not script runs (a download
    link), which read the cookie the browser sent with them."""
    claims = read_login_token(raw, key, now)
    if claims is None or not is_active(db, claims["sid"], claims["username"], lifetime_days, now):
        return None
    return claims["username"]


def sign(claims: dict, key: str) -> str:
    """``claims`` as a signed token (for links that carry what they may do)."""
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def link_ticket(purpose: str, username: str, lang: str, key: str, minutes: int, now: datetime | None = None,
                **claims) -> str:
    """A signed ticket for a link (a download): what it is for, for whom, in which
    language, until when, and ``claims`` about what it opens."""
    until = (now or utcnow()) + timedelta(minutes=minutes)
    return sign({**claims, "purpose": purpose, "username": username, "lang": lang, "until": until.isoformat()}, key)


def read_link_ticket(raw, key: str, purpose: str, now: datetime | None = None) -> dict | None:
    """The claims of a ``link_ticket`` for ``purpose`` that verifies, names a user and a
    language and has not expired; else None. Never raises."""
    from lib.core import i18n

    claims = _decode(raw, key)
    if not claims or claims.get("purpose") != purpose:
        return None
    username, lang, until = claims.get("username"), claims.get("lang"), claims.get("until")
    if not (isinstance(username, str) and username and lang in i18n.LANGS and isinstance(until, str)):
        return None
    try:
        if datetime.fromisoformat(until) <= (now or utcnow()):
            return None
    except ValueError:
        return None
    return claims


def browser_token(browser_id: str, key: str) -> str:
    return jwt.encode({"browser": browser_id}, key, algorithm=ALGORITHM)


def read_browser_token(raw, key: str) -> str | None:
    """The browser id of a browser cookie, or None if it does not verify."""
    claims = _decode(raw, key)
    browser = claims.get("browser") if claims else None
    return browser if isinstance(browser, str) and browser else None


def _decode(raw, key: str) -> dict | None:
    if not isinstance(raw, str) or not raw or len(raw) > 4096:
        return None
    try:
        claims = jwt.decode(raw, key, algorithms=[ALGORITHM])
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    return claims if isinstance(claims, dict) else None
