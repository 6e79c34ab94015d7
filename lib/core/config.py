"""Run-time configuration: mode (demo or production) and the cookie-signing key.

Plain Python so the app, the command line and tests share one set of rules.

- ``CM_MODE``: ``demo`` (default) or ``production``.
- Cookie key: env ``CM_COOKIE_KEY``, else ``[auth] cookie_key`` in
  ``.streamlit/secrets.toml`` (``make run`` writes a random one on first start).
- ``CM_COOKIE_EXPIRY_DAYS``: how long a login cookie lasts (default 7).

Production refuses to start with a missing, short or sample key, or while any demo
user is active: anyone with the key can forge a login cookie for any user, and the
demo passwords are published in the README.
"""
from __future__ import annotations

import logging
import os
import secrets as _secrets
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from lib.core.errors import ConfigError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SECRETS_PATH = ROOT / ".streamlit" / "secrets.toml"

DEMO = "demo"
PRODUCTION = "production"
MODES = (DEMO, PRODUCTION)

MIN_KEY_LENGTH = 32
COOKIE_NAME = "customer_master_auth"
DEFAULT_EXPIRY_DAYS = 7.0

# Keys copied from documentation and templates. streamlit-authenticator's default is
# the public string "some_key".
SAMPLE_KEYS = frozenset({
    "some_key", "some_signature_key", "random_signature_key", "secret", "secret_key",
    "changeme", "change-me", "change_me", "please-change-me", "your-secret-key",
    "your_secret_key", "replace-me", "cookie_key", "cookie-key", "abcdef", "password",
})
_SAMPLE_MARKERS = ("changeme", "change-me", "change_me", "replace", "example", "sample", "your-", "your_", "xxxx")


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


def is_sample_key(key: str) -> bool:
    k = key.strip().lower()
    return k in SAMPLE_KEYS or any(m in k for m in _SAMPLE_MARKERS) or len(set(k)) < 8


def key_problems(key: str | None) -> list[ConfigError]:
    if not key:
        return [ConfigError("config.cookie_key_missing")]
    if is_sample_key(key):
        return [ConfigError("config.cookie_key_sample")]
    if len(key) < MIN_KEY_LENGTH:
        return [ConfigError("config.cookie_key_short", min=MIN_KEY_LENGTH)]
    return []


def startup_problems(config: AppConfig, db=None) -> list[ConfigError]:
    """Why the app must not start, as translatable errors ([] = fine to start).

    Demo mode always starts. Production needs a good key and no active demo user."""
    problems: list[ConfigError] = []
    if config.mode not in MODES:
        problems.append(ConfigError("config.bad_mode", mode=config.mode))
        return problems
    if not config.production:
        return problems
    problems += key_problems(config.cookie_key)
    if db is not None:
        from lib.accounts.users import active_demo_users

        demo = active_demo_users(db)
        if demo:
            problems.append(ConfigError("config.demo_users_active", users=", ".join(demo)))
    return problems


def new_cookie_key() -> str:
    """A fresh random key for ``secrets.toml`` (64 URL-safe characters)."""
    return _secrets.token_urlsafe(48)
