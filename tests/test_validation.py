"""Validation of customer input: every rule in lib.customers.validation, typed errors, and the
bad-input sweep ("nothing a user can type raises anything but a ValidationError")."""
from __future__ import annotations

import math
import string
import unicodedata
from decimal import Decimal

import pytest

from lib.customers import customer as cs
from lib.customers import reference
from lib.core.errors import ConfirmationRequired, PermissionDenied, ValidationError
from lib.customers.fields import FIELDS, FIELDS_BY_NAME
from lib.core.i18n import LANGS, MESSAGES
from lib.customers import kinds
from lib.customers.kinds import USCC_ALPHABET, Problems, ValidationContext, parse_phone, uscc_check_char
from lib.customers.validation import validate_customer
from tests.conftest import customer_values

VALID_USCC = "91110108551385082Q"
CHECKSUM_FAILS_USCC = "91350203M0001QAY9B"


def _lists(inactive: dict[str, set[str]] | None = None) -> dict[str, list[dict]]:
    inactive = inactive or {}
    return {
        name: [{"code": c, "label_zh": zh, "label_en": en, "active": c not in inactive.get(name, set())}
               for c, zh, en in items]
        for name, items in reference.LISTS.items()
    }


@pytest.fixture
def ctx() -> ValidationContext:
    return ValidationContext(lists=_lists(), usernames={"manager", "sales"})


def base(**overrides) -> dict:
    values = {"name": "测试有限公司", "customer_type": "company", "status": "active", "access_level": "normal",
              "owner": "manager"}
    values.update(overrides)
    return values


def assert_translatable(problem) -> None:
    """The problem's message exists in both languages and gets every parameter it needs."""
    for lang in LANGS:
        template = MESSAGES[problem.key][lang]
        needed = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        assert needed <= set(problem.params), (problem, lang)
        assert problem.translate(lang)


def problems_of(exc: ValidationError) -> dict[str, set[str]]:
    return {f: {p.key for p in ps} for f, ps in exc.fields.items()}


def error_keys(ctx, **values) -> dict[str, set[str]]:
    with pytest.raises(ValidationError) as ei:
        validate_customer(base(**values), ctx)
    assert type(ei.value) is ValidationError, "an error, not a warning to confirm"
    return problems_of(ei.value)


# -- name and type ---------------------------------------------------------------------------
def test_name_is_trimmed(ctx):
    clean = validate_customer(base(name="  深圳市腾讯计算机系统有限公司 \u3000"), ctx)
    assert clean.customer["name"] == "深圳市腾讯计算机系统有限公司"


@pytest.mark.parametrize("name", ["", "   ", "\u3000", None])
def test_name_is_required(ctx, name):
    assert error_keys(ctx, name=name) == {"name": {"validation.required"}}


def test_name_is_required_when_missing(ctx):
    values = base()
    del values["name"]
    with pytest.raises(ValidationError) as ei:
        validate_customer(values, ctx)
    assert ei.value.field == "name"
    assert ei.value.problems[0].key == "validation.required"


def test_name_length_limit_counts_after_trim(ctx):
    assert validate_customer(base(name="名" * 200), ctx).customer["name"] == "名" * 200
    assert validate_customer(base(name=" " + "名" * 200 + " "), ctx).customer["name"] == "名" * 200
    with pytest.raises(ValidationError) as ei:
        validate_customer(base(name="名" * 201), ctx)
    (p,) = ei.value.problems
    assert (p.field, p.key, p.params) == ("name", "validation.too_long", {"max": 200, "length": 201})


@pytest.mark.parametrize("typed, code", [
    ("company", "company"), ("individual", "individual"), ("企业", "company"), ("个人", "individual"),
    ("Company", "company"), ("INDIVIDUAL", "individual"),
])
def test_customer_type_accepts_codes_and_labels(ctx, typed, code):
    values = base(customer_type=typed)
    assert validate_customer(values, ctx).customer["customer_type"] == code


@pytest.mark.parametrize("typed", ["robot", "公司 ", "comp", None])
def test_customer_type_must_be_company_or_individual(ctx, typed):
    keys = error_keys(ctx, customer_type=typed)
    assert keys["customer_type"] <= {"validation.not_in_list", "validation.required"}
    assert keys["customer_type"]


def test_customer_type_defaults_to_company_for_new_customers(ctx):
    values = base()
    del values["customer_type"]
    assert validate_customer(values, ctx).customer["customer_type"] == "company"


def test_individuals_have_no_size(ctx):
    assert error_keys(ctx, customer_type="individual", size="10-49") == {"size": {"validation.size_for_individual"}}
    clean = validate_customer(base(customer_type="individual", size=None), ctx)
    assert clean.customer["size"] is None
    assert validate_customer(base(customer_type="company", size="10-49"), ctx).customer["size"] == "10-49"


# -- reference lists ---------------------------------------------------------------------------
@pytest.mark.parametrize("field, typed, code", [
    ("industry", "C", "C"), ("industry", "制造业", "C"), ("industry", "Manufacturing", "C"),
    ("industry", "manufacturing", "C"), ("industry", "c", "C"),
    ("tier", "A", "A"), ("tier", "战略客户", "A"), ("tier", "Strategic", "A"),
    ("size", "1000+", "1000+"), ("size", "1-9 人", "1-9"), ("size", "50-199 staff", "50-199"),
    ("status", "blocked", "blocked"), ("status", "活跃", "active"), ("status", "Dormant", "dormant"),
    ("region", "440000", "440000"), ("region", "广东省", "440000"), ("region", "Guangdong", "440000"),
    ("region", "海外", "overseas"), ("region", " 北京市 ", "110000"),
])
def test_list_fields_accept_codes_and_labels_in_either_language(ctx, field, typed, code):
    clean = validate_customer(base(**{field: typed}), ctx)
    assert clean.customer[field] == code


@pytest.mark.parametrize("field, typed", [
    ("industry", "Z"), ("industry", "制造"), ("tier", "E"), ("size", "5000"), ("status", "deleted"),
    ("region", "999999"), ("region", "Atlantis"),
])
def test_list_fields_refuse_values_not_in_the_list(ctx, field, typed):
    with pytest.raises(ValidationError) as ei:
        validate_customer(base(**{field: typed}), ctx)
    (p,) = ei.value.problems
    assert (p.field, p.key, p.params) == (field, "validation.not_in_list", {"value": typed})


def test_inactive_choice_refused_for_new_values_but_kept_when_unchanged():
    ctx = ValidationContext(lists=_lists(inactive={"tier": {"D"}}), usernames={"manager"})
    with pytest.raises(ValidationError) as ei:
        validate_customer(base(tier="D"), ctx)
    assert ei.value.problems[0].key == "validation.inactive_choice"
    current = {f.name: None for f in FIELDS} | base(tier="D")
    clean = validate_customer({"name": "新名字"}, ctx, current=current)
    assert clean.customer["tier"] == "D"


# -- phone -------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, e164, ext", [
    ("13800138000", "+8613800138000", None),
    ("+86 138 0013 8000", "+8613800138000", None),
    ("86 13800138000", "+8613800138000", None),
    ("138-0013-8000", "+8613800138000", None),
    ("010-12345678", "+861012345678", None),
    ("(0755) 12345678", "+8675512345678", None),
    ("400-810-8888", "+864008108888", None),
    ("0755-12345678 转 12", "+8675512345678", "12"),
    ("0755-12345678转12", "+8675512345678", "12"),
    ("0571 12345678-801", "+8657112345678", "801"),
    ("0755-12345678 分机 123", "+8675512345678", "123"),
    ("0755 1234 5678 ext 5", "+8675512345678", "5"),
    ("0755-12345678 EXT. 66", "+8675512345678", "66"),
])
def test_phone_is_stored_as_typed_and_as_e164_with_extension_split_off(ctx, typed, e164, ext):
    clean = validate_customer(base(phone=typed), ctx)
    assert (clean.customer["phone"], clean.customer["phone_e164"], clean.customer["phone_ext"]) == (typed, e164, ext)


def test_phone_is_trimmed_before_storing(ctx):
    clean = validate_customer(base(phone="  13800138000 "), ctx)
    assert clean.customer["phone"] == "13800138000"


@pytest.mark.parametrize("typed", ["abc", "123", "电话", "1380013800a", "13800138000-801", "+", "--", "转 12",
                                   "0755-12345678 转 ", "1" * 40])
def test_unparseable_phone_is_an_error(ctx, typed):
    keys = error_keys(ctx, phone=typed)
    assert keys == {"phone": {"validation.phone_unparseable"}}


def test_parseable_but_invalid_phone_needs_confirmation(ctx):
    with pytest.raises(ConfirmationRequired) as ei:
        validate_customer(base(phone="12012345678"), ctx)
    assert ei.value.codes == {"phone.invalid"}
    (p,) = ei.value.problems
    assert (p.field, p.key) == ("phone", "validation.phone_invalid")
    clean = validate_customer(base(phone="12012345678"), ctx, confirm={"phone.invalid"})
    assert clean.customer["phone"] == "12012345678"
    assert clean.customer["phone_e164"] == "+8612012345678"
    # Confirming something else does not help.
    with pytest.raises(ConfirmationRequired):
        validate_customer(base(phone="12012345678"), ctx, confirm={"uscc.checksum"})


def test_contact_phone_warning_has_its_own_code(ctx):
    with pytest.raises(ConfirmationRequired) as ei:
        validate_customer(base(phone="12012345678", contact_phone="12012345679"), ctx)
    assert ei.value.codes == {"phone.invalid", "contact_phone.invalid"}
    clean = validate_customer(base(phone="12012345678", contact_phone="12012345679"), ctx,
                              confirm={"phone.invalid", "contact_phone.invalid"})
    assert clean.contact["phone_e164"] == "+8612012345679"


def test_errors_are_reported_before_warnings(ctx):
    # A warning is only worth confirming once the record has no errors.
    with pytest.raises(ValidationError) as ei:
        validate_customer(base(phone="12012345678", name=""), ctx)
    assert type(ei.value) is ValidationError
    assert ei.value.field == "name"


def test_parse_phone_never_raises_for_odd_text():
    for text in ["转", "ext", "x1", "#", "0" * 30, "+86", "(((", "０７５５-１２３４５６７８", "1e10"]:
        result = parse_phone(text)
        assert result is None or result.e164.startswith("+")


# -- email -------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, stored", [
    ("sales@example.com", "sales@example.com"),
    (" li.lei@example.com.cn ", "li.lei@example.com.cn"),
    ("Wang@Example.COM", "Wang@example.com"),
    # No network: an unknown domain is fine as long as the syntax is.
    ("someone@no-such-domain-for-sure-4711.com", "someone@no-such-domain-for-sure-4711.com"),
])
def test_email_syntax_is_checked_without_network(ctx, typed, stored):
    assert validate_customer(base(email=typed), ctx).customer["email"] == stored


@pytest.mark.parametrize("typed", ["not-an-email", "a@", "@example.com", "a b@example.com", "a@@example.com",
                                   "a@example", "a@example..com", "张三"])
def test_bad_email_is_an_error(ctx, typed):
    assert error_keys(ctx, email=typed) == {"email": {"validation.email_invalid"}}
    assert error_keys(ctx, contact_email=typed) == {"contact_email": {"validation.email_invalid"}}


# -- USCC --------------------------------------------------------------------------------------
def test_uscc_check_character_follows_gb32100():
    # Weights are 3^(i-1) mod 31; the check character makes the weighted sum 0 mod 31.
    weights = [pow(3, i, 31) for i in range(17)]
    body = VALID_USCC[:17]
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(body, weights))
    assert USCC_ALPHABET[(31 - total % 31) % 31] == "Q" == uscc_check_char(body)
    assert uscc_check_char(CHECKSUM_FAILS_USCC[:17]) != CHECKSUM_FAILS_USCC[17]


def test_valid_uscc_passes(ctx):
    assert validate_customer(base(uscc=VALID_USCC), ctx).customer["uscc"] == VALID_USCC


def test_uscc_is_upper_cased(ctx):
    assert validate_customer(base(uscc=VALID_USCC.lower()), ctx).customer["uscc"] == VALID_USCC
    assert validate_customer(base(uscc=" 91110108551385082q "), ctx).customer["uscc"] == VALID_USCC


def test_uscc_with_failing_checksum_is_a_warning_to_confirm(ctx):
    with pytest.raises(ConfirmationRequired) as ei:
        validate_customer(base(uscc=CHECKSUM_FAILS_USCC), ctx)
    assert ei.value.codes == {"uscc.checksum"}
    assert ei.value.problems[0].key == "validation.uscc_checksum"
    clean = validate_customer(base(uscc=CHECKSUM_FAILS_USCC), ctx, confirm={"uscc.checksum"})
    assert clean.customer["uscc"] == CHECKSUM_FAILS_USCC


@pytest.mark.parametrize("typed", [
    VALID_USCC[:17],  # too short
    VALID_USCC[:10],
    VALID_USCC + "1",  # too long
    "9111010855138508IQ",  # I, O, S, V, Z are not in the alphabet
    "9111010855138508OQ",
    "9111010855138508SQ",
    "9111010855138508VQ",
    "9111010855138508ZQ",
    "I11101085513850820",
    "91A10108551385082Q",  # letter in positions 3-8
    "9111010855138508？Q",
    "九一一一〇一〇八五五一三八五〇八二Q",
])
def test_malformed_uscc_is_an_error(ctx, typed):
    with pytest.raises(ValidationError) as ei:
        validate_customer(base(uscc=typed), ctx)
    assert type(ei.value) is ValidationError, "malformed is an error, never a confirmable warning"
    assert problems_of(ei.value) in ({"uscc": {"validation.uscc_malformed"}}, {"uscc": {"validation.too_long"}})


@pytest.mark.parametrize("position", range(2, 8))
def test_uscc_positions_3_to_8_must_be_digits(ctx, position):
    typed = VALID_USCC[:position] + "A" + VALID_USCC[position + 1:]
    assert error_keys(ctx, uscc=typed) == {"uscc": {"validation.uscc_malformed"}}


# -- credit limit ------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, stored", [
    ("50000", Decimal("50000.00")),
    ("1,234.50", Decimal("1234.50")),
    ("¥1,000", Decimal("1000.00")),
    ("￥ 2,000.5", Decimal("2000.50")),
    ("1，000", Decimal("1000.00")),
    (" 0 ", Decimal("0.00")),
    ("0.01", Decimal("0.01")),
    ("999,999,999,999.99", Decimal("999999999999.99")),
    (5, Decimal("5.00")),
    (0.1, Decimal("0.10")),
    (Decimal("12.3"), Decimal("12.30")),
])
def test_credit_limit_accepts_amounts_with_separators_and_yuan_sign(ctx, typed, stored):
    value = validate_customer(base(credit_limit=typed), ctx).customer["credit_limit"]
    assert value == stored and value.as_tuple().exponent == -2


@pytest.mark.parametrize("typed", [None, "", "  ", float("nan")])
def test_empty_credit_limit_means_not_set(ctx, typed):
    assert validate_customer(base(credit_limit=typed), ctx).customer["credit_limit"] is None


@pytest.mark.parametrize("typed", ["-0", "-0.00", Decimal("-0"), -0.0])
def test_negative_zero_credit_limit_is_plain_zero(ctx, typed):
    value = validate_customer(base(credit_limit=typed), ctx).customer["credit_limit"]
    assert value == 0 and not value.is_signed(), "-0.00 would show up in the audit log"


@pytest.mark.parametrize("typed, key", [
    ("12.345", "validation.money_decimals"),  # rejected, not rounded
    ("0.001", "validation.money_decimals"),
    (12.345, "validation.money_decimals"),
    ("-1", "validation.money_negative"),
    ("-0.01", "validation.money_negative"),
    (-5, "validation.money_negative"),
    ("1,000,000,000,000", "validation.money_too_large"),
    ("abc", "validation.money_invalid"),
    ("12元", "validation.money_invalid"),
    ("Infinity", "validation.money_invalid"),
    ("NaN", "validation.money_invalid"),
    (float("inf"), "validation.money_invalid"),
    (True, "validation.money_invalid"),
    ([1], "validation.money_invalid"),
    ("1" * 41, "validation.money_invalid"),
    ("1\x00", "validation.control_chars"),
    # Decimal() reads these; an amount must be written out in 0-9 (lib.customers.fields).
    ("1e3", "validation.money_exponent"),
    ("1E3", "validation.money_exponent"),
    ("2.5e-1", "validation.money_exponent"),
    ("１０００", "validation.money_digits"),
    ("1０00.50", "validation.money_digits"),
    ("١٢٣", "validation.money_digits"),
    ("1_000", "validation.money_invalid"),
    ("1.2.3", "validation.money_invalid"),
])
def test_bad_credit_limit_is_refused(ctx, typed, key):
    assert error_keys(ctx, credit_limit=typed) == {"credit_limit": {key}}


@pytest.mark.parametrize("typed, stored", [
    ("1000", Decimal("1000.00")), ("1,234.5", Decimal("1234.50")), ("¥ 50000", Decimal("50000.00")),
    (".5", Decimal("0.50")), ("+7", Decimal("7.00")), (1e-2, Decimal("0.01")), (1234.5, Decimal("1234.50")),
])
def test_plain_amounts_are_read_as_typed(ctx, typed, stored):
    assert validate_customer(base(credit_limit=typed), ctx).customer["credit_limit"] == stored


def test_exponent_and_full_width_messages_say_what_to_do(ctx):
    from lib.core.i18n import t
    assert "1e3" in t("validation.money_exponent", "en") and "1e3" in t("validation.money_exponent", "zh")
    assert "0-9" in t("validation.money_digits", "en") and "全角" in t("validation.money_digits", "zh")


def test_odd_decimal_against_a_stored_amount_is_a_validation_error(db, actors):
    # Comparing Decimal('sNaN') with the stored amount raises InvalidOperation.
    rec = cs.create_customer(db, actors["manager"], customer_values(credit_limit="100"))
    for odd in (Decimal("sNaN"), Decimal("NaN"), Decimal("-Infinity")):
        with pytest.raises(ValidationError) as ei:
            cs.update_customer(db, actors["manager"], rec["id"], {"credit_limit": odd}, rec["version"])
        assert ei.value.problems[0].key == "validation.money_invalid"


# -- text rules --------------------------------------------------------------------------------
TEXT_KINDS = ("text", "longtext", "phone", "email", "uscc")


def test_every_text_field_has_a_length_cap():
    uncapped = [f.name for f in FIELDS if f.kind in TEXT_KINDS and not f.max_length]
    assert uncapped == []


@pytest.mark.parametrize("name", [f.name for f in FIELDS if f.max_length])
def test_every_capped_field_refuses_one_character_too_many(ctx, name):
    f = FIELDS_BY_NAME[name]
    with pytest.raises(ValidationError) as ei:
        validate_customer(base(**{name: "1" * (f.max_length + 1)}), ctx)
    p = ei.value.fields[name][0]
    assert (p.key, p.params["max"]) == ("validation.too_long", f.max_length)


@pytest.mark.parametrize("name", [f.name for f in FIELDS if f.kind in ("text", "longtext")])
def test_text_fields_take_exactly_their_cap(ctx, name):
    f = FIELDS_BY_NAME[name]
    clean = validate_customer(base(**{name: "字" * f.max_length}), ctx)
    assert clean.field_values()[name] == "字" * f.max_length


@pytest.mark.parametrize("name", [f.name for f in FIELDS if f.kind in ("text", "longtext", "phone", "email",
                                                                         "uscc", "choice", "user")])
@pytest.mark.parametrize("bad", ["a\x00b", "a\x07b", "\x1b[31mred", "a\x1fb", "a\x7fb", "a\x85b"])
def test_control_characters_are_refused_in_every_field(ctx, name, bad):
    assert error_keys(ctx, **{name: bad}) == {name: {"validation.control_chars"}}


@pytest.mark.parametrize("name", [f.name for f in FIELDS if f.kind == "text"])
def test_single_line_fields_refuse_newlines_and_tabs(ctx, name):
    assert error_keys(ctx, **{name: "第一行\n第二行"}) == {name: {"validation.control_chars"}}
    assert error_keys(ctx, **{name: "a\tb"}) == {name: {"validation.control_chars"}}


def test_notes_may_contain_newlines_and_tabs(ctx):
    clean = validate_customer(base(notes="第一行\r\n\t第二行\r第三行\n"), ctx)
    assert clean.customer["notes"] == "第一行\n\t第二行\n第三行"
    assert error_keys(ctx, notes="a\x00b") == {"notes": {"validation.control_chars"}}


def test_lone_surrogates_are_refused(ctx):
    assert error_keys(ctx, name="abc\ud800") == {"name": {"validation.control_chars"}}
    assert error_keys(ctx, notes="\udfff") == {"notes": {"validation.control_chars"}}


def test_control_characters_are_exactly_unicodes_cc_and_cs():
    """clean_text finds them with a regular expression; it must refuse exactly the code
    points of categories Cc and Cs (multi-line text: all but line feed and tab)."""
    f = FIELDS_BY_NAME["notes"]
    for multiline in (False, True):
        refused = []
        for cp in range(0x110000):
            problems = Problems()
            kinds.clean_text(f"a{chr(cp)}b", f, problems, multiline=multiline)
            if problems.errors:
                refused.append(cp)
        expected = [cp for cp in range(0x110000) if unicodedata.category(chr(cp)) in ("Cc", "Cs")
                    and not (multiline and chr(cp) in "\n\t\r")]
        assert refused == expected


def test_eleven_digit_mobiles_parse_as_phonenumbers_parses_them():
    """parse_phone reads a mobile typed as 11 digits without phonenumbers.parse; for every
    prefix of four digits from 1000 to 1999, with random tails, it must give what parse
    gives (and refuse what parse refuses)."""
    import phonenumbers
    import random

    rng = random.Random(8)
    for prefix in range(1000, 2000):
        for _ in range(5):
            text = f"{prefix}{rng.randrange(10 ** 7):07d}"
            try:
                num = phonenumbers.parse(text, "CN")
                expected = None if not phonenumbers.is_possible_number(num) else (
                    phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164),
                    phonenumbers.is_valid_number(num))
            except phonenumbers.NumberParseException:
                expected = None
            pv = parse_phone(text)
            assert (None if pv is None else (pv.e164, pv.valid)) == expected, text


def test_unknown_fields_are_refused(ctx):
    assert error_keys(ctx, colour="red") == {"colour": {"validation.unknown_field"}}


def test_owner_must_be_a_known_user(ctx):
    assert validate_customer(base(owner=" Sales "), ctx).customer["owner"] == "sales"
    assert error_keys(ctx, owner="nobody") == {"owner": {"validation.unknown_user"}}


@pytest.mark.parametrize("owner", [None, "", "   ", float("nan")])
def test_owner_may_be_changed_but_not_cleared(ctx, owner):
    current = {f.name: None for f in FIELDS} | base(owner="sales")
    assert validate_customer({"owner": "manager"}, ctx, current=current).customer["owner"] == "manager"
    with pytest.raises(ValidationError) as ei:
        validate_customer({"owner": owner}, ctx, current=current)
    assert problems_of(ei.value) == {"owner": {"validation.required"}}


def test_new_customer_without_owner_validates(ctx):
    # The form validates before saving; create_customer then fills in the actor.
    values = base()
    del values["owner"]
    assert validate_customer(values, ctx).customer["owner"] is None


def test_all_problems_are_reported_at_once(ctx):
    keys = error_keys(ctx, name="", email="x", credit_limit="-1", tier="Z", uscc="123")
    assert keys == {
        "name": {"validation.required"},
        "email": {"validation.email_invalid"},
        "credit_limit": {"validation.money_negative"},
        "tier": {"validation.not_in_list"},
        "uscc": {"validation.uscc_malformed"},
    }


def test_problems_translate_without_leftover_placeholders(ctx):
    with pytest.raises(ValidationError) as ei:
        validate_customer(base(name="x" * 300, email="bad", phone="abc", tier="Z", credit_limit="1.234"), ctx)
    assert len(ei.value.problems) == 5
    for p in ei.value.problems:
        assert_translatable(p)
        for lang in LANGS:
            text = p.translate(lang)
            assert "{" not in text and not text.startswith("validation.")


def test_non_mapping_input_is_a_validation_error(ctx):
    for values in (None, [], "name", 42):
        with pytest.raises(ValidationError):
            validate_customer(values, ctx)


# -- bad input through the write path ----------------------------------------------------------
HUGE_INT = 10 ** 5000  # str() of this raises ValueError in Python >= 3.11

BAD_INPUTS = [
    "x" * 5000,
    "名" * 2001,
    "a\x00b",
    "\x00",
    "line\x0bbreak",
    "\x1b[2J",
    "😀🎉👨‍👩‍👧‍👦",
    "🏢" * 10,
    "\u200f\u0634\u0631\u0643\u0629 \u0627\u0644\u0646\u0648\u0631\u200f",  # Arabic with RLM
    "\u05d7\u05d1\u05e8\u05d4 \u05d1\u05e2\u05f4\u05de\u200f",  # Hebrew with RLM
    "\u202eevil\u202c",
    "abc\ud800",
    "\udc00",
    "'; DROP TABLE customers; --",
    "Robert'); DELETE FROM audit_log; --",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{name}{0}%s%d",
    "\ufeff",
    " \t ",
    "\u3000",
    "",
    0,
    -1,
    42,
    HUGE_INT,
    3.14,
    -0.0,
    float("nan"),
    float("inf"),
    None,
    True,
    False,
    [],
    ["a"],
    {},
    {"a": 1},
    Decimal("sNaN"),
    b"bytes",
]
RIGHTS_FIELDS = {f.name for f in FIELDS if f.write_permission}


def _expected_after_trim(f, value):
    """What a clean round trip stores for ``value`` in text field ``f``."""
    if isinstance(value, str):
        text = value.replace("\r\n", "\n").replace("\r", "\n") if f.kind == "longtext" else value
        return text.strip() or None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _check_round_trip(f, value, rec):
    stored = rec[f.name]
    if f.kind in ("text", "longtext"):
        assert stored == _expected_after_trim(f, value)
    elif f.kind == "phone":
        assert stored is None or stored == _expected_after_trim(f, value)
    elif f.kind == "money":
        assert stored is None or stored >= 0
    elif f.kind == "choice":
        assert stored is None or stored in {it[0] for it in reference.LISTS[f.options]}
    elif f.kind == "user":
        assert stored in {"manager", "sales", "sales2", "admin", "viewer"}


def _bad_input_ids():
    return ["10**5000" if v is HUGE_INT else ascii(v)[:30] for v in BAD_INPUTS]


@pytest.mark.parametrize("value", BAD_INPUTS, ids=_bad_input_ids())
def test_bad_input_to_every_field_via_create_and_update(db, actors, value):
    """Feed each odd value to every field as manager (who may set everything) and as
    sales (who may not set rights fields): only typed errors or a clean round trip."""
    target = cs.create_customer(db, actors["sales"], customer_values())
    for f in FIELDS:
        for who in ("manager", "sales"):
            actor = actors[who]
            # create
            try:
                rec = cs.create_customer(db, actor, customer_values(**{f.name: value}))
            except PermissionDenied as exc:
                assert who == "sales" and f.name in RIGHTS_FIELDS, (f.name, who, value)
                assert exc.params.get("field") == f.name
            except ValidationError as exc:
                assert exc.problems, "a ValidationError names what is wrong"
                for p in exc.problems:
                    assert_translatable(p)
            else:
                _check_round_trip(f, value, rec)
                assert cs.get_customer(db, actors["manager"], rec["id"])[f.name] == rec[f.name]
            # update
            current = cs.get_customer(db, actors["manager"], target["id"])
            try:
                rec = cs.update_customer(db, actor, target["id"], {f.name: value}, current["version"])
            except PermissionDenied as exc:
                assert who == "sales" and f.name in RIGHTS_FIELDS, (f.name, who, value)
                assert exc.params.get("field") == f.name
            except ValidationError as exc:
                assert exc.problems
                for p in exc.problems:
                    assert_translatable(p)
                after = cs.get_customer(db, actors["manager"], target["id"])
                assert after["version"] == current["version"], "a refused update writes nothing"
            else:
                _check_round_trip(f, value, rec)
                if f.name == "owner" and rec["owner"] != "sales":
                    # handed away by the manager: give it back so sales can keep editing it
                    cs.update_customer(db, actors["manager"], target["id"], {"owner": "sales"}, rec["version"])


def test_bad_input_as_whole_values_argument(db, actors):
    for values in (None, [], "name", 42, [("name", "x")]):
        with pytest.raises(ValidationError):
            cs.create_customer(db, actors["manager"], values)
    rec = cs.create_customer(db, actors["manager"], customer_values())
    for changes in (None, [], "name", 42):
        with pytest.raises(ValidationError):
            cs.update_customer(db, actors["manager"], rec["id"], changes, rec["version"])
    with pytest.raises(ValidationError) as ei:
        cs.update_customer(db, actors["manager"], rec["id"], {"code": "C1", "version": 9, 7: "x"}, rec["version"])
    assert {p.key for p in ei.value.problems} == {"validation.read_only"}
