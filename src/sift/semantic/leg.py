"""The semantic leg of a search: the best documents by cosine to the query's vector,
over one embedder's vectors (exact or HNSW, filters exact).

The HTTP side builds a :class:`VectorLeg` per request and passes it to
``sift.engine.pipeline.search``, which asks it for candidates and cosines and does
the fusion, paging, hits and facets itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sift.engine.store import Snapshot
from sift.errors import SiftError
from sift.semantic.fusion import FusionParams
from sift.semantic.vectors import VectorView, dots
from sift.semantic.vectors import search as vector_search

log = logging.getLogger("sift.semantic")

DEFAULT_FUSION = FusionParams()


def row_docids(snap: Snapshot, view: VectorView, embedder: str) -> np.ndarray:
    """Internal docid of every vector row in this snapshot (-1: not a live document).

    Built once per (snapshot, vector version): the engine gives a replaced document a
    new internal docid, so the mapping goes through the external id."""

    def by_ext() -> dict[str, int]:
        names = list(snap.ext_ids)  # made in one pass (a docid's id is made when asked for)
        return {names[i]: i for i in np.nonzero(snap.alive)[0].tolist()}

    to_int = snap.cached("semantic:ext->int", by_ext)
    return snap.cached(
        f"semantic:{embedder}:{view.version}",
        lambda: np.fromiter((to_int.get(i, -1) for i in view.ids), np.int64, len(view.ids)),
    )


@dataclass(frozen=True)
class _DocRows:
    """Vector rows grouped by internal docid (CSR): rows[start[d]:start[d + 1]]."""

    rows: np.ndarray
    start: np.ndarray
    has_vector: np.ndarray  # bool per internal docid


def _doc_rows(snap: Snapshot, view: VectorView, embedder: str) -> _DocRows:
    docids = row_docids(snap, view, embedder)

    def build() -> _DocRows:
        ok = np.nonzero((docids >= 0) & view.alive)[0]
        order = ok[np.argsort(docids[ok], kind="stable")]
        counts = np.bincount(docids[order], minlength=snap.alive.size)
        start = np.zeros(snap.alive.size + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
        return _DocRows(order, start, counts > 0)

    return snap.cached(f"semantic-rows:{embedder}:{view.version}", build)


def _check_dimensions(view: VectorView, query: np.ndarray) -> np.ndarray:
    q = np.asarray(query, dtype=np.float32)
    if view.matrix.shape[0] and q.shape[0] != view.matrix.shape[1]:
        raise SiftError(
            f"Invalid vector dimensions: expected {view.matrix.shape[1]}, found {q.shape[0]}.",
            "invalid_search_vector",
        )
    return q / max(float(np.linalg.norm(q)), 1e-12)


def _cosines(view: VectorView, rows: _DocRows, q: np.ndarray, docids: np.ndarray) -> np.ndarray:
    """Best cosine of each document over its vectors (-inf: it has none)."""
    out = np.full(docids.size, -np.inf, dtype=np.float64)
    if docids.size == 0:
        return out
    starts, ends = rows.start[docids], rows.start[docids + 1]
    counts = ends - starts
    if counts.size and counts.max(initial=0) <= 1:  # the usual case: one vector each
        have = np.nonzero(counts)[0]
        out[have] = dots(view.matrix[rows.rows[starts[have]]], q)
        return out
    for i in np.nonzero(counts)[0].tolist():
        out[i] = float(dots(view.matrix[rows.rows[starts[i] : ends[i]]], q).max())
    return out


def _semantic_top(
    snap: Snapshot,
    view: VectorView,
    embedder: str,
    q: np.ndarray,
    mask: np.ndarray | None,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` internal docids by cosine among ``mask`` (None: every live document),
    through the vector index (exact or HNSW, filters exact): (docids, cosines)."""
    docids = row_docids(snap, view, embedder)
    allowed = docids >= 0
    if mask is not None:
        allowed &= mask[np.maximum(docids, 0)]
    rows, scores = vector_search(view, q, k, allowed)
    return docids[rows], scores.astype(np.float64)


class VectorLeg:
    """One request's semantic leg (``sift.engine.pipeline.vectors.VectorLeg``).

    ``query`` is the query's vector, a callable that returns it (a future's result: the
    query is embedded on another thread while the keyword leg runs), or None when the
    embedder cannot embed this query (a keyword search answers)."""

    def __init__(
        self,
        view: VectorView,
        embedder: str,
        query: np.ndarray | Callable[[], np.ndarray] | None,
        ratio: float,
        fusion: FusionParams = DEFAULT_FUSION,
    ) -> None:
        self.view = view
        self.embedder = embedder
        self.query = query
        self.ratio = ratio
        self.fusion = fusion
        self._vector: np.ndarray | None = None
        self._rows: _DocRows | None = None

    @property
    def has_query(self) -> bool:
        return self.query is not None

    @property
    def depth(self) -> int:
        return self.fusion.depth

    def embed(self) -> bool:
        query = self.query
        assert query is not None
        try:
            vector = query() if callable(query) else query
        except SiftError as error:
            if error.code != "vector_embedding_error":
                raise
            log.warning("query embedding failed; answering with keyword search")
            return False
        self._vector = _check_dimensions(self.view, vector)
        return True

    def top(self, snap: Snapshot, mask: np.ndarray | None, k: int) -> np.ndarray:
        assert self._vector is not None
        docids, _ = _semantic_top(snap, self.view, self.embedder, self._vector, mask, k)
        return docids

    def cosines(self, snap: Snapshot, docids: np.ndarray) -> np.ndarray:
        assert self._vector is not None
        return _cosines(self.view, self._doc_rows(snap), self._vector, docids)

    def count(self, snap: Snapshot, mask: np.ndarray | None) -> int:
        allowed = self._doc_rows(snap).has_vector & snap.alive
        return int(np.count_nonzero(allowed if mask is None else allowed & mask))

    def _doc_rows(self, snap: Snapshot) -> _DocRows:
        if self._rows is None:  # one snapshot per search: looked up once
            self._rows = _doc_rows(snap, self.view, self.embedder)
        return self._rows
