"""Drift between the field declaration, what the pages render, and the message catalogue.

The form and grid checks read what the page *rendered* (AppTest's tree and the data
editor's column config as sent to the browser), not the declaration, so a field that
the declaration gains but a page forgets is caught.
"""
from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest

from lib.customers import fields as F
from lib.core.i18n import LANGS, MESSAGES
from lib.core.i18n_pages import PAGES
from lib.customers.search import ARCHIVED_CHOICES, SORTS
from tests.apptest_util import make_app, open_page

ROOT = Path(__file__).resolve().parent.parent
UI_SOURCES = sorted([*(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")])
KEY_RE = re.compile(r"^[a-z_]+(?:\.[a-z0-9_]+)+$")

# Keys built at run time from a declared set (``t("sort." + s)``): family -> members.
FAMILIES = {
    "form.group.": F.GROUPS,
    "sort.": SORTS,
    "filters.archived.": ARCHIVED_CHOICES,
    "dup.reason.": ("uscc", "phone", "name", "pinyin", "similar_name"),  # lib.customers.search.DuplicateMatch.reasons
}


def _rendered_labels(at) -> set[str]:
    labels = set()
    for kind in ("text_input", "text_area", "selectbox", "number_input", "multiselect", "checkbox", "radio"):
        labels |= {w.label for w in getattr(at, kind)}
    return labels


@pytest.mark.parametrize("lang", LANGS)
def test_every_field_appears_in_the_rendered_form(db, db_path, lang):
    at = make_app(db_path, "admin", lang=lang)
    open_page(at, "new-customer").run()
    assert not at.exception
    labels = _rendered_labels(at)
    missing = [f.name for f in F.FIELDS if f.label(lang) not in labels and f"{f.label(lang)} *" not in labels]
    assert missing == []
    keys = {w.key for kind in ("text_input", "text_area", "selectbox") for w in getattr(at, kind)}
    assert {f"nc_{f.name}" for f in F.FIELDS} <= keys
    groups = {m.value.removeprefix("##### ") for m in at.markdown}
    assert {MESSAGES[f"form.group.{g}"][lang] for g in F.GROUPS} <= groups


@pytest.mark.parametrize("lang", LANGS)
def test_every_field_appears_in_the_rendered_grid(db, db_path, make_customer, lang):
    make_customer()
    at = make_app(db_path, "admin", lang=lang)
    open_page(at, "customers").run()
    assert not at.exception
    grid = at.data_editor[0]
    config = json.loads(grid.proto.columns)
    shown = set(grid.value.columns) & set(config)
    order = list(grid.proto.column_order)
    for f in F.FIELDS:
        assert f.name in shown and f.name in order, f.name
        label = config[f.name]["label"].removeprefix("🔒 ").removesuffix(" *")
        assert label == f.label(lang), f.name
        if f.kind == "choice":
            assert config[f.name]["type_config"]["type"] == "selectbox", f.name
        if f.kind == "money":
            assert config[f.name]["type_config"]["type"] == "number", f.name
            assert config[f.name]["type_config"]["min_value"] == 0
        if f.max_length and f.kind not in ("choice", "user"):
            assert config[f.name]["type_config"].get("max_chars") == f.max_length, f.name
    for c in F.SYSTEM_COLUMNS:
        assert c.name in shown and config[c.name]["disabled"] is True, c.name
        assert config[c.name]["label"] == c.label(lang)


# -- messages ----------------------------------------------------------------------------
def _sources() -> dict[str, ast.AST]:
    return {str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8")) for p in UI_SOURCES}


def _t_call_keys() -> dict[str, set[str]]:
    """Literal first arguments of t(...) / ctx.t(...) / context.t(...) / i18n.t(...)."""
    out: dict[str, set[str]] = {}
    for name, tree in _sources().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            is_t = (isinstance(func, ast.Name) and func.id == "t") or (isinstance(func, ast.Attribute)
                                                                        and func.attr == "t")
            first = node.args[0]
            if is_t and isinstance(first, ast.Constant) and isinstance(first.value, str):
                out.setdefault(first.value, set()).add(name)
    return out


def _key_like_literals() -> dict[str, set[str]]:
    """Every string literal in ui/ and pages/ shaped like a catalogue key whose first part
    is a catalogue prefix (catches keys stored for later, e.g. a toast's key)."""
    prefixes = {k.split(".")[0] for k in MESSAGES}
    out: dict[str, set[str]] = {}
    for name, tree in _sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY_RE.match(node.value) \
                    and node.value.split(".")[0] in prefixes and not node.value.endswith(".py"):
                out.setdefault(node.value, set()).add(name)
    return out


def test_keys_passed_to_t_exist_in_both_languages():
    used = _t_call_keys()
    assert len(used) > 50  # the scan works
    missing = {k: sorted(v) for k, v in used.items() if k not in MESSAGES}
    assert missing == {}
    incomplete = [k for k in used if any(not MESSAGES[k].get(lang) for lang in LANGS)]
    assert incomplete == []


def test_key_shaped_literals_and_families_exist():
    missing = {k: sorted(v) for k, v in _key_like_literals().items() if k not in MESSAGES}
    assert missing == {}
    for prefix, members in FAMILIES.items():
        for m in members:
            assert all(MESSAGES.get(prefix + m, {}).get(lang) for lang in LANGS), prefix + m


def test_every_page_label_is_used():
    used = set(_t_call_keys()) | set(_key_like_literals())
    used |= {prefix + m for prefix, members in FAMILIES.items() for m in members}
    unused = sorted(k for k in PAGES if k not in used)
    assert unused == []


def test_page_labels_take_the_same_parameters_in_both_languages():
    def params(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    bad = [k for k, entry in PAGES.items() if set(entry) != set(LANGS) or params(entry["zh"]) != params(entry["en"])]
    assert bad == []
