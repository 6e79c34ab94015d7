"""The administration page (pages/admin.py) in AppTest: who may open it, and its users
section (the users' table, login waits and lifting them)."""
from __future__ import annotations

import pytest

from lib.accounts import users
from lib.core.errors import AuthError
from lib.core.i18n import t
from tests.apptest_util import current_page, make_app, nav_paths, open_page, run, texts


@pytest.mark.parametrize("role", ["manager", "sales", "viewer"])
def test_only_admins_open_the_administration_page(db, db_path, role):
    at = run(open_page(make_app(db_path, role), "admin"))
    assert "admin" not in nav_paths(at) and current_page(at) != "admin"
    assert t("admin.intro", "zh") not in texts(at)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_users_section_lists_every_user_with_role_and_state(db, db_path, lang):
    users.set_active(db, None, "viewer", False)
    at = run(open_page(make_app(db_path, "admin", lang=lang), "admin"))
    assert at.title[0].value == t("nav.admin", lang)
    everyone = users.list_users(db)
    assert t("admin.users_caption", lang, n=len(everyone), active=len(everyone) - 1) in texts(at)
    table = at.dataframe[0].value
    assert list(table[t("admin.col_username", lang)]) == [u.username for u in everyone]
    shown = dict(zip(table[t("admin.col_username", lang)], table[t("admin.col_active", lang)]))
    assert not shown["viewer"] and shown["admin"]
    assert t("admin.delays_none", lang) in texts(at)


def test_an_admin_sees_and_lifts_a_login_wait(db, db_path):
    for _ in range(6):
        with pytest.raises(AuthError):
            users.verify_credentials(db, "sales", "wrong-password-1")
    (delay,) = users.login_delays(db, None)
    assert delay.username == "sales"
    at = run(open_page(make_app(db_path, "admin", lang="en"), "admin"))
    assert f"**sales**: {delay.failures} failed logins (from other browsers)" in texts(at)
    (lift,) = [b for b in at.button if b.label == t("admin.lift", "en")]
    lift.click()
    run(at)
    assert t("admin.lifted", "en", username="sales") in texts(at)
    assert t("admin.delays_none", "en") in texts(at)
    assert users.login_delays(db, None) == []
    with db.read() as cur:
        assert cur.execute("SELECT actor, action FROM audit_log WHERE action = 'user.lift_login_delay'"
                           ).fetchall() == [("admin", "user.lift_login_delay")]
