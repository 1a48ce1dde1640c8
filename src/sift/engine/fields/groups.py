"""The value structures of one indexed field, and BitMap <-> numpy conversions.

Per field path, :class:`FieldValues` keeps:

* ``strings``: normalized string -> BitMap (equality and IN are one lookup),
  plus the first-seen original spelling for display;
* rows of (number, docid) and (string key, docid), appended per batch as numpy
  chunks and deleted lazily; reads sort them once into :class:`Groups`, so a
  range is one ``searchsorted`` and one BitMap built from a contiguous slice,
  and facet counts and sort ranks are numpy reductions;
* ``exists`` / ``null`` / ``empty`` BitMaps.

Writes only append or mark rows dead; the sorted views are rebuilt on the next
read that needs them, so a batch of adds costs one rebuild, not one per value (the
string groups, after appends only, are extended by the new rows instead).
"""

from __future__ import annotations

import array
from bisect import bisect_left, bisect_right
from collections.abc import Mapping

import numpy as np
from pyroaring import BitMap

from sift.engine import kernels
from sift.engine.fields.values import display_number, parse_number

RANGE_CACHE_SIZE = 32
# Counting facet values from the candidates' side pays once the field has this many
# times more rows than there are candidates.
SPARSE_RATIO = 2  # distinct numeric ranges kept per field between writes
# A multi-valued field's counts come from per-value bitsets (one AND and popcount per
# 64 docids and value) when they cost at most this many 64-bit words per candidate: a
# candidate's walk over its values (the CSR path) is a dependent, unpredictable loop,
# ~20 ns per value on the shared VM against ~0.3 ns per word (1M documents, 300k
# candidates, 24 tags: 17 ms against 0.8 ms with the candidates' own bitset).
BITSET_WORDS_PER_CANDIDATE = 32
# ... and when the field has at most this many values: its bitsets take values / 8
# bytes per document (24 tags: 3 bytes, less than the CSR layout's 8 + 8 per value).
BITSET_MAX_VALUES = 256
# A range's docids become a BitMap through a bitset over the field's docid span
# (kernels.roaring_portable) when there is at least one per this many docids of the span;
# sparser ones are sorted (a bitset pass over 1M docids costs about a sort of 2k).
SORT_SPAN = 512


def bitmap_from_array(ids: np.ndarray) -> BitMap:
    """BitMap from docids via the buffer protocol (far faster than iterating)."""
    return BitMap(array.array("I", np.ascontiguousarray(ids, dtype=np.uint32).tobytes()))


def array_from_bitmap(bitmap: BitMap) -> np.ndarray:
    return np.frombuffer(bitmap.to_array(), dtype=np.uint32)


def _interleaved(old_ids: np.ndarray, tail_ids: np.ndarray, before: np.ndarray) -> np.ndarray:
    """``old_ids`` with ``tail_ids[i]`` put after the first ``before[i]`` of them
    (``before`` ascending; tail rows with the same ``before`` keep their order): a
    batch's rows merged into a field's rows grouped by value. One boolean mask over the
    rows; a scatter of every old row by its group's shift (np.repeat of the shifts, an
    index per row) cost ~3 ms at 200k rows, each batch."""
    at = np.arange(len(tail_ids)) + before
    old_rows = np.ones(len(old_ids) + len(tail_ids), dtype=bool)
    old_rows[at] = False
    merged = np.empty(len(old_rows), dtype=np.result_type(old_ids, tail_ids))
    merged[old_rows] = old_ids
    merged[at] = tail_ids
    return merged


def _identity(ranks: np.ndarray) -> bool:
    """Whether old value i is still value i (no new value sorts before an old one):
    the renumbering of a view's value indexes is then skipped."""
    return not len(ranks) or int(ranks[-1]) == len(ranks) - 1


class Groups:
    """Docids grouped by distinct value: ``ids[offsets[i]:offsets[i+1]]`` have ``values[i]``.

    Immutable once built (the field drops it on a write); :meth:`by_doc` adds the
    transposed view and :meth:`bits` one bitset per value, each built on first use."""

    __slots__ = ("_bits", "_by_doc", "_n_words", "_single", "ids", "offsets", "values")

    def __init__(self, values: np.ndarray, offsets: np.ndarray, ids: np.ndarray) -> None:
        self.values = values
        self.offsets = offsets
        self.ids = ids
        self._by_doc: tuple[np.ndarray, np.ndarray] | None = None
        self._single: np.ndarray | None = None
        self._bits: np.ndarray | None = None
        self._n_words: int | None = None

    def single_values(self) -> np.ndarray | None:
        """Value index per docid (-1: none) when no document has two values (a brand,
        a category): one gather per candidate counts it. None for multi-valued fields."""
        if self._single is None:
            size = int(self.ids.max()) + 1 if len(self.ids) else 0
            codes = np.full(size, -1, dtype=np.int32)
            codes[self.ids] = self.ranks()
            # A docid listed twice took one slot for two rows: fewer slots than rows set.
            # (np.unique's hash took 0.7 s of CPU for 1M docids on the shared VM.)
            if np.count_nonzero(codes >= 0) != len(self.ids):
                codes = np.empty(0, dtype=np.int32)  # multi-valued: remembered
            self._single = codes
        return self._single if self._single.size or not len(self.ids) else None

    def by_doc(self) -> tuple[np.ndarray, np.ndarray]:
        """(ptr, value_index): the value indexes of docid d are
        ``value_index[ptr[d]:ptr[d + 1]]`` (a CSR layout by docid)."""
        if self._by_doc is None:
            order = np.argsort(self.ids, kind="stable")
            size = int(self.ids.max()) + 1 if len(self.ids) else 0
            ptr = np.zeros(size + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.ids, minlength=size), out=ptr[1:])
            self._by_doc = (ptr, self.ranks()[order])
        return self._by_doc

    def extend_by_doc(self, old: Groups, old_ranks: np.ndarray, tail_ranks: np.ndarray,
                      tail_ids: np.ndarray) -> None:
        """Take the by-docid view from ``old``'s (its value indexes renumbered by
        ``old_ranks``) when old had built it and the tail rows (``tail_ids``, sorted by
        their value indexes ``tail_ranks``) all have larger docids: the view is then
        old's followed by the tail's own."""
        # old's view spans docids up to its largest (a pass over old.ids to find it
        # again cost as much as the rest).
        if old._by_doc is None or len(tail_ids) == 0 or \
                int(tail_ids.min()) < len(old._by_doc[0]) - 1:
            return
        old_ptr, old_values = old._by_doc
        order = np.argsort(tail_ids, kind="stable")
        old_size, size = len(old_ptr) - 1, int(tail_ids.max()) + 1
        ptr = np.empty(size + 1, dtype=np.int64)
        ptr[:old_size + 1] = old_ptr
        np.cumsum(np.bincount(tail_ids - old_size, minlength=size - old_size),
                  out=ptr[old_size + 1:])
        ptr[old_size + 1:] += old_ptr[-1]
        renumbered = old_values if _identity(old_ranks) else old_ranks[old_values]
        self._by_doc = (ptr, np.concatenate((renumbered, tail_ranks[order])))

    def n_words(self) -> int:
        """64-bit words a bitset over this field's docids takes."""
        if self._n_words is None:
            self._n_words = (int(self.ids.max()) >> 6) + 1 if len(self.ids) else 0
        return self._n_words

    def bits(self) -> np.ndarray:
        """uint64 [values, n_words]: each value's docids as a bitset (kernels.value_bits)."""
        if self._bits is None:
            self._bits = kernels.value_bits(self.ids.astype(np.int64), self.offsets,
                                            self.n_words())
        return self._bits

    def warm_counts(self) -> None:
        """Build the view a facet count from the candidates' side reads
        (Membership._sparse_counts): the value codes of a single-valued field, else the
        by-docid layout and, up to BITSET_MAX_VALUES values, the per-value bitsets (a
        search picks between them by its number of candidates)."""
        if len(self.values) == 0 or self.single_values() is not None:
            return
        if len(self.values) <= BITSET_MAX_VALUES:
            self.bits()
        self.by_doc()  # the few candidates of a narrow filter walk their values

    def extended(self, values: np.ndarray, ids: np.ndarray) -> Groups:
        """These groups with the rows (``values[i]``, ``ids[i]``) added, each after its
        value's rows here: what :meth:`from_sorted` gives for a stable sort of this
        field's rows followed by them (the groups' values must be numbers, ordered as
        ``np.sort`` orders them). One pass over the rows instead of an argsort of them
        all (a float column of 200k rows: ~15 ms a batch on the shared VM); the views
        built here that have a cheap extension (values per docid, the by-docid layout)
        are extended rather than left to a rebuild."""
        if len(values) == 0:
            return self
        order = np.argsort(values, kind="stable")
        values, ids = values[order], ids[order]
        starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
        tail_values = values[starts]  # the first row's value, as from_sorted keeps
        at = np.searchsorted(self.values, tail_values)
        known = at < len(self.values)
        known[known] = self.values[at[known]] == tail_values[known]
        merged = np.insert(self.values, at[~known], tail_values[~known])
        # Where each old value and each of the rows' values goes among the merged ones.
        old_index = np.arange(len(self.values)) + np.cumsum(
            np.bincount(at[~known], minlength=len(self.values) + 1)[:len(self.values)])
        row_index = np.repeat(np.searchsorted(merged, tail_values),
                              np.diff(np.append(starts, len(values))))
        counts = np.zeros(len(merged), dtype=np.int64)
        counts[old_index] = np.diff(self.offsets)
        np.add.at(counts, row_index, 1)
        offsets = np.zeros(len(merged) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        # A row goes after every old row of a value up to its own (and after the rows
        # before it in the stable order).
        merged_ids = _interleaved(self.ids, ids, self.offsets[
            np.searchsorted(self.values, values, side="right")])
        groups = Groups(merged, offsets, merged_ids)
        groups.extend_single(self, old_index, row_index, ids)
        groups.extend_by_doc(self, old_index, row_index, ids)
        return groups

    def extend_single(self, old: Groups, old_ranks: np.ndarray, tail_ranks: np.ndarray,
                      tail_ids: np.ndarray) -> None:
        """Take :meth:`single_values` from ``old``'s, when old had built it: its value
        indexes renumbered by ``old_ranks``, then the tail rows' (``tail_ids``, with
        value indexes ``tail_ranks``) set. A field with a document of two values stays
        so (rows are only added)."""
        codes = old._single
        if codes is None or not len(old.ids):
            return
        if codes.size == 0:
            self._single = codes  # multi-valued already
            return
        size = max(codes.size, int(tail_ids.max()) + 1 if len(tail_ids) else 0)
        single = np.full(size, -1, dtype=np.int32)
        if _identity(old_ranks):
            single[:codes.size] = codes  # no value came in before an old one
        else:
            single[:codes.size] = np.where(codes >= 0, old_ranks[codes], -1)
        # As single_values: a docid with two rows (an old one, or two in the tail) makes
        # the field multi-valued. Old rows had a docid each (old was single-valued); a
        # docid twice in the tail keeps only its last row's mark.
        marks = np.arange(len(tail_ids), dtype=np.int32)
        if (single[tail_ids] >= 0).any():
            single = np.empty(0, dtype=np.int32)
        else:
            single[tail_ids] = marks
            if (single[tail_ids] != marks).any():
                single = np.empty(0, dtype=np.int32)
            else:
                single[tail_ids] = tail_ranks
        self._single = single

    @classmethod
    def from_sorted(cls, values: np.ndarray, ids: np.ndarray) -> Groups:
        """Group rows already sorted by value."""
        if len(values) == 0:
            return cls(values[:0], np.zeros(1, dtype=np.int64), ids[:0])
        starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
        offsets = np.append(starts, len(values)).astype(np.int64)
        return cls(values[starts], offsets, ids)

    def ranks(self) -> np.ndarray:
        """The value index of each entry of ``ids``."""
        return np.repeat(np.arange(len(self.values), dtype=np.int64), np.diff(self.offsets))

    def slice(self, start: int, stop: int) -> BitMap:
        """Docids of values ``start`` (inclusive) to ``stop`` (exclusive)."""
        if start >= stop:
            return BitMap()
        ids = self.ids[self.offsets[start] : self.offsets[stop]]
        if len(ids) * SORT_SPAN >= self.n_words() * 64:
            # The slice lists docids by value: set as bits and serialized as roaring
            # containers in one pass (a range's first use, `price < 250` at 1M products:
            # 500k docids in 0.6 ms against 17 ms sorted for BitMap's constructor).
            return BitMap.deserialize(
                kernels.roaring_portable(ids, self.n_words()).tobytes())
        # Few docids for the span: sorting them costs less than a pass over its bits.
        return bitmap_from_array(np.sort(ids))


class Membership:
    """Vectorised "is this docid a candidate?" over numpy arrays of docids.

    Built once per query from the candidate BitMap (a dense boolean table), then
    shared by every facet counted for that query.
    """

    def __init__(self, candidates: BitMap | np.ndarray, bits: np.ndarray | None = None
                 ) -> None:
        """``candidates``: a BitMap, or distinct docids as a numpy array (a search's
        candidates; the BitMap is then only built if a caller needs one). ``bits``: the
        same docids as a bitset over docids (uint64, bit d & 63 of word d >> 6), when
        the search built one: counts by bitset intersection then read it instead of
        building their own."""
        self._bitmap: BitMap | None = None
        self._ids: np.ndarray | None = None
        if isinstance(candidates, BitMap):
            self._bitmap = candidates
            self.size = len(candidates)
        else:
            # uint32, as the kernels take docids: a search's are already (no copy).
            self._ids = np.asarray(candidates, dtype=np.uint32)
            self.size = int(self._ids.size)
        self._table: np.ndarray | None = None
        self._given_bits = bits
        self._bits: dict[int, np.ndarray] = {}

    @property
    def candidates(self) -> BitMap:
        if self._bitmap is None:
            assert self._ids is not None
            self._bitmap = bitmap_from_array(self._ids)
        return self._bitmap

    def has_bitmap(self) -> bool:
        """Whether the candidates came (or were already turned into) a BitMap."""
        return self._bitmap is not None

    def candidate_counts(self, groups: Groups) -> np.ndarray:
        """How many candidates each value of ``groups`` has, counted from the candidates'
        side by a compiled pass, whatever their number (:meth:`counts` picks)."""
        if len(groups.values) == 0:
            return np.zeros(0, dtype=np.int64)
        return self._sparse_counts(groups)

    def ids(self) -> np.ndarray:
        if self._ids is None:
            self._ids = array_from_bitmap(self.candidates)
        return self._ids

    def sparse_for(self, groups: Groups) -> bool:
        """Whether counting from the candidates' side beats a pass over the rows."""
        return self.size * SPARSE_RATIO < len(groups.ids)

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        if not self.size or len(ids) == 0:
            return np.zeros(len(ids), dtype=bool)
        if self._table is None:
            docs = self.ids()
            self._table = np.zeros(int(docs.max()) + 2, dtype=bool)
            self._table[docs] = True
        # Docids past the table's end map to its last slot, which is always False.
        return self._table[np.minimum(ids, len(self._table) - 1)]

    def counts(self, groups: Groups) -> np.ndarray:
        """How many candidates each value of ``groups`` has (rows are distinct per value)."""
        if len(groups.values) == 0:
            return np.zeros(0, dtype=np.int64)
        if self.sparse_for(groups):
            return self._sparse_counts(groups)
        hits = self(groups.ids).astype(np.int64)
        totals = np.concatenate(([0], np.cumsum(hits)))
        return totals[groups.offsets[1:]] - totals[groups.offsets[:-1]]


    def _sparse_counts(self, groups: Groups) -> np.ndarray:
        """Counts from the candidates' own values: O(candidates), not O(field rows)."""
        docs = self.ids()
        codes = groups.single_values()
        if codes is not None:
            return kernels.count_single_values(docs, codes, len(groups.values))
        n_values = len(groups.values)
        if n_values <= BITSET_MAX_VALUES and \
                n_values * groups.n_words() <= BITSET_WORDS_PER_CANDIDATE * self.size:
            return kernels.count_bits(self.bitset(groups.n_words()), groups.bits())
        ptr, value_index = groups.by_doc()
        return kernels.count_multi_values(docs, ptr, value_index, n_values)

    def bitset(self, n_words: int) -> np.ndarray:
        """The candidates as a bitset of ``n_words`` words (kernels.docid_bits: those
        past its end left out, a field's bitsets hold none of them), built once per
        query and length; the search's own when it gave one (it may be longer: a
        field's bitsets hold none of the docids past their end, and kernels.count_bits
        reads the words both cover)."""
        if self._given_bits is not None:
            return self._given_bits
        bits = self._bits.get(n_words)
        if bits is None:
            bits = self._bits[n_words] = kernels.docid_bits(self.ids(), n_words)
        return bits


class _Rows:
    """Append-only (value, docid, flag) rows in numpy chunks, with lazy deletion.

    Deleting marks docids dead in the chunks that hold them (so a docid re-added
    later, in a new chunk, stays alive); :meth:`compact` drops dead rows and
    merges the chunks into one. Appending past MAX_CHUNKS compacts first: a field
    no search reads (sorted by, faceted on) is never compacted otherwise, and each
    batch of writes adds a chunk, so under sustained writes the chunks, and the
    cost of every delete, grew without bound.
    """

    MAX_CHUNKS = 16

    def __init__(self, dtype: type) -> None:
        self._dtype = dtype
        # (values, docids, flags, dead docids, the chunk's docids)
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, BitMap, BitMap]] = []

    def append(self, values: list | np.ndarray, docids: list[int] | np.ndarray,
               flags: list[bool] | np.ndarray) -> None:
        if len(docids):
            if len(self._chunks) >= self.MAX_CHUNKS:
                self.compact(sort=False)
            self._chunks.append(_chunk(np.asarray(values, dtype=self._dtype),
                                       np.asarray(docids, dtype=np.uint32),
                                       np.asarray(flags, dtype=bool)))  # fmt: skip

    def delete(self, docids: BitMap) -> None:
        for _, _, _, dead, members in self._chunks:
            # Only the chunk's own docids: marking every deleted docid in every chunk
            # made each chunk's dead set grow with all later deletions.
            dead.update(docids & members)

    def compact(self, sort: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Live rows as (values, docids, flags), sorted by value when asked."""
        parts = []
        live: list[BitMap] = []  # the docids kept, as bitmaps: the new chunk's members
        for values, ids, flags, dead, members in self._chunks:
            if dead:
                keep = ~Membership(dead)(ids)
                values, ids, flags = values[keep], ids[keep], flags[keep]
            parts.append((values, ids, flags))
            live.append(members - dead)
        if parts:
            values, ids, flags = (np.concatenate(column) for column in zip(*parts, strict=True))
        else:
            values = np.empty(0, dtype=self._dtype)
            ids, flags = np.empty(0, dtype=np.uint32), np.empty(0, dtype=bool)
        if sort:
            order = np.argsort(values, kind="stable")
            values, ids, flags = values[order], ids[order], flags[order]
        # A chunk's dead docids are always among its members, so members - dead is the
        # set it keeps: their union is the compacted chunk's members, without building a
        # 200k-row bitmap from the array (~10 ms, paid by the first filtered search
        # after each write batch).
        self._chunks = [(values, ids, flags, BitMap(), BitMap.union(*live))] if len(ids) else []
        return values, ids, flags


def _chunk(values: np.ndarray, ids: np.ndarray, flags: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, BitMap, BitMap]:
    return values, ids, flags, BitMap(), bitmap_from_array(ids)


class FieldValues:
    """Every indexed fact about one field path.

    A field only sortable (not filterable) keeps no bitmap and no display spelling per
    string key, only how many documents have each key (a sort reads the rows): the
    demo's sortable city names were ~32k bitmaps and spellings, ~12 MiB."""

    __slots__ = (
        "_filterable",
        "_key_counts",
        "_key_ids",
        "_merged",
        "_next_key_id",
        "_number_tail",
        "_numbers",
        "_numeric",
        "_range_cache",
        "_real",
        "_sorted_strings",
        "_string_groups",
        "_string_rows",
        "_string_tail",
        "display",
        "empty",
        "exists",
        "null",
        "search_index",
        "strings",
    )

    def __init__(self, filterable: bool = True) -> None:
        self._filterable = filterable
        self._key_counts = array.array("q")  # documents per key id (sort-only fields)
        self.exists = BitMap()
        self.null = BitMap()
        self.empty = BitMap()
        self.strings: dict[str, BitMap] = {}
        self.display: dict[str, str] = {}
        # Rows name string keys by a small integer so they fit a numpy column.
        self._key_ids: dict[str, int] = {}
        self._next_key_id = 0
        self._string_rows = _Rows(np.int64)
        # String rows (key ids, docids) appended since _string_groups was built: the next
        # read merges them into it (an import's batch costs a pass over the rows, not
        # an argsort of all of them and of the by-docid view).
        self._string_tail: list[tuple[np.ndarray, np.ndarray]] = []
        # flag: True for a JSON number, False for a string that spells one.
        self._numbers = _Rows(np.float64)
        self._numeric: Groups | None = None
        # Number rows (values, docids, real flags) appended since _numeric was built:
        # merged into it (and into _real) on the next read, as _string_tail.
        self._number_tail: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # Numeric range bitmaps by (start, stop) slice of the sorted values: building a
        # bitmap from ~100k unsorted docids costs milliseconds, copying one microseconds.
        self._range_cache: dict[tuple[int, int], BitMap] = {}
        self._real: Groups | None = None
        self._string_groups: Groups | None = None
        self._sorted_strings: list[str] | None = None
        self._merged: list[tuple[int, int, str]] | None = None
        # Facet search's word index (see fields.facets), dropped on every write.
        self.search_index: object | None = None

    # -- writes ---------------------------------------------------------

    def add_strings(self, batch: dict[str, list[int]], displays: dict[str, str]) -> None:
        """Index ``key -> docids``; ``displays`` gives the spelling of keys new to the field."""
        key_ids: list[int] = []
        docs: list[int] = []
        for key, docids in batch.items():
            key_id = self._key_ids.get(key)
            if key_id is None:
                key_id = self._key_ids[key] = self._next_key_id
                self._next_key_id += 1
                if self._filterable:
                    self.strings[key] = BitMap()
                    # First seen wins, like Meilisearch: an existing spelling is kept.
                    self.display[key] = displays[key]
                else:
                    self._key_counts.append(0)
            if self._filterable:
                self.strings[key].update(docids)
            else:
                self._key_counts[key_id] += len(docids)  # docids are distinct
            key_ids.extend([key_id] * len(docids))
            docs.extend(docids)
        key_column = np.asarray(key_ids, dtype=np.int64)  # converted once for both uses
        doc_column = np.asarray(docs, dtype=np.uint32)
        self._string_rows.append(key_column, doc_column, np.zeros(len(docs), dtype=bool))
        if self._string_groups is not None and len(docs):
            self._string_tail.append((key_column, doc_column))
        self._changed(keep_strings=True)

    def add_numbers(self, values: np.ndarray, docids: np.ndarray, real: np.ndarray) -> None:
        """Index number rows: ``real`` is False where a string spelled the number."""
        self._numbers.append(values, docids, real)
        if self._numeric is not None and len(docids):
            self._number_tail.append((np.asarray(values, dtype=np.float64),
                                      np.asarray(docids, dtype=np.uint32),
                                      np.asarray(real, dtype=bool)))
        self._changed(keep_strings=True)

    def remove(self, docids: BitMap, string_keys: Mapping[str, int]) -> None:
        """Forget ``docids``; ``string_keys``: the keys those documents had, each with
        how many of them had it."""
        for key, count in string_keys.items():
            key_id = self._key_ids.get(key)
            if key_id is None:
                continue
            if self._filterable:
                bitmap = self.strings[key]
                bitmap.difference_update(docids)
                unused = not bitmap
            else:
                self._key_counts[key_id] -= count
                unused = self._key_counts[key_id] <= 0
            if unused:
                del self._key_ids[key]
                if self._filterable:
                    del self.strings[key], self.display[key]
        for bitmap in (self.exists, self.null, self.empty):
            bitmap.difference_update(docids)
        self._string_rows.delete(docids)
        self._numbers.delete(docids)
        self._changed()

    def _changed(self, keep_strings: bool = False) -> None:
        """Drop every derived view; each is rebuilt on its next read. ``keep_strings``:
        rows were only appended, so the string and number groups stay, to be extended
        by the rows in ``_string_tail`` and ``_number_tail`` on their next read."""
        if not keep_strings:
            self._string_groups = None
            self._string_tail = []
            self._numeric = self._real = None
            self._number_tail = []
        self._range_cache = {}
        self._sorted_strings = None
        self._merged = None
        self.search_index = None

    # -- sorted views ---------------------------------------------------

    def warm(self) -> None:
        """Build every view a filter or a facet count of this field reads, so that the
        first search after a write does not (each view is otherwise built on its first
        read: 75-166 ms for a range filter or a facet of 1M products). A field only
        sortable has none of them (its sort ranks are per direction, built when a sort
        asks); views already built are kept."""
        if not self._filterable:
            return
        numbers, strings = self.real_numbers(), self.string_groups()
        self.merged()
        for groups in (numbers, strings):
            groups.warm_counts()

    def numeric(self) -> Groups:
        """Numbers and numeric strings grouped by value, ascending."""
        if self._numeric is not None and self._number_tail:
            self._extend_numbers(self._numeric)
        if self._numeric is None:
            values, ids, real = self._numbers.compact(sort=True)
            self._numeric = Groups.from_sorted(values, ids)
            # No numeric string among them (the usual field): the same groups, not a
            # copy of every row (12 bytes a number: 12 MiB for a price of 1M products).
            self._real = (self._numeric if real.all()
                          else Groups.from_sorted(values[real], ids[real]))
        return self._numeric

    def _extend_numbers(self, old: Groups) -> None:
        """Merge the rows of ``_number_tail`` into ``_numeric`` and ``_real`` (Groups.extended):
        the groups a rebuild from every row gives, in a pass over them."""
        values, ids, real = (np.concatenate(column)
                             for column in zip(*self._number_tail, strict=True))
        self._number_tail = []
        self._numeric = old.extended(values, ids)
        if self._real is old and real.all():
            self._real = self._numeric  # still no numeric string: the same groups
        else:
            assert self._real is not None
            self._real = self._real.extended(values[real], ids[real])

    def real_numbers(self) -> Groups:
        """JSON numbers only (numeric strings excluded), grouped by value, ascending."""
        self.numeric()
        assert self._real is not None
        return self._real

    def sorted_strings(self) -> list[str]:
        if self._sorted_strings is None:
            self._sorted_strings = sorted(self._key_ids)  # the keys of `strings` too
        return self._sorted_strings

    def string_groups(self) -> Groups:
        """Strings grouped by normalized key in byte order (``values`` are the keys)."""
        if self._string_groups is not None and self._string_tail:
            self._string_groups = self._extended_strings(self._string_groups)
            self._string_tail = []
        if self._string_groups is None:
            keys = self.sorted_strings()
            key_ids, ids, _ = self._string_rows.compact(sort=False)
            rank_of = np.zeros(self._next_key_id, dtype=np.int64)
            positions = np.fromiter((self._key_ids[k] for k in keys), np.int64, len(keys))
            rank_of[positions] = np.arange(len(keys), dtype=np.int64)
            ranks = rank_of[key_ids]
            order = np.argsort(ranks, kind="stable")
            offsets = np.zeros(len(keys) + 1, dtype=np.int64)
            np.cumsum(np.bincount(ranks, minlength=len(keys)), out=offsets[1:])
            self._string_groups = Groups(np.array(keys, dtype=object), offsets, ids[order])
        return self._string_groups

    def _extended_strings(self, old: Groups) -> Groups:
        """``old`` with the rows of ``_string_tail`` appended to their keys' groups: what
        a rebuild gives (each group lists its rows in the order they were added, and
        the tail's come last), in one pass over the rows instead of an argsort."""
        keys = self.sorted_strings()
        key_ids = np.concatenate([k for k, _ in self._string_tail])
        tail_ids = np.concatenate([d for _, d in self._string_tail])
        rank_of = np.zeros(self._next_key_id, dtype=np.int64)
        positions = np.fromiter((self._key_ids[k] for k in keys), np.int64, len(keys))
        rank_of[positions] = np.arange(len(keys), dtype=np.int64)
        tail_ranks = rank_of[key_ids]
        # Appends only: every old key is still there, in the same byte order.
        old_ranks = rank_of[np.fromiter((self._key_ids[k] for k in old.values), np.int64,
                                        len(old.values))]
        old_counts = np.zeros(len(keys), dtype=np.int64)
        old_counts[old_ranks] = np.diff(old.offsets)
        tail_counts = np.bincount(tail_ranks, minlength=len(keys))
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(old_counts + tail_counts, out=offsets[1:])
        order = np.argsort(tail_ranks, kind="stable")
        sorted_ranks = tail_ranks[order]
        # A tail row goes after the old rows of every key up to its own (old keys keep
        # their order, so old_ranks ascends).
        before = old.offsets[np.searchsorted(old_ranks, sorted_ranks, side="right")]
        ids = _interleaved(old.ids, tail_ids[order], before).astype(old.ids.dtype, copy=False)
        groups = Groups(np.array(keys, dtype=object), offsets, ids)
        groups.extend_single(old, old_ranks, sorted_ranks, tail_ids[order])
        groups.extend_by_doc(old, old_ranks, sorted_ranks, tail_ids[order])
        return groups

    def merged(self) -> list[tuple[int, int, str]]:
        """(index in real_numbers, index in sorted strings, key) for each JSON number
        whose facet display equals a string key (12 and "12"): one facet value."""
        if self._merged is None:
            numbers = self.real_numbers().values
            keys = self.sorted_strings()
            self._merged = []
            for position, key in enumerate(keys):
                number = parse_number(key)
                if number is None or display_number(number) != key:
                    continue
                index = int(np.searchsorted(numbers, number))
                if index < len(numbers) and numbers[index] == number:
                    self._merged.append((index, position, key))
        return self._merged

    def number_range(self, low: float, high: float, low_in: bool, high_in: bool) -> BitMap:
        groups = self.numeric()
        start = np.searchsorted(groups.values, low, side="left" if low_in else "right")
        stop = np.searchsorted(groups.values, high, side="right" if high_in else "left")
        key = (int(start), int(stop))
        cached = self._range_cache.get(key)
        if cached is None:
            cached = groups.slice(*key)
            if len(self._range_cache) >= RANGE_CACHE_SIZE:
                self._range_cache.pop(next(iter(self._range_cache)))  # oldest first
            self._range_cache[key] = cached
        return BitMap(cached)  # a copy: callers may combine bitmaps in place

    def string_range(
        self, low: str | None, high: str | None, low_in: bool, high_in: bool
    ) -> BitMap:
        keys = self.sorted_strings()
        start = 0 if low is None else (bisect_left if low_in else bisect_right)(keys, low)
        stop = len(keys) if high is None else (bisect_right if high_in else bisect_left)(keys, high)
        if start >= stop:
            return BitMap()
        if stop - start == 1:
            return BitMap(self.strings[keys[start]])
        return self.string_groups().slice(start, stop)

    def sort_ranks(self, size: int, descending: bool) -> np.ndarray:
        """Dense int64 sort key per docid < ``size``; absent docids get int64 max.

        Ranks run over numbers (numeric order) then strings (byte order of the
        lowercased value): numbers take precedence in both directions. A
        document with several values uses its smallest ascending, largest descending.
        """
        dense = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        numbers, strings = self.numeric(), self.string_groups()
        n_numbers, n_strings = len(numbers.values), len(strings.values)
        # Strings first, then numbers overwrite them: numbers take precedence.
        for groups, base, count in ((strings, n_numbers, n_strings), (numbers, 0, n_numbers)):
            if len(groups.ids) == 0:
                continue
            ranks = groups.ranks()
            # Visit entries best-first and keep each docid's first occurrence.
            order = np.argsort(-ranks if descending else ranks, kind="stable")
            docs, first = np.unique(groups.ids[order], return_index=True)
            best = ranks[order][first]
            dense[docs.astype(np.int64)] = base + (count - 1 - best if descending else best)
        return dense
