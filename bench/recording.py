"""Capture the exact SQL a service call runs, so the benchmark can time the same
statements without the service around them (the floor).

A service call is recorded inside a transaction that is then rolled back: its rows never
land, and the ids it drew from sequences stay unused, so replaying the recorded
statements later (with the very same parameters) inserts or updates cleanly.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Statement:
    sql: str
    params: list[Any] | None
    in_transaction: bool


class _Rollback(Exception):
    pass


class RecordingCursor:
    """Wraps a DuckDB cursor and logs every ``execute``."""

    def __init__(self, cur, log: list[Statement], in_transaction: bool):
        self._cur = cur
        self._log = log
        self._tx = in_transaction

    def execute(self, sql, params=None):
        self._log.append(Statement(sql, list(params) if params is not None else None, self._tx))
        self._cur.execute(sql, params) if params is not None else self._cur.execute(sql)
        return self

    def __getattr__(self, name):
        return getattr(self._cur, name)


@dataclass
class Recording:
    statements: list[Statement] = field(default_factory=list)


@contextlib.contextmanager
def recording(db):
    """Within this block, service calls on ``db`` are recorded and their transactions
    rolled back. Yields a ``Recording``."""
    rec = Recording()
    orig_read, orig_run = db.read, db.run_in_transaction

    @contextlib.contextmanager
    def read():
        cur = db.cursor()
        try:
            yield RecordingCursor(cur, rec.statements, False)
        finally:
            cur.close()

    def run_in_transaction(work, attempts=5):
        cur = db.cursor()
        result = None
        try:
            cur.execute("BEGIN TRANSACTION")
            result = work(RecordingCursor(cur, rec.statements, True))
            raise _Rollback
        except _Rollback:
            cur.execute("ROLLBACK")
        finally:
            cur.close()
        return result

    db.read, db.run_in_transaction = read, run_in_transaction
    try:
        yield rec
    finally:
        db.read, db.run_in_transaction = orig_read, orig_run


def replay(db, rec: Recording) -> None:
    """Run the recorded statements again: the transactional ones in one transaction,
    committed; the others (reads after the write) after it, in their order."""
    cur = db.cursor()
    try:
        tx = [s for s in rec.statements if s.in_transaction]
        if tx:
            cur.execute("BEGIN TRANSACTION")
            for s in tx:
                cur.execute(s.sql, s.params).fetchall() if s.params is not None else cur.execute(s.sql).fetchall()
            cur.execute("COMMIT")
        for s in rec.statements:
            if not s.in_transaction:
                cur.execute(s.sql, s.params).fetchall() if s.params is not None else cur.execute(s.sql).fetchall()
    finally:
        cur.close()
