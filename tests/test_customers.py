"""The one write path: create, update, archive, restore, bulk update; codes; audit."""
from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from lib.customers import customer as cs
from lib.core import audit
from lib.core.clock import to_local, utcnow
from lib.core.errors import (
    ConfirmationRequired,
    ConflictError,
    CustomerMasterError,
    DuplicateError,
    NotFound,
    ValidationError,
)
from lib.customers.fields import FIELDS
from tests.conftest import customer_values

VALID_USCC = "91110108551385082Q"


def audit_rows(db, customer_id):
    with db.read() as cur:
        rows = cur.execute(
            "SELECT action, actor, version, changes FROM audit_log WHERE customer_id = ? ORDER BY id",
            [customer_id]).fetchall()
    return [(a, who, v, json.loads(c)) for a, who, v, c in rows]


def row_count(db, table):
    with db.read() as cur:
        return cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# -- codes -------------------------------------------------------------------------------------
def test_create_gives_a_readable_code_with_the_local_year(make_customer):
    rec = make_customer()
    year = to_local(utcnow()).year
    assert re.fullmatch(rf"C{year}-\d{{6}}", rec["code"])


def test_codes_are_unique_and_never_reused(db, actors, make_customer):
    first = make_customer()
    cs.archive_customer(db, actors["manager"], first["id"], first["version"])
    with pytest.raises(ValidationError):
        make_customer(name="")
    codes = [first["code"]] + [make_customer()["code"] for _ in range(5)]
    assert len(set(codes)) == 6
    numbers = [int(c.rsplit("-", 1)[1]) for c in codes]
    assert numbers == sorted(numbers)


def test_code_prefix_and_width_come_from_settings(db, make_customer):
    with db.transaction() as cur:
        cur.execute("UPDATE settings SET value = 'KH' WHERE key = 'code_prefix'")
        cur.execute("UPDATE settings SET value = '4' WHERE key = 'code_width'")
        cur.execute("UPDATE settings SET value = '0' WHERE key = 'code_with_year'")
    db.invalidate("settings")
    assert re.fullmatch(r"KH\d{4}", make_customer()["code"])


def test_code_is_written_in_the_insert_transaction(db, make_customer):
    rec = make_customer()
    with db.read() as cur:
        stored = cur.execute("SELECT code FROM customers WHERE id = ?", [rec["id"]]).fetchone()[0]
    assert stored == rec["code"]
    (action, _, _, changes), = audit_rows(db, rec["id"])
    assert action == "create" and changes["code"] == [None, rec["code"]]


# -- create ------------------------------------------------------------------------------------
def test_create_stores_every_field_and_audits_it(db, actors):
    values = customer_values(
        name="  深圳市星河科技有限公司 ", uscc=VALID_USCC.lower(), phone="0755-12345678 转 12",
        email="Zhang.Wei@Example.COM", address="深圳市南山区科技园", contact_name="张三", contact_title="采购经理",
        contact_phone="13900139000", contact_email="zhang@example.com", industry="信息传输、软件和信息技术服务业",
        tier="Strategic", size="200-999", region="广东省", credit_limit="¥1,234,567.50", status="活跃",
        notes="首次拜访\n需求：ERP", owner="sales",
    )
    rec = cs.create_customer(db, actors["manager"], values)
    assert {f.name: rec[f.name] for f in FIELDS} == {
        "name": "深圳市星河科技有限公司", "customer_type": "company", "uscc": VALID_USCC,
        "phone": "0755-12345678 转 12", "email": "Zhang.Wei@example.com", "address": "深圳市南山区科技园",
        "contact_name": "张三", "contact_title": "采购经理", "contact_phone": "13900139000",
        "contact_email": "zhang@example.com", "industry": "I", "tier": "A", "size": "200-999", "region": "440000",
        "credit_limit": Decimal("1234567.50"), "access_level": "normal", "status": "active", "owner": "sales",
        "notes": "首次拜访\n需求：ERP",
    }
    assert (rec["version"], rec["archived"], rec["created_by"], rec["updated_by"]) == (1, False, "manager", "manager")
    with db.read() as cur:
        e164, ext, initials, search = cur.execute(
            "SELECT phone_e164, phone_ext, name_initials, search_text FROM customers WHERE id = ?",
            [rec["id"]]).fetchone()
        contact = cur.execute("SELECT phone_e164, is_primary FROM contacts WHERE customer_id = ?",
                              [rec["id"]]).fetchall()
    assert (e164, ext) == ("+8675512345678", "12")
    assert initials == "szsxhkjyxgs"
    assert "8613900139000" in search and rec["code"].lower() in search
    assert contact == [("+8613900139000", True)]
    (action, who, version, changes), = audit_rows(db, rec["id"])
    assert (action, who, version) == ("create", "manager", 1)
    assert changes["credit_limit"] == [None, "1234567.50"]
    assert changes["name"] == [None, "深圳市星河科技有限公司"]
    assert "address" in changes and "size" in changes


def test_create_defaults(db, actors):
    rec = cs.create_customer(db, actors["sales"], {"name": "王五"})
    assert (rec["customer_type"], rec["status"], rec["owner"]) == ("company", "prospect", "sales")
    assert rec["reviewed_at"] is not None


@pytest.mark.parametrize("owner", [None, "", "   ", float("nan")])
def test_create_with_empty_owner_means_the_actor(db, actors, owner):
    rec = cs.create_customer(db, actors["sales"], customer_values(owner=owner))
    assert rec["owner"] == "sales"


def test_create_without_contact_fields_writes_no_contact(db, make_customer):
    rec = make_customer()
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM contacts WHERE customer_id = ?", [rec["id"]]).fetchone()[0] == 0
    assert rec["contact_name"] is None


def test_failed_create_writes_nothing(db, actors):
    before = (row_count(db, "customers"), row_count(db, "audit_log"))
    with pytest.raises(ValidationError):
        cs.create_customer(db, actors["manager"], customer_values(email="nope"))
    with pytest.raises(ConfirmationRequired):
        cs.create_customer(db, actors["manager"], customer_values(phone="12012345678"))
    assert (row_count(db, "customers"), row_count(db, "audit_log")) == before


def test_confirmed_warnings_are_stored(db, actors):
    rec = cs.create_customer(db, actors["manager"], customer_values(phone="12012345678", uscc="91350203M0001QAY9B"),
                             confirm={"phone.invalid", "uscc.checksum"})
    assert (rec["phone"], rec["uscc"]) == ("12012345678", "91350203M0001QAY9B")


def test_duplicate_uscc_names_the_holder(db, make_customer):
    first = make_customer(uscc=VALID_USCC)
    with pytest.raises(DuplicateError) as ei:
        make_customer(uscc=VALID_USCC.lower())
    assert ei.value.params == {"uscc": VALID_USCC, "code": first["code"]}
    other = make_customer()
    with pytest.raises(DuplicateError):
        cs.update_customer(db, _manager(db), other["id"], {"uscc": VALID_USCC}, other["version"])


def _manager(db):
    return db.actor("manager", "manager")


# -- update ------------------------------------------------------------------------------------
def test_update_changes_fields_bumps_version_and_audits_before_after(db, actors, make_customer):
    rec = make_customer(credit_limit="100", notes="旧")
    new = cs.update_customer(db, actors["manager"], rec["id"],
                             {"notes": "新", "credit_limit": "2,000.5", "tier": "B"}, rec["version"])
    assert (new["notes"], new["credit_limit"], new["tier"], new["version"]) == ("新", Decimal("2000.50"), "B", 2)
    assert new["name"] == rec["name"] and new["phone"] == rec["phone"]
    assert new["updated_by"] == "manager" and new["updated_at"] >= rec["updated_at"]
    assert new["reviewed_at"] >= rec["reviewed_at"]
    _, (action, who, version, changes) = audit_rows(db, rec["id"])
    assert (action, who, version) == ("update", "manager", 2)
    assert changes == {"notes": ["旧", "新"], "credit_limit": ["100.00", "2000.50"], "tier": ["C", "B"]}


def test_update_can_clear_a_field(db, actors, make_customer):
    rec = make_customer(notes="旧", email="a@example.com")
    new = cs.update_customer(db, actors["manager"], rec["id"], {"notes": None, "email": "  "}, rec["version"])
    assert (new["notes"], new["email"]) == (None, None)
    assert audit_rows(db, rec["id"])[-1][3] == {"notes": ["旧", None], "email": ["a@example.com", None]}


def test_update_without_a_real_change_writes_nothing(db, actors, make_customer):
    rec = make_customer(credit_limit="100")
    same = cs.update_customer(db, actors["manager"], rec["id"],
                              {"name": "  " + rec["name"] + " ", "credit_limit": "100.00", "tier": "普通客户"},
                              rec["version"])
    assert same["version"] == rec["version"]
    assert len(audit_rows(db, rec["id"])) == 1


def test_stale_version_is_a_conflict_naming_who_and_when(db, actors, make_customer):
    rec = make_customer(notes="v1")
    newer = cs.update_customer(db, actors["admin"], rec["id"], {"notes": "admin's"}, rec["version"])
    with pytest.raises(ConflictError) as ei:
        cs.update_customer(db, actors["manager"], rec["id"], {"notes": "manager's"}, rec["version"])
    err = ei.value
    assert err.key == "error.conflict"
    assert err.params["by"] == "admin"
    assert err.params["at"] == to_local(newer["updated_at"]).strftime("%Y-%m-%d %H:%M:%S")
    assert err.params["version"] == 2
    assert err.current["notes"] == "admin's"
    assert "admin" in err.translate("en") and err.params["at"] in err.translate("zh")
    after = cs.get_customer(db, actors["manager"], rec["id"])
    assert (after["notes"], after["version"]) == ("admin's", 2)
    assert [a for a, *_ in audit_rows(db, rec["id"])] == ["create", "update"]


def test_future_version_is_a_conflict_too(db, actors, make_customer):
    rec = make_customer()
    with pytest.raises(ConflictError):
        cs.update_customer(db, actors["manager"], rec["id"], {"notes": "x"}, rec["version"] + 1)


def test_invalid_update_writes_nothing(db, actors, make_customer):
    rec = make_customer()
    with pytest.raises(ValidationError):
        cs.update_customer(db, actors["manager"], rec["id"], {"notes": "ok", "email": "bad"}, rec["version"])
    after = cs.get_customer(db, actors["manager"], rec["id"])
    assert (after["notes"], after["version"]) == (None, 1)
    assert len(audit_rows(db, rec["id"])) == 1


def test_update_cannot_clear_required_fields(db, actors, make_customer):
    rec = make_customer()
    for field in ("name", "customer_type", "status", "owner"):
        with pytest.raises(ValidationError) as ei:
            cs.update_customer(db, actors["manager"], rec["id"], {field: None}, rec["version"])
        assert ei.value.field == field and ei.value.problems[0].key == "validation.required"
    assert cs.get_customer(db, actors["manager"], rec["id"])["version"] == 1


def test_update_rechecks_warnings_only_for_changed_fields(db, actors):
    rec = cs.create_customer(db, actors["manager"], customer_values(uscc="91350203M0001QAY9B"),
                             confirm={"uscc.checksum"})
    new = cs.update_customer(db, actors["manager"], rec["id"], {"notes": "unchanged uscc"}, rec["version"])
    assert new["version"] == 2
    with pytest.raises(ConfirmationRequired):
        cs.update_customer(db, actors["manager"], rec["id"], {"phone": "12012345678"}, new["version"])


def test_switching_to_individual_requires_clearing_size(db, actors, make_customer):
    rec = make_customer(size="10-49")
    with pytest.raises(ValidationError) as ei:
        cs.update_customer(db, actors["manager"], rec["id"], {"customer_type": "individual"}, rec["version"])
    assert ei.value.field == "size"
    new = cs.update_customer(db, actors["manager"], rec["id"], {"customer_type": "individual", "size": None},
                             rec["version"])
    assert (new["customer_type"], new["size"]) == ("individual", None)


def test_update_of_system_columns_is_refused(db, actors, make_customer):
    rec = make_customer()
    for name in ("code", "id", "version", "created_at", "archived", "search_text"):
        with pytest.raises(ValidationError) as ei:
            cs.update_customer(db, actors["manager"], rec["id"], {name: "x"}, rec["version"])
        assert ei.value.problems[0].key == "validation.read_only"


def test_update_primary_contact_creates_then_changes_it(db, actors, make_customer):
    rec = make_customer()
    v2 = cs.update_customer(db, actors["manager"], rec["id"], {"contact_name": "李四", "contact_phone": "13900139000"},
                            rec["version"])
    v3 = cs.update_customer(db, actors["manager"], rec["id"], {"contact_name": "李四四"}, v2["version"])
    assert (v3["contact_name"], v3["contact_phone"]) == ("李四四", "13900139000")
    with db.read() as cur:
        rows = cur.execute("SELECT name, is_primary, version FROM contacts WHERE customer_id = ?",
                           [rec["id"]]).fetchall()
        search = cur.execute("SELECT search_text FROM customers WHERE id = ?", [rec["id"]]).fetchone()[0]
    assert rows == [("李四四", True, 2)]
    assert "李四四" in search and "13900139000" in search


def test_update_refreshes_pinyin_and_search_text(db, actors, make_customer):
    rec = make_customer()
    cs.update_customer(db, actors["manager"], rec["id"], {"name": "厦门银行"}, rec["version"])
    with db.read() as cur:
        pinyin, initials, search = cur.execute(
            "SELECT name_pinyin, name_initials, search_text FROM customers WHERE id = ?", [rec["id"]]).fetchone()
    assert (pinyin, initials) == ("xiamenyinhang", "xmyh")
    assert "厦门银行" in search and "xmyh" in search


def test_missing_customer_is_not_found(db, actors):
    with pytest.raises(NotFound):
        cs.get_customer(db, actors["manager"], 999_999)
    with pytest.raises(NotFound):
        cs.update_customer(db, actors["manager"], 999_999, {"notes": "x"}, 1)
    with pytest.raises(NotFound):
        cs.archive_customer(db, actors["manager"], 999_999, 1)


# -- one transaction ---------------------------------------------------------------------------
class AuditDown(Exception):
    pass


def test_update_and_its_audit_entry_commit_together(db, actors, make_customer, monkeypatch):
    rec = make_customer(notes="before")

    def failing_audit(*args, **kwargs):
        raise AuditDown()

    monkeypatch.setattr(cs, "append_audit", failing_audit)
    with pytest.raises(AuditDown):
        cs.update_customer(db, actors["manager"], rec["id"], {"notes": "after", "contact_name": "赵六"},
                           rec["version"])
    with pytest.raises(AuditDown):
        cs.archive_customer(db, actors["manager"], rec["id"], rec["version"])
    after = cs.get_customer(db, actors["manager"], rec["id"])
    assert (after["notes"], after["contact_name"], after["version"], after["archived"]) == ("before", None, 1, False)
    assert row_count(db, "contacts") == 0


def test_create_and_its_audit_entry_commit_together(db, actors, monkeypatch):
    def insert(cur, entry):
        raise AuditDown()

    monkeypatch.setattr(audit, "insert", insert)
    with pytest.raises(AuditDown):
        cs.create_customer(db, actors["manager"], customer_values(contact_name="张三"))
    assert (row_count(db, "customers"), row_count(db, "contacts")) == (0, 0)


# -- archive / restore -------------------------------------------------------------------------
def test_archive_and_restore(db, actors, make_customer):
    rec = make_customer()
    archived = cs.archive_customer(db, actors["manager"], rec["id"], rec["version"])
    assert (archived["archived"], archived["archived_by"], archived["version"]) == (True, "manager", 2)
    assert archived["archived_at"] is not None
    with pytest.raises(CustomerMasterError) as ei:
        cs.update_customer(db, actors["manager"], rec["id"], {"notes": "x"}, archived["version"])
    assert ei.value.key == "error.archived"
    restored = cs.restore_customer(db, actors["manager"], rec["id"], archived["version"])
    assert (restored["archived"], restored["archived_at"], restored["archived_by"], restored["version"]) == \
        (False, None, None, 3)
    assert [(a, c) for a, _, _, c in audit_rows(db, rec["id"])][1:] == [
        ("archive", {"archived": [False, True]}), ("restore", {"archived": [True, False]})]
    # archiving does not count as a review
    assert restored["reviewed_at"] == rec["reviewed_at"]


def test_archive_with_stale_version_is_a_conflict(db, actors, make_customer):
    rec = make_customer()
    cs.update_customer(db, actors["admin"], rec["id"], {"notes": "x"}, rec["version"])
    with pytest.raises(ConflictError) as ei:
        cs.archive_customer(db, actors["manager"], rec["id"], rec["version"])
    assert ei.value.params["by"] == "admin"
    assert cs.get_customer(db, actors["manager"], rec["id"])["archived"] is False


def test_archiving_twice_changes_nothing(db, actors, make_customer):
    rec = make_customer()
    a = cs.archive_customer(db, actors["manager"], rec["id"], rec["version"])
    again = cs.archive_customer(db, actors["manager"], rec["id"], a["version"])
    assert again["version"] == a["version"]
    assert len(audit_rows(db, rec["id"])) == 2


def test_history_lists_every_write_oldest_first(db, actors, make_customer):
    rec = make_customer()
    v2 = cs.update_customer(db, actors["manager"], rec["id"], {"notes": "a"}, rec["version"])
    cs.archive_customer(db, actors["manager"], rec["id"], v2["version"])
    hist = cs.history(db, actors["manager"], rec["id"])
    assert [(h["action"], h["version"]) for h in hist] == [("create", 1), ("update", 2), ("archive", 3)]
    assert hist[1]["changes"] == {"notes": [None, "a"]}


# -- bulk update -------------------------------------------------------------------------------
def test_bulk_update_commits_good_rows_and_returns_bad_rows_with_their_edit(db, actors, make_customer):
    good, bad, stale, missing_perm = (make_customer() for _ in range(4))
    cs.update_customer(db, actors["admin"], stale["id"], {"notes": "someone else"}, stale["version"])
    edits = [
        cs.RowEdit(good["id"], good["version"], {"tier": "A", "notes": "ok"}),
        cs.RowEdit(bad["id"], bad["version"], {"tier": "Z", "notes": "kept?"}),
        cs.RowEdit(stale["id"], stale["version"], {"notes": "mine"}),
        cs.RowEdit(missing_perm["id"], missing_perm["version"], {"phone": "12012345678"}),
        cs.RowEdit(999_999, 1, {"notes": "nobody"}),
    ]
    results = cs.bulk_update(db, actors["manager"], edits)
    assert [r.ok for r in results] == [True, False, False, False, False]
    assert [type(r.error) for r in results] == [type(None), ValidationError, ConflictError, ConfirmationRequired,
                                                NotFound]
    assert results[0].record["tier"] == "A" and results[0].record["version"] == 2
    for r, e in zip(results, edits):
        assert r.edit is e and r.customer_id == e.customer_id
    assert results[1].edit.changes == {"tier": "Z", "notes": "kept?"}
    # the bad rows are untouched
    assert cs.get_customer(db, actors["manager"], bad["id"])["notes"] is None
    assert cs.get_customer(db, actors["manager"], stale["id"])["notes"] == "someone else"
    # a corrected retry of the confirmable row goes through
    retry = cs.bulk_update(db, actors["manager"], [cs.RowEdit(missing_perm["id"], missing_perm["version"],
                                                             {"phone": "12012345678"}, confirm=("phone.invalid",))])
    assert retry[0].ok and retry[0].record["phone"] == "12012345678"


def test_set_archived_many_reports_per_row(db, actors, make_customer):
    a, b = make_customer(), make_customer()
    out = cs.set_archived_many(db, actors["manager"], [(a["id"], a["version"]), (b["id"], b["version"] + 5)], True)
    assert [r.ok for r in out] == [True, False]
    assert isinstance(out[1].error, ConflictError)
    assert cs.get_customer(db, actors["manager"], a["id"])["archived"] is True
    assert cs.get_customer(db, actors["manager"], b["id"])["archived"] is False


# -- what update returns -----------------------------------------------------------------------
def test_update_returns_the_record_it_wrote_not_a_later_one(db, actors, make_customer, monkeypatch):
    rec = make_customer(notes="a")
    original = db.run_in_transaction

    def then_someone_else_writes(work, **kwargs):
        result = original(work, **kwargs)
        monkeypatch.setattr(db, "run_in_transaction", original)  # only once
        cs.update_customer(db, actors["admin"], rec["id"], {"notes": "theirs"}, rec["version"] + 1)
        return result

    monkeypatch.setattr(db, "run_in_transaction", then_someone_else_writes)
    mine = cs.update_customer(db, actors["manager"], rec["id"], {"notes": "mine"}, rec["version"])
    assert (mine["notes"], mine["version"], mine["updated_by"]) == ("mine", rec["version"] + 1, "manager")
    stored = cs.get_customer(db, actors["manager"], rec["id"])
    assert (stored["notes"], stored["version"], stored["updated_by"]) == ("theirs", rec["version"] + 2, "admin")


def test_the_record_update_returns_is_the_stored_one(db, actors, make_customer):
    rec = make_customer(contact_name="张三")
    mine = cs.update_customer(db, actors["manager"], rec["id"],
                              {"contact_phone": "13900139000", "credit_limit": "12.5", "tier": "A"}, rec["version"])
    assert mine == cs.get_customer(db, actors["manager"], rec["id"])


def test_the_record_create_returns_is_the_stored_one(db, actors):
    for values in (customer_values(contact_name="张三", contact_phone="13900139000", credit_limit="12.5"),
                   customer_values()):
        mine = cs.create_customer(db, actors["manager"], values)
        assert mine == cs.get_customer(db, actors["manager"], mine["id"])


def test_an_update_writes_only_what_changed_and_keeps_the_search_text_whole(db, actors, make_customer):
    rec = make_customer(name="厦门海洋科技有限公司", contact_name="张三", phone="0592-5551234")
    with db.read() as cur:
        before = cur.execute("SELECT * FROM customers WHERE id = ?", [rec["id"]]).fetchone()
    v2 = cs.update_customer(db, actors["manager"], rec["id"], {"tier": "A", "notes": "n"}, rec["version"])
    v3 = cs.update_customer(db, actors["manager"], rec["id"], {"contact_phone": "13900139000"}, v2["version"])
    with db.read() as cur:
        res = cur.execute("SELECT * FROM customers WHERE id = ?", [rec["id"]])
        after = dict(zip([d[0] for d in res.description], res.fetchone()))
        contacts = cur.execute("SELECT * FROM contacts WHERE customer_id = ?", [rec["id"]]).fetchall()
    before = dict(zip(after, before))
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"tier", "notes", "search_text", "updated_at", "reviewed_at", "version"}
    assert (after["tier"], after["notes"], after["version"], v3["version"]) == ("A", "n", 3, 3)
    with db.read() as cur:
        assert after["search_text"] == cs.record_search_text(after, cs._contacts_for_search(cur, rec["id"]))
    assert "13900139000" in after["search_text"] and len(contacts) == 1


# -- the entry form's save (lib.customers.entry) ------------------------------------------------
from lib.customers import entry  # noqa: E402
from lib.core.errors import PermissionDenied  # noqa: E402
BAD_CHECKSUM_USCC = "91350203M0001QAY9B"


def test_entry_validates_once_per_save(db, actors, monkeypatch):
    calls = []
    real = cs.validate_customer
    monkeypatch.setattr(cs, "validate_customer", lambda *a, **k: calls.append(1) or real(*a, **k))
    rec = entry.enter_customer(db, actors["manager"], customer_values())
    assert rec["code"] and len(calls) == 1


def test_entry_asks_for_warnings_then_duplicates_then_creates(db, actors, make_customer):
    other = make_customer("sales2", name="厦门银行股份有限公司")
    values = customer_values(name="厦门银行股份有限公司", uscc=BAD_CHECKSUM_USCC)
    with pytest.raises(ConfirmationRequired) as ei:
        entry.enter_customer(db, actors["sales"], values)
    assert not isinstance(ei.value, entry.PossibleDuplicates) and ei.value.codes == {"uscc.checksum"}
    with pytest.raises(entry.PossibleDuplicates) as ei:
        entry.enter_customer(db, actors["sales"], values, confirm={"uscc.checksum"})
    dup = ei.value
    assert [(m.code, m.owner, m.visible, m.id) for m in dup.matches] == [(other["code"], "sales2", False, None)]
    assert dup.problems[0].translate("en").startswith("1 existing customer")
    assert row_count(db, "customers") == 1  # nothing written while asking
    rec = entry.enter_customer(db, actors["sales"], values, confirm={"uscc.checksum", dup.code})
    assert (rec["name"], rec["uscc"], rec["owner"]) == ("厦门银行股份有限公司", BAD_CHECKSUM_USCC, "sales")


def test_entry_duplicate_confirmation_names_the_matches_it_answers(db, actors, make_customer):
    make_customer(name="甲公司")
    with pytest.raises(entry.PossibleDuplicates) as first:
        entry.enter_customer(db, actors["manager"], customer_values(name="甲公司"))
    make_customer(name="乙公司")
    # Confirmed for 甲公司's match, but the input now matches another customer: asked again.
    with pytest.raises(entry.PossibleDuplicates) as again:
        entry.enter_customer(db, actors["manager"], customer_values(name="乙公司"), confirm={first.value.code})
    assert again.value.code != first.value.code


def test_entry_owns_the_owner_default_and_field_permissions(db, actors):
    # The form sends every input as shown: a salesperson's locked owner (the default)
    # and credit limit (empty) pass; the service decides, not the page.
    form = customer_values(owner="sales", credit_limit=None)
    assert entry.enter_customer(db, actors["sales"], form)["owner"] == "sales"
    assert entry.enter_customer(db, actors["sales"], customer_values(owner=None))["owner"] == "sales"
    assert cs.new_customer_defaults(actors["sales"])["owner"] == "sales"
    for field, value in (("owner", "manager"), ("credit_limit", "100")):
        with pytest.raises(PermissionDenied) as ei:
            entry.enter_customer(db, actors["sales"], customer_values(**{field: value}))
        assert ei.value.params["field"] == field
