"""Bigram index over the vocabulary: the few terms worth an edit-distance check.

Typo tolerance compares a query word with vocabulary terms of similar length. On a
real vocabulary (tens of thousands of terms) comparing against every term of the
right length and first letter costs milliseconds per word; most of those terms
share almost nothing with the word. The q-gram count filter removes them first:
one edit destroys at most three of a word's bigrams (a transposition: "abcd" ->
"acbd" loses ab, bc, cd), so a term within ``d`` edits of a word shares at least
``|bigrams(word)| - 3d`` of its distinct bigrams. Words are padded with ``^`` and
``$`` so their first and last letters count. Counting shared bigrams is one
numpy ``bincount`` over the posting lists of the word's bigrams; only the
survivors go to the exact (OSA) distance.

Like the vocabulary, the index is append-only: the writer appends term ids to
per-bigram arrays, a reader's :class:`GramView` sees only ids below its term count.
"""

from __future__ import annotations

import array
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from sift.engine.kernels import shared_grams, typed_word_grams, typed_word_grams_any_first
from sift.engine.terms import LONG_LETTERS, code_rows

_EDIT_DESTROYS = 3  # bigrams one edit (OSA: a transposition) can destroy at most
_NO_IDS = np.empty(0, dtype=np.uint32)  # an absent posting (never written to)
SLICE = 16_384  # words whose bigrams are computed together
_OWNER_BITS = 14  # a word's position in its slice
assert 1 << _OWNER_BITS >= SLICE


def bigrams(word: str, prefix: bool = False) -> set[str]:
    """Distinct bigrams of ``^word$`` (``^word`` for a prefix: the end is open)."""
    padded = "^" + word + ("" if prefix else "$")
    return {padded[i:i + 2] for i in range(len(padded) - 1)}


def counts_typed(word: str, budget: int) -> bool:
    """Whether GramView.typed_candidates counts ``word``'s shortlists (else it answers
    None): a word with letters, some bigram of which ``budget`` edits cannot destroy,
    and no ``$`` making its end bigram one of the others."""
    return bool(word) and _typed_need(word, bigrams(word, True), budget) > 0


def _typed_need(word: str, grams: set[str], budget: int) -> int:
    """The bigrams of ``grams`` (``word``'s, as a prefix) a term must share with it after
    ``budget`` edits; 0 where the count cannot be made (see counts_typed)."""
    if word[-1] + "$" in grams:
        return 0
    return max(len(grams) - _EDIT_DESTROYS * budget, 0)


class GramIndexBuilder:
    """Writer side: posting arrays (term ids, increasing) per bigram, and per-term
    length and first letter."""

    def __init__(self) -> None:
        self.postings: dict[str, array.array] = {}
        self.lengths = array.array("I")
        self.firsts = array.array("I")

    def add(self, tid: int, word: str) -> None:
        self.add_many(tid, [word])

    def _add_one(self, tid: int, word: str) -> None:
        for gram in bigrams(word):
            posting = self.postings.get(gram)
            if posting is None:
                posting = self.postings[gram] = array.array("I")
            posting.append(tid)
        self.lengths.append(len(word))
        self.firsts.append(ord(word[0]) if word else 0)

    def add_many(self, first: int, words: list[str], lengths: np.ndarray | None = None
                 ) -> None:
        """Index ``words`` as term ids ``first``, ``first + 1``, ...: their bigrams from
        arrays of code points, words of one length at a time, instead of a set per word
        (a batch's new terms are often most of its words: every document's id).
        ``lengths``: the words' (int64), when known."""
        if not words:
            return
        if "\x00" in "".join(words):  # numpy's strings would drop a trailing NUL
            for offset, word in enumerate(words):
                self._add_one(first + offset, word)
            return
        # In slices: a batch's pairs take ~40 bytes per bigram in scratch arrays, which for
        # 200k new terms at once raised an import's peak memory by ~60 MiB.
        if lengths is None:
            lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        for start in range(0, len(words), SLICE):
            self._add_slice(first + start, words[start : start + SLICE],
                            lengths[start : start + SLICE])

    def _add_slice(self, first: int, words: list[str], lengths: np.ndarray) -> None:
        long = lengths > LONG_LETTERS
        # The code rows as wide as the words of up to LONG_LETTERS letters (a longer one
        # by its first letter: its own rows below): one long token made the slice's rows
        # ~1 KiB a word, a transient 16 MiB that the heap kept afterwards (issue #18).
        short = [w[:1] if n > LONG_LETTERS else w for w, n in
                 zip(words, lengths.tolist(), strict=True)] if long.any() else words
        codes, _ = code_rows(short, lengths)
        self.lengths.frombytes(lengths.astype(np.uint32).tobytes())
        self.firsts.frombytes(codes[:, 0].astype(np.uint32).tobytes())  # an empty word: 0
        keys = []
        for length in np.unique(lengths).tolist():
            rows = np.flatnonzero(lengths == length)
            padded = np.empty((rows.size, length + 2), dtype=np.uint64)
            padded[:, 0], padded[:, -1] = ord("^"), ord("$")
            padded[:, 1:-1] = codes[rows, :length] if length <= LONG_LETTERS \
                else code_rows(list(map(words.__getitem__, rows.tolist())))[0]
            # (bigram, word) as one key: each code point fits in 21 bits, a word of the
            # slice in _OWNER_BITS.
            pair = (padded[:, :-1] << np.uint64(21)) | padded[:, 1:]
            keys.append(((pair << np.uint64(_OWNER_BITS))
                         | rows.astype(np.uint64)[:, None]).ravel())
        # One entry per (bigram, word), by bigram then term id: each posting stays in
        # increasing term ids, as appending word after word would leave it.
        key = np.sort(np.concatenate(keys), kind="stable")  # runs already in order
        fresh = np.ones(key.size, dtype=bool)
        fresh[1:] = key[1:] != key[:-1]
        key = key[fresh]
        pair = key >> np.uint64(_OWNER_BITS)
        tids = (key & np.uint64((1 << _OWNER_BITS) - 1)).astype(np.int64) + first
        cuts = np.flatnonzero(np.diff(pair)) + 1
        for start, end in zip(np.r_[0, cuts].tolist(), np.r_[cuts, pair.size].tolist(),
                              strict=True):
            code = int(pair[start])
            gram = chr(code >> 21) + chr(code & 0x1FFFFF)
            posting = self.postings.get(gram)
            if posting is None:
                posting = self.postings[gram] = array.array("I")
            posting.frombytes(tids[start:end].astype(np.uint32).tobytes())

    def view(self, n_terms: int) -> GramView:
        # Slicing copies under the GIL: the writer's arrays may grow afterwards
        # without a reader ever holding a buffer into them.
        return GramView(self.postings, np.frombuffer(self.lengths[:n_terms], dtype=np.uint32),
                        np.frombuffer(self.firsts[:n_terms], dtype=np.uint32), n_terms)


@dataclass
class GramView:
    postings: dict[str, array.array]  # shared with the writer; ids >= n_terms ignored
    lengths: np.ndarray  # characters per term id
    firsts: np.ndarray  # code point of each term's first letter
    n_terms: int
    _arrays: dict[str, np.ndarray] = field(default_factory=dict)
    # A gram's terms starting with a letter, by letter then gram: what a search that
    # keeps the word's first letter counts (a gram's posting in ~1/15 of the entries;
    # together no larger than the postings they split).
    _by_first: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def _posting(self, gram: str) -> np.ndarray | None:
        cached = self._arrays.get(gram)
        if cached is None:
            source = self.postings.get(gram)
            if source is None:
                return None
            ids = np.frombuffer(source[:], dtype=np.uint32)  # a copy, see view()
            cached = ids[: int(np.searchsorted(ids, self.n_terms))]
            self._arrays[gram] = cached
        return cached

    def _posting_of(self, gram: str, first: str) -> np.ndarray | None:
        """The terms of ``gram``'s posting that start with ``first``."""
        split = self._by_first.setdefault(first, {})
        cached = split.get(gram)
        if cached is None:
            ids = self._posting(gram)
            if ids is None:
                return None
            cached = split[gram] = ids[self.firsts[ids] == ord(first)]
        return cached

    def starting_with(self, gram: str, first: str) -> np.ndarray:
        """The terms starting with ``first`` that have ``gram`` (uint32 ids, increasing)."""
        found = self._posting_of(gram, first)
        return _NO_IDS if found is None else found

    def _postings_of(self, grams: Iterable[str], first: str) -> list[np.ndarray]:
        """The postings of ``grams`` that exist, each only its terms starting with
        ``first``; looked up in the letter's split first (a method call a gram cost
        ~0.5 µs)."""
        split = self._by_first.get(first) or {}
        return [p for g in grams
                if (p := split.get(g)) is not None or (p := self._posting_of(g, first))
                is not None]

    def typed_candidates(self, word: str, budget: int
                         ) -> tuple[np.ndarray, np.ndarray] | None:
        """(``candidates(word, budget, False, False)``, ``candidates(word, budget, True,
        False)``): a word being typed is searched for typos whole and as the beginning of
        its completions, and the second's bigrams are the first's but for the end one
        (``x$``), so one count gives both (kernels.typed_word_grams). None where the end
        bigram is among the others (a word with ``$`` in it) or the prefix's filter
        rules nothing out: ask ``candidates`` for each then."""
        return self._typed_count(word, budget, any_first=False)

    def typed_candidates_any_first(self, word: str, budget: int
                                   ) -> tuple[np.ndarray, np.ndarray] | None:
        """(``candidates(word, budget, False, True)``, ``candidates(word, budget, True,
        False)``): typed_candidates of a word whose whole-word search takes any first
        letter, from one count of every first letter's postings
        (kernels.typed_word_grams_any_first); None where it cannot (as typed_candidates):
        ask ``candidates`` for each then."""
        return self._typed_count(word, budget, any_first=True)

    def _typed_count(self, word: str, budget: int, any_first: bool
                     ) -> tuple[np.ndarray, np.ndarray] | None:
        """typed_candidates (the whole word's shortlist within its first letter) or
        typed_candidates_any_first (with any first letter: every first letter's
        postings), from one count."""
        if not word:
            return None
        grams = bigrams(word, True)  # counts_typed's test, on bigrams made once
        need = _typed_need(word, grams, budget)
        if not need:
            return None
        end = word[-1] + "$"
        first = word[0]
        lists = [p for g in grams if (p := self._posting(g)) is not None] if any_first \
            else self._postings_of(grams, first)
        if not lists:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        if any_first:
            ending = self._posting(end)
        else:
            ends = self._postings_of((end,), first)
            ending = ends[0] if ends else None
        count = typed_word_grams_any_first if any_first else typed_word_grams
        n = len(word)
        return count(np.concatenate(lists) if len(lists) > 1 else lists[0],
                     _NO_IDS if ending is None else ending, self.n_terms, need, self.lengths,
                     self.firsts, max(n - budget, 0), n + budget, ord(first))

    def candidates(self, word: str, budget: int, prefix: bool, any_first: bool
                   ) -> np.ndarray | None:
        """Term ids that may be within ``budget`` edits of ``word`` (of a prefix of the
        term when ``prefix``), a superset of the true matches; None when the filter
        cannot rule anything out (a very short word) and every term must be checked."""
        grams = bigrams(word, prefix)
        need = len(grams) - _EDIT_DESTROYS * budget
        if need <= 0:
            return None
        if any_first:
            lists = [p for g in grams if (p := self._posting(g)) is not None]
        else:  # only terms sharing the word's first letter are kept: only they are counted
            lists = self._postings_of(grams, word[0])
        if not lists:
            return np.empty(0, dtype=np.int64)
        n = len(word)
        return shared_grams(np.concatenate(lists) if len(lists) > 1 else lists[0], self.n_terms,
                            need, self.lengths, self.firsts, max(n - budget, 0),
                            2**31 if prefix else n + budget, -1 if any_first else ord(word[0]))
