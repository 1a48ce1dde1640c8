"""Compiled inner loops of the search path (numba: ahead of time where kernels_aot.py built
them, else compiled on first use and cached on disk).

A 1-4-word query touches a few thousand to a few hundred thousand word occurrences.
Done as numpy expressions, each step (gather a term's rows, repeat its typo count and
weight, map docids to candidates, weigh by field, sum per candidate, count documents)
is its own pass over the data with its own temporary array; these kernels do each
stage in one pass and allocate only their results. They compute exactly what the
numpy formulation computes (same float32 products, same float64 summation order), so
scores are bit-for-bit unchanged. ``nogil``: concurrent searches run in parallel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import FunctionType
from typing import Any

import numpy as np

from sift.engine import kernels_aot

log = logging.getLogger("sift.engine")

# Each kernel's Python function, by name: what numba (JIT or ahead of time) compiles.
PYTHON: dict[str, Callable[..., Any]] = {}
# The kernels compiled ahead of time, when built for this source (kernels_aot.py):
# then this process never imports numba.
AHEAD = kernels_aot.load()


def _jit(fn: Callable[..., Any]) -> Any:
    """``njit`` with the compiled code cached on disk; where numba finds no writable
    cache location (a read-only install, no home directory), compiled at every start."""
    from numba import njit

    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        log.warning("no writable numba cache for %s: compiling at every start "
                    "(set NUMBA_CACHE_DIR)", fn.__name__)
        return njit(nogil=True)(fn)


class _JitOnFirstCall:
    """numba's JIT version of a kernel in a process that loaded the ahead-of-time module:
    for a kernel the module does not export (one that only other kernels call), and for
    arguments of a kind it was not compiled for. Compiled if Python ever calls it, and
    only then."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.compiled: Any = None

    def __call__(self, *args: Any) -> Any:
        if self.compiled is None:
            self.compiled = _jit_version(self.name)
        return self.compiled(*args)


# The JIT's versions in a process that loaded the module, and the namespaces they are
# compiled in: copies of their modules' globals in which the kernels' names are bound to
# these versions (the modules bind them to the exported kernels, which compiled code
# cannot call).
_JIT_VERSIONS: dict[str, Any] = {}
_JIT_NAMESPACES: dict[str, dict[str, Any]] = {}


def _jit_version(name: str) -> Any:
    if name not in _JIT_VERSIONS:
        for kernel, fn in PYTHON.items():
            if kernel not in _JIT_VERSIONS:
                namespace = _JIT_NAMESPACES.setdefault(fn.__module__, dict(fn.__globals__))
                _JIT_VERSIONS[kernel] = _jit(FunctionType(
                    fn.__code__, namespace, kernel, fn.__defaults__, fn.__closure__))
        for namespace in _JIT_NAMESPACES.values():
            namespace.update({k: v for k, v in _JIT_VERSIONS.items() if k in namespace})
    return _JIT_VERSIONS[name]


def compiled(fn: Callable[..., Any]) -> Any:
    """The kernel from the ahead-of-time module when there is one (behind the check of
    its arguments, which hands any kind it was not compiled for to the JIT), else
    numba's JIT."""
    PYTHON[fn.__name__] = fn
    if AHEAD is None:
        return _jit(fn)
    jit = _JitOnFirstCall(fn.__name__)
    return AHEAD.kernel(fn.__name__, jit) or jit


@compiled
def _row_count(term_ptr, term_ids):  # pragma: no cover - compiled
    """Rows of ``term_ids`` in one segment (ids past its vocabulary have none)."""
    n_known = term_ptr.size - 1
    total = 0
    for t in range(term_ids.size):
        tid = term_ids[t]
        if tid < n_known:
            total += term_ptr[tid + 1] - term_ptr[tid]
    return total


@compiled
def _copy_rows(term_ptr, seg_docs, seg_fields, seg_pos, term_ids, t_typos, t_exact,
               t_weight, first, last, doc_mask, field_ok, typo_ok, check_docs, check_fields,
               check_typos, docs, fields, pos, typos, exact, weight, k):  # pragma: no cover
    """Append the rows of ``term_ids[first:last]`` in one segment at ``k``, term after
    term, each with its term's typo count, exactness and weight, keeping only rows whose
    document passes ``doc_mask`` (if ``check_docs``), whose field passes ``field_ok``
    (if ``check_fields``) and, for rows with typos, whose field allows typos (if
    ``check_typos``). Returns the new end.

    A term's typo count, exactness and weight are filled in once its kept rows are known,
    in a loop of constant stores that vectorizes: written beside each row in the loop
    that keeps rows (which cannot vectorize), they were half its stores (a one-letter
    prefix under a broad filter: 1.3M kept rows of 1.4M, 9.3 against 16.8 ms)."""
    n_known = term_ptr.size - 1
    for t in range(first, last):
        tid = term_ids[t]
        if tid >= n_known:
            continue
        lo, hi = term_ptr[tid], term_ptr[tid + 1]
        ty, ex, w = t_typos[t], t_exact[t], t_weight[t]
        field_check = check_fields or (check_typos and ty != 0)
        start = k
        if not check_docs and not field_check:
            # Block copy. Loops over slice views with plain indices vectorize; an offset
            # index (out[k + r] = src[lo + r]) or a slice assignment does not.
            src_d, src_f, src_p = seg_docs[lo:hi], seg_fields[lo:hi], seg_pos[lo:hi]
            end = k + hi - lo
            out_d, out_f, out_p = docs[k:end], fields[k:end], pos[k:end]
            for r in range(hi - lo):
                out_d[r] = src_d[r]
                out_f[r] = src_f[r]
                out_p[r] = src_p[r]
            k = end
        else:
            allowed = field_ok if check_fields else typo_ok
            for r in range(lo, hi):
                # Written unconditionally, kept by advancing k: whether a row passes is
                # unpredictable, and a mispredicted branch costs more than the writes.
                d = seg_docs[r]
                f = seg_fields[r]
                keep = True
                if check_docs:
                    keep = doc_mask[d]
                if field_check:
                    keep = keep & allowed[f] & (typo_ok[f] | (ty == 0) | (not check_typos))
                docs[k] = d
                fields[k] = f
                pos[k] = seg_pos[r]
                k += keep
        out_t, out_e, out_w = typos[start:k], exact[start:k], weight[start:k]
        for r in range(k - start):
            out_t[r] = ty
            out_e[r] = ex
            out_w[r] = w
    return k


@compiled
def gather_words(ptr_a, docs_a, fields_a, pos_a, ptr_b, docs_b, fields_b, pos_b, word_ptr,
                 term_ids, t_typos, t_exact, t_weight, doc_mask, field_ok, typo_ok,
                 check_docs, check_fields, check_typos):  # pragma: no cover - compiled
    """Every query word's rows in two segments (a, then b), in one buffer: word w's
    terms are ``term_ids[word_ptr[w]:word_ptr[w + 1]]``, its rows ``[offsets[w],
    offsets[w + 1])`` of the returned (docs, fields, pos, typos, exact, weight,
    offsets), segment a's before b's, term after term in each (see _copy_rows for
    what is kept). One call per search instead of one per word and segment plus the
    copies that joined their results."""
    total = _row_count(ptr_a, term_ids) + _row_count(ptr_b, term_ids)
    docs = np.empty(total, np.uint32)
    fields = np.empty(total, np.uint16)
    pos = np.empty(total, np.uint32)
    typos = np.empty(total, np.int8)
    exact = np.empty(total, np.bool_)
    weight = np.empty(total, np.float32)
    n_words = word_ptr.size - 1
    offsets = np.zeros(n_words + 1, np.int64)
    k = 0
    for w in range(n_words):
        first, last = word_ptr[w], word_ptr[w + 1]
        k = _copy_rows(ptr_a, docs_a, fields_a, pos_a, term_ids, t_typos, t_exact, t_weight,
                       first, last, doc_mask, field_ok, typo_ok, check_docs, check_fields,
                       check_typos, docs, fields, pos, typos, exact, weight, k)
        k = _copy_rows(ptr_b, docs_b, fields_b, pos_b, term_ids, t_typos, t_exact, t_weight,
                       first, last, doc_mask, field_ok, typo_ok, check_docs, check_fields,
                       check_typos, docs, fields, pos, typos, exact, weight, k)
        offsets[w + 1] = k
    return docs[:k], fields[:k], pos[:k], typos[:k], exact[:k], weight[:k], offsets


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
def _popcount(x):  # pragma: no cover - compiled
    """Set bits of a uint64 (branch-free SWAR count, as count_bits)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


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
                               weight_docs, way):  # pragma: no cover - compiled
    """(cands, index, matched, tf, df): a search's candidates as ``way`` finds them
    (SPARSE_CANDIDATES: sorted_distinct then candidate_index; MARKED_CANDIDATES:
    marked_candidates; DENSE_CANDIDATES: dense_candidates) and their term_frequencies
    (``field_weight`` of ``weight_docs`` documents a field), in one call where a search
    made two or three, and the same arrays. Sparse and dense candidates map a docid to
    its candidate through a docid-sized table: there one pass over the occurrences
    writes each one's candidate index and adds its term frequency, and ``matched`` is
    read off the words' hits, where the calls made three passes."""
    if way == MARKED_CANDIDATES:
        cands, index, matched = marked_candidates(docs, offsets, n_docs)
        tf, df = term_frequencies(index, docs, fields, weight, offsets, field_weight,
                                  weight_docs, cands.size)
        return cands, index, matched, tf, df
    where = np.empty(n_docs, np.int32)  # only candidates' slots are ever read
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
    for w in range(n_words):
        row = tf[w]
        hit[:] = 0
        for i in range(offsets[w], offsets[w + 1]):
            c = where[docs[i]]
            index[i] = c
            row[c] += weight[i] * field_weight[np.int64(fields[i]) * weight_docs + docs[i]]
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
                      weight_docs):  # pragma: no cover - compiled
    """gather_words over the words' expansion rows ``table`` (expand.term_rows: per term
    its id, typos, exactness and weight, as float64), then candidates_and_frequencies of
    what it gathered, the way match.Features picks (SPARSE_CANDIDATES below ``n_docs /
    sparse_ratio`` occurrences, MARKED_CANDIDATES below ``n_docs / marked_ratio``, else
    DENSE_CANDIDATES): a search whose words are their terms' rows alone (no phrase, split
    or synonym phrase) in one call where it made two, without the table's four columns
    made from Python first. Returns gather_words' seven arrays, then
    candidates_and_frequencies' five."""
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
    docs, fields, pos, typos, exact, weight, offsets = gather_words(
        ptr_a, docs_a, fields_a, pos_a, ptr_b, docs_b, fields_b, pos_b, word_ptr, term_ids,
        t_typos, t_exact, t_weight, doc_mask, field_ok, typo_ok, check_docs, check_fields,
        check_typos)
    occurrences = offsets[offsets.size - 1]
    way = SPARSE_CANDIDATES if occurrences * sparse_ratio < n_docs else \
        MARKED_CANDIDATES if occurrences * marked_ratio < n_docs else DENSE_CANDIDATES
    cands, index, matched, tf, df = candidates_and_frequencies(
        docs, fields, weight, offsets, n_docs, field_weight, weight_docs, way)
    return docs, fields, pos, typos, exact, weight, offsets, cands, index, matched, tf, df


@compiled
def _first_at_least(values, lo, hi, d):  # pragma: no cover - compiled
    """The first position in ``values[lo:hi]`` (sorted) whose value is >= ``d``, or hi."""
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < d:
            lo = mid + 1
        else:
            hi = mid
    return lo


@compiled
def _term_count(term_ptr, tid):  # pragma: no cover - compiled
    """Rows of term ``tid`` in one segment (an id past its vocabulary has none)."""
    return term_ptr[tid + 1] - term_ptr[tid] if tid < term_ptr.size - 1 else 0


@compiled
def _phrase_keys(term_ptr, seg_docs, seg_fields, seg_pos, tid, pos_bits, keys, k
                 ):  # pragma: no cover - compiled
    """Write the (doc, field, position) key of each of term ``tid``'s rows in one segment
    at ``keys[k:]``, as match._keys packs them; returns the new end."""
    if tid < term_ptr.size - 1:
        for r in range(term_ptr[tid], term_ptr[tid + 1]):
            keys[k] = ((np.int64(seg_docs[r]) << 16 | np.int64(seg_fields[r])) << pos_bits
                       ) | np.int64(seg_pos[r])
            k += 1
    return k


@compiled
def _mark_term_docs(term_ptr, seg_docs, tid, mark):  # pragma: no cover - compiled
    if tid < term_ptr.size - 1:
        for r in range(term_ptr[tid], term_ptr[tid + 1]):
            mark[seg_docs[r]] = True


@compiled
def _max_term_doc(term_ptr, seg_docs, tid, top):  # pragma: no cover - compiled
    if tid < term_ptr.size - 1:
        for r in range(term_ptr[tid], term_ptr[tid + 1]):
            top = max(top, np.int64(seg_docs[r]))
    return top


@compiled
def phrase_rows(ptr_a, docs_a, fields_a, pos_a, ptr_b, docs_b, fields_b, pos_b, term_ids,
                pos_bits):  # pragma: no cover - compiled
    """(docs, fields, pos) of the rows of ``term_ids[0]`` (segment a's, then b's) that
    the other terms follow at the next positions in the same field, in that order: what
    match._phrase_occurrences finds with numpy (each row's key, match._keys, plus the
    word's place, a member of the next word's keys), in one call where it made ~25 (a
    word being typed that splits in two, "de cre", spent ~50-100 µs on them to find
    nothing). Empty when a term has no row. A row of the first term is looked up in a
    word's sorted keys, its key made, only when its document holds that word ("in cr":
    32,731 rows of "in", 20 of "cr")."""
    n_words = term_ids.size
    for w in range(n_words):
        if _term_count(ptr_a, term_ids[w]) + _term_count(ptr_b, term_ids[w]) == 0:
            return docs_a[:0].copy(), fields_a[:0].copy(), pos_a[:0].copy()
    first = term_ids[0]
    n_a = _term_count(ptr_a, first)
    n = n_a + _term_count(ptr_b, first)
    lo_a = ptr_a[first] if n_a else 0
    lo_b = ptr_b[first] if n > n_a else 0
    keep = np.ones(n, np.bool_)
    for w in range(1, n_words):
        tid = term_ids[w]
        size = _term_count(ptr_a, tid) + _term_count(ptr_b, tid)
        pool = np.empty(size, np.int64)
        end = _phrase_keys(ptr_a, docs_a, fields_a, pos_a, tid, pos_bits, pool, 0)
        _phrase_keys(ptr_b, docs_b, fields_b, pos_b, tid, pos_bits, pool, end)
        pool = np.sort(pool)
        top = _max_term_doc(ptr_b, docs_b, tid, _max_term_doc(ptr_a, docs_a, tid, -1))
        mark = np.zeros(top + 1, np.bool_)
        _mark_term_docs(ptr_a, docs_a, tid, mark)
        _mark_term_docs(ptr_b, docs_b, tid, mark)
        for i in range(n):
            if not keep[i]:
                continue
            in_a = i < n_a
            r = lo_a + i if in_a else lo_b + i - n_a
            d = np.int64(docs_a[r]) if in_a else np.int64(docs_b[r])
            if d > top or not mark[d]:
                keep[i] = False
                continue
            f = np.int64(fields_a[r]) if in_a else np.int64(fields_b[r])
            p = np.int64(pos_a[r]) if in_a else np.int64(pos_b[r])
            value = (((d << 16 | f) << pos_bits) | p) + w
            at = np.searchsorted(pool, value)
            keep[i] = at < size and pool[at] == value
    kept = 0
    for i in range(n):
        kept += keep[i]
    docs = np.empty(kept, docs_a.dtype)
    fields = np.empty(kept, fields_a.dtype)
    pos = np.empty(kept, pos_a.dtype)
    k = 0
    for i in range(n):
        if keep[i]:
            if i < n_a:
                docs[k], fields[k], pos[k] = docs_a[lo_a + i], fields_a[lo_a + i], pos_a[lo_a + i]
            else:
                r = lo_b + i - n_a
                docs[k], fields[k], pos[k] = docs_b[r], fields_b[r], pos_b[r]
            k += 1
    return docs, fields, pos


@compiled
def rows_of_docs(term_ptr, seg_docs, seg_fields, seg_pos, term_ids, t_typos, t_exact,
                 t_weight, docs, rows):  # pragma: no cover - compiled
    """The occurrences of the terms ``term_ids`` in one segment that lie in the
    documents ``docs`` (sorted, distinct), term after term, document after document:
    (docs, fields, pos, typos, exact, weight, index), ``index`` being ``rows[j]`` for an
    occurrence in ``docs[j]``. A term's rows are sorted by docid: each document's run is
    found by bisecting what is left of them, once, and its bounds kept for the copy
    (word_totals.trailing_word_features, for the 300 candidates that get the proximity
    bonus)."""
    n_known = term_ptr.size - 1
    # Run bounds per (term, document); an unknown term's runs stay empty.
    starts = np.zeros((term_ids.size, docs.size), np.int64)
    ends = np.zeros((term_ids.size, docs.size), np.int64)
    total = 0
    for t in range(term_ids.size):
        tid = term_ids[t]
        if tid >= n_known:
            continue
        at, hi = term_ptr[tid], term_ptr[tid + 1]
        for j in range(docs.size):
            at = _first_at_least(seg_docs, at, hi, docs[j])
            starts[t, j] = at
            while at < hi and seg_docs[at] == docs[j]:
                at += 1
            ends[t, j] = at
            total += at - starts[t, j]
    out_docs = np.empty(total, np.uint32)
    fields = np.empty(total, np.uint16)
    pos = np.empty(total, np.uint32)
    typos = np.empty(total, np.int8)
    exact = np.empty(total, np.bool_)
    weight = np.empty(total, np.float32)
    index = np.empty(total, np.int32)
    k = 0
    for t in range(term_ids.size):
        for j in range(docs.size):
            for r in range(starts[t, j], ends[t, j]):
                out_docs[k] = seg_docs[r]
                fields[k] = seg_fields[r]
                pos[k] = seg_pos[r]
                typos[k] = t_typos[t]
                exact[k] = t_exact[t]
                weight[k] = t_weight[t]
                index[k] = rows[j]
                k += 1
    return out_docs, fields, pos, typos, exact, weight, index


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
    for w in range(n_words):
        row = tf[w]
        hit[:] = 0
        for i in range(offsets[w], offsets[w + 1]):
            c = index[i]
            row[c] += weight[i] * field_weight[np.int64(fields[i]) * n_docs + docs[i]]
            hit[c] |= np.uint8(1) | (np.uint8(weight[i] >= threshold) << np.uint8(1))
        n_any = 0
        n_full = 0
        for c in range(n_cands):
            n_any += hit[c] & 1
            n_full += hit[c] >> 1
        df[w] = n_full if n_full > 0 else n_any


@compiled
def _packed_mask(mask, n_words):  # pragma: no cover - compiled
    """A bool array as a bitset of ``n_words`` 64-bit words (bit b of word w: mask[64w +
    b]; past its end, 0). Eight bools at a time: each is a byte 0 or 1, and multiplying
    their eight bytes, read as one little-endian integer, by 0x0102040810204080 brings
    byte j's bit to bit 56 + j (no carry: each sum of products sets a distinct bit)."""
    out = np.zeros(n_words, np.uint64)
    full = min(mask.size // 64, n_words)
    eights = mask[: full * 64].view(np.uint8).view(np.uint64)
    magic = np.uint64(0x0102040810204080)
    for w in range(full):
        m = np.uint64(0)
        for j in range(8):
            m |= ((eights[w * 8 + j] * magic) >> np.uint64(56)) << np.uint64(8 * j)
        out[w] = m
    for d in range(full * 64, min(mask.size, n_words * 64)):
        out[d >> 6] |= np.uint64(mask[d]) << np.uint64(d & 63)
    return out


@compiled
def trailing_union(docs, offsets, fields, weight, field_weight, n_docs, bits, codes, values,
                   doc_mask):  # pragma: no cover - compiled
    """(cands, index, tf, df, matched, last, n_last, n_full, union) of a several-word
    query whose last word comes from its cached totals (word_totals.
    trailing_word_features), from the other words' occurrences (``docs``, ``fields``,
    ``weight``, word w's at ``offsets[w]:offsets[w + 1]``, already filtered) and the
    last word's documents (``bits``, a bitset over docids whose i-th set bit has
    ``codes[i]``, as filter_totals reads them; ``codes`` not empty) that pass
    ``doc_mask``. ``cands``: the sorted union of their documents; ``index``: each
    occurrence's candidate; ``tf`` [other words, candidates] and ``df``: the other
    words' as term_frequencies gives them (``field_weight`` and ``n_docs`` as there);
    ``matched`` [words, candidates]: theirs as candidate_index gives them, and the last
    word's; ``last``: per candidate the last word's term frequency as an index into
    ``values`` (``code >> 1``), or ``values.size`` where it is absent (tf 0.0:
    coded_sum reads it so, without a float row for it); ``n_last`` and ``n_full``: the
    last word's documents passing the filter and those of them with a full-weight
    variant; ``union``: the candidates as a bitset like ``bits`` (what a facet count
    intersects).

    The union is built as bitsets, 64 documents a word: the filter packed into a word,
    ANDed with the last word's and ORed with the occurrences' marks, each word's
    candidates before it counted once; then its candidates are written position after
    position up to the word's highest set bit, unconditionally (a position that is not
    a candidate is overwritten by the next that is): which documents are candidates is
    unpredictable. What filter_totals, marked_candidates and merge_candidates did in
    candidate-sized passes, copies and docid-sized temporaries."""
    n_words64 = bits.size
    one = np.uint64(1)
    zero = np.uint64(0)
    union = np.zeros(n_words64, np.uint64)
    for i in range(docs.size):
        d = docs[i]
        union[d >> 6] |= one << np.uint64(d & 63)
    kept = np.empty(n_words64, np.uint64)
    before = np.empty(n_words64, np.int64)
    count = 0
    n_last = 0
    packed = _packed_mask(doc_mask, n_words64)
    for w in range(n_words64):
        k = bits[w] & packed[w]
        kept[w] = k
        union[w] |= k
        before[w] = count
        count += _popcount(union[w])
        n_last += _popcount(k)
    n_head = offsets.size - 1
    cands = np.empty(count, np.uint32)
    tf = np.zeros((n_head, count), np.float64)
    # The last word's row is written whole below: only the others start from zero.
    matched = np.empty((n_head + 1, count), np.bool_)
    matched[:n_head] = False
    last = np.empty(count, np.uint16)
    last_hit = matched[n_head]
    absent = np.int64(values.size)
    n_codes = codes.size
    at = 0  # the last word's documents before this word: its first code's index
    n_full = 0
    for w in range(n_words64):
        u = union[w]
        x = bits[w]
        k = kept[w]
        c = before[w]
        i = at
        for b in range(64):
            s = np.uint64(b)
            if (u >> s) == zero:
                break
            code = np.int64(codes[min(i, n_codes - 1)])
            present = np.int64((k >> s) & one)
            cands[c] = w * 64 + b
            last[c] = np.uint16(present * (code >> 1) + (1 - present) * absent)
            last_hit[c] = present
            n_full += present & code
            i += np.int64((x >> s) & one)
            c += np.int64((u >> s) & one)
        at += _popcount(x)
    index = np.empty(docs.size, np.int32)
    for j in range(docs.size):
        d = docs[j]
        w = d >> 6
        index[j] = before[w] + _popcount(union[w] & ((one << np.uint64(d & 63)) - one))
    for h in range(n_head):
        hit = matched[h]
        for j in range(offsets[h], offsets[h + 1]):
            hit[index[j]] = True
    df = np.zeros(n_head, np.int64)
    _add_frequencies(tf, df, index, docs, fields, weight, offsets, field_weight, n_docs)
    return cands, index, tf, df, matched, last, n_last, n_full, union


@compiled
def filter_totals(bits, codes, values, doc_mask):  # pragma: no cover - compiled
    """(cands, tf, n_full, kept): the documents of a word's cached totals (word_totals.py)
    that pass ``doc_mask``, each one's term frequency ``values[codes[i] >> 1]``, and how
    many of them hold a full-weight variant (``codes[i] & 1``); the word's documents are
    the set bits of ``bits`` (docid ``64 * w + b`` is bit b of word w), the i-th of them
    in docid order has ``codes[i]``. ``kept``: the documents kept, as a bitset like
    ``bits`` (what a facet count intersects).

    The filter is packed into 64-bit words first (_packed_mask) and ANDed with the
    word's, so only the kept documents are visited: each as the lowest set bit of what is
    left of its word, numbered among the word's documents by counting the bits below it
    (a document the filter drops costs nothing, where each one read its mask byte and
    was written and overwritten: 1.8 -> 1.3 ms for `t` under `in_stock = true` at 1M)."""
    n = codes.size
    cands = np.empty(n, np.uint32)
    tf = np.empty(n, np.float64)
    kept = _packed_mask(doc_mask, bits.size)
    one = np.uint64(1)
    zero = np.uint64(0)
    k = 0
    at = 0  # the word's documents in the words before: the first code's index
    n_full = 0
    for w in range(bits.size):
        x = bits[w]
        left = x & kept[w]
        kept[w] = left
        base = np.int64(w) * 64
        while left != zero:
            low = left & (~left + one)
            below = low - one
            code = np.int64(codes[at + _popcount(x & below)])
            cands[k] = base + _popcount(below)
            tf[k] = values[code >> 1]
            n_full += code & 1
            k += 1
            left ^= low
        at += _popcount(x)
    return cands[:k], tf[:k], n_full, kept


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
        keep = subset[index[i]]
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



@compiled
def relevance_raw(tf, idfs, k1, depth, index, fields, pos, offsets, pairs, pair_weights,
                  weight, pos_bits, matched, all_words_bonus, max_score
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
    NaN score leaves the cut to the caller (topk.smallest_k places it)."""
    raw = saturated_sum(tf, idfs, k1)
    n = raw.size
    if depth > 0 and n > 0:
        if depth < n:
            top = largest_rows_binned(raw, depth)
            if top.size == 0:
                return raw, raw, False, False
        else:
            top = np.arange(n)
        add_pair_bonuses(raw, top, index, fields, pos, offsets, pairs, pair_weights, weight,
                         pos_bits)
    # add_where_all's rows ANDed; its sums made in the pass below.
    bonus = all_words_bonus != 0.0
    every = np.ones(n if bonus else 0, np.bool_)
    if bonus:
        for w in range(matched.shape[0]):
            row = matched[w]
            for c in range(n):
                every[c] &= row[c]
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
                     weight, pos_bits, matched, all_words_bonus, max_score, need, cands, tie
                     ):  # pragma: no cover - compiled
    """relevance_raw, then the page's order and rows where the relevance rule alone ranks:
    for ``0 < need < cands.size`` and every score in [0, 1], top_by_key(key, need, cands,
    tie) (ranking.top_order's single-key cut) and take_ranked(order, cands, score) (the
    ranked docids and scores pipeline.lexical takes), in this call instead of two more.
    (key, score, in_unit, done) as relevance_raw returns them, then (order, docids,
    scores): empty when not cut here (the caller orders the candidates as before)."""
    key, score, in_unit, done = relevance_raw(tf, idfs, k1, depth, index, fields, pos,
                                              offsets, pairs, pair_weights, weight,
                                              pos_bits, matched, all_words_bonus, max_score)
    order = np.empty(0, np.int64)
    docids = np.empty(0, cands.dtype)
    ranked = np.empty(0, np.float64)
    if done and in_unit and 0 < need < key.size:
        order = top_by_key(key, need, cands, tie)
        if order.size:
            docids, ranked = take_ranked(order, cands, score)
    return key, score, in_unit, done, order, docids, ranked


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


# A length bound no term reaches: the completions of a typed word have any length.
ANY_LENGTH = 1 << 30


@compiled
def shared_grams(ids, n_terms, need, lengths, firsts, min_len, max_len, first
                 ):  # pragma: no cover - compiled
    """Sorted term ids occurring at least ``need`` times in ``ids`` (the concatenated
    posting lists of a word's bigrams) whose length is within ``[min_len, max_len]`` and,
    unless ``first`` < 0, whose first letter is ``first``: the q-gram count filter
    without a vocabulary-sized scan. A term is taken when its count reaches ``need``,
    in the one pass that counts (a second pass over the ids to pick them was ~5 µs of
    a word's ~22)."""
    counts = np.zeros(n_terms, np.uint16)
    return np.sort(_counted_grams(ids, counts, need, lengths, firsts, min_len, max_len, first))


@compiled
def _counted_grams(ids, counts, need, lengths, firsts, min_len, max_len, first
                   ):  # pragma: no cover - compiled
    """The count of shared_grams and typed_word_grams: adds ``ids`` to ``counts`` and
    returns, in the order they got there, the terms whose count reached ``need`` and
    that pass the length and first-letter tests."""
    out = np.empty(ids.size, np.int64)
    k = 0
    for i in range(ids.size):
        t = ids[i]
        c = counts[t] + 1
        counts[t] = c
        if c == need and min_len <= lengths[t] <= max_len and (first < 0 or firsts[t] == first):
            out[k] = t
            k += 1
    return out[:k]


@compiled
def typed_word_grams(ids, ends, n_terms, need, lengths, firsts, min_len, max_len, first
                     ):  # pragma: no cover - compiled
    """shared_grams of a word being typed, both ways its typos are searched, in one count:
    (its own shortlist, its completions' shortlist), sorted. ``ids``: the concatenated
    postings of the bigrams of ``^word`` (a prefix's); ``ends``: the posting of its last
    letter's end bigram (``x$``), which the whole word's bigrams add to those. The
    completions' shortlist is shared_grams(ids, n_terms, need, ..., min_len, any length,
    first); the word's, shared_grams over ``ids`` and ``ends`` with ``need + 1`` and
    ``[min_len, max_len]``: every term of it counts at least ``need`` in ``ids`` and
    passes the same length and letter tests, so it is among the completions' shortlist,
    read once more with the end bigram's counts added; the two counts of the same
    postings were two calls."""
    counts = np.zeros(n_terms, np.uint16)
    heads = np.sort(_counted_grams(ids, counts, need, lengths, firsts, min_len, ANY_LENGTH,
                                   first))
    k = heads.size
    for i in range(ends.size):
        counts[ends[i]] += 1
    word = np.empty(k, np.int64)
    j = 0
    for i in range(k):
        t = heads[i]
        if counts[t] > need and lengths[t] <= max_len:
            word[j] = t
            j += 1
    return word[:j], heads


@compiled
def typo_hits(word, ids, codes, lengths, firsts, budget, prefix, any_first
              ):  # pragma: no cover - compiled
    """The terms of ``ids`` within ``budget`` typos of ``word`` (code points), in the order
    of ``ids``, and each one's typos; the word itself (no typo) left out. Typos are the
    optimal-string-alignment distance (adjacent transpositions count one edit), with
    ``prefix`` to the closest of the term's first n - 1, n and n + 1 letters (n: the
    word's length; a shorter term whole), plus one when ``any_first`` and the term's first
    letter (``firsts``) is not the word's. Terms are rows of ``codes`` (code points) by
    term id, ``lengths[id]`` letters long. The distance and the filter of expand.py's
    numpy formulation in one call: a new word's typo search made ~8 numpy calls more."""
    n = word.size
    width = codes.shape[1] + 2
    prev2 = np.empty(width, np.int32)
    prev = np.empty(width, np.int32)
    cur = np.empty(width, np.int32)
    found = np.empty(ids.size, np.int64)
    typos = np.empty(ids.size, np.int8)
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
    k = 0
    for i in range(ids.size):
        t = ids[i]
        # Another first letter costs a typo: the term must be within one fewer edits.
        extra = 1 if any_first and n > 0 and firsts[t] != word[0] else 0
        b = budget - extra
        if b < 0:
            continue
        full = lengths[t]
        m = min(full, n + 1) if prefix else full
        if not prefix and abs(m - n) > b:
            continue
        if bits:
            d = min(_osa_bits(ascii_masks, others[:n_others], other_masks, n, codes[t], m,
                              full, prefix), b + 1) + extra
        else:
            d = _osa_within(word, codes[t], n, m, full, b, prefix, prev2, prev, cur) + extra
        if 0 < d <= budget:
            found[k] = t
            typos[k] = d
            k += 1
    return found[:k], typos[:k]


@compiled
def _osa_bits(ascii_masks, others, other_masks, n, term, m, full, prefix
              ):  # pragma: no cover - compiled
    """The OSA distance of typo_hits from a word of ``n`` letters (1 to 64, given as
    each letter's positions: bit masks) to ``term[:m]`` (prefix: its closest cut), not
    capped: the DP table's columns as bit vectors of vertical differences (Myers' 1999
    bit-parallel edit distance with Hyyrö's 2003 transposition term), one column a
    letter of the term in a few word-wide operations instead of a cell at a time."""
    one = np.uint64(1)
    top = one << np.uint64(n - 1)
    vp = ~np.uint64(0)  # column 0: every vertical difference +1 (D[i][0] = i)
    vn = np.uint64(0)
    d0 = np.uint64(0)
    eq_before = np.uint64(0)
    score = n  # D[n][j]
    cuts = (min(max(n - 1, 1), full), min(n, full), min(n + 1, full))
    best = n if prefix and full == 0 else 1 << 30
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
        if prefix and (j + 1 == cuts[0] or j + 1 == cuts[1] or j + 1 == cuts[2]):
            best = min(best, score)
    return best if prefix else score


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


@compiled
def count_single_values(docs, codes, n_values):  # pragma: no cover - compiled
    """Candidates per value of a field with at most one value per document: ``codes[d]``
    is docid d's value index (-1: none; docids past its end have none). One pass over
    the candidates, no temporaries: at a million documents np.bincount over a gather
    cost several ms of a facet count."""
    counts = np.zeros(n_values, np.int64)
    n_codes = codes.size
    for i in range(docs.size):
        d = docs[i]
        if d < n_codes:
            c = codes[d]
            if c >= 0:
                counts[c] += 1
    return counts


@compiled
def count_multi_values(docs, ptr, value_index, n_values):  # pragma: no cover - compiled
    """Candidates per value of a field with several values per document: docid d's value
    indexes are ``value_index[ptr[d]:ptr[d + 1]]``, each distinct (CSR by docid)."""
    counts = np.zeros(n_values, np.int64)
    n_docs = ptr.size - 1
    for i in range(docs.size):
        d = docs[i]
        if d < n_docs:
            for r in range(ptr[d], ptr[d + 1]):
                counts[value_index[r]] += 1
    return counts


@compiled
def docid_bits(docs, n_words):  # pragma: no cover - compiled
    """A bitset of ``docs`` over ``n_words`` 64-bit words (docids past its end left out)."""
    words = np.zeros(n_words, np.uint64)
    limit = n_words * 64
    for i in range(docs.size):
        d = docs[i]
        if d < limit:
            words[d >> 6] |= np.uint64(1) << np.uint64(d & 63)
    return words


@compiled
def roaring_portable(docs, n_words):  # pragma: no cover - compiled
    """``docs`` (any order, each below ``n_words * 64``) as a roaring bitmap in CRoaring's
    portable serialization, which ``BitMap.deserialize`` reads with a copy per
    container: a range filter's docids come grouped by value, and sorting half a
    million of them for ``BitMap``'s constructor took ~15 ms (this: under one).
    The layout, without run containers: cookie 12346 and the container count (uint32
    each); per container its high 16 bits and cardinality - 1 (uint16 each); per
    container the offset of its data (uint32); then the data: a container of at most
    4096 docids as its sorted low 16 bits (uint16 each), a larger one as a bitset of
    1024 words. Little-endian throughout, as x86 and ARM store it."""
    words = np.zeros(n_words, np.uint64)
    for i in range(docs.size):
        d = docs[i]
        words[d >> 6] |= np.uint64(1) << np.uint64(d & 63)
    n_chunks = (n_words + 1023) >> 10
    cards = np.zeros(n_chunks, np.int64)
    for w in range(n_words):
        cards[w >> 10] += _popcount(words[w])
    size = 0
    data = 0
    for c in range(n_chunks):
        if cards[c]:
            size += 1
            data += 2 * cards[c] if cards[c] <= 4096 else 8192
    out = np.zeros(8 + 8 * size + data, np.uint8)
    _put(out, 0, 12346, 4)
    _put(out, 4, size, 4)
    at = 8 + 8 * size  # where the next container's data goes
    k = 0
    for c in range(n_chunks):
        card = cards[c]
        if not card:
            continue
        _put(out, 8 + 4 * k, c, 2)
        _put(out, 10 + 4 * k, card - 1, 2)
        _put(out, 8 + 4 * size + 4 * k, at, 4)
        k += 1
        last = min(n_words, (c + 1) << 10)
        if card > 4096:
            for w in range(c << 10, last):
                _put(out, at + 8 * (w - (c << 10)), words[w], 8)
            at += 8192
            continue
        for w in range(c << 10, last):
            x = words[w]
            while x:
                low = x & (~x + np.uint64(1))  # the lowest set bit
                _put(out, at, ((w & 1023) << 6) + _popcount(low - np.uint64(1)), 2)
                at += 2
                x ^= low
    return out


@compiled
def _put(out, at, value, width):  # pragma: no cover - compiled
    """``value``'s ``width`` low bytes at ``out[at:]``, least significant first."""
    v = np.uint64(value)
    for b in range(width):
        out[at + b] = np.uint8(v & np.uint64(255))
        v >>= np.uint64(8)


@compiled
def value_bits(ids, offsets, n_words):  # pragma: no cover - compiled
    """One bitset per value (rows of a [values, n_words] array): value v's docids are
    ``ids[offsets[v]:offsets[v + 1]]``, each below ``n_words * 64``."""
    n_values = offsets.size - 1
    bits = np.zeros((n_values, n_words), np.uint64)
    for v in range(n_values):
        row = bits[v]
        for r in range(offsets[v], offsets[v + 1]):
            d = ids[r]
            row[d >> 6] |= np.uint64(1) << np.uint64(d & 63)
    return bits


@compiled
def count_bits(words, bits):  # pragma: no cover - compiled
    """Per row of ``bits``, the docids it shares with ``words`` (popcount of the AND over
    the words both cover). Branch-free bit counting, which the loop vectorizes."""
    n_values = bits.shape[0]
    n_words = min(words.size, bits.shape[1])
    counts = np.zeros(n_values, np.int64)
    m1 = np.uint64(0x5555555555555555)
    m2 = np.uint64(0x3333333333333333)
    m4 = np.uint64(0x0F0F0F0F0F0F0F0F)
    h01 = np.uint64(0x0101010101010101)
    for v in range(n_values):
        row = bits[v]
        total = np.uint64(0)
        for w in range(n_words):
            x = words[w] & row[w]
            x = x - ((x >> np.uint64(1)) & m1)
            x = (x & m2) + ((x >> np.uint64(2)) & m2)
            x = (x + (x >> np.uint64(4))) & m4
            total += (x * h01) >> np.uint64(56)
        counts[v] = total
    return counts


@compiled
def rows_by_term(terms, docs, fields, pos, n_terms):  # pragma: no cover - compiled
    """``np.lexsort((pos, fields, docs, terms))`` for rows already in (doc, field, pos)
    order, as a batch's rows come: then a stable counting sort on the term alone gives the
    same order in O(rows + terms). An empty order when the rows are not in that order
    (the caller sorts them itself)."""
    n = terms.size
    for i in range(1, n):
        if docs[i - 1] != docs[i]:
            if docs[i - 1] > docs[i]:
                return np.empty(0, np.int64)
        elif fields[i - 1] != fields[i]:
            if fields[i - 1] > fields[i]:
                return np.empty(0, np.int64)
        elif pos[i - 1] > pos[i]:
            return np.empty(0, np.int64)
    first = np.zeros(n_terms + 1, np.int64)  # each term's first place in the order
    for i in range(n):
        first[terms[i] + 1] += 1
    for t in range(n_terms):
        first[t + 1] += first[t]
    order = np.empty(n, np.int64)
    for i in range(n):
        t = terms[i]
        order[first[t]] = i
        first[t] += 1
    return order


@compiled
def live_rows_per_term(term_ptr, docs, alive, counts):  # pragma: no cover - compiled
    """Adds to ``counts[t]`` the rows of term ``t`` (``term_ptr``'s) whose document is
    ``alive``; returns the rows added. A merge's first pass, without a temporary."""
    added = 0
    for t in range(term_ptr.size - 1):
        n = 0
        for r in range(term_ptr[t], term_ptr[t + 1]):
            if alive[docs[r]]:
                n += 1
        counts[t] += n
        added += n
    return added


@compiled
def copy_live_rows(term_ptr, docs, fields, pos, alive, free, out_docs, out_fields, out_pos
                   ):  # pragma: no cover - compiled
    """A merge's second pass: each term's live rows, in their order, to the merged arrays
    from ``free[t]`` on (advanced past them); returns the rows copied."""
    copied = 0
    for t in range(term_ptr.size - 1):
        k = free[t]
        for r in range(term_ptr[t], term_ptr[t + 1]):
            d = docs[r]
            if alive[d]:
                out_docs[k] = d
                out_fields[k] = fields[r]
                out_pos[k] = pos[r]
                k += 1
        copied += k - free[t]
        free[t] = k
    return copied


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
    candidates_and_frequencies(docs, fields, weight, offsets, 1, weight, 1, DENSE_CANDIDATES)
    for doc_mask in (yes, cached_mask):
        gather_candidates(ptr, docs, fields, pos, ptr, docs, fields, pos, ptr,
                          np.zeros((1, 4)), doc_mask, yes, yes, True, True, True, 1, 16, 4,
                          weight, 1)
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
                  np.ones(1), 1.0, 20, np.ones((1, 1), np.bool_), 1.0, 1.0)
    relevance_ranked(tf, np.ones(1), 1.0, 1, index, fields, pos, offsets,
                     np.zeros((1, 2), i64), np.ones(1), 1.0, 20, np.ones((1, 1), np.bool_), 1.0,
                     1.0, 1, docs, np.zeros(1, np.uint64))
    in_unit_range(np.zeros(1))
    lengths = np.ones(1, u32)
    shared_grams(docs, 1, 1, lengths, lengths, 0, 1, -1)
    typed_word_grams(docs, docs, 1, 1, lengths, lengths, 0, 1, 1)
    top_by_key(np.zeros(2), 1, np.zeros(2, u32), np.zeros(1, np.uint64))
    put_first(np.zeros(1, i64), 2)
    take_ranked(np.zeros(1, i64), docs, np.zeros(1))
    # Docids as searches hold them (uint32): a facet count takes them without a copy.
    count_single_values(docs, np.zeros(1, np.int32), 1)
    count_multi_values(docs, ptr, np.zeros(1, i64), 1)
    count_bits(docid_bits(docs, 1), value_bits(np.zeros(1, i64), ptr, 1))
    roaring_portable(docs, 1)  # a range filter's docids, as Groups.slice passes them
    codes = np.zeros((1, 1), u32)
    for prefix in (False, True):
        typo_hits(docs, np.zeros(1, i64), codes, np.ones(1, i64), lengths, 1, prefix, not prefix)
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
