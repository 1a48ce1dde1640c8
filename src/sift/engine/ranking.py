"""Ranking rules: Meilisearch's bucket sort plus Sift's scored ``relevance`` rule.

Each rule turns the candidate feature arrays into a sort key (lower is better),
a score in [0, 1] and a bucket count. ``np.lexsort`` over the keys is exactly a
bucket sort where every rule only breaks the ties of the rules before it. The
global ``_rankingScore`` nests the rule scores the same way: a bucket rule with
B buckets owns 1/B of the interval left by the previous rules; a continuous
rule (``relevance``) ends the nesting. Rule semantics: docs/ranking.md.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from sift.engine.corpus.stats import CorpusStats
from sift.engine.expand import QueryWord
from sift.engine.frozen import quick_init
from sift.engine.kernels import (
    add_pair_bonuses,
    add_proximity_bonus,
    add_where_all,
    coded_sum,
    in_unit_range,
    largest_rows_binned,
    put_first,
    relevance_ranked,
    relevance_raw,
    saturated_sum,
    term_frequencies,
    top_by_key,
)
from sift.engine.match import POS_BITS, Features, Occurrences, pair_proximity
from sift.engine.prf import feedback_scores
from sift.engine.store import Snapshot
from sift.engine.topk import smallest_k

CUSTOM_RULE = re.compile(r"^(.+):(asc|desc)$")
SortKeys = Callable[[str, np.ndarray, bool], np.ndarray]  # (field, docids, asc) -> key


@dataclass(frozen=True)
class RelevanceParams:
    """BM25F and re-ranking constants (tuned with benchmarks/tune). Frozen: searches
    without their own share one (pipeline.request), and variants are
    ``dataclasses.replace``'s."""

    k1: float = 1.6
    b: float = 0.5
    attr_boost: float = 0.5  # extra tf weight of the first searchable attribute
    stop_weight: float = 0.0  # weight of English stop words in the score
    proximity: float = 0.25  # bonus per close query-word pair, times the pair's idf
    prefix_weight: float = 0.6  # weight of completions of the last (prefix) word
    typo_weight: float = 0.2  # weight of a one-typo variant of a known word
    trusted_count: int = 20  # occurrences that make a word "correctly spelled" (no typos)
    prf_weight: float = 0.0  # weight of the pseudo-relevance-feedback score
    prf_docs: int = 10  # feedback documents
    prf_terms: int = 20  # expansion terms
    prf_min_words: int = 3  # content words a query needs before feedback applies
    rerank_depth: int = 300  # candidates that get the proximity bonus
    # More distinct content words than this: stop words make no match and known words get
    # no typo variants (0: never).
    long_query_words: int = 16
    proximity_pairs: int = 16  # the bonus weighs at most this many pairs' worth (0: no cap)
    all_words_bonus: float = 0.5  # bonus (in idf units) when every query word matches


@dataclass
class RuleOutput:
    key: np.ndarray | list[np.ndarray]  # ascending is better; a list for multi-key rules
    score: np.ndarray | None  # [0, 1] per candidate; None: rule not scored (sort)
    # Buckets this query can produce (per candidate when they depend on the words it
    # kept); inf for continuous rules. A rule with one bucket cannot tell hits apart and
    # leaves the score to the rules after it.
    buckets: float | np.ndarray
    details: Callable[[int], dict[str, Any]]
    # Every score is known to lie in [0, 1] (a continuous rule's: combine need not check).
    in_unit: bool = False
    # The rule alone ranks (:func:`rank`'s ``alone``) and its kernel cut the page: (rows
    # in rank order as top_order orders them, their docids, their scores); None: not cut.
    page: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


@dataclass
class Ranked:
    # Candidate indices, best first; only the first ``need`` (RankInput.need) are
    # guaranteed in rank order, the rest follow in no particular order.
    order: np.ndarray
    score: np.ndarray  # global ranking score per candidate index
    details: Callable[[int], dict[str, Any]]
    # (docids, score) of the rows of ``order``, in its order, when the ranking kernel took
    # them (RuleOutput.page); None: the caller takes them (kernels.take_ranked).
    taken: tuple[np.ndarray, np.ndarray] | None = None


@dataclass
class RankInput:
    snap: Snapshot
    words: list[QueryWord]
    occs: Sequence[Occurrences]
    feats: Features
    strategy: str
    field_rank: np.ndarray  # per field id: attribute rank (0 = most important)
    n_ranks: int
    sort: list[str] = field(default_factory=list)
    sort_keys: SortKeys | None = None
    params: RelevanceParams = field(default_factory=RelevanceParams)
    by_attribute: bool = False  # proximityPrecision "byAttribute"
    need: int | None = None  # leading candidates that must be in order (None: all)
    # Only those ``need`` rows' scores are read (Request.page_scores_only: no click
    # signal, search rules or hybrid fusion reads the others): the proximity bonus may
    # skip rows that cannot reach them.
    page_scores_only: bool = False
    deadline: float | None = None  # perf_counter() time of searchCutoffMs; None: no limit
    # Typos each query word's settings allow (0 for a phrase); None: 2 per word.
    typo_budget: list[int] | None = None
    # Per original query word, its index in ``words`` when repeats were collapsed
    # (expand.collapse_repeats); None: ``words`` is the query as written.
    sequence: list[int] | None = None
    # Statistics of every shard the search spans (engine/corpus/stats.py); None: this
    # snapshot's own.
    corpus: CorpusStats | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline


def words_kept(inp: RankInput) -> tuple[np.ndarray, np.ndarray]:
    """(k, kept): matching-strategy word count per candidate and the [W, C] mask of words
    inside the kept prefix (Meilisearch drops words from the end, or the most frequent).

    Quoted words and phrases are never dropped: a candidate must contain all of them,
    and only the other words are dropped, in the strategy's order. A query without
    quotes keeps at least its first word; one with quotes may be left with them alone."""
    m = inp.feats.matched
    n_words = m.shape[0]
    if inp.strategy == "all":
        k = np.where(m.all(axis=0), n_words, 0)
        return k, m & (k == n_words)
    quoted = np.array([w.quoted for w in inp.words], dtype=bool)
    droppable = np.flatnonzero(~quoted)
    if inp.strategy == "frequency":
        # Rarest first, so the most frequent word is the first dropped.
        droppable = droppable[np.argsort(-m[droppable].sum(axis=1), kind="stable")[::-1]]
    has_quoted = m[quoted].all(axis=0)
    prefix = np.cumprod(m[droppable], axis=0).astype(bool) & has_quoted
    kept = np.zeros_like(m)
    kept[droppable] = prefix
    kept[quoted] = has_quoted
    k = np.where(has_quoted, prefix.sum(axis=0) + int(quoted.sum()), 0)
    return k, kept


def _words(inp: RankInput, k: np.ndarray, kept: np.ndarray, order: int) -> RuleOutput:
    n_words = max(len(inp.words), 1)
    score = k / n_words
    return RuleOutput(-k, score, n_words, lambda c: {
        "order": order, "matchingWords": int(k[c]), "maxMatchingWords": n_words,
        "score": float(score[c])})


def _typo(inp: RankInput, kept: np.ndarray, order: int) -> RuleOutput:
    per_word = np.where(kept, inp.feats.typos, 0).astype(np.int64)
    typos = per_word.sum(axis=0)
    # Buckets: the typos the kept words allow, plus one (Meilisearch's count), so a
    # query whose words allow none ("wife": too short) has one bucket. A word can
    # still match with more than its setting allows (a split word counts one typo; an
    # unknown word gets one in relevance mode): what it actually matched then counts.
    budget = np.array(inp.typo_budget if inp.typo_budget is not None
                      else [2] * len(inp.words), dtype=np.int64)
    allowed = np.maximum(budget, per_word.max(axis=1, initial=0))
    max_typos = (kept * allowed[:, None]).sum(axis=0)
    score = 1.0 - typos / (max_typos + 1)
    return RuleOutput(typos, score, max_typos + 1, lambda c: {
        "order": order, "typoCount": int(typos[c]), "maxTypoCount": int(max_typos[c]),
        "score": float(score[c])})


def proximity_sum(inp: RankInput, kept: np.ndarray, subset: np.ndarray | None = None
                  ) -> np.ndarray:
    n = inp.feats.cands.size
    total = np.zeros(n, dtype=np.int64)
    for i in range(len(inp.occs) - 1):
        both = kept[i] & kept[i + 1]
        if not both.any():
            continue
        cost = pair_proximity(inp.occs[i], inp.feats.index[i], inp.occs[i + 1],
                              inp.feats.index[i + 1], n, both if subset is None else both & subset,
                              inp.by_attribute)
        total += np.where(both, cost, 0)
    return total


def _proximity(inp: RankInput, kept: np.ndarray, order: int) -> RuleOutput:
    pairs = np.maximum((kept[:-1] & kept[1:]).sum(axis=0), 0) if kept.shape[0] > 1 else \
        np.zeros(kept.shape[1], dtype=np.int64)
    total = proximity_sum(inp, kept)
    extra = total - pairs  # 0 when every kept pair is adjacent
    # Each kept pair of neighbouring words costs 1 to 8: 7 * pairs + 1 buckets, so one
    # bucket when no pair is kept (a one-word query).
    buckets = pairs * 7 + 1
    score = 1.0 - extra / buckets
    return RuleOutput(extra, score, buckets, lambda c: {"order": order, "score": float(score[c])})


def _attribute(inp: RankInput, kept: np.ndarray, order: int, part: str) -> RuleOutput:
    attr = np.where(kept, inp.feats.attr, 0)
    ranks = (attr >> POS_BITS).sum(axis=0)
    positions = np.minimum(attr & ((1 << POS_BITS) - 1), 1000).sum(axis=0)
    n_kept = np.maximum(kept.sum(axis=0), 1)
    rank_score = 1.0 - ranks / (n_kept * max(inp.n_ranks, 1))
    pos_score = 1.0 / (1.0 + positions / (10.0 * n_kept))
    if part == "attributeRank":
        key: Any = ranks
        score = rank_score
    elif part == "wordPosition":
        key, score = positions, pos_score
    else:
        key, score = [ranks, positions], 0.8 * rank_score + 0.2 * pos_score
    buckets = float(max(inp.n_ranks, 1) * max(len(inp.words), 1) * 8)
    return RuleOutput(key, score, buckets, lambda c: {
        "order": order, "attributeRankingOrderScore": float(rank_score[c]),
        "queryWordDistanceScore": float(pos_score[c]), "score": float(score[c])})


def _exactness(inp: RankInput, kept: np.ndarray, order: int) -> RuleOutput:
    exact = (inp.feats.exact & kept).sum(axis=0)
    n_kept = kept.sum(axis=0)
    starts = inp.feats.exact[0] & ((inp.feats.attr[0] & ((1 << POS_BITS) - 1)) == 0)
    full = starts & (exact == len(inp.words))
    match_type = np.where(full, 0, np.where(starts, 1, 2))
    rank = match_type * (len(inp.words) + 1) + (n_kept - exact)
    buckets = 3 * (len(inp.words) + 1)
    score = 1.0 - rank / buckets
    names = ("exactMatch", "matchesStart", "noExactMatch")
    return RuleOutput(rank, score, buckets, lambda c: {
        "order": order, "matchType": names[int(match_type[c])], "matchingWords": int(exact[c]),
        "maxMatchingWords": len(inp.words), "score": float(score[c])})


def _field_weights(inp: RankInput) -> np.ndarray:
    return field_weights(inp.params, inp.snap, inp.corpus, inp.field_rank, inp.n_ranks)


def bm25f_key(p: RelevanceParams, field_rank: np.ndarray, n_ranks: int) -> tuple[Any, ...]:
    """What :func:`field_weights` reads beyond the snapshot (and the corpus)."""
    return ("bm25f", p.b, p.attr_boost, n_ranks, field_rank.tobytes())


def field_weights(p: RelevanceParams, snap: Snapshot, corpus: CorpusStats | None,
                  field_rank: np.ndarray, n_ranks: int) -> np.ndarray:
    """BM25F's per-(field, document) factor ``weight / (1 - b + b * len / avg)``, flat
    and field-major (index ``field * n_docs + docid``, what kernels.term_frequencies
    reads: a term's occurrences walk one field's row), built once per snapshot and
    settings: a query then pays one gather per word for it instead of five array
    operations."""
    key = bm25f_key(p, field_rank, n_ranks)
    if corpus is None:
        # The snapshot's averages are read only when built (a search finds them built).
        return snap.cached(key, lambda: _built_field_weights(
            p, snap, snap.avg_field_len, field_rank, n_ranks))
    avg = corpus.avg_field_len(snap.field_names, snap.avg_field_len)
    # Other shards' averages change without this snapshot changing: a bounded cache.
    return snap.cached_lru(repr(key) + avg.tobytes().hex(),
                           lambda: _built_field_weights(p, snap, avg, field_rank, n_ranks))


def _built_field_weights(p: RelevanceParams, snap: Snapshot, avg: np.ndarray,
                         field_rank: np.ndarray, n_ranks: int) -> np.ndarray:
    n_docs, n_fields = snap.field_len.shape
    fw = 1.0 + p.attr_boost * np.clip(1.0 - field_rank / max(n_ranks - 1, 1), 0, 1)
    scale = p.b / avg  # float32, as the whole-matrix expression computed it
    out = np.empty((n_fields, n_docs), dtype=np.float32)
    # One field's row at a time, each value computed as the whole-matrix expression
    # did (the norm in float32, the division in float64, then float32): that expression
    # made four whole-matrix temporaries, one of them float64, ~110 MiB beside the 27 MiB
    # result at 1M products, which made the first search of each version (at a start:
    # the one-letter words' warm-up before /health) the process's RSS peak.
    weight = np.broadcast_to(fw[None, :n_fields], (1, n_fields))[0]  # as it broadcast
    for f in range(n_fields):
        norm = (1.0 - p.b) + scale[f] * snap.field_len[:, f]
        np.divide(weight[f], norm, out=out[f], casting="same_kind")
    return out.reshape(-1)


def scored_words(words: list[QueryWord], p: RelevanceParams) -> np.ndarray:
    """Per word, whether relevance_scores reads its term frequencies (what
    kernels.candidates_and_frequencies sums): not a stop word's at ``stop_weight`` 0,
    whose idf is multiplied by 0 (the sum adds 0 * tf / (k1 + tf), a zero whatever its
    tf while k1 > 0; only whether its df is 0 is read). At a positive k1 only: at 0, a
    tf of 0 would make that 0 / 0."""
    if not (p.stop_weight == 0.0 and p.k1 > 0.0):
        return np.ones(len(words), dtype=np.bool_)  # every word (~1 µs less than a list)
    return np.array([not w.stop for w in words], dtype=np.bool_)


def relevance_scores(inp: RankInput, kept: np.ndarray, alone: bool = False
                     ) -> tuple[np.ndarray, np.ndarray, bool,
                                tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """BM25F over the expansions of each query word, plus a proximity bonus for the
    best ``rerank_depth`` candidates. Returns (key, score, in_unit, page): the raw score
    negated (ascending is better; negation flips the sign bit only, so -key[c] is the
    raw score bit for bit), the score normalised to [0, 1], True when every score is
    known to lie in [0, 1] (False: not checked), and with ``alone`` (this rule alone
    orders every candidate) the page as RuleOutput.page has it, when the common case's
    kernel cut it (else None)."""
    p, snap, feats, corpus = inp.params, inp.snap, inp.feats, inp.corpus
    n = feats.cands.size
    n_docs = max(snap.n_alive if corpus is None else corpus.documents, 1)
    if feats.totals is not None:  # one word, from its cached totals (word_totals.py)
        tf, df = feats.totals
    elif feats.frequencies is not None:  # with the candidates (lexical.match)
        tf, df = feats.frequencies
    else:
        tf, df = term_frequencies(feats.index_all, feats.docs, feats.joined("fields"),
                                  feats.joined("weight"), feats.offsets,
                                  _field_weights(inp), snap.field_len.shape[0], n)
    idfs = np.zeros(len(inp.words))
    # A word without occurrences among the candidates has df 0 (term_frequencies).
    matches = df.tolist() if corpus is None else \
        [corpus.matches(i, w.decision) for i, w in enumerate(inp.words)]
    if corpus is not None:  # every shard's document counts, not this one's
        df = np.array([corpus.document_frequency(i, w.decision)
                       for i, w in enumerate(inp.words)], np.int64)
    repeats = False  # a word counted more than once (a long query's repeats)
    for i, (w, d, m) in enumerate(zip(inp.words, df.tolist(), matches, strict=True)):
        repeats = repeats or w.count != 1
        if m == 0:
            continue
        # idf stays in numpy: numba's log1p can differ from numpy's in the last bit.
        idf = np.log1p((n_docs - d + 0.5) / (d + 0.5))
        idfs[i] = idf * p.stop_weight if w.stop else idf  # (times 1.0: the same float)
    # Each word's idf times its count; a count of 1 (every word but a long query's
    # repeats) leaves an idf as it is, so without repeats the idfs are the weights.
    word_weights = idfs * np.array([w.count for w in inp.words], dtype=np.float64) \
        if repeats else idfs
    max_score = weights_sum(word_weights)
    sequence = inp.sequence if inp.sequence is not None else range(len(inp.words))
    content = [i for i in sequence if not inp.words[i].stop]
    proximity = p.proximity > 0 and len(inp.words) > 1 and n > 0 and not inp.out_of_time()
    feedback = p.prf_weight > 0 and len(content) >= p.prf_min_words and n > 0
    weight = 0.0
    # A pair of neighbours that repeats in the query is measured once, counted each time
    # (a dict in first-seen order, as Counter counts them: a Counter cost ~2 µs).
    pairs: dict[tuple[int, int], int] = {}
    if proximity:
        n_pairs = max(len(content) - 1, 1)
        weight = p.proximity * (min(1.0, p.proximity_pairs / n_pairs) if p.proximity_pairs
                                else 1.0)
        for pair in pairwise(content):
            pairs[pair] = pairs.get(pair, 0) + 1
        # Added pair after pair, as sum() adds them (whatever Python's sum of floats does),
        # from the idfs as Python floats (the same doubles, without numpy's scalars).
        idf_list = idfs.tolist()
        pair_idfs = 0.0
        for a, b in pairwise(content):
            pair_idfs += min(idf_list[a], idf_list[b])
        max_score += weight * pair_idfs
    if feats.coded_last is None and not feedback and not (
            proximity and (feats.fill_rows is not None or feats.totals is not None)):
        # The common case: the kernels below in one call (kernels.relevance_raw).
        total = max_score + p.all_words_bonus if p.all_words_bonus else max_score
        # No pair (fewer than two content words: "venules have a"), no bonus: the depth
        # cut and reachable_rows would find the rows to add nothing to (0.0 to a score
        # that is never -0.0), ~100 µs of a stop-word query's 5,000 candidates.
        key, score, in_unit, done, page = _in_one_call(
            inp, tf, word_weights, pairs, weight, idfs,
            min(p.rerank_depth, n) if pairs else 0, float(max(total, 1e-9)),
            inp.need if alone and inp.need is not None else 0)
        if done:
            return key, score, in_unit, page
        raw = key  # a NaN score: saturated_sum's, the rest the general way
    else:
        raw = saturated_sum(tf, word_weights, p.k1) if feats.coded_last is None else \
            coded_sum(tf, word_weights, p.k1, *feats.coded_last)
    if proximity:
        _add_proximity(inp, raw, pairs, weight, idfs)
    content_words = len(content)
    if feedback:
        exclude = np.concatenate([w.term_ids for w in inp.words])
        fb = feedback_scores(snap, feats.cands, raw, p.prf_docs, p.prf_terms, exclude, p.k1,
                             p.b)
        # RM3's interpolation: each original word weighs 1/|q| against the expansion.
        raw = raw + p.prf_weight * content_words * fb
        max_score += p.prf_weight * content_words * np.log1p(n_docs)
    if p.all_words_bonus:
        # As ``raw += bonus * every_word``, without that array: the others would add 0.0.
        add_where_all(raw, feats.matched, float(p.all_words_bonus))
        max_score += p.all_words_bonus
    score = raw / max(max_score, 1e-9)
    # Negated in raw's own buffer, which nothing else holds: one candidate-sized array
    # less alive while the page is ordered (see combine).
    return np.negative(raw, out=raw), score, False, None


def weights_sum(weights: np.ndarray) -> float:
    """``float(np.add.reduce(weights))`` for weights >= 0 (never -0.0: an idf is positive
    or 0.0). numpy adds fewer than eight values one after the other from 0.0 (its
    pairwise sum's first block), as the loop here does without a reduction's set-up (~3
    µs on a first sight); more go to numpy's pairwise order."""
    if weights.size >= 8:
        return float(np.add.reduce(weights))
    total = 0.0
    for value in weights.tolist():
        total += value
    return total


# What relevance_raw reads of the occurrences when no proximity bonus is added.
_NO_ROWS = (np.empty(0, np.int32), np.empty(0, np.uint16), np.empty(0, np.uint32),
            np.zeros(1, np.int64), np.empty((0, 2), np.int64), np.empty(0))


def _in_one_call(inp: RankInput, tf: np.ndarray, word_weights: np.ndarray,
                 pairs: dict[tuple[int, int], int], weight: float, idfs: np.ndarray,
                 depth: int, max_score: float, need: int
                 ) -> tuple[np.ndarray, np.ndarray, bool, bool,
                            tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """saturated_sum, the proximity bonus of the ``depth`` best rows (0: none) over every
    word's occurrences end to end, the every-word bonus, and the key and score of each
    candidate: kernels.relevance_raw; with a ``need`` (> 0: the rule alone ranks), the
    first ``need`` rows' order, docids and scores too (kernels.relevance_ranked)."""
    p, feats = inp.params, inp.feats
    if depth:
        rows = (feats.index_all, feats.joined("fields"), feats.joined("pos"), feats.offsets,
                *_pair_arrays(pairs, idfs))
    else:
        rows = _NO_ROWS
    if not need:
        return (*relevance_raw(tf, word_weights, p.k1, depth, *rows, weight, POS_BITS,
                               feats.matched, float(p.all_words_bonus), max_score, 0), None)
    key, score, in_unit, done, order, docids, scores = relevance_ranked(
        tf, word_weights, p.k1, depth, *rows, weight, POS_BITS, feats.matched,
        float(p.all_words_bonus), max_score, need, feats.cands, inp.snap.tie,
        inp.page_scores_only)
    return key, score, in_unit, done, (order, docids, scores) if order.size else None


def _pair_arrays(pairs: dict[tuple[int, int], int], idfs: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The word pairs as an (n, 2) array, and each pair's weight: its count times the
    smaller idf of its two words (what the pair-bonus kernels take)."""
    idf = idfs.tolist()  # the same doubles as Python floats: no numpy scalar a pair
    return (_pair_index(tuple(pairs)),
            np.array([times * min(idf[a], idf[b]) for (a, b), times in pairs.items()]))


@functools.lru_cache(maxsize=256)
def _pair_index(pairs: tuple[tuple[int, int], ...]) -> np.ndarray:
    """``pairs`` as an (n, 2) int64 array. The same few shapes recur in every query
    ((0, 1), (1, 2)...), and the array costs more to make (~2 µs) than to look up; the
    kernels only read it (it stays writeable: a read-only array is another kind to them,
    kernels_guard.py)."""
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _add_proximity(inp: RankInput, raw: np.ndarray, pairs: dict[tuple[int, int], int],
                   weight: float, idfs: np.ndarray) -> None:
    """The proximity bonus of the best ``rerank_depth`` rows of ``raw``, added to them."""
    p, feats = inp.params, inp.feats
    n = raw.size
    depth = min(p.rerank_depth, n)
    if depth < n:
        # Equal scores: the first candidates (a NaN score: smallest_k places it).
        top = largest_rows_binned(raw, depth)
        if top.size == 0:
            top = smallest_k(-raw, depth).astype(np.int64, copy=False)
    else:
        top = np.arange(n, dtype=np.int64)
    if feats.fill_rows is None and feats.totals is None:
        # Every word's occurrences end to end (gather's buffer, or joined): one call.
        # Only the subset has a bonus: the other rows would each add 0.0, leaving them
        # as they are (a score is never -0.0), so only the subset's rows are touched.
        add_pair_bonuses(raw, top, feats.index_all, feats.joined("fields"),
                         feats.joined("pos"), feats.offsets, *_pair_arrays(pairs, idfs),
                         weight, POS_BITS)
        return
    if feats.fill_rows is not None:  # a word's occurrences, only where read
        feats.fill_rows(feats, top)
    subset = np.zeros(n, dtype=bool)
    subset[top] = True
    bonus = np.zeros(n)
    for (a, b), times in pairs.items():
        oa, ob = inp.occs[a], inp.occs[b]
        add_proximity_bonus(feats.index[a], oa.fields, oa.pos, feats.index[b],
                            ob.fields, ob.pos, subset, bonus, POS_BITS,
                            times * float(min(idfs[a], idfs[b])))
    raw[top] += weight * bonus[top]


def _relevance(inp: RankInput, kept: np.ndarray, order: int, alone: bool = False
               ) -> RuleOutput:
    key, score, in_unit, page = relevance_scores(inp, kept, alone)
    return RuleOutput(key, score, float("inf"), lambda c: {
        "order": order, "bm25f": round(float(-key[c]), 6), "score": float(score[c])},
        in_unit, page)


def _sort(inp: RankInput, entries: list[str], order: int, name: str) -> RuleOutput:
    keys = []
    for entry in entries:
        m = CUSTOM_RULE.match(entry)
        if m is None or inp.sort_keys is None:
            continue
        keys.append(inp.sort_keys(m.group(1), inp.feats.cands, m.group(2) == "asc"))
    return RuleOutput(keys, None, 1.0, lambda c: {"order": order, "value": name})


def rank(inp: RankInput, rules: list[str]) -> Ranked:
    """Order the candidates by ``rules``; candidates the matching strategy drops go."""
    bucket_mode = "words" in rules or "relevance" not in rules
    alive_idx: np.ndarray | None = None  # None: every candidate
    if inp.strategy == "all" or bucket_mode:
        k, kept = words_kept(inp)
        alive_idx = np.nonzero(k > 0)[0]
    else:
        # Relevance without the words rule: any matching word makes a candidate
        # (BM25's OR semantics, so every candidate stays); the score already rewards
        # matching more words.
        kept = inp.feats.matched
    # The relevance rule alone orders every candidate (Sift's default rules, no `sort` in
    # the request): its kernel may cut the page too (RuleOutput.page).
    # (Counted rather than tested rule by rule: a generator's frames cost more than the
    # rules they test.)
    alone = alive_idx is None and rules.count("relevance") == 1 and \
        rules.count("relevance") + rules.count("sort") == len(rules) and \
        not (inp.sort and "sort" in rules)
    outputs: list[RuleOutput] = []
    for i, rule in enumerate(rules):
        if outputs and inp.out_of_time():
            # searchCutoffMs: past the budget, the remaining rules no longer break ties
            # (Meilisearch answers with what its bucket sort has so far).
            break
        if rule == "words":
            outputs.append(_words(inp, k, kept, i))
        elif rule == "typo":
            outputs.append(_typo(inp, kept, i))
        elif rule == "proximity":
            outputs.append(_proximity(inp, kept, i))
        elif rule in ("attribute", "attributeRank", "wordPosition"):
            outputs.append(_attribute(inp, kept, i, rule))
        elif rule == "exactness":
            outputs.append(_exactness(inp, kept, i))
        elif rule == "relevance":
            outputs.append(_relevance(inp, kept, i, alone))
        elif rule == "sort":
            if inp.sort:
                outputs.append(_sort(inp, inp.sort, i, "sort"))
        elif CUSTOM_RULE.match(rule):
            outputs.append(_sort(inp, [rule], i, rule))
    if alone and len(outputs) == 1 and outputs[0].page is not None:
        return _page_ranked(outputs[0], rules)
    return combine(outputs, alive_idx, Ties(inp.feats.cands, inp.snap.tie), rules, inp.need)


def _page_ranked(only: RuleOutput, rules: list[str]) -> Ranked:
    """The ranking of a rule that alone orders every candidate and whose kernel cut the
    page (RuleOutput.page): every score in [0, 1] (the kernel cuts only then), so the
    final scores are the rule's; what combine returns for it, without its keys, ties and
    loop over the rules."""
    assert only.page is not None and only.score is not None
    order, docids, scores = only.page
    rule_details = only.details

    def details(c: int) -> dict[str, Any]:
        d = rule_details(c)
        return {rules[d["order"]]: d}

    return Ranked(order, only.score, details, (docids, scores))


@quick_init
@dataclass(frozen=True)
class Ties:
    """What orders rows whose keys are all equal: the tie key (tiebreak.py) of each
    row's document, ``table[docids[row]]``, read only for the rows that need it."""

    docids: np.ndarray  # per row: its internal docid
    table: np.ndarray  # uint64 per internal docid (Snapshot.tie)

    def of(self, rows: np.ndarray) -> np.ndarray:
        return self.table[self.docids[rows]]


def top_order(keys: list[np.ndarray], need: int | None, ties: Ties) -> np.ndarray:
    """Positions ordered by ``keys`` (lexicographic, ascending), rows equal in every key
    by their tie key, as ``np.lexsort([ties, *keys[::-1]])`` orders them, but only the
    first ``need`` guaranteed.

    A page needs a few dozen rows out of thousands of candidates: each key in turn
    keeps the rows strictly better than the need-th value and narrows the ties, in
    O(n) per key (np.partition); only the chosen rows are fully sorted.
    """
    n = ties.docids.size
    if need is None or need >= n:
        return np.lexsort([ties.of(np.arange(n)), *keys[::-1]])
    if need <= 0:
        return np.arange(n)
    if len(keys) == 1 and keys[0].dtype == np.float64:
        # The relevance rule alone: Sift's default.
        order = top_by_key(keys[0], need, ties.docids, ties.table)
        return order if order.size else np.lexsort([ties.of(np.arange(n)), keys[0]])
    chosen: list[np.ndarray] = []
    pool = np.arange(n)
    left = need
    for key in keys:
        values = key[pool]
        kth = np.partition(values, left - 1)[left - 1]
        if kth != kth:  # NaN keys: leave the ordering to lexsort
            return np.lexsort([ties.of(np.arange(n)), *keys[::-1]])
        better = values < kth
        chosen.append(pool[better])
        left -= int(better.sum())
        pool = pool[values == kth]
        if pool.size <= left:
            break
    if pool.size > left:  # equal in every key: the smallest tie keys
        pool = pool[smallest_k(ties.of(pool), left)]
    chosen.append(pool)
    top = np.sort(np.concatenate(chosen))
    return put_first(top[np.lexsort([ties.of(top), *[k[top] for k in keys[::-1]]])], n)


def _continuous(buckets: float | np.ndarray) -> bool:
    """A rule's ``buckets`` say it is continuous (inf: no buckets). The relevance rule's
    float inf is told apart without np.ndim's conversion to an array; other values
    (ints, per-candidate arrays) go the general way."""
    if type(buckets) is float:
        return buckets == float("inf")
    return bool(np.ndim(buckets) == 0 and buckets == float("inf"))


def combine(outputs: list[RuleOutput], alive_idx: np.ndarray | None, ties: Ties,
            rules: list[str], need: int | None = None) -> Ranked:
    """Rank ``alive_idx`` (None: every candidate, ``ties.docids``) by the rules' keys,
    exact ties by ``ties``."""
    def details(c: int) -> dict[str, Any]:
        out_details: dict[str, Any] = {}
        for out in outputs:
            d = out.details(c)
            name = rules[d["order"]]
            out_details[name] = d
        return out_details

    if alive_idx is None and len(outputs) == 1 and outputs[0].page is not None:
        return _page_ranked(outputs[0], rules)
    keys: list[np.ndarray] = []
    for out in outputs:
        for key in out.key if isinstance(out.key, list) else [out.key]:
            keys.append(np.asarray(key) if alive_idx is None else np.asarray(key)[alive_idx])
    n = ties.docids.size
    if alive_idx is None:
        order = top_order(keys, need, ties)
    else:
        order = alive_idx[top_order(keys, need, Ties(ties.docids[alive_idx], ties.table))]
    score: np.ndarray | None = None  # None: all ones, made only where it is read
    in_unit = False  # ``score`` is known to lie in [0, 1]
    for out in reversed(outputs):
        if out.score is None:
            continue
        if _continuous(out.buckets):
            score = out.score.astype(np.float64, copy=False)  # copied below if out of range
            in_unit = out.in_unit
        else:
            bucket = np.floor(out.score * (out.buckets - 1) + 1e-9) / out.buckets
            below = np.ones(n, dtype=np.float64) if score is None else score
            score = bucket + below / out.buckets
            in_unit = False
    if score is None:
        final = np.ones(n, dtype=np.float64)
    elif in_unit or in_unit_range(score):
        # Already in range (a NaN fails the test): clip would copy it unchanged. At 1M
        # products a broad search's arrays of 800k candidates (6.4 MB each) outgrew the
        # 48 MiB its thread's malloc arena keeps at hand (sift.tasks.memory), and each
        # one past it was a fresh mapping faulted in page by page: 2-5k minor faults,
        # a third of its time ('iris t', in_stock = true). Read only from here on.
        final = score
    else:
        # The method np.clip calls, without its dispatch (a few µs of a short search).
        final = score.clip(0.0, 1.0)
    return Ranked(order, final, details)
