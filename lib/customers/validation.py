"""Validation of customer input, driven by ``lib.customers.fields``.

Every channel (form, grid, import, demo data) calls ``validate_customer``. It returns
clean column values or raises ``ValidationError`` listing every problem at once;
warnings the user may accept (a USCC whose checksum fails, a phone number that parses
but is not valid) raise ``ConfirmationRequired`` unless their codes are in ``confirm``.
Nothing a user can type raises anything else.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from lib.core.errors import ConfirmationRequired, FieldProblem, ValidationError
from lib.customers.fields import FIELDS, FIELDS_BY_NAME, Field

# -- USCC (GB 32100-2015) ----------------------------------------------------------------
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")

MONEY_MAX = Decimal("999999999999.99")  # DECIMAL(14, 2)
_MONEY_STRIP = re.compile(r"[\s,，¥￥]|^(?:RMB|CNY)", re.I)
_MONEY_TEXT = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_MONEY_EXPONENT = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)e[+-]?[0-9]+$", re.I)

# Extensions are split off before phonenumbers sees the number: it raises on "转" and
# reads "0571 12345678-801" as one impossible number.
_EXT_WORD = re.compile(r"^(?P<main>.*?)[\s,，]*(?:转|分机|ext\.?|extension|x|#)[\s.:：]*(?P<ext>\d{1,6})$", re.I)
_EXT_DASH = re.compile(r"^(?P<main>(?:\+?86[\s-]*)?\(?0\d{2,3}\)?[\s-]*\d{7,8})[\s]*-[\s]*(?P<ext>\d{1,6})$")
_PHONE_CHARS = re.compile(r"^[\d\s\-+()（）.]+$")


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

    def choice(self, list_name: str, value: str) -> tuple[str | None, bool]:
        """(code, active) for a code or a label in either language; (None, False) if unknown."""
        items = self.lists.get(list_name, [])
        for it in items:
            if value == it["code"]:
                return it["code"], it["active"]
        low = value.casefold()
        for it in items:
            if low in (it["code"].casefold(), it["label_zh"].casefold(), it["label_en"].casefold()):
                return it["code"], it["active"]
        return None, False


class _Problems:
    def __init__(self):
        self.errors: list[FieldProblem] = []
        self.warnings: list[FieldProblem] = []

    def error(self, field_name: str, key: str, **params):
        self.errors.append(FieldProblem(field_name, key, params))

    def warn(self, field_name: str, key: str, code: str, **params):
        self.warnings.append(FieldProblem(field_name, key, params, code=code))


# -- single values --------------------------------------------------------------------
def clean_text(value: Any, f: Field, problems: _Problems) -> str | None:
    """Trimmed text or None; refuses control characters and over-long values."""
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
    multiline = f.kind == "longtext"
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    for ch in value:
        cat = unicodedata.category(ch)
        if cat == "Cs" or (cat == "Cc" and not (multiline and ch in "\n\t")):
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
    try:
        num = phonenumbers.parse(main, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return PhoneValue(typed=text, e164=e164, ext=ext, valid=phonenumbers.is_valid_number(num))


def clean_phone(value: Any, f: Field, problems: _Problems, ctx: ValidationContext, check: bool) -> PhoneValue | None:
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


def clean_email(value: Any, f: Field, problems: _Problems) -> str | None:
    text = clean_text(value, f, problems)
    if text is None:
        return None
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        problems.error(f.name, "validation.email_invalid", value=text)
        return None
    except (ValueError, UnicodeError):  # odd IDNA input
        problems.error(f.name, "validation.email_invalid", value=text)
        return None
    return result.normalized


def clean_uscc(value: Any, f: Field, problems: _Problems, check: bool) -> str | None:
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


def clean_money(value: Any, f: Field, problems: _Problems) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        problems.error(f.name, "validation.money_invalid")
        return None
    if isinstance(value, float):
        if value != value:  # NaN: an empty grid cell
            return None
        if value in (float("inf"), float("-inf")):
            problems.error(f.name, "validation.money_invalid")
            return None
        value = Decimal(repr(value))  # repr: the shortest text that reads back as this float
    if isinstance(value, int):
        value = Decimal(value)  # not str(): a huge int would raise ValueError
    if isinstance(value, str):
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
            problems.error(f.name, "validation.control_chars")
            return None
        text = _MONEY_STRIP.sub("", value.strip())
        if len(text) > 40:
            problems.error(f.name, "validation.money_invalid")
            return None
        # Python's Decimal reads "1e3", "1_000" and digits of any script ("１０００");
        # an amount is refused unless it is written with 0-9 and at most one point
        # (see lib.customers.fields, credit_limit).
        if not _MONEY_TEXT.match(text):
            if any(ch.isdigit() and not ch.isascii() for ch in text):
                problems.error(f.name, "validation.money_digits")
            elif _MONEY_EXPONENT.match(text):
                problems.error(f.name, "validation.money_exponent")
            else:
                problems.error(f.name, "validation.money_invalid")
            return None
        value = Decimal(text)
    if not isinstance(value, Decimal) or not value.is_finite():
        problems.error(f.name, "validation.money_invalid")
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


def clean_choice(value: Any, f: Field, problems: _Problems, ctx: ValidationContext, current: Any) -> str | None:
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


def clean_user(value: Any, f: Field, problems: _Problems, ctx: ValidationContext, current: Any) -> str | None:
    text = clean_text(value, f, problems)
    if text is None:
        return None
    text = text.lower()
    if text != current and text not in ctx.usernames:
        problems.error(f.name, "validation.unknown_user", value=text)
        return None
    return text


def _same(a: Any, b: Any) -> bool:
    """``a == b`` for anything a caller may pass (comparing Decimal('sNaN') raises)."""
    try:
        return bool(a == b)
    except (ArithmeticError, TypeError, ValueError):
        return False


# -- the record -------------------------------------------------------------------------
@dataclass
class CleanCustomer:
    """Validated values: ``customer`` columns and the primary ``contact``'s columns."""

    customer: dict[str, Any] = field(default_factory=dict)
    contact: dict[str, Any] = field(default_factory=dict)

    def field_values(self) -> dict[str, Any]:
        """Values by field name (as declared), for comparison and the audit log."""
        out = {}
        for f in FIELDS:
            src = self.customer if f.storage == "customer" else self.contact
            out[f.name] = src.get(f.db_column)
        return out


def validate_customer(
    values: Mapping[str, Any],
    ctx: ValidationContext,
    *,
    current: Mapping[str, Any] | None = None,
    confirm: Iterable[str] = (),
) -> CleanCustomer:
    """Validate a whole customer by field name.

    ``values`` holds every field for a new customer, or the changed fields for an
    update, in which case ``current`` holds the stored values by field name: unchanged
    values are re-checked for errors but do not raise warnings again.
    """
    problems = _Problems()
    if not isinstance(values, Mapping):
        raise ValidationError("_record", "validation.invalid")
    unknown = [k for k in values if k not in FIELDS_BY_NAME]
    for k in unknown:
        problems.error(str(k)[:50], "validation.unknown_field", field=str(k)[:50])
    current = current or {}
    merged = {f.name: (values[f.name] if f.name in values else current.get(f.name, f.default if not current else None))
              for f in FIELDS}
    changed = {name for name in values if name in FIELDS_BY_NAME and not _same(values[name], current.get(name))} \
        if current else set(values)

    out = CleanCustomer()
    for f in FIELDS:
        raw = merged[f.name]
        check = f.name in changed
        target = out.customer if f.storage == "customer" else out.contact
        col = f.db_column
        if f.kind in ("text", "longtext"):
            target[col] = clean_text(raw, f, problems)
        elif f.kind == "choice":
            target[col] = clean_choice(raw, f, problems, ctx, current.get(f.name))
        elif f.kind == "phone":
            pv = clean_phone(raw, f, problems, ctx, check)
            target[col] = pv.typed if pv else None
            target[col + "_e164"] = pv.e164 if pv else None
            target[col + "_ext"] = pv.ext if pv else None
        elif f.kind == "email":
            target[col] = clean_email(raw, f, problems)
        elif f.kind == "uscc":
            target[col] = clean_uscc(raw, f, problems, check)
        elif f.kind == "money":
            target[col] = clean_money(raw, f, problems)
        elif f.kind == "user":
            target[col] = clean_user(raw, f, problems, ctx, current.get(f.name))
        else:  # pragma: no cover - a new kind must be handled here
            raise AssertionError(f"unhandled field kind {f.kind}")
        if f.required and target.get(col) is None and not any(p.field == f.name for p in problems.errors):
            problems.error(f.name, "validation.required")

    # Cross-field rules.
    # customers.owner is NOT NULL: an update may change the owner but never clear it. (A
    # new customer without one is fine here: create_customer fills in the actor.)
    if current and out.customer.get("owner") is None and "owner" not in {p.field for p in problems.errors}:
        problems.error("owner", "validation.required")
    if out.customer.get("customer_type") == "individual" and out.customer.get("size"):
        problems.error("size", "validation.size_for_individual")

    if problems.errors:
        raise ValidationError(problems.errors)
    confirmed = set(confirm)
    pending = [w for w in problems.warnings if w.code not in confirmed]
    if pending:
        raise ConfirmationRequired(pending)
    return out
