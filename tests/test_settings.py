"""The settings an administrator changes (lib.core.settings and the administration
page's settings section): validation, all or nothing, audit, permission, and what each
change does — new customer codes only, the review period, the upload limit."""
from __future__ import annotations

import json
import re

import pytest

from lib.core import settings as S
from lib.core.errors import PermissionDenied, ValidationError
from lib.core.i18n import t
from lib.customers import files as fl
from tests.apptest_util import make_app, open_page, run, texts


def setting_audits(db) -> list[tuple]:
    with db.read() as cur:
        return [(a, json.loads(c)) for a, c in cur.execute(
            "SELECT actor, changes FROM audit_log WHERE action = 'settings.update' ORDER BY id").fetchall()]


def test_every_declared_setting_has_a_valid_stored_value_on_a_new_database(db):
    stored = db.settings()
    for s in S.SETTINGS:
        assert s.key in stored, s.key
        assert S._problem(s, stored[s.key]) is None and S._problem(s, s.default) is None, s.key
    assert S.value(db, "session_idle_minutes") == 60 and S.value(db, "session_max_hours") == 12
    assert S.value(db, "code_with_year") is True and S.value(db, "code_prefix") == "C"


def test_a_change_is_validated_all_or_nothing_and_audited(db, actors):
    admin = actors["admin"]
    with pytest.raises(ValidationError) as ei:
        S.update(db, admin, {"review_days": "abc", "code_prefix": "k1", "code_width": 99, "lockout_attempts": 6})
    assert {(p.field, p.key) for p in ei.value.problems} == {
        ("review_days", "validation.not_integer"), ("code_prefix", "validation.setting_pattern.code_prefix"),
        ("code_width", "validation.setting_range")}
    assert S.value(db, "lockout_attempts") == 5 and setting_audits(db) == []  # nothing written
    changes = S.update(db, admin, {"review_days": 90, "code_prefix": "KH", "code_with_year": False,
                                   "lockout_attempts": 5})
    assert changes == {"review_days": ["180", "90"], "code_prefix": ["C", "KH"], "code_with_year": ["1", "0"]}
    assert setting_audits(db) == [("admin", changes)]
    assert (S.value(db, "review_days"), S.value(db, "code_prefix"), S.value(db, "code_with_year")) == (90, "KH", False)
    assert S.update(db, admin, {"review_days": "90"}) == {} and len(setting_audits(db)) == 1
    with pytest.raises(ValidationError):
        S.update(db, admin, {"no_such_setting": "1"})
    for who in ("manager", "sales", "viewer"):
        with pytest.raises(PermissionDenied):
            S.update(db, actors[who], {"review_days": 30})


def test_a_stored_value_out_of_bounds_reads_as_the_default(db):
    for raw in ("0", "nan", "-5", "1e9"):
        db.run_in_transaction(lambda cur, raw=raw: cur.execute(
            "UPDATE settings SET value = ? WHERE key = 'upload_max_mb'", [raw]))
        db.invalidate("settings")
        assert fl.max_bytes(db) == 20 * 1024 * 1024, raw


def test_a_new_code_prefix_applies_to_new_customers_only(db, actors, make_customer):
    old = make_customer()
    S.update(db, actors["admin"], {"code_prefix": "KH", "code_width": 8, "code_with_year": False})
    new = make_customer()
    assert re.fullmatch(r"KH\d{8}", new["code"]), new["code"]
    assert re.fullmatch(r"C\d{4}-\d{6}", old["code"])
    with db.read() as cur:
        assert cur.execute("SELECT code FROM customers WHERE id = ?", [old["id"]]).fetchone()[0] == old["code"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_settings_section_saves_a_change_and_keeps_a_refused_one(db, db_path, lang):
    at = run(open_page(make_app(db_path, "admin", lang=lang), "admin"))
    at.number_input(key="ad_set_review_days").set_value(30)
    at.text_input(key="ad_set_code_prefix").input("kh")
    at.button(key="FormSubmitter:ad_settings-" + t("admin.settings_save", lang)).click()
    run(at)
    message = t("setting.code_prefix", lang) + ": " + t("validation.setting_pattern.code_prefix", lang)
    assert [e.value for e in at.error] == [message]
    assert at.text_input(key="ad_set_code_prefix").value == "kh"  # kept as typed
    db.invalidate("settings")
    assert S.value(db, "review_days") == 180  # all or nothing
    at.text_input(key="ad_set_code_prefix").input("KH")
    at.button(key="FormSubmitter:ad_settings-" + t("admin.settings_save", lang)).click()
    run(at)
    assert t("admin.settings_saved", lang, n=2) in texts(at)
    db.invalidate("settings")  # the app wrote through its own Database object
    assert (S.value(db, "review_days"), S.value(db, "code_prefix")) == (30, "KH")


def test_an_idle_session_is_logged_out_at_its_next_action_and_actions_keep_one_alive(db, db_path):
    from datetime import timedelta

    from lib.core.clock import utcnow

    def last_seen():
        with db.read() as cur:
            return cur.execute("SELECT last_seen_at FROM login_sessions WHERE username = 'sales'").fetchone()[0]

    at = run(make_app(db_path, "sales"))
    assert at.session_state["cm_actor"].username == "sales"
    first = last_seen()
    assert utcnow() - first < timedelta(minutes=1)
    run(at)
    assert last_seen() == first  # written at most once a minute
    # An hour and a bit without an action (the default idle time is 60 minutes).
    db.run_in_transaction(lambda cur: cur.execute(
        "UPDATE login_sessions SET last_seen_at = last_seen_at - INTERVAL 61 MINUTE WHERE username = 'sales'"))
    run(at)
    assert at.session_state["cm_actor"] is None
    assert t("auth.session_ended", "zh") in texts(at)
