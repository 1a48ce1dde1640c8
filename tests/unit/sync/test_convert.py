from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sift.sync.changes import RowChange, Window
from sift.sync.config import TableConfig
from sift.sync.convert import Converter, RowError, kind_of

KINDS = {"id": "integer", "name": "string", "price": "number", "attrs": "json",
         "active": "boolean", "deleted": "boolean", "at": "datetime", "day": "date",
         "secret": "string", "tags": "array"}  # fmt: skip
TABLE = TableConfig(table="products", index="products", exclude=("secret",),
                    rename={"name": "title"}, types={"at": "timestamp"},
                    soft_delete="deleted")  # fmt: skip


def test_driver_values_and_pgoutput_text_give_the_same_document() -> None:
    converter = Converter(TABLE, KINDS)
    from_driver = {"id": 7, "name": "Dune", "price": Decimal("9.50"), "attrs": '{"a": [1]}',
                   "active": 1, "deleted": 0, "at": datetime(2024, 3, 1, 12, 0),
                   "day": date(2024, 3, 1), "secret": "x", "tags": ["a", "b c"]}  # fmt: skip
    from_text = {"id": "7", "name": "Dune", "price": "9.50", "attrs": '{"a": [1]}',
                 "active": "t", "deleted": "f", "at": "2024-03-01 12:00:00+00",
                 "day": "2024-03-01", "secret": "x", "tags": '{a,"b c"}'}  # fmt: skip
    expected = {"id": 7, "title": "Dune", "price": 9.5, "attrs": {"a": [1]}, "active": True,
                "deleted": False, "at": 1709294400, "day": "2024-03-01",
                "tags": ["a", "b c"]}  # fmt: skip
    assert converter.document(from_driver) == expected
    assert converter.document(from_text) == expected


def test_datetimes_are_rfc3339_in_utc() -> None:
    converter = Converter(TableConfig("t", "t"), {"id": "integer", "at": "datetime"})
    plus_two = timezone(timedelta(hours=2))
    doc = converter.document({"id": 1, "at": datetime(2024, 1, 2, 5, 4, 5, 120000, plus_two)})
    assert doc["at"] == "2024-01-02T03:04:05.12Z"
    assert converter.document({"id": 1, "at": datetime(2024, 1, 2, tzinfo=UTC)})["at"] == (
        "2024-01-02T00:00:00Z"
    )


def test_a_row_that_cannot_be_converted_names_the_column() -> None:
    converter = Converter(TableConfig("t", "t"), {"id": "integer", "blob": "bytes"})
    with pytest.raises(RowError, match="column `blob`"):
        converter.document({"id": 1, "blob": b"\xff\xfe"})
    with pytest.raises(RowError, match="invalid"):
        converter.key_of({"id": "not valid!"})


def test_an_integer_wider_than_64_bits_is_the_rows_error() -> None:
    # NUMERIC(30,0) read as an integer: a document cannot hold it, so the row is refused
    # (recorded, the stream goes on) instead of failing its whole batch's task.
    converter = Converter(TableConfig("t", "t", types={"n": "integer"}), {"id": "integer",
                                                                          "n": "number"})
    assert converter.document({"id": 1, "n": Decimal(2**64 - 1)}) == {"id": 1, "n": 2**64 - 1}
    assert converter.document({"id": 1, "n": "-9223372036854775808"})["n"] == -(2**63)
    for wide in (Decimal(2**64), "123456789012345678901234567890", -(2**63) - 1):
        with pytest.raises(RowError, match=r"column `n`.*64-bit"):
            converter.document({"id": 1, "n": wide})


def test_mysql_boolean_and_unknown_types() -> None:
    assert kind_of("tinyint", "tinyint(1)") == "boolean"
    assert kind_of("tinyint", "tinyint(4)") == "integer"
    assert kind_of("geometry") == "string"


def test_the_window_keeps_the_newest_change_per_document() -> None:
    table = TableConfig("t", "idx")
    converter = Converter(table, {"id": "integer", "v": "string"})
    window = Window("src")
    window.add(table, converter, RowChange("t", "upsert", {"id": 1, "v": "a"}))
    window.add(table, converter, RowChange("t", "delete", {"id": 1}))
    window.add(table, converter, RowChange("t", "upsert", {"id": 2, "v": "b"}))
    window.add(table, converter, RowChange("t", "upsert", {"id": 2, "v": "c"}))
    window.add(table, converter, RowChange("t", "upsert", {"id": 3}))  # an unchanged TOAST value
    window.add(table, converter, RowChange("t", "upsert", {"id": 4, "v": "x"}), passes=False)
    changes = window.indexes["idx"]
    assert changes.docs == {"1": None, "2": {"id": 2, "v": "c"}, "3": {"id": 3}, "4": None}
    assert changes.partial == {"3"}
    window.truncate(table)
    assert window.indexes["idx"].docs == {} and window.indexes["idx"].cleared
