"""Managing users as an administrator (issue 10): roles, the last administrator,
deactivation, passwords an administrator sets (shown once, changed at the next login),
in the service (lib.accounts.users) and on the administration page (AppTest)."""
from __future__ import annotations

import json

import duckdb
import pytest

from lib.accounts import users
from lib.core.errors import PermissionDenied, ValidationError
from lib.core.i18n import t
from tests.apptest_util import make_app, nav_paths, open_page, run, texts
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "my-own-password-7"


def audits(db, action: str) -> list[tuple]:
    with db.read() as cur:
        return [(a, json.loads(c)) for a, c in cur.execute(
            "SELECT actor, changes FROM audit_log WHERE action = ? ORDER BY id", [action]).fetchall()]


def problem_key(excinfo) -> str:
    return excinfo.value.problems[0].key


# -- the service ------------------------------------------------------------------------------
def test_a_role_change_is_audited_and_only_admins_make_it(db, actors):
    users.set_role(db, actors["admin"], "sales", "manager")
    assert users.get_user(db, "sales").role == "manager"
    assert audits(db, "user.set_role") == [("admin", {"username": "sales", "role": ["sales", "manager"]})]
    users.set_role(db, actors["admin"], "sales", "manager")  # no change, no entry
    assert len(audits(db, "user.set_role")) == 1
    with pytest.raises(PermissionDenied):
        users.set_role(db, actors["manager"], "viewer", "admin")
    with pytest.raises(ValidationError) as ei:
        users.set_role(db, actors["admin"], "viewer", "owner")
    assert problem_key(ei) == "auth.bad_role"


def test_the_last_active_admin_keeps_the_role_and_stays_active(db, actors):
    admin = actors["admin"]
    for change in (lambda: users.set_role(db, admin, "admin", "manager"),
                   lambda: users.set_active(db, admin, "admin", False)):
        with pytest.raises(ValidationError) as ei:
            change()
        assert problem_key(ei) == "auth.last_admin"
    users.create_user(db, admin, "admin2", "Second", "admin", TEST_PASSWORD)
    users.set_active(db, admin, "admin2", False)  # an inactive admin does not count
    with pytest.raises(ValidationError):
        users.set_role(db, admin, "admin", "manager")
    users.set_active(db, admin, "admin2", True)
    users.set_role(db, admin, "admin", "manager")  # admin2 remains
    assert users.get_user(db, "admin").role == "manager"
    with pytest.raises(ValidationError):
        users.set_active(db, None, "admin2", False)  # now the last one
    assert users.get_user(db, "admin2").active


def test_two_admins_demoting_each_other_at_once_cannot_both_succeed(db, actors):
    users.create_user(db, None, "admin2", "Second", "admin", TEST_PASSWORD)
    first, second = db.cursor(), db.cursor()
    first.begin()
    second.begin()
    users._keep_an_admin(first, "admin")
    first.execute("UPDATE users SET role = 'manager' WHERE username = 'admin'")
    with pytest.raises(duckdb.Error):  # the claim of the admins' rows conflicts
        users._keep_an_admin(second, "admin2")
        second.execute("UPDATE users SET role = 'manager' WHERE username = 'admin2'")
        second.commit()
    second.rollback()
    first.commit()
    first.close()
    second.close()
    assert [u.username for u in users.list_users(db) if u.role == "admin" and u.active] == ["admin2"]


def test_a_reset_password_is_random_shown_once_and_must_be_changed(db, actors):
    password = users.reset_password(db, actors["admin"], "sales")
    assert len(password) == users.NEW_PASSWORD_LENGTH and password != users.reset_password(db, None, "sales2")
    assert not set(password) & set("0O1lI")
    assert users.get_user(db, "sales").must_change_password
    assert users.verify_credentials(db, "sales", password).username == "sales"
    (entry,) = [c for a, c in audits(db, "user.reset_password") if c["username"] == "sales"]
    assert password not in json.dumps(entry)
    users.change_own_password(db, actors["sales"], password, NEW_PASSWORD)
    assert not users.get_user(db, "sales").must_change_password
    with pytest.raises(PermissionDenied):
        users.reset_password(db, actors["manager"], "sales")


def test_a_new_user_may_get_a_password_to_change_and_an_email_is_checked(db, actors):
    user = users.create_user(db, actors["admin"], "li.lei", "李雷", "sales", users.new_password(),
                             email=" Li@Example.com ", must_change=True)
    assert user.must_change_password and user.email == "Li@example.com"
    assert not users.get_user(db, "sales").must_change_password
    with pytest.raises(ValidationError) as ei:
        users.create_user(db, actors["admin"], "han.mei", "韩梅", "sales", TEST_PASSWORD, email="han@")
    assert problem_key(ei) == "validation.email_invalid" and users.get_user(db, "han.mei") is None


# -- in the app -------------------------------------------------------------------------------
def test_an_admin_creates_a_user_whose_password_is_shown_once(db, db_path):
    at = run(open_page(make_app(db_path, "admin", lang="en"), "admin"))
    at.text_input(key="ad_new_user0_username").input("Li.Lei")
    at.text_input(key="ad_new_user0_name").input("李雷")
    at.text_input(key="ad_new_user0_email").input("li@example.com")
    at.selectbox(key="ad_new_user0_role").set_value("sales")
    at.button(key="FormSubmitter:ad_new_user0_form-" + t("admin.create", "en")).click()
    run(at)
    assert t("admin.created", "en", username="li.lei") in texts(at)
    (password,) = [c.value for c in at.code]
    user = users.get_user(db, "li.lei")
    assert user.must_change_password and user.role == "sales"
    assert users.verify_credentials(db, "li.lei", password).username == "li.lei"
    run(at)  # shown once
    assert not at.code and t("admin.created", "en", username="li.lei") not in texts(at)


def test_a_refused_new_user_keeps_what_was_typed(db, db_path):
    at = run(open_page(make_app(db_path, "admin", lang="zh"), "admin"))
    at.text_input(key="ad_new_user0_username").input("sales")  # taken
    at.text_input(key="ad_new_user0_name").input("重名")
    at.button(key="FormSubmitter:ad_new_user0_form-" + t("admin.create", "zh")).click()
    run(at)
    assert [e.value for e in at.error] == [t("error.duplicate_user", "zh", username="sales")]
    assert at.text_input(key="ad_new_user0_username").value == "sales"
    assert at.text_input(key="ad_new_user0_name").value == "重名"


def test_a_role_change_applies_at_the_users_next_action(db, db_path, actors):
    sales = run(make_app(db_path, "sales"))
    assert "new_customer" in nav_paths(sales)
    admin = run(open_page(make_app(db_path, "admin", lang="en"), "admin"))
    admin.selectbox(key="ad_manage_user").set_value("sales")
    run(admin)
    admin.selectbox(key="ad_role_sales").set_value("viewer")
    run(admin)  # the button is enabled once another role is chosen
    admin.button(key="ad_set_role_sales").click()
    run(admin)
    assert t("admin.role_set", "en", username="sales", role="Viewer") in texts(admin)
    run(sales)
    assert "new_customer" not in nav_paths(sales)
    assert nav_paths(sales) == ["home", "customers", "analytics", "account", "customer"]


def test_the_last_admin_cannot_deactivate_themselves_on_the_page(db, db_path):
    at = run(open_page(make_app(db_path, "admin", lang="en"), "admin"))
    at.selectbox(key="ad_manage_user").set_value("admin")
    run(at)
    at.button(key="ad_deactivate_admin").click()
    run(at)
    assert [e.value for e in at.error] == [t("auth.last_admin", "en")]
    assert users.get_user(db, "admin").active


def test_after_a_reset_the_user_may_open_only_the_account_page_until_they_choose_a_password(db, db_path, actors):
    password = users.reset_password(db, actors["admin"], "sales")
    at = run(make_app(db_path, "sales", lang="en"))
    assert nav_paths(at) == ["account"]
    assert t("account.must_change", "en") in texts(at)
    users.change_own_password(db, actors["sales"], password, NEW_PASSWORD)
    run(at)
    assert "customers" in nav_paths(at) and t("account.must_change", "en") not in texts(at)
