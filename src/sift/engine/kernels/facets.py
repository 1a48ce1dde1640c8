"""Facet counts and filters' docid sets (fields/groups.py).

Candidates counted per value of a field (one value a document, several, or through each
value's bitset of docids), and a range filter's docids serialized as a portable roaring
bitmap.
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.bits import _popcount
from sift.engine.kernels.compiling import compiled


@compiled
def count_single_values(docs, codes, n_values):  # pragma: no cover - compiled
    """Candidates per value of a field with at most one value per document: ``codes[d]``
    is docid d's value index (-1: none; docids past its end have none). One pass over
    the candidates, no temporaries: at a million documents np.bincount over a gather
    cost several ms of a facet count."""
    counts = np.zeros(n_values, np.int64)
    n_codes = codes.size
    for i in range(docs.size):
        d = docs[i]
        if d < n_codes:
            c = codes[d]
            if c >= 0:
                counts[c] += 1
    return counts


@compiled
def count_multi_values(docs, ptr, value_index, n_values):  # pragma: no cover - compiled
    """Candidates per value of a field with several values per document: docid d's value
    indexes are ``value_index[ptr[d]:ptr[d + 1]]``, each distinct (CSR by docid)."""
    counts = np.zeros(n_values, np.int64)
    n_docs = ptr.size - 1
    for i in range(docs.size):
        d = docs[i]
        if d < n_docs:
            for r in range(ptr[d], ptr[d + 1]):
                counts[value_index[r]] += 1
    return counts


@compiled
def roaring_portable(docs, n_words):  # pragma: no cover - compiled
    """``docs`` (any order, each below ``n_words * 64``) as a roaring bitmap in CRoaring's
    portable serialization, which ``BitMap.deserialize`` reads with a copy per
    container: a range filter's docids come grouped by value, and sorting half a
    million of them for ``BitMap``'s constructor took ~15 ms (this: under one).
    The layout, without run containers: cookie 12346 and the container count (uint32
    each); per container its high 16 bits and cardinality - 1 (uint16 each); per
    container the offset of its data (uint32); then the data: a container of at most
    4096 docids as its sorted low 16 bits (uint16 each), a larger one as a bitset of
    1024 words. Little-endian throughout, as x86 and ARM store it."""
    words = np.zeros(n_words, np.uint64)
    for i in range(docs.size):
        d = docs[i]
        words[d >> 6] |= np.uint64(1) << np.uint64(d & 63)
    n_chunks = (n_words + 1023) >> 10
    cards = np.zeros(n_chunks, np.int64)
    for w in range(n_words):
        cards[w >> 10] += _popcount(words[w])
    size = 0
    data = 0
    for c in range(n_chunks):
        if cards[c]:
            size += 1
            data += 2 * cards[c] if cards[c] <= 4096 else 8192
    out = np.zeros(8 + 8 * size + data, np.uint8)
    _put(out, 0, 12346, 4)
    _put(out, 4, size, 4)
    at = 8 + 8 * size  # where the next container's data goes
    k = 0
    for c in range(n_chunks):
        card = cards[c]
        if not card:
            continue
        _put(out, 8 + 4 * k, c, 2)
        _put(out, 10 + 4 * k, card - 1, 2)
        _put(out, 8 + 4 * size + 4 * k, at, 4)
        k += 1
        last = min(n_words, (c + 1) << 10)
        if card > 4096:
            for w in range(c << 10, last):
                _put(out, at + 8 * (w - (c << 10)), words[w], 8)
            at += 8192
            continue
        for w in range(c << 10, last):
            x = words[w]
            while x:
                low = x & (~x + np.uint64(1))  # the lowest set bit
                _put(out, at, ((w & 1023) << 6) + _popcount(low - np.uint64(1)), 2)
                at += 2
                x ^= low
    return out


@compiled
def _put(out, at, value, width):  # pragma: no cover - compiled
    """``value``'s ``width`` low bytes at ``out[at:]``, least significant first."""
    v = np.uint64(value)
    for b in range(width):
        out[at + b] = np.uint8(v & np.uint64(255))
        v >>= np.uint64(8)


@compiled
def value_bits(ids, offsets, n_words):  # pragma: no cover - compiled
    """One bitset per value (rows of a [values, n_words] array): value v's docids are
    ``ids[offsets[v]:offsets[v + 1]]``, each below ``n_words * 64``."""
    n_values = offsets.size - 1
    bits = np.zeros((n_values, n_words), np.uint64)
    for v in range(n_values):
        row = bits[v]
        for r in range(offsets[v], offsets[v + 1]):
            d = ids[r]
            row[d >> 6] |= np.uint64(1) << np.uint64(d & 63)
    return bits


@compiled
def count_bits(words, bits):  # pragma: no cover - compiled
    """Per row of ``bits``, the docids it shares with ``words`` (popcount of the AND over
    the words both cover). Branch-free bit counting, which the loop vectorizes."""
    n_values = bits.shape[0]
    n_words = min(words.size, bits.shape[1])
    counts = np.zeros(n_values, np.int64)
    m1 = np.uint64(0x5555555555555555)
    m2 = np.uint64(0x3333333333333333)
    m4 = np.uint64(0x0F0F0F0F0F0F0F0F)
    h01 = np.uint64(0x0101010101010101)
    for v in range(n_values):
        row = bits[v]
        total = np.uint64(0)
        for w in range(n_words):
            x = words[w] & row[w]
            x = x - ((x >> np.uint64(1)) & m1)
            x = (x & m2) + ((x >> np.uint64(2)) & m2)
            x = (x + (x >> np.uint64(4))) & m4
            total += (x * h01) >> np.uint64(56)
        counts[v] = total
    return counts
