"""The relevance rule's scores.

BM25 sums over the words' term frequencies (saturated_sum; coded_sum where the last word
comes from its cached totals), the bonus of candidates that hold every word, the whole
rule in one call (relevance_raw, and relevance_ranked, which also orders the page), and
the check that scores lie in [0, 1].
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled
from sift.engine.kernels.proximity import add_pair_bonuses
from sift.engine.kernels.topk import largest_rows_binned, take_ranked, top_by_key


@compiled
def saturated_sum(tf, idfs, k1):  # pragma: no cover - compiled
    """Per candidate, the sum over words of ``idfs[w] * tf / (k1 + tf)`` (BM25), added
    from 0.0 in word order: word after word over the whole array, each candidate's
    partial sum kept in ``raw``. The division is ``np.divide``, numpy's (no check of
    the divisor for zero, which numba's ``/`` makes and which kept the loop scalar):
    the loop over candidates then runs on vector registers, the same IEEE quotients,
    sums and order (800k candidates of two words: 2.2 -> 0.6 ms)."""
    n_words, n_cands = tf.shape
    raw = np.zeros(n_cands, np.float64)
    for w in range(n_words):
        row = tf[w]
        idf = idfs[w]
        for c in range(n_cands):
            raw[c] += np.divide(idf * row[c], k1 + row[c])
    return raw


@compiled
def coded_sum(tf, idfs, k1, last, values):  # pragma: no cover - compiled
    """saturated_sum over the rows of ``tf`` and a last word whose term frequency in
    candidate c is ``values[last[c]]`` (0.0 where ``last[c] == values.size``): the same
    sum, as each of the last word's terms ``idfs[-1] * tf / (k1 + tf)`` is computed
    once per distinct tf, from the same floats, and added last, as saturated_sum adds
    the last row. A several-word query whose last word came from its cached totals
    (trailing_union): no float row of 800k candidates written for it, read back and
    divided candidate after candidate."""
    raw = saturated_sum(tf, idfs, k1)
    idf = idfs[tf.shape[0]]
    n_values = values.size
    terms = np.empty(n_values + 1, np.float64)
    for v in range(n_values):
        terms[v] = np.divide(idf * values[v], k1 + values[v])
    terms[n_values] = np.divide(idf * 0.0, k1 + 0.0)
    for c in range(raw.size):
        raw[c] += terms[last[c]]
    return raw


@compiled
def add_where_all(raw, matched, bonus):  # pragma: no cover - compiled
    """``raw[c] += bonus`` where every row of ``matched`` (words x candidates) is set:
    what ``np.add(raw, bonus, out=raw, where=matched.all(axis=0))`` does, whose masked
    ufunc loop took 5 ms for 800k candidates (this: ~1). The rows are ANDed row after
    row (a loop over the words inside the loop over the candidates, reading across
    rows, took as long as numpy), and each score is written, its sum or itself: which
    candidates match every word is unpredictable, and a branch on it costs more."""
    n_words, n_cands = matched.shape
    every = np.ones(n_cands, np.bool_)
    for w in range(n_words):
        row = matched[w]
        for c in range(n_cands):
            every[c] &= row[c]
    for c in range(n_cands):
        value = raw[c]
        raw[c] = value + bonus if every[c] else value


# The deepest page reachable_rows looks for: its bar keeps the ``reach`` best values in a
# sorted run, a shift per row that enters it, so its cost grows with reach times the rows
# (an API page may take 1,000). A deeper page has the depth cut and every bonus, as before.
REACH_MAX = 64


@compiled
def reachable_rows(raw, depth, every, all_words_bonus, matched, pairs, pair_weights, weight,
                   reach, max_score):  # pragma: no cover - compiled
    """(rows, True): the rows (ascending) among the ``depth`` largest of ``raw`` that may
    still be among the first ``reach`` once add_pair_bonuses has added their bonus, the
    others' bonus changing no page; (empty, False) where this cannot tell (a NaN value,
    ``reach`` not below the rows or above REACH_MAX, a kept row's place not sure to be
    among the ``depth`` largest): the caller cuts the ``depth`` largest as before.

    A row's bonus is a sum over pairs of ``pair_weights[p] / cost`` (cost >= 1), pair
    after pair, and only for pairs whose two words it holds (``matched``: set where a
    word has an occurrence); the same sum of ``pair_weights[p]`` bounds it from above
    (adding a number >= 0, or a larger one, never gives a smaller float), so
    ``(raw + weight * bound) + all_words_bonus`` bounds its value as relevance_raw
    computes it. A row whose bound is below the ``reach``-th largest value without any
    bonus (every row's real value is at least that) has ``reach`` rows strictly ahead of
    it whatever the ties: off the page. A row is kept too where its score could leave
    [0, 1] (in_unit would tell it apart): unless its value without the bonus is >= 0
    and its bound <= ``max_score`` (> 0), whose quotients then lie in [0, 1] (rounding
    keeps a quotient on its side of 0 and 1), tested without a division a row.

    The kept rows get their bonus only if largest_rows_binned(raw, depth) holds them:
    it does when no more than ``depth`` rows score at least the lowest of them (it
    takes every such row then), and that one count replaces the cut's four passes."""
    n = raw.size
    # (No empty array made up front for the answers that cannot tell: an allocation and
    # its release a call, where nearly every call tells.)
    if reach <= 0 or reach >= n or reach > REACH_MAX or not max_score > 0.0:
        return np.empty(0, np.int64), False
    bonus = all_words_bonus != 0.0
    # The reach largest values without a bonus, ascending: best[0] is the bar.
    best = np.full(reach, -np.inf)
    for c in range(n):
        value = raw[c]
        if bonus:
            value = value + all_words_bonus if every[c] else value
        if value != value:
            return np.empty(0, np.int64), False
        if value > best[0]:
            j = 0
            while j + 1 < reach and best[j + 1] < value:
                best[j] = best[j + 1]
                j += 1
            best[j] = value
    bar = best[0]
    # Every pair's weight: a bound on any row's bonus, to pass over most rows at once.
    every_pair = 0.0
    for p in range(pairs.shape[0]):
        every_pair += pair_weights[p]
    kept = np.empty(n + 1, np.int64)  # each row written, kept by advancing: a slot more
    m = 0
    lowest = np.inf
    for c in range(n):
        base = raw[c]
        lower = base + all_words_bonus if bonus and every[c] else base
        value = base + weight * every_pair
        if bonus:
            value = value + all_words_bonus if every[c] else value
        if (value < bar) & (value <= max_score) & (lower >= 0.0):
            continue
        bound = 0.0
        for p in range(pairs.shape[0]):
            if matched[pairs[p, 0], c] and matched[pairs[p, 1], c]:
                bound += pair_weights[p]
        value = base + weight * bound
        if bonus:
            value = value + all_words_bonus if every[c] else value
        off = (value < bar) & (value <= max_score) & (lower >= 0.0)
        kept[m] = c
        m += not off
        if not off:
            lowest = min(lowest, base)
    if depth < n:
        at_least = 0
        for c in range(n):
            at_least += raw[c] >= lowest
        if at_least > depth:
            return np.empty(0, np.int64), False
    return kept[:m], True


@compiled
def relevance_raw(tf, idfs, k1, depth, index, fields, pos, offsets, pairs, pair_weights,
                  weight, pos_bits, matched, all_words_bonus, max_score, reach
                  ):  # pragma: no cover - compiled
    """ranking.relevance_scores' scores in one call where it would make four kernel calls
    and three numpy ones: saturated_sum; then, for ``depth`` > 0, add_pair_bonuses over
    the rows of the ``depth`` largest scores (largest_rows_binned; every row when
    ``depth`` reaches them all); then, in one pass, for a nonzero ``all_words_bonus``
    add_where_all's sum, each raw score divided by ``max_score`` (``np.divide``, as
    numpy's ``raw / max_score``), in_unit_range of those, and the raw score negated in its
    own buffer (np.negative: the sign bit alone). The same kernels and operations in the
    same order, so the same floats, with six calls and three passes over the
    candidates less (docs/benchmarks/engine-speed.md, "Fewer kernel calls per search"). (key, score,
    in_unit, True) with key = -raw; (saturated_sum's raw, the same, False, False) when a
    NaN score leaves the cut to the caller (topk.smallest_k places it).

    ``reach`` > 0: only the first ``reach`` rows' keys and scores will be read (the
    caller's page), so the bonus goes only to the rows that reachable_rows keeps, where
    it can tell them: a row it drops keeps its score without the bonus, and in_unit is
    what it would have been."""
    raw = saturated_sum(tf, idfs, k1)
    n = raw.size
    # add_where_all's rows ANDed; its sums made in the pass below.
    bonus = all_words_bonus != 0.0
    every = np.ones(n if bonus else 0, np.bool_)
    if bonus:
        for w in range(matched.shape[0]):
            row = matched[w]
            for c in range(n):
                every[c] &= row[c]
    if depth > 0 and n > 0:
        top, found = reachable_rows(raw, depth, every, all_words_bonus, matched, pairs,
                                    pair_weights, weight, reach, max_score)
        if not found:
            if depth < n:
                top = largest_rows_binned(raw, depth)
                if top.size == 0:
                    return raw, raw, False, False
            else:
                top = np.arange(n)
        add_pair_bonuses(raw, top, index, fields, pos, offsets, pairs, pair_weights, weight,
                         pos_bits)
    score = np.empty(n, np.float64)
    in_unit = n > 0
    for c in range(n):
        value = raw[c]
        if bonus:
            value = value + all_words_bonus if every[c] else value
        ratio = np.divide(value, max_score)
        score[c] = ratio
        in_unit &= (ratio >= 0.0) & (ratio <= 1.0)
        raw[c] = -value
    return raw, score, in_unit, True


@compiled
def relevance_ranked(tf, idfs, k1, depth, index, fields, pos, offsets, pairs, pair_weights,
                     weight, pos_bits, matched, all_words_bonus, max_score, need, cands, tie,
                     page_only):  # pragma: no cover - compiled
    """relevance_raw, then the page's order and rows where the relevance rule alone ranks:
    for ``0 < need < cands.size`` and every score in [0, 1], top_by_key(key, need, cands,
    tie) (ranking.top_order's single-key cut) and take_ranked(order, cands, score) (the
    ranked docids and scores pipeline.lexical takes), in this call instead of two more.
    (key, score, in_unit, done) as relevance_raw returns them, then (order, docids,
    scores): empty when not cut here (the caller orders the candidates as before).

    ``page_only``: the caller reads the keys and scores of the first ``need`` rows alone
    (relevance_raw's ``reach``); the page, its order and its scores are the same."""
    key, score, in_unit, done = relevance_raw(tf, idfs, k1, depth, index, fields, pos,
                                              offsets, pairs, pair_weights, weight,
                                              pos_bits, matched, all_words_bonus, max_score,
                                              need if page_only else 0)
    if done and in_unit and 0 < need < key.size:
        order = top_by_key(key, need, cands, tie)
        if order.size:
            docids, ranked = take_ranked(order, cands, score)
            return key, score, in_unit, done, order, docids, ranked
    # Not cut: the empty arrays made only here (three allocations less a cut page).
    return (key, score, in_unit, done, np.empty(0, np.int64), np.empty(0, cands.dtype),
            np.empty(0, np.float64))


@compiled
def in_unit_range(values):  # pragma: no cover - compiled
    """Whether ``values`` is not empty and every value lies in [0, 1] (a NaN does not):
    ``values.min() >= 0.0 and values.max() <= 1.0`` in one pass, without two reductions
    and their numpy scalars."""
    ok = values.size > 0
    for i in range(values.size):
        v = values[i]
        ok &= (v >= 0.0) & (v <= 1.0)
    return ok
