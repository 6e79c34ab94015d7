"""Text helpers shared by validation and search: pinyin keys and the search haystack."""
from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style
from pypinyin.converter import UltimateConverter
from pypinyin.core import Pinyin

_WORD = re.compile(r"[0-9a-z]+")
_NON_DIGIT = re.compile(r"\D")
# What a phone-looking query may contain besides digits.
_PHONE_QUERY = re.compile(r"^\+?[\d\s\-()（）]{5,}$")
# Separates the parts of the haystack; control characters are refused in every
# searchable field, so a query can never span two parts.
SEP = "\x1f"


class _SegmentMemo(UltimateConverter):
    """pypinyin's converter, remembering the conversion of each word segment.

    ``pinyin_keys`` caches whole names, but names are nearly all distinct while their
    segments (a city, an industry word, a legal form) repeat endlessly: a million demo
    customers convert far fewer distinct segments. The conversion is a pure function of
    its arguments, so the memo returns exactly what pypinyin would; it cut the largest
    single cost of building a customer by about three quarters. Bounded: past
    ``MAX_SEGMENTS`` it converts without remembering."""

    MAX_SEGMENTS = 200_000

    def __init__(self):
        super().__init__()
        self._memo: dict = {}

    def convert(self, words, style, heteronym, errors, strict, **kwargs):
        key = (words, style, heteronym, errors, strict)
        hit = self._memo.get(key)
        if hit is None:
            hit = super().convert(words, style, heteronym, errors, strict, **kwargs)
            if kwargs or len(self._memo) >= self.MAX_SEGMENTS:
                return hit
            self._memo[key] = hit
        return [list(item) for item in hit]  # callers may change what they get


_PINYIN = Pinyin(_SegmentMemo())


@lru_cache(maxsize=65536)
def pinyin_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of a name, lower-case, without spaces.

    重庆长安汽车 -> ("chongqingchanganqiche", "cqcaqc"). Latin words count as they are
    for the full form and by their first letter for the initials."""
    full: list[str] = []
    initials: list[str] = []
    for chunk in _PINYIN.lazy_pinyin(name, style=Style.NORMAL, errors="default"):
        chunk = chunk.lower()
        words = _WORD.findall(chunk)
        full.extend(words)
        initials.extend(w[0] for w in words)
    return "".join(full), "".join(initials)


def digits(value: str | None) -> str:
    return _NON_DIGIT.sub("", value or "")


def normalise_query(q: str) -> list[str]:
    """Search terms of a free-text query: lower-cased, split on white space; a query
    that looks like a phone number becomes its digits."""
    q = (q or "").strip().lower()
    if not q:
        return []
    if _PHONE_QUERY.match(q):
        return [digits(q)]
    return [t for t in q.split() if t]


def search_text(head: list[str | None], parts: list[str | None]) -> str:
    """The lower-cased haystack stored in a search column, parts joined by SEP: the
    ``head`` parts always (empty when missing), so each keeps its position, then the
    non-empty ``parts``. For customers the head is name, code, full pinyin and initials
    and the parts come from the searchable fields (``lib.customers.customer.record_search_text``);
    ranking tests "exact name" and "name starts with" at the start of the column and
    matches whole parts anywhere between separators (``lib.customers.search._rank``)."""
    return SEP.join([*((p or "").lower() for p in head), *(p.lower() for p in parts if p)])


# A spreadsheet (Excel, LibreOffice, WPS) reads a cell that starts with one of these as
# a formula (a leading tab or carriage return hides one): a value someone typed as
# "=HYPERLINK(...)" must reach the next person's spreadsheet as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value):
    """``value`` as a spreadsheet cell that can never be read as a formula: a string
    starting with ``= + - @``, tab or carriage return gets a leading apostrophe (what a
    spreadsheet shows as "text", the OWASP advice for CSV injection). Other values
    (numbers, dates, None) are returned as they are. So does a string whose leading
    apostrophes are followed by one of them (``'=1`` typed as text stays ``'=1`` after a
    round trip). ``formula_unsafe`` undoes it."""
    if isinstance(value, str) and value.lstrip("'").startswith(_FORMULA_START):
        return "'" + value
    return value


def formula_unsafe(value):
    """The value ``formula_safe`` was given, for a cell read back from a file: a leading
    apostrophe before ``= + - @``, tab or carriage return is removed (so an exported
    phone ``+86 …`` re-imports unchanged); any other value is returned as it is."""
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(_FORMULA_START):
        return value[1:]
    return value
