"""Text analysis of a batch (analysis.py).

Its words factorised in one pass over their bytes (an FNV-1a open-addressing table), so
that only the distinct words become Python strings.
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled


@compiled
def distinct_words(text, firsts, ends, max_probes):  # pragma: no cover - compiled
    """Each word's number among the distinct words (``text[firsts[w]:ends[w]]``, numbered
    in order of first appearance), and each distinct word's first occurrence: a batch's
    words factorised in one pass over their bytes (an open-addressing table of FNV-1a
    hashes, every match confirmed byte for byte), so that only its distinct words become
    Python strings and are looked up in the vocabulary's dict.

    FNV-1a is not keyed: words made to share slots could make the probing quadratic. A
    word that probes more than ``max_probes`` slots ends the pass, with empty results
    (the caller then takes the words as strings, into Python's dict and its keyed hash);
    the table has four times the words' room, so other text never comes near it."""
    n = firsts.size
    size = 4
    while size < 4 * n:
        size <<= 1
    mask = np.uint64(size - 1)
    slots = np.full(size, -1, np.int32)
    codes = np.empty(n, np.int64)
    reps = np.empty(n, np.int64)
    count = 0
    for w in range(n):
        a, b = firsts[w], ends[w]
        h = np.uint64(14695981039346656037)
        for i in range(a, b):
            h = (h ^ np.uint64(text[i])) * np.uint64(1099511628211)
        s = h & mask
        probes = 0
        while True:
            d = slots[s]
            if d < 0:
                slots[s] = count
                reps[count] = w
                codes[w] = count
                count += 1
                break
            r = reps[d]
            ra = firsts[r]
            if ends[r] - ra == b - a:
                same = True
                for i in range(b - a):
                    if text[ra + i] != text[a + i]:
                        same = False
                        break
                if same:
                    codes[w] = d
                    break
            probes += 1
            if probes > max_probes:
                return np.empty(0, np.int64), np.empty(0, np.int64)
            s = (s + np.uint64(1)) & mask
    return codes, reps[:count]
