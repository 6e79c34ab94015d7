"""Drift tests for messages: both languages everywhere, every key the code uses exists,
and every message formats with the parameters the code passes."""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from lib.core import errors

from lib.core import i18n
from lib.core.i18n import LANGS, MESSAGES, t

LIB = Path(__file__).resolve().parent.parent / "lib"
KEY_RE = re.compile(r"^(?:validation|error|auth|cli)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*$")


def lib_sources() -> dict[str, ast.AST]:
    return {str(p.relative_to(LIB)): ast.parse(p.read_text(encoding="utf-8"), filename=str(p))
            for p in sorted(LIB.rglob("*.py"))}


def used_keys() -> dict[str, set[str]]:
    """Message keys written as string literals in lib/**/*.py -> files using them."""
    out: dict[str, set[str]] = {}
    for name, tree in lib_sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY_RE.match(node.value):
                out.setdefault(node.value, set()).add(name)
    return out


def call_sites() -> list[tuple[str, int, str, set[str]]]:
    """(file, line, key, keyword names) for each call passing a literal message key and
    only literal keyword names (calls spreading ``**params`` are checked at run time)."""
    sites = []
    for name, tree in lib_sources().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            keys = [a.value for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str) and KEY_RE.match(a.value)]
            if len(keys) != 1 or any(kw.arg is None for kw in node.keywords):
                continue
            sites.append((name, node.lineno, keys[0], {kw.arg for kw in node.keywords}))
    return sites


def placeholders(template: str) -> set[str]:
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(template)
            if field is not None}


def test_every_message_has_both_languages():
    bad = [key for key, entry in MESSAGES.items()
           if set(entry) != set(LANGS) or not all(isinstance(entry[lang], str) and entry[lang].strip()
                                                   for lang in LANGS)]
    assert bad == []


def test_both_languages_take_the_same_parameters():
    bad = [key for key, entry in MESSAGES.items() if placeholders(entry["zh"]) != placeholders(entry["en"])]
    assert bad == []


def test_every_template_is_well_formed():
    for key, entry in MESSAGES.items():
        for lang in LANGS:
            try:
                list(string.Formatter().parse(entry[lang]))
            except ValueError as exc:  # e.g. a lone "{"
                pytest.fail(f"{key} [{lang}]: {exc}")


def catalogue_literals() -> list[tuple[str, str]]:
    """(file, key) for every entry of every top-level message dict in lib/core/i18n*.py."""
    out = []
    for path in sorted(LIB.rglob("i18n*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            if isinstance(value, ast.Dict):
                for k, v in zip(value.keys, value.values):
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Dict):
                        out.append((path.name, k.value))
    return out


def test_no_key_is_defined_twice():
    entries = catalogue_literals()
    assert len(entries) >= len(MESSAGES) > 40
    seen: dict[str, list[str]] = {}
    for file, key in entries:
        seen.setdefault(key, []).append(file)
    assert {k: files for k, files in seen.items() if len(files) > 1} == {}
    assert {k for _, k in entries} == set(MESSAGES)


def test_assembly_refuses_a_key_defined_in_two_parts():
    with pytest.raises(ValueError, match="cli.yes"):
        i18n.combine({"a.b": {"zh": "甲", "en": "a"}, "cli.yes": {"zh": "是", "en": "yes"}},
                     {"cli.yes": {"zh": "对", "en": "right"}})
    assert i18n.combine({"a.b": {"zh": "甲", "en": "a"}}, {"c.d": {"zh": "乙", "en": "b"}}).keys() == {"a.b", "c.d"}


def test_command_line_messages_are_in_the_catalogue():
    from lib.core.i18n_cli import CLI

    assert CLI and set(CLI) <= set(MESSAGES)
    assert all(key.startswith("cli.") for key in CLI)
    assert not hasattr(__import__("lib.cli", fromlist=["x"]), "CLI_MESSAGES")


def test_scanner_finds_the_keys_it_should():
    # Guard against a scanner that silently finds nothing.
    keys = used_keys()
    assert {"validation.required", "error.conflict", "auth.invalid_credentials", "cli.migrated"} <= set(keys)
    assert any(key == "validation.too_long" and {"max", "length"} <= kws for _, _, key, kws in call_sites())


def test_every_key_used_in_lib_exists():
    missing = {key: sorted(files) for key, files in used_keys().items() if key not in MESSAGES}
    assert missing == {}


def test_every_error_class_default_key_exists():
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.CustomerMasterError)]
    assert len(classes) >= 8
    assert [c.__name__ for c in classes if c.key not in MESSAGES] == []


@pytest.mark.parametrize("site", call_sites(), ids=lambda s: f"{s[0]}:{s[1]}:{s[2]}")
def test_messages_format_with_the_parameters_the_code_passes(site):
    file, line, key, passed = site
    if key not in MESSAGES:
        pytest.fail(f"{file}:{line} uses unknown key {key}")
    for lang in LANGS:
        template = MESSAGES[key][lang]
        needed = placeholders(template)
        assert needed <= passed, f"{file}:{line} {key} [{lang}] needs {needed - passed}, gets {passed}"
        text = t(key, lang, **{p: f"<{p}>" for p in passed})
        assert "{" not in text and "}" not in text, text


def test_unexpected_error_is_shown_with_its_id():
    # The one key whose parameter the UI supplies (an error id for the log).
    err = errors.CustomerMasterError(error_id="E42")
    assert err.key == "error.unexpected"
    for lang in LANGS:
        assert "E42" in err.translate(lang) and "{" not in err.translate(lang)


def test_t_falls_back_visibly():
    assert t("no.such.key", "en") == "no.such.key"
    assert t("validation.required", "fr") == MESSAGES["validation.required"]["zh"]
    # a missing parameter leaves the template rather than crashing
    assert t("validation.too_long", "en", max=5) == MESSAGES["validation.too_long"]["en"]
    assert t("validation.too_long", "en", max=5, length=6) == "At most 5 characters (this has 6)."


def test_field_parameters_are_shown_as_labels():
    err = errors.PermissionDenied("error.field_permission", field="credit_limit")
    assert "信用额度" in err.translate("zh")
    assert "Credit limit" in err.translate("en")


def test_user_text_in_parameters_is_not_formatted_again():
    p = errors.FieldProblem("tier", "validation.not_in_list", {"value": "{name}{0}"})
    assert p.translate("en") == "“{name}{0}” is not one of the choices."


def test_default_language_is_chinese():
    assert i18n.DEFAULT_LANG == "zh" and set(LANGS) == {"zh", "en"}
