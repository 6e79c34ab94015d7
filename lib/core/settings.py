"""The settings an administrator may change, declared once: each one's kind, default,
bounds and group. The administration page draws its form from ``SETTINGS``; every
reader asks ``value(db, key)``, which gives the typed value (the stored one, else the
default); ``update(db, actor, values)`` validates, writes and audits a change.

The ``settings`` table holds the values (``Database.settings()`` reads and caches it);
this module is the only one that writes it after the migrations' seeds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from lib.accounts import permissions as perm
from lib.core import audit
from lib.core.errors import FieldProblem, ValidationError

INT, TEXT, BOOL = "int", "text", "bool"


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str  # INT, TEXT or BOOL
    default: str  # as stored: text
    group: str  # the form's section: codes, customers, files, login, sessions
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None  # TEXT: the whole value must match

    @property
    def label_key(self) -> str:
        return f"setting.{self.key}"

    @property
    def help_key(self) -> str:
        return f"setting_help.{self.key}"


SETTINGS: tuple[Setting, ...] = (
    # New customer codes (C2026-000123): old codes never change.
    Setting("code_prefix", TEXT, "C", "codes", pattern=r"[A-Z]{1,4}"),
    Setting("code_width", INT, "6", "codes", 4, 10),
    Setting("code_with_year", BOOL, "1", "codes"),
    # A customer not reviewed for this many days is due (home page, quality hints).
    Setting("review_days", INT, "180", "customers", 7, 3650),
    Setting("campaign_max_customers", INT, "5000", "customers", 1, 50000),
    # Contract files. Streamlit's own upload limit (.streamlit/config.toml
    # server.maxUploadSize = 25) caps what the browser may send.
    Setting("upload_max_mb", INT, "20", "files", 1, 25),
    # Failed logins (lib.accounts.users.DelayRules).
    Setting("lockout_attempts", INT, "5", "login", 3, 20),
    Setting("lockout_minutes", INT, "15", "login", 1, 1440),
    Setting("login_delay_seconds", INT, "30", "login", 1, 600),
    # Login sessions, enforced on the server (lib.accounts.sessions.is_active).
    Setting("session_idle_minutes", INT, "60", "sessions", 5, 1440),
    Setting("session_max_hours", INT, "12", "sessions", 1, 720),
)
BY_KEY = {s.key: s for s in SETTINGS}
GROUPS = ("codes", "customers", "files", "login", "sessions")


def _typed(setting: Setting, raw: str) -> int | str | bool:
    if setting.kind == INT:
        return int(raw)
    if setting.kind == BOOL:
        return raw == "1"
    return raw


def value(db, key: str) -> int | str | bool:
    """The typed value of setting ``key``: the stored one if it is valid, else the default."""
    setting = BY_KEY[key]
    raw = db.settings().get(key)
    if raw is not None and _problem(setting, raw) is None:
        return _typed(setting, raw)
    return _typed(setting, setting.default)


def values(db) -> dict[str, int | str | bool]:
    return {s.key: value(db, s.key) for s in SETTINGS}


def _stored(setting: Setting, given: Any) -> str:
    """``given`` (from a form: int, bool or text) as the table stores it."""
    if setting.kind == BOOL:
        return "1" if given in (True, "1", 1, "true") else "0"
    return str(given).strip()


def _fp(field: str, key: str, **params: Any) -> FieldProblem:
    return FieldProblem(field, key, params)


def _problem(setting: Setting, raw: str) -> FieldProblem | None:
    if setting.kind == INT:
        if not re.fullmatch(r"-?\d{1,9}", raw):
            return _fp(setting.key, "validation.not_integer")
        n = int(raw)
        if not setting.minimum <= n <= setting.maximum:
            return _fp(setting.key, "validation.setting_range", min=setting.minimum, max=setting.maximum)
    elif setting.kind == TEXT and setting.pattern and not re.fullmatch(setting.pattern, raw):
        return _fp(setting.key, f"validation.setting_pattern.{setting.key}")
    elif setting.kind == BOOL and raw not in ("0", "1"):
        return _fp(setting.key, "validation.invalid")
    return None


def update(db, actor, given: Mapping[str, Any]) -> dict[str, list[str]]:
    """Store the settings in ``given`` (key -> value) that differ from the stored ones,
    all or none: every problem is reported at once (``ValidationError``). One audit
    entry lists each change as [before, after]. Returns those changes."""
    perm.require(actor, perm.SETTINGS_MANAGE)
    unknown = [k for k in given if k not in BY_KEY]
    if unknown:
        raise ValidationError([_fp(k, "validation.invalid") for k in unknown])
    stored = {k: _stored(BY_KEY[k], v) for k, v in given.items()}
    problems = [p for k, raw in stored.items() if (p := _problem(BY_KEY[k], raw)) is not None]
    if problems:
        raise ValidationError(problems)

    def work(cur) -> dict[str, list[str]]:
        now = dict(cur.execute("SELECT key, value FROM settings").fetchall())
        changes = {k: [now.get(k, BY_KEY[k].default), raw] for k, raw in stored.items()
                   if now.get(k, BY_KEY[k].default) != raw}
        for key, (_, raw) in changes.items():
            cur.execute("INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [key, raw])
        if changes:
            audit.append(cur, actor=actor.username, action="settings.update", entity="settings", changes=changes)
        return changes

    changes = db.run_in_transaction(work)
    db.invalidate("settings")
    return changes
