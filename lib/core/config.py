"""Run-time configuration: mode (demo or production) and the cookie-signing key.

Plain Python so the app, the command line and tests share one set of rules.

- ``CM_MODE``: ``demo`` (default) or ``production``.
- Cookie key: env ``CM_COOKIE_KEY``, else ``[auth] cookie_key`` in
  ``.streamlit/secrets.toml`` (``make run`` writes a random one on first start).
- ``CM_COOKIE_EXPIRY_DAYS``: how long a login cookie lasts (default 7).

Production refuses to start without a random key of at least 32 bytes (hex or base64,
as ``python -m lib.cli secrets`` writes it), with a key that appears in any file of the
project (tests and docs are public), or while any demo user is active: anyone with the
key can forge a login cookie for any user, and the demo passwords are published in the
README.
"""
from __future__ import annotations

import logging
import math
import os
import re
import secrets as _secrets
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from lib.core.errors import ConfigError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]  # the project folder (lib/core/config.py)
SECRETS_PATH = ROOT / ".streamlit" / "secrets.toml"

DEMO = "demo"
PRODUCTION = "production"
MODES = (DEMO, PRODUCTION)

MIN_KEY_BYTES = 32
COOKIE_NAME = "customer_master_auth"
DEFAULT_EXPIRY_DAYS = 7.0
# Never searched for a published key: not the project's, or too big to be a text file.
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".hypothesis", "node_modules",
                        "data", "backups", "test-artifacts"})
_MAX_SCANNED_FILE = 4 * 1024 * 1024

@dataclass(frozen=True)
class AppConfig:
    mode: str
    cookie_key: str | None  # as configured; None when missing
    cookie_name: str = COOKIE_NAME
    cookie_expiry_days: float = DEFAULT_EXPIRY_DAYS

    @property
    def production(self) -> bool:
        return self.mode == PRODUCTION

    def signing_key(self) -> str:
        """The key to sign cookies with. In demo mode a missing key becomes a random
        per-process key (logins then do not survive a restart); production never gets
        here without a good key (see ``startup_problems``)."""
        if self.cookie_key:
            return self.cookie_key
        if self.production:
            raise ConfigError("config.cookie_key_missing")
        return _ephemeral_key()


@lru_cache(maxsize=1)
def _ephemeral_key() -> str:
    log.warning("No cookie key configured (CM_COOKIE_KEY or [auth] cookie_key in %s); "
                "using a random key for this process.", SECRETS_PATH)
    return _secrets.token_urlsafe(48)


def read_secrets(path: str | os.PathLike | None = None) -> dict:
    """The secrets file as a dict ({} when there is none)."""
    p = Path(path) if path is not None else SECRETS_PATH
    try:
        with open(p, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}


def load_config(env: Mapping[str, str] | None = None, secrets: Mapping | None = None) -> AppConfig:
    """Read mode and cookie settings from the environment and the secrets file."""
    env = os.environ if env is None else env
    secrets = read_secrets() if secrets is None else secrets
    mode = (env.get("CM_MODE") or DEMO).strip().lower()
    key = env.get("CM_COOKIE_KEY") or (secrets.get("auth") or {}).get("cookie_key") or None
    if key is not None:
        key = str(key).strip() or None
    try:
        days = float(env.get("CM_COOKIE_EXPIRY_DAYS") or DEFAULT_EXPIRY_DAYS)
    except ValueError:
        days = DEFAULT_EXPIRY_DAYS
    return AppConfig(mode=mode, cookie_key=key, cookie_expiry_days=days if days > 0 else DEFAULT_EXPIRY_DAYS)


def key_bytes(key: str) -> int | None:
    """How many bytes ``key`` encodes as hex or base64 (URL-safe or standard), the
    forms a key generator writes; None if it is neither (a passphrase, say)."""
    body = key.rstrip("=")
    if re.fullmatch(r"[0-9a-fA-F]+", body):
        return len(body) // 2
    if re.fullmatch(r"[A-Za-z0-9_\-+/]+", body):
        return len(body) * 6 // 8
    return None


def looks_random(key: str) -> bool:
    """Could ``key`` be the output of a random generator? Refuses what people type
    instead: words (one letter case, or mostly lower case), few distinct symbols,
    repeated pieces ("0123456789abcdef" four times) and runs along the alphabet. A
    generated key passes all of them (checked on thousands of keys in the tests)."""
    body = key.rstrip("=")
    if len(body) < 16:
        return False
    is_hex = re.fullmatch(r"[0-9a-fA-F]+", body) is not None
    if is_hex and body != body.lower() and body != body.upper():
        return False  # a generator writes hex in one case
    if not is_hex:
        # Base64 of random bytes has ~40% lower case, ~40% upper case, ~20% digits and
        # signs; words (even CamelCase ones) are mostly lower case.
        classes = (sum(c.islower() for c in body), sum(c.isupper() for c in body))
        if min(classes) == 0 or max(classes) > 0.7 * len(body):
            return False
    counts = Counter(body)
    entropy = -sum(n / len(body) * math.log2(n / len(body)) for n in counts.values())
    if entropy < (3.0 if is_hex else 4.0):  # random: ~3.75 and ~5 bits per character
        return False
    pieces = [body[i:i + 8] for i in range(len(body) - 7)]
    if len(set(pieces)) < len(pieces):
        return False
    steps = [ord(b) - ord(a) for a, b in zip(body, body[1:])]
    return max(steps.count(1), steps.count(-1)) <= len(steps) // 4


def published_in(key: str, root: Path | None = None) -> str | None:
    """The first project file (relative path) that contains ``key``, or None. A key
    written in the repository (a test, a README example) is known to everyone who has
    a copy; the secrets file itself is not searched."""
    root = str(root or ROOT)
    needle = key.encode("utf-8")
    secrets_file = SECRETS_PATH.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            try:
                if path.resolve() == secrets_file or path.stat().st_size > _MAX_SCANNED_FILE:
                    continue
                if needle in path.read_bytes():
                    return str(path.relative_to(root))
            except OSError:
                continue
    return None


def key_problems(key: str | None, root: Path | None = None) -> list[ConfigError]:
    """Why ``key`` must not sign production cookies ([] = a good key): anyone who knows
    or guesses it can forge a login for any user."""
    if not key:
        return [ConfigError("config.cookie_key_missing")]
    where = published_in(key, root)
    if where:
        return [ConfigError("config.cookie_key_public", path=where)]
    encoded = key_bytes(key)
    if encoded is None or not looks_random(key):
        return [ConfigError("config.cookie_key_sample")]
    if encoded < MIN_KEY_BYTES:
        return [ConfigError("config.cookie_key_short", min=MIN_KEY_BYTES)]
    return []


@lru_cache(maxsize=4)
def _key_problems_at_start(key: str | None) -> list[ConfigError]:
    # Checked on every script run; the project's files do not change while it serves.
    return key_problems(key)


def startup_problems(config: AppConfig, db=None) -> list[ConfigError]:
    """Why the app must not start, as translatable errors ([] = fine to start).

    Demo mode always starts. Production needs a good key and no active demo user."""
    problems: list[ConfigError] = []
    if config.mode not in MODES:
        problems.append(ConfigError("config.bad_mode", mode=config.mode))
        return problems
    if not config.production:
        return problems
    problems += _key_problems_at_start(config.cookie_key)
    if db is not None:
        from lib.accounts.users import active_demo_users

        demo = active_demo_users(db)
        if demo:
            problems.append(ConfigError("config.demo_users_active", users=", ".join(demo)))
    return problems


def new_cookie_key() -> str:
    """A fresh random key: 48 random bytes as 64 URL-safe base64 characters."""
    return _secrets.token_urlsafe(48)
