"""The layers, read from the source: ``lib/`` never imports streamlit, ``ui/`` never
imports ``pages/``, and no module of ``lib/`` or ``ui/`` imports itself in a circle
(imports inside functions count: a late import hides a cycle, it does not remove it).

Imports are read with ``ast``, including ``importlib.import_module("...")`` with a
literal or f-string name, so a module cannot slip past by importing by name."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lib", "ui")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources(*packages: str) -> dict[str, Path]:
    out = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            out[_module_name(path)] = path
    return out


def _dynamic_name(node: ast.Call) -> str | None:
    """The module named by ``importlib.import_module(<literal or f-string>)``: an f-string's
    literal head (``f"pages.{name}"`` -> ``pages``)."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value).rstrip(".") or None
    return "<dynamic>"


def imports_of(path: Path, module: str) -> set[str]:
    """Every module name ``path`` imports, anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # ``from lib.core import errors`` imports the module lib.core.errors
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            name = _dynamic_name(node)
            if name:
                found.add(name)
    return found


def import_graph(*packages: str) -> dict[str, set[str]]:
    sources = _sources(*packages)
    graph = {}
    for module, path in sources.items():
        targets = set()
        for name in imports_of(path, module):
            # keep only modules of the graph (a "from x import name" adds x.name, which
            # is a module only sometimes)
            if name in sources and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# A cycle whose removal is under way with the login-gate rework (issue 6, section 2).
# When it is gone this test says so: delete the entry then.
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycles_in_lib_and_ui():
    found = cycles(import_graph(*PACKAGES))
    assert [c for c in found if c not in KNOWN_CYCLES] == [], f"import cycles: {found}"
    gone = [c for c in KNOWN_CYCLES if c not in found]
    assert gone == [], f"no longer a cycle, remove from KNOWN_CYCLES: {gone}"


def test_lib_never_imports_streamlit():
    offenders = {m: sorted(n for n in imports_of(p, m) if n.split(".")[0] == "streamlit")
                 for m, p in _sources("lib").items()}
    assert {m: n for m, n in offenders.items() if n} == {}


def test_ui_and_lib_never_import_pages():
    offenders = {m: sorted(n for n in imports_of(p, m) if n.split(".")[0] in ("pages", "<dynamic>"))
                 for m, p in _sources("lib", "ui").items()}
    assert {m: n for m, n in offenders.items() if n} == {}


# -- the checker itself ------------------------------------------------------------------------
def test_the_checker_sees_late_imports_cycles_and_import_by_name(tmp_path):
    (tmp_path / "a.py").write_text("def f():\n    from b import x\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("import importlib\nimportlib.import_module(f'pages.{1}')\nimport a\n",
                                   encoding="utf-8")
    assert imports_of(tmp_path / "a.py", "a") == {"b", "b.x"}
    assert imports_of(tmp_path / "b.py", "b") == {"importlib", "pages", "a"}
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


# -- the page registry ---------------------------------------------------------------------------
def test_every_page_file_is_in_the_registry_and_ends_with_the_legacy_guard():
    from ui import nav

    files = {p.stem for p in (ROOT / "pages").glob("*.py") if p.stem != "__init__"}
    assert files == {p.module for p in nav.PAGES}
    for name in sorted(files):
        tree = ast.parse((ROOT / "pages" / f"{name}.py").read_text(encoding="utf-8"))
        assert any(isinstance(n, ast.FunctionDef) and n.name == "render" for n in tree.body), name
        last = ast.unparse(tree.body[-1])
        assert last == "nav.leave_if_run_directly(__name__)", f"pages/{name}.py ends with {last!r}"
        # nothing else runs at import: only imports, definitions, constants and the guard
        for node in tree.body[:-1]:
            assert isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign,
                                     ast.AnnAssign, ast.Expr)), f"pages/{name}.py runs {ast.unparse(node)[:60]!r}"
            if isinstance(node, ast.Expr):
                assert isinstance(node.value, ast.Constant), f"pages/{name}.py runs {ast.unparse(node)[:60]!r}"


def test_registry_entries_are_unique():
    from ui import nav

    for attr in ("module", "action", "url_path", "title_key"):
        values = [getattr(p, attr) for p in nav.PAGES]
        assert len(values) == len(set(values)), attr


def test_test_helpers_name_the_registry_pages():
    from tests.apptest_util import PAGE_PATHS
    from tests.browser.util import PAGE_URLS
    from ui import nav

    assert PAGE_PATHS == PAGE_URLS == tuple(p.url_path for p in nav.PAGES)


# -- Database's private parts stay private ---------------------------------------------------------
def _private_uses(path: Path) -> list[str]:
    """``db._x`` / ``self.db._x`` / ``database()._x`` style accesses in one file: a private
    attribute of something named like a Database."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
            continue
        owner = node.value
        if isinstance(owner, ast.Call):
            owner = owner.func
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if name.lower().lstrip("_") in {"db", "database", "reopened", "old"}:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_nothing_outside_db_py_uses_its_private_parts():
    files = [p for d in ("lib", "ui", "pages", "tests") for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"]
    uses = [u for p in files if p != ROOT / "lib/core/db.py" for u in _private_uses(p)]
    assert uses == []
    # and nothing imports a private name from it
    imported = [f"{p.relative_to(ROOT)}: {a.name}" for p in files
                for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                if isinstance(n, ast.ImportFrom) and n.module == "lib.core.db"
                for a in n.names if a.name.startswith("_")]
    assert imported == []


def test_transactions_are_begun_and_ended_only_in_db_py():
    # Everything else uses Database.transaction(), with its retry contract.
    import re

    sql = re.compile(r"""execute\(\s*f?["'](BEGIN|COMMIT|ROLLBACK|START TRANSACTION)\b""", re.IGNORECASE)
    files = [p for d in ("lib", "ui", "pages") for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"]
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in files if p != ROOT / "lib/core/db.py"
             for m in sql.finditer(p.read_text(encoding="utf-8"))]
    assert found == []
    assert sql.search('cur.execute("BEGIN TRANSACTION")') and sql.search("con.execute( 'commit')")


def test_every_page_url_is_its_file_name():
    # The legacy pages/ mode of a fresh server knows pages by file name only.
    from ui import nav

    assert [p.url_path for p in nav.PAGES] == [p.module for p in nav.PAGES]


def test_audit_entries_are_written_only_through_core_audit():
    """The audit log has one writer (lib/core/audit.py: ``append``, ``insert``); the care
    campaign's one statement for a batch of follow-ups is the one INSERT beside it (the
    demo loader and the import load Arrow tables through lib/customers/bulk.py)."""
    allowed = {"lib/core/audit.py", "lib/customers/campaigns.py"}
    writers = sorted({p.relative_to(ROOT).as_posix() for p in (ROOT / "lib").rglob("*.py")
                      if re.search(r"INSERT\s+INTO\s+audit_log", p.read_text(encoding="utf-8"), re.I)})
    assert writers == sorted(allowed)


def test_sql_stays_in_lib():
    """Pages and the Streamlit glue call services; only ``lib/`` runs statements (a
    second database backend then changes ``lib/`` alone)."""
    outside = [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py")), *sorted((ROOT / "pages").rglob("*.py"))]
    running = sorted(p.relative_to(ROOT).as_posix() for p in outside
                     if re.search(r"\.(execute|executemany|sql)\(", p.read_text(encoding="utf-8")))
    assert running == []
