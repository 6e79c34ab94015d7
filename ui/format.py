"""Numbers, money and dates as a person reading the page expects them.

Money is yuan (¥) with thousands separators and two decimals; large totals can also be
given in the units each language reads at a glance (万 / 亿 in Chinese, K / M / B in
English). Timestamps are stored in UTC and shown in Asia/Shanghai local time
(``lib.core.clock.to_local``), written the way each language writes dates.
"""
from __future__ import annotations

import html
import json
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lib.core.clock import to_local

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from a DataFrame
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def number(value: Any, lang: str = "zh") -> str:
    """An integer count with thousands separators: 1234567 -> "1,234,567"."""
    d = _decimal(value)
    if d is None:
        return "—"
    return f"{int(d):,}"


def money(value: Any, lang: str = "zh", *, decimals: int = 2) -> str:
    """¥ with thousands separators: Decimal("1234567.5") -> "¥1,234,567.50".

    Both languages write yuan the same way; empty (not set) shows a dash, never ¥0."""
    d = _decimal(value)
    if d is None:
        return "—"
    sign = "-" if d < 0 else ""
    return f"{sign}¥{abs(d):,.{decimals}f}"


def money_short(value: Any, lang: str = "zh") -> str:
    """A large amount in the units each language reads at a glance, for KPI tiles:
    zh "¥1.23亿" / "¥45.6万", en "¥123.5M" / "¥45.6K"."""
    d = _decimal(value)
    if d is None:
        return "—"
    a = abs(d)
    sign = "-" if d < 0 else ""
    if lang == "zh":
        for unit, div in (("亿", Decimal(10) ** 8), ("万", Decimal(10) ** 4)):
            if a >= div:
                return f"{sign}¥{a / div:,.2f}{unit}"
    else:
        for unit, div in (("B", Decimal(10) ** 9), ("M", Decimal(10) ** 6), ("K", Decimal(10) ** 3)):
            if a >= div:
                return f"{sign}¥{a / div:,.1f}{unit}"
    return money(d, lang, decimals=0 if a == a.to_integral_value() else 2)


def local_datetime(ts: datetime | None, lang: str = "zh") -> str:
    """A stored (naive UTC) timestamp in Asia/Shanghai time, written per language:
    zh "2026-11-26 15:30", en "26 Nov 2026, 15:30"."""
    if ts is None:
        return ""
    local = to_local(ts)
    if lang == "zh":
        return local.strftime("%Y-%m-%d %H:%M")
    return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M}"


def month(value: date | None, lang: str = "zh") -> str:
    """A month for chart axes: zh "2026年11月", en "Nov 2026"."""
    if value is None:
        return ""
    if lang == "zh":
        return f"{value.year}年{value.month}月"
    return f"{_MONTHS_EN[value.month - 1]} {value.year}"


# The two ways user text reaches the screen as markup, each with one helper; every
# name, label or message that quotes what a person typed goes through one of them.
#
# Streamlit renders alert, caption and markdown bodies as Markdown with its own
# directives (:red[...], :material/home:, :smile: emoji shortcodes, $math$). A backslash
# stops Markdown syntax and the :color[...] directive, but icon and emoji shortcodes are
# matched in the text *after* Markdown parsing, where the backslashes are gone; so the
# closing colon of anything shaped like ``:word:`` gets an invisible WORD JOINER
# (U+2060) in front of it, which no shortcode can contain.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=/])")
_SHORTCODE = re.compile(r"(:[\w+\-/]+)(?=:)")
_WORD_JOINER = "\u2060"


def md_escape(text: Any) -> str:
    """``text`` shown literally inside st.markdown / st.error / st.caption."""
    text = _SHORTCODE.sub(r"\1" + _WORD_JOINER, str(text))
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def plotly_text(text: Any) -> str:
    """``text`` shown literally in a plotly label, legend or hover: plotly renders a
    subset of HTML (<b>, <i>, <br>, <a href=...>, <span style=...>) and entities there."""
    return html.escape(str(text), quote=False)


def script_data(value: Any) -> str:
    """``value`` as a JavaScript literal to put inside an inline ``<script>``: JSON with
    every "<" escaped, so no string in it can end the script."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
