"""Text helpers shared by validation and search: pinyin keys and the search haystack."""
from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

_WORD = re.compile(r"[0-9a-z]+")
_NON_DIGIT = re.compile(r"\D")
# What a phone-looking query may contain besides digits.
_PHONE_QUERY = re.compile(r"^\+?[\d\s\-()（）]{5,}$")
# Separates the parts of the haystack; control characters are refused in every
# searchable field, so a query can never span two parts.
SEP = "\x1f"


@lru_cache(maxsize=65536)
def pinyin_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of a name, lower-case, without spaces.

    重庆长安汽车 -> ("chongqingchanganqiche", "cqcaqc"). Latin words count as they are
    for the full form and by their first letter for the initials."""
    full: list[str] = []
    initials: list[str] = []
    for chunk in lazy_pinyin(name, style=Style.NORMAL, errors="default"):
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


def search_text(customer: dict, contacts: list[dict]) -> str:
    """The lower-cased haystack stored in ``customers.search_text``, parts joined by SEP:
    name, code, USCC, E.164 digits, full pinyin, initials, the phone as typed, e-mail,
    and every contact's name, phones and e-mail. The name must come first: ranking
    tests "exact name" and "name starts with" on this column (``lib.customers.search._rank``)."""
    fixed = [
        customer.get("name"),
        customer.get("code"),
        customer.get("uscc"),
        digits(customer.get("phone_e164")),
        customer.get("name_pinyin"),
        customer.get("name_initials"),
    ]
    rest = [digits(customer.get("phone")), customer.get("email")]
    for c in contacts:
        rest += [c.get("name"), digits(c.get("phone")), digits(c.get("phone_e164")), c.get("email")]
    return SEP.join([*((p or "").lower() for p in fixed), *(p.lower() for p in rest if p)])
