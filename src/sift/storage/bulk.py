"""Appending a batch of rows in one transaction with a few driver calls, not one per row.

SQLAlchemy's `executemany` on SQLite steps the statement once per row, releasing and
re-taking the GIL around each step, after its own per-row parameter handling: beside a
busy thread (the server's event loop) 2,000 click events cost the writer ~24 ms of CPU and
blocked it 23-58 times (docs/benchmarks/events.md, "Click events", fifth pass). Here SQLite gets
one prepared multi-row `INSERT ... VALUES (?, ...), (?, ...)` per chunk of rows and
PostgreSQL one `COPY ... FROM STDIN`, both on the transaction's own connection: ~12 ms
and ~6 ms of CPU for the same batch.

Values go through each column type's bind processor for the dialect first, so what is
stored is what SQLAlchemy's own insert stores (on SQLite a `DateTime` becomes the same
text, microseconds always written).
"""

from __future__ import annotations

import functools
import itertools
import operator
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

# The largest statement is this many rows: its SQL text is a few hundred kilobytes, and
# sqlite3 keeps each prepared text in its per-connection cache (128 statements).
MAX_CHUNK_ROWS = 4096

Row = Sequence[Any]


def append_rows(
    conn: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Row]
) -> None:
    """Insert `rows` (each a value per name in `columns`, in that order) into `table`, in
    order, inside `conn`'s transaction; columns left out take their defaults (the id)."""
    if rows:
        append_columns(conn, table, columns, list(zip(*rows, strict=True)))


def append_columns(
    conn: Connection, table: sa.Table, columns: Sequence[str], values: Sequence[Sequence[Any]]
) -> None:
    """:func:`append_rows` for rows given column by column: ``values`` holds, for each name
    in ``columns``, the rows' values of that column, in the rows' order."""
    if len(values) != len(columns):
        raise ValueError(f"{len(values)} columns of values for {len(columns)} names")
    if not values or not values[0]:
        return
    rows = _processed(conn.dialect, table, columns, values)
    if conn.dialect.name == "sqlite":
        _sqlite_insert(conn, table, tuple(columns), rows)
    else:  # PostgreSQL, the only other database (sift.storage.database.normalize_url)
        _postgres_copy(conn, table, columns, rows)


def _processed(
    dialect: Dialect, table: sa.Table, columns: Sequence[str], values: Sequence[Sequence[Any]]
) -> list[Row]:
    """The rows, each value bound by its column's processor: the work per column, not per
    value."""
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    by_column = list(values)
    for i, process in enumerate(processors):
        if process is not None:
            by_column[i] = _bound(process, by_column[i])
    return list(zip(*by_column, strict=True))


# SQLite keeps a `DateTime` as text, which SQLAlchemy's bind processor formats in Python
# from a dict of seven attributes of each value: 2-3x `isoformat`'s time, for every click
# event and search the writer stores (docs/benchmarks/events.md, "Twelfth pass"). For
# naive datetimes that text is `isoformat(" ", "microseconds")`'s, one C call: taken
# when the processor is seen to write it for a few values, checked once per batch (a
# processor writing another format keeps its own).
ISO_TEXT = operator.methodcaller("isoformat", " ", "microseconds")
ISO_PROBES = (datetime(2026, 12, 7, 9, 5, 3, 40), datetime(987, 1, 2, 3, 4, 5),
              datetime(2000, 1, 1))  # fmt: skip
TZINFO = operator.attrgetter("tzinfo")


def _writes_iso_text(process: Callable[[Any], Any]) -> bool:
    try:
        return all(process(value) == ISO_TEXT(value) for value in ISO_PROBES)
    except Exception:  # a processor for other values (not a datetime's)
        return False


def _bound(process: Callable[[Any], Any], values: Sequence[Any]) -> Sequence[Any]:
    """``values`` as ``process`` binds them; naive datetimes through ``ISO_TEXT`` where the
    processor's text is the same."""
    if (set(map(type, values)) == {datetime} and not any(map(TZINFO, values))
            and _writes_iso_text(process)):  # fmt: skip
        return tuple(map(ISO_TEXT, values))
    return tuple(map(process, values))


def chunk_sizes(rows: int, largest: int) -> list[int]:
    """`rows` split into chunks of powers of two, `largest` (a power of two) at most, largest
    first: a batch of any size takes a few statements (one per bit of its size), and a
    connection prepares at most log2(largest) + 1 distinct texts per table however the
    batch sizes vary, each kept in sqlite3's statement cache."""
    sizes = [largest] * (rows // largest)
    rest = rows % largest
    bit = largest >> 1
    while rest:
        if rest & bit:
            sizes.append(bit)
            rest -= bit
        bit >>= 1
    return sizes


def _largest_chunk(conn: Connection, columns: int) -> int:
    """The largest power of two of rows whose parameters fit SQLite's variable limit (999
    in old builds, 32,766 by default since 3.32, set at build time)."""
    driver = conn.connection.driver_connection
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
    rows = max(1, min(MAX_CHUNK_ROWS, limit // columns))
    return 1 << (rows.bit_length() - 1)


@functools.cache
def _values_sql(table: str, columns: tuple[str, ...], rows: int) -> str:
    row = "(" + ", ".join("?" * len(columns)) + ")"
    names = ", ".join(f'"{name}"' for name in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ' + ", ".join(itertools.repeat(row, rows))


def _sqlite_insert(
    conn: Connection, table: sa.Table, names: tuple[str, ...], rows: Sequence[Row]
) -> None:
    start = 0
    for size in chunk_sizes(len(rows), _largest_chunk(conn, len(names))):
        params = tuple(itertools.chain.from_iterable(rows[start : start + size]))
        # exec_driver_sql: the DBAPI cursor of this transaction, with SQLAlchemy's error
        # wrapping (sift.storage.database.is_transient reads it), without its compiler.
        conn.exec_driver_sql(_values_sql(table.name, names, size), params)
        start += size


def _postgres_copy(
    conn: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Row]
) -> None:
    from psycopg import sql  # the driver normalize_url picks for PostgreSQL

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)
