"""Permissions as data: role -> action -> scope.

The seed below is written into the ``role_permissions`` table by the migrations; at run
time the table is the source of truth (``Database.permissions()``). The service layer
asks ``can(actor, action, record)`` and raises ``PermissionDenied`` through
``require``; pages only hide what the service would refuse anyway.

Scope ``all`` applies to every customer; scope ``own`` only to customers whose
``owner`` is the actor.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from lib.core.errors import PermissionDenied

ALL = "all"
OWN = "own"

# Actions on customers and everything filed under them (contacts, records, files).
CUSTOMER_READ = "customer.read"
CUSTOMER_CREATE = "customer.create"
CUSTOMER_UPDATE = "customer.update"
CUSTOMER_ARCHIVE = "customer.archive"  # archive and restore
CUSTOMER_ADD_RECORD = "customer.add_record"
CUSTOMER_SET_CREDIT = "customer.set_credit_limit"
CUSTOMER_SET_OWNER = "customer.set_owner"
CUSTOMER_EXPORT = "customer.export"
ANALYTICS_VIEW = "analytics.view"
USERS_MANAGE = "users.manage"
SETTINGS_MANAGE = "settings.manage"
BACKUP_RUN = "backup.run"
AUDIT_VIEW = "audit.view"

# Pages are actions too, so the router's page list is data like everything else.
PAGE_CUSTOMERS = "page.customers"
PAGE_NEW_CUSTOMER = "page.new_customer"
PAGE_ANALYTICS = "page.analytics"
PAGE_ACCOUNT = "page.account"
PAGE_ADMIN = "page.admin"

_SALES = {
    CUSTOMER_READ: OWN,
    CUSTOMER_CREATE: ALL,
    CUSTOMER_UPDATE: OWN,
    CUSTOMER_ARCHIVE: OWN,
    CUSTOMER_ADD_RECORD: OWN,
    ANALYTICS_VIEW: OWN,
    PAGE_CUSTOMERS: ALL,
    PAGE_NEW_CUSTOMER: ALL,
    PAGE_ANALYTICS: ALL,
    PAGE_ACCOUNT: ALL,
}
_MANAGER = {
    **{a: ALL for a in _SALES},
    CUSTOMER_SET_CREDIT: ALL,
    CUSTOMER_SET_OWNER: ALL,
    CUSTOMER_EXPORT: ALL,
}
_ADMIN = {
    **_MANAGER,
    USERS_MANAGE: ALL,
    SETTINGS_MANAGE: ALL,
    BACKUP_RUN: ALL,
    AUDIT_VIEW: ALL,
    PAGE_ADMIN: ALL,
}
_VIEWER = {
    CUSTOMER_READ: ALL,
    ANALYTICS_VIEW: ALL,
    PAGE_CUSTOMERS: ALL,
    PAGE_ANALYTICS: ALL,
    PAGE_ACCOUNT: ALL,
}

SEED: dict[str, dict[str, str]] = {
    "admin": _ADMIN,
    "manager": _MANAGER,
    "sales": _SALES,
    "viewer": _VIEWER,
}

ROLE_NAMES = tuple(SEED)

PermissionTable = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Actor:
    """Who is acting: the logged-in user as the service layer sees it."""

    username: str
    role: str
    display_name: str = ""
    # Filled from the database by ``Database.actor()``; tests may pass their own.
    permissions: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def scope(self, action: str) -> str | None:
        return self.permissions.get(action)


def can(actor: Actor | None, action: str, record: Mapping | None = None) -> bool:
    """May ``actor`` do ``action`` (on ``record``, a mapping with an ``owner`` key)?

    With ``record=None`` the question is "on anything at all" (e.g. to show a button)."""
    if actor is None:
        return False
    scope = actor.scope(action)
    if scope == ALL:
        return True
    if scope == OWN:
        return record is None or record.get("owner") == actor.username
    return False


def require(actor: Actor | None, action: str, record: Mapping | None = None) -> None:
    if not can(actor, action, record):
        raise PermissionDenied(
            "error.permission_denied",
            action=action,
            code=(record or {}).get("code", ""),
        )


def sees_only_own(actor: Actor, action: str = CUSTOMER_READ) -> bool:
    """True when searches and aggregates must be limited to the actor's customers."""
    return actor.scope(action) != ALL


def pages_for(actor: Actor | None) -> list[str]:
    """The page actions this actor may open, in the table's order."""
    if actor is None:
        return []
    return [a for a, s in actor.permissions.items() if a.startswith("page.") and s]
