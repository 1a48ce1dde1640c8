"""Immutable index data: positional segments and the snapshot readers search.

A :class:`Segment` holds the word occurrences of one upsert batch as flat numpy
arrays sorted by (term, doc, field, position), with ``term_ptr`` giving each
term's slice (a CSC layout that allows repeated positions). Segments are never
modified; a deletion only clears the document's bit in the snapshot's ``alive``
mask, and merging rewrites segments into a new one without dead rows. A
:class:`Snapshot` bundles everything a search reads, so a reader that grabbed
one sees a consistent index while the writer builds the next.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sift.engine.analysis import Analyzer
from sift.engine.doctable import DocTable
from sift.engine.extids import ExternalIds
from sift.engine.kernels import copy_live_rows, live_rows_per_term, rows_by_term
from sift.engine.terms import TermTable
from sift.engine.vocab import Vocabulary

# Array elements get a gap so that the end of one value and the start of the
# next are never "close" for the proximity rules.
ARRAY_GAP = 8
MAX_SLICES = 64  # terms gathered by concatenating slices; more go through an index array
LRU_SIZE = 64  # per-snapshot cached filter masks (a mask is one byte per document)


class LRU:
    """A bounded, thread-safe map: past ``size`` entries the least recently used goes.

    ``get_or_build`` builds outside the lock, so two threads may build the same value
    once each; values are pure functions of their key, so either copy is right."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_many(self, keys: list[Any]) -> list[Any]:
        """``[self.get(k) for k in keys]`` under one hold of the lock."""
        with self._lock:
            items = self._items
            values = [items.get(key) for key in keys]
            for key, value in zip(keys, values, strict=True):
                if value is not None:
                    items.move_to_end(key)
            return values

    def put_many(self, pairs: list[tuple[Any, Any]]) -> None:
        """``put`` of each (key, value), in order, under one hold of the lock."""
        with self._lock:
            items = self._items
            for key, value in pairs:
                items[key] = value
                items.move_to_end(key)
            while len(items) > self.size:
                items.popitem(last=False)

    def get_or_build(self, key: Any, build: Callable[[], Any]) -> Any:
        value = self.get(key)
        if value is None:
            value = build()
            self.put(key, value)
        return value


@dataclass(frozen=True)
class Segment:
    term_ptr: np.ndarray  # int64, n_terms_at_build + 1
    docs: np.ndarray  # uint32 internal docids
    fields: np.ndarray  # uint16 field ids
    pos: np.ndarray  # uint32 word position inside the field

    @property
    def size(self) -> int:
        return int(self.docs.size)

    @classmethod
    def build(cls, terms: np.ndarray, docs: np.ndarray, fields: np.ndarray, pos: np.ndarray,
              n_terms: int) -> Segment:
        terms = terms.astype(np.int64, copy=False)
        docs, fields = docs.astype(np.uint32, copy=False), fields.astype(np.uint16, copy=False)
        pos = pos.astype(np.uint32, copy=False)
        # A batch's rows come in (doc, field, pos) order: sorted on the term alone by a
        # counting sort (the four-key lexsort was a tenth of indexing a batch).
        order = rows_by_term(terms, docs, fields, pos, n_terms)
        if order.size != terms.size:
            order = np.lexsort((pos, fields, docs, terms))
        counts = np.bincount(terms, minlength=n_terms)
        ptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        return cls(ptr, docs[order], fields[order], pos[order])

    def term_rows(self, term_ids: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(docs, fields, pos, which, lens): the rows of ``term_ids``, term after term;
        ``which[k]`` is the entry of ``term_ids`` whose ``lens[k]`` rows come k-th.

        A term's rows are one contiguous slice: a single term is a view, a few are
        concatenated slices, which is cheaper than gathering through an index array."""
        known = np.flatnonzero(term_ids < self.term_ptr.size - 1)
        starts = self.term_ptr[term_ids[known]]
        ends = self.term_ptr[term_ids[known] + 1]
        present = ends > starts
        which, starts, ends = known[present], starts[present], ends[present]
        lens = ends - starts
        if which.size == 1:
            a, b = int(starts[0]), int(ends[0])
            return self.docs[a:b], self.fields[a:b], self.pos[a:b], which, lens
        if which.size <= MAX_SLICES:
            spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
            return (np.concatenate([self.docs[a:b] for a, b in spans] or [self.docs[:0]]),
                    np.concatenate([self.fields[a:b] for a, b in spans] or [self.fields[:0]]),
                    np.concatenate([self.pos[a:b] for a, b in spans] or [self.pos[:0]]),
                    which, lens)
        idx = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
        return self.docs[idx], self.fields[idx], self.pos[idx], which, lens


def merge_segments(segments: Sequence[Segment], alive: np.ndarray, n_terms: int) -> Segment:
    """One segment with the live rows of ``segments`` (docids increase across segments).

    A term's rows are its rows of the first segment, then of the second, and so on, each
    in their order: within a segment rows are sorted by (term, doc, ...) and docids grow
    from one segment to the next. Each live row is written straight to its place in the
    merged arrays by two compiled passes over each segment (count, then copy), which
    allocate nothing but the merged arrays and a free row per term: concatenating every
    segment and sorting the whole on the term made the merge's peak ~5 times the
    postings' size, and numpy steps over the rows (a mask, a cumulative sum and a
    destination per row) were a tenth of a 200k-document import."""
    counts = np.zeros(n_terms, dtype=np.int64)
    for seg in segments:
        live_rows_per_term(seg.term_ptr, seg.docs, alive, counts)
    ptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    del counts
    like = segments[0] if segments else None
    docs = np.empty(int(ptr[-1]), dtype=like.docs.dtype if like else np.uint32)
    fields = np.empty(int(ptr[-1]), dtype=like.fields.dtype if like else np.uint16)
    pos = np.empty(int(ptr[-1]), dtype=like.pos.dtype if like else np.uint32)
    free = ptr[:-1].copy()  # each term's next free row in the merged arrays
    for seg in segments:
        copy_live_rows(seg.term_ptr, seg.docs, seg.fields, seg.pos, alive, free, docs, fields,
                       pos)
    return Segment(ptr, docs, fields, pos)


@dataclass
class Snapshot:
    """Everything one search reads; never mutated after publication (caches aside)."""

    segments: tuple[Segment, ...]
    alive: np.ndarray  # bool per internal docid
    field_len: np.ndarray  # float32 [docid, field id] words per field
    docs: DocTable  # internal docid -> document
    ext_ids: ExternalIds  # internal docid -> external id (append-only, shared)
    tie: np.ndarray  # uint64 per internal docid: the order of exact ties (tiebreak.py)
    terms: TermTable  # term <-> id (append-only, shared with the writer; ids >= n_terms ignored)
    n_terms: int
    vocabulary: Vocabulary  # sorted and bucketed view of the first n_terms terms
    field_names: list[str]  # field id -> flattened attribute name
    n_alive: int
    _cache: dict[Hashable, Any] = field(default_factory=dict)
    _lru: LRU = field(default_factory=lambda: LRU(LRU_SIZE))
    # Re-entrant: a cached value's builder may read another cached value.
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def cached(self, key: Hashable, build: Callable[[], Any]) -> Any:
        value = self._cache.get(key)
        if value is None:
            with self._lock:
                value = self._cache.get(key)
                if value is None:
                    value = build()
                    self._cache[key] = value
        return value

    def cached_lru(self, key: str, build: Callable[[], Any]) -> Any:
        """Like :meth:`cached` for keys without a bound (filters): the least recently
        used of more than LRU_SIZE entries is dropped."""
        return self._lru.get_or_build(key, build)

    @property
    def avg_field_len(self) -> np.ndarray:
        def build() -> np.ndarray:
            if self.n_alive == 0:
                return np.ones(self.field_len.shape[1], dtype=np.float32)
            sums = self.field_len[self.alive].sum(axis=0)
            present = (self.field_len[self.alive] > 0).sum(axis=0)
            return np.maximum(sums / np.maximum(present, 1), 1.0).astype(np.float32)
        return self.cached("avglen", build)

    def term_id(self, term: str) -> int | None:
        return self.terms.get(term, self.n_terms)

    def live_ids(self) -> np.ndarray:
        return np.nonzero(self.alive)[0].astype(np.uint32)


@dataclass(frozen=True)
class IndexView:
    """What a reader needs, published as one object so settings, analyzer, field store
    and snapshot always belong together (set_settings swaps all of them at once)."""

    snapshot: Snapshot
    settings: dict[str, Any]
    analyzer: Analyzer
    searchable: list[str]
    field_store: Any  # sift.engine.fields.FieldStore
    fields_lock: threading.Lock
    # Values derived from this view's settings and snapshot alone (per-query setup
    # that would otherwise be rebuilt by every search).
    _derived: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def derived(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """``build()`` once per view and ``key`` (two racing threads may both build: the
        values are pure, either copy is right)."""
        value = self._derived.get(key)
        if value is None:
            value = self._derived[key] = build()
        return value

    def is_searchable(self, name: str) -> bool:
        if "*" in self.searchable:
            return True
        return any(name == a or name.startswith(a + ".") for a in self.searchable)


def flatten(doc: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted attribute name, scalar or list of scalars) pairs of a document."""
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flatten(value, name + ".")
        elif isinstance(value, list):
            scalars: list[Any] = []
            for item in value:
                if isinstance(item, dict):
                    yield from flatten(item, name + ".")
                elif isinstance(item, list):
                    scalars.extend(x for x in item if not isinstance(x, dict | list))
                else:
                    scalars.append(item)
            if scalars:
                yield name, scalars
        else:
            yield name, value


def text_values(value: Any) -> list[str]:
    """The searchable strings of a flattened value (numbers and booleans as text)."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item))
    return out
