"""The k smallest values of an array, the same set on every machine.

``np.argpartition`` picks an arbitrary subset of the values equal to the k-th: which
depends on numpy's selection algorithm, and numpy 2.x runs a SIMD one
(x86-simd-sort) on AVX-512 processors and introselect elsewhere. Where ties cross a
cut (the top-300 proximity cut of a several-word search almost always has some), two
replicas on different CPUs would rank the same query differently. The k-th VALUE is
the same everywhere, so the set is rebuilt from it: every value below it, then the
equal ones in index order.
"""

from __future__ import annotations

import numpy as np


def smallest_k(key: np.ndarray, k: int) -> np.ndarray:
    """Indexes (ascending) of the ``k`` smallest values of the 1-d ``key``, ties at the
    boundary broken by the lower index; NaN counts as larger than any number (as in
    ``np.sort``). The same set as ``np.argsort(key, kind="stable")[:k]``, in O(n)."""
    n = key.size
    if k <= 0:
        return np.empty(0, np.intp)
    if k >= n:
        return np.arange(n)
    kth = np.partition(key, k - 1)[k - 1]
    if kth != kth:  # NaN: every number is in, then the first NaNs
        nan = np.isnan(key)
        numbers = np.flatnonzero(~nan)
        return np.sort(np.concatenate([numbers, np.flatnonzero(nan)[: k - numbers.size]]))
    # One pass over the whole array; the ties are sorted out among the few rows it keeps.
    chosen = np.flatnonzero(key <= kth)
    if chosen.size == k:
        return chosen
    tied = np.flatnonzero(key[chosen] == kth)
    keep = np.ones(chosen.size, bool)
    keep[tied[k - (chosen.size - tied.size) :]] = False  # ties past the k-th place
    return chosen[keep]


def largest_k(key: np.ndarray, k: int) -> np.ndarray:
    """Indexes (ascending) of the ``k`` largest values, ties by the lower index, NaN
    last; for a signed or float ``key`` (it is negated)."""
    return smallest_k(np.negative(key), k)
