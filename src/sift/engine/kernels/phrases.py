"""Phrase matching through the terms' position keys.

The rows of a phrase's first term that its other terms follow at the next positions of
the same field (quoted parts, multi-word synonyms, split words): one call where numpy
made some twenty-five.
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled


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
