"""Semantic and hybrid search over one lexical snapshot and one vector view.

The lexical engine does what it always does (query parsing, filters, tenant-token
filters, which the HTTP layer has already ANDed into ``params.filter``, ranking);
this module adds the semantic leg and the fusion, then hands the fused order back
to the engine's hit builder so highlighting, cropping and attribute selection are
the same for every kind of search. Filters restrict the semantic leg through the
same bitmap evaluation as the lexical one, so a filter or a tenant rule can never
let a semantic hit through that a lexical search would hide.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sift.engine.search import (
    Plan,
    build_hits,
    facets,
    filter_docids,
    pagination_fields,
    plan_search,
)
from sift.engine.store import Snapshot
from sift.semantic.fusion import FusionParams, effective_ratio, fuse
from sift.semantic.vectors import VectorView

if TYPE_CHECKING:
    from sift.engine.index import SearchIndex
    from sift.engine.query import SearchParams

DEFAULT_FUSION = FusionParams()


def row_docids(snap: Snapshot, view: VectorView, embedder: str) -> np.ndarray:
    """Internal docid of every vector row in this snapshot (-1: not a live document).

    Built once per (snapshot, vector version): the engine gives a replaced document a
    new internal docid, so the mapping goes through the external id."""

    # Snapshot.cached holds a non-reentrant lock while building: no nested cached() calls.
    ext_ids = snap.ext_ids
    to_int = snap.cached(
        "semantic:ext->int", lambda: {ext_ids[i]: i for i in np.nonzero(snap.alive)[0].tolist()}
    )
    return snap.cached(
        f"semantic:{embedder}:{view.version}",
        lambda: np.fromiter((to_int.get(i, -1) for i in view.ids), np.int64, len(view.ids)),
    )


def semantic_scores(
    snap: Snapshot, view: VectorView, embedder: str, query: np.ndarray
) -> np.ndarray:
    """Cosine per internal docid (-inf where a document has no vector)."""
    out = np.full(snap.alive.size, -np.inf, dtype=np.float64)
    if view.matrix.shape[0] == 0:
        return out
    q = np.asarray(query, dtype=np.float32)
    if q.shape[0] != view.matrix.shape[1]:
        from sift.errors import SiftError

        raise SiftError(
            f"Invalid vector dimensions: expected {view.matrix.shape[1]}, found {q.shape[0]}.",
            "invalid_search_vector",
        )
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    docids = row_docids(snap, view, embedder)
    ok = (docids >= 0) & view.alive
    scores = view.matrix @ q
    np.maximum.at(out, docids[ok], scores[ok].astype(np.float64))
    return out


def _top(values: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    ids = np.nonzero(mask)[0]
    if ids.size > k:
        ids = ids[np.argpartition(-values[ids], k - 1)[:k]]
    return ids[np.argsort(-values[ids], kind="stable")]


def run(
    index: SearchIndex,
    snap: Snapshot,
    params: SearchParams,
    view: VectorView,
    embedder: str,
    query_vector: np.ndarray | Callable[[], np.ndarray],
    ratio: float,
    fusion: FusionParams = DEFAULT_FUSION,
) -> dict[str, Any]:
    """A search response (Meilisearch's shape) plus ``semanticHitCount``.

    ``query_vector`` may be a callable (a future's result): the lexical leg runs first,
    so a query being embedded on another thread overlaps with it."""
    started = time.perf_counter()
    mask = snap.alive.copy()
    if params.filter is not None:
        mask[:] = False
        mask[filter_docids(index, snap, params.filter, "invalid_search_filter")] = True
    plan = Plan()
    lexical = np.zeros(snap.alive.size, dtype=np.float64)
    has_words = bool((params.q or "").strip())
    if ratio < 1.0 and has_words:
        plan = plan_search(index, snap, params)  # also validates sort, attributesToSearchOn
        lexical[plan.docids] = plan.scores
    vector = query_vector() if callable(query_vector) else query_vector
    semantic = semantic_scores(snap, view, embedder, vector)
    # Every candidate has both scores; see fusion.py.
    window = max(fusion.depth, params.offset + params.limit, _page_end(params))
    sem_ok = mask & np.isfinite(semantic)
    lex_top = plan.docids[:window].astype(np.int64) if has_words else np.empty(0, np.int64)
    sem_top = _top(semantic, sem_ok, window) if ratio > 0.0 or not has_words else lex_top[:0]
    cands = np.union1d(lex_top, sem_top)
    effective = ratio if has_words else 1.0
    if cands.size:
        sem_vals = np.where(np.isfinite(semantic[cands]), semantic[cands], -1.0)
        words = len((params.q or "").split())
        effective = effective_ratio(effective, lexical[lex_top], words, fusion)
        fused = fuse(lexical[cands], sem_vals, effective)
        order = np.argsort(-fused, kind="stable")
        cands, fused, sem_vals = cands[order], fused[order], sem_vals[order]
        # A hit is "semantic" when the semantic leg put it there: not a lexical candidate.
        from_semantic = ~np.isin(cands, lex_top)
    else:
        fused = np.empty(0)
        from_semantic = np.zeros(0, dtype=bool)
    scores = _ranking_scores(fused, sem_vals if cands.size else fused, effective)
    if params.ranking_score_threshold is not None:
        keep = scores >= params.ranking_score_threshold
        cands, scores, from_semantic = cands[keep], scores[keep], from_semantic[keep]
    hits_plan = Plan(
        words=plan.words, order=np.arange(cands.size), docids=cands.astype(np.uint32), scores=scores
    )
    total = cands.size if has_words and effective < 1.0 else int(sem_ok.sum())
    total = min(total, int(index.settings["pagination"]["maxTotalHits"]))
    start, count = _page(params)
    end = min(start + count, cands.size)
    hits = build_hits(index, snap, params, hits_plan, range(start, max(start, end)))
    body: dict[str, Any] = {"hits": hits, "query": params.q or ""}
    body.update(pagination_fields(params, total))
    if params.facets is not None:
        body.update(facets(index, cands.astype(np.uint32), params.facets))
    body["semanticHitCount"] = (
        int(from_semantic[start : max(start, end)].sum()) if effective < 1.0 else len(hits)
    )
    body["processingTimeMs"] = int((time.perf_counter() - started) * 1000)
    return body


def _ranking_scores(fused: np.ndarray, cosine: np.ndarray, ratio: float) -> np.ndarray:
    """`_rankingScore` in [0, 1]: the cosine for pure semantic search, a logistic of the
    fused standardised score otherwise (order-preserving, so thresholds stay meaningful)."""
    if fused.size == 0:
        return fused
    if ratio >= 1.0:
        return np.clip((cosine + 1.0) / 2.0, 0.0, 1.0)
    if ratio <= 0.0:
        return fused  # the lexical engine's own ranking score
    return 1.0 / (1.0 + np.exp(-fused))


def _page(params: SearchParams) -> tuple[int, int]:
    if params.paginated:
        per = params.hits_per_page if params.hits_per_page is not None else 20
        page = params.page if params.page is not None else 1
        return ((page - 1) * per, per) if page else (0, 0)
    return params.offset, params.limit


def _page_end(params: SearchParams) -> int:
    start, count = _page(params)
    return start + count
