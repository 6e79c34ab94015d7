"""lib.core.text: pinyin keys (with the segment memo) and query normalisation."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin

from lib.core import text


def _plain(name: str) -> tuple[str, str]:
    """pinyin_keys computed by pypinyin itself, without our memo."""
    full, initials = [], []
    for chunk in lazy_pinyin(name, style=Style.NORMAL, errors="default"):
        words = text._WORD.findall(chunk.lower())
        full.extend(words)
        initials.extend(w[0] for w in words)
    return "".join(full), "".join(initials)


def test_known_names():
    assert text.pinyin_keys("重庆长安汽车") == ("chongqingchanganqiche", "cqcaqc")
    assert text.pinyin_keys("厦门银行")[1] == "xmyh"


HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
PART = st.sampled_from(["厦门", "银行", "有限公司", "长安", "重庆", "股份", "行长", "Trading", " ", "-", "3"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PART, st.text(HAN, min_size=1, max_size=3)), min_size=1, max_size=6))
def test_the_segment_memo_gives_what_pypinyin_gives(parts):
    name = "".join(parts)
    text.pinyin_keys.cache_clear()  # go through the converter, not the whole-name cache
    assert text.pinyin_keys(name) == _plain(name)
    text.pinyin_keys.cache_clear()
    assert text.pinyin_keys(name) == _plain(name)  # again, now from the memo


def test_the_memo_is_bounded(monkeypatch):
    memo = text._PINYIN._converter
    monkeypatch.setattr(memo, "_memo", {})
    monkeypatch.setattr(type(memo), "MAX_SEGMENTS", 3)
    text.pinyin_keys.cache_clear()
    for name in ("甲乙", "丙丁", "戊己", "庚辛", "壬癸"):
        assert text.pinyin_keys(name) == _plain(name)
    assert len(memo._memo) == 3


def test_formula_safe_neutralises_every_formula_start_and_nothing_else():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        cell = f"{start}HYPERLINK(\"http://x\")"
        assert text.formula_safe(cell) == "'" + cell
    assert text.formula_safe("'=1") == "''=1" and text.formula_unsafe("''=1") == "'=1"
    for plain in ("北京某某有限公司", "13800138000", "a=b", " =1", "", "'quoted"):
        assert text.formula_safe(plain) == plain
    for other in (None, 12.5, -3, True):
        assert text.formula_safe(other) == other


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.from_regex(r"\A'*[=+\-@\t\r]?.*\Z"), st.none(), st.integers()))
def test_formula_unsafe_undoes_formula_safe(value):
    assert text.formula_unsafe(text.formula_safe(value)) == value
    safe = text.formula_safe(value)
    assert not (isinstance(safe, str) and safe.startswith(("=", "+", "-", "@", "\t", "\r")))
