"""Writing many rows at once: Arrow tables inserted in one statement each.

The bulk paths (demo data, import) build every row with the write path's own pieces
(``customer.build_rows`` after ``validate_customer``) and insert them through here
instead of one INSERT per row. Column types come from the write paths, which derive
them from the declarations.
"""
from __future__ import annotations

import contextlib
from typing import Mapping, Sequence

import duckdb
import pyarrow as pa

from lib.customers import contacts as ct
from lib.customers import customer as cs

_TS = pa.timestamp("us")
_ARROW = {"BIGINT": pa.int64(), "INTEGER": pa.int32(), "BOOLEAN": pa.bool_(), "TIMESTAMP": _TS,
          "VARCHAR": pa.string(), "DECIMAL(14,2)": pa.decimal128(14, 2),
          "DECIMAL(18,4)": pa.decimal128(18, 4), "DATE": pa.date32(), "BLOB": pa.binary()}


def arrow_type(sql_type: str) -> pa.DataType:
    return _ARROW[sql_type]


def schema(columns: Mapping[str, str]) -> pa.Schema:
    """The Arrow schema of {column: SQL type}."""
    return pa.schema([(c, arrow_type(t)) for c, t in columns.items()])


def customer_schema() -> pa.Schema:
    """A customers row: the declared fields' columns and the write path's own."""
    return schema(cs.customer_columns())


def contact_schema() -> pa.Schema:
    return schema(ct.contact_columns())


def audit_schema() -> pa.Schema:
    return schema(cs.AUDIT_COLUMN_TYPES)


def table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows given as {column: value} as an Arrow table of ``schema`` (a column a row
    does not name is NULL)."""
    return pa.table({name: pa.array([r.get(name) for r in rows], type=schema.field(name).type)
                     for name in schema.names}, schema=schema)


def reserve(cur, sequence: str, n: int) -> list[int]:
    """n numbers from a sequence in one statement; sorted, since a parallel scan may
    hand them out of order."""
    if n <= 0:
        return []
    res = cur.execute(f"SELECT nextval('{sequence}') AS v FROM range(?)", [n]).fetchnumpy()["v"]
    return sorted(res.tolist())


def insert(cur, table_name: str, tbl: pa.Table) -> None:
    """INSERT an Arrow table's rows into ``table_name`` (its column names)."""
    if tbl.num_rows == 0:
        return
    cols = ", ".join(tbl.column_names)
    cur.register("_bulk_batch", tbl)
    try:
        cur.execute(f"INSERT INTO {table_name} ({cols}) SELECT {cols} FROM _bulk_batch")
    finally:
        # In an aborted transaction this raises too; the insert's own error matters.
        with contextlib.suppress(duckdb.Error):
            cur.unregister("_bulk_batch")


def numbered(tbl: pa.Table, column: str, ids: Sequence[int]) -> pa.Table:
    """``tbl`` with ``column`` (numbers 0 … n-1) replaced by ``ids[n]``."""
    import pyarrow.compute as pc

    i = tbl.schema.get_field_index(column)
    return tbl.set_column(i, column, pc.take(pa.array(ids, pa.int64()), tbl.column(column)))
