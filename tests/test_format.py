"""ui.format: money, counts and dates as each language reads them."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ui.format import local_datetime, md_escape, money, money_short, month, number


def test_money_has_yuan_sign_and_thousands_separators():
    assert money(Decimal("1234567.5")) == "¥1,234,567.50"
    assert money(Decimal("1234567.5"), "en", decimals=0) == "¥1,234,568"
    assert money(0) == "¥0.00"
    assert money(None) == "—" and money(float("nan")) == "—"


def test_large_amounts_in_the_units_of_each_language():
    assert money_short(Decimal("123456789"), "zh") == "¥1.23亿"
    assert money_short(Decimal("456000"), "zh") == "¥45.60万"
    assert money_short(Decimal("123456789"), "en") == "¥123.5M"
    assert money_short(Decimal("999"), "en") == "¥999"


def test_counts():
    assert number(1234567) == "1,234,567"
    assert number(None) == "—"


def test_stored_utc_is_shown_in_shanghai_time_per_language():
    ts = datetime(2026, 1, 31, 17, 5)  # 01:05 on 1 February in Shanghai
    assert local_datetime(ts, "zh") == "2026-02-01 01:05"
    assert local_datetime(ts, "en") == "1 Feb 2026, 01:05"
    assert local_datetime(None) == ""
    assert month(date(2026, 11, 1), "zh") == "2026年11月"
    assert month(date(2026, 11, 1), "en") == "Nov 2026"


def test_markdown_from_users_is_shown_literally():
    assert md_escape("**bold** :red[x] $x$") == r"\*\*bold\*\* \:red\[x\] \$x\$"
