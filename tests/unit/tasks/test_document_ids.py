"""A chunk's ids checked at once are those (or the error) checked one by one gives."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sift.errors import SiftError
from sift.tasks.documents import Chunk, document_id, document_ids, scanned_id_lines
from sift.tasks.payload import ndjson_chunks, parse_chunk

ODD = ["a\nb", "", "x" * 512, "x" * 511, "é", "a b", "ok-1_", 7, -3, True, None, 1.5, ["1"]]


def _one_by_one(docs: list[dict[str, Any]]) -> list[str] | str:
    try:
        return [document_id(doc, "id") for doc in docs]
    except SiftError as exc:
        return str(exc)


def _at_once(docs: list[dict[str, Any]]) -> list[str] | str:
    try:
        return document_ids(docs, "id")
    except SiftError as exc:
        return str(exc)


@pytest.mark.parametrize("seed", range(60))
def test_ids_at_once_as_one_by_one(seed: int) -> None:
    rng = random.Random(seed)
    kind = rng.choice(["str", "int"])
    docs: list[dict[str, Any]] = [{"id": f"p-{i}" if kind == "str" else i, "n": i}
                                  for i in range(rng.randint(1, 50))]
    for _ in range(rng.randint(0, 2)):
        spot = rng.randrange(len(docs))
        docs[spot] = {"n": 0} if rng.random() < 0.2 else {"id": rng.choice(ODD)}
    assert _at_once(docs) == _one_by_one(docs)


def test_an_id_with_a_newline_is_refused_among_valid_ones() -> None:
    assert isinstance(_at_once([{"id": "a"}, {"id": "b\nc"}, {"id": "d"}]), str)


KEYS = ["id", "sku", 'we"ird', "é"]


def scanned_ids(chunk: bytes, key: str) -> list[str] | None:
    """The ids the validation pass reads from a stored chunk's bytes, as strings."""
    lines = scanned_id_lines(chunk, key)
    return None if lines is None else Chunk(lines, None, chunk).ids()


@pytest.mark.parametrize("seed", range(80))
def test_ids_scanned_from_stored_lines_as_parsed(seed: int) -> None:
    """A stored chunk's ids read from its bytes are the parsed documents' ids; a chunk
    with any line the scan cannot vouch for is left to the parse (None)."""
    rng = random.Random(seed)
    key = rng.choice(KEYS)
    docs: list[dict[str, Any]] = []
    for i in range(rng.randint(1, 40)):
        value = rng.choice([f"p-{i}", i, -i, 10**18 + i, "A_z-9" * rng.randint(1, 3)])
        doc = {key: value, "t": "x\ny", "n": {"id": "inner"}}
        if rng.random() < 0.3:
            doc = {"t": f"{i}", key: value}  # the key not first: the scan cannot tell
        docs.append(doc)
    for _ in range(rng.randint(0, 2)):
        spot = rng.randrange(len(docs))
        docs[spot] = {key: rng.choice(ODD), "n": 1} if rng.random() < 0.8 else {"n": 0}
    chunk = next(iter(ndjson_chunks(iter(docs))))[0]
    scanned = scanned_ids(chunk, key)
    try:
        parsed: list[str] | str = [document_id(doc, key) for doc in parse_chunk(chunk)]
    except SiftError as exc:
        parsed = str(exc)
    if scanned is not None:
        assert scanned == parsed
    elif all(next(iter(doc), None) == key for doc in docs) and isinstance(parsed, list):
        pytest.fail("every line opens with a valid id, yet the chunk was not scanned")


def test_a_chunk_with_a_trailing_newline_is_parsed() -> None:
    assert scanned_ids(b'{"id":"a"}\n{"id":"b"}', "id") == ["a", "b"]
    assert scanned_ids(b'{"id":"a"}\n{"id":"b"}\n', "id") is None
    assert scanned_ids(b'{"id":1.0}', "id") is None
    assert scanned_ids(b'{"id":1e5}', "id") is None
    assert scanned_ids(b'{"id":-12}', "id") == ["-12"]
    assert scanned_ids(b'{"id":"a\\u0062"}', "id") is None


def test_a_chunk_keeps_its_ids_as_one_bytes_object_until_applied() -> None:
    stored = b'{"id":"a-1"}\n{"id":7}\n{"id":"B_2"}'
    lines = scanned_id_lines(stored, "id")
    assert lines == b"a-1\n7\nB_2"
    chunk = Chunk(lines, None, stored)
    assert chunk.ids() == ["a-1", "7", "B_2"]
    assert [doc["id"] for doc in chunk.documents()] == ["a-1", 7, "B_2"]
    assert Chunk(b"", [], b"").ids() == []
