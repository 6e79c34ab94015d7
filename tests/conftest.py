"""Shared fixtures: a fresh DuckDB file per test, users for every role, factories."""
from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Cheap bcrypt in tests; production keeps the default cost of 12.
os.environ.setdefault("CM_BCRYPT_ROUNDS", "4")

from lib.customers import customer as cs  # noqa: E402
from lib.accounts import users  # noqa: E402
from lib.core.db import Database  # noqa: E402

TEST_PASSWORD = "test-password-123"

# AppTest runs app.py as a module it installs as sys.modules["__main__"] and leaves
# there; a multiprocessing "spawn" worker started later (lib.ops.demo.loader) would then re-run
# that script instead of pytest's main. Put the real one back after every test.
_PYTEST_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _restore_main_module():
    yield
    sys.modules["__main__"] = _PYTEST_MAIN


@pytest.fixture(autouse=True)
def _builtin_declaration():
    """A test that installed a database's custom fields leaves the next test the
    built-in declaration (the process-wide declaration follows the open database)."""
    yield
    from lib.customers import fields as F

    F.install()
ROLES = {"admin": "admin", "manager": "manager", "sales": "sales", "sales2": "sales", "viewer": "viewer"}


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "test.duckdb"


@pytest.fixture
def db(db_path):
    database = Database(db_path)
    for username, role in ROLES.items():
        users.create_user(database, None, username, username.title(), role, TEST_PASSWORD)
    yield database
    database.close()


@pytest.fixture
def actors(db):
    """Actors by username: admin, manager, sales, sales2, viewer."""
    return {name: db.actor(name, role, name.title()) for name, role in ROLES.items()}


_seq = itertools.count(1)


def customer_values(**overrides) -> dict:
    """Valid input for a new customer; override any field."""
    n = next(_seq)
    values = {
        "name": f"测试客户{n}有限公司",
        "customer_type": "company",
        "phone": f"1380013{n % 10000:04d}",
        "industry": "C",
        "tier": "C",
        "status": "active",
        "region": "440000",
    }
    values.update(overrides)
    return values


@pytest.fixture
def make_customer(db, actors):
    """make_customer(actor="manager", **field_overrides) -> stored record."""

    def make(actor: str = "manager", confirm=(), **overrides):
        return cs.create_customer(db, actors[actor], customer_values(**overrides), confirm=confirm)

    return make


@pytest.fixture
def downloads(monkeypatch):
    """file name -> the callable each download button of an AppTest run would run when
    clicked (its data is produced when clicked; AppTest has no browser to click it)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    served: dict[str, object] = {}
    original = MediaFileManager.add_deferred

    def capture(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        served[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    return served
