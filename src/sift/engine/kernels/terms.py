"""The term table's probes (sift.engine.terms): term -> term id without a Python dict.

An open-addressing table of term ids (int32, -1 empty, linear probing) keyed by each
term's Python ``hash()`` (SipHash, keyed per process: words made to collide cannot be
chosen from outside), every match confirmed on the term's code points and length.
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled


@compiled
def term_slots(hashes, n, size):  # pragma: no cover - compiled
    """A table of ``size`` slots (a power of two) holding term ids ``0..n-1`` at their
    hashes' slots (linear probing), as inserting them one by one in id order would."""
    slots = np.full(size, -1, np.int32)
    mask = np.int64(size - 1)
    for t in range(n):
        s = hashes[t] & mask
        while slots[s] >= 0:
            s = (s + 1) & mask
        slots[s] = t
    return slots


@compiled
def term_probe(slots, hashes, codes, lengths, n_terms, q_hashes, q_codes, q_lengths,
               long_ids, long_starts, long_codes):  # pragma: no cover - compiled
    """Each query word's term id (-1 where none below ``n_terms`` has its code points):
    ``q_codes[w, :q_lengths[w]]`` with hash ``q_hashes[w]``. Ids at or past ``n_terms``
    (added by the writer after a reader's view) are passed over, as absent. A term longer
    than the rows ``codes`` is confirmed on the overflow store (terms.LongTerms:
    ``long_ids``, ``long_starts``, ``long_codes``)."""
    m = q_hashes.size
    width = codes.shape[1]
    out = np.full(m, -1, np.int64)
    mask = np.int64(slots.size - 1)
    for w in range(m):
        h = q_hashes[w]
        n = q_lengths[w]
        s = h & mask
        while True:
            t = slots[s]
            if t < 0:
                break
            if t < n_terms and hashes[t] == h and lengths[t] == n:
                same = True
                if n <= width:
                    for i in range(n):
                        if codes[t, i] != q_codes[w, i]:
                            same = False
                            break
                else:
                    j = np.searchsorted(long_ids, t)
                    same = j < long_ids.size and long_ids[j] == t
                    if same:
                        start = long_starts[j]
                        for i in range(n):
                            if long_codes[start + i] != q_codes[w, i]:
                                same = False
                                break
                if same:
                    out[w] = t
                    break
            s = (s + 1) & mask
    return out


@compiled
def term_insert(slots, hashes, first, stop):  # pragma: no cover - compiled
    """Put term ids ``first..stop-1`` (new, distinct terms) into ``slots`` in place."""
    mask = np.int64(slots.size - 1)
    for t in range(first, stop):
        s = hashes[t] & mask
        while slots[s] >= 0:
            s = (s + 1) & mask
        slots[s] = t
