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
