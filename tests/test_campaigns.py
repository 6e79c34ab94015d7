"""Care campaigns (客户关怀): a care follow-up for every customer of a search, all or
nothing (service layer, real DuckDB file)."""
from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from lib.accounts import permissions as perm
from lib.core.errors import PermissionDenied, ValidationError
from lib.customers import campaigns as cp
from lib.customers import customer as cs
from lib.customers import followups as fu
from lib.customers.search import CustomerFilters
from tests.test_permissions import set_permission

GREETING = {"campaign_label": "2026 春节问候", "followup_summary": "节日问候并寄送礼品",
            "followup_due_on": "2026-02-10", "followup_next_action": "寄送礼品", "followup_occurred_on": "2026-01-20"}
TIER_A = CustomerFilters(choices={"tier": ("A",)})


def scalar(db, sql, params=()):
    with db.read() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def followup_rows(db) -> list[dict]:
    with db.read() as cur:
        res = cur.execute("SELECT * FROM follow_ups ORDER BY customer_id")
        return [dict(zip([d[0] for d in res.description], r)) for r in res.fetchall()]


def followup_audit(db) -> list[tuple]:
    with db.read() as cur:
        return cur.execute("SELECT actor, action, entity_id, customer_id, version, changes FROM audit_log"
                           " WHERE entity = 'followup' ORDER BY entity_id").fetchall()


@pytest.fixture
def tier_a(make_customer):
    """Three tier-A customers of three owners, plus one of tier B and an archived tier A."""
    return [make_customer(tier="A", owner=o) for o in ("sales", "sales2", "manager")]


def test_every_matching_customer_gets_a_care_follow_up_for_its_owner(db, actors, make_customer, tier_a):
    m = actors["manager"]
    other = make_customer(tier="B", owner="sales")
    archived = make_customer(tier="A", owner="sales")
    cs.archive_customer(db, m, archived["id"], archived["version"])
    seen = []
    result = cp.run_campaign(db, m, TIER_A, GREETING, progress=lambda done, total: seen.append((done, total)))
    assert (result.label, result.created) == ("2026 春节问候", 3)
    assert seen == [(0, 3), (3, 3)]
    rows = followup_rows(db)
    assert [(r["customer_id"], r["assignee"]) for r in rows] == [(c["id"], c["owner"]) for c in tier_a]
    for r in rows:
        assert (r["kind"], r["summary"], r["next_action"], r["due_on"], r["occurred_on"], r["campaign"],
                r["need_state"], r["done"], r["created_by"], r["version"], r["deleted"]) == (
            "care", "节日问候并寄送礼品", "寄送礼品", date(2026, 2, 10), date(2026, 1, 20), "2026 春节问候",
            None, False, "manager", 1, False)
    # Shown on each customer's file; the others have none.
    rec = fu.followups_of(db, actors["sales"], tier_a[0]["id"])[0][0]
    assert (rec["followup_kind"], rec["followup_assignee"], rec["campaign"]) == ("care", "sales", "2026 春节问候")
    assert fu.followups_of(db, m, other["id"])[1] == 0 and fu.followups_of(db, m, archived["id"])[1] == 0


def test_each_campaign_follow_up_is_audited_like_a_single_add(db, actors, tier_a):
    m = actors["manager"]
    cp.run_campaign(db, m, TIER_A, GREETING)
    entries = followup_audit(db)
    rows = {r["id"]: r for r in followup_rows(db)}
    assert [(who, act, rows[eid]["customer_id"], cid, v) for who, act, eid, cid, v, _ in entries] == [
        ("manager", "create", c["id"], c["id"], 1) for c in tier_a]
    # The same entry a follow-up added by hand gets, plus the campaign's name.
    by_hand = fu.add_followup(db, m, tier_a[0]["id"], {k: v for k, v in GREETING.items() if k != "campaign_label"}
                              | {"followup_kind": "care", "followup_assignee": "sales"})
    single = json.loads(followup_audit(db)[-1][-1])
    first = json.loads(entries[0][-1])
    assert first == {**single, "campaign": [None, "2026 春节问候"]}
    assert json.loads(entries[1][-1])["followup_assignee"] == [None, "sales2"]
    assert [e["entity"] for e in cs.history(db, m, tier_a[0]["id"])].count("followup") == 2
    assert by_hand["campaign"] is None


def test_batches_report_progress_in_one_transaction(db, actors, make_customer, monkeypatch):
    monkeypatch.setattr(cp, "BATCH", 2)
    for _ in range(5):
        make_customer(tier="A", owner="sales")
    seen = []
    assert cp.run_campaign(db, actors["manager"], TIER_A, GREETING, progress=lambda d, t: seen.append((d, t))
                           ).created == 5
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert scalar(db, "SELECT count(DISTINCT customer_id) FROM follow_ups") == 5
    assert scalar(db, "SELECT count(*) FROM audit_log WHERE entity = 'followup'") == 5


def test_a_failing_insert_leaves_nothing_written(db, actors, make_customer, monkeypatch):
    """All or nothing: a follow-up id taken by a row the sequence does not know about
    makes the second batch fail; the first batch goes too."""
    monkeypatch.setattr(cp, "BATCH", 2)
    for _ in range(5):
        make_customer(tier="A", owner="sales")
    audit_before = scalar(db, "SELECT count(*) FROM audit_log")
    with db.transaction() as cur:
        taken = cur.execute("SELECT nextval('follow_up_id_seq')").fetchone()[0] + 3  # the 2nd batch's 2nd id
        cur.execute("INSERT INTO follow_ups (id, customer_id, kind, occurred_on, summary, created_at, created_by,"
                    " updated_at, updated_by) VALUES (?, 0, 'note', DATE '2026-01-01', 'x', now(), 'x', now(), 'x')",
                    [taken])
    seen = []
    with pytest.raises(duckdb.ConstraintException):
        cp.run_campaign(db, actors["manager"], TIER_A, GREETING, progress=lambda d, t: seen.append((d, t)))
    assert (2, 5) in seen  # the first batch had been written before the failure
    assert [r["id"] for r in followup_rows(db)] == [taken]
    assert scalar(db, "SELECT count(*) FROM audit_log") == audit_before


def test_a_search_above_the_cap_is_refused_before_anything_is_written(db, actors, tier_a):
    m = actors["manager"]
    assert db.settings()["campaign_max_customers"] == "5000"
    audit_before = scalar(db, "SELECT count(*) FROM audit_log")
    with pytest.raises(cp.CampaignTooLarge) as ei:
        cp.run_campaign(db, m, TIER_A, GREETING, cap=2)
    assert ei.value.key == "error.campaign_too_large" and ei.value.params == {"count": 3, "cap": 2}
    assert "3" in ei.value.translate("zh") and "2" in ei.value.translate("en")
    # The setting is the default cap.
    with db.transaction() as cur:
        cur.execute("UPDATE settings SET value = '2' WHERE key = 'campaign_max_customers'")
    db.invalidate("settings")
    progress = []
    with pytest.raises(cp.CampaignTooLarge):
        cp.run_campaign(db, m, TIER_A, GREETING, progress=lambda d, t: progress.append((d, t)))
    assert progress == [] and followup_rows(db) == []
    assert scalar(db, "SELECT count(*) FROM audit_log") == audit_before
    assert cp.matching_count(db, m, TIER_A) == 3
    assert cp.run_campaign(db, m, TIER_A, GREETING, cap=3).created == 3  # at the cap is fine


def test_bad_campaign_input_is_refused_whole(db, actors, tier_a):
    with pytest.raises(ValidationError) as ei:
        cp.run_campaign(db, actors["manager"], TIER_A, {"followup_summary": " ", "followup_due_on": "2026-02-30"})
    assert {(p.field, p.key) for p in ei.value.problems} == {
        ("campaign_label", "validation.required"), ("followup_summary", "validation.required"),
        ("followup_due_on", "validation.date_invalid")}
    with pytest.raises(ValidationError) as ei:
        cp.run_campaign(db, actors["manager"], TIER_A, {k: v for k, v in GREETING.items() if k != "followup_due_on"})
    assert [(p.field, p.key) for p in ei.value.problems] == [("followup_due_on", "validation.required")]
    with pytest.raises(ValidationError) as ei:
        cp.run_campaign(db, actors["manager"], TIER_A, {**GREETING, "followup_kind": "call"})
    assert ei.value.problems[0].key == "validation.unknown_field"
    assert followup_rows(db) == []


def test_only_campaign_runners_run_campaigns_and_only_over_what_they_may_change(db, actors, tier_a):
    for who in ("sales", "viewer"):
        with pytest.raises(PermissionDenied) as ei:
            cp.run_campaign(db, actors[who], TIER_A, GREETING)
        assert ei.value.params["action"] == perm.CAMPAIGN_RUN
    assert followup_rows(db) == []
    # Given the right, a salesperson reaches only their own customers (the search's scope).
    set_permission(db, "sales", perm.CAMPAIGN_RUN, "all")
    sales = db.actor("sales", "sales")
    assert cp.matching_count(db, sales, TIER_A) == 1
    assert cp.run_campaign(db, sales, TIER_A, GREETING).created == 1
    assert [(r["customer_id"], r["assignee"]) for r in followup_rows(db)] == [(tier_a[0]["id"], "sales")]
