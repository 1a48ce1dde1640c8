"""Top-k and page order.

The positions of the k largest scores (a heap, or counting bins up to BINNED_MAX_ROWS
rows), the first rows by one float key with ties broken by the docids' tie keys
(top_by_key), and a ranking's docids and scores in order with its page first
(take_ranked, put_first).
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled


@compiled
def largest_rows(raw, k):  # pragma: no cover - compiled
    """Positions (ascending) of the ``k`` largest values of ``raw`` (0 < k < raw.size),
    equal values by the lower position: the set topk.smallest_k(-raw, k) gives, in one
    pass and without a negated copy of ``raw`` to partition. Empty when ``raw`` holds a
    NaN (the caller asks smallest_k then, which places it).

    A heap of the best ``k`` so far whose root is the worst of them: a row comes after
    every row in the heap, so it enters only if its value beats the root's strictly, one
    comparison for nearly every row."""
    n = raw.size
    heap_value = np.empty(k, np.float64)
    heap_pos = np.empty(k, np.int64)
    for i in range(k):
        v = raw[i]
        if v != v:
            return np.empty(0, np.int64)
        j = i  # appended; sifted up past the better parents (root: the worst row)
        while j > 0:
            parent = (j - 1) // 2
            if heap_value[parent] < v or (heap_value[parent] == v and heap_pos[parent] > i):
                break
            heap_value[j] = heap_value[parent]
            heap_pos[j] = heap_pos[parent]
            j = parent
        heap_value[j] = v
        heap_pos[j] = i
    root = heap_value[0]
    for i in range(k, n):
        v = raw[i]
        if v > root:
            j = 0  # the root is replaced; sifted down past the worse children
            while True:
                child = 2 * j + 1
                if child >= k:
                    break
                if child + 1 < k and (heap_value[child + 1] < heap_value[child] or (
                        heap_value[child + 1] == heap_value[child]
                        and heap_pos[child + 1] > heap_pos[child])):
                    child += 1
                if v < heap_value[child] or (v == heap_value[child] and i > heap_pos[child]):
                    break
                heap_value[j] = heap_value[child]
                heap_pos[j] = heap_pos[child]
                j = child
            heap_value[j] = v
            heap_pos[j] = i
            root = heap_value[0]
        elif v != v:
            return np.empty(0, np.int64)
    return np.sort(heap_pos)


# Bins of largest_rows_binned's histogram: for a few thousand scores, a handful share the
# bin of the k-th largest. Counted in LANES interleaved copies: rows with equal scores
# (many, in a BM25 ranking) would each wait for the previous one's count to be stored.
TOP_BINS = 2048
LANES = 4
# Above this many rows, largest_rows' heap (its one pass over them, once its root is a
# good score, nearly free of mispredictions) beats the binned cut's four passes: 64k
# rows of scifact scores took each ~205 µs, 100k 235 µs (heap) against 320 µs (binned).
BINNED_MAX_ROWS = 1 << 16


@compiled
def largest_rows_binned(raw, k):  # pragma: no cover - compiled
    """What largest_rows returns (positions, ascending, of the ``k`` largest values,
    equal values by the lower position; empty when ``raw`` holds a NaN), with almost no
    branch that depends on the values, for up to BINNED_MAX_ROWS rows (more: the heap's).

    largest_rows' heap takes a row that beats its root and sifts it down, each step a
    comparison of scores: a coin toss for the branch predictor, and for a few thousand
    candidates of which 300 are kept, hundreds of rows sift down eight levels: ~44 µs of
    a scifact search (~17 µs when the same call runs again with the predictor trained).
    Here the values are counted in TOP_BINS bins of equal width between the smallest and
    the largest (``(v - lo) * scale`` never decreases as ``v`` grows, so every row of a
    higher bin is strictly larger than every row of a lower one); the bins are summed
    from the top down to the one holding the k-th largest value, whose rows alone are
    sorted to find it; then one pass keeps the rows above it and, by position, as many
    rows equal to it as the k places leave (each row written, kept by advancing)."""
    n = raw.size
    # Nothing to cut: the bins' search below needs 0 < k < n (a k of 0 would read one
    # past ``kept``), which ranking's one caller ensures; kept out of memory errors anyway.
    if k <= 0 or k >= n:
        return np.arange(min(max(k, 0), n), dtype=np.int64)
    if n > BINNED_MAX_ROWS:
        return largest_rows(raw, k)
    lo = np.inf
    hi = -np.inf
    nan = False
    for i in range(n):
        v = raw[i]
        nan |= v != v
        lo = min(lo, v)
        hi = max(hi, v)
    if nan:
        return np.empty(0, np.int64)
    span = hi - lo
    scale = (TOP_BINS - 1) / span if span > 0.0 else 0.0
    if not (span < np.inf and scale < np.inf):  # infinite scores, or a tiny span
        return largest_rows(raw, k)
    lanes = np.zeros((LANES, TOP_BINS), np.int32)
    full = n - n % LANES
    for i in range(0, full, LANES):
        for lane in range(LANES):
            lanes[lane, np.int64((raw[i + lane] - lo) * scale)] += 1
    for i in range(full, n):
        lanes[0, np.int64((raw[i] - lo) * scale)] += 1
    above = 0  # rows in the bins above b
    b = TOP_BINS - 1
    while True:
        count = 0
        for lane in range(LANES):
            count += lanes[lane, b]
        if above + count >= k:
            break
        above += count
        b -= 1
    # Each value written, kept by advancing: one slot more, for the writes after the last.
    members = np.empty(count + 1, np.float64)
    m = 0
    for i in range(n):
        v = raw[i]
        members[m] = v
        m += np.int64((v - lo) * scale) == b
    kept = np.sort(members[:m])
    kth = kept[m - (k - above)]
    greater = 0
    for r in range(m):
        greater += kept[r] > kth
    # The places left, once the rows above kth have theirs, for rows equal to it.
    quota = k - above - greater
    out = np.empty(k + 1, np.int64)  # a slot more, as members
    j = 0
    for i in range(n):
        v = raw[i]
        equal = v == kth
        out[j] = i
        j += (v > kth) | (equal & (quota > 0))
        quota -= equal
    return out[:k]


@compiled
def _ranks_before(key_a, tie_a, pos_a, key_b, tie_b, pos_b):  # pragma: no cover - compiled
    """Whether row a comes before row b: by key (NaN after every number), then tie key,
    then position."""
    if key_a != key_a:
        if key_b == key_b:
            return False
    elif key_b != key_b or key_a < key_b:
        return True
    elif key_a > key_b:
        return False
    if tie_a != tie_b:
        return tie_a < tie_b
    return pos_a < pos_b


# The most rows top_by_key orders by insertion (at most ~SMALL_PAGE**2 / 2 comparisons);
# a longer page is sorted.
SMALL_PAGE = 64


@compiled
def top_by_key(key, need, docids, tie):  # pragma: no cover - compiled
    """Positions ordered by one float64 ``key`` (ascending; equal keys by ``tie`` of
    their docid, ``tie[docids[i]]``, then by position) for the first ``need``
    (0 < need < key.size); the rest follow in no particular order. ranking.top_order's single-key
    case, in one call instead of a dozen. Empty when the need-th key is NaN (the
    caller sorts everything then).

    One pass keeping the best ``need`` rows so far in a heap whose root is the worst of
    them: a row that does not beat the root (nearly every row, once the heap holds good
    ones) costs one comparison, and no copy of ``key`` is partitioned."""
    n = key.size
    heap_key = np.empty(need, np.float64)
    heap_tie = np.empty(need, np.uint64)
    heap_pos = np.empty(need, np.int64)
    size = 0
    for i in range(n):
        k = key[i]
        if size == need:
            root = heap_key[0]
            # Rows not better than the root by key alone leave without their tie key.
            if k == k and root == root and k > root:
                continue
            if k != k and root == root:
                continue
            t = tie[docids[i]]
            if not _ranks_before(k, t, i, root, heap_tie[0], heap_pos[0]):
                continue
            j = 0  # the root is replaced; sift the new row down
            while True:
                child = 2 * j + 1
                if child >= need:
                    break
                if child + 1 < need and _ranks_before(
                        heap_key[child], heap_tie[child], heap_pos[child],
                        heap_key[child + 1], heap_tie[child + 1], heap_pos[child + 1]):
                    child += 1
                if not _ranks_before(k, t, i, heap_key[child], heap_tie[child],
                                     heap_pos[child]):
                    break
                heap_key[j] = heap_key[child]
                heap_tie[j] = heap_tie[child]
                heap_pos[j] = heap_pos[child]
                j = child
        else:
            t = tie[docids[i]]
            j = size  # appended; sift the new row up
            size += 1
            while j > 0:
                parent = (j - 1) // 2
                if not _ranks_before(heap_key[parent], heap_tie[parent], heap_pos[parent],
                                     k, t, i):
                    break
                heap_key[j] = heap_key[parent]
                heap_tie[j] = heap_tie[parent]
                heap_pos[j] = heap_pos[parent]
                j = parent
        heap_key[j] = k
        heap_tie[j] = t
        heap_pos[j] = i
    if heap_key[0] != heap_key[0]:  # the worst of the best need rows is NaN
        return np.empty(0, np.int64)
    if need <= SMALL_PAGE:
        # A page's few rows in order in place, by insertion: the order of the sorts below
        # ((key, tie, position): no NaN is left among them), without their seven arrays.
        for a in range(1, need):
            k, t, i = heap_key[a], heap_tie[a], heap_pos[a]
            j = a
            while j > 0 and _ranks_before(k, t, i, heap_key[j - 1], heap_tie[j - 1],
                                          heap_pos[j - 1]):
                heap_key[j] = heap_key[j - 1]
                heap_tie[j] = heap_tie[j - 1]
                heap_pos[j] = heap_pos[j - 1]
                j -= 1
            heap_key[j] = k
            heap_tie[j] = t
            heap_pos[j] = i
        return put_first(heap_pos, n)
    # The heap's rows by position, then stably by tie key, then by key: (key, tie, pos).
    chosen = np.sort(heap_pos)
    chosen_ties = np.empty(need, np.uint64)
    for c in range(need):
        chosen_ties[c] = tie[docids[chosen[c]]]
    by_tie = chosen[np.argsort(chosen_ties, kind="mergesort")]
    return put_first(by_tie[np.argsort(key[by_tie], kind="mergesort")], n)


@compiled
def take_ranked(order, cands, scores):  # pragma: no cover - compiled
    """``(cands[order], scores[order])`` in one pass: a ranking's docids and scores in
    rank order (pipeline.lexical), where numpy's two fancy-indexing passes over 800k
    rows took twice as long."""
    n = order.size
    docids = np.empty(n, cands.dtype)
    ranked = np.empty(n, scores.dtype)
    for i in range(n):
        row = order[i]
        docids[i] = cands[row]
        ranked[i] = scores[row]
    return docids, ranked


@compiled
def put_first(top, n):  # pragma: no cover - compiled
    """The positions 0..n-1 with ``top`` (distinct) first, in its order, and every other
    after them in no particular order: a ranking whose first rows are the page.

    Positions 0..n-1 in order, then ``top`` written over the first slots; each position
    of ``top`` beyond them takes one of the first slots' positions that ``top`` lacks.
    A page costs the O(n) of ``np.arange`` alone, not a mask and a pass over it."""
    out = np.arange(n)
    k = top.size
    taken = np.zeros(k, np.bool_)  # first slots' positions that top holds
    for i in range(k):
        if top[i] < k:
            taken[top[i]] = True
    free = 0
    for i in range(k):
        if top[i] >= k:
            while taken[free]:
                free += 1
            out[top[i]] = free
            free += 1
    out[:k] = top
    return out
