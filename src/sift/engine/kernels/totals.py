"""Searches that use a word's cached totals (word_totals.py).

A word's documents kept as a bitset with coded term frequencies, filtered by a search's
document mask (filter_totals), and a several-word query's candidates as the union of the
other words' with the last word's cached documents (trailing_union): both 64 documents
at a time.
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.bits import _packed_mask, _popcount
from sift.engine.kernels.candidates import _add_frequencies
from sift.engine.kernels.compiling import compiled


@compiled
def trailing_union(docs, offsets, fields, weight, field_weight, n_docs, bits, codes, values,
                   doc_mask):  # pragma: no cover - compiled
    """(cands, index, tf, df, matched, last, n_last, n_full, union) of a several-word
    query whose last word comes from its cached totals (word_totals.
    trailing_word_features), from the other words' occurrences (``docs``, ``fields``,
    ``weight``, word w's at ``offsets[w]:offsets[w + 1]``, already filtered) and the
    last word's documents (``bits``, a bitset over docids whose i-th set bit has
    ``codes[i]``, as filter_totals reads them; ``codes`` not empty) that pass
    ``doc_mask``. ``cands``: the sorted union of their documents; ``index``: each
    occurrence's candidate; ``tf`` [other words, candidates] and ``df``: the other
    words' as term_frequencies gives them (``field_weight`` and ``n_docs`` as there);
    ``matched`` [words, candidates]: theirs as candidate_index gives them, and the last
    word's; ``last``: per candidate the last word's term frequency as an index into
    ``values`` (``code >> 1``), or ``values.size`` where it is absent (tf 0.0:
    coded_sum reads it so, without a float row for it); ``n_last`` and ``n_full``: the
    last word's documents passing the filter and those of them with a full-weight
    variant; ``union``: the candidates as a bitset like ``bits`` (what a facet count
    intersects).

    The union is built as bitsets, 64 documents a word: the filter packed into a word,
    ANDed with the last word's and ORed with the occurrences' marks, each word's
    candidates before it counted once; then its candidates are written position after
    position up to the word's highest set bit, unconditionally (a position that is not
    a candidate is overwritten by the next that is): which documents are candidates is
    unpredictable. What filter_totals, marked_candidates and merge_candidates did in
    candidate-sized passes, copies and docid-sized temporaries."""
    n_words64 = bits.size
    one = np.uint64(1)
    zero = np.uint64(0)
    union = np.zeros(n_words64, np.uint64)
    for i in range(docs.size):
        d = docs[i]
        union[d >> 6] |= one << np.uint64(d & 63)
    kept = np.empty(n_words64, np.uint64)
    before = np.empty(n_words64, np.int64)
    count = 0
    n_last = 0
    packed = _packed_mask(doc_mask, n_words64)
    for w in range(n_words64):
        k = bits[w] & packed[w]
        kept[w] = k
        union[w] |= k
        before[w] = count
        count += _popcount(union[w])
        n_last += _popcount(k)
    n_head = offsets.size - 1
    cands = np.empty(count, np.uint32)
    tf = np.zeros((n_head, count), np.float64)
    # The last word's row is written whole below: only the others start from zero.
    matched = np.empty((n_head + 1, count), np.bool_)
    matched[:n_head] = False
    last = np.empty(count, np.uint16)
    last_hit = matched[n_head]
    absent = np.int64(values.size)
    n_codes = codes.size
    at = 0  # the last word's documents before this word: its first code's index
    n_full = 0
    for w in range(n_words64):
        u = union[w]
        x = bits[w]
        k = kept[w]
        c = before[w]
        i = at
        for b in range(64):
            s = np.uint64(b)
            if (u >> s) == zero:
                break
            code = np.int64(codes[min(i, n_codes - 1)])
            present = np.int64((k >> s) & one)
            cands[c] = w * 64 + b
            last[c] = np.uint16(present * (code >> 1) + (1 - present) * absent)
            last_hit[c] = present
            n_full += present & code
            i += np.int64((x >> s) & one)
            c += np.int64((u >> s) & one)
        at += _popcount(x)
    index = np.empty(docs.size, np.int32)
    for j in range(docs.size):
        d = docs[j]
        w = d >> 6
        index[j] = before[w] + _popcount(union[w] & ((one << np.uint64(d & 63)) - one))
    for h in range(n_head):
        hit = matched[h]
        for j in range(offsets[h], offsets[h + 1]):
            hit[index[j]] = True
    df = np.zeros(n_head, np.int64)
    _add_frequencies(tf, df, index, docs, fields, weight, offsets, field_weight, n_docs)
    return cands, index, tf, df, matched, last, n_last, n_full, union


@compiled
def filter_totals(bits, codes, values, doc_mask):  # pragma: no cover - compiled
    """(cands, tf, n_full, kept): the documents of a word's cached totals (word_totals.py)
    that pass ``doc_mask``, each one's term frequency ``values[codes[i] >> 1]``, and how
    many of them hold a full-weight variant (``codes[i] & 1``); the word's documents are
    the set bits of ``bits`` (docid ``64 * w + b`` is bit b of word w), the i-th of them
    in docid order has ``codes[i]``. ``kept``: the documents kept, as a bitset like
    ``bits`` (what a facet count intersects).

    The filter is packed into 64-bit words first (_packed_mask) and ANDed with the
    word's, so only the kept documents are visited: each as the lowest set bit of what is
    left of its word, numbered among the word's documents by counting the bits below it
    (a document the filter drops costs nothing, where each one read its mask byte and
    was written and overwritten: 1.8 -> 1.3 ms for `t` under `in_stock = true` at 1M)."""
    n = codes.size
    cands = np.empty(n, np.uint32)
    tf = np.empty(n, np.float64)
    kept = _packed_mask(doc_mask, bits.size)
    one = np.uint64(1)
    zero = np.uint64(0)
    k = 0
    at = 0  # the word's documents in the words before: the first code's index
    n_full = 0
    for w in range(bits.size):
        x = bits[w]
        left = x & kept[w]
        kept[w] = left
        base = np.int64(w) * 64
        while left != zero:
            low = left & (~left + one)
            below = low - one
            code = np.int64(codes[at + _popcount(x & below)])
            cands[k] = base + _popcount(below)
            tf[k] = values[code >> 1]
            n_full += code & 1
            k += 1
            left ^= low
        at += _popcount(x)
    return cands[:k], tf[:k], n_full, kept
