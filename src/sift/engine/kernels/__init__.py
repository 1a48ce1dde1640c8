"""Compiled inner loops of the search path (numba: ahead of time where kernels_aot.py built
them, else compiled on first use and cached on disk).

A 1-4-word query touches a few thousand to a few hundred thousand word occurrences.
Done as numpy expressions, each step (gather a term's rows, repeat its typo count and
weight, map docids to candidates, weigh by field, sum per candidate, count documents)
is its own pass over the data with its own temporary array; these kernels do each
stage in one pass and allocate only their results. They compute exactly what the
numpy formulation computes (same float32 products, same float64 summation order), so
scores are bit-for-bit unchanged. ``nogil``: concurrent searches run in parallel.

The kernels live in modules by concern (``compiling``, ``bits``, ``gather``,
``candidates``, ``phrases``, ``totals``, ``scoring``, ``proximity``, ``topk``,
``grams``, ``typos``, ``expansion``, ``facets``, ``segments``, ``analysis``, ``terms``; each says
why its kernels belong together); this package re-exports every name, so ``kernels.X``
and ``from sift.engine.kernels import X`` work as they did when the kernels were one
module. ``warm_up`` stays here: it calls each kernel through this namespace.
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.analysis import distinct_words
from sift.engine.kernels.bits import _packed_mask, _popcount, docid_bits
from sift.engine.kernels.candidates import (
    DENSE_CANDIDATES,
    MARKED_CANDIDATES,
    SPARSE_CANDIDATES,
    _add_frequencies,
    _sorted_distinct,
    candidate_index,
    candidates_and_frequencies,
    dense_candidates,
    gather_candidates,
    marked_candidates,
    term_frequencies,
)
from sift.engine.kernels.compiling import (
    _JIT_NAMESPACES,
    _JIT_VERSIONS,
    AHEAD,
    PYTHON,
    _jit,
    _jit_version,
    _JitOnFirstCall,
    compiled,
    log,
)
from sift.engine.kernels.expansion import (
    _first_not_before,
    expansion_table,
    fresh_entries,
    prefix_completions,
)
from sift.engine.kernels.facets import (
    _put,
    count_bits,
    count_multi_values,
    count_single_values,
    roaring_portable,
    value_bits,
)
from sift.engine.kernels.gather import (
    _copy_rows,
    _first_at_least,
    _row_count,
    gather_words,
    rows_of_docs,
)
from sift.engine.kernels.grams import (
    ANY_LENGTH,
    _counted_grams,
    shared_grams,
    typed_word_grams,
    typed_word_grams_any_first,
)
from sift.engine.kernels.phrases import (
    _mark_term_docs,
    _max_term_doc,
    _phrase_keys,
    _term_count,
    phrase_rows,
)
from sift.engine.kernels.proximity import (
    RADIX_BITS,
    _add_closest_pairs,
    _bit_width,
    _pair_bonus,
    _pair_rows,
    _radix_sorted,
    _ranked_pair_bonus,
    _subset_rows,
    add_pair_bonuses,
    add_proximity_bonus,
    proximity_costs,
    proximity_keys,
)
from sift.engine.kernels.scoring import (
    add_where_all,
    coded_sum,
    in_unit_range,
    reachable_rows,
    relevance_ranked,
    relevance_raw,
    saturated_sum,
)
from sift.engine.kernels.segments import copy_live_rows, live_rows_per_term, rows_by_term
from sift.engine.kernels.terms import term_insert, term_probe, term_slots
from sift.engine.kernels.topk import (
    BINNED_MAX_ROWS,
    LANES,
    TOP_BINS,
    _ranks_before,
    largest_rows,
    largest_rows_binned,
    put_first,
    take_ranked,
    top_by_key,
)
from sift.engine.kernels.totals import filter_totals, trailing_union
from sift.engine.kernels.typos import (
    SHORTLIST_LETTERS,
    _osa_bits,
    _osa_within,
    _row_bound,
    typed_word_hits,
    typed_word_shortlists,
    typo_hits,
)

# Every name kernels.py defined, the private ones too: tests and benchmarks reach
# them as kernels._jit_version, getattr(kernels, name) for each of kernels.PYTHON.
__all__ = [
    "AHEAD", "ANY_LENGTH", "BINNED_MAX_ROWS", "DENSE_CANDIDATES", "LANES", "MARKED_CANDIDATES",
    "PYTHON", "RADIX_BITS", "SHORTLIST_LETTERS", "SPARSE_CANDIDATES", "TOP_BINS", "_JIT_NAMESPACES",
    "_JIT_VERSIONS", "_JitOnFirstCall", "_add_closest_pairs", "_add_frequencies", "_bit_width",
    "_copy_rows", "_counted_grams", "_first_at_least", "_first_not_before", "_jit", "_jit_version",
    "_mark_term_docs", "_max_term_doc", "_osa_bits", "_osa_within", "_packed_mask", "_pair_bonus",
    "_pair_rows", "_phrase_keys", "_popcount", "_put", "_radix_sorted", "_ranked_pair_bonus",
    "_ranks_before", "_row_bound", "_row_count", "_sorted_distinct", "_subset_rows", "_term_count",
    "add_pair_bonuses", "add_proximity_bonus", "add_where_all", "candidate_index",
    "candidates_and_frequencies", "coded_sum", "compiled", "copy_live_rows", "count_bits",
    "count_multi_values", "count_single_values", "dense_candidates", "distinct_words", "docid_bits",
    "expansion_table", "filter_totals", "fresh_entries", "gather_candidates", "gather_words",
    "in_unit_range", "largest_rows", "largest_rows_binned", "live_rows_per_term", "log",
    "marked_candidates", "phrase_rows", "prefix_completions", "proximity_costs", "proximity_keys",
    "put_first", "reachable_rows", "relevance_ranked", "relevance_raw", "roaring_portable",
    "rows_by_term", "rows_of_docs", "saturated_sum", "shared_grams", "take_ranked",
    "term_frequencies", "term_insert", "term_probe", "term_slots", "top_by_key",
    "trailing_union", "typed_word_grams", "typed_word_grams_any_first", "typed_word_hits",
    "typed_word_shortlists",
    "typo_hits", "value_bits",
]


def warm_up() -> None:
    """Compile (or load from numba's on-disk cache) every kernel for the dtypes the
    engine passes, so that no search request pays for it: seconds on a fresh install,
    a few hundred ms with the cache."""
    u32, i64 = np.uint32, np.int64
    ptr = np.array([0, 1], i64)
    docs, fields, pos = np.zeros(1, u32), np.zeros(1, np.uint16), np.zeros(1, u32)
    yes = np.ones(1, np.bool_)
    cached_mask = np.ones(1, np.bool_)
    cached_mask.flags.writeable = False  # a filter's mask from the snapshot's cache
    ids = np.zeros(1, i64)
    for doc_mask in (yes, cached_mask):
        gather_words(ptr, docs, fields, pos, ptr, docs, fields, pos, ptr, ids,
                     np.zeros(1, np.int8), yes, np.ones(1, np.float32), doc_mask, yes, yes,
                     True, True, True)
    offsets = np.array([0, 1], i64)
    cands, index, _ = dense_candidates(docs, offsets, 1)
    marked_candidates(docs, offsets, 1)
    candidate_index(cands, docs, offsets, 1)
    weight = np.ones(1, np.float32)
    tf, _ = term_frequencies(index, docs, fields, weight, offsets, weight, 1, 1)
    candidates_and_frequencies(docs, fields, weight, offsets, 1, weight, 1, yes,
                               DENSE_CANDIDATES)
    for doc_mask in (yes, cached_mask):
        gather_candidates(ptr, docs, fields, pos, ptr, docs, fields, pos, ptr,
                          np.zeros((1, 4)), doc_mask, yes, yes, True, True, True, 1, 16, 4,
                          weight, 1, yes, yes)
    saturated_sum(tf, np.ones(1), 1.0)
    coded_sum(tf, np.ones(2), 1.0, np.zeros(1, np.uint16), np.ones(1))
    phrase_rows(ptr, docs, fields, pos, ptr, docs, fields, pos, np.zeros(2, i64), 20)
    rows_of_docs(ptr, docs, fields, pos, ids, np.zeros(1, np.int8), yes, weight, docs,
                 np.zeros(1, i64))
    largest_rows(np.zeros(2), 1)
    largest_rows_binned(np.zeros(2), 1)
    add_where_all(np.zeros(1), np.ones((1, 1), np.bool_), 1.0)
    for doc_mask in (yes, cached_mask):
        filter_totals(np.zeros(1, np.uint64), np.zeros(1, np.uint16), np.zeros(1), doc_mask)
        trailing_union(docs, offsets, fields, weight, weight, 1, np.zeros(1, np.uint64),
                       np.zeros(1, np.uint16), np.zeros(1), doc_mask)
    keys, n_fields = proximity_keys(index, fields, pos, index, fields, pos, yes, 20)
    proximity_costs(keys, 1, n_fields, 20, False)
    add_proximity_bonus(index, fields, pos, index, fields, pos, yes, np.zeros(1), 20, 1.0)
    add_pair_bonuses(np.zeros(1), np.zeros(1, i64), index, fields, pos, offsets,
                     np.zeros((1, 2), i64), np.ones(1), 1.0, 20)
    relevance_raw(tf, np.ones(1), 1.0, 1, index, fields, pos, offsets, np.zeros((1, 2), i64),
                  np.ones(1), 1.0, 20, np.ones((1, 1), np.bool_), 1.0, 1.0, 1)
    relevance_ranked(tf, np.ones(1), 1.0, 1, index, fields, pos, offsets,
                     np.zeros((1, 2), i64), np.ones(1), 1.0, 20, np.ones((1, 1), np.bool_), 1.0,
                     1.0, 1, docs, np.zeros(1, np.uint64), True)
    in_unit_range(np.zeros(1))
    lengths = np.ones(1, u32)
    shared_grams(docs, 1, 1, lengths, lengths, 0, 1, -1)
    typed_word_grams(docs, docs, 1, 1, lengths, lengths, 0, 1, 1)
    typed_word_grams_any_first(docs, docs, 1, 1, lengths, lengths, 0, 1, 1)
    top_by_key(np.zeros(2), 1, np.zeros(2, u32), np.zeros(1, np.uint64))
    put_first(np.zeros(1, i64), 2)
    take_ranked(np.zeros(1, i64), docs, np.zeros(1))
    # Docids as searches hold them (uint32): a facet count takes them without a copy.
    count_single_values(docs, np.zeros(1, np.int32), 1)
    count_multi_values(docs, ptr, np.zeros(1, i64), 1)
    count_bits(docid_bits(docs, 1), value_bits(np.zeros(1, i64), ptr, 1))
    roaring_portable(docs, 1)  # a range filter's docids, as Groups.slice passes them
    codes = np.zeros((1, 1), u32)
    for any_first in (False, True):
        typo_hits(docs, np.zeros(1, i64), np.zeros(1, i64), np.zeros(1, np.int32),
                  np.zeros((1, 8), np.uint16), codes, np.ones(1, i64), lengths, 1, any_first)
    typed_word_shortlists(np.zeros(SHORTLIST_LETTERS, u32), np.zeros(1, i64), codes,
                          np.ones(1, i64), docs, np.zeros(1, np.int32),
                          np.zeros((1, 8), np.uint16))
    typed_word_hits(np.zeros(SHORTLIST_LETTERS, u32), np.zeros(1, i64), codes, np.ones(1, i64),
                    lengths, docs, np.zeros(1, np.int32), np.zeros((1, 8), np.uint16))
    prefix_completions(docs, np.zeros(1, i64), codes, np.ones(1, i64), np.zeros(1, i64), 1,
                       -1)
    fresh_entries(np.zeros(1, i64), np.zeros(1, i64))
    f32 = np.ones(1, np.float32)
    expansion_table(0, 1.0, ids, 1.0, ids, 1.0, ids, np.zeros(1, np.int8), f32, ids,
                    np.zeros(1, np.int8), f32)
    rows_by_term(ids, docs, fields, pos, 1)
    counts = np.zeros(1, i64)
    live_rows_per_term(ptr, docs, yes, counts)
    copy_live_rows(ptr, docs, fields, pos, yes, counts, np.zeros(1, u32), np.zeros(1, np.uint16),
                   np.zeros(1, u32))
    # A batch's words: the bytes are a read-only buffer (np.frombuffer of bytes).
    distinct_words(np.frombuffer(b"a", dtype=np.uint8), np.zeros(1, i64), np.ones(1, i64), 1)
    # The term table (sift.engine.terms): slots int32, hashes int64, code rows uint32.
    hashes, codes = np.zeros(1, i64), np.zeros((1, 1), u32)
    slots = term_slots(hashes, 1, 2)
    term_insert(slots, hashes, 1, 1)
    term_probe(slots, hashes, codes, ids, 1, hashes, codes, ids, ids, ids, np.zeros(1, u32))
