"""A query's occurrences gathered from the segments' postings.

Each term's rows (docid, field, position) are copied with its typo count, exactness and
weight, kept or dropped by the filter's document mask and the fields' rules: every word
of a search into one buffer (gather_words), or only the rows in given documents
(rows_of_docs: the trailing word's, for the candidates that get the proximity bonus).
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled


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
               check_typos, docs, fields, pos, typos, exact, weight, k, full
               ):  # pragma: no cover - compiled
    """Append the rows of ``term_ids[first:last]`` in one segment at ``k``, term after
    term, each with its term's typo count, exactness and weight, keeping only rows whose
    document passes ``doc_mask`` (if ``check_docs``), whose field passes ``field_ok``
    (if ``check_fields``) and, for rows with typos, whose field allows typos (if
    ``check_typos``). Returns the new end. Not ``full``: an unmasked row's docid alone is
    written (its other columns are left as they are: what gather_rows says of them).

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
            if full:
                for r in range(hi - lo):
                    out_d[r] = src_d[r]
                    out_f[r] = src_f[r]
                    out_p[r] = src_p[r]
            else:
                for r in range(hi - lo):
                    out_d[r] = src_d[r]
            k = end
            if not full:
                continue
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
    return gather_rows(ptr_a, docs_a, fields_a, pos_a, ptr_b, docs_b, fields_b, pos_b,
                       word_ptr, term_ids, t_typos, t_exact, t_weight, doc_mask, field_ok,
                       typo_ok, check_docs, check_fields, check_typos,
                       np.ones(word_ptr.size - 1, np.bool_))


@compiled
def gather_rows(ptr_a, docs_a, fields_a, pos_a, ptr_b, docs_b, fields_b, pos_b, word_ptr,
                term_ids, t_typos, t_exact, t_weight, doc_mask, field_ok, typo_ok, check_docs,
                check_fields, check_typos, copied):  # pragma: no cover - compiled
    """gather_words, where the rows of a word not ``copied`` (one whose occurrences only
    make candidates: a stop word under the relevance rule alone, which is in no word
    pair) get their docids alone: their other five columns are whatever the buffer held,
    and nothing may read them. Where they come from the postings unmasked (the common
    unfiltered search), a fifth of the bytes a row is written ("the": 58k rows)."""
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
                       check_typos, docs, fields, pos, typos, exact, weight, k, copied[w])
        k = _copy_rows(ptr_b, docs_b, fields_b, pos_b, term_ids, t_typos, t_exact, t_weight,
                       first, last, doc_mask, field_ok, typo_ok, check_docs, check_fields,
                       check_typos, docs, fields, pos, typos, exact, weight, k, copied[w])
        offsets[w + 1] = k
    return docs[:k], fields[:k], pos[:k], typos[:k], exact[:k], weight[:k], offsets


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
