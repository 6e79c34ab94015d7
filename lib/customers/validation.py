"""Validation of a whole record, driven by its field declaration (``lib.customers.fields``).

Every channel (form, grid, import, demo data) calls ``validate_customer``. Each field is
cleaned by its kind (``lib.customers.kinds``); the record-level rules (an individual has
no company size, an update never clears the owner) are here. It returns clean column
values or raises ``ValidationError`` listing every problem at once; warnings the user
may accept (a USCC whose checksum fails, a phone number that parses but is not valid)
raise ``ConfirmationRequired`` unless their codes are in ``confirm``. Nothing a user can
type raises anything else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from lib.core.errors import ConfirmationRequired, ValidationError
from lib.customers import fields as F
from lib.customers.fields import Field
from lib.customers.kinds import Kind, Problems, ValidationContext, kind_of


def _same(a: Any, b: Any) -> bool:
    """``a == b`` for anything a caller may pass (comparing Decimal('sNaN') raises)."""
    try:
        return bool(a == b)
    except (ArithmeticError, TypeError, ValueError):
        return False


@F.per_declaration
def _with_kinds(decl: tuple[Field, ...]) -> tuple[tuple[Field, Kind], ...]:
    """Each field of a declaration with its kind, derived once per declaration rather
    than once per record."""
    return tuple((f, kind_of(f)) for f in decl)


# -- the record -------------------------------------------------------------------------
@dataclass
class CleanCustomer:
    """Validated values by storage (``Field.storage``: "customer" for the customers row,
    "primary_contact" for the primary contact's row), each as {column: value}."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    fields: tuple[Field, ...] = ()

    @property
    def customer(self) -> dict[str, Any]:
        return self.tables.setdefault("customer", {})

    @property
    def contact(self) -> dict[str, Any]:
        return self.tables.setdefault("primary_contact", {})

    def field_values(self) -> dict[str, Any]:
        """Values by field name (as declared), for comparison and the audit log."""
        return {f.name: self.tables.get(f.storage, {}).get(f.db_column) for f in self.fields}


def validate_customer(
    values: Mapping[str, Any],
    ctx: ValidationContext,
    *,
    current: Mapping[str, Any] | None = None,
    confirm: Iterable[str] = (),
    fields: Sequence[Field] | None = None,
) -> CleanCustomer:
    """Validate a whole customer by field name.

    ``values`` holds every field for a new customer, or the changed fields for an
    update, in which case ``current`` holds the stored values by field name: unchanged
    values are re-checked for errors but do not raise warnings again. ``fields`` is the
    declaration (default: the customer's, as it stands now)."""
    decl = F.declared(fields)
    by_name, kinds = F.named(decl), _with_kinds(decl)
    problems = Problems()
    if not isinstance(values, Mapping):
        raise ValidationError("_record", "validation.invalid")
    unknown = [k for k in values if k not in by_name]
    for k in unknown:
        problems.error(str(k)[:50], "validation.unknown_field", field=str(k)[:50])
    current = current or {}
    merged = {f.name: (values[f.name] if f.name in values else current.get(f.name, f.default if not current else None))
              for f in decl}
    changed = {name for name in values if name in by_name and not _same(values[name], current.get(name))} \
        if current else set(values)

    out = CleanCustomer(fields=decl)
    for f, kind in kinds:
        stored = kind.clean(merged[f.name], f, problems, ctx, f.name in changed, current.get(f.name))
        out.tables.setdefault(f.storage, {}).update(kind.store(f, stored))
        # A custom field made required after customers were saved does not block their
        # other changes: it is required when given (and for every new customer).
        if f.required and stored[""] is None and not (f.custom and current and f.name not in values) \
                and not any(p.field == f.name for p in problems.errors):
            problems.error(f.name, "validation.required")

    # Cross-field rules.
    # customers.owner is NOT NULL: an update may change the owner but never clear it. (A
    # new customer without one is fine here: create_customer fills in the actor.)
    if current and "owner" in by_name and out.customer.get("owner") is None \
            and "owner" not in {p.field for p in problems.errors}:
        problems.error("owner", "validation.required")
    if out.customer.get("customer_type") == "individual" and out.customer.get("size"):
        problems.error("size", "validation.size_for_individual")

    if problems.errors:
        raise ValidationError(problems.errors)
    confirmed = set(confirm)
    pending = [w for w in problems.warnings if w.code not in confirmed]
    if pending:
        raise ConfirmationRequired(pending)
    return out
