"""Drift between the field declaration, the write path, what the pages render, and the
message catalogue.

The round trip takes every declared field through create, read, update, search,
filters, analytics and the audit log, reading what was stored rather than the
declaration, so a field the write path ignores fails it (proved below by adding a field
and by breaking the write path on purpose). The form and grid checks read what the page
*rendered* (AppTest's tree and the data editor's column config as sent to the
browser), so a field that the declaration gains but a page forgets is caught.
"""
from __future__ import annotations

import ast
import json
import re
import string
from datetime import date
from pathlib import Path

import pytest

from lib.core import settings as app_settings
from lib.accounts import audit_log
from lib.core.errors import ValidationError
from lib.customers import contacts, custom_fields, files, followups, parts, relationships
from lib.customers import customer as cs
from lib.customers import fields as F
from lib.customers import importing as imp
from lib.customers import reference_admin as ra
from lib.customers.analytics import customer_analytics
from lib.customers.kinds import KINDS, kind_of, uscc_check_char
from ui.kinds import UI_KINDS
from tests.conftest import customer_values
from lib.core.i18n import LANGS, MESSAGES
from lib.core.i18n_pages import PAGES
from lib.customers.search import ARCHIVED_CHOICES, SORTS, CustomerFilters, search
from tests.apptest_util import make_app, open_filters, open_page

ROOT = Path(__file__).resolve().parent.parent
UI_SOURCES = sorted([*(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")])
KEY_RE = re.compile(r"^[a-z_]+(?:\.[a-z0-9_]+)+$")

# Keys built at run time from a declared set (``t("sort." + s)``): family -> members.
FAMILIES = {
    "form.group.": F.GROUPS,
    "sort.": SORTS,
    "filters.archived.": ARCHIVED_CHOICES,
    "dup.reason.": ("uscc", "phone", "name", "pinyin", "similar_name"),  # lib.customers.search.DuplicateMatch.reasons
    "import.count.": ("rows", "new", "updated", "unchanged", "failing"),  # pages/import_customers.py
    "import.col.": imp.PROBLEM_COLUMNS,
    "import.match.": imp.MATCH_BY,
    "import.holds.": imp.HOLDS,
    "import.reason.": ("phone", "name", "similar_name"),  # lib.customers.importing.Lookalike.reason
    "setting.": tuple(app_settings.BY_KEY),  # lib.core.settings.Setting.label_key
    "setting_help.": tuple(app_settings.BY_KEY),
    "admin.settings_group.": app_settings.GROUPS,
    "validation.setting_pattern.": tuple(s.key for s in app_settings.SETTINGS if s.pattern),
    "lists.name.": ra.MANAGED_LISTS,  # ui/admin_lists.py
    "audit.action.": audit_log.ACTIONS,  # lib.accounts.audit_log.action_label, ui/admin_audit.py
    "audit.entity.": audit_log.ENTITIES,
    "audit.col.": audit_log.EXPORT_COLUMNS,
    "fields.kind.": custom_fields.CUSTOM_KINDS,  # ui/admin_fields.py
}


# -- the declaration through the write path ---------------------------------------------
_USCC_2 = "91350200MA2Y0K4Q1" + uscc_check_char("91350200MA2Y0K4Q1")
# Two valid inputs per kind, each stored as typed. A new kind needs its pair here.
KIND_SAMPLES = {
    "text": ("漂移甲 Drift-A", "漂移乙 Drift-B"),
    "longtext": ("第一行\n第二行", "另一段"),
    "phone": ("0592-5551234", "13912345678"),
    "email": ("drift.a@example.com", "drift.b@example.com"),
    "uscc": ("91110108551385082Q", _USCC_2),
    "money": ("1234.50", "99.00"),
    "choice": None,  # the first two active codes of the field's reference list
    "user": ("sales", "sales2"),
    "date": ("2026-03-01", date(2026, 4, 15)),  # text and a date; stored and audited as ISO dates
    # Kinds for administrator-defined fields (test_every_kind_round_trips_in_a_field_of_its_own).
    "number": ("-0.0001", "1234.5"),  # audited as plain text with every place
    "yesno": (True, False),
    "url": ("https://a.example.com", "https://b.example.com/x"),
}


def samples(db, f: F.Field) -> tuple:
    if f.kind == "choice":
        codes = [it["code"] for it in db.reference_lists()[f.options] if it["active"]]
        return codes[0], codes[1]
    return KIND_SAMPLES[f.kind]


def roundtrip(db, actor, f: F.Field) -> list[str]:
    """What goes wrong taking field ``f`` through the write path: create with one valid
    value, read it back (returned record, a fresh read, a search row), update to another,
    read back, find the customer by it (if searchable / a filter / a dimension), and see
    both values in the audit log. An empty list: the field is handled everywhere."""
    first, second = samples(db, f)
    same = lambda a, b: kind_of(f).to_json(a) == kind_of(f).to_json(b)  # noqa: E731 (Decimal vs text)
    problems = []
    base = customer_values()
    if f.name != "name":  # a name no other customer shares
        base["name"] = f"圆周测试{f.name}有限公司"
    created = cs.create_customer(db, actor, {**base, f.name: first})
    cid = created["id"]

    def read_back(label, value):
        for where, rec in (("fresh read", cs.get_customer(db, actor, cid)),
                           ("search row", next((r for r in search(db, actor, CustomerFilters(
                               text=created["code"])).rows if r["id"] == cid), {}))):
            if not same(rec.get(f.name), value):
                problems.append(f"{f.name}: {label}, {where} has {rec.get(f.name)!r}, not {value!r}")

    if not same(created.get(f.name), first):
        problems.append(f"{f.name}: create returned {created.get(f.name)!r}, not {first!r}")
    read_back("after create", first)
    updated = cs.update_customer(db, actor, cid, {f.name: second}, created["version"])
    if not same(updated.get(f.name), second) or updated["version"] != created["version"] + 1:
        problems.append(f"{f.name}: update returned {updated.get(f.name)!r} v{updated['version']}")
    read_back("after update", second)
    found = cid in {r["id"] for r in search(db, actor, CustomerFilters(text=str(second))).rows}
    if f.searchable and not found:
        problems.append(f"{f.name}: searchable, but a search for {second!r} misses the customer")
    if not f.searchable and found and f.kind in ("text", "longtext", "email", "phone", "uscc"):
        problems.append(f"{f.name}: not searchable, but a search for {second!r} finds the customer")
    if f.filter and cid not in {r["id"] for r in search(db, actor, CustomerFilters(
            choices={f.name: (second,)})).rows}:
        problems.append(f"{f.name}: a filter, but filtering by {second!r} misses the customer")
    if f.dimension and dict(customer_analytics(db, actor).counts.get(f.name, [])).get(second, 0) < 1:
        problems.append(f"{f.name}: a dimension, but analytics does not count {second!r}")
    entries = cs.history(db, actor, cid)
    create_change = entries[0]["changes"].get(f.name)
    update_change = entries[-1]["changes"].get(f.name)
    if not (create_change and create_change[0] is None and same(create_change[1], first)):
        problems.append(f"{f.name}: create audit entry has {create_change!r}")
    if not (update_change and same(update_change[0], first) and same(update_change[1], second)):
        problems.append(f"{f.name}: update audit entry has {update_change!r}")
    return problems


@pytest.mark.parametrize("name", [f.name for f in F.FIELDS])
def test_every_declared_field_round_trips(db, actors, name):
    assert roundtrip(db, actors["admin"], F.by_name(name)) == []


@pytest.mark.parametrize("kind", custom_fields.CUSTOM_KINDS)
def test_a_custom_field_of_every_kind_round_trips(db, actors, kind):
    """A field an administrator adds is read through the same declaration: the same
    round trip as a built-in field, searchable when its kind may be, a filter and a
    dimension when it is a choice."""
    admin = actors["admin"]
    custom_fields.add_field(
        db, admin, key=f"drift_{kind}", label_zh=f"漂移{kind}", label_en=f"Drift {kind}", kind=kind,
        edit_roles=list(db.roles()), searchable=kind in custom_fields.TEXT_KINDS,
        filter=kind in custom_fields.LISTED_KINDS, dimension=kind in custom_fields.LISTED_KINDS,
        choices=[("甲", "First"), ("乙", "Second")] if kind == "choice" else ())
    f = F.by_name(f"cf_drift_{kind}")
    assert f is not None and f.custom and f.kind == kind
    assert roundtrip(db, admin, f) == []


# -- the customer's parts: every declared field of every part kind -------------------------
# Kinds whose parts are not created by ``parts.add_part`` alone: how the round trip
# creates one from its field values.
PART_CREATE = {
    "file": lambda db, actor, customer_id, values, system_values: files.add_file(
        db, actor, customer_id, "圆周.pdf", b"%PDF-1.4\n%%EOF\n", values),
}


def _other_customer(db, actor) -> dict:
    """A relationship's system value: the other customer, a new one each time."""
    return {"to_customer": cs.create_customer(db, actor, customer_values())["id"]}


# kind name -> (PartKind, required field values, system values: a function of (db, actor)
# giving the kind's own columns for ``add_part``'s ``system_values``, or None).
PART_KINDS = {
    "contact": (contacts.CONTACT, {"contact_name": "圆周联系人"}, None),
    "relationship": (relationships.RELATIONSHIP, {"relationship_kind": "partner"}, _other_customer),
    "file": (files.FILE, {}, None),
    # A need, so its state round-trips too (any other kind refuses a state).
    "followup": (followups.FOLLOW_UP, {"followup_kind": "need", "followup_summary": "圆周跟进",
                                       "followup_occurred_on": "2026-03-01"}, None),
}


# A follow-up's assignee must be able to open the customer: users who read every customer.
PART_SAMPLES = {"followup_assignee": ("manager", "viewer")}


def part_roundtrip(db, actor, kind, required: dict, f: F.Field, system=None) -> list[str]:
    """Field ``f`` of a part kind through add, read, change, read, search (if searchable)
    and the audit log: an empty list when the write path handles it everywhere."""
    first, second = PART_SAMPLES.get(f.name) or samples(db, f)
    same = lambda a, b: kind_of(f).to_json(a) == kind_of(f).to_json(b)  # noqa: E731
    problems = []
    customer = cs.create_customer(db, actor, customer_values(name=f"圆周测试{f.name}有限公司"))
    create = PART_CREATE.get(kind.name, lambda db, actor, cid, values, system_values: parts.add_part(
        db, actor, kind, cid, values, system_values=system_values))
    added = create(db, actor, customer["id"], {**required, f.name: first}, system(db, actor) if system else None)
    for label, value, rec in (("add returned", first, added),
                              ("read after add", first, parts.get_part(db, actor, kind, added["id"]))):
        if not same(rec.get(f.name), value):
            problems.append(f"{kind.name}.{f.name}: {label} {rec.get(f.name)!r}, not {value!r}")
    changed = parts.change_part(db, actor, kind, added["id"], {f.name: second}, added["version"])
    for label, rec in (("change returned", changed), ("read after change", parts.get_part(db, actor, kind,
                                                                                          added["id"]))):
        if not same(rec.get(f.name), second) or rec["version"] != 2:
            problems.append(f"{kind.name}.{f.name}: {label} {rec.get(f.name)!r} v{rec['version']}")
    found = customer["id"] in {r["id"] for r in search(db, actor, CustomerFilters(text=str(second))).rows}
    if f.searchable and not found:
        problems.append(f"{kind.name}.{f.name}: searchable, but a search for {second!r} misses the customer")
    entries = [e for e in cs.history(db, actor, customer["id"]) if e["entity"] == kind.name]
    add_change, change_change = entries[0]["changes"].get(f.name), entries[-1]["changes"].get(f.name)
    if not (add_change and add_change[0] is None and same(add_change[1], first)):
        problems.append(f"{kind.name}.{f.name}: add audit entry has {add_change!r}")
    if not (change_change and same(change_change[0], first) and same(change_change[1], second)):
        problems.append(f"{kind.name}.{f.name}: change audit entry has {change_change!r}")
    return problems


@pytest.mark.parametrize("kind_name, name", [(k, f.name) for k, (kind, _, _) in PART_KINDS.items()
                                             for f in kind.fields])
def test_every_declared_part_field_round_trips(db, actors, kind_name, name):
    kind, required, system = PART_KINDS[kind_name]
    f = next(f for f in kind.fields if f.name == name)
    assert part_roundtrip(db, actors["admin"], kind, {k: v for k, v in required.items() if k != name}, f,
                          system) == []


def test_a_part_write_path_that_ignores_a_field_fails_the_round_trip(db, actors, monkeypatch):
    derived = parts.PartKind.value_columns
    monkeypatch.setattr(parts.PartKind, "value_columns",
                        lambda self: {c: t for c, t in derived(self).items() if c != "department"})
    kind, required, _ = PART_KINDS["contact"]
    problems = part_roundtrip(db, actors["admin"], kind, required, F.by_name("contact_department",
                                                                              F.CONTACT_FIELDS))
    assert any(p.startswith("contact.contact_department: add returned None") for p in problems), problems


def test_every_part_kind_is_in_the_round_trip_and_its_fields_have_unique_names():
    assert set(PART_KINDS) == set(F.DECLARATIONS) - {"customer"}
    for name, decl in F.DECLARATIONS.items():
        for f in decl:
            same_name = F.by_name(f.name)
            # A part's field may share a name with the customer's only when it is that field
            # (the primary contact's), stored in the same column.
            assert same_name is None or name == "customer" or (
                same_name.storage == "primary_contact" and same_name.db_column == f.db_column), f.name


WEBSITE = F.Field("website", "text", "网站", "Website", "basic", max_length=200, searchable=True)


@pytest.fixture
def website(db, monkeypatch):
    """The issue's experiment: a field added to the declaration plus its migration."""
    monkeypatch.setattr(F, "_current", F.declared() + (WEBSITE,))
    with db.transaction() as cur:
        cur.execute("ALTER TABLE customers ADD COLUMN website VARCHAR")
    return WEBSITE


def test_a_new_field_needs_only_its_declaration_and_column(db, actors, website):
    assert roundtrip(db, actors["admin"], website) == []


def test_a_write_path_that_ignores_a_field_fails_the_round_trip(db, actors, website, monkeypatch):
    derived = cs.value_columns
    monkeypatch.setattr(cs, "value_columns", lambda storage, fields=None: {
        c: t for c, t in derived(storage, fields).items() if c != "website"})
    problems = roundtrip(db, actors["admin"], website)
    assert any(p.startswith("website: create returned None") for p in problems), problems
    assert any("search for" in p for p in problems), problems


def test_a_new_kind_is_one_entry_in_lib_and_one_in_ui(db, actors, monkeypatch):
    """A ``link`` kind: its lib entry (cleaning), its UI entry (the text widgets), a field
    of that kind and its column — and it goes everywhere the built-in kinds go."""
    from lib.customers import kinds as K
    from ui import kinds as UK

    def clean_link(raw, f, problems, ctx, check, current):
        text = K.clean_text(raw, f, problems)
        if text is not None and not text.startswith(("http://", "https://")):
            problems.error(f.name, "validation.invalid")
            return {"": None}
        return {"": text}

    monkeypatch.setitem(K.KINDS, "link", K.Kind("link", clean_link))
    monkeypatch.setitem(UK.UI_KINDS, "link", UK.UI_KINDS["text"])
    monkeypatch.setitem(KIND_SAMPLES, "link", ("https://a.example.com", "https://b.example.com/x"))
    homepage = F.Field("homepage", "link", "主页", "Homepage", "basic", max_length=200, searchable=True)
    monkeypatch.setattr(F, "_current", F.declared() + (homepage,))
    with db.transaction() as cur:
        cur.execute("ALTER TABLE customers ADD COLUMN homepage VARCHAR")
    assert roundtrip(db, actors["admin"], homepage) == []
    with pytest.raises(ValidationError) as ei:
        cs.create_customer(db, actors["admin"], customer_values(homepage="ftp://x"))
    assert ei.value.fields.keys() == {"homepage"}


def test_every_declared_column_exists_in_the_schema(db):
    with db.read() as cur:
        columns = {t: {r[0] for r in cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [t]).fetchall()}
            for t in ("customers", "contacts")}
    assert set(cs.customer_columns()) <= columns["customers"]
    assert set(cs.contact_columns()) <= columns["contacts"]


def test_every_kind_has_samples_a_ui_entry_and_every_field_a_known_kind():
    assert set(UI_KINDS) == set(KINDS)
    assert set(KIND_SAMPLES) == set(KINDS)
    assert {f.kind for f in F.FIELDS} <= set(KINDS)


def test_filters_and_dimensions_are_list_valued_customer_columns():
    for f in F.filter_fields() + F.dimension_fields():
        assert kind_of(f).listed and UI_KINDS[f.kind].filter_options, f.name
        assert f.storage == "customer", f.name


def _rendered_labels(at) -> set[str]:
    labels = set()
    for kind in ("text_input", "text_area", "selectbox", "date_input", "number_input", "multiselect", "checkbox", "radio"):
        labels |= {w.label for w in getattr(at, kind)}
    return labels


@pytest.mark.parametrize("lang", LANGS)
def test_every_field_appears_in_the_rendered_form(db, db_path, lang):
    at = make_app(db_path, "admin", lang=lang)
    open_page(at, "new_customer").run()
    assert not at.exception
    groups = {m.value.removeprefix("##### ") for m in at.markdown}
    assert MESSAGES["form.group.custom"][lang] not in groups  # no custom fields: no empty group
    admin = db.actor("admin", "admin")
    for kind in custom_fields.CUSTOM_KINDS:  # and with a custom field of every kind
        custom_fields.add_field(db, admin, key=f"form_{kind}", label_zh=f"表单{kind}", label_en=f"Form {kind}",
                                kind=kind, edit_roles=["admin"], choices=[("甲", "A")] if kind == "choice" else ())
    at.run()
    assert not at.exception
    labels = _rendered_labels(at)
    missing = [f.name for f in F.declared() if f.label(lang) not in labels and f"{f.label(lang)} *" not in labels]
    assert missing == []
    keys = {w.key for kind in ("text_input", "text_area", "selectbox", "date_input") for w in getattr(at, kind)}
    assert {f"nc_{f.name}" for f in F.declared()} <= keys
    groups = {m.value.removeprefix("##### ") for m in at.markdown}
    assert {MESSAGES[f"form.group.{g}"][lang] for g in F.GROUPS} <= groups


def test_the_filter_panel_offers_exactly_the_filter_fields(db, db_path, make_customer):
    make_customer()
    at = make_app(db_path, "admin", lang="en")
    open_page(at, "customers").run()
    assert not at.exception
    open_filters(at, "customers")
    offered = {w.key.removeprefix("flt_"): w.label for w in at.multiselect}
    assert offered == {f.name: f.label("en") for f in F.filter_fields()}


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
