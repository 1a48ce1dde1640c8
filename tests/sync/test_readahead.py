"""The snapshot reader process (sift/sync/readahead.py) against the real servers: batches
in key order with their cursors, resuming after a cursor, the reader's errors raised in
the runner with their type, and a killed reader seen as a lost connection."""

from __future__ import annotations

import os

import orjson
import pytest

from sift.sync.config import parse_sources
from sift.sync.errors import CaptureUnavailable
from sift.sync.readahead import SnapshotReader, SnapshotReaderFailed
from tests.sync.conftest import SourceDB


def _config(source: SourceDB, table: str = "items", batch: int = 4):  # type: ignore[no-untyped-def]
    return parse_sources([{"name": "src", "url": source.url, "snapshot_batch": batch,
                           "tables": [{"table": table, "index": "items"}]}])[0]  # fmt: skip


def _fill(source: SourceDB, rows: int) -> None:
    json_type = "JSON" if source.kind == "mysql" else "JSONB"
    source.execute(f"CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50), "
                   f"price DECIMAL(10,2), tags {json_type})")  # fmt: skip
    for i in range(rows):
        source.execute("INSERT INTO items VALUES (%s, %s, %s, %s)",
                       (i, f"item {i}", "1.50", orjson.dumps({"n": i, "w": [0.5]}).decode()))


def _documents(batches: SnapshotReader) -> tuple[list[int], list[object], list[dict]]:  # type: ignore[type-arg]
    sizes, cursors, docs = [], [], []
    for batch in batches:
        sizes.append(batch.rows)
        cursors.append(batch.after)
        for task in batch.tasks.get("items", []):
            docs += [orjson.loads(line) for chunk in task.chunks for line in chunk.split(b"\n")]
        if batch.rows < 4:
            break
    return sizes, cursors, docs


def test_batches_in_key_order_with_their_cursors(source: SourceDB) -> None:
    _fill(source, 10)
    batches = SnapshotReader(_config(source), _config(source).tables[0], None)
    try:
        assert batches._process.pid != os.getpid()
        sizes, cursors, docs = _documents(batches)
    finally:
        batches.close()
    assert sizes == [4, 4, 2]
    assert cursors == [3, 7, 9]
    assert [d["id"] for d in docs] == list(range(10))
    # The converted document: DECIMAL as a number, JSON as an object.
    assert docs[0] == {"id": 0, "name": "item 0", "price": 1.5, "tags": {"n": 0, "w": [0.5]}}

    resumed = SnapshotReader(_config(source), _config(source).tables[0], 7)
    try:
        sizes, cursors, docs = _documents(resumed)
    finally:
        resumed.close()
    assert (sizes, cursors, [d["id"] for d in docs]) == ([2], [9], [8, 9])


def test_it_connects_first_reads_on_start_and_grows_its_batches(source: SourceDB) -> None:
    """Made without a table, the reader process connects and waits: a row the source gets
    after it is ready but before `start` is read (nothing was read before). Its batches
    then double from `first_batch` up to `snapshot_batch`."""
    import time

    _fill(source, 9)
    config = _config(source)
    batches = SnapshotReader(config)
    try:
        deadline = time.monotonic() + 60
        while not batches.ready():
            assert time.monotonic() < deadline, "the reader process never got ready"
            time.sleep(0.01)
        source.execute("INSERT INTO items VALUES (%s, %s, %s, %s)", (9, "item 9", "1.50", "{}"))
        batches.start(config.tables[0], None, first_batch=1)
        sizes, limits, ids = [], [], []
        for batch in batches:
            sizes.append(batch.rows)
            limits.append(batch.limit)
            for task in batch.tasks.get("items", []):
                ids += [orjson.loads(line)["id"] for chunk in task.chunks
                        for line in chunk.split(b"\n")]  # fmt: skip
            if batch.rows < batch.limit:
                break
    finally:
        batches.close()
    assert (sizes, limits) == ([1, 2, 4, 3], [1, 2, 4, 4])
    assert ids == list(range(10))


def test_a_reader_closed_before_start_exits(source: SourceDB) -> None:
    batches = SnapshotReader(_config(source))
    batches.close()
    assert batches._process.returncode is not None


def test_a_missing_table_is_the_readers_error_in_the_runner(source: SourceDB) -> None:
    config = _config(source, table="nothing_here")
    batches = SnapshotReader(config, config.tables[0], None)
    try:
        with pytest.raises(CaptureUnavailable, match="does not exist"):
            next(batches)
    finally:
        batches.close()


def test_a_killed_reader_is_a_lost_connection(postgres_source: SourceDB) -> None:
    _fill(postgres_source, 10)
    config = _config(postgres_source)
    batches = SnapshotReader(config, config.tables[0], None)
    try:
        batches.kill()
        with pytest.raises(SnapshotReaderFailed):
            while True:  # a batch already in the pipe may still come first
                next(batches)
    finally:
        batches.close()


def test_postgres_numbers_and_json_convert_as_their_text_does(postgres_source: SourceDB) -> None:
    """NUMERIC is loaded as float only where the table makes a number of it: a `types`
    override (string, integer) still sees the exact decimal. JSON columns are parsed as
    convert.py parses pgoutput's text: the same documents either way."""
    from sift.sync.convert import Converter
    from sift.sync.postgres import LogicalReader

    postgres_source.execute("CREATE TABLE amounts (id INT PRIMARY KEY, "
                            "price NUMERIC(12,2), big NUMERIC(30,0), meta JSON)")  # fmt: skip
    postgres_source.execute(
        "INSERT INTO amounts VALUES (7, 10.50, 123456789012345678, %s)",
        ('{"a": [1, 2.5, {"b": null}], "s": "x"}',),
    )
    text = {"id": "7", "price": "10.50", "big": "123456789012345678",
            "meta": '{"a": [1, 2.5, {"b": null}], "s": "x"}'}  # fmt: skip
    for types, expected in (
        ({}, {"id": 7, "price": 10.5, "big": 1.2345678901234568e17}),
        ({"price": "string", "big": "integer"},
         {"id": 7, "price": "10.50", "big": 123456789012345678}),
    ):
        config = parse_sources([{"name": "src", "url": postgres_source.url, "tables": [
            {"table": "amounts", "index": "amounts", "primary_key": "id", "types": types}]}])[0]
        table = config.tables[0]
        reader = LogicalReader(config)
        try:
            converter = Converter(table, reader.columns(table))
            (row,) = reader.rows_after(table, None, 10)
        finally:
            reader.close()
        document = converter.document(row)
        assert document == {**expected, "meta": {"a": [1, 2.5, {"b": None}], "s": "x"}}
        assert document == converter.document(text)  # what pgoutput's text gives
