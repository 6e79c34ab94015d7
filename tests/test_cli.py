"""The command line, run as the operator runs it: a subprocess against a temporary file."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lib.accounts import users
from lib.core.db import Database
from lib.core.errors import AuthError
from tests.conftest import ROOT


def run_cli(*args: str, stdin: str | None = None, lang: str = "en_US.UTF-8", timeout: int = 120):
    env = {**os.environ, "CM_BCRYPT_ROUNDS": "4", "LANG": lang, "CM_MODE": "demo"}
    env.pop("CM_LANG", None)
    env.pop("LC_ALL", None)
    return subprocess.run([sys.executable, "-m", "lib.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


def test_init_demo_is_idempotent(tmp_path):
    path = str(tmp_path / "cm.duckdb")
    first = run_cli("--db", path, "init", "--demo", "--customers", "40", "--seed", "3")
    assert first.returncode == 0, first.stderr
    assert "Generated 40 customers" in first.stdout
    again = run_cli("init", "--db", path, "--demo", "--customers", "40")  # --db after the command works too
    assert again.returncode == 0, again.stderr
    assert "40 customers exist" in again.stdout and "Generated" not in again.stdout
    db = Database(path)
    try:
        with db.read() as cur:
            assert cur.execute("SELECT count(*) FROM customers").fetchone()[0] == 40
            assert cur.execute("SELECT count(*) FROM users WHERE is_demo").fetchone()[0] == len(users.DEMO_USERS)
    finally:
        db.close()


def test_create_user_and_reset_password(tmp_path):
    path = str(tmp_path / "cm.duckdb")
    assert run_cli("--db", path, "init").returncode == 0
    made = run_cli("--db", path, "create-user", "Alice", "--role", "manager", "--name", "爱丽丝",
                   "--password-stdin", stdin="first-password-1\n")
    assert made.returncode == 0, made.stderr
    reset = run_cli("--db", path, "reset-password", "alice", "--password-stdin", stdin="second-password-2\n")
    assert reset.returncode == 0, reset.stderr
    listed = run_cli("--db", path, "list-users")
    assert "alice" in listed.stdout and "爱丽丝" in listed.stdout and "manager" in listed.stdout

    db = Database(path)
    try:
        assert users.verify_credentials(db, "alice", "second-password-2").role == "manager"
        with pytest.raises(AuthError):
            users.verify_credentials(db, "alice", "first-password-1")
    finally:
        db.close()


def test_bad_input_prints_a_message_not_a_traceback(tmp_path):
    path = str(tmp_path / "cm.duckdb")
    short = run_cli("--db", path, "create-user", "bob", "--role", "sales", "--password-stdin", stdin="short\n",
                    lang="zh_CN.UTF-8")
    assert short.returncode == 1
    assert "密码至少需要 10 个字符" in short.stderr and "Traceback" not in short.stderr
    missing = run_cli("--db", path, "reset-password", "nobody", "--password-stdin", stdin="long-enough-pw\n")
    assert missing.returncode == 1 and "nobody" in missing.stderr and "Traceback" not in missing.stderr
    no_owner = run_cli("--db", path, "demo-data", "--customers", "5")
    assert no_owner.returncode == 1 and "Traceback" not in no_owner.stderr


def test_locked_database_names_the_holder(tmp_path):
    path = str(tmp_path / "cm.duckdb")
    assert run_cli("--db", path, "init").returncode == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(60)", path], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        en = run_cli("--db", path, "list-users")
        zh = run_cli("--db", path, "init", "--demo", lang="zh_CN.UTF-8")
    finally:
        holder.kill()
        holder.wait()
    assert en.returncode == zh.returncode == 3
    assert "in use" in en.stderr and f"PID {holder.pid}" in en.stderr
    assert "占用" in zh.stderr and str(holder.pid) in zh.stderr
    assert "Traceback" not in en.stderr + zh.stderr


def test_backup_and_restore_commands(tmp_path):
    path = str(tmp_path / "cm.duckdb")
    target = str(tmp_path / "backup.duckdb")
    assert run_cli("--db", path, "init", "--demo", "--customers", "10").returncode == 0
    done = run_cli("--db", path, "backup", target)
    assert done.returncode == 0, done.stderr
    again = run_cli("--db", path, "backup", target)
    assert again.returncode == 1 and "already exists" in again.stderr
    unconfirmed = run_cli("--db", path, "restore", target, stdin="")
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr
    restored = run_cli("--db", path, "restore", target, "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "Restored" in restored.stdout and "before-restore" in restored.stdout


def test_secrets_writes_a_key_once(tmp_path):
    secrets_file = tmp_path / "s" / "secrets.toml"
    first = run_cli("secrets", "--file", str(secrets_file))
    assert first.returncode == 0, first.stderr
    content = secrets_file.read_text()
    assert "cookie_key" in content and oct(secrets_file.stat().st_mode & 0o777) == "0o600"
    assert run_cli("secrets", "--file", str(secrets_file)).returncode == 0
    assert secrets_file.read_text() == content


def test_create_user_takes_its_roles_from_the_roles_table(tmp_path):
    path = str(tmp_path / "cm.duckdb")
    assert run_cli("--db", path, "init").returncode == 0
    refused = run_cli("--db", path, "create-user", "carol", "--role", "auditor", "--password-stdin",
                      stdin="a-password-123\n")
    assert refused.returncode == 2
    assert "Unknown role: auditor. Roles: admin, manager, sales, viewer" in refused.stderr
    db = Database(path)
    try:
        with db.transaction() as cur:
            cur.execute("INSERT INTO roles VALUES ('auditor', '审计', 'Auditor', 4)")
    finally:
        db.close()
    made = run_cli("--db", path, "create-user", "carol", "--role", "auditor", "--password-stdin",
                   stdin="a-password-123\n")
    assert made.returncode == 0, made.stderr
    assert "Created user carol (auditor)" in made.stdout


def test_secrets_print_gives_a_key_production_accepts(tmp_path):
    from lib.core import config

    printed = run_cli("secrets", "--print")
    assert printed.returncode == 0, printed.stderr
    key = printed.stdout.strip()
    assert config.key_problems(key) == [] and config.key_bytes(key) >= 32
    assert run_cli("secrets", "--print").stdout.strip() != key


def test_login_delays_are_listed_and_lifted(tmp_path):
    path = str(tmp_path / "cm.duckdb")
    db = Database(path)
    try:
        users.create_user(db, None, "wang", "王芳", "sales", "wang-password-1")
        for _ in range(5):
            with pytest.raises(AuthError):
                users.verify_credentials(db, "wang", "not-the-password")
    finally:
        db.close()
    listed = run_cli("--db", path, "login-delays")
    assert listed.returncode == 0, listed.stderr
    assert "wang" in listed.stdout and "other browsers" in listed.stdout
    lifted = run_cli("--db", path, "lift-login-delay", "wang")
    assert lifted.returncode == 0 and "wang" in lifted.stdout
    assert "no login has to wait" in run_cli("--db", path, "login-delays").stdout
    db = Database(path)
    try:
        assert users.verify_credentials(db, "wang", "wang-password-1").username == "wang"
        with db.read() as cur:
            assert cur.execute("SELECT actor FROM audit_log WHERE action = 'user.lift_login_delay'").fetchall() == [
                ("system",)]
    finally:
        db.close()
