"""Documents by internal docid, published to readers without copying them all.

An index's writer publishes a new snapshot after every batch. Copying a docid -> document
dict for each one cost O(documents): at 200k documents, several ms per publication plus
the garbage collector's walk over the copy, which a stream of small batches (a sync
source's windows) paid many times a second. Docids are dense and never reused, so the
documents live in fixed-size chunks instead; a published table shares the chunks with
the writer, which copies a chunk before its first change after a publication
(copy-on-write). Publishing costs O(documents / CHUNK).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

CHUNK = 1024

Doc = dict[str, Any]


class DocTable:
    """A mapping docid -> document; writes through the owner only, reads from anyone."""

    def __init__(self) -> None:
        self._chunks: list[list[Doc | None]] = []
        self._owned: set[int] = set()  # chunks no published table shares: written in place
        self._live = 0

    def _writable(self, number: int) -> list[Doc | None]:
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
        chunk[docid % CHUNK] = doc

    def extend(self, first: int, docs: list[Doc]) -> None:
        """``self[first + i] = doc`` for each document, a chunk's slice at a time."""
        done = 0
        while done < len(docs):
            number, slot = divmod(first + done, CHUNK)
            chunk = self._writable(number)
            part = docs[done : done + CHUNK - slot]
            self._live += sum(doc is None for doc in chunk[slot : slot + len(part)])
            chunk[slot : slot + len(part)] = part
            done += len(part)

    def pop(self, docid: int) -> Doc:
        chunk = self._writable(docid // CHUNK)
        doc = chunk[docid % CHUNK]
        if doc is None:
            raise KeyError(docid)
        chunk[docid % CHUNK] = None
        self._live -= 1
        return doc

    def __getitem__(self, docid: int) -> Doc:
        number, slot = divmod(docid, CHUNK)
        doc = self._chunks[number][slot] if 0 <= number < len(self._chunks) else None
        if doc is None:
            raise KeyError(docid)
        return doc

    def __contains__(self, docid: object) -> bool:
        try:
            self[docid]  # type: ignore[index]
        except (KeyError, TypeError):
            return False
        return True

    def __len__(self) -> int:
        return self._live

    def items(self) -> Iterator[tuple[int, Doc]]:
        """(docid, document) in docid order."""
        for number, chunk in enumerate(self._chunks):
            base = number * CHUNK
            for slot, doc in enumerate(chunk):
                if doc is not None:
                    yield base + slot, doc

    def __iter__(self) -> Iterator[int]:
        return (docid for docid, _ in self.items())

    def published(self) -> DocTable:
        """A read-only table of the documents as they are now: it shares every chunk,
        and the writer copies a chunk before changing it again."""
        copy = DocTable.__new__(DocTable)
        copy._chunks = list(self._chunks)
        copy._owned = set()
        copy._live = self._live
        self._owned = set()
        return copy
