"""The bigram count filter of the typo search (grams.py).

The terms that share enough of a word's bigrams, within its length bounds and with its
first letter (shared_grams), and for a word being typed, as a whole word and as a
prefix, in one count (typed_word_grams).
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled

# A length bound no term reaches: the completions of a typed word have any length.
ANY_LENGTH = 1 << 30


@compiled
def shared_grams(ids, n_terms, need, lengths, firsts, min_len, max_len, first
                 ):  # pragma: no cover - compiled
    """Sorted term ids occurring at least ``need`` times in ``ids`` (the concatenated
    posting lists of a word's bigrams) whose length is within ``[min_len, max_len]`` and,
    unless ``first`` < 0, whose first letter is ``first``: the q-gram count filter
    without a vocabulary-sized scan. A term is taken when its count reaches ``need``,
    in the one pass that counts (a second pass over the ids to pick them was ~5 µs of
    a word's ~22)."""
    counts = np.zeros(n_terms, np.uint16)
    return np.sort(_counted_grams(ids, counts, need, lengths, firsts, min_len, max_len, first))


@compiled
def _counted_grams(ids, counts, need, lengths, firsts, min_len, max_len, first
                   ):  # pragma: no cover - compiled
    """The count of shared_grams and typed_word_grams: adds ``ids`` to ``counts`` and
    returns, in the order they got there, the terms whose count reached ``need`` and
    that pass the length and first-letter tests."""
    out = np.empty(ids.size, np.int64)
    k = 0
    for i in range(ids.size):
        t = ids[i]
        c = counts[t] + 1
        counts[t] = c
        if c == need and min_len <= lengths[t] <= max_len and (first < 0 or firsts[t] == first):
            out[k] = t
            k += 1
    return out[:k]


@compiled
def typed_word_grams(ids, ends, n_terms, need, lengths, firsts, min_len, max_len, first
                     ):  # pragma: no cover - compiled
    """shared_grams of a word being typed, both ways its typos are searched, in one count:
    (its own shortlist, its completions' shortlist), sorted. ``ids``: the concatenated
    postings of the bigrams of ``^word`` (a prefix's); ``ends``: the posting of its last
    letter's end bigram (``x$``), which the whole word's bigrams add to those. The
    completions' shortlist is shared_grams(ids, n_terms, need, ..., min_len, any length,
    first); the word's, shared_grams over ``ids`` and ``ends`` with ``need + 1`` and
    ``[min_len, max_len]``: every term of it counts at least ``need`` in ``ids`` and
    passes the same length and letter tests, so it is among the completions' shortlist,
    read once more with the end bigram's counts added; the two counts of the same
    postings were two calls."""
    counts = np.zeros(n_terms, np.uint16)
    heads = np.sort(_counted_grams(ids, counts, need, lengths, firsts, min_len, ANY_LENGTH,
                                   first))
    k = heads.size
    for i in range(ends.size):
        counts[ends[i]] += 1
    word = np.empty(k, np.int64)
    j = 0
    for i in range(k):
        t = heads[i]
        if counts[t] > need and lengths[t] <= max_len:
            word[j] = t
            j += 1
    return word[:j], heads


@compiled
def typed_word_grams_any_first(ids, ends, n_terms, need, lengths, firsts, min_len, max_len,
                               first):  # pragma: no cover - compiled
    """typed_word_grams of a word whose whole-word typo search takes any first letter
    (expand: two typos, or a word the index does not know) and whose completions' keeps
    its own: (the whole word's shortlist, as shared_grams over ``ids`` and ``ends`` with
    ``need + 1``, ``[min_len, max_len]``, any first letter; the completions', as
    shared_grams over ``ids`` with ``need``, ``min_len`` and any length, first letter
    ``first``), sorted. ``ids``: the concatenated postings (every first letter's) of the
    bigrams of ``^word``; ``ends``: the posting of its end bigram (``x$``). A term of
    either list counts at least ``need`` in ``ids`` (the end bigram adds at most one), so
    both are read off the terms reaching ``need``: one count where GramView.candidates
    made two, the completions' over the postings split by first letter (a word of nine
    letters and more: 9,000-22,000 posting entries counted twice, 14-87 µs the second)."""
    counts = np.zeros(n_terms, np.uint16)
    reached = np.sort(_counted_grams(ids, counts, need, lengths, firsts, min_len, ANY_LENGTH,
                                     -1))
    for i in range(ends.size):
        counts[ends[i]] += 1
    word = np.empty(reached.size, np.int64)
    heads = np.empty(reached.size, np.int64)
    j = 0
    h = 0
    for i in range(reached.size):
        t = reached[i]
        if firsts[t] == first:
            heads[h] = t
            h += 1
        if counts[t] > need and lengths[t] <= max_len:
            word[j] = t
            j += 1
    return word[:j], heads[:h]
