"""The rows migration 9 adds (frozen, like every migration's seeds: see m001): the
duplicate finder and merge (issue 9).

* ``customer.merge``: merge two or more customers into one (lib.customers.merge);
  managers and admins, over every customer.
* ``page.duplicates``: the duplicates page (pages/duplicates.py). Salespeople open it
  too and see the groups among their own customers (the finder scopes by
  ``customer.read``), so they can tell a manager; they cannot merge. Viewers change
  nothing and have no use for a work list of records to clean, so they do not get it.
"""

# (role, action, scope, ordinal)
ADDED_PERMISSIONS = [
    ("admin", "customer.merge", "all", 40),
    ("manager", "customer.merge", "all", 40),
    ("admin", "page.duplicates", "all", 41),
    ("manager", "page.duplicates", "all", 41),
    ("sales", "page.duplicates", "all", 41),
]
