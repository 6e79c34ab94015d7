"""Permissions are data: the role_permissions table decides, the service layer enforces."""
from __future__ import annotations

from decimal import Decimal

import pytest

from lib.customers import customer as cs
from lib.accounts import permissions as perm
from lib.core.errors import NotFound, PermissionDenied
from lib.accounts.permissions import Actor, can
from tests.conftest import customer_values


def count_customers(db):
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM customers").fetchone()[0]


# -- viewer ------------------------------------------------------------------------------------
def test_viewer_reads_but_cannot_create_update_or_archive(db, actors, make_customer):
    rec = make_customer(actor="manager")
    viewer = actors["viewer"]
    assert cs.get_customer(db, viewer, rec["id"])["code"] == rec["code"]
    before = count_customers(db)
    with pytest.raises(PermissionDenied) as ei:
        cs.create_customer(db, viewer, customer_values())
    assert ei.value.params["action"] == perm.CUSTOMER_CREATE
    assert count_customers(db) == before
    with pytest.raises(PermissionDenied):
        cs.update_customer(db, viewer, rec["id"], {"notes": "x"}, rec["version"])
    with pytest.raises(PermissionDenied):
        cs.archive_customer(db, viewer, rec["id"], rec["version"])
    with pytest.raises(PermissionDenied):
        cs.restore_customer(db, viewer, rec["id"], rec["version"])
    assert cs.get_customer(db, viewer, rec["id"])["version"] == 1


def test_no_actor_may_do_nothing(db, make_customer):
    rec = make_customer()
    assert not can(None, perm.CUSTOMER_READ)
    with pytest.raises(PermissionDenied):
        cs.create_customer(db, None, customer_values())
    with pytest.raises(NotFound):
        cs.get_customer(db, None, rec["id"])


def test_unknown_role_has_no_rights(db, make_customer):
    rec = make_customer()
    ghost = db.actor("ghost", "no-such-role")
    with pytest.raises(PermissionDenied):
        cs.create_customer(db, ghost, customer_values())
    with pytest.raises(NotFound):
        cs.get_customer(db, ghost, rec["id"])


# -- sales: own customers only ----------------------------------------------------------------
def test_sales_works_on_own_customers(db, actors, make_customer):
    rec = make_customer(actor="sales")
    assert rec["owner"] == "sales"
    sales = actors["sales"]
    assert cs.get_customer(db, sales, rec["id"])["id"] == rec["id"]
    v2 = cs.update_customer(db, sales, rec["id"], {"notes": "mine"}, rec["version"])
    v3 = cs.archive_customer(db, sales, rec["id"], v2["version"])
    v4 = cs.restore_customer(db, sales, rec["id"], v3["version"])
    assert v4["version"] == 4 and len(cs.history(db, sales, rec["id"])) == 4


def test_others_customers_look_missing_to_sales(db, actors, make_customer):
    theirs = make_customer(actor="sales2")
    sales = actors["sales"]
    missing_id = 999_999
    for call in (
        lambda cid: cs.get_customer(db, sales, cid),
        lambda cid: cs.update_customer(db, sales, cid, {"notes": "mine now"}, 1),
        lambda cid: cs.archive_customer(db, sales, cid, 1),
        lambda cid: cs.restore_customer(db, sales, cid, 1),
        lambda cid: cs.history(db, sales, cid),
    ):
        with pytest.raises(NotFound) as hidden:
            call(theirs["id"])
        with pytest.raises(NotFound) as missing:
            call(missing_id)
        # the same answer as for an id that does not exist: nothing leaks
        assert hidden.value.key == missing.value.key
        assert set(hidden.value.params) == set(missing.value.params)
        assert not hasattr(hidden.value, "current") or not hidden.value.current
    after = cs.get_customer(db, actors["manager"], theirs["id"])
    assert (after["notes"], after["version"], after["archived"]) == (None, 1, False)


def test_sales_may_not_read_others_customers_even_with_a_stale_version(db, actors, make_customer):
    # A version conflict on someone else's customer would reveal who changed it and when.
    theirs = make_customer(actor="sales2")
    cs.update_customer(db, actors["sales2"], theirs["id"], {"notes": "x"}, 1)
    with pytest.raises(NotFound):
        cs.update_customer(db, actors["sales"], theirs["id"], {"notes": "y"}, 1)


@pytest.mark.parametrize("field, value", [("credit_limit", "5000"), ("owner", "sales2")])
def test_sales_cannot_set_rights_fields_on_create(db, actors, field, value):
    before = count_customers(db)
    with pytest.raises(PermissionDenied) as ei:
        cs.create_customer(db, actors["sales"], customer_values(**{field: value}))
    assert ei.value.key == "error.field_permission"
    assert ei.value.params == {"field": field}
    assert {"credit_limit": "信用额度", "owner": "负责人"}[field] in ei.value.translate("zh")
    assert count_customers(db) == before


@pytest.mark.parametrize("field, value", [("credit_limit", "5000"), ("owner", "sales2"), ("owner", "manager")])
def test_sales_cannot_change_rights_fields_on_update(db, actors, make_customer, field, value):
    rec = make_customer(actor="sales")
    with pytest.raises(PermissionDenied) as ei:
        cs.update_customer(db, actors["sales"], rec["id"], {field: value}, rec["version"])
    assert ei.value.params == {"field": field}
    after = cs.get_customer(db, actors["sales"], rec["id"])
    assert (after["credit_limit"], after["owner"], after["version"]) == (None, "sales", 1)


def test_sales_may_name_themselves_owner_and_resend_unchanged_credit(db, actors, make_customer):
    rec = cs.create_customer(db, actors["sales"], customer_values(owner="sales"))
    assert rec["owner"] == "sales"
    managed = cs.create_customer(db, actors["manager"], customer_values(owner="sales", credit_limit="800"))
    # a grid row sends every column back: unchanged rights fields are no change
    new = cs.update_customer(db, actors["sales"], managed["id"],
                             {"credit_limit": "800.00", "owner": "sales", "notes": "n"}, managed["version"])
    assert (new["credit_limit"], new["notes"]) == (Decimal("800.00"), "n")


def test_managers_set_credit_and_owner(db, actors, make_customer):
    rec = cs.create_customer(db, actors["manager"], customer_values(credit_limit="5000", owner="sales2"))
    assert (rec["credit_limit"], rec["owner"]) == (Decimal("5000.00"), "sales2")
    v2 = cs.update_customer(db, actors["manager"], rec["id"], {"credit_limit": "7,000", "owner": "sales"},
                            rec["version"])
    assert (v2["credit_limit"], v2["owner"]) == (Decimal("7000.00"), "sales")
    # the customer moved: the new owner sees it, the old one no longer does
    assert cs.get_customer(db, actors["sales"], rec["id"])["id"] == rec["id"]
    with pytest.raises(NotFound):
        cs.get_customer(db, actors["sales2"], rec["id"])


def test_owner_must_be_an_active_user(db, actors):
    from lib.core.errors import ValidationError

    with pytest.raises(ValidationError) as ei:
        cs.create_customer(db, actors["manager"], customer_values(owner="nobody"))
    assert ei.value.problems[0].key == "validation.unknown_user"


# -- the table is what is enforced ------------------------------------------------------------
def set_permission(db, role, action, scope):
    with db.transaction() as cur:
        cur.execute("DELETE FROM role_permissions WHERE role = ? AND action = ?", [role, action])
        if scope is not None:
            cur.execute("INSERT INTO role_permissions VALUES (?, ?, ?, 99)", [role, action, scope])
    db.invalidate()


# The permission table a new database gets, written out: who may do what is a decision,
# and changing it is a migration (lib/core/seeds/) that must change this table too.
_PAGES_ALL = {perm.PAGE_HOME: "all", perm.PAGE_CUSTOMERS: "all", perm.PAGE_ANALYTICS: "all", perm.PAGE_ACCOUNT: "all",
              perm.PAGE_CUSTOMER: "all"}
_MANAGER = {
    perm.CUSTOMER_READ: "all", perm.CUSTOMER_CREATE: "all", perm.CUSTOMER_UPDATE: "all",
    perm.CUSTOMER_ARCHIVE: "all", perm.ANALYTICS_VIEW: "all", perm.CUSTOMER_SET_CREDIT: "all",
    perm.CUSTOMER_SET_OWNER: "all", perm.CUSTOMER_SET_ACCESS_LEVEL: "all", perm.AUDIT_VIEW: "all", perm.PAGE_NEW_CUSTOMER: "all",
    perm.FOLLOWUP_EDIT_ANY: "all", perm.CAMPAIGN_RUN: "all", perm.CUSTOMER_IMPORT: "all", perm.PAGE_IMPORT: "all",
    perm.CUSTOMER_MERGE: "all", perm.PAGE_DUPLICATES: "all", perm.CUSTOMER_EXPORT: "all", **_PAGES_ALL,
}
EXPECTED = {
    "admin": {**_MANAGER, perm.USERS_MANAGE: "all", perm.BACKUP_RUN: "all", perm.PAGE_ADMIN: "all",
              perm.SETTINGS_MANAGE: "all", perm.LISTS_MANAGE: "all", perm.AUDIT_VIEW_LOG: "all",
              perm.FIELDS_MANAGE: "all"},
    "manager": _MANAGER,
    "sales": {
        perm.CUSTOMER_READ: "own", perm.CUSTOMER_CREATE: "all", perm.CUSTOMER_UPDATE: "own",
        perm.CUSTOMER_ARCHIVE: "own", perm.ANALYTICS_VIEW: "own", perm.AUDIT_VIEW: "own",
        perm.CUSTOMER_EXPORT: "own", perm.PAGE_NEW_CUSTOMER: "all", perm.PAGE_DUPLICATES: "all", **_PAGES_ALL,
    },
    "viewer": {perm.CUSTOMER_READ: "all", perm.ANALYTICS_VIEW: "all", perm.AUDIT_VIEW: "all", **_PAGES_ALL},
}


def test_a_new_database_has_the_decided_table(db):
    assert db.permissions() == EXPECTED
    assert list(db.roles()) == ["admin", "manager", "sales", "viewer"]
    assert db.roles()["viewer"] == {"label_zh": "只读用户", "label_en": "Viewer"}


def _action_constants() -> dict[str, str]:
    return {name: value for name, value in vars(perm).items()
            if name.isupper() and isinstance(value, str) and "." in value}


def _checked_constants() -> set[str]:
    """Names of the action constants that code outside lib/accounts/permissions.py passes
    to a check: can/require/sees_only_own/where_clause, a field's ``write_permission``,
    or a page's entry in the page registry (the router and page_context check those)."""
    import ast

    from tests.conftest import ROOT

    checks = {"can", "require", "sees_only_own", "where_clause", "NavPage"}
    found: set[str] = set()
    files = [*ROOT.joinpath("lib").rglob("*.py"), *ROOT.joinpath("ui").rglob("*.py"),
             *ROOT.joinpath("pages").rglob("*.py"), ROOT / "app.py"]
    for path in files:
        if path.name == "permissions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in checks:
                args = [*node.args, *(kw.value for kw in node.keywords)]
            else:
                args = [kw.value for kw in node.keywords if kw.arg == "write_permission"]
            for arg in args:
                for sub in ast.walk(arg):
                    if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "perm":
                        found.add(sub.attr)
                    elif isinstance(sub, ast.Name):
                        found.add(sub.id)
    return found


def test_every_action_in_the_table_is_checked_somewhere(db):
    constants = _action_constants()
    by_value = {v: k for k, v in constants.items()}
    in_table = {action for actions in db.permissions().values() for action in actions}
    # every action of the table is named in code ...
    assert sorted(in_table - set(by_value)) == []
    # ... and the constant naming it is passed to a check
    checked = _checked_constants()
    assert sorted(by_value[a] for a in in_table if by_value[a] not in checked) == []
    # and no constant names an action the table does not have
    assert sorted(set(by_value) - in_table) == []


def test_the_checked_scan_sees_what_it_should():
    checked = _checked_constants()
    # a require(), a field's write_permission, a where_clause scope, a page registry entry
    assert {"CUSTOMER_CREATE", "CUSTOMER_SET_CREDIT", "ANALYTICS_VIEW", "PAGE_ACCOUNT"} <= checked
    # a constant that is only mentioned (demo data reads scopes to pick owners) is not a check
    assert "ALL" not in checked


def test_roles_users_and_permissions_refer_to_the_roles_table(db):
    import duckdb

    from lib.accounts import users
    from lib.core.errors import ValidationError

    with pytest.raises(ValidationError) as ei:
        users.create_user(db, None, "newbie", "New", "superuser", "a-long-password-1")
    assert ei.value.field == "role"
    with db.transaction() as cur:
        cur.execute("INSERT INTO roles VALUES ('auditor', '审计', 'Auditor', 4)")
    db.invalidate("roles")
    assert users.create_user(db, None, "newbie", "New", "auditor", "a-long-password-1").role == "auditor"
    with pytest.raises(duckdb.ConstraintException), db.transaction() as cur:
        cur.execute("INSERT INTO role_permissions VALUES ('superuser', 'customer.read', 'all', 0)")
    with pytest.raises(duckdb.ConstraintException), db.transaction() as cur:
        cur.execute("DELETE FROM roles WHERE code = 'auditor'")  # still has a user


def test_history_needs_audit_view_with_the_read_scope(db, actors, make_customer):
    own = make_customer(actor="sales")
    theirs = make_customer(actor="sales2")
    assert [e["action"] for e in cs.history(db, actors["sales"], own["id"])] == ["create"]
    with pytest.raises(NotFound):
        cs.history(db, actors["sales"], theirs["id"])
    assert cs.history(db, actors["viewer"], theirs["id"])
    assert cs.history(db, actors["manager"], theirs["id"])
    set_permission(db, "viewer", perm.AUDIT_VIEW, None)
    with pytest.raises(PermissionDenied) as ei:
        cs.history(db, db.actor("viewer", "viewer"), theirs["id"])
    assert ei.value.params["action"] == perm.AUDIT_VIEW
    # reading the customer stays allowed
    assert cs.get_customer(db, db.actor("viewer", "viewer"), theirs["id"])["id"] == theirs["id"]


def test_every_role_has_a_page(db):
    from ui import nav

    for role in db.roles():
        actor = db.actor("x", role)
        assert [p for p in nav.PAGES if can(actor, p.action)], f"role {role} has no page"


def test_granting_a_row_changes_behaviour(db, make_customer):
    rec = make_customer(actor="manager")
    with pytest.raises(PermissionDenied):
        cs.create_customer(db, db.actor("viewer", "viewer"), customer_values())
    set_permission(db, "viewer", perm.CUSTOMER_CREATE, "all")
    set_permission(db, "viewer", perm.CUSTOMER_UPDATE, "all")
    viewer = db.actor("viewer", "viewer")
    created = cs.create_customer(db, viewer, customer_values())
    assert created["owner"] == "viewer"
    assert cs.update_customer(db, viewer, rec["id"], {"notes": "v"}, rec["version"])["notes"] == "v"


def test_revoking_a_row_changes_behaviour(db, make_customer):
    set_permission(db, "manager", perm.CUSTOMER_SET_CREDIT, None)
    manager = db.actor("manager", "manager")
    with pytest.raises(PermissionDenied) as ei:
        cs.create_customer(db, manager, customer_values(credit_limit="1"))
    assert ei.value.params == {"field": "credit_limit"}
    assert cs.create_customer(db, manager, customer_values(owner="sales"))["owner"] == "sales"


def test_widening_a_scope_changes_behaviour(db, actors, make_customer):
    theirs = make_customer(actor="sales2")
    with pytest.raises(NotFound):
        cs.get_customer(db, db.actor("sales", "sales"), theirs["id"])
    set_permission(db, "sales", perm.CUSTOMER_READ, "all")
    sales = db.actor("sales", "sales")
    assert cs.get_customer(db, sales, theirs["id"])["id"] == theirs["id"]
    # reading is not updating: the update scope is still "own"
    with pytest.raises(PermissionDenied):
        cs.update_customer(db, sales, theirs["id"], {"notes": "x"}, theirs["version"])


def test_permissions_are_cached_until_invalidated(db):
    assert db.actor("sales", "sales").scope(perm.CUSTOMER_UPDATE) == "own"
    with db.transaction() as cur:
        cur.execute("UPDATE role_permissions SET scope = 'all' WHERE role = 'sales' AND action = ?",
                    [perm.CUSTOMER_UPDATE])
    assert db.actor("sales", "sales").scope(perm.CUSTOMER_UPDATE) == "own"
    db.invalidate("permissions")
    assert db.actor("sales", "sales").scope(perm.CUSTOMER_UPDATE) == "all"


def test_scope_column_only_allows_all_or_own(db):
    import duckdb

    with pytest.raises(duckdb.ConstraintException), db.transaction() as cur:
        cur.execute("INSERT INTO role_permissions VALUES ('viewer', 'customer.create', 'everything', 50)")


# -- the pure functions ------------------------------------------------------------------------
def test_can_with_scopes():
    sales = Actor("sales", "sales", permissions={perm.CUSTOMER_UPDATE: "own", perm.CUSTOMER_READ: "all"})
    assert can(sales, perm.CUSTOMER_UPDATE, {"owner": "sales"})
    assert not can(sales, perm.CUSTOMER_UPDATE, {"owner": "other"})
    assert not can(sales, perm.CUSTOMER_UPDATE, {})
    assert can(sales, perm.CUSTOMER_UPDATE)  # "on anything at all": show the button
    assert can(sales, perm.CUSTOMER_READ, {"owner": "other"})
    assert not can(sales, perm.CUSTOMER_ARCHIVE, {"owner": "sales"})
    assert perm.sees_only_own(Actor("s", "sales", permissions={perm.CUSTOMER_READ: "own"}))
    assert not perm.sees_only_own(sales)


def test_role_labels_for_the_ui_come_from_the_roles_table(db, db_path, monkeypatch):
    from ui import context

    monkeypatch.setenv("CM_DB_PATH", str(db_path))
    assert context.role_label("viewer", "zh") == "只读用户"
    assert context.role_label("viewer", "en") == "Viewer"
    assert context.role_label("nobody", "en") == "nobody"
    with db.transaction() as cur:
        cur.execute("UPDATE roles SET label_en = 'Read-only' WHERE code = 'viewer'")
    context.database().invalidate("roles")
    assert context.role_label("viewer", "en") == "Read-only"


# -- refusals the pages surface are recorded --------------------------------------------------
# Calls that record a PermissionDenied in the audit log (ui.context.note_refusal and
# note_denial, ui.shell.show_error, audit_log.record_denial).
_RECORDERS = {"note_refusal", "note_denial", "show_error", "record_denial"}
# Handlers that catch service errors where no user was refused anything: (file, function).
_NO_USER = {
    ("ui/downloads.py", "backup_run"),  # the cron request: a token, not a user; backup_into(actor=None)
}


def _own_nodes(fn):
    """The nodes of a function's body, not those of functions defined inside it."""
    import ast

    todo = list(ast.iter_child_nodes(fn))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def _unrecorded_refusals() -> list[str]:
    """Every ``except`` in ui/ and pages/ that would catch a ``PermissionDenied`` (by that
    name or as ``CustomerMasterError``) and neither records it nor raises it on."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted([*root.glob("ui/*.py"), *root.glob("pages/*.py"), root / "app.py"]):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for fn in functions:
            if (rel, fn.name) in _NO_USER:
                continue
            for node in _own_nodes(fn):
                if not isinstance(node, ast.Try):
                    continue
                for handler in node.handlers:
                    names = {n.id for n in ast.walk(handler.type) if isinstance(n, ast.Name)} if handler.type else set()
                    if not names & {"PermissionDenied", "CustomerMasterError"}:
                        continue
                    calls = {c.func.id if isinstance(c.func, ast.Name) else c.func.attr
                             for c in ast.walk(handler) if isinstance(c, ast.Call)
                             and isinstance(c.func, (ast.Name, ast.Attribute))}
                    raises_on = any(isinstance(r, ast.Raise) and r.exc is None for r in ast.walk(handler))
                    if not (calls & _RECORDERS or raises_on):
                        found.append(f"{rel}:{handler.lineno} ({fn.name})")
                    break  # the first handler that catches a PermissionDenied is the one that runs
    return sorted(set(found))


def test_every_refusal_a_page_catches_is_recorded():
    assert _unrecorded_refusals() == []


def _unchecked_callbacks() -> list[str]:
    """Every button or input in ui/ and pages/ whose callback is given the page context
    (``args=(ctx, ...)``) but is not a function of that module decorated with
    ``ui.auth.as_live_user``: it would run with the actor of the run that drew it."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted([*root.glob("ui/*.py"), *root.glob("pages/*.py")]):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        live = {fn.name for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                and any(isinstance(d, ast.Name) and d.id == "as_live_user" for d in fn.decorator_list)}
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            kw = {k.arg: k.value for k in call.keywords}
            args = kw.get("args")
            if not (isinstance(args, ast.Tuple) and args.elts and isinstance(args.elts[0], ast.Name)
                    and args.elts[0].id == "ctx"):
                continue
            for name in ("on_click", "on_change"):
                callback = kw.get(name)
                if callback is not None and not (isinstance(callback, ast.Name) and callback.id in live):
                    found.append(f"{rel}:{call.lineno} {ast.unparse(callback)}")
    return found


def test_every_callback_given_the_page_context_checks_the_user_again():
    assert _unchecked_callbacks() == []
