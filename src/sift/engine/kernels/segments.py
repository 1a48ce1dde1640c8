"""Building and merging segments (store.py).

A batch's rows ordered by term with a counting sort, and a merge's two passes over each
term's live rows.
"""

from __future__ import annotations

import numpy as np

from sift.engine.kernels.compiling import compiled


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
