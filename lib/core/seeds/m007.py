"""The rows migration 7 adds (frozen, like every migration's seeds: see m001): importing
customers from a file (lib.customers.importing) and its page, for administrators and
managers.
"""

# (role, action, scope, ordinal)
ADDED_PERMISSIONS = [
    ("admin", "customer.import", "all", 40),
    ("manager", "customer.import", "all", 40),
    ("admin", "page.import", "all", 41),
    ("manager", "page.import", "all", 41),
]
