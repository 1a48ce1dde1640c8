"""Documents by internal docid, kept as JSON bytes, published without copying them all.

A document is kept as the bytes orjson writes for it and parsed again only when a reader
asks for it (the hits of a page, a removal): a parsed city of the demo took ~1,100 bytes
of dicts, lists and strings, its JSON ~260. Documents reach the engine parsed by orjson
(the task worker's payloads, the database's rows), so parsing the bytes again gives an
equal document, key order included; one orjson cannot write (a value of another type,
a non-string key) is kept as it came.

An index's writer publishes a new snapshot after every batch. Copying a docid ->
document table for each one cost O(documents): at 200k documents, several ms per
publication plus the garbage collector's walk over the copy, which a stream of small
batches (a sync source's windows) paid many times a second. Docids are dense and never
reused, so the documents live in fixed-size chunks instead; a published table shares the
chunks with the writer, which copies a chunk before its first change after a publication
(copy-on-write). Publishing costs O(documents / CHUNK).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

CHUNK = 1024

Doc = dict[str, Any]
# What a slot holds: the document's JSON, or the document itself when orjson cannot
# write it exactly (see _encoded).
Stored = bytes | Doc

# Types orjson would write as something else (a datetime as a string, a dataclass as an
# object): refused instead, so such a document is kept as it came.
_EXACT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS \
    | orjson.OPT_PASSTHROUGH_SUBCLASS


def _encoded(docs: list[Doc]) -> list[Stored]:
    """What to keep of each document: its JSON, or itself when orjson cannot write it."""
    try:
        parts = [orjson.dumps(doc, option=_EXACT) for doc in docs]
    except TypeError:  # orjson.JSONEncodeError too: one document at a time
        return [_encoded([doc])[0] if _writable_as_json(doc) else doc for doc in docs]
    # orjson's bytes keep the 1 KiB buffer it wrote them in (4x a city's JSON); split
    # copies each into bytes of its own size, in one call. orjson writes no newline
    # (it escapes those in strings), so each part comes back whole.
    return b"\n".join(parts).split(b"\n")  # type: ignore[return-value]


def _writable_as_json(doc: Doc) -> bool:
    try:
        orjson.dumps(doc, option=_EXACT)
    except TypeError:
        return False
    return True


def _decoded(stored: Stored) -> Doc:
    return orjson.loads(stored) if type(stored) is bytes else stored  # type: ignore[return-value]


class DocTable:
    """A mapping docid -> document; writes through the owner only, reads from anyone.

    Every read parses the document again: callers get a document of their own."""

    def __init__(self) -> None:
        self._chunks: list[list[Stored | None]] = []
        self._owned: set[int] = set()  # chunks no published table shares: written in place
        self._live = 0

    def _writable(self, number: int) -> list[Stored | None]:
        while number >= len(self._chunks):
            self._chunks.append([None] * CHUNK)
            self._owned.add(len(self._chunks) - 1)
        if number not in self._owned:
            self._chunks[number] = list(self._chunks[number])
            self._owned.add(number)
        return self._chunks[number]

    def __setitem__(self, docid: int, doc: Doc) -> None:
        chunk = self._writable(docid // CHUNK)
        if chunk[docid % CHUNK] is None:
            self._live += 1
        chunk[docid % CHUNK] = _encoded([doc])[0]

    def extend(self, first: int, docs: list[Doc]) -> None:
        """``self[first + i] = doc`` for each document, a chunk's slice at a time."""
        done = 0
        while done < len(docs):
            number, slot = divmod(first + done, CHUNK)
            chunk = self._writable(number)
            part = _encoded(docs[done : done + CHUNK - slot])
            self._live += sum(doc is None for doc in chunk[slot : slot + len(part)])
            chunk[slot : slot + len(part)] = part
            done += len(part)

    def pop(self, docid: int) -> Doc:
        chunk = self._writable(docid // CHUNK)
        stored = chunk[docid % CHUNK]
        if stored is None:
            raise KeyError(docid)
        chunk[docid % CHUNK] = None
        self._live -= 1
        return _decoded(stored)

    def _stored(self, docid: int) -> Stored:
        number, slot = divmod(docid, CHUNK)
        stored = self._chunks[number][slot] if 0 <= number < len(self._chunks) else None
        if stored is None:
            raise KeyError(docid)
        return stored

    def __getitem__(self, docid: int) -> Doc:
        return _decoded(self._stored(docid))

    def many(self, docids: list[int]) -> list[Doc]:
        """``[self[d] for d in docids]`` (a page of hits), without a method call and a
        bounds check per document: a missing one still raises KeyError."""
        chunks, loads = self._chunks, orjson.loads
        try:
            stored = [chunks[d // CHUNK][d % CHUNK] for d in docids]
        except IndexError:
            stored = [None]
        if None in stored or any(d < 0 for d in docids):
            return [self[d] for d in docids]  # raises for the missing one
        return [loads(s) if type(s) is bytes else s for s in stored]  # type: ignore[misc]

    def __contains__(self, docid: object) -> bool:
        try:
            self._stored(docid)  # type: ignore[arg-type]
        except (KeyError, TypeError):
            return False
        return True

    def __len__(self) -> int:
        return self._live

    def _slots(self) -> Iterator[tuple[int, Stored]]:
        for number, chunk in enumerate(self._chunks):
            base = number * CHUNK
            for slot, stored in enumerate(chunk):
                if stored is not None:
                    yield base + slot, stored

    def items(self) -> Iterator[tuple[int, Doc]]:
        """(docid, document) in docid order."""
        return ((docid, _decoded(stored)) for docid, stored in self._slots())

    def json_items(self) -> Iterator[tuple[int, bytes]]:
        """(docid, the document as ``orjson.dumps`` writes it) in docid order, without
        parsing the documents kept as JSON."""
        for docid, stored in self._slots():
            yield docid, stored if type(stored) is bytes else orjson.dumps(stored)

    def __iter__(self) -> Iterator[int]:
        return (docid for docid, _ in self._slots())

    def published(self) -> DocTable:
        """A read-only table of the documents as they are now: it shares every chunk,
        and the writer copies a chunk before changing it again."""
        copy = DocTable.__new__(DocTable)
        copy._chunks = list(self._chunks)
        copy._owned = set()
        copy._live = self._live
        self._owned = set()
        return copy
