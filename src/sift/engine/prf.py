"""Pseudo-relevance feedback (RM3-style) with sparse matrix operations.

The best first-pass documents vote for the terms that describe them: each
feedback document contributes its length-normalised term frequencies, weighted
by its first-pass score, and rare terms are favoured by idf. The top terms form
a weighted expansion query scored with BM25 over every candidate; the result is
added to the first-pass score. Long, descriptive queries gain recall of
vocabulary the user did not type; short queries skip feedback (see callers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sift.engine.analysis import ENGLISH_STOP_WORDS
from sift.engine.store import Snapshot
from sift.engine.topk import largest_k

if TYPE_CHECKING:  # scipy is imported by the first feedback search only: feedback is
    from scipy import sparse  # off by default, and scipy.sparse is ~13 MiB of RSS


def doc_term_matrix(snap: Snapshot) -> sparse.csr_matrix:
    """Term counts, one row per internal docid (cached per snapshot)."""
    def build() -> sparse.csr_matrix:
        from scipy import sparse

        rows, cols = [], []
        for seg in snap.segments:
            rows.append(seg.docs)
            cols.append(np.repeat(np.arange(seg.term_ptr.size - 1, dtype=np.int64),
                                  np.diff(seg.term_ptr)))
        shape = (snap.alive.size, snap.n_terms)
        if not rows:
            return sparse.csr_matrix(shape, dtype=np.float32)
        r, c = np.concatenate(rows), np.concatenate(cols)
        m = sparse.csr_matrix((np.ones(r.size, dtype=np.float32), (r, c)), shape=shape)
        m.sum_duplicates()
        return m
    return snap.cached("doc_term", build)


def _stop_mask(snap: Snapshot) -> np.ndarray:
    def build() -> np.ndarray:
        words = snap.terms.strings(0, snap.n_terms)
        return np.fromiter((len(w) < 3 or w in ENGLISH_STOP_WORDS or w.isdigit()
                            for w in words), dtype=bool, count=len(words))
    return snap.cached("prf_stop", build)


def _doc_freq(snap: Snapshot) -> np.ndarray:
    def build() -> np.ndarray:
        m = doc_term_matrix(snap)
        alive_rows = m[snap.alive]
        return np.diff(alive_rows.tocsc().indptr).astype(np.float64)
    return snap.cached("prf_df", build)


def feedback_scores(snap: Snapshot, cands: np.ndarray, first_pass: np.ndarray, n_docs: int,
                    n_terms: int, exclude: np.ndarray, k1: float, b: float) -> np.ndarray:
    """Expansion-query BM25 score for each candidate (same order as ``cands``)."""
    from scipy import sparse

    if cands.size == 0 or n_docs <= 0:
        return np.zeros(cands.size)
    depth = min(n_docs, cands.size)
    top = largest_k(first_pass, depth)  # in candidate order: the sums below add alike
    m = doc_term_matrix(snap)
    fb = m[cands[top].astype(np.int64)]
    lengths = np.asarray(fb.sum(axis=1)).ravel()
    w = first_pass[top] / max(first_pass[top].max(), 1e-9)
    fb = sparse.diags(w / np.maximum(lengths, 1)) @ fb
    weights = np.asarray(fb.sum(axis=0)).ravel()
    df = _doc_freq(snap)
    n_alive = max(snap.n_alive, 1)
    idf = np.log1p((n_alive - df + 0.5) / (df + 0.5))
    weights = weights * idf
    weights[_stop_mask(snap)] = 0
    weights[exclude] = 0
    nz = np.nonzero(weights)[0]
    if nz.size == 0:
        return np.zeros(cands.size)
    # Stable: numpy's default argsort orders equal weights by a CPU-dependent SIMD
    # routine, and the cut and the summing order below follow this order.
    terms = nz[np.argsort(-weights[nz], kind="stable")[:n_terms]]
    qw = weights[terms] / weights[terms].sum()
    csc, doc_len, avg = _columns(snap)
    sub = csc[:, terms].tocoo()
    where = np.full(snap.alive.size, -1, dtype=np.int64)
    where[cands.astype(np.int64)] = np.arange(cands.size)
    row = where[sub.row]
    keep = row >= 0
    row, col, data = row[keep], sub.col[keep], sub.data[keep]
    tf = data / (1.0 - b + b * doc_len[sub.row[keep]] / avg)
    contrib = qw[col] * idf[terms][col] * tf / (k1 + tf)
    return np.bincount(row, weights=contrib, minlength=cands.size)


def _columns(snap: Snapshot) -> tuple[sparse.csc_matrix, np.ndarray, float]:
    """Column-major copy, per-document lengths and mean length (cached per snapshot)."""
    def build() -> tuple[sparse.csc_matrix, np.ndarray, float]:
        m = doc_term_matrix(snap)
        doc_len = np.asarray(m.sum(axis=1)).ravel()
        avg = max(float(doc_len[snap.alive].mean()) if snap.n_alive else 1.0, 1.0)
        return m.tocsc(), doc_len, avg
    return snap.cached("prf_columns", build)
