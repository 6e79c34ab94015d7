"""Permissions as data: role -> action -> scope.

The ``roles`` and ``role_permissions`` tables decide (``Database.roles()``,
``Database.permissions()``); their rows are seeded and changed by migrations
(``lib/core/seeds/``). The service layer asks ``can(actor, action, record)`` and
raises ``PermissionDenied`` through ``require``; pages only hide what the service would
refuse anyway. Every action below is checked by some code (tests/test_permissions.py
proves it); an action nothing checks is not in the table.

Scope ``all`` applies to every customer; scope ``own`` only to customers whose
``owner`` is the actor.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from lib.core.errors import PermissionDenied

ALL = "all"
OWN = "own"

# Actions on customers.
CUSTOMER_READ = "customer.read"
CUSTOMER_CREATE = "customer.create"
CUSTOMER_UPDATE = "customer.update"
CUSTOMER_ARCHIVE = "customer.archive"  # archive and restore
CUSTOMER_SET_CREDIT = "customer.set_credit_limit"
CUSTOMER_SET_OWNER = "customer.set_owner"
CUSTOMER_SET_ACCESS_LEVEL = "customer.set_access_level"
ANALYTICS_VIEW = "analytics.view"
USERS_MANAGE = "users.manage"
# Add, rename, reorder, retire and bring back reference list items (lib.customers.reference_admin).
LISTS_MANAGE = "lists.manage"
BACKUP_RUN = "backup.run"
AUDIT_VIEW = "audit.view"  # a customer's history (scope as for reading the customer)
# The whole audit log: every entry, filtered, paged and exported (lib.accounts.audit_log).
AUDIT_VIEW_LOG = "audit.view_log"
# Change, remove or mark done any follow-up of a customer one may update, not only
# one's own (authors and assignees may always); lib.customers.followups.
FOLLOWUP_EDIT_ANY = "followup.edit_any"
CAMPAIGN_RUN = "campaign.run"  # a care campaign over a search (lib.customers.campaigns)
CUSTOMER_IMPORT = "customer.import"  # customers from a file (lib.customers.importing)
CUSTOMER_MERGE = "customer.merge"  # merge duplicates into one customer (lib.customers.merge)
# Export a search as CSV / XLSX (lib.customers.export); scope ``own``: one's own customers.
CUSTOMER_EXPORT = "customer.export"
SETTINGS_MANAGE = "settings.manage"  # the administration page's settings (lib.core.settings)
FIELDS_MANAGE = "fields.manage"  # fields an administrator adds to the customer (lib.customers.custom_fields)

# Pages are actions too, so the router's page list is data like everything else
# (``ui/nav.py`` names each page's action).
PAGE_HOME = "page.home"  # what to do today: every role's landing page
PAGE_CUSTOMERS = "page.customers"
PAGE_NEW_CUSTOMER = "page.new_customer"
PAGE_ANALYTICS = "page.analytics"
PAGE_ACCOUNT = "page.account"
PAGE_CUSTOMER = "page.customer"  # one customer's page (客户档案), opened by its code
PAGE_IMPORT = "page.import"  # the import wizard
PAGE_DUPLICATES = "page.duplicates"  # groups of likely duplicates, and merging them
PAGE_ADMIN = "page.admin"  # administration: users, reference lists (and the sections issue 10 adds)

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
