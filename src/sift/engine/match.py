"""From expanded query words to per-candidate feature arrays.

The occurrences of every query word's expansion terms are gathered in one
compiled call per pair of segments, into one buffer where each word's rows follow
the previous word's; phrases (quoted parts, multi-word synonyms, split words) are
matched by shifting position keys and added to their word. The union of documents
is the candidate set, and each feature the ranking rules need is a (words x
candidates) array built by a compiled loop (kernels/) or ufunc.at, so the cost
depends on the number of occurrences, never on a Python loop per document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final, overload

import numpy as np

from sift.engine.expand import W_SYNONYM, QueryWord, best_split, term_rows, term_table
from sift.engine.kernels import (
    DENSE_CANDIDATES,
    MARKED_CANDIDATES,
    SPARSE_CANDIDATES,
    candidate_index,
    candidates_and_frequencies,
    dense_candidates,
    gather_candidates,
    gather_words,
    marked_candidates,
    phrase_rows,
    proximity_costs,
    proximity_keys,
)
from sift.engine.store import LRU, Segment, Snapshot

SPARSE_RATIO = 16  # occurrences below n_docs / this: sort them, no docid-sized arrays
# Occurrences below n_docs / this (and not sparse): their candidates from a bitset of the
# docids (kernels.marked_candidates), not a pass over every docid (dense_candidates).
MARKED_RATIO = 4
POS_BITS = 20  # positions are clipped below 2**20 inside a field
# Phrases (quoted, synonym, split words) whose occurrences a snapshot keeps, and the most
# occurrences one may have to be kept (~15 bytes each: at most ~15 MiB in all, and
# typically a few KiB: a phrase is rare where its words are not; a split of a word being
# typed found at most 7 rows in the paired benchmark's queries).
PHRASE_CACHE_SIZE = 256
PHRASE_CACHE_ROWS = 1 << 12
_NO_MATCH_ATTR = np.int64(1) << 40


@dataclass
class Occurrences:
    docs: np.ndarray  # uint32
    fields: np.ndarray  # uint16
    pos: np.ndarray  # uint32
    typos: np.ndarray  # int8
    exact: np.ndarray  # bool
    weight: np.ndarray  # float32

    @classmethod
    def empty(cls) -> Occurrences:
        return cls(np.empty(0, np.uint32), np.empty(0, np.uint16), np.empty(0, np.uint32),
                   np.empty(0, np.int8), np.empty(0, bool), np.empty(0, np.float32))

    @classmethod
    def concat(cls, parts: Sequence[Occurrences]) -> Occurrences:
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("docs", "fields", "pos", "typos", "exact", "weight")))

    def select(self, mask: np.ndarray) -> Occurrences:
        return Occurrences(self.docs[mask], self.fields[mask], self.pos[mask], self.typos[mask],
                           self.exact[mask], self.weight[mask])


@dataclass
class MatchContext:
    doc_mask: np.ndarray  # bool per docid: alive and passing the filter
    field_ok: np.ndarray  # bool per field id: searchable for this query
    typo_field_ok: np.ndarray  # bool per field id: typos allowed there
    splits: bool = True
    every_doc: bool = False  # doc_mask is all True (no filter, no deleted document)
    # field_ok / typo_field_ok all True; None: worked out here (a caller that keeps the
    # masks per index view keeps these with them: two numpy reductions a search).
    every_field: bool | None = None
    typos_everywhere: bool | None = None

    def __post_init__(self) -> None:
        # Asked for every query word: computed once.
        if self.every_field is None:
            self.every_field = bool(self.field_ok.all())
        if self.typos_everywhere is None:
            self.typos_everywhere = bool(self.typo_field_ok.all())


def _term_rows(tid: int, snap: Snapshot) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(docs, fields, pos) of one term over every segment; None when it has none. A
    segment's rows of one term are a slice (Segment.term_rows, for many terms, spent
    ten numpy calls a segment on it)."""
    parts = []
    for seg in snap.segments:
        if tid < seg.term_ptr.size - 1:
            a, b = int(seg.term_ptr[tid]), int(seg.term_ptr[tid + 1])
            if b > a:
                parts.append((seg.docs[a:b], seg.fields[a:b], seg.pos[a:b]))
    if len(parts) < 2:
        return parts[0] if parts else None
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]


def _keys(docs: np.ndarray, fields: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return ((docs.astype(np.int64) << 16 | fields.astype(np.int64)) << POS_BITS) | pos.astype(
        np.int64)


def phrase_occurrences(words: list[str], snap: Snapshot, typos: int, exact: bool,
                       weight: float, ids: list[int] | None = None) -> Occurrences:
    """Occurrences of the first word of ``words`` followed by the others, consecutively;
    the same object for the same phrase while the snapshot lasts (never write to it).
    ``ids``: the words' term ids where the caller has them (expand.best_split's), not
    looked up again.

    Kept per snapshot when few: matching a phrase compares every occurrence of its
    words (np.isin, ~0.35 ms on scifact for a split like "lo cali" of a word being
    typed, against ~0.45 ms for a whole short search) to find a handful of rows, and
    typeahead sends the same partial words again and again."""
    cache = snap.cached("phrases", lambda: LRU(PHRASE_CACHE_SIZE))
    key = (tuple(words), typos, exact, weight)
    occ = cache.get(key)
    if occ is None:
        occ = _phrase_occurrences(words, snap, typos, exact, weight, ids)
        if occ.docs.size <= PHRASE_CACHE_ROWS:
            cache.put(key, occ)
    return occ


def _phrase_occurrences(words: list[str], snap: Snapshot, typos: int, exact: bool,
                        weight: float, ids: list[int] | None = None) -> Occurrences:
    if ids is None:
        ids = [t for w in words if (t := snap.term_id(w)) is not None]
    if len(ids) < len(words):
        return Occurrences.empty()
    if len(snap.segments) > 2:
        return _phrase_occurrences_numpy(ids, snap, typos, exact, weight)
    a, b = [*snap.segments, _NO_SEGMENT, _NO_SEGMENT][:2]
    docs, fields, pos = phrase_rows(a.term_ptr, a.docs, a.fields, a.pos, b.term_ptr, b.docs,
                                    b.fields, b.pos, np.array(ids, np.int64), POS_BITS)
    n = docs.size
    return Occurrences(docs, fields, pos, np.full(n, typos, np.int8), np.full(n, exact),
                       np.full(n, weight, np.float32))


def _phrase_occurrences_numpy(ids: list[int], snap: Snapshot, typos: int, exact: bool,
                              weight: float) -> Occurrences:
    """:func:`_phrase_occurrences` of the terms ``ids`` in numpy, over any number of
    segments (kernels.phrase_rows reads two)."""
    per_word = []
    for tid in ids:
        rows = _term_rows(tid, snap)
        if rows is None:
            return Occurrences.empty()
        per_word.append(rows)
    docs, fields, pos = per_word[0]
    keys = _keys(docs, fields, pos)
    keep = np.ones(keys.size, dtype=bool)
    for k, (d, f, p) in enumerate(per_word[1:], start=1):
        keep &= _members(keys + k, _keys(d, f, p))
    n = int(keep.sum())
    return Occurrences(docs[keep], fields[keep], pos[keep], np.full(n, typos, np.int8),
                       np.full(n, exact), np.full(n, weight, np.float32))


def _members(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``np.isin(values, pool)`` for int64 keys. np.isin sorts both arrays, then both
    together (or, for a tiny pool, compares with each of its keys): here a pool much
    smaller than ``values`` (a frequent word's rows against a rare one's) is compared key
    by key, any other sorted and ``values`` looked up in it, 2-3x quicker for a phrase.
    Key by key costs ``values.size`` per key: only for as few keys as np.isin's own rule
    for its tiny pools allows (~27 against 1,000 values, ~74 against 1M), so that a
    frequent word's million rows are not scanned thousands of times."""
    if pool.size * 64 < values.size and pool.size < 10 * values.size ** 0.145:
        found = np.zeros(values.size, dtype=bool)
        for key in pool.tolist():
            found |= values == key
        return found
    pool = np.sort(pool)
    at = np.searchsorted(pool, values)
    np.minimum(at, pool.size - 1, out=at)
    return pool[at] == values


# The partner of a segment without one (gather_words reads segments in pairs).
_NO_SEGMENT = Segment(np.zeros(1, np.int64), np.empty(0, np.uint32), np.empty(0, np.uint16),
                      np.empty(0, np.uint32))


# The occurrences one query may gather: the rows of every word's terms in every segment.
# Bucket ranking rules keep a repeated word's repeats, and each gathers the word's rows
# again: a thousand repeats of a word filling a 200 KB field held a worker 10 s and took
# ~4 GB (`python -m benchmarks fuzz --seed 29`). The words past the budget are left out
# of the ranking, as Meilisearch leaves out those past its tenth. 2**23 rows (~130 MB
# gathered) is over ten times a one-letter prefix's ~700k at 1M products (kernels/,
# marked_candidates).
MAX_QUERY_ROWS: Final = 1 << 23
# Fewer words gather at most that many times the index's own rows: not counted, so that
# a typical query pays nothing for the budget.
BUDGETED_WORDS: Final = 8


def within_row_budget(words: list[QueryWord], sequence: list[int] | None, snap: Snapshot
                      ) -> tuple[list[QueryWord], list[int] | None]:
    """The leading ``words`` whose rows together stay within MAX_QUERY_ROWS (the first
    word at least), and ``sequence`` (positions of the query naming a word of ``words``)
    without the positions of the words left out."""
    if len(words) < BUDGETED_WORDS:
        return words, sequence
    ptr, term_ids, *_ = term_table(words)
    rows = np.zeros(term_ids.size, dtype=np.int64)
    for seg in snap.segments:
        known = term_ids < seg.term_ptr.size - 1
        at = np.where(known, term_ids, 0)
        rows += np.where(known, seg.term_ptr[at + 1] - seg.term_ptr[at], 0)
    through = np.concatenate(([0], np.cumsum(rows)))[ptr[1:]]  # rows up to each word's end
    over = np.flatnonzero(through > MAX_QUERY_ROWS)
    if over.size == 0:
        return words, sequence
    kept = max(int(over[0]), 1)
    if sequence is not None:
        sequence = [i for i in sequence if i < kept]
    return words[:kept], sequence


# What Features takes to find the relevance rule's term frequencies with the candidates:
# (ranking.field_weights, its documents a field, ranking.scored_words: per word whether
# it gets them).
FieldWeights = tuple[np.ndarray, int, np.ndarray]


# What kernels.gather_candidates found with the occurrences: (offsets, cands, index,
# matched, tf, df), as match.Features takes them.
Found = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def gather(words: list[QueryWord], snap: Snapshot, ctx: MatchContext
           ) -> tuple[WordOccurrences, Occurrences | None]:
    """All usable occurrences of each query word, and every word's end to end in one
    buffer (what Features and the relevance rule read) when one call gathered them all:
    no phrase, synonym phrase or split word, and at most two segments."""
    occs, flat, _ = gather_found(words, snap, ctx, None)
    return occs, flat


def gather_found(words: list[QueryWord], snap: Snapshot, ctx: MatchContext,
                 field_weight: FieldWeights | None, copied: np.ndarray | None = None
                 ) -> tuple[WordOccurrences, Occurrences | None, Found | None]:
    """:func:`gather`, and with ``field_weight`` (what Features takes) the candidates and
    their term frequencies found in the same call where every word's occurrences are its
    terms' rows alone in at most two segments (kernels.gather_candidates); else None.
    ``copied``: per word, whether anything reads its rows' columns beyond their docids
    (None: all do); a word not copied must not be scored (field_weight's mask). In that
    call only: elsewhere every row is copied whole."""
    # A word's phrase, synonym phrases and split first: without any, one call gathers.
    extras = [_phrase_parts(word, snap, ctx) for word in words]
    segments = list(snap.segments) or [_NO_SEGMENT]
    if len(segments) % 2:
        segments.append(_NO_SEGMENT)
    if field_weight is not None and len(segments) == 2 and not any(extras):
        a, b = segments
        ptr, rows = term_rows(words)
        *run, offsets, cands, index, matched, tf, df = gather_candidates(
            a.term_ptr, a.docs, a.fields, a.pos, b.term_ptr, b.docs, b.fields, b.pos, ptr,
            rows, ctx.doc_mask, ctx.field_ok, ctx.typo_field_ok, not ctx.every_doc,
            not ctx.every_field, not ctx.typos_everywhere, snap.alive.size, SPARSE_RATIO,
            MARKED_RATIO, *field_weight,
            np.ones(len(words), np.bool_) if copied is None else copied)
        flat = Occurrences(*run)
        return WordRows(flat, offsets.tolist()), flat, (offsets, cands, index, matched, tf,
                                                        df)
    table = term_table(words)
    # Occurrences are masked by document (filter, deletions), field and typo rules,
    # unless none of them can exclude anything (the common unfiltered search).
    runs = [gather_words(a.term_ptr, a.docs, a.fields, a.pos, b.term_ptr, b.docs, b.fields,
                         b.pos, *table, ctx.doc_mask, ctx.field_ok, ctx.typo_field_ok,
                         not ctx.every_doc, not ctx.every_field, not ctx.typos_everywhere)
            for a, b in zip(segments[::2], segments[1::2], strict=True)]
    offsets = [run[6].tolist() for run in runs]
    occs = []
    for w, extra in enumerate(extras):
        parts = [_rows(run, o[w], o[w + 1])
                 for run, o in zip(runs, offsets, strict=True) if o[w + 1] > o[w]]
        if len(parts) > 1:
            parts = [Occurrences.concat(parts)]
        occs.append(_with_phrases(parts, extra, ctx))
    flat = Occurrences(*runs[0][:6]) if len(runs) == 1 and not any(extras) else None
    return occs, flat, None


class WordRows(Sequence[Occurrences]):
    """Each query word's occurrences as slices of every word's end to end (``flat``, word
    w's rows ``[bounds[w], bounds[w + 1])``), each sliced when first read: the relevance
    rule reads only ``flat``, and six slices and an Occurrences a word were ~1.2 µs of a
    search. Setting a word's occurrences replaces its slice (word_totals fills one)."""

    __slots__ = ("_bounds", "_flat", "_words")

    def __init__(self, flat: Occurrences, bounds: list[int]) -> None:
        self._flat = flat
        self._bounds = bounds
        self._words: list[Occurrences | None] = [None] * (len(bounds) - 1)

    def __len__(self) -> int:
        return len(self._words)

    @overload
    def __getitem__(self, w: int) -> Occurrences: ...

    @overload
    def __getitem__(self, w: slice) -> list[Occurrences]: ...

    def __getitem__(self, w: int | slice) -> Occurrences | list[Occurrences]:
        if isinstance(w, slice):
            return [self[i] for i in range(*w.indices(len(self._words)))]
        occ = self._words[w]
        if occ is None:
            if w < 0:
                w += len(self._words)
            lo, hi = self._bounds[w], self._bounds[w + 1]
            flat = self._flat
            occ = Occurrences(flat.docs[lo:hi], flat.fields[lo:hi], flat.pos[lo:hi],
                              flat.typos[lo:hi], flat.exact[lo:hi], flat.weight[lo:hi]) \
                if hi > lo else Occurrences.empty()
            self._words[w] = occ
        return occ

    def __setitem__(self, w: int, occ: Occurrences) -> None:
        self._words[w] = occ


# Each query word's occurrences (match.gather): a list, or slices of one buffer.
WordOccurrences = list[Occurrences] | WordRows


def _rows(run: tuple[np.ndarray, ...], lo: int, hi: int) -> Occurrences:
    """Rows ``lo:hi`` of a gather_words result (the slices spelled out: a generator
    over the arrays cost ~1 µs a word more)."""
    docs, fields, pos, typos, exact, weight = run[:6]
    return Occurrences(docs[lo:hi], fields[lo:hi], pos[lo:hi], typos[lo:hi], exact[lo:hi],
                       weight[lo:hi])


def _phrase_parts(word: QueryWord, snap: Snapshot, ctx: MatchContext) -> list[Occurrences]:
    """The occurrences of a word's phrase, synonym phrases and split (unmasked), one part
    each that has any: none for most words, and for most splits of a word being typed
    ("protei": "pro tei" occurs nowhere), whose empty part would add no row but keep
    the word from being gathered with the others (gather_found)."""
    parts = []
    if word.phrase is not None:
        parts.append(phrase_occurrences(word.phrase, snap, 0, True, 1.0))
        word.highlight_words.update(word.phrase)
    for alt in word.alt_phrases:
        parts.append(phrase_occurrences(alt, snap, 0, False, W_SYNONYM))
    if ctx.splits and word.phrase is None and not word.any_exact and \
            not word.known_elsewhere:
        split = best_split(word.text, snap)
        if split is not None:
            parts.append(phrase_occurrences(split.words, snap, 1, False, W_SYNONYM,
                                            split.ids))
            word.highlight_words.update(split.words)
    return [part for part in parts if part.docs.size]


def _with_phrases(parts: list[Occurrences], extra: list[Occurrences], ctx: MatchContext
                  ) -> Occurrences:
    """A word's term occurrences (``parts``: none or one, already masked) with its
    phrases' (``extra``, from _phrase_parts), masked."""
    occ = Occurrences.concat([*parts, *extra])
    if occ.docs.size == 0 or not extra:
        return occ  # term occurrences alone were masked in gather_words
    ok = ctx.doc_mask[occ.docs] & ctx.field_ok[occ.fields]
    ok &= (occ.typos == 0) | ctx.typo_field_ok[occ.fields]
    return occ if ok.all() else occ.select(ok)


def sorted_distinct(docs: np.ndarray) -> np.ndarray:
    """``np.unique(docs)``: a sort and a neighbour comparison. numpy >= 2.3's unique
    goes through a hash table first, 30-40x slower on the tens of thousands of docids
    of a sparse search (26 ms against 0.7 ms for 60k docids of a million)."""
    ordered = np.sort(docs)
    if ordered.size < 2:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


class Features:
    """Per-candidate features; rows are query words, columns candidates.

    Only ``matched`` is built eagerly; the others are computed on first use, so a
    ranking that only needs relevance never pays for attribute/typo arrays.
    """

    def __init__(self, occs: WordOccurrences, field_rank: np.ndarray, n_docs: int,
                 flat: Occurrences | None = None,
                 field_weight: FieldWeights | None = None,
                 found: Found | None = None) -> None:
        """``found``: what gather_found found with ``flat`` (its candidates and their
        term frequencies), as the call below would find them (``field_weight``'s)."""
        # ``flat``: every word's occurrences end to end (gather): nothing to copy here.
        self._flat = flat
        self.occs = occs
        self.docs = flat.docs if flat is not None else self.joined("docs")
        # (tf [words, candidates], df [words]): the relevance rule's term frequencies,
        # when ``field_weight`` (ranking.field_weights, and its documents a field) came.
        self.frequencies: tuple[np.ndarray, np.ndarray] | None = None
        if found is not None:
            self.offsets, self.cands, self.index_all, self.matched, *tf_df = found
            self.frequencies = (tf_df[0], tf_df[1])
        else:
            self._candidates(n_docs, field_weight)
        # Candidate index of each occurrence, per word (views into index_all): made when
        # first read (``index``), as most searches read only index_all.
        self._index: list[np.ndarray] | None = None
        self.field_rank = field_rank
        self._cache: dict[str, np.ndarray] = {}
        # (tf [words, candidates], df [words]) when they come from a word's cached totals.
        self.totals: tuple[np.ndarray, np.ndarray] | None = None
        # Given these features and the rows that get the proximity bonus, puts a word's
        # occurrences there in ``occs`` and ``index`` (word_totals.trailing_word_features);
        # None: all present.
        self.fill_rows: Callable[[Features, np.ndarray], None] | None = None
        # The candidates as a bitset over docids (uint64, bit d & 63 of word d >> 6) when
        # the match built one (a word's cached totals): facet counts intersect it.
        self.bits: np.ndarray | None = None
        # (per candidate an index into values, values.size where absent; values): the
        # last word's term frequencies, coded (kernels.coded_sum), when ``totals``' tf
        # holds only the other words' rows (word_totals.trailing_word_features).
        self.coded_last: tuple[np.ndarray, np.ndarray] | None = None

    def _candidates(self, n_docs: int, field_weight: FieldWeights | None) -> None:
        """The occurrences' offsets per word, the candidates, each occurrence's candidate
        and the matched mask (and, with ``field_weight``, the term frequencies)."""
        ends = [0]
        for o in self.occs:
            ends.append(ends[-1] + o.docs.size)
        self.offsets = np.array(ends, dtype=np.int64)
        # Few occurrences for the index size: sorting them beats a docid-sized scan.
        occurrences = ends[-1]
        way = SPARSE_CANDIDATES if occurrences * SPARSE_RATIO < n_docs else \
            MARKED_CANDIDATES if occurrences * MARKED_RATIO < n_docs else DENSE_CANDIDATES
        if field_weight is not None:
            # One call for the candidates and their term frequencies.
            self.cands, self.index_all, self.matched, *tf_df = candidates_and_frequencies(
                self.docs, self.joined("fields"), self.joined("weight"), self.offsets, n_docs,
                *field_weight, way)
            self.frequencies = (tf_df[0], tf_df[1])
        elif way == SPARSE_CANDIDATES:
            self.cands = sorted_distinct(self.docs)
            self.index_all, self.matched = candidate_index(self.cands, self.docs, self.offsets,
                                                           n_docs)
        else:
            candidates = marked_candidates if way == MARKED_CANDIDATES else dense_candidates
            self.cands, self.index_all, self.matched = candidates(self.docs, self.offsets,
                                                                  n_docs)

    @property
    def index(self) -> list[np.ndarray]:
        """Candidate index of each occurrence, per word (views into ``index_all``)."""
        if self._index is None:
            self._index = [self.index_all[a:b] for a, b in pairwise(self.offsets.tolist())]
        return self._index

    @index.setter
    def index(self, index: list[np.ndarray]) -> None:
        self._index = index

    @classmethod
    def of_totals(cls, cands: np.ndarray, tf: np.ndarray, df: int, field_rank: np.ndarray
                  ) -> Features:
        """The features of a one-word query whose candidates and term frequencies came
        from the word's cached totals (sift.engine.word_totals): what the relevance rule
        reads, without the occurrences (no other rule may read them then)."""
        feats = cls([Occurrences.empty()], field_rank, 0)
        feats.cands = cands
        feats.matched = np.ones((1, cands.size), dtype=bool)
        feats.totals = (tf.reshape(1, -1), np.array([df], dtype=np.int64))
        return feats

    @classmethod
    def of_parts(cls, cands: np.ndarray, matched: np.ndarray,
                 totals: tuple[np.ndarray, np.ndarray], occs: list[Occurrences],
                 index: list[np.ndarray], field_rank: np.ndarray) -> Features:
        """Features whose candidates, matches and term frequencies were merged from parts
        (word_totals.trailing_word_features): what the relevance rule reads; ``occs`` and
        ``index`` per word, the last completed by ``fill_rows`` before the proximity bonus."""
        feats = cls([Occurrences.empty()], field_rank, 0)
        feats.cands = cands
        feats.matched = matched
        feats.totals = totals
        feats.occs = occs
        feats.index = index
        return feats

    def joined(self, name: str) -> np.ndarray:
        """One attribute of the occurrences (``"fields"``, ``"weight"``...), every
        word's end to end."""
        if self._flat is not None:
            return getattr(self._flat, name)
        if not self.occs:
            return getattr(Occurrences.empty(), name)
        return np.concatenate([getattr(o, name) for o in self.occs])

    def _per_word(self, name: str, fill: Any, dtype: Any, ufunc: Any, values: Any) -> np.ndarray:
        out = self._cache.get(name)
        if out is None:
            out = np.full((len(self.occs), self.cands.size), fill, dtype=dtype)
            for i, (o, idx) in enumerate(zip(self.occs, self.index, strict=True)):
                ufunc.at(out[i], idx, values(o))
            self._cache[name] = out
        return out

    @property
    def typos(self) -> np.ndarray:
        """int8 [W, C]: fewest typos among a word's occurrences in the candidate."""
        return self._per_word("typos", 127, np.int8, np.minimum, lambda o: o.typos)

    @property
    def exact(self) -> np.ndarray:
        """bool [W, C]: an exact (typo-free, non-prefix) occurrence exists."""
        return self._per_word("exact", False, bool, np.logical_or, lambda o: o.exact)

    @property
    def attr(self) -> np.ndarray:
        """int64 [W, C]: min (attribute rank << POS_BITS | position)."""
        def key(o: Occurrences) -> np.ndarray:
            return (self.field_rank[o.fields].astype(np.int64) << POS_BITS) | np.minimum(
                o.pos, (1 << POS_BITS) - 1).astype(np.int64)
        return self._per_word("attr", _NO_MATCH_ATTR, np.int64, np.minimum, key)

    @property
    def max_weight(self) -> np.ndarray:
        """float32 [W, C]: best expansion weight."""
        return self._per_word("weight", 0.0, np.float32, np.maximum, lambda o: o.weight)


def pair_proximity(a: Occurrences, ia: np.ndarray, b: Occurrences, ib: np.ndarray, n: int,
                   subset: np.ndarray | None = None, by_attribute: bool = False) -> np.ndarray:
    """Min proximity cost (1..7, 8 = not in the same attribute) from word a to word b.

    Both occurrence lists are merged in (candidate, field, position) order; the
    closest a/b pair is always adjacent in that order. b before a costs one more,
    as word order matters. ``by_attribute`` (proximityPrecision) only tells apart
    "same attribute" (1) from "not" (8).
    """
    keys, n_fields = pair_keys(a, ia, b, ib, np.ones(n, dtype=bool) if subset is None else subset)
    return proximity_costs(keys, n, n_fields, POS_BITS, by_attribute)


def pair_keys(a: Occurrences, ia: np.ndarray, b: Occurrences, ib: np.ndarray,
              subset: np.ndarray) -> tuple[np.ndarray, int]:
    """(sorted keys, n_fields): a's and b's occurrences in ``subset`` candidates packed
    as (candidate, field, position, word) int64 keys, in that order (kernels.proximity_keys)."""
    keys, n_fields = proximity_keys(ia, a.fields, a.pos, ib, b.fields, b.pos, subset, POS_BITS)
    keys.sort()
    return keys, n_fields
