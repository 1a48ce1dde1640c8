"""Typo distances (expand.py).

The terms of a shortlist within a word's typo budget by optimal-string-alignment
distance (an adjacent transposition is one edit): bit-parallel for words of up to 64
letters, else in a band around the diagonal (typo_hits).
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled
from sift.engine.kernels.expansion import _first_not_before

# A term's row of the compact layout (vocab.py, typo_rows): its first ROW_LETTERS code
# points (uint16), then its length; WIDE there: read the term's code row and length
# instead (a letter past uint16, or a length of WIDE letters and more).
ROW_LETTERS = 7
WIDE = 0xFFFF


@compiled
def typo_hits(word, whole, heads, rank, rows, codes, lengths, firsts, budget, any_first
              ):  # pragma: no cover - compiled
    """The terms of ``whole`` within ``budget`` typos of ``word`` (code points), and those
    of ``heads`` within ``budget`` typos of the word as their beginning: (found, typos,
    k), ``whole``'s hits at ``[:k]`` and ``heads``' at ``[k:]``, each in its list's order,
    with their typos; the word itself (no typo) left out. Typos are the
    optimal-string-alignment distance (adjacent transpositions count one edit): of
    ``whole``'s terms to the word, plus one when ``any_first`` and the term's first letter
    is not the word's; of ``heads``' terms the closest of their first n - 1, n and n + 1
    letters (n: the word's length; a shorter term whole). The distance and the filter of
    expand.py's numpy formulation in one call: a new word's typo search made ~8 numpy
    calls more.

    A word being typed is searched both ways over two shortlists that mostly overlap (the
    whole word's terms are among its completions' beginnings): one call for both, the
    lists walked together (both sorted when both are given; one alone in any order), so a
    term in both is read once and its distance table computed once, to its end (the
    whole-word distance) past the cuts (the prefix's). Two calls cost a call's ~4 µs of
    arguments, allocations and returned arrays more, and the shared terms again.

    A term is read from ``rows[rank[id]]`` (16 bytes, rows in the terms' sorted order, so
    a shortlist of terms sharing their first letters reads a few adjacent cache lines)
    where its row holds the letters compared; else from ``codes[id]`` (code points, rows
    by term id), ``lengths[id]`` and ``firsts[id]`` (first code point): the search is
    bound by reading ~1,000 rows scattered over those three arrays, not by distances."""
    n = word.size
    width = codes.shape[1] + 2
    prev2 = np.empty(width, np.int32)
    prev = np.empty(width, np.int32)
    cur = np.empty(width, np.int32)
    n_whole = whole.size
    found = np.empty(n_whole + heads.size, np.int64)
    typos = np.empty(n_whole + heads.size, np.int8)
    # The word's letters as bit masks (words up to 64 letters: _osa_bits), ASCII by code
    # point, any other letter by a scan of the word's distinct others.
    bits = 0 < n <= 64
    ascii_masks = np.zeros(128, np.uint64)
    others = np.zeros(n, np.uint32)
    other_masks = np.zeros(n, np.uint64)
    n_others = 0
    if bits:
        for i in range(n):
            c = word[i]
            bit = np.uint64(1) << np.uint64(i)
            if c < 128:
                ascii_masks[c] |= bit
                continue
            for o in range(n_others + 1):
                if o == n_others:
                    others[o] = c
                    other_masks[o] = bit
                    n_others += 1
                    break
                if others[o] == c:
                    other_masks[o] |= bit
                    break
    kw = 0  # whole's hits, from found[0]
    kh = n_whole  # heads' hits, from found[n_whole]
    i = 0
    j = 0
    while i < n_whole or j < heads.size:
        # The next term of either list (the smaller id: both sorted), in which of them.
        if j == heads.size or (i < n_whole and whole[i] < heads[j]):
            t = whole[i]
            in_whole, in_heads = True, False
            i += 1
        elif i == n_whole or heads[j] < whole[i]:
            t = heads[j]
            in_whole, in_heads = False, True
            j += 1
        else:
            t = whole[i]
            in_whole, in_heads = True, True
            i += 1
            j += 1
        row = rows[rank[t]]
        wide = row[ROW_LETTERS] == WIDE
        full = np.int64(row[ROW_LETTERS])
        first = np.int64(row[0])
        if wide:
            full = np.int64(lengths[t])
            first = np.int64(firsts[t])
        # The whole word: another first letter costs a typo, the term must be within one
        # fewer edits (bw < 0: not compared).
        extra = 1 if any_first and n > 0 and first != word[0] else 0
        bw = budget - extra if in_whole and abs(full - n) <= budget - extra else -1
        # As a beginning: the term's first n + 1 letters at most (bh < 0: not compared).
        mh = min(full, n + 1)
        bh = budget if in_heads else -1
        if bits and not wide and ((bw >= 0 and full > ROW_LETTERS) or
                                  (bh >= 0 and mh > ROW_LETTERS)):
            # More than b typos within the row's letters: no code row read.
            bound = _row_bound(ascii_masks, others[:n_others], other_masks, n, row)
            if full > ROW_LETTERS and bound > bw:
                bw = -1
            if mh > ROW_LETTERS and bound > bh:
                bh = -1
        if bw < 0 and bh < 0:
            continue
        dw = budget + 1
        dh = budget + 1
        if bits:
            # One table for both: to the term's end for the whole word (its cuts on the
            # way), else to the prefix's last cut.
            m = full if bw >= 0 else mh
            if m <= ROW_LETTERS and not wide:
                score, best = _osa_bits(ascii_masks, others[:n_others], other_masks, n, row,
                                        m, full)
            else:
                score, best = _osa_bits(ascii_masks, others[:n_others], other_masks, n,
                                        codes[t], m, full)
            if bw >= 0:
                dw = min(score, bw + 1) + extra
            if bh >= 0:
                dh = min(best, bh + 1)
        else:
            if bw >= 0:
                if full <= ROW_LETTERS and not wide:
                    dw = _osa_within(word, row, n, full, full, bw, False, prev2, prev, cur)
                else:
                    dw = _osa_within(word, codes[t], n, full, full, bw, False, prev2, prev,
                                     cur)
                dw += extra
            if bh >= 0:
                if mh <= ROW_LETTERS and not wide:
                    dh = _osa_within(word, row, n, mh, full, bh, True, prev2, prev, cur)
                else:
                    dh = _osa_within(word, codes[t], n, mh, full, bh, True, prev2, prev, cur)
        if bw >= 0 and 0 < dw <= budget:
            found[kw] = t
            typos[kw] = dw
            kw += 1
        if bh >= 0 and 0 < dh <= budget:
            found[kh] = t
            typos[kh] = dh
            kh += 1
    # heads' hits next to whole's (moved down: kw <= n_whole, so in ascending order).
    for h in range(kh - n_whole):
        found[kw + h] = found[n_whole + h]
        typos[kw + h] = typos[n_whole + h]
    k = kw + kh - n_whole
    return found[:k], typos[:k], kw


@compiled
def _osa_bits(ascii_masks, others, other_masks, n, term, m, full
              ):  # pragma: no cover - compiled
    """The OSA distances of typo_hits from a word of ``n`` letters (1 to 64, given as
    each letter's positions: bit masks) to ``term[:m]`` and to the closest of the prefix
    cuts within it (typo_hits' heads: ``m`` at least the last cut), not capped: the DP
    table's columns as bit vectors of vertical differences (Myers' 1999 bit-parallel edit
    distance with Hyyrö's 2003 transposition term), one column a letter of the term in a
    few word-wide operations instead of a cell at a time."""
    one = np.uint64(1)
    top = one << np.uint64(n - 1)
    vp = ~np.uint64(0)  # column 0: every vertical difference +1 (D[i][0] = i)
    vn = np.uint64(0)
    d0 = np.uint64(0)
    eq_before = np.uint64(0)
    score = n  # D[n][j]
    cuts = (min(max(n - 1, 1), full), min(n, full), min(n + 1, full))
    best = n if full == 0 else 1 << 30
    for j in range(m):
        c = term[j]
        eq = np.uint64(0)
        if c < 128:
            eq = ascii_masks[c]
        else:
            for o in range(others.size):
                if others[o] == c:
                    eq = other_masks[o]
                    break
        swap = ((~d0 & eq) << one) & eq_before  # an adjacent transposition ends here
        d0 = (((eq & vp) + vp) ^ vp) | eq | vn | swap
        hp = vn | ~(d0 | vp)
        hn = d0 & vp
        if hp & top:
            score += 1
        elif hn & top:
            score -= 1
        hp = (hp << one) | one  # row 0: D[0][j] = j
        hn = hn << one
        vp = hn | ~(d0 | hp)
        vn = hp & d0
        eq_before = eq
        if j + 1 == cuts[0] or j + 1 == cuts[1] or j + 1 == cuts[2]:
            best = min(best, score)
    return score, best


@compiled
def _row_bound(ascii_masks, others, other_masks, n, row):  # pragma: no cover - compiled
    """A lower bound of every distance _osa_bits finds from a word of ``n`` letters (1 to
    64) to a term of more than ROW_LETTERS letters whose first ROW_LETTERS are ``row``'s
    (any cut of at least ROW_LETTERS - 1 letters, or the term whole): the least cell of
    the OSA table's columns ROW_LETTERS - 1 and ROW_LETTERS. A path to any such cut
    passes through one of the two (a transposition steps two columns at once, never
    three) and no step lowers its cost, so a term whose bound is over the budget is
    rejected from its 16-byte row without reading its code row (typo_hits: words of 7
    letters and more, whose comparisons the rows do not hold)."""
    one = np.uint64(1)
    vp = ~np.uint64(0)
    vn = np.uint64(0)
    d0 = np.uint64(0)
    eq_before = np.uint64(0)
    least = 1 << 30
    for j in range(ROW_LETTERS):
        # _osa_bits' column step, written out again: a shared helper is a call per letter
        # in the ahead-of-time build, not inlined (typo_hits 18 -> 33 µs a call).
        c = row[j]
        eq = np.uint64(0)
        if c < 128:
            eq = ascii_masks[c]
        else:
            for o in range(others.size):
                if others[o] == c:
                    eq = other_masks[o]
                    break
        swap = ((~d0 & eq) << one) & eq_before
        d0 = (((eq & vp) + vp) ^ vp) | eq | vn | swap
        hp = vn | ~(d0 | vp)
        hn = d0 & vp
        hp = (hp << one) | one
        hn = hn << one
        vp = hn | ~(d0 | hp)
        vn = hp & d0
        eq_before = eq
        if j + 1 >= ROW_LETTERS - 1:  # column j + 1: D[0][j + 1] = j + 1, then its deltas
            cell = j + 1
            least = min(least, cell)
            for i in range(n):
                cell += np.int64((vp >> np.uint64(i)) & one) - \
                    np.int64((vn >> np.uint64(i)) & one)
                least = min(least, cell)
    return least


@compiled
def _osa_within(word, term, n, m, full, b, prefix, prev2, prev, cur
                ):  # pragma: no cover - compiled
    """The OSA distance of typo_hits from ``word`` to ``term[:m]`` (prefix: its closest
    cut), capped at ``b + 1``. Only cells within ``b`` of the diagonal are computed: any
    other is more than ``b`` edits, and a table capped at ``b + 1`` gives the capped
    distance exactly; past two rows whose cells all exceed ``b`` every later one does."""
    cap = b + 1
    for j in range(m + 1):
        prev[j] = min(j, cap)
    low_before = 0  # row 0's least cell
    for i in range(1, n + 1):
        if i - b > m:  # the term is more than b letters shorter than the word's first i
            return cap
        lo = max(1, i - b)
        hi = min(m, i + b)
        cur[lo - 1] = min(i, cap) if lo == 1 else cap
        low = cur[lo - 1]
        a, before = word[i - 1], word[i - 2] if i > 1 else 0
        for j in range(lo, hi + 1):
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (0 if a == term[j - 1] else 1))
            if i > 1 and j > 1 and a == term[j - 2] and before == term[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            v = min(v, cap)
            cur[j] = v
            low = min(low, v)
        if hi < m:
            cur[hi + 1] = cap  # off the band: what the next row reads there
        if low > b and low_before > b:
            return cap
        low_before = low
        prev2, prev, cur = prev, cur, prev2
    if not prefix:
        return prev[m]  # |m - n| <= b: on the band
    d = cap
    for cut in (n - 1, n, n + 1):
        j = min(max(cut, 1), full)
        if n - b <= j <= n + b:  # a cell off the band is more than b
            d = min(d, prev[j])
    return d


# The fewest letters of a word that typed_word_shortlists' proof holds for: it reads the
# word's letters 0 to 4.
SHORTLIST_LETTERS = 5


@compiled
def typed_word_shortlists(word, order, codes, lengths, shared, rank, rows
                          ):  # pragma: no cover - compiled
    """The shortlists of a word W being typed (``word``: its n >= SHORTLIST_LETTERS code
    points) with one typo and its first letter kept, as grams.typed_word_grams gives
    them but far fewer: (the whole word's, its completions'), term ids, sorted, each
    holding every term that typo_hits accepts. Read from the terms starting with W[:3]
    and with W[0] W[1] W[3] (two ranges of the sorted ``order``, found here by binary
    search over each term id's ``codes`` and ``lengths``, as prefix_completions finds
    its range: numpy's searchsorted of the vocabulary's unicode array through a sorter
    took ~8 µs of a first sight) and ``shared``: the terms starting with W[0] that have
    the bigram W[3] W[4] (its posting). The count of 2 shared bigrams let ~1,000 terms
    through for a five-letter word with common first letters, and counted ~5,000
    posting entries to find them.

    Why no accepted term is left out. typo_hits accepts a term T with one typo when some
    prefix P of T (a cut of n - 1, n or n + 1 letters, or T whole; the whole word: P = T)
    is within one OSA edit of W: P == W, or one substitution, deletion, insertion or
    adjacent transposition turns W into P; and T[0] == W[0]. By where that edit is:
    (a) none, or at W[3] or later (a deletion of W[i] or an insertion before it, i >= 3,
        a substitution there, a transposition of W[i], W[i + 1], i >= 3): P, hence T,
        starts with W[:3];
    (b) a transposition of W[2] and W[3]: T starts with W[0] W[1] W[3];
    (c) within W[1:3] (a substitution of W[1] or W[2], their transposition, a deletion
        of either, an insertion before either): W[3:5] is left whole in P (n >= 5), so T
        has the bigram W[3] W[4]. An edit at W[0] keeping T[0] == W[0] gives a string
        one of these gives too (an insertion of W[0] before it is one before W[1]; a
        deletion of W[0] == W[1] one of W[1]; a substitution or transposition there
        changes nothing).
    The length bounds are the bigram filter's, which typo_hits applies too: T at least
    n - 1 letters, the whole word's within one of n."""
    n = word.size
    bounds = np.empty(4, np.int64)
    head = word[:3].copy()
    for r in range(2):
        if r == 1:
            head[2] = word[3]
        lo = _first_not_before(head, 3, order, codes, lengths, 0, order.size, False)
        bounds[2 * r] = lo
        bounds[2 * r + 1] = _first_not_before(head, 3, order, codes, lengths, lo, order.size,
                                              True)
    size = bounds[1] - bounds[0] + bounds[3] - bounds[2] + shared.size
    heads = np.empty(size, np.int64)
    k = 0
    for r in range(bounds[0], bounds[1]):
        heads[k] = order[r]
        k += 1
    for r in range(bounds[2], bounds[3]):
        heads[k] = order[r]
        k += 1
    for i in range(shared.size):
        heads[k] = shared[i]
        k += 1
    heads = np.sort(heads[:k])
    whole = np.empty(k, np.int64)
    j = 0
    m = 0
    for i in range(k):
        t = heads[i]
        if i > 0 and t == heads[i - 1]:
            continue  # in (c) and (a) or (b), or both ranges (W[2] == W[3])
        length = np.int64(rows[rank[t], ROW_LETTERS])
        if length == WIDE:
            length = np.int64(lengths[t])
        if length < n - 1:
            continue
        heads[m] = t
        m += 1
        if length <= n + 1:
            whole[j] = t
            j += 1
    return whole[:j], heads[:m]


@compiled
def typed_word_hits(word, order, codes, lengths, firsts, shared, rank, rows
                    ):  # pragma: no cover - compiled
    """typo_hits over typed_word_shortlists' two shortlists (one typo, the word's first
    letter kept), in one call: (found, typos, k) as typo_hits answers. A word being typed
    of SHORTLIST_LETTERS letters and more, the commonest new word of as-you-type
    searches: the shortlists never come back to Python (a call's ~3-4 µs of arguments and
    returned arrays less)."""
    whole, heads = typed_word_shortlists(word, order, codes, lengths, shared, rank, rows)
    return typo_hits(word, whole, heads, rank, rows, codes, lengths, firsts, 1, False)
