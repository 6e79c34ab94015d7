"""The rows migration 10 adds (frozen, like every migration's seeds: see m001): the
administration page (pages/admin.py, issue 10), for admins only. Its sections check
their own actions as well (``users.manage`` for the users section).
"""

# (role, action, scope, ordinal)
ADDED_PERMISSIONS = [
    ("admin", "page.admin", "all", 50),
]
