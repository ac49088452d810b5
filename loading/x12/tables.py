"""Arrow types of the staging columns and the builder of a staging table from column lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

STR = pa.string()
DATE = pa.date32()
MONEY = pa.decimal128(18, 2)  # DECIMAL(18,2)
QTY = pa.decimal128(10, 3)  # DECIMAL(10,3)
STRS = pa.list_(pa.string())  # VARCHAR[]

Schema = Sequence[tuple[str, pa.DataType]]


def build(
    columns: Mapping[str, Sequence[object] | pa.Array], schema: Schema, file_sha256: str
) -> pa.Table:
    """A table with ``file_sha256`` first, then the columns of ``schema`` in order.

    ``columns`` holds one Python list (or a ready Arrow array) per column name, all of one
    length; money and quantities are ``Decimal``, dates ``datetime.date``, lists ``list[str]``.
    """
    rows = len(columns[schema[-1][0]]) if schema else 0
    arrays = [pa.array([file_sha256] * rows, STR)]
    arrays += [
        data if isinstance(data, pa.Array) else pa.array(data, type=kind)
        for data, kind in ((columns[name], kind) for name, kind in schema)
    ]
    names = ["file_sha256", *(name for name, _ in schema)]
    return pa.Table.from_arrays(arrays, names=names)
