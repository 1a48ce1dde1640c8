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
import sqlite3
from collections.abc import Sequence
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
    if not rows:
        return
    rows = _processed(conn.dialect, table, columns, rows)
    if conn.dialect.name == "sqlite":
        _sqlite_insert(conn, table, tuple(columns), rows)
    else:  # PostgreSQL, the only other database (sift.storage.database.normalize_url)
        _postgres_copy(conn, table, columns, rows)


def _processed(
    dialect: Dialect, table: sa.Table, columns: Sequence[str], rows: Sequence[Row]
) -> Sequence[Row]:
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    if not any(processors):
        return rows
    by_column = list(zip(*rows, strict=True))  # the work per column, not per value
    for i, process in enumerate(processors):
        if process is not None:
            by_column[i] = tuple(map(process, by_column[i]))
    return list(zip(*by_column, strict=True))


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
