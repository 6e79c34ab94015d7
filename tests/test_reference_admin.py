"""Reference lists an administrator manages (lib.customers.reference_admin): add, rename,
reorder, retire and bring back; every refusal typed and translated; every change audited
and seen by the next read; a retired value kept on old records, in filters and analytics,
but refused as new input everywhere (form and grid validation, import, parts, campaign)."""
from __future__ import annotations

import json

import pytest

from lib.accounts import permissions as perm
from lib.core.errors import DuplicateError, NotFound, PermissionDenied, ValidationError
from lib.core.i18n import MESSAGES, t
from lib.customers import campaigns as cp
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers import followups as fu
from lib.customers import importing as imp
from lib.customers import reference_admin as ra
from lib.customers import relationships as rel
from lib.customers.analytics import customer_analytics
from lib.customers.search import CustomerFilters, search
from lib.customers.sheets import Sheet
from tests.conftest import customer_values


def codes(db, list_name):
    return [it.code for it in ra.items(db, list_name)]


def item(db, list_name, code):
    (found,) = [it for it in ra.items(db, list_name) if it.code == code]
    return found


def audit(db, action=None):
    sql = "SELECT actor, action, entity, entity_id, customer_id, changes FROM audit_log WHERE entity = 'reference_item'"
    params = []
    if action:
        sql += " AND action = ?"
        params.append(action)
    with db.read() as cur:
        rows = cur.execute(sql + " ORDER BY id", params).fetchall()
    return [(a, act, e, eid, cid, json.loads(ch)) for a, act, e, eid, cid, ch in rows]


def refusal(exc) -> tuple[str, str]:
    """(field or '', key) of a typed refusal."""
    if isinstance(exc, ValidationError):
        return exc.problems[0].field, exc.problems[0].key
    return "", exc.key


# -- add ---------------------------------------------------------------------------------
def test_an_admin_adds_an_item_at_the_end_audited_and_seen_by_the_next_read(db, actors):
    before = codes(db, "tier")  # read (and cached) before the change
    added = ra.add_item(db, actors["admin"], "tier", " E ", " 观察 ", "Watch list")
    assert (added.code, added.label_zh, added.label_en, added.active) == ("E", "观察", "Watch list", True)
    assert codes(db, "tier") == [*before, "E"]
    assert db.reference_lists()["tier"][-1] == {"code": "E", "label_zh": "观察", "label_en": "Watch list",
                                                "active": True}
    assert audit(db) == [("admin", "reference_item.add", "reference_item", 0, None,
                          {"list": "tier", "code": "E", "label_zh": [None, "观察"], "label_en": [None, "Watch list"],
                           "active": [None, True]})]
    # New input may use it at once, in every channel that validates.
    rec = cs.create_customer(db, actors["manager"], customer_values(tier="E"))
    assert rec["tier"] == "E"


def test_the_longest_code_and_labels_are_accepted(db, actors):
    code = "X" * 40
    ra.add_item(db, actors["admin"], "industry", code, "行" * 100, "i" * 100)
    assert item(db, "industry", code).label_zh == "行" * 100


@pytest.mark.parametrize("code, key", [
    ("", "lists.code_required"),
    ("   ", "lists.code_required"),
    (None, "lists.code_required"),
    ("a b", "lists.bad_code"),
    ("-x", "lists.bad_code"),
    ("中文", "lists.bad_code"),
    ("x;drop", "lists.bad_code"),
    ("X" * 41, "lists.bad_code"),
])
def test_a_bad_code_is_refused(db, actors, code, key):
    with pytest.raises(ValidationError) as ei:
        ra.add_item(db, actors["admin"], "tier", code, "新", "New")
    assert refusal(ei.value) == ("code", key)
    assert codes(db, "tier") == ["A", "B", "C", "D"] and audit(db) == []


@pytest.mark.parametrize("zh, en, problems", [
    ("", "New", [("label_zh", "lists.label_required")]),
    ("新", "  ", [("label_en", "lists.label_required")]),
    ("新" * 101, "e" * 101, [("label_zh", "lists.label_too_long"), ("label_en", "lists.label_too_long")]),
    ("新\x07", "New", [("label_zh", "validation.control_chars")]),
    (None, 5, [("label_zh", "lists.label_required"), ("label_en", "lists.label_required")]),
])
def test_bad_labels_are_refused_each_on_its_field(db, actors, zh, en, problems):
    with pytest.raises(ValidationError) as ei:
        ra.add_item(db, actors["admin"], "tier", "E", zh, en)
    assert [(p.field, p.key) for p in ei.value.problems] == problems
    assert codes(db, "tier") == ["A", "B", "C", "D"] and audit(db) == []


@pytest.mark.parametrize("code", ["A", "a"])
def test_a_code_already_in_the_list_is_refused_whatever_its_case(db, actors, code):
    with pytest.raises(DuplicateError) as ei:
        ra.add_item(db, actors["admin"], "tier", code, "新", "New")
    assert ei.value.key == "lists.duplicate_code" and ei.value.params == {"code": "A"}
    assert item(db, "tier", "A").label_en != "New" and audit(db) == []


def test_the_same_code_in_another_list_is_fine(db, actors):
    ra.add_item(db, actors["admin"], "size", "A", "甲", "Size A")
    assert "A" in codes(db, "size")


def test_a_label_another_item_uses_is_refused(db, actors):
    strategic = item(db, "tier", "A")
    with pytest.raises(DuplicateError) as ei:
        ra.add_item(db, actors["admin"], "tier", "E", "另一个", strategic.label_en.upper())
    assert ei.value.key == "lists.duplicate_label" and ei.value.params["code"] == "A"


@pytest.mark.parametrize("list_name", ["customer_type", "need_state", "file_kind", "nope"])
def test_lists_the_program_relies_on_or_unknown_ones_are_not_managed(db, actors, list_name):
    with pytest.raises(ValidationError) as ei:
        ra.add_item(db, actors["admin"], list_name, "x", "新", "New")
    assert refusal(ei.value) == ("list", "lists.unknown_list")


def test_every_managed_list_exists_and_has_a_name_in_both_languages(db):
    for name in ra.MANAGED_LISTS:
        assert codes(db, name)
        assert MESSAGES["lists.name." + name]["zh"] and MESSAGES["lists.name." + name]["en"]


def test_every_refusal_reads_in_both_languages(db, actors):
    refusals = []
    for call in (
        lambda: ra.add_item(db, actors["admin"], "tier", "a b", "新", "New"),
        lambda: ra.add_item(db, actors["admin"], "tier", "", "新", "New"),
        lambda: ra.add_item(db, actors["admin"], "tier", "E", "", "New"),
        lambda: ra.add_item(db, actors["admin"], "tier", "E", "新" * 101, "New"),
        lambda: ra.add_item(db, actors["admin"], "tier", "A", "新", "New"),
        lambda: ra.add_item(db, actors["admin"], "tier", "E", item(db, "tier", "B").label_zh, "New"),
        lambda: ra.add_item(db, actors["admin"], "nope", "E", "新", "New"),
        lambda: ra.rename_item(db, actors["admin"], "tier", "Z", "新", "New"),
        lambda: ra.move_item(db, actors["admin"], "tier", "A", 2),
        lambda: ra.add_item(db, actors["viewer"], "tier", "E", "新", "New"),
    ):
        with pytest.raises((ValidationError, DuplicateError, NotFound, PermissionDenied)) as ei:
            call()
        refusals.append(ei.value)
    for exc in refusals:
        for lang in ("zh", "en"):
            texts = [p.translate(lang) for p in exc.problems] if isinstance(exc, ValidationError) else [
                exc.translate(lang)]
            for text in texts:
                assert text and not text.startswith(("lists.", "error.", "validation.")), (exc, lang, text)
    assert refusals[0].problems[0].translate("en") == t("lists.bad_code", "en", code="a b")


# -- rename ------------------------------------------------------------------------------
def test_rename_changes_both_labels_keeps_the_code_and_relabels_old_records(db, actors, make_customer):
    rec = make_customer(tier="B")
    assert db.reference_lists()["tier"][1]["label_en"] != "Important"
    assert ra.rename_item(db, actors["admin"], "tier", "B", "要客", "Important")
    b = item(db, "tier", "B")
    assert (b.code, b.label_zh, b.label_en) == ("B", "要客", "Important")
    assert cs.get_customer(db, actors["manager"], rec["id"])["tier"] == "B"  # records keep the code
    # Import reads the new label as the code.
    ctx = cs.validation_context(db)
    assert ctx.choice("tier", "important") == ("B", True)
    (entry,) = audit(db, "reference_item.rename")
    assert entry[5]["label_zh"][1] == "要客" and entry[5]["label_en"][1] == "Important"
    assert entry[5]["code"] == "B"


def test_rename_to_the_same_labels_changes_nothing(db, actors):
    b = item(db, "tier", "B")
    assert not ra.rename_item(db, actors["admin"], "tier", "B", b.label_zh, b.label_en)
    assert audit(db) == []


def test_rename_of_one_language_records_only_that_one(db, actors):
    b = item(db, "tier", "B")
    ra.rename_item(db, actors["admin"], "tier", "B", b.label_zh, "Key account")
    (entry,) = audit(db, "reference_item.rename")
    assert entry[5] == {"list": "tier", "code": "B", "label_en": [b.label_en, "Key account"]}


def test_rename_of_a_missing_code_is_not_found(db, actors):
    with pytest.raises(NotFound) as ei:
        ra.rename_item(db, actors["admin"], "tier", "Z", "新", "New")
    assert ei.value.key == "lists.not_found"


def test_rename_refuses_bad_and_taken_labels(db, actors):
    with pytest.raises(ValidationError):
        ra.rename_item(db, actors["admin"], "tier", "B", "", "x")
    with pytest.raises(DuplicateError):
        ra.rename_item(db, actors["admin"], "tier", "B", item(db, "tier", "A").label_zh, "x")
    assert audit(db) == []


# -- reorder -----------------------------------------------------------------------------
def test_move_up_and_down_reorders_and_stops_at_the_ends(db, actors):
    admin = actors["admin"]
    assert ra.move_item(db, admin, "tier", "C", -1)
    assert codes(db, "tier") == ["A", "C", "B", "D"]
    assert ra.move_item(db, admin, "tier", "A", 1)
    assert codes(db, "tier") == ["C", "A", "B", "D"]
    assert not ra.move_item(db, admin, "tier", "C", -1)
    assert not ra.move_item(db, admin, "tier", "D", 1)
    assert codes(db, "tier") == ["C", "A", "B", "D"]
    assert [e[5] for e in audit(db, "reference_item.move")] == [
        {"list": "tier", "code": "C", "position": [3, 2]}, {"list": "tier", "code": "A", "position": [1, 2]}]
    with pytest.raises(ValidationError):
        ra.move_item(db, admin, "tier", "A", 2)
    with pytest.raises(NotFound):
        ra.move_item(db, admin, "tier", "Z", 1)


def test_an_added_item_can_be_moved_to_the_top(db, actors):
    admin = actors["admin"]
    ra.add_item(db, admin, "tier", "S", "超级", "Super")
    for _ in range(4):
        ra.move_item(db, admin, "tier", "S", -1)
    assert codes(db, "tier") == ["S", "A", "B", "C", "D"]


# -- retire and bring back -------------------------------------------------------------------
def test_retire_and_bring_back_are_audited_and_seen_at_once(db, actors):
    admin = actors["admin"]
    assert item(db, "tier", "D").active
    assert ra.set_active(db, admin, "tier", "D", False)
    assert not item(db, "tier", "D").active
    assert not ra.set_active(db, admin, "tier", "D", False)  # already retired: nothing written
    assert ra.set_active(db, admin, "tier", "D", True)
    assert item(db, "tier", "D").active
    assert [(e[1], e[5]) for e in audit(db)] == [
        ("reference_item.retire", {"list": "tier", "code": "D", "active": [True, False]}),
        ("reference_item.restore", {"list": "tier", "code": "D", "active": [False, True]}),
    ]


def test_the_last_active_item_of_a_list_is_not_retired(db, actors):
    admin = actors["admin"]
    for code in ("A", "B", "C"):
        ra.set_active(db, admin, "tier", code, False)
    with pytest.raises(ValidationError) as ei:
        ra.set_active(db, admin, "tier", "D", False)
    assert refusal(ei.value) == ("code", "lists.last_active")
    assert item(db, "tier", "D").active


# -- permission ----------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["manager", "sales", "viewer", None])
def test_only_admins_change_lists(db, actors, who):
    actor = actors[who] if who else None
    for call in (
        lambda: ra.add_item(db, actor, "tier", "E", "新", "New"),
        lambda: ra.rename_item(db, actor, "tier", "A", "新", "New"),
        lambda: ra.move_item(db, actor, "tier", "B", -1),
        lambda: ra.set_active(db, actor, "tier", "A", False),
    ):
        with pytest.raises(PermissionDenied) as ei:
            call()
        assert ei.value.params["action"] == perm.LISTS_MANAGE
    assert [(it.code, it.active) for it in ra.items(db, "tier")] == [(c, True) for c in "ABCD"]
    assert audit(db) == []


def test_the_permission_table_decides_not_the_role_name(db, actors):
    with db.transaction() as cur:
        cur.execute("DELETE FROM role_permissions WHERE role = 'admin' AND action = ?", [perm.LISTS_MANAGE])
    db.invalidate()
    admin = db.actor("admin", "admin")
    with pytest.raises(PermissionDenied):
        ra.set_active(db, admin, "tier", "A", False)


# -- a retired value: kept where it is, refused as new input -----------------------------------
def test_a_retired_value_stays_on_old_records_in_filters_and_analytics(db, actors, make_customer):
    manager = actors["manager"]
    old = make_customer(tier="D", status="dormant")
    ra.set_active(db, actors["admin"], "tier", "D", False)
    # The record keeps it, and other edits save without touching it.
    saved = cs.update_customer(db, manager, old["id"], {"notes": "still D"}, old["version"])
    assert saved["tier"] == "D"
    # Saving it unchanged (as the form and the grid send the whole row) is no new input.
    saved = cs.update_customer(db, manager, old["id"], {"tier": "D", "notes": "again"}, saved["version"])
    assert saved["tier"] == "D"
    # Found by a filter on it, counted by analytics under it.
    assert search(db, manager, CustomerFilters(choices={"tier": ("D",)})).total == 1
    assert dict(customer_analytics(db, manager).counts["tier"]).get("D") == 1
    # Its label still reads (the UI's labels, filter options and grid options include it).
    from ui import kinds as K

    tier = F.by_name("tier")
    assert K.ref_labels(db, "tier", "en")["D"] == item(db, "tier", "D").label_en
    options, fmt = K.ui_kind(tier).filter_options(tier, db, "en")
    assert "D" in options and fmt("D") == item(db, "tier", "D").label_en
    assert K.ref_codes(db, "tier") == ["A", "B", "C"]  # the entry form offers only these
    assert K.ui_kind(tier).shown(tier, "D", db, "zh") == item(db, "tier", "D").label_zh


def test_a_retired_value_is_refused_as_new_input_on_create_and_update(db, actors, make_customer):
    manager = actors["manager"]
    rec = make_customer(tier="C")
    ra.set_active(db, actors["admin"], "tier", "D", False)
    for value in ("D", item(db, "tier", "D").label_zh, item(db, "tier", "D").label_en):
        with pytest.raises(ValidationError) as ei:
            cs.create_customer(db, manager, customer_values(tier=value))
        assert [(p.field, p.key) for p in ei.value.problems] == [("tier", "validation.inactive_choice")]
    with pytest.raises(ValidationError) as ei:
        cs.update_customer(db, manager, rec["id"], {"tier": "D"}, rec["version"])
    assert ei.value.problems[0].key == "validation.inactive_choice"
    # Brought back, it is offered and accepted again.
    ra.set_active(db, actors["admin"], "tier", "D", True)
    assert cs.update_customer(db, manager, rec["id"], {"tier": "D"}, rec["version"])["tier"] == "D"


def test_the_import_refuses_a_retired_value_for_new_customers(db, actors):
    ra.set_active(db, actors["admin"], "industry", "C", False)
    sheet = Sheet(headers=["客户名称", "客户类型", "行业"],
                  rows=[(2, ["退役行业测试有限公司", "企业", "C"]), (3, ["现行行业测试有限公司", "企业", "D"])])
    out = imp.dry_run(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    assert [(p.row, p.key) for p in out.problems if not p.warning] == [(2, "validation.inactive_choice")]
    assert out.failing == 1


def test_retired_kinds_are_refused_for_new_links_and_follow_ups(db, actors, make_customer):
    manager = actors["manager"]
    a, b = make_customer(), make_customer()
    ra.set_active(db, actors["admin"], "relationship_kind", "partner", False)
    ra.set_active(db, actors["admin"], "followup_kind", "visit", False)
    with pytest.raises(ValidationError) as ei:
        rel.link(db, manager, a["id"], b["id"], "partner")
    assert ei.value.problems[0].key == "validation.inactive_choice"
    with pytest.raises(ValidationError) as ei:
        fu.add_followup(db, manager, a["id"], {"followup_kind": "visit", "followup_summary": "上门拜访"})
    assert ei.value.problems[0].key == "validation.inactive_choice"
    assert fu.add_followup(db, manager, a["id"], {"followup_kind": "call", "followup_summary": "电话"})


def test_a_new_relationship_kind_reads_the_same_from_both_sides(db, actors, make_customer):
    manager = actors["manager"]
    a, b = make_customer(), make_customer()
    ra.add_item(db, actors["admin"], "relationship_kind", "competitor", "竞争对手", "Competitor")
    rel.link(db, manager, a["id"], b["id"], "competitor")
    (theirs,), _ = rel.links_of(db, manager, b["id"])
    assert theirs["relationship_kind"] == "competitor"


def test_no_care_campaign_while_care_is_retired(db, actors, make_customer):
    make_customer(tier="A")
    greeting = {"campaign_label": "2026 春节问候", "followup_summary": "节日问候", "followup_due_on": "2026-02-10"}
    ra.set_active(db, actors["admin"], "followup_kind", "care", False)
    with pytest.raises(ValidationError) as ei:
        cp.run_campaign(db, actors["manager"], CustomerFilters(choices={"tier": ("A",)}), greeting)
    assert [(p.field, p.key) for p in ei.value.problems] == [("followup_kind", "lists.care_retired")]
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM follow_ups").fetchone()[0] == 0
    ra.set_active(db, actors["admin"], "followup_kind", "care", True)
    result = cp.run_campaign(db, actors["manager"], CustomerFilters(choices={"tier": ("A",)}), greeting)
    assert result.created == 1


def test_the_import_template_offers_only_active_items(db, actors):
    import io

    from openpyxl import load_workbook

    from lib.customers.export import import_template

    ra.set_active(db, actors["admin"], "tier", "A", False)
    book = load_workbook(io.BytesIO(import_template(db, "en")))
    offered = {c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value}
    assert {item(db, "tier", c).label_en for c in "BCD"} <= offered
    assert item(db, "tier", "A").label_en == "Strategic" and "Strategic" not in offered  # no other list has it
