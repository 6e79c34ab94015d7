"""Typed, translatable errors raised by the service layer.

Every error carries a message key (looked up in ``lib.core.i18n.MESSAGES``) and the
parameters the message needs, never a finished sentence: the page renders it in the
user's language. Nothing a user can type should surface as any other exception.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


class CustomerMasterError(Exception):
    """Base of every error the service layer raises on purpose."""

    key = "error.unexpected"

    def __init__(self, key: str | None = None, **params: Any):
        self.key = key or self.key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)

    def translate(self, lang: str) -> str:
        return _translate(self.key, lang, self.params)


def _translate(key: str, lang: str, params: dict[str, Any]) -> str:
    """Translate, showing a field's label (in ``lang``) where a parameter names a field."""
    from lib.core.i18n import t

    shown = {k: (_field_label(v, lang) if k == "field" and isinstance(v, str) else v) for k, v in params.items()}
    return t(key, lang, **shown)


def _no_label(name: str, lang: str) -> str:
    return name


# The core knows no customer fields (it would import the domain that imports it): the
# package that declares them hands its label function over when it is loaded
# (``lib/customers/__init__.py``). Until then a field shows by its name.
_field_label: Callable[[str, str], str] = _no_label


def use_field_labels(label: Callable[[str, str], str]) -> None:
    """Show a ``field`` parameter of every message as ``label(name, lang)``."""
    global _field_label
    _field_label = label


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field: an error, or a warning the user may confirm."""

    field: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    # A warning is confirmed by passing its ``code`` in ``confirm=...``.
    code: str | None = None

    def translate(self, lang: str) -> str:
        return _translate(self.key, lang, self.params)


class ValidationError(CustomerMasterError):
    """One or more fields are invalid. ``problems`` lists them all, so a form can show
    every message next to its field at once."""

    key = "error.validation"

    def __init__(self, problems: list[FieldProblem] | FieldProblem | str, key: str | None = None, **params: Any):
        if isinstance(problems, str):
            # ValidationError("name", "validation.required") shorthand
            problems = [FieldProblem(problems, key or "validation.invalid", params)]
            key = None
        if isinstance(problems, FieldProblem):
            problems = [problems]
        self.problems: list[FieldProblem] = list(problems)
        super().__init__(None)

    @property
    def field(self) -> str:
        return self.problems[0].field

    @property
    def fields(self) -> dict[str, list[FieldProblem]]:
        out: dict[str, list[FieldProblem]] = {}
        for p in self.problems:
            out.setdefault(p.field, []).append(p)
        return out

    def __str__(self) -> str:  # readable in logs and test failures
        return "; ".join(f"{p.field}: {p.key} {p.params}" for p in self.problems)


class ConfirmationRequired(ValidationError):
    """The input is acceptable only if the user confirms the listed warnings (a USCC whose
    checksum fails, a phone number that parses but is not a valid number). Call again
    with ``confirm`` containing every warning's ``code``."""

    key = "error.confirmation_required"

    @property
    def codes(self) -> set[str]:
        return {p.code for p in self.problems if p.code}


class PermissionDenied(CustomerMasterError):
    key = "error.permission_denied"


class NotFound(CustomerMasterError):
    key = "error.not_found"


class ConflictError(CustomerMasterError):
    """The record changed since the caller read it. Carries who changed it, when, and
    the current values so the user can compare."""

    key = "error.conflict"

    def __init__(self, key: str | None = None, current: dict | None = None, **params: Any):
        self.current = current or {}
        super().__init__(key, **params)


class DuplicateError(CustomerMasterError):
    """A unique value (USCC, username) is already taken."""

    key = "error.duplicate"


class DatabaseInUse(CustomerMasterError):
    """Another process holds the DuckDB file (DuckDB allows one writing process)."""

    key = "error.database_in_use"


class AuthError(CustomerMasterError):
    """Login failed. Deliberately does not say whether the user exists."""

    key = "auth.invalid_credentials"


class ConfigError(CustomerMasterError):
    key = "error.config"
