"""Drift between the docs and the code: every file and every ``lib.…`` name that README.md,
docs/ or a docstring cites must exist, so a move or a rename cannot leave the map wrong."""
from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCES = sorted(p for d in ("lib", "ui", "pages", "bench", "tests") for p in (ROOT / d).rglob("*.py")
                 if p.name != "test_docs.py") + [ROOT / "app.py"]

# A project path: starts at a top-level folder of the project and ends in a file name or /.
PATH_RE = re.compile(r"(?<![\w./-])((?:lib|ui|pages|tests|bench|docs|data|\.streamlit|\.ci)/[\w./*<>-]*[\w/*>])")
# A dotted name inside the lib package: lib.customers.search.where_clause
DOTTED_RE = re.compile(r"(?<![\w.])(lib(?:\.[A-Za-z_]\w*)+)")


def _cited_paths(text: str) -> set[str]:
    out = set()
    for m in PATH_RE.finditer(text):
        p = m.group(1).rstrip(".")
        if "*" in p or "<" in p:
            continue
        out.add(p)
    return out


def _ignored(path: str) -> bool:
    """Files the app makes at run time (the database, the secrets file) are git-ignored."""
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0


def _resolves(dotted: str) -> bool:
    """Import the longest module prefix of ``dotted``, then follow attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                # a dataclass field without a default is not a class attribute
                return attr in getattr(obj, "__dataclass_fields__", {})
            obj = getattr(obj, attr)
        return True
    return False


def _map_entries(readme: str) -> set[str]:
    """The files and folders the README's "Map of the code" names, as paths."""
    block = readme.split("## Map of the code", 1)[1].split("```")[1]
    stack: list[tuple[int, str]] = []
    out = set()
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        first = line.strip().split()[0]
        names = [first.rstrip(",")]
        # "backup.py, demo.py   ..." lists several files on one line
        for extra in line.strip().split()[1:]:
            if re.fullmatch(r"[\w.]+\.py,?", extra):
                names.append(extra.rstrip(","))
            else:
                break
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        for name in names:
            if not re.fullmatch(r"[\w*]*\.[\w*]+|[\w.*]+/", name):  # a file or a folder
                break
            out.add(parent + name)
        if names[0].endswith("/"):
            stack.append((indent, parent + names[0]))
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_path_a_document_cites_exists(doc):
    text = doc.read_text(encoding="utf-8")
    missing = sorted(p for p in _cited_paths(text) if not (ROOT / p).exists() and not _ignored(p))
    assert missing == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_lib_name_a_document_cites_exists(doc):
    names = set(DOTTED_RE.findall(doc.read_text(encoding="utf-8")))
    missing = sorted(n for n in names if n != "lib.cli" and not _resolves(n))
    assert missing == []


def test_the_readme_map_names_real_files():
    entries = _map_entries((ROOT / "README.md").read_text(encoding="utf-8"))
    assert {"app.py", "lib/", "lib/core/db.py", "lib/customers/fields.py"} <= entries  # the parser works
    missing = sorted(e for e in entries if "*" not in e and not (ROOT / e).exists())
    assert missing == []
    globbed = [e for e in entries if "*" in e]
    assert all(list(ROOT.glob(e)) for e in globbed), globbed


def test_every_path_and_lib_name_a_docstring_cites_exists():
    missing = []
    for src in SOURCES:
        text = src.read_text(encoding="utf-8")
        rel = src.relative_to(ROOT)
        for p in _cited_paths(text):
            if not (ROOT / p).exists() and not _ignored(p):
                missing.append(f"{rel}: {p}")
        for name in set(DOTTED_RE.findall(text)):
            if not _resolves(name):
                missing.append(f"{rel}: {name}")
    assert missing == []


def test_the_checks_catch_a_wrong_citation():
    missing_doc = "docs/" + "no-such-page.md"  # built, so no scan of this file finds it
    assert _cited_paths(f"see `lib/core/nowhere.py` and {missing_doc}") == {"lib/core/nowhere.py", missing_doc}
    assert not (ROOT / missing_doc).exists()
    assert _resolves("lib.customers.search.where_clause")
    assert not _resolves("lib.customers.search.no_such_function")
    assert not _resolves("lib.search")


def test_the_default_database_file_is_the_data_folder_the_readme_names():
    from lib.core.db import DEFAULT_PATH

    assert DEFAULT_PATH == ROOT / "data" / "customers.duckdb"
    assert "`data/customers.duckdb`" in (ROOT / "README.md").read_text(encoding="utf-8")
