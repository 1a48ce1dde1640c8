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

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sift.engine.ranking import CUSTOM_RULE
from sift.engine.search import (
    Plan,
    _sort_entries,
    _sort_key_fn,
    build_hits,
    facets,
    filter_mask,
    pagination_fields,
    plan_search,
)
from sift.engine.settings import BUILTIN_RULES
from sift.engine.store import Snapshot
from sift.semantic.fusion import FusionParams, effective_ratio, fuse
from sift.semantic.vectors import VectorView, dots
from sift.semantic.vectors import search as vector_search

if TYPE_CHECKING:
    from sift.engine.index import SearchIndex
    from sift.engine.query import SearchParams

DEFAULT_FUSION = FusionParams()


def row_docids(snap: Snapshot, view: VectorView, embedder: str) -> np.ndarray:
    """Internal docid of every vector row in this snapshot (-1: not a live document).

    Built once per (snapshot, vector version): the engine gives a replaced document a
    new internal docid, so the mapping goes through the external id."""

    ext_ids = snap.ext_ids
    to_int = snap.cached(
        "semantic:ext->int", lambda: {ext_ids[i]: i for i in np.nonzero(snap.alive)[0].tolist()}
    )
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
        from sift.errors import SiftError

        raise SiftError(
            f"Invalid vector dimensions: expected {view.matrix.shape[1]}, found {q.shape[0]}.",
            "invalid_search_vector",
        )
    return q / max(float(np.linalg.norm(q)), 1e-12)


def semantic_scores(
    snap: Snapshot, view: VectorView, embedder: str, query: np.ndarray
) -> np.ndarray:
    """Cosine per internal docid (-inf where a document has no vector): every row, for
    callers that want them all (hybrid search scores only its candidates)."""
    out = np.full(snap.alive.size, -np.inf, dtype=np.float64)
    if view.matrix.shape[0] == 0:
        return out
    q = _check_dimensions(view, query)
    docids = row_docids(snap, view, embedder)
    ok = (docids >= 0) & view.alive
    scores = dots(view.matrix, q)
    np.maximum.at(out, docids[ok], scores[ok].astype(np.float64))
    return out


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
    so a query being embedded on another thread overlaps with it.

    ``sort`` (and custom ``attr:asc`` ranking rules) order the fused candidates at the
    position of their rule in ``rankingRules``: before the relevance rules they decide
    and the fused score breaks ties; after them they only break the fused score's
    ties. The candidates themselves are the most relevant of each leg either way."""
    started = time.perf_counter()
    sort, geo = _sort_entries(index, params)  # validates `sort` even for pure semantic
    # The lexical leg's cached mask: the filter is evaluated once per snapshot, not per leg.
    mask = filter_mask(index, snap, params.filter) if params.filter is not None else None
    window = max(fusion.depth, params.offset + params.limit, _page_end(params))
    plan = Plan()
    has_words = bool((params.q or "").strip())
    if ratio < 1.0 and has_words:
        # Relevance order for the lexical candidates: `sort` applies over the fused list.
        lexical_params = dataclasses.replace(params, sort=None) if params.sort else params
        plan = plan_search(index, snap, lexical_params, need=window)
    vector = query_vector() if callable(query_vector) else query_vector
    q = _check_dimensions(view, vector)
    lex_top = plan.docids[:window].astype(np.int64) if has_words else np.empty(0, np.int64)
    if ratio > 0.0 or not has_words:
        sem_top, _ = _semantic_top(snap, view, embedder, q, mask, window)
    else:
        sem_top = lex_top[:0]
    cands = np.union1d(lex_top, sem_top)
    effective = ratio if has_words else 1.0
    doc_rows = _doc_rows(snap, view, embedder)
    if cands.size:
        cosine = _cosines(view, doc_rows, q, cands)
        sem_vals = np.where(np.isfinite(cosine), cosine, -1.0)
        lex_vals = np.zeros(cands.size, dtype=np.float64)
        if plan.docids.size:
            # The engine scored every matching document, not only its best `window`.
            lexical = np.zeros(snap.alive.size, dtype=np.float64)
            lexical[plan.docids] = plan.scores
            lex_vals = lexical[cands]
        words = len((params.q or "").split())
        effective = effective_ratio(effective, lex_vals[np.isin(cands, lex_top)], words, fusion)
        fused = fuse(lex_vals, sem_vals, effective)
        order = _order(index, snap, params, sort, cands, fused)
        cands, fused, sem_vals = cands[order], fused[order], sem_vals[order]
        # A hit is "semantic" when the semantic leg put it there: not a lexical candidate.
        from_semantic = ~np.isin(cands, lex_top)
    else:
        fused = np.empty(0)
        sem_vals = fused
        from_semantic = np.zeros(0, dtype=bool)
    scores = _ranking_scores(fused, sem_vals, effective)
    if params.ranking_score_threshold is not None:
        keep = scores >= params.ranking_score_threshold
        cands, scores, from_semantic = cands[keep], scores[keep], from_semantic[keep]
    hits_plan = Plan(
        words=plan.words,
        order=np.arange(cands.size),
        docids=cands.astype(np.uint32),
        scores=scores,
        geo=geo,
    )
    if has_words and effective < 1.0:
        total = cands.size
    else:
        allowed = doc_rows.has_vector & snap.alive
        total = int(np.count_nonzero(allowed if mask is None else allowed & mask))
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


# Rules whose place in `rankingRules` the fused relevance score takes: every built-in
# rule but `sort`.
RELEVANCE_RULES = BUILTIN_RULES - {"sort"}


def _order(
    index: SearchIndex,
    snap: Snapshot,
    params: SearchParams,
    sort: list[str],
    cands: np.ndarray,
    fused: np.ndarray,
) -> np.ndarray:
    """Order of the fused candidates under the ranking rules: the fused score stands
    for the relevance rules, `sort` and custom `attr:asc` rules keep their place."""
    keys: list[np.ndarray] = []
    relevance_at: int | None = None
    sort_fn: Any = None
    for rule in index.settings["rankingRules"]:
        if rule in RELEVANCE_RULES:
            if relevance_at is None:
                relevance_at = len(keys)
                keys.append(-fused)
            continue
        entries = sort if rule == "sort" else [rule]
        for entry in entries:
            m = CUSTOM_RULE.match(entry)
            if m is None:
                continue
            sort_fn = sort_fn or _sort_key_fn(index, snap)
            keys.append(sort_fn(m.group(1), cands.astype(np.uint32), m.group(2) == "asc"))
    if relevance_at is None:
        keys.append(-fused)
    if len(keys) == 1:
        return np.argsort(-fused, kind="stable")
    return np.lexsort(keys[::-1])


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
