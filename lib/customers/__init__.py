"""The customer and its parts: field declaration, validation, the write path, search.

Loading the package lets every error message show a field by its label in the user's
language (``lib.core.errors`` cannot import the declaration: that would be a cycle).
"""
from lib.core import errors as _errors
from lib.customers import fields as _fields

_errors.use_field_labels(_fields.label)
