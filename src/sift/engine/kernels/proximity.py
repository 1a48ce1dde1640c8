"""The proximity rule: how close two adjacent query words come in a field.

Per candidate, the smallest position gap between their occurrences in one field, as a
cost (proximity_keys, proximity_costs) or as a bonus added to the best candidates'
scores (add_proximity_bonus, add_pair_bonuses): the pairs' keys packed into int64s and
sorted (by radix passes for a ranked subset), then scanned once.
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled


@compiled
def proximity_keys(ia, a_fields, a_pos, ib, b_fields, b_pos, subset, pos_bits
                   ):  # pragma: no cover - compiled
    """(keys, n_fields): one packed int64 (candidate, field, position, label) per
    occurrence of word a (label 0) and word b (label 1) in a ``subset`` candidate."""
    n_a = 0
    n_fields = 1
    for i in range(ia.size):
        if subset[ia[i]]:
            n_a += 1
            n_fields = max(n_fields, np.int64(a_fields[i]) + 1)
    n_b = 0
    for i in range(ib.size):
        if subset[ib[i]]:
            n_b += 1
            n_fields = max(n_fields, np.int64(b_fields[i]) + 1)
    keys = np.empty(n_a + n_b if n_a and n_b else 0, np.int64)
    if keys.size == 0:
        return keys, n_fields
    k = 0
    for i in range(ia.size):
        if subset[ia[i]]:
            keys[k] = ((np.int64(ia[i]) * n_fields + np.int64(a_fields[i])) << (pos_bits + 1)
                       ) | (np.int64(a_pos[i]) << 1)
            k += 1
    for i in range(ib.size):
        if subset[ib[i]]:
            keys[k] = ((np.int64(ib[i]) * n_fields + np.int64(b_fields[i])) << (pos_bits + 1)
                       ) | (np.int64(b_pos[i]) << 1) | 1
            k += 1
    return keys, n_fields


@compiled
def proximity_costs(keys, n_cands, n_fields, pos_bits, by_attribute):  # pragma: no cover
    """Per candidate, the smallest proximity cost (1..7; 8: never in the same field)
    between adjacent a/b occurrences of sorted ``keys`` (see proximity_keys): the
    position gap, one more when b comes first; 1 for any pair when ``by_attribute``."""
    cost = np.full(n_cands, 8, np.int16)
    pos_mask = (np.int64(1) << pos_bits) - 1
    for k in range(1, keys.size):
        prev, cur = keys[k - 1], keys[k]
        group = cur >> (pos_bits + 1)
        if group != prev >> (pos_bits + 1) or (cur & 1) == (prev & 1):
            continue
        if by_attribute:
            dist = 1
        else:
            gap = ((cur >> 1) & pos_mask) - ((prev >> 1) & pos_mask)
            dist = min(max(gap if (prev & 1) == 0 else gap + 1, 1), 7)
        c = group // n_fields
        if dist < cost[c]:
            cost[c] = dist
    return cost


@compiled
def _subset_rows(index, fields, subset, rows):  # pragma: no cover - compiled
    """(count, n_fields): the positions of the occurrences of ``subset`` candidates
    written at the start of ``rows`` (each position written, kept by advancing), and
    one more than the largest field among them (at least 1)."""
    n = 0
    n_fields = 1
    for i in range(index.size):
        # Unsigned: no wraparound fix-up per row (a frequent word's rows, every one read).
        keep = subset[np.uint32(index[i])]
        rows[n] = i
        n += keep
    for r in range(n):
        n_fields = max(n_fields, np.int64(fields[rows[r]]) + 1)
    return n, n_fields


@compiled
def add_proximity_bonus(ia, a_fields, a_pos, ib, b_fields, b_pos, subset, bonus, pos_bits,
                        weight):  # pragma: no cover - compiled
    """``bonus[c] += weight / cost`` for each ``subset`` candidate whose smallest
    proximity cost (proximity_costs, word order counted) between word a's occurrences
    and word b's is below 8: the keys of proximity_keys packed, sorted and scanned in
    one call. The subset's occurrences are found in one pass over each word's (not
    one to count them and one to pack them), and each candidate's smallest cost is
    taken as the sorted keys are scanned (they come candidate after candidate), not in
    a cost array over every candidate (800k of them for "iris t" at 1M products, where
    the subset is the best 300)."""
    _pair_bonus(ia, a_fields, a_pos, ib, b_fields, b_pos, subset, bonus, pos_bits, weight)


@compiled
def _pair_rows(ia, a_fields, ib, b_fields, subset):  # pragma: no cover - compiled
    """The rows of words a and b whose candidate is in ``subset`` (``rows_a[:n_a]``,
    ``rows_b[:n_b]``) and the fields their keys count, as both pair bonuses start."""
    rows_a = np.empty(ia.size, np.int64)
    rows_b = np.empty(ib.size, np.int64)
    n_a, fields_a = _subset_rows(ia, a_fields, subset, rows_a)
    n_b, fields_b = _subset_rows(ib, b_fields, subset, rows_b)
    return rows_a, n_a, rows_b, n_b, max(fields_a, fields_b)


@compiled
def _pair_bonus(ia, a_fields, a_pos, ib, b_fields, b_pos, subset, bonus, pos_bits, weight
                ):  # pragma: no cover - compiled
    """add_proximity_bonus, for it and add_pair_bonuses (which passes slices)."""
    rows_a, n_a, rows_b, n_b, n_fields = _pair_rows(ia, a_fields, ib, b_fields, subset)
    if n_a == 0 or n_b == 0:
        return
    keys = np.empty(n_a + n_b, np.int64)
    for r in range(n_a):
        i = rows_a[r]
        keys[r] = ((np.int64(ia[i]) * n_fields + np.int64(a_fields[i])) << (pos_bits + 1)
                   ) | (np.int64(a_pos[i]) << 1)
    for r in range(n_b):
        i = rows_b[r]
        keys[n_a + r] = ((np.int64(ib[i]) * n_fields + np.int64(b_fields[i])) << (pos_bits + 1)
                         ) | (np.int64(b_pos[i]) << 1) | 1
    keys.sort()
    _add_closest_pairs(keys, pos_bits, n_fields, np.empty(0, np.int64), False, bonus, weight)


@compiled
def add_pair_bonuses(raw, top, index, fields, pos, offsets, pairs, pair_weights, weight,
                     pos_bits):  # pragma: no cover - compiled
    """The proximity bonus of ranking.relevance_scores in one call: for each pair p of
    query words ``pairs[p] = (a, b)``, ``bonus[c] += pair_weights[p] / cost`` as
    add_proximity_bonus adds it over the rows ``top`` (word w's occurrences being
    ``index``, ``fields`` and ``pos`` in ``[offsets[w], offsets[w + 1])``), pair after
    pair; then ``raw[c] += weight * bonus[c]`` for each row c of ``top`` (distinct), the
    same products and sums as numpy's ``raw[top] += weight * bonus[top]``. One call
    instead of a subset mask, a bonus array, a call per pair and three fancy-indexing
    passes made one by one from Python."""
    n = raw.size
    subset = np.zeros(n, np.bool_)
    # Each top row's place in top, for the rows of top only (the rest is never read).
    rank = np.empty(n, np.int64)
    ascending = True
    for t in range(top.size):
        subset[top[t]] = True
        rank[top[t]] = t
        if t > 0 and top[t] <= top[t - 1]:
            ascending = False
    bonus = np.zeros(n, np.float64)
    for p in range(pairs.shape[0]):
        a0, a1 = offsets[pairs[p, 0]], offsets[pairs[p, 0] + 1]
        b0, b1 = offsets[pairs[p, 1]], offsets[pairs[p, 1] + 1]
        if ascending:
            _ranked_pair_bonus(index[a0:a1], fields[a0:a1], pos[a0:a1], index[b0:b1],
                               fields[b0:b1], pos[b0:b1], subset, rank, top, bonus,
                               pair_weights[p])
        else:
            _pair_bonus(index[a0:a1], fields[a0:a1], pos[a0:a1], index[b0:b1],
                        fields[b0:b1], pos[b0:b1], subset, bonus, pos_bits, pair_weights[p])
    for t in range(top.size):
        c = top[t]
        raw[c] += weight * bonus[c]


# Bits a digit of _radix_sorted's passes sorts (256 counts: a few cache lines to clear).
RADIX_BITS = 8


@compiled
def _bit_width(value):  # pragma: no cover - compiled
    """Bits that hold ``value`` (>= 0)."""
    width = 0
    while value >> width:
        width += 1
    return width


@compiled
def _radix_sorted(keys, width):  # pragma: no cover - compiled
    """``keys`` (>= 0, below ``2 ** width``) sorted, by stable counting passes over
    RADIX_BITS bits at a time from the lowest: no comparison whose outcome a branch
    predictor must guess, where a quicksort of a few hundred keys mispredicts about half
    of its thousands of comparisons."""
    n = keys.size
    other = np.empty(n, np.int64)
    counts = np.empty(1 << RADIX_BITS, np.int64)
    mask = np.int64((1 << RADIX_BITS) - 1)
    src, dst = keys, other
    shift = 0
    while shift < width:
        counts[:] = 0
        for i in range(n):
            counts[(src[i] >> shift) & mask] += 1
        total = 0
        for d in range(1 << RADIX_BITS):
            c = counts[d]
            counts[d] = total
            total += c
        for i in range(n):
            d = (src[i] >> shift) & mask
            dst[counts[d]] = src[i]
            counts[d] += 1
        src, dst = dst, src
        shift += RADIX_BITS
    return src


@compiled
def _ranked_pair_bonus(ia, a_fields, a_pos, ib, b_fields, b_pos, subset, rank, top, bonus,
                       weight):  # pragma: no cover - compiled
    """_pair_bonus for a ``subset`` given as ascending rows ``top`` (``rank[c]``: c's
    place in it): the keys pack a candidate's place, not the candidate, and only as many
    bits for positions as the largest needs, so that a few radix passes sort them (a
    place orders as its candidate, so the keys come in the same order)."""
    rows_a, n_a, rows_b, n_b, n_fields = _pair_rows(ia, a_fields, ib, b_fields, subset)
    if n_a == 0 or n_b == 0:
        return
    top_pos = 0
    for r in range(n_a):
        top_pos = max(top_pos, np.int64(a_pos[rows_a[r]]))
    for r in range(n_b):
        top_pos = max(top_pos, np.int64(b_pos[rows_b[r]]))
    pos_bits = _bit_width(top_pos)
    keys = np.empty(n_a + n_b, np.int64)
    for r in range(n_a):
        i = rows_a[r]
        keys[r] = ((rank[ia[i]] * n_fields + np.int64(a_fields[i])) << (pos_bits + 1)
                   ) | (np.int64(a_pos[i]) << 1)
    for r in range(n_b):
        i = rows_b[r]
        keys[n_a + r] = ((rank[ib[i]] * n_fields + np.int64(b_fields[i])) << (pos_bits + 1)
                         ) | (np.int64(b_pos[i]) << 1) | 1
    width = _bit_width(top.size * n_fields) + pos_bits + 1
    keys = _radix_sorted(keys, width) if width <= 3 * RADIX_BITS else np.sort(keys)
    _add_closest_pairs(keys, pos_bits, n_fields, top, True, bonus, weight)


@compiled
def _add_closest_pairs(keys, pos_bits, n_fields, places, placed, bonus, weight
                       ):  # pragma: no cover - compiled
    """The scan both pair bonuses share, over their sorted ``keys`` (group = candidate *
    n_fields + field, then the position, then 0 for word a, 1 for word b): for each
    candidate, ``bonus[c] += weight / cost``, cost the smallest position gap between an a
    and a b next to each other in one field (b before a: one more), from 1 to 7. With
    ``placed``, a group's candidate is its place in ``places``: it is ``places[place]``."""
    pos_mask = (np.int64(1) << pos_bits) - 1
    candidate = -1
    best = 8
    for k in range(1, keys.size):
        prev, cur = keys[k - 1], keys[k]
        group = cur >> (pos_bits + 1)
        if group != prev >> (pos_bits + 1) or (cur & 1) == (prev & 1):
            continue
        gap = ((cur >> 1) & pos_mask) - ((prev >> 1) & pos_mask)
        dist = min(max(gap if (prev & 1) == 0 else gap + 1, 1), 7)
        c = places[group // n_fields] if placed else group // n_fields
        if c != candidate:
            if candidate >= 0:
                bonus[candidate] += weight / best
            candidate = c
            best = 8
        best = min(best, dist)
    if candidate >= 0:
        bonus[candidate] += weight / best
