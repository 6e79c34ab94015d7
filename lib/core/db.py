"""The one place that opens the DuckDB file.

One ``Database`` per process holds one DuckDB connection; every unit of work takes its
own ``cursor()`` (a DuckDB cursor is a separate connection to the same database and is
safe to use from its own thread; sharing one connection between threads returned
other threads' results, see docs/design.md).

Reads go through ``read()``, a read-only transaction that refuses writes; writes
through ``run_in_transaction(work)``, which retries DuckDB's optimistic "Conflict on
update" a few times before giving up, or, for work that cannot be run twice (a
backup's copy, a bulk load), through ``transaction()``, which runs once. Nothing outside this module touches its private parts.

Change notes: a write path calls ``note_change(cur, topic, key)`` inside its
transaction; once that transaction has committed, the functions registered with
``Database.on_commit(topic, fn)`` receive the keys (``None`` for "everything"). The
search index keeps itself in step this way (lib/customers/search_index.py). Only this
process's writes are seen: the DuckDB file is opened by one process at a time.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import duckdb

from lib.core.errors import ConfigError, ConflictError, DatabaseInUse

T = TypeVar("T")

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "customers.duckdb"

# DuckDB's refusal of a write in a READ ONLY transaction ("Cannot write to database
# ... - transaction is launched in read-only mode").
_READ_ONLY_REFUSAL = "transaction is launched in read-only mode"

# The change notes of each open write transaction, by its cursor (see note_change).
_NOTES: dict[int, dict[str, list[Any]]] = {}
# Listeners by (database file, topic): every Database of this process on the same file
# hears the writes made through any of them.
_LISTENERS: dict[tuple[str, str], list[Callable[[list[Any]], None]]] = {}
_LISTEN_LOCK = threading.Lock()


def note_change(cur, topic: str, key: Any = None) -> None:
    """Record, in the transaction of ``cur``, that ``key`` of ``topic`` changed (``None``:
    all of it). Delivered to ``Database.on_commit`` listeners after the commit; dropped
    on a rollback. Outside a write transaction this does nothing."""
    notes = _NOTES.get(id(cur))
    if notes is not None:
        notes.setdefault(topic, []).append(key)


def page_and_total(cur, select: str, rest: str, params: list[Any], *, order_by: str, limit: int,
                   offset: int) -> tuple[list[dict], int]:
    """``SELECT {select} {rest} ORDER BY {order_by}``: the rows from ``offset`` (at most
    ``limit``, as dicts) and how many rows it has in all, in one statement (the count
    rides on the page as a window); a page past the end has no row to carry it, so it
    is counted then. For a customer's lists (its follow-ups, files, links, history):
    a count and then the ordered page cost twice as much at 1M customers."""
    res = cur.execute(f"SELECT {select}, count(*) OVER () AS _total {rest} ORDER BY {order_by} LIMIT ? OFFSET ?",
                      [*params, limit, offset])
    cols = [d[0] for d in res.description]
    rows = [dict(zip(cols, r)) for r in res.fetchall()]
    if rows:
        total = rows[0]["_total"]
    else:
        total = cur.execute(f"SELECT count(*) {rest}", params).fetchone()[0] if offset else 0
    for r in rows:
        del r["_total"]
    return rows, total


class WriteInRead(AssertionError):
    """A write was attempted inside ``Database.read()``: a bug in our code, not bad input."""


class WriteConflict(Exception):
    """Raised by work that meets a concurrent transaction's commit it cannot see (a key
    another transaction committed after this one began, which DuckDB reports as a
    constraint error): ``run_in_transaction`` runs the work again, like DuckDB's own
    "Conflict on update"; ``transaction()`` turns it into ``ConflictError``."""


_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<holder>.+?) \(PID (?P<pid>\d+)\)")


def default_path() -> Path:
    return Path(os.environ.get("CM_DB_PATH", DEFAULT_PATH))


# How much memory the web server lets DuckDB use: its cache of the file's blocks, its
# indexes and what running queries hold (env ``CM_DUCKDB_MEMORY_LIMIT``, e.g. 512MB;
# unset: DuckDB's default, 80 % of the machine's RAM). DuckDB keeps every block it reads
# until its limit presses, and reading a page of customers by id brings in a block of
# every column for each row, so its share grows towards the whole file (at 1M, 713 MB
# after 3 minutes of 25 people). Capped at 512MB there, the server held ~220 MB less
# but spent 9-15 ms more CPU per action re-reading evicted blocks, and two of the
# actions' p95 went over 500 ms: a choice for a machine short of memory, not a default
# (docs/benchmarks.md, "Where the server's memory goes"). Command-line tools run alone
# and keep DuckDB's default.
_MEMORY_LIMIT_RE = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def server_memory_limit(env=None) -> str | None:
    """DuckDB's memory limit for the web server: ``CM_DUCKDB_MEMORY_LIMIT``, or None
    (DuckDB's default) when unset. A value that is not a size (``300MB``, ``1.5GB``) is
    refused with ``ConfigError``."""
    value = ((os.environ if env is None else env).get("CM_DUCKDB_MEMORY_LIMIT") or "").strip()
    if not value:
        return None
    if not _MEMORY_LIMIT_RE.fullmatch(value):
        raise ConfigError("config.bad_memory_limit", value=value)
    return value


def is_write_conflict(exc: BaseException) -> bool:
    """DuckDB's optimistic concurrency failures: another transaction changed the row
    ("Conflict on update!" and its siblings), or committed the same unique key first
    ("Failed to commit: ... constraint violation"), or altered the table being written
    ("Transaction conflict: ... has been altered by a different transaction": an
    administrator adding a custom field, lib.customers.custom_fields). All are worth one
    more try: the retry sees the winner's commit, and the service's own checks then say
    what is wrong."""
    if isinstance(exc, WriteConflict):
        return True
    msg = str(exc)
    return "Conflict on" in msg or (isinstance(exc, duckdb.TransactionException)
                                    and ("Failed to commit" in msg or "Transaction conflict" in msg))


def lock_holder(message: str) -> tuple[str, str]:
    """(program, pid) of the process named in DuckDB's lock error; ("?", "?") if none."""
    m = _LOCK_RE.search(message)
    if not m:
        return "?", "?"
    return m.group("holder").strip(), m.group("pid")


def connect(path: str | os.PathLike, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the file, turning DuckDB's lock error into ``DatabaseInUse`` naming the holder."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            holder, pid = lock_holder(str(exc))
            raise DatabaseInUse("error.database_in_use", path=str(path), holder=holder, pid=pid) from exc
        raise


class Database:
    """Owns the process's connection to one DuckDB file and caches the small tables
    every request needs (roles, permissions, reference lists, settings)."""

    def __init__(self, path: str | os.PathLike | None = None, *, migrate: bool = True,
                 memory_limit: str | None = None):
        """``memory_limit``: DuckDB's, set once the file is migrated (a size such as
        ``512MB``; ``server_memory_limit()``); None keeps DuckDB's default."""
        if memory_limit is not None and not _MEMORY_LIMIT_RE.fullmatch(memory_limit):
            raise ConfigError("config.bad_memory_limit", value=memory_limit)
        self.path = Path(path) if path is not None else default_path()
        self._con = connect(self.path)
        # Use the ART index for a selective IN-list (a page's 50 contacts by customer_id:
        # 8 ms instead of a 23 ms scan at 1M rows). Indexed columns are only ever
        # filtered selectively here (ids, codes, phones).
        self._con.execute("SET index_scan_percentage = 1.0")
        self._cache_lock = threading.Lock()
        self._cache: dict[str, Any] = {}
        self._invalidations = 0  # how many invalidate() calls so far (see ``cached``)
        self._listening: list[tuple[tuple[str, str], Callable[[list[Any]], None]]] = []
        self._file = str(self.path.resolve())  # the listeners' key: every Database on this file
        self._services: dict[str, Any] = {}
        self._beside: concurrent.futures.ThreadPoolExecutor | None = None
        if migrate:
            from lib.core import schema

            try:
                schema.migrate(self)
            except BaseException:
                self._con.close()
                raise
        if memory_limit is not None:  # after the migrations, which may rewrite whole tables
            self._con.execute(f"SET memory_limit = '{memory_limit}'")  # checked above: digits and a unit

    # -- connections ---------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor for one unit of work (thread-safe; close it when done)."""
        return self._con.cursor()

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for reading, inside a ``READ ONLY`` transaction: one consistent view,
        and DuckDB refuses any write in it (``nextval`` included), which becomes
        ``WriteInRead``. Writes belong in ``transaction()`` or ``run_in_transaction``."""
        cur = self.cursor()
        try:
            cur.execute("BEGIN TRANSACTION READ ONLY")
            try:
                yield cur
            except duckdb.TransactionException as exc:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                if _READ_ONLY_REFUSAL in str(exc):
                    raise WriteInRead(
                        "a write inside Database.read(); use db.transaction() or db.run_in_transaction()"
                    ) from exc
                raise
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
        finally:
            cur.close()

    def read_beside(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> concurrent.futures.Future:
        """Start ``work(cursor)`` in a ``read()`` of its own on a worker thread and return
        its future: a second query that needs nothing from the first runs beside it
        (DuckDB lets go of the GIL while it works, so the two use both cores). It is a
        transaction of its own: it may see a commit the caller's read does not."""
        with self._cache_lock:
            if self._beside is None:
                self._beside = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="db-beside")

        def run() -> T:
            with self.read() as cur:
                return work(cur)

        return self._beside.submit(run)

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file now (after a bulk load), rather than
        on the next start. Outside any transaction: it writes the file."""
        cur = self.cursor()
        try:
            cur.execute("CHECKPOINT")
        finally:
            cur.close()

    @contextlib.contextmanager
    def _attempt(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # One BEGIN ... COMMIT; DuckDB's own error on a conflict, for the retry loop.
        cur = self.cursor()
        _NOTES[id(cur)] = notes = {}
        try:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise
        finally:
            _NOTES.pop(id(cur), None)
            cur.close()
        for topic, keys in notes.items():
            with _LISTEN_LOCK:
                listeners = list(_LISTENERS.get((self._file, topic), ()))
            for listen in listeners:
                listen(keys)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """``with db.transaction() as cur:`` one transaction, committed when the block
        ends and rolled back if it raises. It runs once: a write conflict with another
        transaction becomes ``ConflictError`` for the caller to report. Work that can
        simply be run again belongs in ``run_in_transaction``, which retries."""
        try:
            with self._attempt() as cur:
                yield cur
        except WriteConflict as exc:
            raise ConflictError("error.write_conflict") from exc
        except (duckdb.TransactionException, duckdb.ConstraintException, duckdb.OperationalError) as exc:
            if is_write_conflict(exc):
                raise ConflictError("error.write_conflict") from exc
            raise

    def run_in_transaction(self, work: Callable[[duckdb.DuckDBPyConnection], T], *, attempts: int = 5) -> T:
        """Run ``work(cursor)`` in one transaction, retrying DuckDB write conflicts.

        ``work`` must be safe to run again from the start (it re-reads what it needs).
        After the last attempt a write conflict becomes ``ConflictError``."""
        for attempt in range(attempts):
            try:
                with self._attempt() as cur:
                    return work(cur)
            except (duckdb.TransactionException, duckdb.ConstraintException, duckdb.OperationalError,
                    WriteConflict) as exc:
                if not is_write_conflict(exc) or attempt == attempts - 1:
                    if is_write_conflict(exc):
                        raise ConflictError("error.write_conflict") from exc
                    raise
                time.sleep(0.005 * (2**attempt))
        raise AssertionError("unreachable")

    def close(self) -> None:
        with _LISTEN_LOCK:
            for key, listen in self._listening:
                _LISTENERS[key].remove(listen)
            self._listening.clear()
        for svc in list(self._services.values()):
            stop = getattr(svc, "close", None)
            if stop:
                stop()
        if self._beside is not None:
            self._beside.shutdown(wait=True)
        self._con.close()

    # -- change notes and in-process services -----------------------------------------
    def on_commit(self, topic: str, listen: Callable[[list[Any]], None]) -> None:
        """Call ``listen(keys)`` after each committed transaction that noted changes of
        ``topic`` (``note_change``) through any Database of this process on the same file,
        in the committing thread, before the write returns."""
        key = (self._file, topic)
        with _LISTEN_LOCK:
            _LISTENERS.setdefault(key, []).append(listen)
            self._listening.append((key, listen))

    def service(self, name: str, make: Callable[["Database"], T]) -> T:
        """The one ``make(self)`` of this name for this database (made on first use): a
        process-wide helper such as the search index."""
        with self._cache_lock:
            if name not in self._services:
                self._services[name] = make(self)
            return self._services[name]

    # -- cached small tables ---------------------------------------------------------
    def invalidate(self, *names: str) -> None:
        with self._cache_lock:
            self._invalidations += 1
            for n in names or list(self._cache):
                self._cache.pop(n, None)

    def cached(self, name: str, load: Callable[[], T]) -> T:
        """``load()``'s value, kept until ``invalidate(name)``: for small tables every
        request reads (write paths that change them call ``invalidate``). A value whose
        load overlapped an invalidation is returned but not kept: it may have been read
        before the write that invalidated, and kept it would outlive that write."""
        with self._cache_lock:
            if name in self._cache:
                return self._cache[name]
            invalidations = self._invalidations
        value = load()
        with self._cache_lock:
            if self._invalidations == invalidations:
                self._cache[name] = value
        return value

    def permissions(self) -> dict[str, dict[str, str]]:
        def load():
            with self.read() as cur:
                rows = cur.execute("SELECT role, action, scope FROM role_permissions ORDER BY role, ordinal").fetchall()
            out: dict[str, dict[str, str]] = {}
            for role, action, scope in rows:
                out.setdefault(role, {})[action] = scope
            return out

        return self.cached("permissions", load)

    def roles(self) -> dict[str, dict[str, str]]:
        """role code -> {"label_zh", "label_en"}, in display order: the one list of roles
        (users and role_permissions refer to it by foreign key)."""

        def load():
            with self.read() as cur:
                rows = cur.execute("SELECT code, label_zh, label_en FROM roles ORDER BY ordinal, code").fetchall()
            return {code: {"label_zh": zh, "label_en": en} for code, zh, en in rows}

        return self.cached("roles", load)

    def reference_lists(self) -> dict[str, list[dict]]:
        """list name -> items (code, label_zh, label_en, active) in display order."""

        def load():
            with self.read() as cur:
                rows = cur.execute(
                    "SELECT list, code, label_zh, label_en, active FROM reference_items ORDER BY list, ordinal"
                ).fetchall()
            out: dict[str, list[dict]] = {}
            for lst, code, zh, en, active in rows:
                out.setdefault(lst, []).append({"code": code, "label_zh": zh, "label_en": en, "active": active})
            return out

        return self.cached("reference_lists", load)

    def settings(self) -> dict[str, str]:
        def load():
            with self.read() as cur:
                return dict(cur.execute("SELECT key, value FROM settings").fetchall())

        return self.cached("settings", load)

    def actor(self, username: str, role: str, display_name: str = ""):
        """An ``Actor`` carrying the role's permissions from the database."""
        from lib.accounts.permissions import Actor

        return Actor(username=username, role=role, display_name=display_name,
                     permissions=self.permissions().get(role, {}))
