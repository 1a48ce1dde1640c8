"""Rows to documents: column selection, renames, type conversion, soft deletes.

The same row reaches Sift in several shapes: as driver values in a snapshot (Decimal,
datetime, str of JSON), decoded from the binlog, or as text from PostgreSQL's pgoutput.
Each column has a kind, read from the source's catalog, and one conversion per kind
accepts every shape, so a row gives the same document whichever way it came.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import orjson

from sift.errors import SiftError
from sift.sync.config import TableConfig

# A source's SQL type (lower case, without arguments) -> the kind of value it holds.
KINDS: dict[str, str] = {
    **dict.fromkeys(
        ("tinyint", "smallint", "mediumint", "int", "integer", "bigint", "int2", "int4",
         "int8", "serial", "bigserial", "year"), "integer"),
    **dict.fromkeys(
        ("decimal", "numeric", "float", "double", "real", "double precision", "float4",
         "float8", "money"), "number"),
    **dict.fromkeys(("boolean", "bool", "bit"), "boolean"),
    **dict.fromkeys(("json", "jsonb"), "json"),
    **dict.fromkeys(
        ("datetime", "timestamp", "timestamp without time zone", "timestamp with time zone",
         "timestamptz"), "datetime"),
    "date": "date",
    **dict.fromkeys(
        ("binary", "varbinary", "blob", "tinyblob", "mediumblob", "longblob", "bytea"), "bytes"),
}  # fmt: skip


class RowError(ValueError):
    """A row that cannot become a document; recorded, and the stream goes on."""


def kind_of(sql_type: str, column_type: str = "") -> str:
    """The kind of a column from its catalog type (`column_type` is MySQL's full type)."""
    if column_type.lower().startswith("tinyint(1)"):
        return "boolean"  # MySQL's BOOLEAN
    return KINDS.get(sql_type.lower(), "string")


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = float(value) if not isinstance(value, float) else value
    if not math.isfinite(number):
        raise RowError(f"{value!r} is not a finite number")
    return int(number) if isinstance(value, int) else number


# JSON documents hold integers that fit 64 bits (signed, or unsigned for MySQL's BIGINT
# UNSIGNED); a wider one (NUMERIC(30,0) read as an integer) would fail the whole batch's
# task when it is written, so it is this row's error instead.
INTEGER_RANGE = range(-(2**63), 2**64)


def _integer(value: Any) -> int:
    if isinstance(value, str):
        number = int(value) if value.lstrip("-").isdigit() else int(Decimal(value))
    else:
        number = int(value)
    if number not in INTEGER_RANGE:
        raise RowError(f"{number} does not fit in a 64-bit integer")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        if value in ("t", "true", "1"):
            return True
        if value in ("f", "false", "0"):
            return False
        raise RowError(f"{value!r} is not a boolean")
    if isinstance(value, bytes):  # MySQL BIT(1)
        return any(value)
    return bool(value)


def _json(value: Any) -> Any:
    if isinstance(value, bytes | str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise RowError(f"invalid JSON: {exc}") from None
    try:
        orjson.dumps(value)  # already plain JSON (a driver parsed it): the common case
        return value
    except TypeError:
        return _plain(value)


def _plain(value: Any) -> Any:
    """Binlog JSON may hold bytes keys and values; documents hold text."""
    if isinstance(value, dict):
        return {_text(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return _text(value)
    return value


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise RowError(f"{value!r} is not a date and time")
    # A column without a time zone (DATETIME, timestamp) is read as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rfc3339(value: Any) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    moment = _aware(value)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def _timestamp(value: Any) -> int | float:
    seconds = _aware(value).timestamp()
    return int(seconds) if seconds.is_integer() else seconds


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            raise RowError("binary value that is not UTF-8 text") from None
    if isinstance(value, set | frozenset):  # MySQL SET
        return ",".join(sorted(value))
    if isinstance(value, timedelta | time):
        return str(value)
    if isinstance(value, datetime | date):
        return _rfc3339(value)
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _array(value: Any) -> Any:
    """A PostgreSQL array: a list from the driver, or its text form from pgoutput."""
    if isinstance(value, str):
        inner = value.strip()
        if not (inner.startswith("{") and inner.endswith("}")) or "{" in inner[1:-1]:
            return value  # not a one-dimensional array: kept as text
        if not inner[1:-1]:
            return []
        items = next(csv.reader([inner[1:-1]], escapechar="\\"))
        return [None if item == "NULL" else item for item in items]
    return _plain(value)


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return _rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _string_or_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, bool | int):
        return value
    return _text(value)


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "json": _json,
    "datetime": _rfc3339,
    "rfc3339": _rfc3339,
    "timestamp": _timestamp,
    "date": _date,
    "bytes": _text,
    "array": _array,
    "string": _string_or_number,
}
# `types` overrides: what the user asks a column to become.
OVERRIDES: dict[str, Callable[[Any], Any]] = {**CONVERTERS, "string": _text}
# Values of these Python types are already what a kind gives: no call per value.
AS_IS: dict[str, frozenset[type]] = {
    "integer": frozenset({int}),
    "boolean": frozenset({bool}),
    "string": frozenset({str, int}),
    "number": frozenset({int}),
}


class Converter:
    """Turns one table's rows into documents, for the columns the table has now."""

    def __init__(self, table: TableConfig, kinds: Mapping[str, str]) -> None:
        self.table = table
        wanted = table.columns if table.columns is not None else tuple(kinds)
        self.fields: list[tuple[str, str, Callable[[Any], Any], frozenset[type]]] = []
        for column in wanted:
            if column in table.exclude:
                continue
            kind = table.types.get(column) or kinds.get(column, "string")
            convert = (OVERRIDES if column in table.types else CONVERTERS)[kind]
            as_is = AS_IS.get(kind, frozenset()) - ({int} if column in table.types else set())
            self.fields.append((column, table.rename.get(column, column), convert, as_is))
        self.key = table.document_key

    def key_of(self, row: Mapping[str, Any]) -> str:
        """The document id a row maps to (also for rows that are being deleted)."""
        value = row.get(self.table.primary_key)
        if type(value) is int:
            return str(value)  # always a valid document id: the common case, made cheap
        if value is None:
            raise RowError(f"the row has no value for its primary key `{self.table.primary_key}`")
        # Imported here: sift.tasks.documents brings the search engine (numba), which the
        # snapshot reader's process (readahead.py) would otherwise load for nothing.
        from sift.tasks.documents import document_id

        try:
            return document_id({self.key: _string_or_number(value)}, self.key)
        except SiftError as error:
            raise RowError(error.message) from None

    def deleted(self, row: Mapping[str, Any]) -> bool:
        """Whether the soft-delete column marks this row removed."""
        column = self.table.soft_delete
        if column is None or row.get(column) is None:
            return False
        try:
            return _boolean(row[column])
        except RowError:
            return bool(row[column])

    def document(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The document for a row; columns the row lacks (unchanged TOAST values in an
        update) are left out, so such a document is merged, not replaced."""
        doc: dict[str, Any] = {}
        for column, name, convert, as_is in self.fields:
            if column not in row:
                continue
            value = row[column]
            if value is None or type(value) in as_is:
                doc[name] = value
                continue
            try:
                doc[name] = convert(value)
            except RowError as error:
                raise RowError(f"column `{column}`: {error}") from None
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise RowError(f"column `{column}`: cannot convert {value!r} ({exc})") from None
        return doc
