"""The import page in AppTest: upload, suggested mapping, dry run with its problems,
warnings accepted for the whole file, import, remembered mapping; who may open it."""
from __future__ import annotations

import pytest

from lib.core.i18n import t
from lib.customers import importing as imp
from lib.customers import search
from lib.customers.kinds import uscc_check_char
from tests.apptest_util import make_app, nav_paths, open_page

GOOD = "客户名称,电话,行业,客户等级\n厦门导入测试有限公司,0592-5123456,批发和零售业,A\n"
BAD = GOOD + "坏行,abc,不存在的行业,A\n"


def open_import(db_path, who="manager", lang="zh"):
    at = make_app(db_path, who, lang=lang)
    open_page(at, "import_customers").run()
    assert not at.exception, at.exception
    return at


def upload(at, text: str, encoding: str = "gbk", name: str = "客户.csv"):
    at.file_uploader(key="im_file").set_value((name, text.encode(encoding), "text/csv"))
    at.run()
    assert not at.exception, at.exception
    return at


def mapping_boxes(at):
    """The mapping's select boxes in column order (they are laid out in three columns)."""
    return sorted((s for s in at.selectbox if s.key.startswith("im_map_")), key=lambda s: int(s.key.rsplit("_", 1)[1]))


def count_customers(db) -> int:
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM customers").fetchone()[0]


def test_a_file_with_errors_shows_them_and_imports_nothing_then_a_fixed_one_imports(db, db_path, actors):
    at = upload(open_import(db_path), BAD)
    # The mapping is suggested from the Chinese headings.
    assert [s.value for s in mapping_boxes(at)] == ["name", "phone", "industry", "tier"]
    at.button(key="im_dry_run").click().run()
    assert not at.exception, at.exception
    shown = at.dataframe[0].value
    assert list(shown[t("import.col.row", "zh")]) == [3, 3]
    assert set(shown[t("import.col.column", "zh")]) == {"电话", "行业"}
    assert any(t("import.fix_first", "zh", failing=1) == e.value for e in at.error)
    assert not [b for b in at.button if b.key == "im_run"]  # no import while a row fails
    assert count_customers(db) == 0

    upload(at, GOOD)
    at.button(key="im_dry_run").click().run()
    at.button(key="im_run").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == t("import.done", "zh", new=1, updated=0, unchanged=0)
    found = search.search(db, actors["manager"], search.CustomerFilters(text="导入测试"))
    assert [r["name"] for r in found.rows] == ["厦门导入测试有限公司"]


def test_warnings_must_be_accepted_before_the_import_button_shows(db, db_path):
    body = "91350200MA2YQ5K4X"
    wrong = body + ("0" if uscc_check_char(body) != "0" else "1")
    at = upload(open_import(db_path, lang="en"), f"Company,USCC\nAcme Trading Ltd,{wrong}\n", encoding="utf-8")
    at.button(key="im_dry_run").click().run()
    assert not [b for b in at.button if b.key == "im_run"]
    boxes = [c for c in at.checkbox if c.key.startswith("im_ok_")]
    assert len(boxes) == 1 and "1 rows" in boxes[0].label
    boxes[0].check().run()
    at.button(key="im_run").click().run()
    assert not at.exception, at.exception
    assert count_customers(db) == 1


def test_a_changed_mapping_is_remembered_for_the_next_import(db, db_path):
    text = "单位,座机号码\n泉州导入测试有限公司,0595-22345678\n"
    at = upload(open_import(db_path), text, encoding="utf-8")
    selects = mapping_boxes(at)
    assert [s.value for s in selects] == ["", ""]
    selects[0].set_value("name")
    selects[1].set_value("phone")
    at.run()
    at.button(key="im_dry_run").click().run()
    at.button(key="im_run").click().run()
    assert not at.exception, at.exception
    assert count_customers(db) == 1
    assert imp.suggest_mapping(["单位", "座机号码"], imp.remembered_mapping(db, "manager")) == ["name", "phone"]
    # The next upload of such a file starts from those choices.
    at2 = upload(open_import(db_path), "单位,座机号码\n漳州导入测试有限公司,0596-2234567\n", encoding="utf-8")
    assert [s.value for s in mapping_boxes(at2)] == ["name", "phone"]


def test_changing_the_mapping_after_a_dry_run_asks_for_a_new_one(db, db_path):
    at = upload(open_import(db_path), GOOD)
    at.button(key="im_dry_run").click().run()
    assert [b for b in at.button if b.key == "im_run"]
    next(s for s in at.selectbox if s.key.startswith("im_map_") and s.value == "tier").set_value("").run()
    assert at.info[0].value == t("import.stale", "zh")
    assert not [b for b in at.button if b.key == "im_run"]


@pytest.mark.parametrize("who", ["sales", "viewer"])
def test_only_managers_and_admins_have_the_page(db, db_path, who):
    at = make_app(db_path, who)
    at.run()
    assert "import_customers" not in nav_paths(at)


def test_a_contacts_file_is_imported_from_the_page(db, db_path, make_customer):
    from lib.customers import contacts as ct

    a = make_customer()
    at = upload(open_import(db_path), f"客户编号,姓名,手机\n{a['code']},页面联系人,13922223333\n")
    at.radio(key="im_holds").set_value(imp.CONTACTS).run()
    assert [s.value for s in mapping_boxes(at)] == ["code", "contact_name", "contact_mobile"]
    assert not [r for r in at.radio if r.key == "im_match"]  # contacts are matched by code only
    at.button(key="im_dry_run").click().run()
    at.button(key="im_run").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == t("import.done", "zh", new=1, updated=0, unchanged=0)
    names = [c["contact_name"] for c in ct.contacts_of(db, db.actor("manager", "manager"), a["id"])[0]]
    assert "页面联系人" in names


def test_the_problems_table_is_made_once_per_dry_run_and_language(db, db_path, monkeypatch):
    made = []
    real = imp.problem_rows
    monkeypatch.setattr(imp, "problem_rows", lambda out, lang: made.append(lang) or real(out, lang))
    at = upload(open_import(db_path), BAD)
    at.button(key="im_dry_run").click().run()
    assert made == ["zh"]
    at.run()
    at.run()
    assert made == ["zh"] and len(at.dataframe[0].value) == 2  # reruns show the table kept
    at.session_state["lang"] = "en"
    at.run()
    assert made == ["zh", "en"] and t("import.col.row", "en") in at.dataframe[0].value.columns
    at.button(key="im_dry_run").click().run()  # a new dry run, a new table
    assert made == ["zh", "en", "en"]


def test_removing_the_file_lets_go_of_what_was_read(db, db_path):
    at = upload(open_import(db_path), GOOD)
    at.button(key="im_dry_run").click().run()
    assert "im_read" in at.session_state and "im_dry" in at.session_state
    at.file_uploader(key="im_file").set_value(None)
    at.run()
    assert "im_read" not in at.session_state and "im_dry" not in at.session_state
    assert "im_problems" not in at.session_state


def test_the_page_offers_the_blank_template(db, db_path):
    at = open_import(db_path)
    assert [b for b in at.get("download_button") if b.proto.id and "im_template" in b.proto.id]
