"""The command-line import, killed by SIGKILL at a chosen moment of its own run: the
kill test's way to stop an import at exact points inside its transaction (and one just
after the commit), where a kill from outside lands at whatever moment the clock gives.

``python -m tests.import_child POINT N -- <lib.cli arguments>`` runs ``lib.cli`` and
kills the process at the Nth time it reaches POINT:

- ``progress``: the Nth progress report while the rows are checked (in the transaction);
- ``insert``: after the Nth bulk insert of new customers, contacts or audit rows;
- ``update``: after the Nth update of an existing customer;
- ``audit``: after the import's own audit entry, the last write before the commit;
- ``close``: after the commit, as the database is about to be closed.
"""
from __future__ import annotations

import functools
import os
import signal
import sys


def die_on(owner, name: str, n: int, when=lambda *a, **k: True, before: bool = False) -> None:
    """Wrap ``owner.name`` so that its Nth call (among those ``when`` accepts) kills the
    process, after the call runs (or before it, with ``before``)."""
    original = getattr(owner, name)
    seen = [0]

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        counted = when(*args, **kwargs)
        if counted:
            seen[0] += 1
        if counted and before and seen[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if counted and not before and seen[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, name, wrapper)


def main(argv: list[str]) -> int:
    point, n, rest = argv[0], int(argv[1]), argv[argv.index("--") + 1:]
    from lib import cli
    from lib.core.db import Database
    from lib.customers import bulk
    from lib.customers import customer as cs

    if point == "progress":
        make = cli._progress

        def counted_progress(console):
            report = make(console)
            seen = [0]

            def each(done, total):
                report(done, total)
                seen[0] += 1
                if seen[0] == n:
                    os.kill(os.getpid(), signal.SIGKILL)
            return each
        cli._progress = counted_progress
    elif point == "insert":
        die_on(bulk, "insert", n)
    elif point == "update":
        die_on(cs, "apply_update", n)
    elif point == "audit":
        die_on(cs, "append_audit", n, when=lambda *a, **k: k.get("action") == "import")
    elif point == "close":
        die_on(Database, "close", n, before=True)
    else:
        raise SystemExit(f"unknown point {point}")
    return cli.main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
