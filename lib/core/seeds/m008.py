"""The rows migration 8 adds (frozen, like every migration's seeds: see m001): the
export of the customers page's search (``lib.customers.export``) checks
``customer.export``, so the action is back in the table it left in migration 4.

Managers and admins export every customer; salespeople export their own (the scope
``own`` limits the rows to the customers they own, as reading does); viewers read but
do not take lists out of the system.
"""

# (role, action, scope, ordinal)
ADDED_PERMISSIONS = [
    ("admin", "customer.export", "all", 35),
    ("manager", "customer.export", "all", 35),
    ("sales", "customer.export", "own", 35),
]
