"""Bitsets of 64-bit words, and counting their bits.

A word's set bits counted without a branch, a bool mask and a set of docids packed into
64-bit words (bit b of word w: docid 64w + b). The candidates (marked_candidates), a
word's cached totals and the facet counts all walk docids 64 at a time through such
words, so these helpers belong to none of them.
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled


@compiled
def _popcount(x):  # pragma: no cover - compiled
    """Set bits of a uint64 (branch-free SWAR count, as count_bits)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@compiled
def _packed_mask(mask, n_words):  # pragma: no cover - compiled
    """A bool array as a bitset of ``n_words`` 64-bit words (bit b of word w: mask[64w +
    b]; past its end, 0). Eight bools at a time: each is a byte 0 or 1, and multiplying
    their eight bytes, read as one little-endian integer, by 0x0102040810204080 brings
    byte j's bit to bit 56 + j (no carry: each sum of products sets a distinct bit)."""
    out = np.zeros(n_words, np.uint64)
    full = min(mask.size // 64, n_words)
    eights = mask[: full * 64].view(np.uint8).view(np.uint64)
    magic = np.uint64(0x0102040810204080)
    for w in range(full):
        m = np.uint64(0)
        for j in range(8):
            m |= ((eights[w * 8 + j] * magic) >> np.uint64(56)) << np.uint64(8 * j)
        out[w] = m
    for d in range(full * 64, min(mask.size, n_words * 64)):
        out[d >> 6] |= np.uint64(mask[d]) << np.uint64(d & 63)
    return out


@compiled
def docid_bits(docs, n_words):  # pragma: no cover - compiled
    """A bitset of ``docs`` over ``n_words`` 64-bit words (docids past its end left out)."""
    words = np.zeros(n_words, np.uint64)
    limit = n_words * 64
    for i in range(docs.size):
        d = docs[i]
        if d < limit:
            words[d >> 6] |= np.uint64(1) << np.uint64(d & 63)
    return words
