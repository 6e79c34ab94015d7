"""The rows migration 14 adds (frozen, like every migration's seeds: see m001): custom
fields (字段自定义, issue 10), for admins only.

* ``fields.manage``: add a field to the customer, change its labels, rules and roles,
  retire it and bring it back (lib.customers.custom_fields).
"""

# (role, action, scope, ordinal)
ADDED_PERMISSIONS = [
    ("admin", "fields.manage", "all", 52),
]
