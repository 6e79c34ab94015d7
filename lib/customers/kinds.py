"""Kinds of field: everything one kind of value does, in one entry per kind.

A ``Field`` (``lib.customers.fields``) names its kind; the ``Kind`` in ``KINDS`` says
how such a value is cleaned and validated, which columns store it (a phone stores the
number as typed plus its E.164 form and extension), its storage type, what it adds to
the free-text search haystack and how it is written in the audit log. Validation, the
write path, search and the bulk loader read these entries; nothing else switches on a
kind's name. A new kind (say ``isbn``) is one entry here plus its UI half in
``ui.kinds`` (form widget, grid column, grid cell conversion; ``lib`` never imports
streamlit), which a drift test checks exists for every kind.

Nothing here is specific to customers: contacts, follow-ups and fields an
administrator adds later are declared with the same ``Field`` and ``Kind``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from lib.core.clock import SHANGHAI
from lib.core.errors import FieldProblem
from lib.core.text import digits
from lib.customers.fields import Field

# -- USCC (GB 32100-2015) ----------------------------------------------------------------
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")

MONEY_MAX = Decimal("999999999999.99")  # DECIMAL(14, 2)
NUMBER_MAX = Decimal("99999999999999.9999")  # DECIMAL(18, 4)
NUMBER_PLACES = Decimal("0.0001")
_MONEY_STRIP = re.compile(r"[\s,，¥￥]|^(?:RMB|CNY)", re.I)
_MONEY_TEXT = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_MONEY_EXPONENT = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)e[+-]?[0-9]+$", re.I)

# Extensions are split off before phonenumbers sees the number: it raises on "转" and
# reads "0571 12345678-801" as one impossible number.
_EXT_WORD = re.compile(r"^(?P<main>.*?)[\s,，]*(?:转|分机|ext\.?|extension|x|#)[\s.:：]*(?P<ext>\d{1,6})$", re.I)
_EXT_DASH = re.compile(r"^(?P<main>(?:\+?86[\s-]*)?\(?0\d{2,3}\)?[\s-]*\d{7,8})[\s]*-[\s]*(?P<ext>\d{1,6})$")
_PHONE_CHARS = re.compile(r"^[\d\s\-+()（）.]+$")
# 11 digits from 13 to 19, not 179 (with 11 and 12, a carrier or international prefix
# phonenumbers strips for China).
_CN_MOBILE = re.compile(r"1(?:[3-68-9][0-9]|7[0-8])[0-9]{8}")
# Control characters (Unicode category Cc) and lone surrogates (Cs), refused in text;
# the multi-line variant lets line feeds and tabs through.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


@dataclass(frozen=True)
class PhoneValue:
    typed: str
    e164: str
    ext: str | None
    valid: bool


@dataclass
class ValidationContext:
    """What validation needs from the database: the reference lists and the users."""

    lists: Mapping[str, list[dict]]
    usernames: Iterable[str] = ()
    default_region: str = "CN"

    def __post_init__(self):
        self.usernames = set(self.usernames)
        # (list, code) -> active: most values arrive as codes (forms, grids, bulk loads).
        self._codes = {(name, it["code"]): it["active"] for name, items in self.lists.items() for it in items}

    def choice(self, list_name: str, value: str) -> tuple[str | None, bool]:
        """(code, active) for a code or a label in either language; (None, False) if unknown."""
        active = self._codes.get((list_name, value))
        if active is not None:
            return value, active
        items = self.lists.get(list_name, [])
        for it in items:
            if value == it["code"]:
                return it["code"], it["active"]
        low = value.casefold()
        for it in items:
            if low in (it["code"].casefold(), it["label_zh"].casefold(), it["label_en"].casefold()):
                return it["code"], it["active"]
        return None, False


class Problems:
    """Errors and confirmable warnings collected while cleaning a record."""

    def __init__(self):
        self.errors: list[FieldProblem] = []
        self.warnings: list[FieldProblem] = []

    def error(self, field_name: str, key: str, **params):
        self.errors.append(FieldProblem(field_name, key, params))

    def warn(self, field_name: str, key: str, code: str, **params):
        self.warnings.append(FieldProblem(field_name, key, params, code=code))


# -- single values --------------------------------------------------------------------
def clean_text(value: Any, f: Field, problems: Problems, multiline: bool = False) -> str | None:
    """Trimmed text or None; refuses control characters (line breaks and tabs too,
    unless ``multiline``) and over-long values."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from a DataFrame cell
        return None
    if not isinstance(value, str):
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            try:
                value = str(value)
            except ValueError:  # an int too long to print (Python's 4300-digit limit)
                problems.error(f.name, "validation.invalid")
                return None
        else:
            problems.error(f.name, "validation.not_text")
            return None
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(value):
        problems.error(f.name, "validation.control_chars")
        return None
    value = value.strip()
    if not value:
        return None
    if f.max_length and len(value) > f.max_length:
        problems.error(f.name, "validation.too_long", max=f.max_length, length=len(value))
        return None
    return value


def parse_phone(text: str, region: str = "CN") -> PhoneValue | None:
    """Parse a phone number as typed. None if it cannot be read as a phone number."""
    main, ext = text, None
    m = _EXT_WORD.match(text) or _EXT_DASH.match(text)
    if m:
        main, ext = m.group("main").strip(), m.group("ext")
    if not main or not _PHONE_CHARS.match(main):
        return None
    main = main.replace("（", "(").replace("）", ")")
    if region == "CN" and _CN_MOBILE.fullmatch(main):
        # The commonest input, a mobile typed as 11 digits, is what parse would make of
        # it (tests/test_validation.py compares the two), without parse's cost.
        num = phonenumbers.PhoneNumber(country_code=86, national_number=int(main))
    else:
        try:
            num = phonenumbers.parse(main, region)
        except phonenumbers.NumberParseException:
            return None
    if not phonenumbers.is_possible_number(num):
        return None
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return PhoneValue(typed=text, e164=e164, ext=ext, valid=phonenumbers.is_valid_number(num))


def clean_phone(value: Any, f: Field, problems: Problems, ctx: ValidationContext, check: bool) -> PhoneValue | None:
    text = clean_text(value, f, problems)
    if text is None:
        return None
    pv = parse_phone(text, ctx.default_region)
    if pv is None:
        problems.error(f.name, "validation.phone_unparseable", value=text)
        return None
    if check and not pv.valid:
        problems.warn(f.name, "validation.phone_invalid", code=f"{f.name}.invalid", value=text)
    return pv


# A local part of ASCII letters, digits, "_", "+", "-" and single inner dots: a subset of
# what email_validator accepts before the "@", which it leaves as it is.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*")


@lru_cache(maxsize=65536)
def _email_syntax(text: str) -> str:
    """The normalised address, or ``EmailNotValidError``; syntax only, no network. A
    company's mailboxes (info@, sales@ of one domain) recur thousands of times in a bulk
    load, and the check is a pure function of the text. Failures are not remembered
    (``lru_cache`` keeps only results), so they raise every time.

    Most of email_validator's work is the domain, and domains recur far more than
    addresses: a plain local part is joined to its domain checked once
    (``_email_domain``); anything else goes to email_validator whole.
    tests/test_properties.py compares the two ways."""
    local, at, domain = text.rpartition("@")
    if at and len(local) <= 64 and _PLAIN_LOCAL.fullmatch(local):
        normalized = f"{local}@{_email_domain(domain)}"
        if len(normalized) <= 254:
            return normalized
    return validate_email(text, check_deliverability=False).normalized


@lru_cache(maxsize=16384)
def _email_domain(domain: str) -> str:
    """The normalised domain of an address, or ``EmailNotValidError``."""
    return validate_email(f"a@{domain}", check_deliverability=False).normalized.partition("@")[2]


def clean_email(value: Any, f: Field, problems: Problems) -> str | None:
    text = clean_text(value, f, problems)
    if text is None:
        return None
    try:
        normalized = _email_syntax(text)
    except EmailNotValidError:
        problems.error(f.name, "validation.email_invalid", value=text)
        return None
    except (ValueError, UnicodeError):  # odd IDNA input
        problems.error(f.name, "validation.email_invalid", value=text)
        return None
    return normalized


def clean_uscc(value: Any, f: Field, problems: Problems, check: bool) -> str | None:
    text = clean_text(value, f, problems)
    if text is None:
        return None
    code = re.sub(r"[\s-]", "", text).upper()
    if not _USCC_RE.match(code):
        problems.error(f.name, "validation.uscc_malformed", value=text)
        return None
    if check and uscc_check_char(code[:17]) != code[17]:
        problems.warn(f.name, "validation.uscc_checksum", code=f"{f.name}.checksum", value=code)
    return code


def _decimal(value: Any, f: Field, problems: Problems, what: str) -> Decimal | None:
    """A finite Decimal read from a number or from text written with 0-9, at most one
    point, and thousand separators, spaces, ¥ or RMB/CNY as decoration; None when empty
    or refused (the refusal is in ``problems``, under ``validation.<what>_invalid``,
    ``_digits`` or ``_exponent``). Range and places are the caller's."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        problems.error(f.name, f"validation.{what}_invalid")
        return None
    if isinstance(value, float):
        if value != value:  # NaN: an empty grid cell
            return None
        if value in (float("inf"), float("-inf")):
            problems.error(f.name, f"validation.{what}_invalid")
            return None
        value = Decimal(repr(value))  # repr: the shortest text that reads back as this float
    if isinstance(value, int):
        value = Decimal(value)  # not str(): a huge int would raise ValueError
    if isinstance(value, str):
        if _CONTROL.search(value):
            problems.error(f.name, "validation.control_chars")
            return None
        text = _MONEY_STRIP.sub("", value.strip())
        if len(text) > 40:
            problems.error(f.name, f"validation.{what}_invalid")
            return None
        # Python's Decimal reads "1e3", "1_000" and digits of any script ("１０００");
        # a number is refused unless it is written with 0-9 and at most one point
        # (see lib.customers.fields, credit_limit).
        if not _MONEY_TEXT.match(text):
            if any(ch.isdigit() and not ch.isascii() for ch in text):
                problems.error(f.name, f"validation.{what}_digits")
            elif _MONEY_EXPONENT.match(text):
                problems.error(f.name, f"validation.{what}_exponent")
            else:
                problems.error(f.name, f"validation.{what}_invalid")
            return None
        value = Decimal(text)
    if not isinstance(value, Decimal) or not value.is_finite():
        problems.error(f.name, f"validation.{what}_invalid")
        return None
    return value


def clean_money(value: Any, f: Field, problems: Problems) -> Decimal | None:
    value = _decimal(value, f, problems, "money")
    if value is None:
        return None
    if value < 0:
        problems.error(f.name, "validation.money_negative")
        return None
    if value > MONEY_MAX:
        problems.error(f.name, "validation.money_too_large", max="999,999,999,999.99")
        return None
    # More than two decimal places is refused rather than rounded (see lib.customers.fields).
    if value != value.quantize(Decimal("0.01")):
        problems.error(f.name, "validation.money_decimals")
        return None
    # copy_abs: "-0" is zero; stored as 0.00, it must not be "-0.00" in the audit log.
    return value.quantize(Decimal("0.01")).copy_abs()


def clean_number(value: Any, f: Field, problems: Problems) -> Decimal | None:
    """A decimal number, negative allowed, with at most four places (more is refused,
    not rounded, as for money) and at most ``NUMBER_MAX`` either side of zero; read as
    money is (``_decimal``). Returned normalized without trailing zeros ("-0" is 0)."""
    value = _decimal(value, f, problems, "number")
    if value is None:
        return None
    if abs(value) > NUMBER_MAX:
        problems.error(f.name, "validation.number_too_large", max="99,999,999,999,999.9999")
        return None
    if value != value.quantize(NUMBER_PLACES):
        problems.error(f.name, "validation.number_decimals")
        return None
    return _normalized(value)


def _normalized(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent form (Decimal's normalize
    makes 100 "1E+2"); "-0" is 0."""
    if not value:
        return Decimal(0)
    value = value.normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def plain_number(value: Decimal) -> str:
    """A number as plain text: "12.5", "-3", "0.0001" (no exponent, no trailing zeros)."""
    return f"{_normalized(value):f}"


_YES = frozenset(("是", "yes", "y", "true", "1", "√", "✓"))
_NO = frozenset(("否", "no", "n", "false", "0", "×", "✗"))


def clean_yesno(value: Any, f: Field, problems: Problems) -> bool | None:
    """True or False from a bool, 1 or 0, or text such as 是/否, yes/no, y/n, true/false,
    1/0, √/× or ✓/✗ (any case, trimmed); empty is None (not set)."""
    if value is None or (isinstance(value, float) and value != value):  # NaN: an empty grid cell
        return None
    if isinstance(value, bool):
        return value
    # An int 1 or 0 (a spreadsheet's number cell may arrive as 1.0). Not ``in (0, 1)``
    # on a Decimal sNaN: comparing one raises.
    if isinstance(value, (int, float)) or (isinstance(value, Decimal) and not value.is_nan()):
        if value == 1 or value == 0:
            return value == 1
    if isinstance(value, str):
        text = value.strip().casefold()
        if not text:
            return None
        if text in _YES:
            return True
        if text in _NO:
            return False
    problems.error(f.name, "validation.yesno_invalid")
    return None


def clean_url(value: Any, f: Field, problems: Problems) -> str | None:
    """A web address as typed (trimmed): http:// or https:// and a host that has a dot
    or is localhost. Nothing is added or changed ("example.com" is refused, not given a
    scheme)."""
    text = clean_text(value, f, problems)
    if text is None:
        return None
    if not _web_address(text):
        problems.error(f.name, "validation.url_invalid", value=text[:80])
        return None
    return text


def _web_address(text: str) -> bool:
    if any(ch.isspace() for ch in text):
        return False
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:  # "http://[x", "http://a.com:port"
        return False
    if parts.scheme.lower() not in ("http", "https"):
        return False
    if host == "localhost":
        return True
    labels = host.removesuffix(".").split(".")  # a fully qualified "example.com." too
    return len(labels) > 1 and all(labels)


_DATE_TEXT = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$")
# Dates a person means: nothing before 1900 or after 2099 (a typo such as 0226 or 20266
# would otherwise be stored as a real date).
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2099, 12, 31)


def clean_date(value: Any, f: Field, problems: Problems) -> date | None:
    """A calendar date from a ``date``, a ``datetime`` (its date in Asia/Shanghai when it
    carries a time zone) or text ``YYYY-MM-DD`` / ``YYYY/MM/DD``; empty is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value != value:  # NaN: an empty grid cell
        return None
    if isinstance(value, datetime):
        if value != value:  # pandas' NaT, an empty date cell
            return None
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI)
        value = value.date()
    elif isinstance(value, str):
        text = value.strip()
        m = _DATE_TEXT.match(text)
        try:
            value = date(int(m.group(1)), int(m.group(3)), int(m.group(4))) if m else None
        except ValueError:  # 2026-02-30
            value = None
        if value is None:
            problems.error(f.name, "validation.date_invalid", value=text[:40])
            return None
    elif not isinstance(value, date):
        problems.error(f.name, "validation.date_invalid", value=str(value)[:40])
        return None
    if not DATE_MIN <= value <= DATE_MAX:
        problems.error(f.name, "validation.date_out_of_range", min=DATE_MIN.isoformat(), max=DATE_MAX.isoformat())
        return None
    return value


def clean_choice(value: Any, f: Field, problems: Problems, ctx: ValidationContext, current: Any) -> str | None:
    text = clean_text(value, f, problems)
    if text is None:
        return None
    code, active = ctx.choice(f.options or "", text)
    if code is None:
        problems.error(f.name, "validation.not_in_list", value=text)
        return None
    if not active and code != current:
        problems.error(f.name, "validation.inactive_choice", value=text)
        return None
    return code


def clean_user(value: Any, f: Field, problems: Problems, ctx: ValidationContext, current: Any) -> str | None:
    text = clean_text(value, f, problems)
    if text is None:
        return None
    text = text.lower()
    if text != current and text not in ctx.usernames:
        problems.error(f.name, "validation.unknown_user", value=text)
        return None
    return text


# -- kinds ------------------------------------------------------------------------------------
def _json(v: Any) -> Any:
    """A value as the audit log's JSON holds it."""
    if isinstance(v, Decimal):
        return f"{v:.2f}"
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return v


def _text_parts(stored: Mapping[str, Any]) -> list[str]:
    v = stored.get("")
    return [str(v)] if v not in (None, "") else []


@dataclass(frozen=True)
class Kind:
    """What one kind of field does. ``clean`` turns raw input into the stored values,
    keyed by column suffix ("" is the field's own column, e.g. "_e164" a column beside
    it), collecting errors and warnings in ``problems``."""

    name: str
    # clean(raw, field, problems, ctx, check, current) -> {suffix: value}. ``check``: the
    # value is new or changed, so confirmable warnings apply; ``current``: the stored value.
    clean: Callable[[Any, Field, Problems, ValidationContext, bool, Any], dict[str, Any]]
    sql_type: str = "VARCHAR"
    extra_columns: tuple[tuple[str, str], ...] = ()  # (suffix, SQL type) stored beside the value
    # What a searchable field of this kind adds to the search haystack, from {suffix: value}.
    search_parts: Callable[[Mapping[str, Any]], list[str]] = _text_parts
    to_json: Callable[[Any], Any] = _json
    # Values come from a list (a reference list or the users): such a field can be a
    # filter and an analytics dimension.
    listed: bool = False

    def columns(self, f: Field) -> dict[str, str]:
        """Column name -> SQL type of every column that stores a field of this kind."""
        return {f.db_column: self.sql_type, **{f.db_column + suffix: t for suffix, t in self.extra_columns}}

    # store and stored run for every field of every record written or indexed: kinds of
    # one column take the short way.
    def store(self, f: Field, stored: Mapping[str, Any]) -> dict[str, Any]:
        """{suffix: value} as {column: value}."""
        if not self.extra_columns:
            return {f.db_column: stored[""]}
        return {f.db_column + suffix: v for suffix, v in stored.items()}

    def stored(self, f: Field, row: Mapping[str, Any]) -> dict[str, Any]:
        """A stored row's columns of field ``f`` as {suffix: value}."""
        col = f.db_column
        if not self.extra_columns:
            return {"": row.get(col)}
        return {"": row.get(col), **{s: row.get(col + s) for s, _ in self.extra_columns}}


def _phone(raw, f, problems, ctx, check, current):
    pv = clean_phone(raw, f, problems, ctx, check)
    return {"": pv.typed if pv else None, "_e164": pv.e164 if pv else None, "_ext": pv.ext if pv else None}


def _phone_parts(stored: Mapping[str, Any]) -> list[str]:
    return [p for p in (digits(stored.get("")), digits(stored.get("_e164"))) if p]


def _number_json(v: Any) -> Any:
    """A number in the audit log: its plain text with every place it has ("12.5", "-3",
    "0.0001"), where money's two-place format would lose places."""
    return plain_number(v) if isinstance(v, Decimal) else v


def _number_parts(stored: Mapping[str, Any]) -> list[str]:
    v = stored.get("")
    return [plain_number(v)] if isinstance(v, Decimal) else _text_parts(stored)


def _no_parts(stored: Mapping[str, Any]) -> list[str]:
    return []  # "True" in the search haystack would find nothing anyone types


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("text", lambda raw, f, p, ctx, check, cur: {"": clean_text(raw, f, p)}),
    Kind("longtext", lambda raw, f, p, ctx, check, cur: {"": clean_text(raw, f, p, multiline=True)}),
    Kind("choice", lambda raw, f, p, ctx, check, cur: {"": clean_choice(raw, f, p, ctx, cur)}, listed=True),
    Kind("user", lambda raw, f, p, ctx, check, cur: {"": clean_user(raw, f, p, ctx, cur)}, listed=True),
    Kind("phone", _phone, extra_columns=(("_e164", "VARCHAR"), ("_ext", "VARCHAR")), search_parts=_phone_parts),
    Kind("email", lambda raw, f, p, ctx, check, cur: {"": clean_email(raw, f, p)}),
    Kind("uscc", lambda raw, f, p, ctx, check, cur: {"": clean_uscc(raw, f, p, check)}),
    Kind("money", lambda raw, f, p, ctx, check, cur: {"": clean_money(raw, f, p)}, sql_type="DECIMAL(14,2)"),
    # Stored as DATE, written ISO (2026-03-01) in the audit log's JSON.
    Kind("date", lambda raw, f, p, ctx, check, cur: {"": clean_date(raw, f, p)}, sql_type="DATE"),
    # Kinds for fields an administrator adds; no built-in field uses them yet.
    Kind("number", lambda raw, f, p, ctx, check, cur: {"": clean_number(raw, f, p)}, sql_type="DECIMAL(18,4)",
         search_parts=_number_parts, to_json=_number_json),
    # Stored as BOOLEAN (None: not set), written true/false in the audit log's JSON.
    Kind("yesno", lambda raw, f, p, ctx, check, cur: {"": clean_yesno(raw, f, p)}, sql_type="BOOLEAN",
         search_parts=_no_parts),
    Kind("url", lambda raw, f, p, ctx, check, cur: {"": clean_url(raw, f, p)}),
)}


def kind_of(f: Field) -> Kind:
    try:
        return KINDS[f.kind]
    except KeyError:
        raise AssertionError(f"field {f.name}: unknown kind {f.kind!r}") from None
