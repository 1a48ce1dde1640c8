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

A chunk keeps its documents' JSON in one bytes object, with each slot's offset and size
(8 bytes a document): a bytes object per document cost its 33-byte header, the
allocator's rounding and a list slot (~45 bytes a document, ~9 MiB of a 200k-product
index). Writes append to the chunk's bytes (a copy of at most a chunk's JSON); removed
or replaced documents leave dead bytes, dropped when they are most of the chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Final

import numpy as np
import orjson

CHUNK = 1024

Doc = dict[str, Any]
# What a slot holds: the document's JSON, or the document itself when orjson cannot
# write it exactly (see _packed).
Stored = bytes | Doc
# DocTable.leading_values' mark of a document that must be parsed whole.
WHOLE: Final = object()

# Types orjson would write as something else (a datetime as a string, a dataclass as an
# object): refused instead, so such a document is kept as it came.
_EXACT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS \
    | orjson.OPT_PASSTHROUGH_SUBCLASS


def _packed(docs: list[Doc]) -> tuple[bytearray, list[int], dict[int, Doc]]:
    """The documents' JSON end to end, each one's size (0: not JSON), and those orjson
    cannot write exactly, by position. Each document's bytes are appended as soon as
    written: orjson's bytes keep the buffer they were written in (~1 KiB and more), so
    holding a chunk's worth of them at once took several MiB a batch."""
    packed, sizes, odd = bytearray(), [], {}
    for i, doc in enumerate(docs):
        try:
            part = orjson.dumps(doc, option=_EXACT)
        except TypeError:  # orjson.JSONEncodeError too
            odd[i] = doc
            sizes.append(0)
            continue
        packed += part
        sizes.append(len(part))
    return packed, sizes, odd


@lru_cache(maxsize=64)
def _leading_member(name: str) -> re.Pattern[bytes]:
    """Matches JSON that opens with the member ``name`` whose value is a string without
    escapes or a number (group 1: the value's JSON), as orjson writes it: no spaces, the
    name written as orjson writes a key. A string without a backslash has no escape in
    it, and a number ends at the ``,`` or ``}`` after it, so the value is exactly that."""
    key = re.escape(b"{" + orjson.dumps(name) + b":")
    return re.compile(key + rb'("[^"\\]*"|-?[0-9][0-9.eE+-]*)[,}]')


def _decoded(stored: Stored) -> Doc:
    return orjson.loads(stored) if type(stored) is bytes else stored  # type: ignore[return-value]


class _Chunk:
    """CHUNK slots: the JSON of each in ``blob[start:start + size]`` (size 0: no JSON
    there), documents orjson cannot write in ``odd``. ``blob`` is never changed in place,
    so a copy shares it."""

    __slots__ = ("blob", "dead", "live", "odd", "size", "start")

    def __init__(self) -> None:
        self.blob = b""
        self.start = np.zeros(CHUNK, dtype=np.uint32)
        self.size = np.zeros(CHUNK, dtype=np.uint32)
        self.odd: dict[int, Doc] = {}
        self.live = 0
        self.dead = 0  # bytes of blob no slot refers to

    def copy(self) -> _Chunk:
        copy = _Chunk.__new__(_Chunk)
        copy.blob, copy.live, copy.dead = self.blob, self.live, self.dead
        copy.start, copy.size, copy.odd = self.start.copy(), self.size.copy(), dict(self.odd)
        return copy

    def get(self, slot: int) -> Stored | None:
        size = int(self.size[slot])
        if size:
            start = int(self.start[slot])
            return self.blob[start : start + size]
        return self.odd.get(slot) if self.odd else None

    def _drop(self, slot: int) -> bool:
        """Empty ``slot``; whether it held a document."""
        size = int(self.size[slot])
        if size:
            self.size[slot] = 0
            self.dead += size
        elif self.odd.pop(slot, None) is None:
            return False
        self.live -= 1
        return True

    def pop(self, slot: int) -> Stored | None:
        stored = self.get(slot)
        if stored is not None:
            self._drop(slot)
            self._compact()
        return stored

    def put(self, slot: int, docs: list[Doc], encoded: list[bytes] | None = None) -> int:
        """Write ``docs`` to the slots from ``slot`` on (``encoded``: their JSON as
        ``_packed`` would write it, when the caller has it); returns how many were
        empty."""
        if not docs:
            return 0
        end = slot + len(docs)
        old = self.size[slot:end]
        self.dead += int(old.sum())  # a replaced document's JSON
        filled = int(np.count_nonzero(old))
        if self.odd:
            filled += sum(self.odd.pop(i, None) is not None for i in range(slot, end))
        packed, sizes, odd = (_packed(docs) if encoded is None
                              else (b"".join(encoded), list(map(len, encoded)), {}))
        for i, doc in odd.items():  # documents kept as they came
            self.odd[slot + i] = doc
        lengths = np.asarray(sizes, dtype=np.int64)
        starts = len(self.blob) + np.cumsum(lengths) - lengths
        if int(starts[-1] + lengths[-1]) > np.iinfo(np.uint32).max:
            raise OverflowError("a chunk's documents exceed 4 GiB of JSON")
        self.blob = b"".join([self.blob, packed])
        self.start[slot:end] = np.where(lengths > 0, starts, 0)
        self.size[slot:end] = lengths
        new = len(docs) - filled
        self.live += new
        self._compact()
        return new

    def _compact(self) -> None:
        """Drop the dead bytes once they are most of the blob."""
        if self.dead * 2 <= len(self.blob):
            return
        slots = np.flatnonzero(self.size)
        blob, start, size = self.blob, self.start[slots].tolist(), self.size[slots].tolist()
        self.blob = b"".join([blob[a : a + n] for a, n in zip(start, size, strict=True)])
        sizes = self.size[slots].astype(np.int64)
        self.start[slots] = np.cumsum(sizes) - sizes
        self.dead = 0

    def slots(self) -> list[int]:
        """The slots holding a document, in order."""
        filled = np.flatnonzero(self.size).tolist()
        return sorted(filled + list(self.odd)) if self.odd else filled


class DocTable:
    """A mapping docid -> document; writes through the owner only, reads from anyone.

    Every read parses the document again: callers get a document of their own."""

    def __init__(self) -> None:
        self._chunks: list[_Chunk] = []
        self._owned: set[int] = set()  # chunks no published table shares: written in place
        self._live = 0

    def _writable(self, number: int) -> _Chunk:
        while number >= len(self._chunks):
            self._chunks.append(_Chunk())
            self._owned.add(len(self._chunks) - 1)
        if number not in self._owned:
            self._chunks[number] = self._chunks[number].copy()
            self._owned.add(number)
        return self._chunks[number]

    def __setitem__(self, docid: int, doc: Doc) -> None:
        self.extend(docid, [doc])

    def extend(self, first: int, docs: list[Doc], encoded: list[bytes] | None = None) -> None:
        """``self[first + i] = doc`` for each document, a chunk's slice at a time.

        ``encoded``: each document's JSON, exactly as orjson writes it (the task worker
        has the payload's lines, which orjson wrote for the same documents): kept as
        given instead of written again (a twelfth of indexing a batch of products)."""
        done = 0
        while done < len(docs):
            number, slot = divmod(first + done, CHUNK)
            part = slice(done, done + CHUNK - slot)
            self._live += self._writable(number).put(
                slot, docs[part], None if encoded is None else encoded[part])
            done = min(part.stop, len(docs))

    def pop(self, docid: int) -> Doc:
        number, slot = divmod(docid, CHUNK)
        if self._get(docid) is None:
            raise KeyError(docid)
        stored = self._writable(number).pop(slot)
        self._live -= 1
        return _decoded(stored)  # type: ignore[arg-type]

    def _get(self, docid: int) -> Stored | None:
        number, slot = divmod(docid, CHUNK)
        return self._chunks[number].get(slot) if 0 <= number < len(self._chunks) else None

    def _stored(self, docid: int) -> Stored:
        stored = self._get(docid)
        if stored is None:
            raise KeyError(docid)
        return stored

    def __getitem__(self, docid: int) -> Doc:
        return _decoded(self._stored(docid))

    def many(self, docids: list[int]) -> list[Doc]:
        """``[self[d] for d in docids]`` (a page of hits) in one call: a missing one
        still raises KeyError."""
        chunks, count = self._chunks, len(self._chunks)
        stored: list[Stored] = []
        for docid in docids:
            number, slot = divmod(docid, CHUNK)
            found = chunks[number].get(slot) if 0 <= number < count else None
            if found is None:
                raise KeyError(docid)
            stored.append(found)
        return [orjson.loads(s) if type(s) is bytes else s for s in stored]  # type: ignore[misc]

    def many_leading(self, docids: list[int], name: str) -> list[Doc]:
        """What :meth:`many` returns, as far as the member ``name`` goes: a document
        whose JSON opens with ``name`` and a string or number value is parsed as
        ``{name: value}`` alone, any other is parsed whole. For a page that retrieves
        only ``name`` (a typeahead's ids): projected, either gives the same hit, and
        parsing a whole scifact abstract for its id took ~1.5 µs a hit."""
        values = self.leading_values(docids, name)
        return [self[docid] if value is WHOLE else {name: value}
                for docid, value in zip(docids, values, strict=True)]

    def leading_values(self, docids: list[int], name: str) -> list[Any]:
        """Per docid, the value of the member ``name`` when its document's JSON opens with
        it and it is a string or number (what :meth:`many_leading` cuts the document
        down to), else WHOLE (the document must be parsed whole); the values parsed in
        one call (a page's ten took ten). A missing docid raises KeyError."""
        leading = _leading_member(name)
        chunks, count = self._chunks, len(self._chunks)
        found: list[bytes] = []
        whole: list[int] = []  # positions of the documents not cut
        for i, docid in enumerate(docids):
            number, slot = divmod(docid, CHUNK)
            chunk = chunks[number] if 0 <= number < count else None
            size = chunk.size.item(slot) if chunk is not None else 0
            if size:
                start = chunk.start.item(slot)  # type: ignore[union-attr]
                match = leading.match(chunk.blob, start, start + size)  # type: ignore[union-attr]
                if match is not None:
                    found.append(match.group(1))
                    continue
            if self._get(docid) is None:
                raise KeyError(docid)
            whole.append(i)
            found.append(b"0")
        values: list[Any] = orjson.loads(b"[" + b",".join(found) + b"]")
        for i in whole:
            values[i] = WHOLE
        return values

    def __contains__(self, docid: object) -> bool:
        return isinstance(docid, int | np.integer) and self._get(int(docid)) is not None

    def __len__(self) -> int:
        return self._live

    def _slots(self) -> Iterator[tuple[int, Stored]]:
        for number, chunk in enumerate(self._chunks):
            base = number * CHUNK
            for slot in chunk.slots():
                yield base + slot, chunk.get(slot)  # type: ignore[misc]

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
