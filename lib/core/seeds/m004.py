"""The rows migration 4 changes (frozen, like every migration's seeds: see m001).

* Roles get a display order (for the command line and the administration lists).
* The permission table keeps only actions that some code checks: the ones below were
  seeded by migration 1 but nothing enforced them; the feature that checks one adds it
  back with a migration of its own (export and import, the administration page).
* ``audit.view`` (a customer's history) is granted with the same scope as reading the
  customer: salespeople see the history of their own customers, managers and viewers of
  all (admins had it already).
"""

# (code, ordinal)
ROLE_ORDER = [
    ("admin", 0),
    ("manager", 1),
    ("sales", 2),
    ("viewer", 3),
]

REMOVED_ACTIONS = [
    "customer.add_record",
    "customer.export",
    "settings.manage",
    "page.admin",
]

# (role, action, scope, ordinal)
ADDED_PERMISSIONS = [
    ("manager", "audit.view", "all", 13),
    ("sales", "audit.view", "own", 10),
    ("viewer", "audit.view", "all", 5),
]
