"""Stored payload lines are what orjson writes for the documents they hold, so a
replacement may store a line as it is (tasks/documents.py)."""

from __future__ import annotations

import io
import random

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sift.errors import SiftError
from sift.tasks import payload
from sift.tasks.payload import (
    chunk_lines,
    iter_documents,
    ndjson_chunks,
    parse_chunk,
    payload_chunks,
)

SCALARS = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text())
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)
DOCS = st.lists(st.dictionaries(st.text(max_size=5), VALUES, max_size=5), max_size=20)


@given(DOCS)
def test_each_stored_line_is_orjson_of_the_document_it_parses_to(docs: list[dict]) -> None:
    chunks = [chunk for chunk, _ in ndjson_chunks(iter(docs))]
    lines = [line for chunk in chunks for line in chunk_lines(chunk)]
    parsed = [doc for chunk in chunks for doc in parse_chunk(chunk)]
    assert parsed == docs
    assert [orjson.dumps(doc) for doc in parsed] == lines


def _chunks_or_error(make: object) -> object:
    try:
        return list(make())  # type: ignore[operator]
    except SiftError as exc:
        return str(exc)


@pytest.mark.parametrize("seed", range(30))
def test_ndjson_read_a_block_at_a_time_as_line_by_line(seed: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The block path (payload_chunks) gives the chunks, or the error, the line-by-line
    path gives: blank, malformed and non-object lines, too many fields, integers orjson
    cannot write, a last line without its newline; small blocks so that lines straddle
    them and chunks end inside them."""
    monkeypatch.setattr(payload, "CHUNK_BYTES", 64)
    monkeypatch.setattr(payload, "MAX_FIELDS", 3)
    rng = random.Random(seed)
    odd = [b"", b"  ", b"\r", b"[1]", b"{bad", b'{"a": 184467440737095516150}', b'"s"',
           b'{"a":1,"b":2,"c":3,"d":4}', b'  {"y": "\\u00e9"}  \r', b"null"]
    lines = [orjson.dumps({"id": i, "t": "w" * rng.randint(0, 40)}) for i in range(80)]
    for _ in range(rng.choice([0, 0, 1, 2])):
        lines.insert(rng.randint(0, len(lines)), rng.choice(odd))
    body = b"\n".join(lines) + rng.choice([b"", b"\n", b"\n\n"])
    blocks = _chunks_or_error(lambda: payload_chunks(io.BytesIO(body), "ndjson"))
    one_by_one = _chunks_or_error(
        lambda: ndjson_chunks(iter_documents(io.BytesIO(body), "ndjson")))
    assert blocks == one_by_one
