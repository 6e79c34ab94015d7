"""The UI half of each kind of field (``lib.customers.kinds`` holds the rest).

One ``UiKind`` per kind, under the same name: the entry form's input, the grid's
column config, how a stored value becomes a grid cell and a cell a value for the
service, how a value reads to a person (labels for codes, ¥ for money), how a stored
value fills the entry form's input, and the filter panel's options for kinds whose
values come from a list.
``tests/test_drift.py`` checks that every kind of ``lib`` has its entry here.

Form inputs carry no ``max_chars``: the browser would refuse a whole paste that is too
long and the user would see "required"; the service's "at most N characters" message
is shown instead, with the paste kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

import pandas as pd
import streamlit as st

from lib.core.i18n import t
from lib.customers.customer import active_usernames, is_blank
from lib.customers.fields import Field
from lib.customers.kinds import DATE_MAX, DATE_MIN, MONEY_MAX, NUMBER_MAX, plain_number
from ui.format import money


@dataclass(frozen=True)
class Widget:
    """What an entry-form input needs besides its field."""

    label: str
    help: str | None
    key: str
    disabled: bool
    db: Any
    lang: str
    placeholder_choose: str


def empty(v: Any) -> bool:
    """An empty cell: blank as the service sees it (None, NaN, white space), or NaT."""
    return v is pd.NaT or is_blank(v)


def item_label(item: Mapping[str, Any], lang: str) -> str:
    return item["label_zh"] if lang == "zh" else item["label_en"]


def ref_labels(db, list_name: str, lang: str) -> dict[str, str]:
    """code -> label in ``lang`` for one reference list (inactive items included, so
    old values still read well)."""
    return {it["code"]: item_label(it, lang) for it in db.reference_lists().get(list_name, [])}


def ref_codes(db, list_name: str, *, include_inactive: bool = False) -> list[str]:
    return [it["code"] for it in db.reference_lists().get(list_name, []) if include_inactive or it["active"]]


def usernames(db) -> list[str]:
    return sorted(active_usernames(db))


def col_width(chars: int, lang: str) -> int:
    """Column width (px) for labels of up to ``chars`` characters, within reason."""
    per_char = 14 if lang == "zh" else 8
    return max(90, min(220, chars * per_char + 40))


# -- entry-form inputs -----------------------------------------------------------------------
def _text_input(placeholder: str | None = None):
    def draw(f: Field, w: Widget) -> None:
        st.text_input(w.label, key=w.key, help=w.help, disabled=w.disabled,
                      placeholder=placeholder if not w.disabled else None,  # a locked input must not look filled in
                      persist_state="session")
    return draw


def _text_area(f: Field, w: Widget) -> None:
    st.text_area(w.label, key=w.key, help=w.help, disabled=w.disabled, height=100, persist_state="session")


def _choice_input(f: Field, w: Widget) -> None:
    labels = ref_labels(w.db, f.options or "", w.lang)
    codes = ref_codes(w.db, f.options or "")
    current = st.session_state.get(w.key)
    if current in labels and current not in codes:
        # A retired value the record already has (or the user chose before it was
        # retired) stays shown, so saving other fields does not clear it; validation
        # refuses it only as a new value.
        codes.append(current)
        labels[current] = t("lists.retired_mark", w.lang, label=labels[current])
    elif current not in codes:
        st.session_state[w.key] = None
    st.selectbox(w.label, codes, key=w.key, format_func=lambda c: labels.get(c, c), help=w.help,
                 disabled=w.disabled, placeholder=w.placeholder_choose, persist_state="session")


def _user_input(f: Field, w: Widget) -> None:
    st.selectbox(w.label, usernames(w.db), key=w.key, help=w.help, disabled=w.disabled,
                 placeholder=w.placeholder_choose, persist_state="session")


def _yes_no_label(lang: str) -> Callable[[Any], str]:
    labels = {True: t("kinds.yes", lang), False: t("kinds.no", lang)}
    return lambda v: labels.get(v, str(v))


def _yesno_input(f: Field, w: Widget) -> None:
    # A select box, not a checkbox: "not set" (None) is a value of its own. Without a
    # state it would start at its first option, and a new record would say "yes" unasked.
    if st.session_state.get(w.key) not in (True, False):
        st.session_state[w.key] = None
    st.selectbox(w.label, [True, False], key=w.key, format_func=_yes_no_label(w.lang), help=w.help,
                 disabled=w.disabled, placeholder=w.placeholder_choose, persist_state="session")


def _date_input(f: Field, w: Widget) -> None:
    # No value means empty (st.date_input would otherwise fill in today on its own);
    # a default such as "today" is the service's, shown by the page that sets it.
    # (Passed only while the key has no state: Streamlit warns about a value given both ways.)
    empty_default = {} if w.key in st.session_state else {"value": None}
    st.date_input(w.label, key=w.key, help=w.help, disabled=w.disabled, format="YYYY-MM-DD",
                  min_value=DATE_MIN, max_value=DATE_MAX, persist_state="session", **empty_default)


# -- grid columns --------------------------------------------------------------------------
def _text_column(f: Field, common: dict, db, lang: str):
    # Long free text (names, addresses, notes) gets a wide column.
    width = 240 if f.kind == "longtext" or (f.kind == "text" and (f.max_length or 0) >= 200) else 160
    return st.column_config.TextColumn(max_chars=f.max_length, width=width, **common)


def _choice_column(f: Field, common: dict, db, lang: str):
    # Codes are stored and sent; the labels in the user's language are shown. Retired
    # codes stay among the options (a cell shows an option's label only) but last and
    # marked: old records keep their label, and choosing one anew is refused by the
    # service's validation.
    items = db.reference_lists().get(f.options or "", [])
    labels = {it["code"]: item_label(it, lang) for it in items if it["active"]}
    labels.update({it["code"]: t("lists.retired_mark", lang, label=item_label(it, lang))
                   for it in items if not it["active"]})
    return st.column_config.SelectboxColumn(
        options=list(labels), format_func=lambda c, _l=labels: _l.get(c, c),
        width=col_width(max([len(common["label"]), *map(len, labels.values())]), lang), **common)


def _user_column(f: Field, common: dict, db, lang: str):
    return st.column_config.SelectboxColumn(options=usernames(db), width=110, **common)


def _money_column(f: Field, common: dict, db, lang: str):
    return st.column_config.NumberColumn(min_value=0, max_value=float(MONEY_MAX), step=0.01, format="¥%,.2f", width=150,
                                         **common)


def _number_column(f: Field, common: dict, db, lang: str):
    # "plain": the number with the places it has (12.5, 0.0001), where the step alone
    # would show four places everywhere and "localized" rounds to three.
    return st.column_config.NumberColumn(min_value=-float(NUMBER_MAX), max_value=float(NUMBER_MAX), step=0.0001,
                                         format="plain", width=150, **common)


def _yesno_column(f: Field, common: dict, db, lang: str):
    # Not a CheckboxColumn: a checkbox cannot show "not set".
    return st.column_config.SelectboxColumn(options=[True, False], format_func=_yes_no_label(lang),
                                            width=col_width(len(common["label"]), lang), **common)


def _url_column(f: Field, common: dict, db, lang: str):
    return st.column_config.LinkColumn(max_chars=f.max_length, display_text=None, width=240, **common)


def _date_column(f: Field, common: dict, db, lang: str):
    return st.column_config.DateColumn(format="YYYY-MM-DD", min_value=DATE_MIN, max_value=DATE_MAX, width=120,
                                       **common)


# -- cell values -----------------------------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    return a == b


def _money_value(v: Any) -> Decimal | None | str:
    if empty(v):
        return None
    try:
        return Decimal(repr(v) if isinstance(v, float) else str(v)).normalize()
    except (InvalidOperation, ValueError):
        return str(v)


def _money_same(a: Any, b: Any) -> bool:
    return _money_value(a) == _money_value(b)


def _money_to_service(v: Any) -> Any:
    # As text: a float would round; the service reads "1234.5" exactly.
    return repr(v) if isinstance(v, float) else str(v)


def _money_cell(v: Any) -> Any:
    return None if v is None else float(v)


def _number_input(v: Any) -> Any:
    """A stored number as its form input holds it: its plain text ("12.5")."""
    return plain_number(v) if isinstance(v, Decimal) else str(v)


def _money_input(v: Any) -> Any:
    return str(v)


def _date_text(v: Any) -> str:
    """A date cell as ISO text: the grid may hand back a date, a Timestamp or text."""
    if isinstance(v, datetime):
        v = v.date()
    return v.isoformat() if isinstance(v, date) else str(v).strip()[:10]


def _date_same(a: Any, b: Any) -> bool:
    return _date_text(a) == _date_text(b)


def _identity(v: Any) -> Any:
    return v


# -- a value as a person reads it ---------------------------------------------------------------
def _shown_plain(f: Field, v: Any, db, lang: str) -> str:
    return str(v)


def _shown_choice(f: Field, v: Any, db, lang: str) -> str:
    return ref_labels(db, f.options or "", lang).get(v, str(v))


def _shown_date(f: Field, v: Any, db, lang: str) -> str:
    return _date_text(v)


def _shown_money(f: Field, v: Any, db, lang: str) -> str:
    return money(v, lang)


def _shown_number(f: Field, v: Any, db, lang: str) -> str:
    value = _money_value(v)  # the grid hands back a float, a stored number is a Decimal
    return plain_number(value) if isinstance(value, Decimal) else str(v)


def _shown_yesno(f: Field, v: Any, db, lang: str) -> str:
    return _yes_no_label(lang)(v)


# -- filter options --------------------------------------------------------------------------
def _choice_options(f: Field, db, lang: str) -> tuple[list, Callable[[Any], str]]:
    labels = ref_labels(db, f.options or "", lang)
    return list(labels), (lambda c, _l=labels: _l.get(c, c))


def _user_options(f: Field, db, lang: str) -> tuple[list, Callable[[Any], str]]:
    return usernames(db), str


@dataclass(frozen=True)
class UiKind:
    form_input: Callable[[Field, Widget], None]
    column: Callable[[Field, dict, Any, str], Any]
    dtype: str = "object"  # the grid frame's column dtype
    to_cell: Callable[[Any], Any] = _identity  # stored value -> grid cell
    to_service: Callable[[Any], Any] = _identity  # non-empty grid cell -> value for the service
    same: Callable[[Any, Any], bool] = _same  # do two non-empty values mean the same?
    shown: Callable[[Field, Any, Any, str], str] = _shown_plain  # a non-empty value as text for a person
    # (options, format_func) for the filter panel; kinds whose values come from a list.
    filter_options: Callable[[Field, Any, str], tuple[list, Callable[[Any], str]]] | None = None
    to_input: Callable[[Any], Any] = _identity  # non-empty stored value -> entry-form input value
    blank_input: Any = ""  # an empty value's entry-form input value (None for a select box or date)


UI_KINDS: dict[str, UiKind] = {
    "text": UiKind(_text_input(), _text_column),
    "longtext": UiKind(_text_area, _text_column),
    "choice": UiKind(_choice_input, _choice_column, filter_options=_choice_options, shown=_shown_choice,
                     blank_input=None),
    "user": UiKind(_user_input, _user_column, filter_options=_user_options, blank_input=None),
    "phone": UiKind(_text_input("13800138000 / 0755-12345678 转 12"), _text_column),
    "email": UiKind(_text_input("name@example.com"), _text_column),
    "uscc": UiKind(_text_input("91110108551385082Q"), _text_column),
    # Money is a text input in the form, so what the user typed ("1,234.50") stays as typed.
    "money": UiKind(_text_input("50000"), _money_column, dtype="float64", to_cell=_money_cell,
                    to_service=_money_to_service, same=_money_same, shown=_shown_money, to_input=_money_input),
    "date": UiKind(_date_input, _date_column, same=_date_same, shown=_shown_date, blank_input=None),
    # A number is typed as text too (what was typed stays), and compared as money is.
    "number": UiKind(_text_input("12.5"), _number_column, dtype="float64", to_cell=_money_cell,
                     to_service=_money_to_service, same=_money_same, shown=_shown_number, to_input=_number_input),
    "yesno": UiKind(_yesno_input, _yesno_column, shown=_shown_yesno, blank_input=None),
    "url": UiKind(_text_input("https://"), _url_column),
}


def ui_kind(f: Field) -> UiKind:
    try:
        return UI_KINDS[f.kind]
    except KeyError:
        raise AssertionError(f"field {f.name}: kind {f.kind!r} has no UI entry in ui.kinds") from None


def input_value(f: Field, v: Any) -> Any:
    """A stored value as field ``f``'s entry-form input holds it."""
    uk = ui_kind(f)
    return uk.blank_input if empty(v) else uk.to_input(v)
