"""Command line for the operator: ``python -m lib.cli [--db PATH] <command> ...``.

Commands: ``init [--demo]``, ``demo-data``, ``create-user``, ``reset-password``,
``list-users``, ``activate-user``/``deactivate-user``, ``login-delays``,
``lift-login-delay``, ``backup``, ``restore``, ``export`` and ``secrets``. Every command but ``secrets`` works on the file given by ``--db`` (default:
env ``CM_DB_PATH``, else data/customers.duckdb).

Expected failures print one translated message and exit non-zero, never a traceback:
1 for a refused operation (validation, duplicates, bad backup), 3 when another process
holds the database file (DuckDB lets one process open it; stop the app first). The
language follows ``CM_LANG``, else ``LANG`` (``zh*`` gives Chinese), else English.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import duckdb

from lib.core import i18n
from lib.core.errors import CustomerMasterError, DatabaseInUse, NotFound, ValidationError

EXIT_REFUSED = 1
EXIT_USAGE = 2  # argparse's own
EXIT_IN_USE = 3
EXIT_INTERRUPTED = 130

def cli_lang(env=None) -> str:
    env = os.environ if env is None else env
    chosen = env.get("CM_LANG") or env.get("LC_ALL") or env.get("LANG") or ""
    return "zh" if chosen.lower().startswith("zh") else "en"


class Console:
    """Where the command's messages go, in one language."""

    def __init__(self, lang: str, out=None, err=None):
        self.lang = lang
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def msg(self, key: str, **params) -> str:
        return i18n.t(key, self.lang, **params)

    def say(self, key: str, **params) -> None:
        print(self.msg(key, **params), file=self.out, flush=True)

    def warn(self, key: str, **params) -> None:
        print(self.msg(key, **params), file=self.err, flush=True)

    def error(self, exc: CustomerMasterError) -> None:
        prefix = self.msg("cli.error")
        if isinstance(exc, ValidationError):
            for p in exc.problems:
                print(f"{prefix}{p.field}: {p.translate(self.lang)}", file=self.err)
        else:
            print(prefix + exc.translate(self.lang), file=self.err)


# -- commands ---------------------------------------------------------------------------
def _open(args):
    from lib.core.db import Database
    from lib.customers import custom_fields

    db = Database(args.db)
    custom_fields.install(db)  # import and export read the customer's custom fields too
    return db


def _progress(console: Console) -> Callable[[int, int], None]:
    started = time.monotonic()
    tty = console.err.isatty()
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < (0.5 if tty else 10):
            return
        last[0] = now
        line = f"  {done:,} / {total:,}  ({now - started:.0f} s)"
        print("\r" + line if tty else line, end="" if tty and done < total else "\n", file=console.err, flush=True)

    return report


def _refuse_demo_in_production(console: Console) -> bool:
    from lib.core.config import load_config

    if load_config().production:
        console.warn("cli.demo_in_production")
        return True
    return False


def _generate(db, console: Console, customers: int, seed: int) -> None:
    from lib.ops.demo import loader as demo

    stats = demo.generate(db, customers, seed=seed, progress=_progress(console))
    console.say("cli.demo_done", customers=f"{stats.customers:,}", first=stats.first_code, last=stats.last_code,
                contacts=f"{stats.contacts:,}", activities=f"{stats.activities:,}",
                relationships=f"{stats.relationships:,}", files=f"{stats.files:,}", seconds=f"{stats.seconds:.1f}")


def cmd_init(args, console: Console) -> int:
    """Migrate; with --demo also the demo users and, on an empty table, demo customers.
    Safe to run on every start: nothing that exists is touched again."""
    if args.demo and _refuse_demo_in_production(console):
        return EXIT_REFUSED
    from lib.accounts import users
    from lib.core.schema import current_version

    db = _open(args)
    try:
        with db.read() as cur:
            console.say("cli.migrated", path=db.path, version=current_version(cur))
        if not args.demo:
            return 0
        created = users.ensure_demo_users(db)
        if created:
            console.say("cli.demo_users", users=", ".join(created))
        else:
            console.say("cli.demo_users_exist")
        with db.read() as cur:
            count = cur.execute("SELECT count(*) FROM customers").fetchone()[0]
        if count:
            console.say("cli.demo_skipped", count=f"{count:,}")
        elif args.customers > 0:
            _generate(db, console, args.customers, args.seed)
        return 0
    finally:
        db.close()


def cmd_demo_data(args, console: Console) -> int:
    if _refuse_demo_in_production(console):
        return EXIT_REFUSED
    db = _open(args)
    try:
        _generate(db, console, args.customers, args.seed)
        return 0
    finally:
        db.close()


def _read_password(args, console: Console) -> str | None:
    """From stdin with --password-stdin (one line), else asked twice without echo."""
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            console.warn("cli.password_empty_stdin")
            return None
        return password
    first = getpass.getpass(console.msg("cli.password_prompt"))
    if getpass.getpass(console.msg("cli.password_again")) != first:
        console.warn("cli.password_mismatch")
        return None
    return first


def cmd_create_user(args, console: Console) -> int:
    from lib.accounts import users

    db = _open(args)  # first: a locked file fails before anyone types a password
    try:
        if args.role not in db.roles():  # before the password prompt, naming the choices
            console.warn("cli.unknown_role", role=args.role, roles=", ".join(db.roles()))
            return EXIT_USAGE
        password = _read_password(args, console)
        if password is None:
            return EXIT_REFUSED
        user = users.create_user(db, None, args.username, args.name or args.username, args.role, password,
                                 email=args.email)
        console.say("cli.user_created", username=user.username, role=user.role)
        return 0
    finally:
        db.close()


def cmd_reset_password(args, console: Console) -> int:
    from lib.accounts import users

    db = _open(args)
    try:
        if users.get_user(db, args.username) is None:
            raise NotFound("auth.unknown_user", username=args.username)
        password = _read_password(args, console)
        if password is None:
            return EXIT_REFUSED
        users.set_password(db, None, args.username, password)
        console.say("cli.password_reset", username=args.username)
        return 0
    finally:
        db.close()


def cmd_set_active(args, console: Console) -> int:
    from lib.accounts import users

    db = _open(args)
    try:
        users.set_active(db, None, args.username, args.active)
        console.say("cli.user_activated" if args.active else "cli.user_deactivated", username=args.username)
        return 0
    finally:
        db.close()


def cmd_list_users(args, console: Console) -> int:
    from lib.accounts import users

    db = _open(args)
    try:
        rows = users.list_users(db)
    finally:
        db.close()
    if not rows:
        console.say("cli.no_users")
        return 0
    yes, no = console.msg("cli.yes"), console.msg("cli.no")
    _print_table(console, "cli.users_header",
                 [[u.username, u.role, u.display_name, yes if u.active else no, yes if u.is_demo else no]
                  for u in rows])
    return 0


def _print_table(console: Console, header_key: str, rows: list[list[str]]) -> None:
    table = [console.msg(header_key).split("|"), *rows]
    widths = [max(_width(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths)).rstrip(), file=console.out)


def cmd_login_delays(args, console: Console) -> int:
    """Who must wait before their next login attempt, from which browsers, until when."""
    from lib.accounts import users

    db = _open(args)
    try:
        delays = users.login_delays(db, None)
    finally:
        db.close()
    if not delays:
        console.say("cli.no_login_delays")
        return 0
    _print_table(console, "cli.login_delays_header", [
        [d.username, console.msg("cli.known_browser" if d.known_browser else "cli.unknown_browsers"), str(d.failures),
         d.wait_until.strftime("%Y-%m-%d %H:%M:%S")] for d in delays])
    return 0


def cmd_lift_login_delay(args, console: Console) -> int:
    from lib.accounts import users

    db = _open(args)
    try:
        users.lift_login_delay(db, None, args.username)
    finally:
        db.close()
    console.say("cli.login_delay_lifted", username=args.username)
    return 0


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if "\u2e80" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef" else 1 for ch in text)


def cmd_backup(args, console: Console) -> int:
    from lib.ops import backup

    if args.file is None and args.keep is None and args.dir is None:
        console.warn("cli.backup_needs_target")
        return EXIT_REFUSED
    try:
        db = _open(args)
    except DatabaseInUse:
        if args.server is None or args.file is not None or args.dir is not None:
            raise  # only the server's own backup folder can be written through it
        return _backup_through_server(args, console)
    try:
        if args.file is not None:
            info = backup.backup(db, args.file)
        else:  # a timestamped file in the backup folder, the oldest beyond --keep removed
            info = backup.backup_into(db, args.dir or backup.backup_dir(db.path), keep=args.keep)
    finally:
        db.close()
    console.say("cli.backup_done", path=info.path, size=f"{info.size_bytes:,}", customers=f"{info.customers:,}")
    return 0


def _backup_through_server(args, console: Console) -> int:
    """The app holds the database: ask the running server (``--server``) for the backup
    (``POST /backup/run``, authorised by a token derived from the signing key)."""
    import json
    import urllib.error
    import urllib.request

    from lib.core import config
    from lib.ops import backup

    key = config.load_config().cookie_key
    if not key:
        console.warn("cli.backup_server_key")
        return EXIT_REFUSED
    query = f"?keep={args.keep}" if args.keep is not None else ""
    request = urllib.request.Request(args.server.rstrip("/") + backup.RUN_PATH + query, method="POST",
                                     headers={"Authorization": f"Bearer {backup.run_token(key)}"})
    try:
        with urllib.request.urlopen(request, timeout=3600) as resp:
            done = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        console.warn("cli.backup_server_failed", server=args.server, reason=str(exc)[:200])
        return EXIT_REFUSED
    console.say("cli.backup_done", path=done["path"], size=f"{done['size_bytes']:,}",
                customers=f"{done['customers']:,}")
    return 0


def cmd_restore(args, console: Console) -> int:
    from lib.ops import backup
    from lib.core.db import Database, default_path

    path = Path(args.db) if args.db else default_path()
    _, customers, _ = backup.inspect(args.file)
    if not args.yes:
        if not sys.stdin.isatty():
            console.warn("cli.restore_needs_yes")
            return EXIT_REFUSED
        answer = input(console.msg("cli.restore_confirm", path=path, backup=args.file, customers=f"{customers:,}"))
        if answer.strip().lower() not in ("yes", "y", "是"):
            console.say("cli.restore_cancelled")
            return EXIT_REFUSED
    info = backup.restore(args.file, path)
    # Bring an older backup up to this version of the schema now, not at the app's start.
    Database(path).close()
    console.say("cli.restore_done", path=info.path, backup=args.file, customers=f"{info.customers:,}")
    if info.replaced_copy:
        console.say("cli.restore_kept", copy=info.replaced_copy)
    if info.advanced:
        console.say("cli.restore_advanced", names=", ".join(sorted(info.advanced)))
    return 0


def cmd_export(args, console: Console) -> int:
    """The customers a user may export (their search: ``--q`` and ``--archived``) to a
    CSV or XLSX file, as that user: their scope, their language's headers, an audit
    entry in their name."""
    from lib.accounts import users
    from lib.customers.export import export_customers
    from lib.customers.search import CustomerFilters

    db = _open(args)
    try:
        actor = users.actor_for(db, args.user.lower())
        if actor is None:
            console.warn("cli.unknown_user", username=args.user)
            return EXIT_REFUSED
        lang = args.lang or users.preferred_lang(db, actor.username) or console.lang
        filters = CustomerFilters(text=args.q or "", archived=args.archived)
        rows = export_customers(db, actor, filters, args.format, args.out, lang)
    finally:
        db.close()
    console.say("cli.export_done", rows=f"{rows:,}", path=args.out)
    return 0


def cmd_secrets(args, console: Console) -> int:
    """A random cookie-signing key in the secrets file on first start; never overwritten.
    ``--print`` prints a new key instead (for CM_COOKIE_KEY)."""
    from lib.core import config

    if args.print:
        print(config.new_cookie_key(), file=console.out)
        return 0
    path = Path(args.file)
    if path.exists():
        existing = config.read_secrets(path)
        if (existing.get("auth") or {}).get("cookie_key"):
            console.say("cli.secrets_exists", path=path)
            return 0
        console.warn("cli.secrets_conflict", path=path)
        return EXIT_REFUSED
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with owner-only permissions: anyone who reads the key can forge a login.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f'[auth]\ncookie_key = "{config.new_cookie_key()}"\n')
    console.say("cli.secrets_written", path=path)
    return 0


def cmd_import(args, console: Console) -> int:
    """Import customers from a CSV or XLSX file as a user: a dry run, and with --apply
    the import itself (one transaction; nothing is written unless every row passes)."""
    from lib.accounts import users
    from lib.customers import importing, sheets

    data = Path(args.file).read_bytes()
    db = _open(args)
    try:
        user = users.get_user(db, args.user)
        if user is None or not user.active:
            raise NotFound("auth.unknown_user", username=args.user)
        actor = db.actor(user.username, user.role, user.display_name)
        sheet = sheets.read_sheet(data, sheet=args.sheet, header_score=importing.names_a_field)
        holds = importing.CONTACTS if args.contacts else importing.CUSTOMERS
        mapping = importing.suggest_mapping(sheet.headers, importing.remembered_mapping(db, actor.username), holds)
        confirm = importing.ALL_WARNINGS if args.confirm_warnings else ()
        run = importing.run_import if args.apply else importing.dry_run
        extra = {"source": Path(args.file).name} if args.apply else {}
        out = run(db, actor, sheet, mapping, match_by=args.match_by, confirm=confirm, holds=holds,
                  progress=_progress(console), **extra)
        for p in importing.problem_rows(out, console.lang):
            kind = console.msg("import.warning") if p["warning"] else console.msg("import.error")
            print(f"{p['row']}\t{p['column']}\t{p['value']}\t{kind}: {p['message']}", file=console.err)
        if out.unmapped:
            console.warn("import.cli_unmapped", columns=", ".join(out.unmapped))
        console.say("import.cli_counts", rows=out.rows, new=out.new, updated=out.updated,
                    unchanged=out.unchanged, failing=out.failing)
        if not out.clean:
            console.warn("import.cli_nothing_written")
            return EXIT_REFUSED
        console.say("import.cli_written" if args.apply else "import.cli_dry_run_clean")
        return 0
    finally:
        db.close()


# -- parsing ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib.cli", description="Customer Master command line")
    parser.add_argument("--db", default=None, help="database file (default: $CM_DB_PATH or data/customers.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True)
    # --db is accepted after the command too; SUPPRESS keeps it from erasing a value
    # given before the command.
    db_opt = argparse.ArgumentParser(add_help=False)
    db_opt.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def command(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[db_opt], help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = command("init", cmd_init, "create or upgrade the database; --demo adds demo users and customers")
    p.add_argument("--demo", action="store_true", help="create the demo users and, if there are no customers, demo data")
    p.add_argument("--customers", type=_count, default=2000, help="demo customers to generate (default 2000)")
    p.add_argument("--seed", type=int, default=42)

    p = command("demo-data", cmd_demo_data, "generate demo customers owned by the sales and manager users")
    p.add_argument("--customers", type=_count, required=True)
    p.add_argument("--seed", type=int, default=42)

    p = command("create-user", cmd_create_user, "create a user (password from stdin or prompted)")
    p.add_argument("username")
    # The roles are rows of the database's roles table: checked against it once it is open.
    p.add_argument("--role", required=True, help="a role of the roles table (an unknown one is refused with the list)")
    p.add_argument("--name", help="display name (default: the username)")
    p.add_argument("--email")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")

    p = command("reset-password", cmd_reset_password, "set a new password and end the user's sessions")
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true")

    command("list-users", cmd_list_users, "list the users")

    p = command("deactivate-user", cmd_set_active, "deactivate a user (for example the demo users in production)")
    p.add_argument("username")
    p.set_defaults(active=False)
    p = command("activate-user", cmd_set_active, "activate a user again")
    p.add_argument("username")
    p.set_defaults(active=True)

    command("login-delays", cmd_login_delays, "list the users whose next login must wait after failed attempts")
    p = command("lift-login-delay", cmd_lift_login_delay, "forget a user's failed logins so they need not wait")
    p.add_argument("username")

    p = command("backup", cmd_backup, "write a consistent copy of the database to a new file, or (for cron)"
                " a timestamped one in the backup folder keeping the newest N")
    p.add_argument("file", nargs="?", default=None, help="the new file (else --keep N into the backup folder)")
    p.add_argument("--keep", type=int, default=None, help="keep the newest N backups of the folder")
    p.add_argument("--dir", default=None, help="the backup folder (default: $CM_BACKUP_DIR or backups/ beside"
                   " the database, as the administration page uses)")
    p.add_argument("--server", default=os.environ.get("CM_SERVER_URL", "http://127.0.0.1:8501"),
                   help="while the app holds the database, ask this running server for the backup"
                   " (default: $CM_SERVER_URL or http://127.0.0.1:8501)")

    p = command("restore", cmd_restore, "replace the database with a backup (the app must be stopped)")
    p.add_argument("file")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = command("import", cmd_import, "import customers from a CSV or XLSX file (a dry run unless --apply)")
    p.add_argument("file")
    p.add_argument("--user", required=True, help="the user the import acts as (needs the import permission)")
    p.add_argument("--match-by", choices=("code", "uscc"), default="code",
                   help="how rows find the customers they update (default: code)")
    p.add_argument("--sheet", help="the XLSX sheet to read (default: the first)")
    p.add_argument("--contacts", action="store_true",
                   help="the file holds contacts to add to existing customers, named by their code")
    p.add_argument("--confirm-warnings", action="store_true",
                   help="accept the warnings (USCC checksum, doubtful phone) for the whole file")
    p.add_argument("--apply", action="store_true", help="import (one transaction) instead of only checking")

    p = command("export", cmd_export, "export the customers a user may export to a CSV or XLSX file")
    p.add_argument("--user", required=True, help="export as this user (their scope; the audit log names them)")
    p.add_argument("--format", choices=("csv", "xlsx"), required=True)
    p.add_argument("--out", required=True, help="the file to write (replaced if it exists)")
    p.add_argument("--q", default="", help="free-text search, as typed in the customers page's search box")
    p.add_argument("--archived", choices=("active", "archived", "all"), default="active")
    p.add_argument("--lang", choices=("zh", "en"), help="headers and labels (default: the user's language)")

    p = sub.add_parser("secrets", help="write a random cookie-signing key unless one exists")
    p.add_argument("--file", default=".streamlit/secrets.toml")
    p.add_argument("--print", action="store_true", help="print a new random key instead (for CM_COOKIE_KEY)")
    p.set_defaults(func=cmd_secrets)
    return parser


def _count(text: str) -> int:
    value = int(text.replace(",", "").replace("_", ""))
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(cli_lang())
    try:
        return args.func(args, console)
    except DatabaseInUse as exc:
        console.error(exc)
        return EXIT_IN_USE
    except CustomerMasterError as exc:
        console.error(exc)
        return EXIT_REFUSED
    except (OSError, duckdb.IOException) as exc:
        # The machine said no (permissions, disk full, a directory where a file should
        # be): the operator needs its words, not a stack.
        print(console.msg("cli.error") + str(exc), file=console.err)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        console.warn("cli.interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
