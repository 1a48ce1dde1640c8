"""A search's candidates and their BM25F term frequencies.

From the gathered occurrences: the sorted distinct docids, each occurrence's candidate,
which words each candidate holds, and tf/df, by the three ways match.Features picks
between (SPARSE_CANDIDATES, MARKED_CANDIDATES, DENSE_CANDIDATES), alone or fused with
the gathering in one call (gather_candidates).
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.bits import _popcount
from sift.engine.kernels.compiling import compiled
from sift.engine.kernels.gather import gather_rows


@compiled
def candidate_index(cands, docs, offsets, n_docs):  # pragma: no cover - compiled
    """(index, matched): each occurrence's position in ``cands`` (sorted docids that
    include every value of ``docs``) and the [words, candidates] mask of words present
    in a candidate, word w's occurrences being ``docs[offsets[w]:offsets[w + 1]]``."""
    where = np.empty(n_docs, np.int32)  # only candidates' slots are ever read
    for c in range(cands.size):
        where[cands[c]] = c
    index = np.empty(docs.size, np.int32)
    for i in range(docs.size):
        index[i] = where[docs[i]]
    n_words = offsets.size - 1
    matched = np.zeros((n_words, cands.size), np.bool_)
    for w in range(n_words):
        for i in range(offsets[w], offsets[w + 1]):
            matched[w, index[i]] = True
    return index, matched


@compiled
def dense_candidates(docs, offsets, n_docs):  # pragma: no cover - compiled
    """The sorted distinct docids and what candidate_index returns, (cands, index,
    matched), in one pass over the docids instead of three: each docid is written as the
    next candidate and its slot as its candidate index, and the position advances only if
    it is marked.
    Written unconditionally: whether a docid is a candidate is unpredictable (a third of
    a million documents for a one-letter prefix), and a mispredicted branch per docid
    cost more than the writes (54 against 109 ms for 400k occurrences of 1M docids on
    the loaded shared VM). ``cands`` is a view of a buffer of at most one slot per
    occurrence."""
    mark = np.zeros(n_docs, np.bool_)
    for i in range(docs.size):
        mark[docs[i]] = True
    buffer = np.empty(min(n_docs, docs.size) + 1, np.uint32)
    where = np.empty(n_docs, np.int32)  # only candidates' slots are ever read
    count = 0
    for d in range(n_docs):
        buffer[count] = d
        where[d] = count
        count += mark[d]
    index = np.empty(docs.size, np.int32)
    for i in range(docs.size):
        index[i] = where[docs[i]]
    n_words = offsets.size - 1
    matched = np.zeros((n_words, count), np.bool_)
    for w in range(n_words):
        for i in range(offsets[w], offsets[w + 1]):
            matched[w, index[i]] = True
    return buffer[:count], index, matched


@compiled
def marked_candidates(docs, offsets, n_docs):  # pragma: no cover - compiled
    """What dense_candidates returns, (cands, index, matched), without a pass over every
    docid, for occurrences of a few percent of the documents: their docids are marked in
    a bitset (1/8 byte a document: 125 kB at a million, where dense_candidates' bool and
    int32 slot per docid take 5 MB), each 64-bit word's candidates before it are counted
    once, and an occurrence's candidate index is that count plus the marked bits below
    its docid in its word; each candidate is written at its index. For 164k occurrences
    of 1M docids 1.0 against 1.6-2.5 ms of dense_candidates; for 635k-720k (a one-letter
    prefix) 0-10 % slower than it, which keeps those (match.Features)."""
    n_words64 = (n_docs + 63) >> 6
    bits = np.zeros(n_words64, np.uint64)
    one = np.uint64(1)
    for i in range(docs.size):
        d = docs[i]
        bits[d >> 6] |= one << np.uint64(d & 63)
    before = np.empty(n_words64, np.int64)
    count = 0
    for w in range(n_words64):
        before[w] = count
        count += _popcount(bits[w])
    cands = np.empty(count, np.uint32)
    index = np.empty(docs.size, np.int32)
    for i in range(docs.size):
        d = docs[i]
        w = d >> 6
        c = before[w] + _popcount(bits[w] & ((one << np.uint64(d & 63)) - one))
        index[i] = c
        cands[c] = d
    n_words = offsets.size - 1
    matched = np.zeros((n_words, count), np.bool_)
    for w in range(n_words):
        for i in range(offsets[w], offsets[w + 1]):
            matched[w, index[i]] = True
    return cands, index, matched


@compiled
def _sorted_distinct(docs):  # pragma: no cover - compiled
    """match.sorted_distinct: the distinct values of ``docs``, ascending."""
    ordered = np.sort(docs)
    out = np.empty(ordered.size, np.uint32)
    k = 0
    for i in range(ordered.size):
        if i == 0 or ordered[i] != ordered[i - 1]:
            out[k] = ordered[i]
            k += 1
    return out[:k]


# candidates_and_frequencies' ways to the candidates, as match.Features picks them.
SPARSE_CANDIDATES = 0
MARKED_CANDIDATES = 1
DENSE_CANDIDATES = 2


@compiled
def candidates_and_frequencies(docs, fields, weight, offsets, n_docs, field_weight,
                               weight_docs, scored, way):  # pragma: no cover - compiled
    """(cands, index, matched, tf, df): a search's candidates as ``way`` finds them
    (SPARSE_CANDIDATES: sorted_distinct then candidate_index; MARKED_CANDIDATES:
    marked_candidates; DENSE_CANDIDATES: dense_candidates) and their term_frequencies
    (``field_weight`` of ``weight_docs`` documents a field), in one call where a search
    made two or three, and the same arrays. Sparse and dense candidates map a docid to
    its candidate through a docid-sized table: there one pass over the occurrences
    writes each one's candidate index and adds its term frequency, and ``matched`` is
    read off the words' hits, where the calls made three passes.

    A word not ``scored`` (one whose score weight is 0: a stop word, ranking's
    stop_weight 0) gets no term frequencies (its tf row stays 0) and as df the
    candidates holding it: what relevance_scores reads of such a word (whether its df
    is 0) is the same, and its idf times 0 adds 0 whatever its tf. Its occurrences (a
    search's "the", "of", "a": most of its rows) are only indexed and marked."""
    if way == MARKED_CANDIDATES:
        cands, index, matched = marked_candidates(docs, offsets, n_docs)
        n_words = offsets.size - 1
        tf = np.zeros((n_words, cands.size), np.float64)
        df = np.zeros(n_words, np.int64)
        for w in range(n_words):
            if scored[w]:  # term_frequencies of this word alone
                _add_frequencies(tf[w:w + 1], df[w:w + 1], index, docs, fields, weight,
                                 offsets[w:w + 2], field_weight, weight_docs)
            else:  # as the other ways leave such a word (its fields and weights unread)
                df[w] = np.count_nonzero(matched[w])
        return cands, index, matched, tf, df
    # Unsigned, as the docids: an index numba cannot prove non-negative gets a
    # wraparound fix-up (a shift, a mask and an add) at every use, about a sixth of
    # this kernel's time on a frequent word's rows (docs/benchmarks/engine-speed.md).
    where = np.empty(n_docs, np.uint32)  # only candidates' slots are ever read
    if way == SPARSE_CANDIDATES:
        cands = _sorted_distinct(docs)
        for c in range(cands.size):
            where[cands[c]] = c
    else:  # dense_candidates' table: every docid written, advancing past the marked
        mark = np.zeros(n_docs, np.bool_)
        for i in range(docs.size):
            mark[docs[i]] = True
        buffer = np.empty(min(n_docs, docs.size) + 1, np.uint32)
        count = 0
        for d in range(n_docs):
            buffer[count] = d
            where[d] = count
            count += mark[d]
        cands = buffer[:count]
    n_words = offsets.size - 1
    n_cands = cands.size
    index = np.empty(docs.size, np.int32)
    matched = np.zeros((n_words, n_cands), np.bool_)
    tf = np.zeros((n_words, n_cands), np.float64)
    df = np.zeros(n_words, np.int64)
    hit = np.zeros(n_cands, np.uint8)  # as _add_frequencies: bit 0 any, bit 1 full weight
    threshold = np.float32(0.99)
    stride = np.uint64(weight_docs)
    for w in range(n_words):
        if not scored[w]:
            present = matched[w]
            for i in range(offsets[w], offsets[w + 1]):
                c = where[np.uint64(docs[i])]
                index[i] = c
                present[c] = True
            df[w] = np.count_nonzero(present)
            continue
        row = tf[w]
        hit[:] = 0
        for i in range(offsets[w], offsets[w + 1]):
            d = np.uint64(docs[i])
            c = where[d]
            index[i] = c
            row[c] += weight[i] * field_weight[np.uint64(fields[i]) * stride + d]
            hit[c] |= np.uint8(1) | (np.uint8(weight[i] >= threshold) << np.uint8(1))
        present = matched[w]
        n_any = 0
        n_full = 0
        for c in range(n_cands):
            present[c] = (hit[c] & 1) != 0
            n_any += hit[c] & 1
            n_full += hit[c] >> 1
        df[w] = n_full if n_full > 0 else n_any
    return cands, index, matched, tf, df


@compiled
def gather_candidates(ptr_a, docs_a, fields_a, pos_a, ptr_b, docs_b, fields_b, pos_b,
                      word_ptr, table, doc_mask, field_ok, typo_ok, check_docs, check_fields,
                      check_typos, n_docs, sparse_ratio, marked_ratio, field_weight,
                      weight_docs, scored, copied):  # pragma: no cover - compiled
    """gather_words over the words' expansion rows ``table`` (expand.term_rows: per term
    its id, typos, exactness and weight, as float64), then candidates_and_frequencies of
    what it gathered, the way match.Features picks (SPARSE_CANDIDATES below ``n_docs /
    sparse_ratio`` occurrences, MARKED_CANDIDATES below ``n_docs / marked_ratio``, else
    DENSE_CANDIDATES): a search whose words are their terms' rows alone (no phrase, split
    or synonym phrase) in one call where it made two, without the table's four columns
    made from Python first. Returns gather_words' seven arrays, then
    candidates_and_frequencies' five (``scored``: its words that get term frequencies;
    ``copied``: its words whose rows get every column, gather_rows; a word not copied
    must not be scored, whose fields and weights would be read)."""
    n = table.shape[0]
    term_ids = np.empty(n, np.int64)
    t_typos = np.empty(n, np.int8)
    t_exact = np.empty(n, np.bool_)
    t_weight = np.empty(n, np.float32)
    for t in range(n):  # as numpy's astype of each column
        term_ids[t] = np.int64(table[t, 0])
        t_typos[t] = np.int8(table[t, 1])
        t_exact[t] = table[t, 2] != 0.0
        t_weight[t] = np.float32(table[t, 3])
    docs, fields, pos, typos, exact, weight, offsets = gather_rows(
        ptr_a, docs_a, fields_a, pos_a, ptr_b, docs_b, fields_b, pos_b, word_ptr, term_ids,
        t_typos, t_exact, t_weight, doc_mask, field_ok, typo_ok, check_docs, check_fields,
        check_typos, copied)
    occurrences = offsets[offsets.size - 1]
    way = SPARSE_CANDIDATES if occurrences * sparse_ratio < n_docs else \
        MARKED_CANDIDATES if occurrences * marked_ratio < n_docs else DENSE_CANDIDATES
    cands, index, matched, tf, df = candidates_and_frequencies(
        docs, fields, weight, offsets, n_docs, field_weight, weight_docs, scored, way)
    return docs, fields, pos, typos, exact, weight, offsets, cands, index, matched, tf, df


@compiled
def term_frequencies(index, docs, fields, weight, offsets, field_weight, n_docs, n_cands
                     ):  # pragma: no cover - compiled
    """(tf, df): BM25F term frequencies [words, candidates] and document frequencies.

    A word's tf in a candidate sums, over its occurrences, expansion weight x the
    (field, document) factor ``field_weight[field * n_docs + doc]`` (float32 products
    summed in float64 in occurrence order, as ``np.bincount``). Its df counts the
    candidates with a full-weight (>= 0.99: not a typo or prefix variant) occurrence, or
    with any occurrence when it has none at full weight.

    The factors are field-major (ranking.field_weights): a term's occurrences come in
    docid order and mostly in one field, so its reads walk one field's row (4 bytes a
    document) instead of every field's (4 bytes times the fields a document): at a
    million products with 7 fields, a seventh of the memory traffic per term."""
    n_words = offsets.size - 1
    tf = np.zeros((n_words, n_cands), np.float64)
    df = np.zeros(n_words, np.int64)
    _add_frequencies(tf, df, index, docs, fields, weight, offsets, field_weight, n_docs)
    return tf, df


@compiled
def _add_frequencies(tf, df, index, docs, fields, weight, offsets, field_weight, n_docs
                     ):  # pragma: no cover - compiled
    """term_frequencies into ``tf``'s first rows (zeros) and ``df``, one per word of
    ``offsets``. Branch-free per occurrence: whether an occurrence is a candidate's
    first for its word is unpredictable, and a mispredicted branch costs more than the
    extra pass over the (fewer) candidates that counts them."""
    n_words = offsets.size - 1
    n_cands = tf.shape[1]
    hit = np.zeros(n_cands, np.uint8)  # bit 0: any occurrence, bit 1: a full-weight one
    threshold = np.float32(0.99)
    stride = np.uint64(n_docs)
    for w in range(n_words):
        row = tf[w]
        hit[:] = 0
        for i in range(offsets[w], offsets[w + 1]):
            c = np.uint32(index[i])  # unsigned: no wraparound fix-up (candidates_and_...)
            d = np.uint64(docs[i])
            row[c] += weight[i] * field_weight[np.uint64(fields[i]) * stride + d]
            hit[c] |= np.uint8(1) | (np.uint8(weight[i] >= threshold) << np.uint8(1))
        n_any = 0
        n_full = 0
        for c in range(n_cands):
            n_any += hit[c] & 1
            n_full += hit[c] >> 1
        df[w] = n_full if n_full > 0 else n_any
