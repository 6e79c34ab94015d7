"""The kinds for administrator-defined fields: ``number``, ``yesno`` and ``url``
(lib.customers.kinds, ui.kinds): what each accepts and stores, what it refuses and with
which message, how it is audited, exported and imported, and that money reads as it
did before its parsing was shared with ``number``."""
from __future__ import annotations

import csv
import io
import string
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from lib.core.i18n import LANGS, MESSAGES
from lib.customers import customer as cs
from lib.customers import export as ex
from lib.customers import fields as F
from lib.customers import importing as imp
from lib.customers.kinds import (KINDS, NUMBER_MAX, Problems, clean_money, clean_number, clean_url, clean_yesno,
                                 kind_of, plain_number)
from lib.customers.search import CustomerFilters
from lib.customers.sheets import read_sheet
from lib.customers.validation import validate_customer
from tests.conftest import customer_values

NUMBER = F.Field("cf_extra_number", "number", "附加数字", "Extra number", "basic")
YESNO = F.Field("cf_extra_yesno", "yesno", "附加是否", "Extra yes/no", "basic")
URL = F.Field("cf_extra_url", "url", "附加网址", "Extra web address", "basic", max_length=200)
EXTRA = (NUMBER, YESNO, URL)


def cleaned(clean, value, f):
    """(stored value, error keys) of one value through a kind's cleaning function."""
    problems = Problems()
    out = clean(value, f, problems)
    return out, [p.key for p in problems.errors]


def refusal(clean, value, f) -> list[str]:
    out, keys = cleaned(clean, value, f)
    assert out is None
    return keys


# -- number ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, stored", [
    ("12.5", Decimal("12.5")),
    ("-3", Decimal("-3")),
    ("1,234.5678", Decimal("1234.5678")),
    ("1，234", Decimal("1234")),
    (" 0.0001 ", Decimal("0.0001")),
    ("-0.0001", Decimal("-0.0001")),
    ("+7", Decimal("7")),
    (".5", Decimal("0.5")),
    ("12.50000", Decimal("12.5")),  # trailing zeros are not places
    ("100", Decimal("100")),
    ("¥ 2,000", Decimal("2000")),  # money's decoration is harmless
    (5, Decimal("5")),
    (-7, Decimal("-7")),
    (0.1, Decimal("0.1")),  # a grid's float, read by its repr
    (-1234.5, Decimal("-1234.5")),
    (Decimal("2.50"), Decimal("2.5")),
    ("99,999,999,999,999.9999", NUMBER_MAX),
    ("-99999999999999.9999", -NUMBER_MAX),
])
def test_number_accepts_decimals_negative_and_up_to_four_places(typed, stored):
    value, keys = cleaned(clean_number, typed, NUMBER)
    assert keys == []
    assert value == stored
    assert "E" not in str(value), "stored without exponent (100, not 1E+2)"
    assert str(value) == plain_number(stored)


@pytest.mark.parametrize("typed", ["-0", "-0.0000", -0.0, Decimal("-0")])
def test_negative_zero_is_plain_zero(typed):
    value, keys = cleaned(clean_number, typed, NUMBER)
    assert keys == [] and value == 0 and not value.is_signed() and str(value) == "0"


@pytest.mark.parametrize("typed", [None, "", "   ", float("nan")])
def test_empty_number_means_not_set(typed):
    assert cleaned(clean_number, typed, NUMBER) == (None, [])


@pytest.mark.parametrize("typed, key", [
    ("12.34567", "validation.number_decimals"),  # refused, not rounded
    ("0.00001", "validation.number_decimals"),
    (1.23456, "validation.number_decimals"),
    (Decimal("1.00001"), "validation.number_decimals"),
    ("100,000,000,000,000", "validation.number_too_large"),
    ("-100000000000000", "validation.number_too_large"),
    (10 ** 30, "validation.number_too_large"),
    ("99999999999999.99991", "validation.number_too_large"),
    ("abc", "validation.number_invalid"),
    ("12元", "validation.number_invalid"),
    ("Infinity", "validation.number_invalid"),
    ("NaN", "validation.number_invalid"),
    (float("inf"), "validation.number_invalid"),
    (float("-inf"), "validation.number_invalid"),
    (Decimal("sNaN"), "validation.number_invalid"),
    (True, "validation.number_invalid"),
    ([1], "validation.number_invalid"),
    (date(2026, 1, 1), "validation.number_invalid"),
    ("1" * 41, "validation.number_invalid"),
    ("1_000", "validation.number_invalid"),
    ("1.2.3", "validation.number_invalid"),
    ("--1", "validation.number_invalid"),
    ("1e3", "validation.number_exponent"),
    ("-2.5E-1", "validation.number_exponent"),
    ("１０００", "validation.number_digits"),
    ("١٢٣", "validation.number_digits"),
    ("1\x00", "validation.control_chars"),
])
def test_number_refusals_have_their_own_messages(typed, key):
    assert refusal(clean_number, typed, NUMBER) == [key]


def test_number_messages_exist_in_both_languages_and_say_what_to_do():
    from lib.core.i18n import t

    for key in ("invalid", "decimals", "too_large", "exponent", "digits"):
        assert all(MESSAGES[f"validation.number_{key}"][lang] for lang in LANGS)
    assert "99,999,999,999,999.9999" in t("validation.number_too_large", "en", max="99,999,999,999,999.9999")
    assert "四" in t("validation.number_decimals", "zh") and "four" in t("validation.number_decimals", "en")
    assert "1e3" in t("validation.number_exponent", "zh") and "0-9" in t("validation.number_digits", "en")
    assert "金额" not in t("validation.number_exponent", "zh")  # a number is not an amount


@pytest.mark.parametrize("stored, written", [
    (Decimal("12.5000"), "12.5"),  # as DuckDB's DECIMAL(18,4) gives it back
    (Decimal("-3.0000"), "-3"),
    (Decimal("0.0001"), "0.0001"),
    (Decimal("1E+2"), "100"),
    (Decimal("-0.0000"), "0"),
    (NUMBER_MAX, "99999999999999.9999"),
    (None, None),
])
def test_a_number_is_audited_as_plain_text_with_every_place(stored, written):
    assert KINDS["number"].to_json(stored) == written


def test_money_is_still_audited_with_two_places():
    assert KINDS["money"].to_json(Decimal("12.5")) == "12.50"


def test_number_search_text_is_its_plain_text():
    assert KINDS["number"].search_parts({"": Decimal("1234.5000")}) == ["1234.5"]
    assert KINDS["number"].search_parts({"": None}) == []


def test_number_is_stored_as_decimal_18_4():
    assert kind_of(NUMBER).columns(NUMBER) == {"cf_extra_number": "DECIMAL(18,4)"}


@settings(max_examples=300, deadline=None)
@given(hs.decimals(min_value=-NUMBER_MAX, max_value=NUMBER_MAX, places=4, allow_nan=False, allow_infinity=False))
def test_any_number_of_at_most_four_places_round_trips_through_its_text(d):
    text = plain_number(d)
    assert "E" not in text.upper()
    value, keys = cleaned(clean_number, text, NUMBER)
    assert keys == [] and value == d
    assert KINDS["number"].to_json(value) == text
    # With thousand separators too, as a person types it.
    assert cleaned(clean_number, f"{d:,f}", NUMBER) == (value, [])


@settings(max_examples=200, deadline=None)
@given(hs.decimals(min_value=-NUMBER_MAX, max_value=NUMBER_MAX, places=8, allow_nan=False, allow_infinity=False))
def test_more_than_four_places_is_refused_never_rounded(d):
    value, keys = cleaned(clean_number, plain_number(d), NUMBER)
    if d == d.quantize(Decimal("0.0001")):
        assert value == d
    else:
        assert value is None and keys == ["validation.number_decimals"]


# -- money, read by the same helper ---------------------------------------------------------------
@pytest.mark.parametrize("typed, stored", [
    ("1,234.5", Decimal("1234.50")), ("RMB 50000", Decimal("50000.00")), (1234.5, Decimal("1234.50")),
    (7, Decimal("7.00")), ("-0", Decimal("0.00")),
])
def test_money_reads_as_before(typed, stored):
    value, keys = cleaned(clean_money, typed, F.by_name("credit_limit"))
    assert keys == [] and value == stored and value.as_tuple().exponent == -2 and not value.is_signed()


@pytest.mark.parametrize("typed, key", [
    ("-1", "validation.money_negative"), ("12.345", "validation.money_decimals"),
    ("1e3", "validation.money_exponent"), ("１０００", "validation.money_digits"),
    ("abc", "validation.money_invalid"), (True, "validation.money_invalid"),
    ("1,000,000,000,000", "validation.money_too_large"),
])
def test_money_refuses_as_before(typed, key):
    assert refusal(clean_money, typed, F.by_name("credit_limit")) == [key]


# -- yes/no ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["是", "yes", "YES", " Yes ", "y", "Y", "true", "TRUE", "1", "√", "✓", True, 1,
                                   1.0])
def test_yes(typed):
    assert cleaned(clean_yesno, typed, YESNO) == (True, [])


@pytest.mark.parametrize("typed", ["否", "no", "No", "n", "N", "false", " False ", "0", "×", "✗", False, 0, 0.0])
def test_no(typed):
    assert cleaned(clean_yesno, typed, YESNO) == (False, [])


@pytest.mark.parametrize("typed", [None, "", "  ", float("nan")])
def test_empty_yes_no_means_not_set(typed):
    assert cleaned(clean_yesno, typed, YESNO) == (None, [])


@pytest.mark.parametrize("typed", ["maybe", "是的", "有", "ok", "2", "-1", "yes!", 2, -1, 0.5, float("inf"),
                                   Decimal("sNaN"), Decimal("NaN"), date(2026, 1, 1), ["yes"]])
def test_anything_else_is_not_yes_or_no(typed):
    assert refusal(clean_yesno, typed, YESNO) == ["validation.yesno_invalid"]


def test_yes_no_message_and_audit_value():
    assert MESSAGES["validation.yesno_invalid"] == {"zh": "请填写“是”或“否”。", "en": "Enter yes or no."}
    assert KINDS["yesno"].to_json(True) is True and KINDS["yesno"].to_json(False) is False
    assert KINDS["yesno"].to_json(None) is None
    assert kind_of(YESNO).columns(YESNO) == {"cf_extra_yesno": "BOOLEAN"}
    assert KINDS["yesno"].search_parts({"": True}) == []


# -- web address -----------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, stored", [
    ("https://www.example.com", "https://www.example.com"),
    ("http://example.com/path?q=1&r=二#top", "http://example.com/path?q=1&r=二#top"),
    ("HTTPS://Example.COM/A", "HTTPS://Example.COM/A"),  # kept as typed
    ("  https://a.example.com  ", "https://a.example.com"),  # trimmed
    ("http://localhost:8501/customers", "http://localhost:8501/customers"),
    ("http://192.168.1.10/", "http://192.168.1.10/"),
    ("https://user@intranet.example.cn:8443/x", "https://user@intranet.example.cn:8443/x"),
    ("https://例子.中国", "https://例子.中国"),
    ("https://example.com.", "https://example.com."),
])
def test_url_accepts_http_and_https_addresses_as_typed(typed, stored):
    assert cleaned(clean_url, typed, URL) == (stored, [])


@pytest.mark.parametrize("typed", [
    "www.example.com",  # no scheme: refused, not given one
    "example.com",
    "ftp://example.com",
    "mailto:a@example.com",
    "javascript:alert(1)",
    "https://",
    "http:/example.com",
    "https://example",  # a host without a dot
    "https://a..example.com",
    "https://.com",
    "https://exa mple.com",
    "http://example.com:port/",
    "http://[::1",
    "https//example.com",
])
def test_url_refusals_say_how_to_start(typed):
    problems = Problems()
    assert clean_url(typed, URL, problems) is None
    [p] = problems.errors
    assert p.key == "validation.url_invalid" and p.params == {"value": typed.strip()}
    for lang in LANGS:
        text = p.translate(lang)
        assert "http://" in text and "https://" in text and typed.strip() in text


def test_url_goes_through_the_text_rules():
    assert refusal(clean_url, "https://example.com/\x07", URL) == ["validation.control_chars"]
    long = "https://example.com/" + "a" * 200
    assert refusal(clean_url, long, URL) == ["validation.too_long"]
    assert cleaned(clean_url, None, URL) == (None, []) and cleaned(clean_url, "  ", URL) == (None, [])
    assert KINDS["url"].search_parts({"": "https://a.example.com"}) == ["https://a.example.com"]


def test_messages_take_the_same_parameters_in_both_languages():
    def params(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key in ("number_invalid", "number_decimals", "number_too_large", "number_exponent", "number_digits",
                "yesno_invalid", "url_invalid"):
        entry = MESSAGES["validation." + key]
        assert params(entry["zh"]) == params(entry["en"]), key


# -- through the write path, export and import ------------------------------------------------------
@pytest.fixture
def extra(db, actors):
    """The three kinds as fields an administrator added (lib.customers.custom_fields)."""
    from lib.customers import custom_fields

    for f in EXTRA:
        custom_fields.add_field(db, actors["admin"], key=f.name.removeprefix("cf_"), label_zh=f.label_zh,
                                label_en=f.label_en, kind=f.kind, max_length=f.max_length, edit_roles=list(db.roles()))
    return EXTRA


def test_values_are_stored_and_read_back(db, actors, extra):
    rec = cs.create_customer(db, actors["manager"], customer_values(
        cf_extra_number="1,234.5", cf_extra_yesno="否", cf_extra_url="https://www.example.com"))
    got = cs.get_customer(db, actors["manager"], rec["id"])
    assert got["cf_extra_number"] == Decimal("1234.5") and got["cf_extra_yesno"] is False
    assert got["cf_extra_url"] == "https://www.example.com"
    [entry] = cs.history(db, actors["manager"], rec["id"])
    assert entry["changes"]["cf_extra_number"] == [None, "1234.5"]
    assert entry["changes"]["cf_extra_yesno"] == [None, False]
    # "no" for a stored False is no change; clearing it is one.
    same = cs.update_customer(db, actors["manager"], rec["id"], {"cf_extra_yesno": "no"}, rec["version"])
    assert same["version"] == rec["version"]
    cleared = cs.update_customer(db, actors["manager"], rec["id"], {"cf_extra_yesno": None}, rec["version"])
    assert cleared["cf_extra_yesno"] is None and cleared["version"] == rec["version"] + 1


def test_refusals_come_back_by_field(db, actors, extra):
    from lib.core.errors import ValidationError

    with pytest.raises(ValidationError) as ei:
        cs.create_customer(db, actors["manager"], customer_values(
            cf_extra_number="1.23456", cf_extra_yesno="maybe", cf_extra_url="www.example.com"))
    assert {f: [p.key for p in ps] for f, ps in ei.value.fields.items()} == {
        "cf_extra_number": ["validation.number_decimals"], "cf_extra_yesno": ["validation.yesno_invalid"],
        "cf_extra_url": ["validation.url_invalid"]}


@pytest.mark.parametrize("lang, yes, no", [("zh", "是", "否"), ("en", "yes", "no")])
def test_csv_export_writes_the_number_plainly_and_yes_no_in_words(db, actors, extra, lang, yes, no):
    a = cs.create_customer(db, actors["manager"], customer_values(
        cf_extra_number="-0.0001", cf_extra_yesno="yes", cf_extra_url="https://a.example.com/x"))
    b = cs.create_customer(db, actors["manager"], customer_values(cf_extra_number="12.5", cf_extra_yesno=False))
    c = cs.create_customer(db, actors["manager"], customer_values(cf_extra_number="100"))
    out = io.BytesIO()
    ex.export_customers(db, actors["manager"], CustomerFilters(), "csv", out, lang)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"), newline="")))
    names = [col.name for col in ex.export_columns()]
    assert rows[0][names.index("cf_extra_number")] == NUMBER.label(lang)
    cells = {r[0]: dict(zip(names, r)) for r in rows[1:]}
    assert (cells[a["code"]]["cf_extra_number"], cells[a["code"]]["cf_extra_yesno"], cells[a["code"]]["cf_extra_url"]) == \
        ("-0.0001", yes, "https://a.example.com/x")
    assert (cells[b["code"]]["cf_extra_number"], cells[b["code"]]["cf_extra_yesno"], cells[b["code"]]["cf_extra_url"]) == \
        ("12.5", no, "")
    assert (cells[c["code"]]["cf_extra_number"], cells[c["code"]]["cf_extra_yesno"]) == ("100", "")


def test_xlsx_export_writes_the_number_as_a_number_cell(db, actors, extra):
    rec = cs.create_customer(db, actors["manager"], customer_values(
        cf_extra_number="-1234.5678", cf_extra_yesno=True, cf_extra_url="https://a.example.com"))
    out = io.BytesIO()
    ex.export_customers(db, actors["manager"], CustomerFilters(), "xlsx", out, "zh")
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    names = [col.name for col in ex.export_columns()]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == rec["code"])
    cells = {names[i]: cell for i, cell in enumerate(row)}
    assert cells["cf_extra_number"].data_type == "n" and cells["cf_extra_number"].value == -1234.5678
    assert cells["cf_extra_yesno"].data_type == "s" and cells["cf_extra_yesno"].value == "是"
    assert cells["cf_extra_url"].data_type == "s" and cells["cf_extra_url"].value == "https://a.example.com"
    assert cells["cf_extra_url"].hyperlink is None  # text, not a link the file opens


@pytest.mark.parametrize("lang", LANGS)
def test_the_import_template_sample_row_is_accepted(db, actors, extra, lang):
    wb = openpyxl.load_workbook(io.BytesIO(ex.import_template(db, lang, actor=actors["manager"])))
    ws = wb.worksheets[0]
    sample = {f.name: c.value for f, c in zip(F.declared(), ws[2])}
    assert sample["cf_extra_number"] == 12.5 and sample["cf_extra_url"] == "https://www.example.com"
    clean = validate_customer(sample, cs.validation_context(db))
    assert clean.customer["cf_extra_number"] == Decimal("12.5") and clean.customer["cf_extra_yesno"] is True


def test_an_exported_file_imports_back_unchanged(db, actors, extra):
    manager = actors["manager"]
    rec = cs.create_customer(db, manager, customer_values(
        cf_extra_number="-7.25", cf_extra_yesno="是", cf_extra_url="https://a.example.com"))
    out = io.BytesIO()
    ex.export_customers(db, manager, CustomerFilters(), "xlsx", out, "zh")
    sheet = read_sheet(out.getvalue(), header_score=imp.names_a_field)
    mapping = imp.suggest_mapping(sheet.headers)
    assert {"cf_extra_number", "cf_extra_yesno", "cf_extra_url"} <= set(mapping)
    result = imp.dry_run(db, manager, sheet, mapping)
    assert result.failing == 0 and result.unchanged == 1, imp.problem_rows(result, "en")
    assert cs.get_customer(db, manager, rec["id"])["version"] == rec["version"]


def test_an_import_reads_the_words_a_sheet_holds(db, actors, extra):
    data = ("客户名称,附加数字,附加是否,附加网址\r\n"
            "附加甲有限公司,\"1,234.5\",√,https://a.example.com\r\n"
            "附加乙有限公司,-3,否,\r\n"
            "附加丙有限公司,1e3,也许,www.example.com\r\n").encode("utf-8")
    sheet = read_sheet(data, header_score=imp.names_a_field)
    mapping = imp.suggest_mapping(sheet.headers)
    assert mapping == ["name", "cf_extra_number", "cf_extra_yesno", "cf_extra_url"]
    result = imp.dry_run(db, actors["manager"], sheet, mapping)
    problems = {(p["row"], p["column"]): p["message"] for p in imp.problem_rows(result, "en")}
    assert set(problems) == {(4, "附加数字"), (4, "附加是否"), (4, "附加网址")}
    assert problems[(4, "附加是否")] == "Enter yes or no."
    fixed = data.replace("1e3,也许,www.example.com".encode(), b"1000,no,http://localhost")
    sheet = read_sheet(fixed, header_score=imp.names_a_field)
    result = imp.run_import(db, actors["manager"], sheet, mapping)
    assert result.clean and result.new == 3
    with db.read() as cur:
        stored = cur.execute("SELECT name, cf_extra_number, cf_extra_yesno, cf_extra_url FROM customers"
                             " WHERE name LIKE '附加%' ORDER BY name").fetchall()
    assert sorted(stored) == sorted([
        ("附加甲有限公司", Decimal("1234.5000"), True, "https://a.example.com"),
        ("附加乙有限公司", Decimal("-3.0000"), False, None),
        ("附加丙有限公司", Decimal("1000.0000"), False, "http://localhost")])


# -- the UI half -----------------------------------------------------------------------------------
def test_ui_entries_for_the_new_kinds():
    from ui import kinds as UK

    common = {"label": "X", "help": None, "disabled": False, "required": None}
    number = UK.UI_KINDS["number"].column(NUMBER, common, None, "zh")
    assert number["type_config"]["type"] == "number" and number["type_config"]["min_value"] < 0
    assert number["type_config"]["step"] == 0.0001 and number["type_config"]["format"] == "plain"
    yesno = UK.UI_KINDS["yesno"].column(YESNO, common, None, "en")
    assert yesno["type_config"]["type"] == "selectbox"
    assert [(o["value"], o["label"]) for o in yesno["type_config"]["options"]] == [(True, "Yes"), (False, "No")]
    link = UK.UI_KINDS["url"].column(URL, common, None, "zh")
    assert link["type_config"]["type"] == "link" and link["type_config"]["max_chars"] == 200

    n, y = UK.UI_KINDS["number"], UK.UI_KINDS["yesno"]
    assert n.dtype == "float64" and n.to_cell(Decimal("12.5000")) == 12.5
    assert n.to_service(0.1) == "0.1" and n.same(12.5, Decimal("12.5000")) and not n.same(12.5, Decimal("12.4"))
    assert n.shown(NUMBER, Decimal("1E+2"), None, "zh") == "100" and n.shown(NUMBER, 0.0001, None, "en") == "0.0001"
    assert y.shown(YESNO, True, None, "zh") == "是" and y.shown(YESNO, False, None, "en") == "No"
    assert y.to_service(False) is False and not y.same(True, False)
    assert UK.input_value(NUMBER, Decimal("12.5000")) == "12.5" and UK.input_value(NUMBER, None) == ""
    assert UK.input_value(YESNO, None) is None and UK.input_value(YESNO, False) is False
    assert UK.input_value(URL, None) == "" and UK.input_value(URL, "https://a.example.com") == "https://a.example.com"
    # The kinds that were there keep their inputs.
    assert UK.input_value(F.by_name("credit_limit"), Decimal("12.50")) == "12.50"
    assert UK.input_value(F.by_name("tier"), None) is None and UK.input_value(F.by_name("name"), None) == ""


def test_the_form_inputs_render(db_path):
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st

        from lib.customers.fields import Field
        from ui import widgets as W

        for f in (Field("cf_extra_number", "number", "附加数字", "Extra number", "basic"),
                  Field("cf_extra_yesno", "yesno", "附加是否", "Extra yes/no", "basic"),
                  Field("cf_extra_url", "url", "附加网址", "Extra web address", "basic")):
            W.form_input(f, lang="zh", db=None, key="in_" + f.name, t=lambda key: "请选择")
        st.write(repr(st.session_state.get("in_cf_extra_yesno")))

    at = AppTest.from_function(script).run()
    assert not at.exception
    yesno = at.selectbox(key="in_cf_extra_yesno")
    assert yesno.options == ["是", "否"] and yesno.value is None and yesno.placeholder == "请选择"
    assert at.text_input(key="in_cf_extra_url").placeholder == "https://"
    assert at.text_input(key="in_cf_extra_number").value == ""
    yesno.set_value(False).run()
    assert at.session_state["in_cf_extra_yesno"] is False


def test_the_pages_show_fields_of_the_new_kinds(db, db_path, actors, extra):
    """The customers grid and the entry form with the three fields added."""
    import json

    from tests.apptest_util import make_app, open_page

    rec = cs.create_customer(db, actors["manager"], customer_values(
        cf_extra_number="0.0001", cf_extra_yesno="否", cf_extra_url="https://a.example.com"))
    at = make_app(db_path, "admin", lang="zh")
    open_page(at, "customers").run()
    assert not at.exception
    grid = at.data_editor[0]
    config = json.loads(grid.proto.columns)
    assert config["cf_extra_number"]["type_config"]["type"] == "number"
    assert config["cf_extra_yesno"]["type_config"]["type"] == "selectbox"
    assert config["cf_extra_url"]["type_config"]["type"] == "link"
    row = grid.value.set_index("code").loc[rec["code"]]
    assert (row["cf_extra_number"], row["cf_extra_yesno"], row["cf_extra_url"]) == (0.0001, False, "https://a.example.com")

    at = make_app(db_path, "admin", lang="zh")
    open_page(at, "new_customer").run()
    assert not at.exception
    assert at.selectbox(key="nc_cf_extra_yesno").value is None  # not "yes" unasked
    assert at.text_input(key="nc_cf_extra_url").placeholder == "https://"


def test_the_customer_page_edits_fields_of_the_new_kinds(db, db_path, actors, extra):
    from tests.apptest_util import open_customer

    rec = cs.create_customer(db, actors["manager"], customer_values(
        cf_extra_number="-12.5", cf_extra_yesno=True, cf_extra_url="https://a.example.com"))
    at = open_customer(db_path, "admin", rec["code"], lang="en")
    prefix = f"cf_{rec['id']}_f_"
    assert at.text_input(key=prefix + "cf_extra_number").value == "-12.5"
    assert at.selectbox(key=prefix + "cf_extra_yesno").value is True
    assert at.text_input(key=prefix + "cf_extra_url").value == "https://a.example.com"
    assert "Yes" in at.selectbox(key=prefix + "cf_extra_yesno").options
