"""Custom fields (字段自定义, lib.customers.custom_fields): what an administrator adds is
part of the customer's declaration, validated by its kind, checked for permission,
audited, retired without losing data, and carried by import, export, history and
backups. (Every kind's round trip through the write path: tests/test_drift.py.)"""
from __future__ import annotations

import csv
import io
import json

import pytest

from lib.core.db import Database
from lib.core.errors import ConflictError, DuplicateError, PermissionDenied, ValidationError
from lib.customers import custom_fields as cf
from lib.customers import customer as cs
from lib.customers import export as ex
from lib.customers import fields as F
from lib.customers import importing as imp
from lib.customers import reference_admin as ra
from lib.customers.analytics import customer_analytics
from lib.customers.search import CustomerFilters, search
from lib.customers.sheets import read_sheet
from lib.ops import backup as bk
from tests.conftest import customer_values


def add_channel(db, admin, **kw):
    """A choice field: a filter and a dimension, edited by admins and managers."""
    spec = dict(key="channel", label_zh="来源渠道", label_en="Channel", kind="choice",
                edit_roles=["admin", "manager"], filter=True, dimension=True,
                choices=[("展会", "Trade fair"), ("网络", "Web"), ("转介绍", "Referral")])
    spec.update(kw)
    return cf.add_field(db, admin, **spec)


def add_wechat(db, admin, **kw):
    spec = dict(key="wechat", label_zh="微信号", label_en="WeChat ID", kind="text", max_length=40,
                edit_roles=list(db.roles()), searchable=True)
    spec.update(kw)
    return cf.add_field(db, admin, **spec)


def columns(db) -> set[str]:
    with db.read() as cur:
        return {r[0] for r in cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'").fetchall()}


def test_an_added_field_is_in_the_declaration_its_table_and_the_audit_log(db, actors):
    before = F.declared()
    field = add_wechat(db, actors["admin"])
    assert field.name == "cf_wechat" and field.active and field.version == 1
    decl = F.declared()
    assert decl[:len(before)] == before and [f.name for f in decl[len(before):]] == ["cf_wechat"]
    f = F.by_name("cf_wechat")
    assert (f.kind, f.group, f.max_length, f.searchable, f.custom) == ("text", "custom", 40, True, True)
    assert F.form_fields("custom") == (f,) and f in F.grid_fields() and "cf_wechat" in cs.customer_columns()
    assert "cf_wechat" in columns(db)
    with db.read() as cur:
        action, entity, changes = cur.execute(
            "SELECT action, entity, changes FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    changes = json.loads(changes)
    assert (action, entity, changes["field"]) == ("custom_field.add", "custom_field", "wechat")
    assert changes["kind"] == [None, "text"] and changes["label_zh"] == [None, "微信号"]


def test_a_custom_field_is_saved_searched_filtered_counted_and_in_history(db, actors):
    admin = actors["admin"]
    add_wechat(db, admin)
    add_channel(db, admin)
    rec = cs.create_customer(db, admin, customer_values(cf_wechat="wx_8812", cf_channel="Trade fair"))
    assert rec["cf_wechat"] == "wx_8812" and rec["cf_channel"] == "1"  # a label is read as its code
    other = cs.create_customer(db, admin, customer_values(cf_channel="2"))
    assert [r["id"] for r in search(db, admin, CustomerFilters(text="wx_8812")).rows] == [rec["id"]]
    assert [r["id"] for r in search(db, admin, CustomerFilters(choices={"cf_channel": ("2",)})).rows] == [other["id"]]
    counts = dict(customer_analytics(db, admin).counts["cf_channel"])
    assert counts == {"1": 1, "2": 1}
    updated = cs.update_customer(db, admin, rec["id"], {"cf_channel": "3"}, rec["version"])
    assert updated["cf_channel"] == "3"
    assert dict(customer_analytics(db, admin).counts["cf_channel"]) == {"2": 1, "3": 1}
    entries = cs.history(db, admin, rec["id"])
    assert entries[0]["changes"]["cf_wechat"] == [None, "wx_8812"]
    assert entries[-1]["changes"] == {"cf_channel": ["1", "3"]}
    assert F.label("cf_channel", "zh") == "来源渠道"


@pytest.mark.parametrize("spec, field, key", [
    (dict(key="9lives"), "key", "custom_fields.bad_key"),
    (dict(key="Wechat"), None, None),  # lower-cased, not refused
    (dict(key="a"), "key", "custom_fields.bad_key"),
    (dict(kind="colour"), "kind", "custom_fields.bad_kind"),
    (dict(label_zh=" "), "label_zh", "validation.required"),
    (dict(label_en="x" * 101), "label_en", "validation.too_long"),
    (dict(max_length=0), "max_length", "custom_fields.bad_max_length"),
    (dict(max_length=201), "max_length", "custom_fields.bad_max_length"),
    (dict(max_length="ten"), "max_length", "custom_fields.bad_max_length"),
    (dict(kind="date", max_length=10, searchable=False), "max_length", "custom_fields.no_max_length"),
    (dict(kind="money", max_length=None, searchable=True), "searchable", "custom_fields.not_searchable"),
    (dict(filter=True), "filter", "custom_fields.not_listed"),
    (dict(dimension=True), "dimension", "custom_fields.not_listed"),
    (dict(edit_roles=[]), "edit_roles", "custom_fields.no_roles"),
    (dict(edit_roles=["boss"]), "edit_roles", "custom_fields.unknown_role"),
])
def test_each_rule_of_a_new_field_is_checked_before_anything_is_written(db, actors, spec, field, key):
    before = columns(db)
    if field is None:
        assert add_wechat(db, actors["admin"], **spec).key == "wechat"
        return
    with pytest.raises(ValidationError) as ei:
        add_wechat(db, actors["admin"], **spec)
    assert (field, key) in {(p.field, p.key) for p in ei.value.problems}
    assert columns(db) == before and cf.all_fields(db) == [] and F.declared() == F.FIELDS


@pytest.mark.parametrize("choices, key", [
    ([], "custom_fields.no_choices"),
    ([("展会", "Fair"), ("展会", "Show")], "custom_fields.duplicate_choice"),
    ([("", "Fair")], "validation.required"),
])
def test_a_choice_field_needs_distinct_options(db, actors, choices, key):
    with pytest.raises(ValidationError) as ei:
        add_channel(db, actors["admin"], choices=choices)
    assert key in {p.key for p in ei.value.problems}
    assert "cf_channel" not in columns(db) and "cf_channel" not in db.reference_lists()


def test_keys_and_labels_are_never_taken_twice(db, actors):
    admin = actors["admin"]
    add_wechat(db, admin)
    with pytest.raises(DuplicateError):
        add_wechat(db, admin, label_zh="微信", label_en="WeChat")  # same key
    with pytest.raises(DuplicateError):
        add_wechat(db, admin, key="industry_2", label_zh="行业", label_en="Sector")  # a built-in label
    with pytest.raises(DuplicateError):
        add_wechat(db, admin, key="wx2", label_zh="微信2", label_en="wechat id")  # another custom label
    with pytest.raises(DuplicateError):
        add_wechat(db, admin, key="code2", label_zh="编号", label_en="Customer code")  # a system column
    cf.set_active(db, admin, "wechat", False, 1)
    with pytest.raises(DuplicateError):  # a retired field keeps its key
        add_wechat(db, admin, label_zh="微信3", label_en="WeChat 3")


def test_only_administrators_manage_fields(db, actors):
    with pytest.raises(PermissionDenied):
        add_wechat(db, actors["manager"])
    field = add_wechat(db, actors["admin"])
    for name in ("manager", "sales", "viewer"):
        with pytest.raises(PermissionDenied):
            cf.set_active(db, actors[name], "wechat", False, field.version)
        with pytest.raises(PermissionDenied):
            cf.change_field(db, actors[name], "wechat", field.version, label_zh="微")


def test_only_the_fields_roles_may_set_it(db, actors):
    add_channel(db, actors["admin"])
    sales = actors["sales"]
    with pytest.raises(PermissionDenied):
        cs.create_customer(db, sales, customer_values(cf_channel="1"))
    rec = cs.create_customer(db, sales, customer_values())  # the other fields: as before
    with pytest.raises(PermissionDenied):
        cs.update_customer(db, sales, rec["id"], {"cf_channel": "1"}, rec["version"])
    by_manager = cs.update_customer(db, actors["manager"], rec["id"], {"cf_channel": "1"}, rec["version"])
    # The salesperson still edits the rest of the customer, the channel stays.
    again = cs.update_customer(db, sales, rec["id"], {"notes": "回访"}, by_manager["version"])
    assert again["cf_channel"] == "1" and again["notes"] == "回访"


def test_a_required_field_is_required_for_new_customers_not_for_old_ones_changes(db, actors):
    admin = actors["admin"]
    old = cs.create_customer(db, admin, customer_values())
    add_wechat(db, admin, required=True)
    with pytest.raises(ValidationError) as ei:
        cs.create_customer(db, admin, customer_values())
    assert [(p.field, p.key) for p in ei.value.problems] == [("cf_wechat", "validation.required")]
    changed = cs.update_customer(db, admin, old["id"], {"notes": "旧客户"}, old["version"])
    with pytest.raises(ValidationError) as ei:
        cs.update_customer(db, admin, old["id"], {"cf_wechat": "  "}, changed["version"])
    assert [(p.field, p.key) for p in ei.value.problems] == [("cf_wechat", "validation.required")]


def test_a_text_field_keeps_its_max_length(db, actors):
    add_wechat(db, actors["admin"], max_length=5)
    with pytest.raises(ValidationError) as ei:
        cs.create_customer(db, actors["admin"], customer_values(cf_wechat="abcdef"))
    assert [(p.field, p.key) for p in ei.value.problems] == [("cf_wechat", "validation.too_long")]


def test_retiring_hides_the_field_and_keeps_its_data_and_history(db, actors):
    admin = actors["admin"]
    field = add_channel(db, admin)
    rec = cs.create_customer(db, admin, customer_values(cf_channel="2"))
    retired = cf.set_active(db, admin, "channel", False, field.version)
    assert not retired.active and F.by_name("cf_channel") is None
    assert "cf_channel" not in cs.customer_columns() and "cf_channel" not in customer_analytics(db, admin).counts
    assert "cf_channel" not in cs.get_customer(db, admin, rec["id"])
    with pytest.raises(ValidationError):  # no longer a field of the customer
        cs.update_customer(db, admin, rec["id"], {"cf_channel": "1"}, rec["version"])
    with db.read() as cur:  # the data stays
        assert cur.execute("SELECT cf_channel FROM customers WHERE id = ?", [rec["id"]]).fetchone() == ("2",)
    assert F.label("cf_channel", "en") == "Channel"  # history still reads
    assert cs.history(db, admin, rec["id"])[0]["changes"]["cf_channel"] == [None, "2"]
    back = cf.set_active(db, admin, "channel", True, retired.version)
    assert back.active and cs.get_customer(db, admin, rec["id"])["cf_channel"] == "2"
    actions = [r[0] for r in db.cursor().execute(
        "SELECT action FROM audit_log WHERE entity = 'custom_field' ORDER BY id").fetchall()]
    assert actions == ["custom_field.add", "custom_field.retire", "custom_field.restore"]


def test_changing_a_field_checks_its_version_and_keeps_key_kind_and_searchability(db, actors):
    admin = actors["admin"]
    field = add_channel(db, admin)
    changed = cf.change_field(db, admin, "channel", field.version, label_en="Source", dimension=False,
                              edit_roles=["admin", "manager", "sales"])
    assert (changed.label_en, changed.dimension, changed.version) == ("Source", False, 2)
    assert F.by_name("cf_channel").label_en == "Source" and "cf_channel" not in customer_analytics(db, admin).counts
    assert F.by_name("cf_channel").edit_roles == ("admin", "manager", "sales")
    with pytest.raises(ConflictError):
        cf.change_field(db, admin, "channel", field.version, label_en="Origin")
    with pytest.raises(ValidationError) as ei:
        cf.change_field(db, admin, "channel", changed.version, kind="text")
    assert [p.key for p in ei.value.problems] == ["custom_fields.fixed"]
    assert cf.change_field(db, admin, "channel", changed.version, label_en="Source") == changed  # nothing to do


def test_fields_move_in_the_form(db, actors):
    admin = actors["admin"]
    add_wechat(db, admin)
    add_channel(db, admin)
    assert [f.name for f in F.form_fields("custom")] == ["cf_wechat", "cf_channel"]
    assert cf.move_field(db, admin, "channel", -1) is True
    assert [f.name for f in F.form_fields("custom")] == ["cf_channel", "cf_wechat"]
    assert cf.move_field(db, admin, "channel", -1) is False


def test_a_choice_fields_list_is_managed_like_every_list(db, actors):
    admin = actors["admin"]
    add_channel(db, admin)
    assert ra.managed_lists(db)[-1] == "cf_channel"
    ra.add_item(db, admin, "cf_channel", "expo", "博览会", "Expo")
    rec = cs.create_customer(db, admin, customer_values(cf_channel="博览会"))
    assert rec["cf_channel"] == "expo"
    ra.set_active(db, admin, "cf_channel", "expo", False)
    with pytest.raises(ValidationError):
        cs.create_customer(db, admin, customer_values(cf_channel="expo"))


def test_export_template_and_import_carry_custom_fields(db, actors):
    admin = actors["admin"]
    add_wechat(db, admin)
    add_channel(db, admin)
    assert "微信号" in ex.headers("zh") and "Channel" in ex.headers("en")
    template = read_sheet(ex.import_template(db, "zh", actor=admin), header_score=imp.names_a_field)
    assert {"微信号", "来源渠道"} <= set(template.headers)
    data = "客户名称,微信号,来源渠道\n导入自定义有限公司,wx_import,网络\n".encode("utf-8")
    sheet = read_sheet(data, header_score=imp.names_a_field)
    mapping = imp.suggest_mapping(sheet.headers)
    assert mapping == ["name", "cf_wechat", "cf_channel"]
    out = imp.run_import(db, admin, sheet, mapping)
    assert out.clean
    found = search(db, admin, CustomerFilters(text="wx_import")).rows
    assert [(r["name"], r["cf_channel"]) for r in found] == [("导入自定义有限公司", "2")]
    buf = io.BytesIO()
    ex.export_customers(db, admin, CustomerFilters(text="wx_import"), "csv", buf, "zh")
    rows = list(csv.DictReader(io.StringIO(buf.getvalue().decode("utf-8-sig"))))
    assert [(r["微信号"], r["来源渠道"]) for r in rows] == [("wx_import", "网络")]


def test_bad_custom_values_in_an_import_are_reported_and_nothing_is_written(db, actors):
    admin = actors["admin"]
    add_channel(db, admin)
    data = "客户名称,来源渠道\n甲有限公司,展会\n乙有限公司,电视\n".encode("utf-8")
    sheet = read_sheet(data, header_score=imp.names_a_field)
    out = imp.run_import(db, admin, sheet, imp.suggest_mapping(sheet.headers))
    assert not out.clean
    assert [(p.row, p.column) for p in out.problems] == [(3, "来源渠道")]
    assert search(db, admin, CustomerFilters(text="有限公司")).total == 0


def test_backup_and_restore_keep_custom_fields_and_their_values(db, db_path, actors, tmp_path):
    admin = actors["admin"]
    add_channel(db, admin)
    rec = cs.create_customer(db, admin, customer_values(cf_channel="3"))
    target = tmp_path / "b.duckdb"
    bk.backup(db, target)
    cf.set_active(db, admin, "channel", False, 1)
    db.close()
    bk.restore(target, db_path)
    restored = Database(db_path)
    try:
        cf.install(restored)
        assert F.by_name("cf_channel") is not None
        assert cs.get_customer(restored, admin, rec["id"])["cf_channel"] == "3"
        assert [it["code"] for it in restored.reference_lists()["cf_channel"]] == ["1", "2", "3"]
    finally:
        restored.close()


def test_installing_reads_the_database_and_follows_its_changes(db, actors, db_path):
    add_wechat(db, actors["admin"])
    F.install()  # as a process that has not read this database yet
    assert F.by_name("cf_wechat") is None
    decl = cf.install(db)
    assert decl is F.declared() and F.by_name("cf_wechat") is not None
    other = Database(db_path.parent / "other.duckdb")  # a second Database on another file
    try:
        cf.install(other)
        assert F.declared() == F.FIELDS
    finally:
        other.close()


def test_a_write_that_meets_a_field_being_added_is_a_conflict_to_retry(db, actors):
    """Adding a column alters ``customers``; a save running at that moment fails in
    DuckDB with "Transaction conflict", which the write path retries like any conflict."""
    import duckdb

    from lib.core.db import is_write_conflict

    rec = cs.create_customer(db, actors["admin"], customer_values())
    adding = db.cursor()
    adding.execute("BEGIN")
    adding.execute("ALTER TABLE customers ADD COLUMN cf_probe VARCHAR")
    saving = db.cursor()
    try:
        saving.execute("BEGIN")
        with pytest.raises(duckdb.TransactionException) as ei:
            saving.execute("UPDATE customers SET notes = 'x' WHERE id = ?", [rec["id"]])
        assert is_write_conflict(ei.value), str(ei.value)
        saving.execute("ROLLBACK")
    finally:
        adding.execute("ROLLBACK")
        saving.close()
        adding.close()
    # And the other order: the save began first, the field was added, the save commits.
    saving = db.cursor()
    saving.execute("BEGIN")
    saving.execute("UPDATE customers SET notes = 'y' WHERE id = ?", [rec["id"]])
    add_wechat(db, actors["admin"])
    with pytest.raises(duckdb.TransactionException) as ei:
        saving.execute("COMMIT")
    assert is_write_conflict(ei.value), str(ei.value)
    saving.close()
    # Through the write path, the retry then succeeds.
    again = cs.update_customer(db, actors["admin"], rec["id"], {"notes": "z", "cf_wechat": "wx"}, rec["version"])
    assert (again["notes"], again["cf_wechat"]) == ("z", "wx")


def test_the_max_length_never_drops_below_a_stored_value(db, actors):
    admin = actors["admin"]
    field = add_wechat(db, admin, max_length=40)
    rec = cs.create_customer(db, admin, customer_values(cf_wechat="w" * 12))
    with pytest.raises(ValidationError) as ei:
        cf.change_field(db, admin, "wechat", field.version, max_length=11)
    assert [(p.field, p.key, p.params) for p in ei.value.problems] == [
        ("max_length", "custom_fields.shorter_than_stored", {"longest": 12})]
    assert cf.all_fields(db)[0].max_length == 40
    shorter = cf.change_field(db, admin, "wechat", field.version, max_length=12)
    assert shorter.max_length == 12 and F.by_name("cf_wechat").max_length == 12
    # The customer's other fields still save.
    assert cs.update_customer(db, admin, rec["id"], {"notes": "短"}, rec["version"])["notes"] == "短"


def test_a_merge_chooses_a_custom_fields_value_like_any_other(db, actors):
    from lib.customers.merge import differing_fields, merge_customers

    admin = actors["admin"]
    add_channel(db, admin)
    keep = cs.create_customer(db, admin, customer_values(cf_channel="1"))
    gone = cs.create_customer(db, admin, customer_values(cf_channel="3"))
    assert "cf_channel" in [f.name for f in differing_fields([keep, gone])]
    out = merge_customers(db, admin, keep["id"], keep["version"], {gone["id"]: gone["version"]},
                          {"cf_channel": gone["id"]})
    assert out["cf_channel"] == "3"
    assert cs.history(db, admin, keep["id"])[-1]["changes"]["cf_channel"] == ["1", "3"]
