"""For the benches that time this checkout's lib/ or another's (``--code``, for A B runs
against older code): their arguments, and the database opened with that lib/.

    args = checkout.arguments(__doc__, rounds=20).parse_args(argv)
    db = checkout.open_database(args)   # lib/ of args.code from here on
    from lib.customers import home      # imports after open_database
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def arguments(doc: str, *, rounds: int | None = None) -> argparse.ArgumentParser:
    """``--db`` (required), ``--code`` (default: this checkout) and, if given, ``--rounds``."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, type=Path)
    if rounds is not None:
        ap.add_argument("--rounds", type=int, default=rounds)
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose lib/ is timed (default: this one)")
    return ap


def open_database(args):
    """The database at ``args.db`` with its custom fields installed, through the lib/ of
    ``args.code`` (put first on the import path: import lib modules after this call)."""
    sys.path.insert(0, str(args.code.resolve()))
    from lib.core.db import Database
    from lib.customers import custom_fields

    db = Database(str(args.db))
    custom_fields.install(db)
    return db


def customers(db) -> int:
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM customers").fetchone()[0]
