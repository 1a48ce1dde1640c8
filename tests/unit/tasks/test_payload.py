"""Stored payload lines are what orjson writes for the documents they hold, so a
replacement may store a line as it is, and the index's document table keep it
(tasks/documents.py, engine/doctable.py)."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from sift.engine.doctable import _EXACT
from sift.tasks.payload import chunk_lines, ndjson_chunks, parse_chunk

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
    assert [orjson.dumps(doc, option=_EXACT) for doc in parsed] == lines


@given(st.lists(st.dictionaries(st.text(max_size=3), st.text(max_size=40), max_size=3),
                max_size=40), st.integers(2, 200))
def test_a_chunk_ends_at_the_line_that_reaches_the_chunk_size(docs: list[dict],
                                                               size: int) -> None:
    import sift.tasks.payload as payload

    before, payload.CHUNK_BYTES = payload.CHUNK_BYTES, size
    try:
        chunks = list(ndjson_chunks(iter(docs)))
    finally:
        payload.CHUNK_BYTES = before
    assert sum(count for _, count in chunks) == len(docs)
    for number, (chunk, count) in enumerate(chunks):
        lines = chunk_lines(chunk)
        assert len(lines) == count and chunk == b"\n".join(lines)
        # lines with a newline each: the last one reaches the size, none before it did
        sizes = [len(line) + 1 for line in lines]
        assert sum(sizes[:-1]) < size
        assert sum(sizes) >= size or number == len(chunks) - 1
