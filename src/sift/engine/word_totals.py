"""A query word's totals per document, unfiltered, cached per snapshot: what a
one-word search of a one-letter prefix needs from its occurrences, without gathering
them.

A one-letter prefix ("a") expands to terms found in a large share of the documents (at
a million products, "a" has 585k occurrences in 430k documents), and a search gathered
every occurrence, listed the candidates and summed each one's BM25F term frequency:
most of its time, at every first keystroke, for the same 26-odd words. Under Sift's
default rules (`sort`, `relevance`: no bucket rule reads the occurrences, and one word
gets no proximity bonus) ranking needs of such a word only, per document holding it,
its term frequency and whether it holds a full-weight (>= 0.99) variant; a filter
removes whole documents, so these do not depend on it. They are built once per
snapshot for such a word, with the same gather and the same compiled sum, over every
document, and a search keeps the documents its filter passes: bit for bit the figures
the gathered path computes, as each document's occurrences are summed in the same
order (term after term of the word's expansion table, then posting order) whatever the
filter. Several-word
queries ending in such a letter take it the same way in an index of
``TRAILING_MIN_DOCS`` documents or more (trailing_word_features): the other words are
gathered alone and the union built from both; in a smaller index the union's pass
over every docid costs more than the gather it saves (docs/benchmarks.md).

Only one-letter words are kept, and only when dense (occurrences at least
``1 / SPARSE_RATIO`` of the documents); longer prefixes follow one another in typing
and are seldom asked twice while an index stays unchanged, where a build (a gather
over every document) costs a few searches. The task worker builds them once idle
(SearchIndex.warm_prefixes); otherwise the first search of such a word whose filter
keeps a quarter of the documents or more does. Term frequencies are kept as 16-bit
codes into the word's distinct values (a word with more distinct values than that is
gathered as before) and its documents as a bitset, in a bounded LRU per snapshot:
23 MB for the 32 densest letters and digits of a million products.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from itertools import pairwise

import numpy as np

from sift.engine.expand import QueryWord, best_split, term_table
from sift.engine.frozen import quick_init
from sift.engine.kernels import (
    docid_bits,
    filter_totals,
    rows_of_docs,
    term_frequencies,
    trailing_union,
)
from sift.engine.match import (
    SPARSE_RATIO,
    Features,
    MatchContext,
    Occurrences,
    gather,
    sorted_distinct,
)
from sift.engine.ranking import RelevanceParams, bm25f_key, field_weights
from sift.engine.store import LRU, Snapshot

FULL_WEIGHT = np.float32(0.99)  # as kernels.term_frequencies' df threshold
# Words this short are cached: one-letter prefixes. Two-letter ones, built on their
# first search, were a loss in the scale benchmark's mix (docs/benchmarks.md): each is
# typed once or twice per index version, and the build costs a few searches.
MAX_LETTERS = 1
CACHED_WORDS = 64  # per snapshot; a one-letter prefix at 1M documents takes ~3 MB
BUILD_SHARE = 4  # a search builds a word's totals when its filter keeps 1/4 of the documents
# Documents an index must hold before the last of several words takes its totals: in a
# smaller one, the union's pass over every docid and the bisection of each term's
# postings cost more than gathering its occurrences (the scale mix's several words
# ending in one letter, CPU p50: 10k products 0.94 -> 1.25 ms, 100k 2.43 -> 2.71, 1M
# 11.29 -> 9.37; measured with merge_candidates, before kernels.trailing_union built the
# union from bitsets, which was not measured below 1M).
TRAILING_MIN_DOCS = 200_000


@quick_init
@dataclass(frozen=True)
class WordTotals:
    """The documents holding the word, as a bitset over docids (``bits``: a dense word's
    documents take 1/8 byte per indexed document, where their docids took 4 bytes each),
    and per document, in docid order: its term frequency, ``values[codes[i] >> 1]``, and
    whether it holds a full-weight variant, ``codes[i] & 1``."""

    bits: np.ndarray  # uint64
    codes: np.ndarray  # uint16
    values: np.ndarray  # float64, distinct term frequencies

    @property
    def nbytes(self) -> int:
        return self.bits.nbytes + self.codes.nbytes + self.values.nbytes


def cacheable(word: QueryWord, snap: Snapshot, ctx: MatchContext) -> bool:
    """Whether the word's occurrences are its expansion terms' rows alone, unmasked by
    field or typo rules: no phrase, synonym phrase or split word (match._with_phrases)."""
    if word.phrase is not None or word.alt_phrases or not ctx.every_field or \
            not ctx.typos_everywhere:
        return False
    if ctx.splits and not word.any_exact and not word.known_elsewhere:
        return best_split(word.text, snap) is None
    return True


def one_word_features(words: list[QueryWord], snap: Snapshot, ctx: MatchContext,
                      relevance: RelevanceParams, field_rank: np.ndarray, n_ranks: int
                      ) -> Features | None:
    """The features of a one-word query from the word's cached totals; None when the
    query has several words, or its word no totals (the caller gathers as usual)."""
    if len(words) != 1 or len(words[0].text) > MAX_LETTERS or \
            not cacheable(words[0], snap, ctx):
        return None
    fields = field_weights(relevance, snap, None, field_rank, n_ranks)
    totals = _totals(words[0], snap, ctx, relevance, field_rank, n_ranks, fields)
    if totals is None:
        return None
    cands, tf, n_full, bits = filter_totals(totals.bits, totals.codes, totals.values,
                                            ctx.doc_mask)
    if cands.size == 0:
        return None  # nothing passes the filter: the usual path's empty answer
    feats = Features.of_totals(cands, tf, n_full if n_full else cands.size, field_rank)
    feats.bits = bits
    return feats


def trailing_word_features(words: list[QueryWord], snap: Snapshot, ctx: MatchContext,
                           relevance: RelevanceParams, field_rank: np.ndarray, n_ranks: int
                           ) -> tuple[list[Occurrences], Features] | None:
    """The occurrences and features of a several-word query whose last word has cached
    totals (a one-letter prefix: "iris t"), the other words gathered as usual; None when
    it has none (the caller gathers every word).

    The last word's candidates, term frequencies and df come from its totals, as for
    one word alone, and are merged with the other words' (their own candidates and
    term frequencies, computed as the gathered path computes them): every candidate's
    sums and every df are the gathered path's. Its occurrences are found only for the
    candidates that get the proximity bonus (``Features.fill_rows``), in its terms'
    postings, where a term's rows are sorted by docid: at a million products, "t"
    reaches 800k documents in 1.2M rows, which the usual path gathered, listed and
    summed for the 300 of them whose positions are read."""
    last = words[-1]
    if len(words) < 2 or len(last.text) > MAX_LETTERS or snap.n_alive < TRAILING_MIN_DOCS \
            or not cacheable(last, snap, ctx):
        return None
    fields = field_weights(relevance, snap, None, field_rank, n_ranks)
    totals = _totals(last, snap, ctx, relevance, field_rank, n_ranks, fields)
    if totals is None or totals.codes.size == 0:
        return None
    occs, flat = gather(words[:-1], snap, ctx)
    head = flat if flat is not None else Occurrences.concat(occs)
    offsets = np.cumsum([0, *(o.docs.size for o in occs)], dtype=np.int64)
    # The union, its term frequencies and matches in one kernel, from the last word's
    # bitset and the filter's mask: no candidate list of each part to merge.
    cands, at, tf, head_df, matched, last_tf, n_last, n_full, bits = trailing_union(
        head.docs, offsets, head.fields, head.weight, fields, snap.field_len.shape[0],
        totals.bits, totals.codes, totals.values, ctx.doc_mask)
    df = np.append(head_df, n_full if n_full else n_last)
    index = [*(at[a:b] for a, b in pairwise(offsets.tolist())), np.empty(0, np.int32)]
    occs = [*occs, Occurrences.empty()]
    feats = Features.of_parts(cands, matched, (tf, df), occs, index, field_rank)
    feats.bits = bits
    feats.coded_last = (last_tf, totals.values)
    # Not a closure over feats: a cycle would keep its candidate-sized arrays alive
    # until the garbage collector ran (each search's pages faulted in anew).
    feats.fill_rows = partial(_fill_last, word=last, snap=snap)
    return occs, feats


def _fill_last(feats: Features, rows: np.ndarray, word: QueryWord, snap: Snapshot) -> None:
    """The last word's occurrences in the candidates ``rows`` (ascending), and each
    one's candidate: from its terms' postings (kernels.rows_of_docs), term after term in
    each segment. No masking: every candidate passed the filter, and a word with totals
    has no field or typo rule that would drop a row (``cacheable``)."""
    _, ids, typos, exact, weight = term_table([word])
    docs = feats.cands[rows]
    parts: list[Occurrences] = []
    where: list[np.ndarray] = []
    for seg in snap.segments:
        *found, index = rows_of_docs(seg.term_ptr, seg.docs, seg.fields, seg.pos, ids, typos,
                                     exact, weight, docs, rows)
        if index.size:
            parts.append(Occurrences(*found))
            where.append(index)
    last = len(feats.occs) - 1
    feats.occs[last] = Occurrences.concat(parts)
    feats.index[last] = np.concatenate(where) if where else np.empty(0, np.int32)


def _totals(word: QueryWord, snap: Snapshot, ctx: MatchContext, relevance: RelevanceParams,
            field_rank: np.ndarray, n_ranks: int, fields: np.ndarray) -> WordTotals | None:
    """The word's cached totals, built if the word is short and dense and the search's
    filter keeps enough documents; None when it has none."""
    if len(word.text) > MAX_LETTERS:
        return None
    _, ids, typos, exact, weight = term_table([word])
    if _rows(ids, snap) * SPARSE_RATIO < snap.alive.size:
        return None
    key = (ids.tobytes(), typos.tobytes(), exact.tobytes(), weight.tobytes(),
           bm25f_key(relevance, field_rank, n_ranks))
    cache: LRU = snap.cached("word_totals", lambda: LRU(CACHED_WORDS))
    totals = cache.get(key)
    if totals is None:
        # Built over every document: a search whose filter keeps few of them is quicker
        # gathering its own (a brand of fifty), and leaves the build to another.
        if np.count_nonzero(ctx.doc_mask) * BUILD_SHARE < snap.alive.size:
            return None
        # False: not worth keeping (the word is gathered as before), remembered as such.
        totals = _build(word, snap, fields, field_rank) or False
        cache.put(key, totals)
    return totals or None


def _rows(ids: np.ndarray, snap: Snapshot) -> int:
    """Posting rows of the terms ``ids`` over every segment."""
    total = 0
    for seg in snap.segments:
        known = ids[ids < seg.term_ptr.size - 1]
        total += int((seg.term_ptr[known + 1] - seg.term_ptr[known]).sum())
    return total


def _build(word: QueryWord, snap: Snapshot, field_weight: np.ndarray,
           field_rank: np.ndarray) -> WordTotals | None:
    every_field = np.ones(max(len(snap.field_names), 1), dtype=bool)
    everything = MatchContext(snap.alive, every_field, every_field, splits=False,
                              every_doc=True)
    occs, flat = gather([word], snap, everything)
    feats = Features(occs, field_rank, snap.alive.size, flat)
    tf, _ = term_frequencies(feats.index_all, feats.docs, feats.joined("fields"),
                             feats.joined("weight"), feats.offsets, field_weight,
                             snap.field_len.shape[0], feats.cands.size)
    full = np.zeros(feats.cands.size, dtype=bool)
    full[feats.index_all[feats.joined("weight") >= FULL_WEIGHT]] = True
    values = sorted_distinct(tf[0])
    if values.size >= 1 << 15:
        return None  # past 16-bit codes: such a word is gathered as before
    codes = (np.searchsorted(values, tf[0]) << 1 | full).astype(np.uint16)
    bits = docid_bits(feats.cands, (snap.alive.size + 63) // 64)
    return WordTotals(bits, codes, values)


def dense_letters(snap: Snapshot, limit: int = CACHED_WORDS // 2) -> list[str]:
    """The first letters of the vocabulary's terms whose prefix is dense, most rows
    first (at most ``limit``): the one-letter searches worth building ahead of a
    visitor's first keystroke (SearchIndex.warm_prefixes)."""
    vocab = snap.vocabulary
    if vocab.n_terms == 0:
        return []
    per_term = np.zeros(snap.n_terms, dtype=np.int64)
    for seg in snap.segments:
        rows = np.diff(seg.term_ptr)[: snap.n_terms]
        per_term[: rows.size] += rows
    ends = np.concatenate(([0], np.cumsum(per_term[vocab.ids])))
    letters = np.unique(vocab.by_id.astype("<U1")).tolist()
    counts = []
    for letter in letters:
        lo, hi = vocab.prefix_range(letter)
        counts.append(int(ends[hi] - ends[lo]))
    dense = [(c, letter) for c, letter in zip(counts, letters, strict=True)
             if c * SPARSE_RATIO >= snap.alive.size]
    return [letter for _, letter in sorted(dense, key=lambda x: -x[0])[:limit]]
