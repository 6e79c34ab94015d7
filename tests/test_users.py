"""Users: passwords, the credential check, lockout and session revocation."""
from __future__ import annotations

import json
from datetime import timedelta

import bcrypt
import pytest

from lib.accounts import permissions as perm
from lib.accounts import users
from lib.core.clock import utcnow
from lib.core.errors import AuthError, DuplicateError, NotFound, PermissionDenied, ValidationError
from tests.conftest import TEST_PASSWORD

GOOD_PASSWORD = "correct-horse-42"


def auth_error(db, username, password) -> AuthError:
    with pytest.raises(AuthError) as ei:
        users.verify_credentials(db, username, password)
    return ei.value


def set_setting(db, key, value):
    with db.read() as cur:
        cur.execute("UPDATE settings SET value = ? WHERE key = ?", [value, key])
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


# -- lockout -----------------------------------------------------------------------------------
def test_lockout_after_the_configured_number_of_failures(db):
    set_setting(db, "lockout_attempts", "3")
    for _ in range(3):
        assert auth_error(db, "sales", "wrong-password-1").key == "auth.invalid_credentials"
    locked = auth_error(db, "sales", TEST_PASSWORD)  # even the right password
    assert (locked.key, locked.params) == ("auth.locked", {"minutes": 15})
    # other users are not affected
    assert users.verify_credentials(db, "sales2", TEST_PASSWORD).username == "sales2"


def test_unknown_names_are_locked_out_too(db):
    set_setting(db, "lockout_attempts", "2")
    for _ in range(2):
        assert auth_error(db, "ghost", "wrong-password-1").key == "auth.invalid_credentials"
    assert auth_error(db, "ghost", "wrong-password-1").key == "auth.locked"
    assert auth_error(db, "GHOST ", "wrong-password-1").key == "auth.locked"


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
    long_ago = utcnow() - timedelta(minutes=11)
    with db.read() as cur:
        for _ in range(5):
            cur.execute("INSERT INTO login_attempts VALUES (nextval('login_attempt_id_seq'), 'sales', ?, FALSE)",
                        [long_ago])
    assert users.verify_credentials(db, "sales", TEST_PASSWORD).username == "sales"
    with db.read() as cur:
        for _ in range(3):
            cur.execute("INSERT INTO login_attempts VALUES (nextval('login_attempt_id_seq'), 'sales2', ?, FALSE)",
                        [utcnow() - timedelta(minutes=9)])
    assert auth_error(db, "sales2", TEST_PASSWORD).params == {"minutes": 10}


def test_password_reset_ends_older_sessions(db):
    before = utcnow()
    users.set_password(db, None, "sales", GOOD_PASSWORD)
    user = users.get_user(db, "sales")
    assert user.sessions_valid_after is not None and user.sessions_valid_after >= before
    assert not users.session_valid(db, "sales", before - timedelta(seconds=1))
    assert users.session_valid(db, "sales", user.sessions_valid_after)
    assert users.session_valid(db, "sales", utcnow() + timedelta(seconds=1))
    assert auth_error(db, "sales", TEST_PASSWORD).key == "auth.invalid_credentials"
    assert users.verify_credentials(db, "sales", GOOD_PASSWORD).username == "sales"
    with pytest.raises(NotFound):
        users.set_password(db, None, "nobody", GOOD_PASSWORD)


def test_sessions_of_a_user_never_reset_stay_valid(db):
    assert users.session_valid(db, "viewer", utcnow() - timedelta(days=30))
    assert not users.session_valid(db, "nobody", utcnow())


def test_deactivating_ends_sessions(db):
    issued = utcnow()
    users.set_active(db, None, "viewer", False)
    assert not users.session_valid(db, "viewer", issued)
    assert users.actor_for(db, "viewer") is None
    assert users.actor_for(db, "sales").role == "sales"


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


def test_log_out_ends_every_session_issued_before_it(db):
    before = utcnow()
    assert users.session_valid(db, "sales", before)
    users.log_out_everywhere(db, "sales")
    assert not users.session_valid(db, "sales", before)  # e.g. a copied or undeleted cookie
    assert users.session_valid(db, "sales", utcnow())  # logging in again works
    with db.read() as cur:
        actions = [r[0] for r in cur.execute("SELECT action FROM audit_log WHERE entity = 'user'").fetchall()]
    assert "user.logout" in actions
