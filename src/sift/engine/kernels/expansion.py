"""A query word's expansion into terms (expand.py).

A prefix's most frequent completions, from the vocabulary's sorted order
(prefix_completions); the word's expansion table of its own term, completions, stem group
and typo variants (expansion_table); which ids a table lacks yet (fresh_entries): each
one call where numpy made many.
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled


@compiled
def prefix_completions(prefix, ids, codes, lengths, freq, k, own
                       ):  # pragma: no cover - compiled
    """The terms starting with ``prefix`` (code points), as term ids in their sorted
    order: at most ``k``, the most frequent by ``freq`` (equal counts: the first in that
    order, as topk.largest_k picks), ``own`` (the prefix's own term id, or -1) left out.
    ``ids`` is the vocabulary's sorted order, ``codes``/``lengths`` each term id's code
    points and length. vocab.prefix_range's two searches of a unicode array through a
    sorter, the frequency cut's gather and partition, and the removal, in one call."""
    n = prefix.size
    lo = _first_not_before(prefix, n, ids, codes, lengths, 0, ids.size, False)
    hi = _first_not_before(prefix, n, ids, codes, lengths, lo, ids.size, True)
    size = hi - lo
    keep = np.ones(size, np.bool_)
    if size > k:
        counts = np.empty(size, np.int64)
        for i in range(size):
            counts[i] = -freq[ids[lo + i]]
        kth = np.partition(counts, k - 1)[k - 1]  # minus the k-th largest count
        ties = k
        for i in range(size):
            ties -= counts[i] < kth
        for i in range(size):
            c = counts[i]
            if c == kth:
                keep[i] = ties > 0
                ties -= 1
            else:
                keep[i] = c < kth
    out = np.empty(size, np.int64)
    m = 0
    for i in range(size):
        t = ids[lo + i]
        if keep[i] and t != own:
            out[m] = t
            m += 1
    return out[:m]


@compiled
def _first_not_before(prefix, n, ids, codes, lengths, lo, hi, past
                      ):  # pragma: no cover - compiled
    """The first position of ``ids[lo:hi]`` whose term does not sort before ``prefix``
    (``past``: before ``prefix + "\U0010ffff"``, every term starting with it), as numpy's
    searchsorted of the vocabulary's unicode array finds it."""
    while lo < hi:
        mid = (lo + hi) >> 1
        t = ids[mid]
        length = lengths[t]
        before = length < n  # a term all of whose letters match is shorter: before
        decided = False
        for i in range(min(length, n)):
            a, b = codes[t, i], prefix[i]
            if a != b:
                before = a < b
                decided = True
                break
        if not decided and length >= n:
            # The term starts with the prefix: before it only when ``past`` asks for every
            # such term (the term is the prefix, or its next letter is below U+10FFFF).
            before = past and (length == n or codes[t, n] < 0x10FFFF)
        if before:
            lo = mid + 1
        else:
            hi = mid
    return lo


@compiled
def expansion_table(own, own_weight, prefix_ids, prefix_weight, stem_ids, stem_weight,
                    typo_ids, typo_typos, typo_weights, head_ids, head_typos, head_weights
                    ):  # pragma: no cover - compiled
    """A word's expansion table, a row (id, typos, exact, weight) per term as float64
    (each exact there: see expand.QueryWord), and the ids of its highlighted terms,
    from its kinds of terms in their order: its own term (``own``,
    or -1: exact), its completions (no typo, one weight, not highlighted: the prefix
    is), its stem group (no typo, one weight), its typo variants and its mistyped
    prefix's completions (typos and weights each); a term's first entry kept. The kinds
    joined in one call, where numpy took ~20 (expand._expand_word)."""
    total = (1 if own >= 0 else 0) + prefix_ids.size + stem_ids.size + typo_ids.size \
        + head_ids.size
    ids = np.empty(total, np.int64)
    typos = np.zeros(total, np.int8)
    exact = np.zeros(total, np.bool_)
    weights = np.empty(total, np.float32)
    named = np.ones(total, np.bool_)
    k = 0
    if own >= 0:
        ids[0], exact[0], weights[0] = own, True, np.float32(own_weight)
        k = 1
    for i in range(prefix_ids.size):
        ids[k], weights[k], named[k] = prefix_ids[i], np.float32(prefix_weight), False
        k += 1
    for i in range(stem_ids.size):
        ids[k], weights[k] = stem_ids[i], np.float32(stem_weight)
        k += 1
    for i in range(typo_ids.size):
        ids[k], typos[k], weights[k] = typo_ids[i], typo_typos[i], typo_weights[i]
        k += 1
    for i in range(head_ids.size):
        ids[k], typos[k], weights[k] = head_ids[i], head_typos[i], head_weights[i]
        k += 1
    # The entries kept, moved down in place: a repeat found among the earlier entries
    # (a few dozen: compared one by one) or in a hash set of the ids kept (open
    # addressing; term ids are dense, so an id is its own hash).
    few = total <= 32
    size = 64
    while size < 2 * total:
        size <<= 1
    slots = np.full(0 if few else size, -1, np.int64)
    m = 0
    n_named = 0
    for i in range(total):
        t = ids[i]
        fresh = True
        if few:
            for j in range(m):
                if ids[j] == t:
                    fresh = False
                    break
        else:
            h = t & (size - 1)
            while slots[h] >= 0:
                if slots[h] == t:
                    fresh = False
                    break
                h = (h + 1) & (size - 1)
            if fresh:
                slots[h] = t
        if fresh:
            ids[m], typos[m], exact[m], weights[m], named[m] = \
                t, typos[i], exact[i], weights[i], named[i]
            n_named += named[i]
            m += 1
    highlighted = np.empty(n_named, np.int64)
    h = 0
    for i in range(m):
        if named[i]:
            highlighted[h] = ids[i]
            h += 1
    rows = np.empty((m, 4), np.float64)
    for i in range(m):
        rows[i, 0], rows[i, 1], rows[i, 2], rows[i, 3] = ids[i], typos[i], exact[i], weights[i]
    return rows, highlighted


@compiled
def fresh_entries(ids, have):  # pragma: no cover - compiled
    """Whether each of ``ids`` is new: in neither ``have`` nor an earlier place of ``ids``
    (an expansion table keeps a term's first entry). A sort of the few hundred ids
    instead of a Python set filled term by term."""
    n = ids.size
    keep = np.ones(n, np.bool_)
    known = np.sort(have)
    order = np.argsort(ids, kind="mergesort")  # stable: a repeat follows its first place
    for i in range(n):
        at = order[i]
        t = ids[at]
        if i > 0 and ids[order[i - 1]] == t:
            keep[at] = False
            continue
        j = np.searchsorted(known, t)
        if j < known.size and known[j] == t:
            keep[at] = False
    return keep
