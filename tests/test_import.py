"""Import from files the way they arrive: GBK CSV with Chinese headers, XLSX with a title
row, merged header cells, empty rows and blank columns, mixed good and bad rows, codes
twice, formula cells, warnings to confirm; all or nothing (lib.customers.importing)."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from lib.core.errors import ConflictError, PermissionDenied
from lib.customers import customer as cs
from lib.customers import importing as imp
from lib.customers import search
from lib.customers.kinds import uscc_check_char
from lib.customers.sheets import SheetError, detect_encoding, read_sheet


def sheet_of(data: bytes, **kw):
    return read_sheet(data, header_score=imp.names_a_field, **kw)


def counts(db) -> tuple[int, int, int]:
    with db.read() as cur:
        return tuple(cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("customers", "contacts", "audit_log"))


def uscc(body: str) -> str:
    return body + uscc_check_char(body)


def xlsx(rows: list[list], merges: list[str] = ()) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GBK_FILE = ("客户名称,统一社会信用代码,电话,联系人,手机,行业,客户等级,状态\r\n"
            "厦门鹭江贸易有限公司,,0592-5123456,陈静,13906001234,批发和零售业,A,active\r\n"
            "北京中关村软件股份有限公司,,010-62345678,王磊,13801012345,J,重要客户,潜在客户\r\n"
            "杭州西湖物流有限公司,,0571-87654321,,,Transportation,C,prospect\r\n")


# -- reading ----------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_each_encoding_is_detected_without_asking(encoding):
    data = GBK_FILE.encode(encoding)
    sheet = sheet_of(data)
    assert sheet.headers[:3] == ["客户名称", "统一社会信用代码", "电话"]
    assert [cells[0] for _, cells in sheet.rows] == ["厦门鹭江贸易有限公司", "北京中关村软件股份有限公司",
                                                     "杭州西湖物流有限公司"]


def test_a_short_gbk_file_is_not_read_as_korean():
    # The detector alone ranks cp949 first for these bytes.
    data = "名称,电话\n北京某某有限公司,13800138000\n".encode("gbk")
    assert detect_encoding(data) == "gb18030"
    assert sheet_of(data).rows == [(2, ["北京某某有限公司", "13800138000"])]


def test_semicolon_and_tab_separated_files_are_read():
    for sep in (";", "\t"):
        data = f"客户名称{sep}电话\n甲公司{sep}010-62345678\n".encode()
        assert sheet_of(data).rows == [(2, ["甲公司", "010-62345678"])]


def test_xlsx_with_a_title_row_merged_headers_empty_rows_and_blank_columns():
    rows = [
        ["2026 年客户名单", None, None, None, None, None],
        ["客户名称", "联系人", None, "行业", None, None],
        [None, "姓名", "电话", None, None, None],
        ["甲有限公司", "张三", "13900001111", "金融业", None, None],
        [None, None, None, None, None, None],
        ["乙有限公司", "李四", "13900002222", "Finance", None, None],
    ]
    data = xlsx(rows, merges=["A1:F1", "A2:A3", "B2:C2", "D2:D3"])
    sheet = sheet_of(data)
    assert sheet.headers == ["客户名称", "联系人姓名", "联系人电话", "行业"]
    assert sheet.header_row == 3
    assert sheet.rows == [(4, ["甲有限公司", "张三", "13900001111", "金融业"]),
                          (6, ["乙有限公司", "李四", "13900002222", "Finance"])]
    assert imp.suggest_mapping(sheet.headers) == ["name", "contact_name", "contact_phone", "industry"]


def test_an_xlsx_sheet_can_be_chosen_and_numbers_read_as_typed():
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["这一页不是数据"])
    ws = wb.create_sheet("客户")
    ws.append(["客户名称", "电话", "信用额度"])
    ws.append(["丙有限公司", 13900003333, 50000.5])
    buf = io.BytesIO()
    wb.save(buf)
    sheet = sheet_of(buf.getvalue(), sheet="客户")
    assert sheet.sheet_names == ["说明", "客户"] and sheet.sheet == "客户"
    row = next(imp._values(sheet, imp.suggest_mapping(sheet.headers)))
    assert row.values == {"name": "丙有限公司", "phone": "13900003333", "credit_limit": "50000.5"}


def test_xlsx_rows_keep_their_excel_numbers_after_blank_leading_rows_and_columns():
    data = xlsx([[None, None, None], [None, None, None], [None, "客户名称", "电话"], [None, "丁有限公司", "010-62345678"]])
    sheet = sheet_of(data)
    assert sheet.header_row == 3 and sheet.rows == [(4, [None, "丁有限公司", "010-62345678"])]
    assert imp.suggest_mapping(sheet.headers) == [None, "name", "phone"]


def test_files_that_are_not_tables_get_a_message():
    with pytest.raises(SheetError) as exc:
        sheet_of(b"")
    assert exc.value.key == "import.empty_file"
    with pytest.raises(SheetError) as exc:
        sheet_of(b"PK\x03\x04 not really a zip")
    assert exc.value.key == "import.unreadable_xlsx"


# -- mapping ------------------------------------------------------------------------------
def test_headings_in_either_language_and_synonyms_are_mapped():
    headers = ["公司名称", "Company phone", "ＵＳＣＣ", "所属行业", "Tier", "客户编号", "销售", "备注*", "随便一列"]
    assert imp.suggest_mapping(headers) == ["name", "phone", "uscc", "industry", "tier", "code", "owner", "notes",
                                            None]


def test_a_field_is_given_to_one_column_only():
    assert imp.suggest_mapping(["客户名称", "名称"]) == ["name", None]


def test_a_users_choices_are_remembered_for_their_next_import(db, actors):
    headers = ["单位", "座机号码", "名称"]
    assert imp.suggest_mapping(headers) == [None, None, "name"]
    imp.remember_mapping(db, "manager", headers, ["name", "phone", None])
    remembered = imp.remembered_mapping(db, "manager")
    assert imp.suggest_mapping(headers, remembered) == ["name", "phone", None]
    assert imp.suggest_mapping(headers, imp.remembered_mapping(db, "admin")) == [None, None, "name"]


# -- the dry run --------------------------------------------------------------------------
def test_a_gbk_file_is_dry_run_then_imported_and_found(db, actors):
    manager = actors["manager"]
    sheet = sheet_of(GBK_FILE.encode("gbk"))
    mapping = imp.suggest_mapping(sheet.headers)
    before = counts(db)
    out = imp.dry_run(db, manager, sheet, mapping)
    assert counts(db) == before  # a dry run writes nothing
    problems = imp.problem_rows(out, "zh")
    assert [(p["row"], p["column"], p["value"]) for p in problems] == [(3, "状态", "潜在客户"),
                                                                        (4, "行业", "Transportation")]
    assert problems[0]["message"] == "“潜在客户”不在可选列表中。"
    assert imp.problem_rows(out, "en")[0]["message"] == "“潜在客户” is not one of the choices."
    assert (out.rows, out.new, out.failing, out.clean) == (3, 1, 2, False)

    # Nothing is written while a row fails.
    refused = imp.run_import(db, manager, sheet, mapping)
    assert not refused.clean and counts(db) == before

    fixed = GBK_FILE.replace("潜在客户", "潜在").replace("Transportation", "交通运输、仓储和邮政业")
    sheet = sheet_of(fixed.encode("gbk"))
    out = imp.run_import(db, manager, sheet, mapping, source="客户.csv")
    assert out.clean and out.new == 3 and len(out.codes) == 3
    found = search.search(db, manager, search.CustomerFilters(text="鹭江贸易"))
    assert [r["name"] for r in found.rows] == ["厦门鹭江贸易有限公司"]
    rec = cs.get_customer(db, manager, found.rows[0]["id"])
    assert (rec["industry"], rec["tier"], rec["contact_name"], rec["contact_phone"], rec["owner"]) == \
        ("F", "A", "陈静", "13906001234", "manager")
    rec2 = cs.get_customer_by_code(db, manager, out.codes[1])
    assert (rec2["industry"], rec2["tier"], rec2["status"]) == ("J", "B", "prospect")  # 重要客户 is B
    assert search.search(db, manager, search.CustomerFilters(text="13906001234")).total == 1
    with db.read() as cur:
        audit = cur.execute("SELECT action, count(*) FROM audit_log WHERE action IN ('create', 'import')"
                            " GROUP BY action ORDER BY action").fetchall()
    assert audit == [("create", 3), ("import", 1)]


def test_a_file_of_only_bad_rows_lists_every_row_and_writes_nothing(db, actors):
    data = "客户名称,电话,邮箱,信用额度\n,13800138000,,\n乙,abc,not-an-email,1e3\n丙," \
           "010-1,x@,-5\n".encode()
    sheet = sheet_of(data)
    before = counts(db)
    out = imp.run_import(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    assert out.failing == 3 and out.new == 0 and not out.clean
    rows = {(p.row, p.column) for p in out.problems}
    assert {(2, "客户名称"), (3, "电话"), (3, "邮箱"), (3, "信用额度"), (4, "电话"), (4, "邮箱"), (4, "信用额度")} <= rows
    assert counts(db) == before


def test_the_same_code_or_uscc_twice_in_a_file_is_refused(db, actors, make_customer):
    a, b = make_customer(), make_customer()
    data = f"客户编号,客户等级\n{a['code']},A\n{b['code']},B\n{a['code'].lower()},C\n".encode()
    sheet = sheet_of(data)
    out = imp.dry_run(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    assert [(p.row, p.key, p.params) for p in out.problems] == [(4, "import.twice_in_file", {"row": 2})]
    code = uscc("91350200MA2YQ5K4X")
    data = f"客户名称,统一社会信用代码\n甲,{code}\n乙,{code}\n".encode()
    sheet = sheet_of(data)
    out = imp.dry_run(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    assert [(p.row, p.key) for p in out.problems] == [(3, "import.twice_in_file")]
    assert (out.new, out.failing) == (1, 1)


def test_a_code_that_names_no_customer_is_an_error(db, actors):
    sheet = sheet_of("客户编号,客户名称\nC2026-999999,甲\n,乙\n".encode())
    out = imp.dry_run(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    assert [(p.row, p.key) for p in out.problems] == [(2, "import.no_such_code")]
    assert out.new == 1


def test_formula_cells_arrive_as_the_text_they_hold(db, actors):
    data = "客户名称,备注\n'=甲公司,'+86 备注\n乙公司,=HYPERLINK(\"x\")\n".encode()
    sheet = sheet_of(data)
    out = imp.run_import(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    assert out.clean
    recs = [cs.get_customer_by_code(db, actors["manager"], c) for c in out.codes]
    assert [(r["name"], r["notes"]) for r in recs] == [("=甲公司", "+86 备注"), ("乙公司", "=HYPERLINK(\"x\")")]


def test_warnings_are_confirmed_for_the_whole_file(db, actors):
    bad_check = "91350200MA2YQ5K4X" + ("0" if uscc_check_char("91350200MA2YQ5K4X") != "0" else "1")
    sheet = sheet_of(f"客户名称,统一社会信用代码\n甲,{bad_check}\n乙,\n".encode())
    mapping = imp.suggest_mapping(sheet.headers)
    out = imp.dry_run(db, actors["manager"], sheet, mapping)
    assert out.failing == 0 and out.new == 2
    assert set(out.unconfirmed) == set(out.warnings) and out.warnings and not out.clean
    assert all(p.warning for p in out.problems)
    before = counts(db)
    assert not imp.run_import(db, actors["manager"], sheet, mapping).clean
    assert counts(db) == before
    done = imp.run_import(db, actors["manager"], sheet, mapping, confirm=out.warnings)
    assert done.clean and done.new == 2 and counts(db)[0] == before[0] + 2


# -- updates ------------------------------------------------------------------------------
def test_rows_matched_by_code_update_through_the_version_check_and_audit(db, actors, make_customer):
    a, b = make_customer(tier="C"), make_customer(tier="B", notes="keep")
    sheet = sheet_of(f"客户编号,客户等级,备注\n{a['code']},A,\n{b['code']},B,keep\n".encode())
    mapping = imp.suggest_mapping(sheet.headers)
    dry = imp.dry_run(db, actors["manager"], sheet, mapping)
    assert (dry.updated, dry.unchanged, dry.new) == (1, 1, 0)
    assert dry.versions == {a["id"]: a["version"], b["id"]: b["version"]}
    out = imp.run_import(db, actors["manager"], sheet, mapping, expected=dry.versions)
    assert out.updated == 1
    after_a, after_b = cs.get_customer(db, actors["manager"], a["id"]), cs.get_customer(db, actors["manager"], b["id"])
    assert (after_a["tier"], after_a["version"]) == ("A", a["version"] + 1)
    assert after_a["notes"] == a["notes"]  # an empty cell leaves the value alone
    assert after_b["version"] == b["version"]  # unchanged: no new version
    history = cs.history(db, actors["manager"], a["id"])
    assert [h["action"] for h in history].count("update") == 1


def test_a_customer_changed_after_the_dry_run_stops_the_whole_import(db, actors, make_customer):
    a = make_customer(tier="C")
    sheet = sheet_of(f"客户编号,客户等级,客户名称\n{a['code']},A,\n,B,新客户\n".encode())
    mapping = imp.suggest_mapping(sheet.headers)
    dry = imp.dry_run(db, actors["manager"], sheet, mapping)
    cs.update_customer(db, actors["admin"], a["id"], {"notes": "colleague"}, a["version"])
    before = counts(db)
    with pytest.raises(ConflictError):
        imp.run_import(db, actors["manager"], sheet, mapping, expected=dry.versions)
    assert counts(db) == before


def test_rows_matched_by_uscc(db, actors, make_customer):
    code = uscc("91110108MA01ABCD2")
    a = make_customer(uscc=code, tier="C")
    sheet = sheet_of(f"统一社会信用代码,客户等级,客户名称\n{code},A,\n,B,新客户\n".encode())
    mapping = imp.suggest_mapping(sheet.headers)
    out = imp.run_import(db, actors["manager"], sheet, mapping, match_by="uscc")
    assert (out.updated, out.new) == (1, 1)
    assert cs.get_customer(db, actors["manager"], a["id"])["tier"] == "A"
    # By code instead, the same USCC on a new row is refused as held by a.
    sheet = sheet_of(f"统一社会信用代码,客户名称\n{code},另一个\n".encode())
    out = imp.dry_run(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    assert [p.key for p in out.problems] == ["error.duplicate_uscc"]


def test_an_update_to_a_uscc_another_customer_holds_is_refused_in_the_dry_run(db, actors, make_customer):
    held = uscc("91110108MA01ABCE3")
    make_customer(uscc=held)
    b = make_customer()
    sheet = sheet_of(f"客户编号,统一社会信用代码\n{b['code']},{held}\n".encode())
    out = imp.dry_run(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    assert [(p.row, p.key) for p in out.problems] == [(2, "error.duplicate_uscc")] and out.failing == 1


def test_rows_that_look_like_existing_customers_or_each_other_are_flagged(db, actors, make_customer):
    old = make_customer(name="厦门旧客户有限公司", phone="0592-5111222")
    sheet = sheet_of(("客户名称,电话\n厦门旧客户有限公司,\n新甲,0592-5111222\n新乙,13700001111\n"
                      "新乙,\n").encode())
    out = imp.dry_run(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    flags = {(x.row, x.reason, x.code, x.other_row) for x in out.lookalikes}
    assert flags == {(2, "name", old["code"], None), (3, "phone", old["code"], None), (5, "name", None, 4)}


# -- who may ------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["sales", "viewer"])
def test_only_managers_and_admins_import(db, actors, who):
    sheet = sheet_of("客户名称\n甲\n".encode())
    with pytest.raises(PermissionDenied):
        imp.dry_run(db, actors[who], sheet, ["name"])
    with pytest.raises(PermissionDenied):
        imp.run_import(db, actors[who], sheet, ["name"])


def test_field_rights_hold_in_an_import(db, actors):
    admin = actors["admin"]
    sheet = sheet_of("客户名称,信用额度,负责人\n甲,1000,sales\n".encode())
    out = imp.run_import(db, admin, sheet, imp.suggest_mapping(sheet.headers))
    rec = cs.get_customer_by_code(db, admin, out.codes[0])
    assert (str(rec["credit_limit"]), rec["owner"]) == ("1000.00", "sales")


# -- a file of contacts ---------------------------------------------------------------------
def test_a_contacts_file_adds_contacts_to_customers_named_by_code(db, actors, make_customer):
    from lib.customers import contacts as ct

    a = make_customer(contact_name="原联系人", contact_phone="13900009999")
    b = make_customer()
    text = (f"客户编号,姓名,部门,手机,邮箱\n{a['code']},李采购,采购部,13911112222,li@example.com\n"
            f"{b['code']},王财务,财务部,,wang@example.com\n{a['code']},赵总,,,\n")
    sheet = sheet_of(text.encode("gbk"))
    mapping = imp.suggest_mapping(sheet.headers, holds=imp.CONTACTS)
    assert mapping == ["code", "contact_name", "contact_department", "contact_mobile", "contact_email"]
    before = counts(db)
    dry = imp.dry_run(db, actors["manager"], sheet, mapping, holds=imp.CONTACTS)
    assert (dry.new, dry.failing, dry.clean) == (3, 0, True) and counts(db) == before
    out = imp.run_import(db, actors["manager"], sheet, mapping, holds=imp.CONTACTS, source="联系人.csv")
    assert out.clean
    names_a = [c["contact_name"] for c in ct.contacts_of(db, actors["manager"], a["id"])[0]]
    assert names_a == ["原联系人", "李采购", "赵总"]  # the primary stays first
    contacts_b = ct.contacts_of(db, actors["manager"], b["id"])[0]
    assert [(c["contact_name"], c["contact_department"]) for c in contacts_b][-1] == ("王财务", "财务部")
    # Every contact's phone finds its customer.
    found = search.search(db, actors["manager"], search.CustomerFilters(text="13911112222"))
    assert [r["id"] for r in found.rows] == [a["id"]]


def test_a_contacts_file_row_without_a_known_code_or_a_name_fails_and_nothing_is_added(db, actors, make_customer):
    a = make_customer()
    text = f"客户编号,姓名\n{a['code']},甲\n,乙\nC2026-999999,丙\n{a['code']},\n"
    sheet = sheet_of(text.encode())
    mapping = imp.suggest_mapping(sheet.headers, holds=imp.CONTACTS)
    before = counts(db)
    out = imp.run_import(db, actors["manager"], sheet, mapping, holds=imp.CONTACTS)
    assert [(p.row, p.key) for p in out.problems] == [(3, "import.code_required"), (4, "import.no_such_code"),
                                                       (5, "validation.required")]
    assert (out.new, out.failing, out.clean) == (1, 3, False)
    assert counts(db) == before


def test_a_remembered_choice_of_another_kind_of_file_does_not_count(db):
    imp.remember_mapping(db, "manager", ["手机"], ["contact_mobile"])
    remembered = imp.remembered_mapping(db, "manager")
    assert imp.suggest_mapping(["手机"], remembered, holds=imp.CONTACTS) == ["contact_mobile"]
    assert imp.suggest_mapping(["手机"], remembered) == ["contact_phone"]  # the synonym, for customers


def test_new_customers_are_inserted_in_chunks_and_every_one_arrives(db, actors, monkeypatch):
    monkeypatch.setattr(imp, "INSERT_CHUNK", 2)
    text = "客户名称,电话\n" + "".join(f"分块{i}有限公司,0592-52{i:05d}\n" for i in range(5))
    sheet = sheet_of(text.encode())
    out = imp.run_import(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    assert out.new == 5 and len(set(out.codes)) == 5
    names = [cs.get_customer_by_code(db, actors["manager"], c)["name"] for c in out.codes]
    assert names == [f"分块{i}有限公司" for i in range(5)]
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'create'").fetchone()[0] == 5


def test_rows_with_the_same_company_name_in_other_words_are_flagged(db, actors, make_customer):
    from lib.customers import duplicates

    old = make_customer(name="北京鹭岛科技有限公司")
    duplicates.refresh_keys(db)  # the finder's name keys of the stored customers
    text = "客户名称\n鹭岛科技（北京）股份有限公司\n甲乙科技有限公司\n甲乙科技股份有限公司\n王伟\n王伟\n"
    sheet = sheet_of(text.encode())
    out = imp.dry_run(db, actors["manager"], sheet, imp.suggest_mapping(sheet.headers))
    flags = {(x.row, x.reason, x.code, x.other_row) for x in out.lookalikes}
    assert flags == {(2, "similar_name", old["code"], None), (4, "similar_name", None, 3), (6, "name", None, 5)}


# -- with export ------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imported_again_as_an_update_changes_nothing(db, actors, make_customer, fmt):
    from lib.customers import export as ex

    manager = actors["manager"]
    made = [make_customer(notes="=SUM(A1)", email="info@example.com", contact_name="张三", contact_phone="+86 139 0000 1111",
                          credit_limit="12345.60", uscc=uscc("91350200MA2YQ5K4X")),
            make_customer(tier="A", address="-负号开头的地址", contact_title="@经理"),
            make_customer(customer_type="individual", name="王伟", size=None)]
    before_versions = {c["id"]: cs.get_customer(db, manager, c["id"])["version"] for c in made}
    before = counts(db)
    buf = io.BytesIO()
    assert ex.export_customers(db, manager, search.CustomerFilters(), fmt, buf, "zh") == 3
    sheet = sheet_of(buf.getvalue())
    mapping = imp.suggest_mapping(sheet.headers)
    assert mapping[0] == imp.CODE and {"name", "uscc", "notes", "contact_phone", "credit_limit"} <= set(mapping)
    out = imp.run_import(db, manager, sheet, mapping, confirm=imp.ALL_WARNINGS)
    assert (out.rows, out.new, out.updated, out.unchanged, out.failing) == (3, 0, 0, 3, 0), imp.problem_rows(out, "en")
    assert {c["id"]: cs.get_customer(db, manager, c["id"])["version"] for c in made} == before_versions
    after = counts(db)
    assert after[:2] == before[:2] and after[2] == before[2] + 2  # only the export's and the import's own entries


def test_the_import_template_maps_every_column_and_its_sample_row_imports(db, actors):
    from lib.customers import export as ex

    sheet = sheet_of(ex.import_template(db, "zh", actor=actors["manager"]))
    mapping = imp.suggest_mapping(sheet.headers)
    assert None not in mapping
    out = imp.dry_run(db, actors["manager"], sheet, mapping)
    assert (out.rows, out.new, out.failing) == (1, 1, 0), imp.problem_rows(out, "zh")
