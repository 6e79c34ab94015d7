"""Users: passwords, the credential check, lockout and session revocation."""
from __future__ import annotations

import base64
import contextlib
import json
from datetime import timedelta

import bcrypt
import jwt
import pytest

from lib.accounts import permissions as perm
from lib.accounts import sessions, users
from lib.core.clock import utcnow
from lib.core.errors import AuthError, DuplicateError, NotFound, PermissionDenied, ValidationError
from tests.conftest import TEST_PASSWORD

GOOD_PASSWORD = "correct-horse-42"


def auth_error(db, username, password, browser=None) -> AuthError:
    with pytest.raises(AuthError) as ei:
        users.verify_credentials(db, username, password, browser)
    return ei.value


def set_setting(db, key, value):
    db.run_in_transaction(lambda cur: cur.execute("UPDATE settings SET value = ? WHERE key = ?", [value, key]))
    db.invalidate("settings")


# -- create ------------------------------------------------------------------------------------
def test_create_user_stores_a_bcrypt_hash_not_the_password(db):
    user = users.create_user(db, None, "  Li.Lei ", "李雷", "sales", GOOD_PASSWORD, email="li@example.com")
    assert (user.username, user.display_name, user.role, user.active, user.is_demo) == \
        ("li.lei", "李雷", "sales", True, False)
    assert GOOD_PASSWORD not in user.password_hash
    assert bcrypt.checkpw(GOOD_PASSWORD.encode(), user.password_hash.encode())
    assert user.password_hash.startswith("$2b$04$"), "tests run with CM_BCRYPT_ROUNDS=4"
    with db.read() as cur:
        (changes,) = cur.execute("SELECT changes FROM audit_log WHERE action = 'user.create'"
                                 " AND changes LIKE '%li.lei%'").fetchone()
    assert GOOD_PASSWORD not in changes and json.loads(changes)["role"] == "sales"


def test_create_user_refuses_duplicates_bad_names_and_roles(db):
    with pytest.raises(DuplicateError):
        users.create_user(db, None, "SALES", "x", "sales", GOOD_PASSWORD)
    for bad in ("a", "", "has space", "名字", "x" * 41, "semi;colon"):
        with pytest.raises(ValidationError) as ei:
            users.create_user(db, None, bad, "x", "sales", GOOD_PASSWORD)
        assert ei.value.problems[0].key == "auth.bad_username"
    with pytest.raises(ValidationError) as ei:
        users.create_user(db, None, "newbie", "x", "superuser", GOOD_PASSWORD)
    assert ei.value.problems[0].key == "auth.bad_role"


def test_only_admins_manage_users(db, actors):
    for who in ("manager", "sales", "viewer"):
        with pytest.raises(PermissionDenied):
            users.create_user(db, actors[who], "newbie", "x", "sales", GOOD_PASSWORD)
        with pytest.raises(PermissionDenied):
            users.set_password(db, actors[who], "sales", GOOD_PASSWORD)
    assert users.create_user(db, actors["admin"], "newbie", "x", "sales", GOOD_PASSWORD).role == "sales"


# -- password policy ---------------------------------------------------------------------------
@pytest.mark.parametrize("password", ["", "123456789", "short", "九个汉字的密码而已啊"[:9]])
def test_short_passwords_are_refused(db, password):
    with pytest.raises(ValidationError) as ei:
        users.create_user(db, None, "newbie", "x", "sales", password)
    assert ei.value.problems[0].key == "auth.password_too_short"
    assert ei.value.problems[0].params == {"min": 10}
    assert users.get_user(db, "newbie") is None


@pytest.mark.parametrize("password", ["a" * 73, "密" * 25, "😀" * 19])  # 73, 75 and 76 bytes
def test_passwords_over_72_bytes_are_refused(db, password):
    with pytest.raises(ValidationError) as ei:
        users.create_user(db, None, "newbie", "x", "sales", password)
    assert ei.value.problems[0].key == "auth.password_too_long"


@pytest.mark.parametrize("password", ["a" * 10, "a" * 72, "密" * 24, "中文密码也可以用的吧"])
def test_passwords_between_10_characters_and_72_bytes_work(db, password):
    users.create_user(db, None, "newbie", "x", "sales", password)
    assert users.verify_credentials(db, "newbie", password).username == "newbie"


@pytest.mark.parametrize("password", ["abcdefghij\x00", "abcdefghij\n", "abcdefghij\ud800", "\udc00" * 12,
                                      None, 12345678901])
def test_odd_passwords_are_validation_errors(db, password):
    with pytest.raises(ValidationError):
        users.create_user(db, None, "newbie", "x", "sales", password)
    with pytest.raises(ValidationError):
        users.set_password(db, None, "sales", password)


# -- verify_credentials ------------------------------------------------------------------------
def test_correct_credentials_give_an_actor_with_the_roles_permissions(db):
    actor = users.verify_credentials(db, " Manager ", TEST_PASSWORD)
    assert (actor.username, actor.role) == ("manager", "manager")
    assert actor.scope(perm.CUSTOMER_SET_CREDIT) == "all"


def test_wrong_password_and_unknown_user_look_the_same(db):
    wrong = auth_error(db, "sales", "wrong-password-1")
    unknown = auth_error(db, "nobody", "wrong-password-1")
    malformed = auth_error(db, "名字 with spaces", "wrong-password-1")
    empty = auth_error(db, "", "")
    for err in (wrong, unknown, malformed, empty):
        assert (err.key, err.params) == ("auth.invalid_credentials", {})
        assert str(err) == str(wrong)


def test_inactive_user_looks_like_a_wrong_password(db):
    users.set_active(db, None, "sales", False)
    assert auth_error(db, "sales", TEST_PASSWORD).key == "auth.invalid_credentials"
    users.set_active(db, None, "sales", True)
    assert users.verify_credentials(db, "sales", TEST_PASSWORD).username == "sales"


def test_password_longer_than_72_bytes_never_matches(db):
    users.create_user(db, None, "newbie", "x", "sales", "p" * 72)
    # bcrypt looks at 72 bytes only; a longer input is not the password, whatever its start
    assert auth_error(db, "newbie", "p" * 72 + "extra").key == "auth.invalid_credentials"


@pytest.mark.parametrize("password", ["\ud800" * 12, "abc\x00defghijk", "密" * 100])
def test_odd_login_input_is_an_auth_error(db, password):
    assert auth_error(db, "sales", password).key == "auth.invalid_credentials"


# -- delays after failed logins ------------------------------------------------------------------
def delayed(db, username, password, browser=None) -> int:
    with pytest.raises(AuthError) as ei:
        users.verify_credentials(db, username, password, browser)
    assert ei.value.key == "auth.login_delayed", ei.value.key
    return ei.value.params["seconds"]


def attempts(db, username) -> int:
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM login_attempts WHERE username = ?", [username]).fetchone()[0]


def age_attempts(db, seconds: float) -> None:
    """As if every recorded attempt had happened ``seconds`` earlier."""
    db.run_in_transaction(lambda cur: cur.execute(
        "UPDATE login_attempts SET attempted_at = attempted_at - to_microseconds(?)", [int(seconds * 1e6)]))


def test_failures_make_the_next_attempt_wait_and_the_wait_doubles(db):
    set_setting(db, "lockout_attempts", "3")
    for _ in range(3):
        assert auth_error(db, "sales", "wrong-password-1").key == "auth.invalid_credentials"
    assert 0 < delayed(db, "sales", TEST_PASSWORD) <= 30  # even the right password waits
    recorded = attempts(db, "sales")
    assert 0 < delayed(db, "sales", "wrong-password-1") <= 30
    assert attempts(db, "sales") == recorded  # a refused attempt costs no check and no row
    age_attempts(db, 31)
    assert auth_error(db, "sales", "wrong-password-1").key == "auth.invalid_credentials"
    assert 30 < delayed(db, "sales", TEST_PASSWORD) <= 60  # doubled
    age_attempts(db, 61)
    assert users.verify_credentials(db, "sales", TEST_PASSWORD).username == "sales"
    # other users are not affected at any time
    assert users.verify_credentials(db, "sales2", TEST_PASSWORD).username == "sales2"


def test_the_wait_is_capped_so_nobody_is_locked_out_for_long(db):
    rules = users.DelayRules.from_settings(db.settings())
    assert (rules.free_failures, rules.window, rules.first_wait) == (5, timedelta(minutes=15), 30)
    waits = [rules.wait(n) for n in range(12)]
    assert waits == [0, 0, 0, 0, 0, 30, 60, 120, 150, 150, 150, 150]
    # At the slowest allowed pace, free_failures failures stay inside the window: the
    # delay never lapses for someone who keeps guessing.
    assert rules.longest_wait * rules.free_failures < rules.window.total_seconds()


def test_unknown_names_are_delayed_too(db):
    set_setting(db, "lockout_attempts", "2")
    for _ in range(2):
        assert auth_error(db, "ghost", "wrong-password-1").key == "auth.invalid_credentials"
    assert delayed(db, "ghost", "wrong-password-1") > 0
    assert delayed(db, "GHOST ", "wrong-password-1") > 0


def test_a_success_resets_the_count(db):
    set_setting(db, "lockout_attempts", "3")
    for _ in range(2):
        auth_error(db, "sales", "wrong-password-1")
    users.verify_credentials(db, "sales", TEST_PASSWORD)
    for _ in range(2):
        auth_error(db, "sales", "wrong-password-1")
    assert users.verify_credentials(db, "sales", TEST_PASSWORD).username == "sales"


def test_old_failures_fall_out_of_the_window(db):
    set_setting(db, "lockout_attempts", "3")
    set_setting(db, "lockout_minutes", "10")

    def insert(username, at, n):
        db.run_in_transaction(lambda cur: cur.executemany(
            "INSERT INTO login_attempts (id, username, attempted_at, success)"
            " VALUES (nextval('login_attempt_id_seq'), ?, ?, FALSE)", [[username, at]] * n))

    insert("sales", utcnow() - timedelta(minutes=11), 5)
    assert users.verify_credentials(db, "sales", TEST_PASSWORD).username == "sales"
    insert("sales2", utcnow() - timedelta(seconds=5), 3)
    assert 0 < delayed(db, "sales2", TEST_PASSWORD) <= 25


def test_the_users_own_browser_gets_in_while_strangers_hammer_their_name(db):
    mine, laptop = sessions.new_browser_id(), sessions.new_browser_id()
    for browser in (mine, laptop):  # a successful login makes a browser trusted for the user
        assert users.verify_credentials(db, "sales", TEST_PASSWORD, browser).username == "sales"
    strangers = [None] + [sessions.new_browser_id() for _ in range(3)]  # no cookie, or never logged in
    for i in range(12):
        with pytest.raises(AuthError):
            users.verify_credentials(db, "sales", f"guess-{i:04d}-xx", strangers[i % 4])
    assert delayed(db, "sales", TEST_PASSWORD, strangers[1]) > 0  # strangers wait...
    assert users.verify_credentials(db, "sales", TEST_PASSWORD, mine).username == "sales"  # ...the user does not
    # A trusted browser's failures are counted on their own too.
    for _ in range(5):
        auth_error(db, "sales", "mistyped-password", mine)
    assert delayed(db, "sales", TEST_PASSWORD, mine) > 0
    assert users.verify_credentials(db, "sales", TEST_PASSWORD, laptop).username == "sales"
    # Trust is per user: the browser is a stranger to everyone else.
    with db.read() as cur:
        assert sessions.is_trusted(cur, mine, "sales") and not sessions.is_trusted(cur, mine, "sales2")


def test_an_administrator_sees_and_lifts_login_delays(db, actors):
    set_setting(db, "lockout_attempts", "2")
    mine = sessions.new_browser_id()
    users.verify_credentials(db, "sales", TEST_PASSWORD, mine)
    for browser in (None, None, mine, mine):
        auth_error(db, "sales", "wrong-password-1", browser)
    delays = users.login_delays(db, actors["admin"])
    assert [(d.username, d.known_browser, d.failures) for d in delays] == [("sales", False, 2), ("sales", True, 2)]
    assert all(utcnow() < d.wait_until <= utcnow() + timedelta(seconds=30) for d in delays)
    for who in ("manager", "sales", "viewer"):
        with pytest.raises(PermissionDenied):
            users.login_delays(db, actors[who])
        with pytest.raises(PermissionDenied):
            users.lift_login_delay(db, actors[who], "sales")
    users.lift_login_delay(db, actors["admin"], "sales")
    assert users.login_delays(db, actors["admin"]) == []
    assert users.verify_credentials(db, "sales", TEST_PASSWORD).username == "sales"
    assert users.verify_credentials(db, "sales", TEST_PASSWORD, mine).username == "sales"


def test_logins_failures_and_delays_are_audited_without_secrets(db):
    set_setting(db, "lockout_attempts", "2")
    browser = sessions.new_browser_id()
    users.verify_credentials(db, "sales", TEST_PASSWORD, browser)
    for _ in range(2):
        auth_error(db, "sales", "wrong-password-1")
    with db.read() as cur:
        rows = cur.execute("SELECT action, changes FROM audit_log WHERE entity = 'user'"
                           " AND action LIKE 'user.login%' ORDER BY id").fetchall()
    assert [a for a, _ in rows] == ["user.login", "user.login_failed", "user.login_failed", "user.login_delayed"]
    text = " ".join(c for _, c in rows)
    assert TEST_PASSWORD not in text and "wrong-password-1" not in text and browser not in text
    assert browser not in json.dumps(list_tables(db), default=str)  # only digests are stored


def list_tables(db) -> dict:
    with db.read() as cur:
        return {t: cur.execute(f"SELECT * FROM {t}").fetchall()
                for t in ("login_attempts", "trusted_browsers", "login_sessions")}


def test_the_credential_check_writes_only_in_a_transaction(db, monkeypatch):
    class ReadOnly:
        def __init__(self, cur):
            self.cur = cur

        def execute(self, sql, *args):
            assert sql.lstrip().split()[0].upper() in ("SELECT", "WITH"), sql
            return self.cur.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.cur, name)

    real_read = type(db).read

    @contextlib.contextmanager
    def read_only(self):
        with real_read(self) as cur:
            yield ReadOnly(cur)

    monkeypatch.setattr(type(db), "read", read_only)
    auth_error(db, "sales", "wrong-password-1")
    assert users.verify_credentials(db, "sales", TEST_PASSWORD, sessions.new_browser_id()).username == "sales"
    assert attempts(db, "sales") == 2


# -- login sessions ----------------------------------------------------------------------------------
def test_a_sessions_login_time_comes_from_its_row_not_from_the_settings(db):
    session = sessions.start(db, "sales", 7)
    assert sessions.is_active(db, session.secret, "sales", 7)
    users.log_out_everywhere(db, "sales")
    # The old bug: issue time = expiry - today's lifetime, so a shorter lifetime after a
    # restart made a copied cookie of a logged-out session valid again.
    for lifetime in (0.5, 1, 7, 30):
        assert not sessions.is_active(db, session.secret, "sales", lifetime)
    assert sessions.is_active(db, sessions.start(db, "sales", 7).secret, "sales", 7)  # logging in again works


def test_a_shorter_lifetime_shortens_sessions_and_a_longer_one_never_lengthens_them(db):
    # The cookie's lifetime alone: the session settings as long as they go.
    set_setting(db, "session_max_hours", "720")
    set_setting(db, "session_idle_minutes", "1440")
    session = sessions.start(db, "sales", 1)
    now = utcnow()
    assert sessions.is_active(db, session.secret, "sales", 1, now=now + timedelta(hours=23))
    assert not sessions.is_active(db, session.secret, "sales", 30, now=now + timedelta(days=2))
    assert not sessions.is_active(db, session.secret, "sales", 0.5, now=now + timedelta(hours=13))
    assert sessions.is_active(db, session.secret, "sales", 0.5, now=now + timedelta(hours=11))


def test_a_session_is_only_good_for_its_own_user_and_id(db):
    session = sessions.start(db, "sales", 7)
    assert not sessions.is_active(db, session.secret, "sales2", 7)
    assert not sessions.is_active(db, sessions.new_secret(), "sales", 7)
    with db.read() as cur:
        stored = cur.execute("SELECT id_hash FROM login_sessions").fetchall()
    assert stored == [(sessions.digest(session.secret),)]  # the id itself is not stored


def test_password_changes_and_deactivation_end_sessions(db, actors):
    reset, changed, deactivated, other = (sessions.start(db, u, 7) for u in ("sales", "sales2", "viewer", "manager"))
    users.set_password(db, None, "sales", GOOD_PASSWORD)
    users.change_own_password(db, actors["sales2"], TEST_PASSWORD, GOOD_PASSWORD)
    users.set_active(db, None, "viewer", False)
    for s in (reset, changed, deactivated):
        assert not sessions.is_active(db, s.secret, s.username, 7), s.username
    assert sessions.is_active(db, other.secret, "manager", 7)
    users.set_active(db, None, "viewer", True)
    assert not sessions.is_active(db, deactivated.secret, "viewer", 7)  # ended stays ended
    assert users.actor_for(db, "viewer").role == "viewer"
    assert auth_error(db, "sales", TEST_PASSWORD).key == "auth.invalid_credentials"
    assert users.verify_credentials(db, "sales", GOOD_PASSWORD).username == "sales"
    with pytest.raises(NotFound):
        users.set_password(db, None, "nobody", GOOD_PASSWORD)


def test_log_out_ends_every_session_of_the_user(db):
    first, second = sessions.start(db, "sales", 7), sessions.start(db, "sales", 7)
    users.log_out_everywhere(db, "sales")
    assert not sessions.is_active(db, first.secret, "sales", 7)  # e.g. a copied or undeleted cookie
    assert not sessions.is_active(db, second.secret, "sales", 7)  # and the other browser's
    with db.read() as cur:
        actions = [r[0] for r in cur.execute("SELECT action FROM audit_log WHERE entity = 'user'").fetchall()]
    assert "user.logout" in actions


KEY = "Zk3rP9wQ2mX7vN4tB8yL1cF6hJ5sD0gAeUiOoRqWxYz-_Kk2Lm9Np8Qr7St6Uv5Wx"


def forged(header: dict, claims: dict, signature: bytes = b"") -> str:
    part = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part(header)}.{part(claims)}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def test_only_a_well_formed_token_signed_with_the_key_is_read():
    session = sessions.LoginSession("sid-1", "admin", utcnow(), utcnow() + timedelta(days=1))
    good = sessions.login_token(session, KEY)
    assert sessions.read_login_token(good, KEY)["sid"] == "sid-1"
    future = (utcnow() + timedelta(days=1)).timestamp() + 86400
    claims = {"username": "admin", "exp_date": future, "sid": "x"}
    bad = [
        forged({"alg": "none", "typ": "JWT"}, claims),
        jwt.encode(claims, KEY, algorithm="HS512"),
        jwt.encode(claims, KEY + "x", algorithm="HS256"),
        jwt.encode({"username": "admin", "exp_date": future}, KEY, algorithm="HS256"),  # no session id
        jwt.encode({**claims, "exp_date": str(future)}, KEY, algorithm="HS256"),
        jwt.encode({**claims, "exp_date": 1.0}, KEY, algorithm="HS256"),  # expired
        jwt.encode({**claims, "username": ["admin"]}, KEY, algorithm="HS256"),
        "garbage", "a.b.c", "", None, 42, "x" * 5000,
    ]
    assert [sessions.read_login_token(token, KEY) for token in bad] == [None] * len(bad)
    assert sessions.read_browser_token(sessions.browser_token("b-1", KEY), KEY) == "b-1"
    assert sessions.read_browser_token(sessions.browser_token("b-1", KEY + "x"), KEY) is None
    assert sessions.read_browser_token(good, KEY) is None


def test_change_own_password_needs_the_current_one(db, actors):
    with pytest.raises(ValidationError) as ei:
        users.change_own_password(db, actors["sales"], "not-the-password", GOOD_PASSWORD)
    assert ei.value.problems[0].key == "auth.wrong_current_password"
    with pytest.raises(ValidationError):
        users.change_own_password(db, actors["sales"], "\ud800" * 12, GOOD_PASSWORD)
    users.change_own_password(db, actors["sales"], TEST_PASSWORD, GOOD_PASSWORD)
    assert users.verify_credentials(db, "sales", GOOD_PASSWORD).username == "sales"


def test_demo_users_are_created_once(db_path):
    from lib.core.db import Database

    db = Database(db_path)
    try:
        assert users.ensure_demo_users(db) == [u[0] for u in users.DEMO_USERS]
        assert users.ensure_demo_users(db) == []
        assert sorted(users.active_demo_users(db)) == sorted(u[0] for u in users.DEMO_USERS)
        for username, _, role, password in users.DEMO_USERS:
            assert users.verify_credentials(db, username, password).role == role
    finally:
        db.close()




def test_a_session_ends_after_the_idle_time_and_after_the_longest_time(db):
    session = sessions.start(db, "sales", 7)
    start = session.issued_at

    def active(minutes: float) -> bool:
        return sessions.is_active(db, session.secret, "sales", 7, now=start + timedelta(minutes=minutes))

    assert active(59) and not active(61)  # defaults: idle 60 minutes ...
    for minutes in range(50, 11 * 60, 50):  # ... kept alive by an action every 50 minutes
        sessions.seen(db, session.secret, now=start + timedelta(minutes=minutes))
        assert active(minutes + 59)
    assert not active(12 * 60 + 1)  # ... but never beyond 12 hours
    sessions.seen(db, session.secret, now=start + timedelta(minutes=30))  # an older action changes nothing
    assert active(650 + 59) and not active(650 + 61)


def test_a_change_of_the_session_settings_applies_to_open_sessions(db):
    session = sessions.start(db, "sales", 7)
    later = session.issued_at + timedelta(minutes=20)
    assert sessions.is_active(db, session.secret, "sales", 7, now=later)
    set_setting(db, "session_idle_minutes", "15")
    assert not sessions.is_active(db, session.secret, "sales", 7, now=later)
    set_setting(db, "session_idle_minutes", "60")
    set_setting(db, "session_max_hours", "1")
    assert not sessions.is_active(db, session.secret, "sales", 7, now=session.issued_at + timedelta(minutes=61))
