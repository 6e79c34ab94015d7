"""The rows migration 13 adds (frozen, like every migration's seeds: see m001): the
administration page's audit log section (issue 10), for admins only.

* ``audit.view_log``: read, filter and export the whole audit log, every user's and
  every customer's entries, logins and refusals included (lib.accounts.audit_log). A
  customer's own history stays ``audit.view``, scoped like reading the customer.
"""

# (role, action, scope, ordinal)
ADDED_PERMISSIONS = [
    ("admin", "audit.view_log", "all", 51),
]
