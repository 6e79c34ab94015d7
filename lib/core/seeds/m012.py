"""The rows migration 12 adds (frozen, like every migration's seeds: see m001): the
reference lists section of the administration page (issue 10).

* ``lists.manage``: add, rename, reorder, retire and bring back items of the reference
  lists (lib.customers.reference_admin); admins only.
"""

# (role, action, scope, ordinal)
ADDED_PERMISSIONS = [
    ("admin", "lists.manage", "all", 51),
]
