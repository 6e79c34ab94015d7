"""The rows migration 11 adds (frozen, like every migration's seeds: see m001): the
administration page's settings (lib.core.settings, issue 10).

* ``settings.manage``: change the settings; admins only.
* Settings rows for the two session lifetimes the issue sets (idle 60 minutes, at
  most 12 hours), enforced by lib.accounts.sessions.
"""

# (role, action, scope, ordinal)
ADDED_PERMISSIONS = [
    ("admin", "settings.manage", "all", 51),
]

# (key, value); a key already present keeps its value
SETTINGS = [
    ("session_idle_minutes", "60"),
    ("session_max_hours", "12"),
]
