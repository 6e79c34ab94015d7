"""Backup to, and restore from, a single DuckDB file.

Backup runs ``COPY FROM DATABASE`` inside one ``Database.transaction()`` on the open database, so the
copy is a consistent snapshot even while the app keeps writing, and the result is one
ordinary DuckDB file that opens on its own. Tried on DuckDB 2.0.1: the copy keeps tables
with their constraints and defaults, indexes, and sequences (each re-created with START
at its next value), so codes continue after the backup's last one.

Restore replaces the database file, which only works while no process has it open
(DuckDB allows one writing process; the app must be stopped). Customer codes are never
reused: codes handed out after the backup was taken are gone from the restored rows but
may be printed on a contract, so every sequence of the restored file is moved past the
value it had in the file being replaced. The replaced file is kept next to it.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lib.accounts import permissions as perm
from lib.core import audit
from lib.core.clock import utcnow
from lib.core.db import connect
from lib.core.errors import CustomerMasterError, DatabaseInUse


class BackupError(CustomerMasterError):
    """The backup cannot be written or the file cannot be restored."""

    key = "error.backup_invalid"


@dataclass
class BackupInfo:
    path: Path
    size_bytes: int
    schema_version: int
    customers: int
    sequences: dict[str, int | None] = field(default_factory=dict)


@dataclass
class RestoreInfo:
    path: Path
    schema_version: int
    customers: int
    # sequences moved past the values they had in the replaced file: name -> new value
    advanced: dict[str, int] = field(default_factory=dict)
    replaced_copy: Path | None = None  # where the replaced file was kept


def _quote(path: Path) -> str:
    # ATTACH takes no bound parameters; the path is ours (resolved), not SQL from a user.
    return "'" + str(path).replace("'", "''") + "'"


def _sequences(cur) -> dict[str, int | None]:
    return dict(cur.execute(
        "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE database_name = current_database()"
        " ORDER BY sequence_name").fetchall())


def backup(db, target_path: str | os.PathLike, actor=None) -> BackupInfo:
    """Write a consistent copy of the open database into the new file ``target_path``.

    ``actor=None`` means the command line; an app user needs the backup permission. The
    backup is recorded in the audit log (entity 'system', action 'backup')."""
    actor_name = "system"
    if actor is not None:
        perm.require(actor, perm.BACKUP_RUN)
        actor_name = actor.username
    target = Path(target_path).expanduser().resolve()
    if target.exists() or target == db.path.resolve():
        raise BackupError("error.backup_exists", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written under another name and renamed at the end, so a file at ``target`` is
    # always a complete backup.
    partial = target.with_name(target.name + ".partial")
    for leftover in (partial, Path(str(partial) + ".wal")):
        leftover.unlink(missing_ok=True)
    alias = "cm_backup_" + secrets.token_hex(4)
    # ATTACH and DETACH cannot run inside a transaction; the copy itself runs in one so
    # that it is a snapshot. (An attached database is seen by every cursor of the
    # connection, the transaction's too.)
    cur = db.cursor()
    try:
        source = cur.execute("SELECT current_database()").fetchone()[0]
        cur.execute(f"ATTACH {_quote(partial)} AS {alias}")
        try:
            with db.transaction() as tx:
                tx.execute(f'COPY FROM DATABASE "{source}" TO {alias}')
                version = tx.execute(f"SELECT max(version) FROM {alias}.main.schema_version").fetchone()[0]
                customers = tx.execute(f"SELECT count(*) FROM {alias}.main.customers").fetchone()[0]
        finally:
            with contextlib.suppress(duckdb.Error):
                cur.execute(f"DETACH {alias}")  # checkpoints: the copy is one file, no WAL
        with contextlib.closing(duckdb.connect(str(partial), read_only=True)) as check:
            sequences = _sequences(check)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        Path(str(partial) + ".wal").unlink(missing_ok=True)
        raise
    finally:
        cur.close()
    info = BackupInfo(path=target, size_bytes=target.stat().st_size, schema_version=version,
                      customers=customers, sequences=sequences)
    _record(db, actor_name, "backup", {"path": str(target), "size_bytes": info.size_bytes,
                                       "customers": customers, "schema_version": version})
    return info


def _record(db, actor_name: str, action: str, changes: dict) -> None:
    def work(cur):
        _audit(cur, actor_name, action, changes)

    db.run_in_transaction(work)


def _audit(cur, actor_name: str, action: str, changes: dict) -> None:
    audit.append(cur, actor=actor_name, action=action, entity="system", changes=changes)


def inspect(backup_path: str | os.PathLike) -> tuple[int, int, dict[str, int | None]]:
    """(schema version, customers, sequences) of a backup file; ``BackupError`` if it is
    not a database of this application."""
    path = Path(backup_path)
    if not path.is_file():
        raise BackupError("error.backup_invalid", path=str(path))
    try:
        with contextlib.closing(duckdb.connect(str(path), read_only=True)) as con:
            version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
            customers = con.execute("SELECT count(*) FROM customers").fetchone()[0]
            sequences = _sequences(con)
    except duckdb.Error as exc:
        raise BackupError("error.backup_invalid", path=str(path)) from exc
    if not version:
        raise BackupError("error.backup_invalid", path=str(path))
    from lib.core.schema import MIGRATIONS

    if version > max(number for number, _, _ in MIGRATIONS):
        # Written by a newer version of the application; this code cannot know its schema.
        raise BackupError("error.backup_newer", path=str(path), version=version)
    return version, customers, sequences


def _hold(db_path: Path):
    """Open the current file read-only: proves no other process has it, reads its
    sequences, and keeps any other process from opening it until the swap is done."""
    try:
        return connect(db_path, read_only=True)
    except duckdb.ConnectionException as exc:
        # DuckDB refuses a second, differently configured connection in one process.
        if "same database file" in str(exc):
            raise DatabaseInUse("error.database_in_use", path=str(db_path), holder="this process",
                                pid=os.getpid()) from exc
        raise


def restore(backup_path: str | os.PathLike, db_path: str | os.PathLike, actor_name: str = "system") -> RestoreInfo:
    """Replace the database file at ``db_path`` with a copy of ``backup_path``.

    Raises ``DatabaseInUse`` if a process holds the file and ``BackupError`` if the backup
    is not a usable database. Sequences end up past both the backup's and the replaced
    file's values, so no code is ever issued twice."""
    source = Path(backup_path).expanduser().resolve()
    target = Path(db_path).expanduser().resolve()
    if source == target:
        raise BackupError("error.backup_invalid", path=str(source))
    version, customers, _ = inspect(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".restoring")
    for leftover in (staging, Path(str(staging) + ".wal")):
        leftover.unlink(missing_ok=True)

    held = None
    live_sequences: dict[str, int | None] = {}
    if target.exists():
        try:
            held = _hold(target)
        except DatabaseInUse:
            raise
        except duckdb.Error:
            # An unreadable file is a reason to restore; its sequences are then unknown.
            held = None
        if held is not None:
            live_sequences = _sequences(held)
    try:
        shutil.copyfile(source, staging)
        advanced: dict[str, int] = {}
        with contextlib.closing(duckdb.connect(str(staging))) as con:
            restored = _sequences(con)
            for name, last in restored.items():
                live = live_sequences.get(name)
                if live is not None and (last is None or live > last):
                    con.execute("SELECT setval(?, ?)", [name, live])
                    advanced[name] = live
            # The staging file is this connection's alone until it replaces the target; if
            # anything fails before that, it is deleted. So no transaction is needed here.
            _audit(con, actor_name, "restore", {"from": str(source), "schema_version": version,
                                                "customers": customers, "sequences_advanced": advanced})
            con.execute("CHECKPOINT")
        kept = None
        if target.exists():
            kept = target.with_name(f"{target.name}.before-restore-{utcnow():%Y%m%d%H%M%S}")
            os.replace(target, kept)
            # A WAL belongs to the file it was written for; never let it meet the restored one.
            wal = Path(str(target) + ".wal")
            if wal.exists():
                os.replace(wal, Path(str(kept) + ".wal"))
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        Path(str(staging) + ".wal").unlink(missing_ok=True)
        raise
    finally:
        if held is not None:
            held.close()
    return RestoreInfo(path=target, schema_version=version, customers=customers, advanced=advanced,
                       replaced_copy=kept)


# -- a directory of backups (the administration page, and the command for cron) -------------
BACKUP_GLOB = "backup-*.duckdb"
NAME_FORMAT = "backup-%Y%m%d-%H%M%S-%f"  # UTC, to the microsecond: names sort by time


def backup_dir(db_path: str | os.PathLike) -> Path:
    """Where backups of the database at ``db_path`` are kept: ``CM_BACKUP_DIR``, else a
    ``backups`` folder beside the database file."""
    configured = os.environ.get("CM_BACKUP_DIR")
    return Path(configured).expanduser() if configured else Path(db_path).expanduser().resolve().parent / "backups"


@dataclass(frozen=True)
class StoredBackup:
    path: Path
    size_bytes: int
    made_at: float  # the file's modification time (epoch seconds)


def list_backups(directory: str | os.PathLike) -> list[StoredBackup]:
    """The backups in ``directory``, newest first by name (``NAME_FORMAT``: the time they
    were made; a file's modification time is not relied on, a copy changes it)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [StoredBackup(p, p.stat().st_size, p.stat().st_mtime) for p in directory.glob(BACKUP_GLOB) if p.is_file()]
    return sorted(found, key=lambda b: b.path.name, reverse=True)


def backup_into(db, directory: str | os.PathLike, actor=None, keep: int | None = None,
                label: str = "") -> BackupInfo:
    """A backup into ``directory`` under a new timestamped name (``label`` added, e.g.
    "before-restore"); with ``keep``, the oldest backups beyond the newest ``keep`` are
    then removed (for a daily cron job)."""
    directory = Path(directory)
    stamp = utcnow().strftime(NAME_FORMAT)
    name = f"{stamp}-{label}" if label else stamp
    target = directory / f"{name}.duckdb"
    n = 1
    while target.exists():  # two backups in one second
        n += 1
        target = directory / f"{name}-{n}.duckdb"
    info = backup(db, target, actor)
    if keep is not None:
        prune(directory, keep)
    return info


def keep_upload(directory: str | os.PathLike, data: bytes, actor) -> Path:
    """An uploaded backup file, checked (``inspect``) and stored in ``directory`` under a
    new timestamped name, so it can be restored like the others; ``BackupError`` (and
    nothing stored) if it is not a backup of this application."""
    perm.require(actor, perm.BACKUP_RUN)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{utcnow().strftime(NAME_FORMAT)}-uploaded.duckdb"
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    try:
        inspect(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return target


def prune(directory: str | os.PathLike, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups of ``directory``; returns those removed."""
    if keep < 1:
        raise BackupError("error.backup_keep", keep=keep)
    removed = [b.path for b in list_backups(directory)[keep:]]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def stored_backup(directory: str | os.PathLike, name: str) -> Path:
    """The backup file ``name`` of ``directory`` (a bare file name of a listed backup;
    anything else, such as a path, is refused)."""
    for b in list_backups(directory):
        if b.path.name == name:
            return b.path
    raise BackupError("error.backup_invalid", path=str(name)[:200])


# -- download links ------------------------------------------------------------------------
# A backup is downloaded through the server's download route (ui/downloads.py), which
# sends the file from disk; the link carries a signed ticket like an export's
# (lib.customers.export.download_ticket): which backup, for whom, until when.
TICKET_PURPOSE = "backup-download"
TICKET_MINUTES = 60


def download_ticket(actor, name: str, lang: str, key: str, now=None) -> str:
    from lib.accounts import sessions

    return sessions.link_ticket(TICKET_PURPOSE, actor.username, lang, key, TICKET_MINUTES, now, name=name)


@dataclass(frozen=True)
class Ticket:
    username: str
    name: str  # the backup file's name in the backup folder
    lang: str


def read_ticket(raw, key: str, now=None) -> Ticket | None:
    """The ticket ``download_ticket`` made, else None (altered, expired, another kind)."""
    from lib.accounts import sessions

    claims = sessions.read_link_ticket(raw, key, TICKET_PURPOSE, now)
    if claims is None or not isinstance(claims.get("name"), str):
        return None
    return Ticket(claims["username"], claims["name"], claims["lang"])


def record_download(db, actor, path: Path) -> None:
    """A backup file leaves the server: who took which (audit log)."""
    perm.require(actor, perm.BACKUP_RUN)
    _record(db, actor.username, "backup.download", {"file": path.name, "size_bytes": path.stat().st_size})


# -- a backup asked of the running server (the command line while the app holds the file) --
CRON_PURPOSE = b"customer-master backup run"
RUN_PATH = "/backup/run"  # the server's route for it (ui/downloads.py); POST, ?keep=N


def run_token(key: str) -> str:
    """The secret a backup request to the running server carries: an HMAC of a fixed
    purpose under the app's signing key, so whoever can read the key (the machine's
    operator: the command line) may ask, and nobody else."""
    import hashlib
    import hmac

    return hmac.new(key.encode("utf-8"), CRON_PURPOSE, hashlib.sha256).hexdigest()


def run_token_ok(given: str | None, key: str) -> bool:
    import hmac

    return isinstance(given, str) and hmac.compare_digest(given, run_token(key))
