"""The vocabulary views used by prefix search, typo tolerance and stemming.

Terms are append-only (a term id is never reused), so the writer extends these
structures with each batch's new terms instead of rebuilding them: the terms'
code points and lengths are the term table's (sift.engine.terms: buffers that only
grow; a view sees its first ``n_terms`` rows, the writer appends past them), the sorted order
is an array of term ids that gets the new ids inserted (one O(V) copy of 8 bytes
a term, no Python loop over the whole vocabulary), and the per-stem /
per-(first letter, length) buckets are arrays of term ids that only grow. Readers get
an immutable :class:`Vocabulary` that knows its term count and ignores ids the
writer added later.
"""

from __future__ import annotations

import array
import bisect
import operator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

import numpy as np

from sift.engine.analysis import stem_words
from sift.engine.grams import SLICE as GRAM_SLICE
from sift.engine.grams import GramIndexBuilder, GramView
from sift.engine.kernels.typos import ROW_LETTERS, WIDE
from sift.engine.terms import TermTable, code_rows, unicode_rows

# Buckets: term ids (int64, an array: a list's int objects took 32 bytes an id more),
# increasing; their words are made from the term table when a view first reads the
# bucket (a list of the words kept every term's string: ~12 MiB at 200k products).
Bucket = array.array
# A stem's terms: one term id (most stems have one term: a list per stem took ~64 bytes
# more each), or a list of them. A stem whose only term is itself (most numbers and ids,
# many words) has no entry: the term's flag in `own_stem` says so (a dict entry and its
# id took ~100 bytes a term).
StemGroup = int | list[int]

# Vocabulary.stem_group's default: the stem's term id is not known to the caller.
NOT_LOOKED_UP: Final = -1


@dataclass(frozen=True)
class Vocabulary:
    by_id: np.ndarray  # each term id's term (numpy unicode array, a view of codes)
    ids: np.ndarray  # term ids in the terms' sorted order
    lengths_by_id: np.ndarray  # each term id's length in characters (int64)
    codes: np.ndarray  # each term id's code points (uint32 rows, zero-padded)
    n_terms: int
    _stems: dict[str, StemGroup]
    _terms: TermTable  # the index's (append-only; ids >= n_terms ignored)
    _own_stem: np.ndarray  # bool per term id: its stem is itself
    _by_first: dict[tuple[str, int], Bucket]
    _by_length: dict[int, Bucket]
    grams: GramView

    @cached_property
    def has_long(self) -> bool:
        """Whether a term is longer than the code rows (its code points in the term
        table's overflow store: sift.engine.terms)."""
        return self._terms.has_long(self.n_terms)

    def beyond_rows(self, letters: int) -> bool:
        """Whether reading ``letters`` letters of a term may pass its code row (a term is
        longer than the rows, and the rows are not that wide)."""
        return letters >= self.codes.shape[1] and self.has_long

    def prefix_range(self, prefix: str) -> tuple[int, int]:
        """Positions in the sorted order (``ids[lo:hi]``) of the terms starting with
        ``prefix``. Right because no term holds NUL or U+10FFFF (analysis.NEVER_LETTERS):
        numpy's order drops trailing NULs, and the range ends at prefix + U+10FFFF."""
        if self.beyond_rows(len(prefix)):
            return self._long_prefix_range(prefix)
        # Both ends in one call: numpy searches the second from where the first ended.
        lo, hi = np.searchsorted(self.by_id, [prefix, prefix + "\U0010ffff"], side="left",
                                 sorter=self.ids).tolist()
        return lo, hi

    def _long_prefix_range(self, prefix: str) -> tuple[int, int]:
        """prefix_range of a prefix as long as the rows or longer: the terms whose rows
        hold the prefix's first row of letters, narrowed on their whole strings (compared
        as numpy compares them: trailing NULs dropped)."""
        head = prefix[: self.codes.shape[1]]
        lo = int(np.searchsorted(self.by_id, head, side="left", sorter=self.ids))
        hi = int(np.searchsorted(self.by_id, head, side="right", sorter=self.ids))
        keys = [w.rstrip("\x00") for w in self._terms.strings_at(self.ids[lo:hi])]
        key = prefix.rstrip("\x00")
        return (lo + bisect.bisect_left(keys, key),
                lo + bisect.bisect_left(keys, key + "\U0010ffff"))

    def words_at(self, ids: np.ndarray) -> list[str]:
        """The terms of ``ids`` as ``by_id`` gives them (trailing NULs dropped), whole
        where longer than the rows."""
        words = self.by_id[ids].tolist()
        if self.has_long:
            lengths = self.lengths_by_id[ids]
            for i in np.flatnonzero(lengths > self.codes.shape[1]).tolist():
                words[i] = self._terms[int(ids[i])]
        return words

    def full_codes(self, ids: np.ndarray) -> np.ndarray:
        """The code points of the terms of ``ids``, one zero-padded row each as wide as
        the longest (for kernels reading past the rows: expand.py)."""
        return code_rows(self._terms.strings_at(ids) or [""])[0][: ids.size]

    def stem_group(self, stem: str, stem_id: int | None = NOT_LOOKED_UP) -> list[int]:
        """The term ids with this stem, in increasing order (a list: a search adds them
        to a word's expansion lists, and most groups have one term). ``stem_id``: the
        stem's own term id (None: not a term) where the caller has it, not looked up
        again (a query word that is its own stem: expand.py)."""
        found = self._stems.get(stem)
        if found is None:  # only the term equal to the stem may have it (see StemGroup)
            tid = self._terms.get(stem, self.n_terms) if stem_id == NOT_LOOKED_UP \
                else stem_id
            return [tid] if tid is not None and self._own_stem[tid] \
                else []
        if type(found) is int:
            return [found] if found < self.n_terms else []
        return [t for t in found if t < self.n_terms]

    _arrays: dict[tuple[str, int], tuple[list[str], np.ndarray, np.ndarray]] = field(
        default_factory=dict, compare=False)

    def _bucket(self, key: tuple[str, int], bucket: Bucket | None
                ) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(words, ids, first-letter code points) of a bucket, as this view sees it.

        Making a bucket's words and arrays costs as much as the typo search itself
        for large buckets, so each view converts a bucket once (views are per
        snapshot, and a bucket only grows beyond what a view sees)."""
        cached = self._arrays.get(key)
        if cached is not None:
            return cached
        if bucket is None:
            out: tuple[list[str], np.ndarray, np.ndarray] = (
                [], np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32))
        else:
            # A slice copies the ids under the GIL, so the writer may grow its array
            # afterwards without a reader holding a buffer into it.
            ids = np.frombuffer(bucket[:], dtype=np.int64)
            ids = ids[: int(np.searchsorted(ids, self.n_terms))]  # ids grow within a bucket
            out = (self._terms.strings_at(ids), ids, self.codes[ids, 0])
        self._arrays[key] = out
        return out

    @cached_property
    def typo_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The terms' compact rows for typo searches (typo_rows), built on this view's first
        typo search: a view's vocabulary never changes."""
        return typo_rows(self.codes, self.lengths_by_id, self.ids)

    def same_first(self, first: str, length: int) -> tuple[list[str], np.ndarray]:
        """Terms of ``length`` characters starting with ``first``."""
        words, ids, _ = self._bucket((first, length), self._by_first.get((first, length)))
        return words, ids

    def same_length(self, length: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Terms of ``length`` characters, with the code point of each first letter."""
        return self._bucket(("", length), self._by_length.get(length))


class VocabularyBuilder:
    """Writer-side state; :meth:`extend` after the term table grew, then :meth:`view`."""

    def __init__(self, terms: TermTable) -> None:
        self._terms = terms  # the index's: code points and lengths by term id
        self._ids = np.empty(0, dtype=np.int64)  # sorted order
        self._stems: dict[str, StemGroup] = {}
        self._own_stem = array.array("B")
        self._by_first: dict[tuple[str, int], Bucket] = {}
        self._by_length: dict[int, Bucket] = {}
        self._grams = GramIndexBuilder()
        self._n = 0

    def extend(self) -> None:
        """Add the term table's terms past those seen."""
        start, stop = self._n, len(self._terms)
        if stop == start:
            return
        codes = self._terms.codes
        lengths = self._terms.lengths[start:stop]
        # The new terms' strings a slice at a time (the grams' own slices): an import's
        # views extend the vocabulary by every term of the import at once, and 200k
        # strings alive together (~14 MiB of small objects, with the stems') set an
        # import's peak memory (docs/benchmarks/memory.md, "An import's ids and new
        # terms' strings"). Stem groups and bigrams come out as from one call: both are appended
        # in increasing term ids.
        for lo in range(start, stop, GRAM_SLICE):
            hi = min(lo + GRAM_SLICE, stop)
            new = self._terms.strings(lo, hi)
            self._group_stems(new, lo)
            self._grams.add_many(lo, new, lengths[lo - start : hi - start])
            del new
        # Bucket by (first letter, length) and by length a group of words at a time, each
        # group in increasing term ids (a stable sort), as appending word by word would.
        firsts = codes[start:stop, 0]
        for key, chosen in _groups((firsts.astype(np.int64) << 32) | lengths):
            n = key & 0xFFFFFFFF
            first = chr(key >> 32) if n else ""
            _extend(self._by_first.setdefault((first, n), array.array("q")), chosen, start)
        for n, chosen in _groups(lengths):
            _extend(self._by_length.setdefault(n, array.array("q")), chosen, start)
        # The new terms sorted from their rows (trailing zeros compare as the shorter
        # string's end).
        added = unicode_rows(codes[start:stop])
        order = np.argsort(added, kind="stable")
        where = np.searchsorted(unicode_rows(codes[:start]), added[order], sorter=self._ids)
        if self._terms.has_long(stop):
            self._order_long(codes, start, order, where)
        # A new array: published Vocabulary objects keep the old order.
        self._ids = np.insert(self._ids, where, order + start)
        self._n = stop

    def _order_long(self, codes: np.ndarray, start: int, order: np.ndarray,
                    where: np.ndarray) -> None:
        """Correct ``order`` and ``where`` (extend's, in place) for terms longer than the
        rows: the rows of terms sharing their first row of letters are equal, so such
        terms are ordered, among themselves and where they go among the terms before
        ``start``, on their whole strings (as numpy compares them: trailing NULs dropped),
        as the rows of the terms' whole code points ordered them."""
        width = codes.shape[1]
        full = np.flatnonzero(self._terms.lengths[start + order] >= width)  # rows filled
        if full.size == 0:
            return
        rows = unicode_rows(codes[start + order[full]])
        # Runs of equal rows among the new terms: each sorted on the whole strings.
        cuts = np.flatnonzero(rows[1:] != rows[:-1]) + 1
        old = unicode_rows(codes[:start])
        for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), full.size], strict=True):
            at = full[a:b]
            if b - a > 1:
                keys = [w.rstrip("\x00") for w in self._terms.strings_at(start + order[at])]
                order[at] = order[at][np.argsort(np.array(keys, dtype=object), kind="stable")]
            # Where each goes among the earlier terms with the same row.
            lo = int(np.searchsorted(old, rows[a], side="left", sorter=self._ids))
            hi = int(np.searchsorted(old, rows[a], side="right", sorter=self._ids))
            if hi > lo:
                keys = [w.rstrip("\x00") for w in self._terms.strings_at(self._ids[lo:hi])]
                for i in at.tolist():
                    word = self._terms[int(start + order[i])].rstrip("\x00")
                    where[i] = lo + bisect.bisect_left(keys, word)

    def _group_stems(self, new: list[str], start: int) -> None:
        """Record the new terms' own-stem flags and add them to their stems' groups (in a
        method of its own: what it holds is gone before the buckets and grams are built,
        the extension's largest moment)."""
        stems, own = self._stems, self._own_stem
        stemmed = _stems_of(new)
        flags = np.fromiter(map(operator.eq, new, stemmed), dtype=bool, count=len(new))
        own.frombytes(flags.tobytes())
        # Only a term whose stem is another word, or a term that is such a stem, changes
        # the groups: the others (most new terms: ids, numbers) are not visited.
        stems_of_others = {stemmed[i] for i in np.flatnonzero(~flags).tolist()}
        visited = ~flags | np.fromiter(map(stems.__contains__, new), dtype=bool, count=len(new))
        if stems_of_others:
            visited |= np.fromiter(map(stems_of_others.__contains__, new), dtype=bool,
                                   count=len(new))
        for i in np.flatnonzero(visited).tolist():
            term, stem = new[i], stemmed[i]
            tid = start + i
            group = stems.get(stem)
            if group is None:
                # A term that is its own stem needs no entry unless another term has it.
                mate = self._terms.get(stem)
                if mate is not None and mate < tid and own[mate]:
                    stems[stem] = [mate, tid]
                elif stem != term:
                    stems[stem] = tid
            elif type(group) is int:
                stems[stem] = [group, tid]
            else:
                group.append(tid)

    def view(self) -> Vocabulary:
        # Own-stem flags copied under the GIL (a slice), as the gram view's arrays.
        own = np.frombuffer(self._own_stem[: self._n], dtype=np.bool_)
        codes = self._terms.codes[: self._n]
        return Vocabulary(unicode_rows(codes), self._ids, self._terms.lengths[: self._n], codes,
                          self._n, self._stems, self._terms, own, self._by_first,
                          self._by_length, self._grams.view(self._n))


def typo_rows(codes: np.ndarray, lengths: np.ndarray, order: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """(rank, rows): each term id's position in the sorted ``order`` (int32), and a row
    of 16 bytes per term in that order (kernels.typo_hits): its first ROW_LETTERS code
    points as uint16, then its length, or WIDE there when a letter or the length does not
    fit. A typo search's shortlist is terms sharing bigrams, most of them their first two
    letters: adjacent in sorted order, their rows a few contiguous cache lines instead of
    three scattered reads a term (its code row, length and first letter)."""
    rank = np.empty(order.size, dtype=np.int32)
    rank[order] = np.arange(order.size, dtype=np.int32)
    head = codes[order, :ROW_LETTERS]
    in_order = lengths[order]
    rows = np.zeros((order.size, ROW_LETTERS + 1), dtype=np.uint16)
    rows[:, :head.shape[1]] = head  # wide letters wrap: such rows are marked WIDE below
    wide = (head > 0xFFFF).any(axis=1) | (in_order >= WIDE)
    if head.shape[1] < ROW_LETTERS:
        # Code rows narrower than a typo row (every term but the overflow store's shorter
        # than ROW_LETTERS letters): a longer term's row would hold zeros where its letters
        # are, and the kernels compared those (a 25-letter term was no typo completion of
        # "baab"); WIDE sends them to the term's own letters.
        wide |= in_order > head.shape[1]
    rows[:, ROW_LETTERS] = np.where(wide, WIDE, in_order)
    return rank, rows


def _stems_of(words: list[str]) -> list[str]:
    """stem_words, the stemmer not asked about words of digits only (most often every
    document's id): a Snowball stem only ever removes or changes letters, so such a
    word is its own stem."""
    worded = np.flatnonzero(~np.fromiter(map(str.isdigit, words), dtype=bool,
                                         count=len(words)))
    if worded.size == len(words):
        return stem_words(words)
    stems = np.array(words, dtype=object)
    if worded.size:
        stems[worded] = stem_words(list(map(words.__getitem__, worded.tolist())))
    return stems.tolist()


def _groups(keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(key, positions with that key, increasing) for each distinct key."""
    order = np.argsort(keys, kind="stable")
    cuts = (np.flatnonzero(np.diff(keys[order])) + 1).tolist()
    bounds = zip([0, *cuts], [*cuts, order.size], strict=True)
    return [(int(keys[order[a]]), order[a:b]) for a, b in bounds]


def _extend(bucket: Bucket, chosen: np.ndarray, start: int) -> None:
    bucket.frombytes((chosen + start).astype(np.int64).tobytes())
