"""Entering a new customer (新建客户): the entry form's save as one service call.

``enter_customer`` checks the permissions, fills the defaults, validates every field
once, asks about possible duplicates and creates the customer. Whatever needs the
user's word comes back as a typed confirmation request, and the form calls again with
the confirmations it collected:

* ``ConfirmationRequired`` — warnings about values (a USCC whose checksum fails, a
  phone number that parses but is not valid); confirmed by their ``codes``;
* ``PossibleDuplicates`` — existing customers that look like this one, with who owns
  them; confirmed by its ``code``, which names exactly these matches (a different set
  of matches asks again).

The form renders these and holds no rule of its own: not which fields the user may
set, not the owner default, not the order of the checks.
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable, Mapping

from lib.core.errors import ConfirmationRequired, FieldProblem
from lib.customers import customer as cs
from lib.customers.duplicates import looks_like
from lib.customers.search import DuplicateMatch

DUPLICATES_CODE = "duplicates"  # prefix of a PossibleDuplicates confirmation code
_MESSAGE = "validation.possible_duplicates"  # takes {n}, the number of matches


class PossibleDuplicates(ConfirmationRequired):
    """Existing customers may be this one. ``matches`` lists them (for customers the
    actor may not open: name, code and owner only); confirm with ``code`` to save anyway."""

    def __init__(self, matches: list[DuplicateMatch]):
        self.matches = list(matches)
        digest = hashlib.sha1("|".join(sorted(m.code for m in self.matches)).encode()).hexdigest()[:12]
        self.code = f"{DUPLICATES_CODE}.{digest}"
        super().__init__([FieldProblem("name", _MESSAGE, {"n": len(self.matches)}, code=self.code)])


def enter_customer(db, actor, values: Mapping[str, Any], *, confirm: Iterable[str] = ()) -> dict:
    """Save a new customer from the entry form; returns the stored record with its code.

    Raises ``ValidationError`` (every problem at once), ``ConfirmationRequired`` for
    warnings not in ``confirm``, then ``PossibleDuplicates`` unless its code is in
    ``confirm``, ``PermissionDenied`` for a field the actor may not set, and
    ``DuplicateError`` for a USCC another customer holds."""
    confirm = set(confirm)
    new = cs.prepare_new(db, actor, values, confirm=confirm)
    matches = looks_like(db, actor, new.values)
    if matches:
        request = PossibleDuplicates(matches)
        if request.code not in confirm:
            raise request
    return cs.insert_new(db, actor, new)
