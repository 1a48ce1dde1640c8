"""Which semantic leg a search request gets (``sift.engine.pipeline`` runs it), and
the vectors a response retrieves.

* ``hybrid: {embedder, semanticRatio}`` and/or ``vector`` -> that embedder's leg;
* neither, with an embedder that can embed queries and Sift's ranking rules
  (``relevance``) -> a leg at ``semanticRatio`` 0.5: Sift's default ranking;
* otherwise none: the keyword leg alone (Meilisearch-mode indexes keep keyword search).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from sift.errors import SiftError
from sift.semantic import service
from sift.semantic.leg import VectorLeg

if TYPE_CHECKING:
    from sift.engine.index import SearchIndex
    from sift.engine.query import SearchParams

log = logging.getLogger("sift.semantic")

DEFAULT_RATIO = 0.5
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sift-embed")


def _choose(index: SearchIndex, params: SearchParams) -> tuple[str, float] | None:
    state = service.of(index) if service.configured(index) else None
    if params.hybrid is None and params.vector is None:
        if state is None or "relevance" not in index.settings.get("rankingRules", []):
            return None
        name = state.default_embedder()
        if name is None or not (params.q or "").strip():
            return None
        return name, DEFAULT_RATIO
    if state is None or not state.embedders:
        raise SiftError(
            "Cannot find an embedder: the index has no `embedders` setting.",
            "invalid_search_embedder",
        )
    settings = params.hybrid or {}
    name = settings.get("embedder")
    if name is None:
        name = state.default_embedder() or (
            next(iter(state.embedders)) if len(state.embedders) == 1 else None
        )
    if not isinstance(name, str) or name not in state.embedders:
        known = ", ".join(f"`{n}`" for n in state.embedders)
        raise SiftError(
            f"Cannot find embedder with name `{name}`. Available: {known}.",
            "invalid_search_embedder",
        )
    ratio = float(settings.get("semanticRatio", DEFAULT_RATIO)) if params.hybrid else 1.0
    return name, ratio


def query_vector(index: SearchIndex, name: str, params: SearchParams) -> np.ndarray | None:
    if params.vector is not None:
        return np.asarray(params.vector, dtype=np.float32)
    embedder = service.of(index).embedders[name]
    text = (params.q or "").strip()
    if embedder.user_provided or not text:
        return None
    return embedder.embed_query(text, service.MODEL_CACHE)


def leg_for(index: SearchIndex, params: SearchParams) -> VectorLeg | None:
    """The request's semantic leg; None for a keyword search. A leg without a query
    vector (the embedder cannot embed this query, or its service is down) makes the
    pipeline answer with the keyword leg and `semanticHitCount` 0."""
    choice = _choose(index, params)
    if choice is None:
        return None
    name, ratio = choice
    state = service.of(index)
    view = state.vectors[name].view
    embedder = state.embedders[name]
    text = (params.q or "").strip()
    if params.vector is None and not embedder.user_provided and ratio < 1.0 and text:
        # Embed the query on another thread while the keyword leg runs (ONNX Runtime and
        # numpy release the GIL): hybrid latency ~ max of the two, not their sum.
        future = _POOL.submit(query_vector, index, name, params)
        return VectorLeg(view, name, future.result, ratio)
    try:
        vector = query_vector(index, name, params)
    except SiftError:
        if ratio >= 1.0:
            raise
        # The embedding service is down: keyword results beat an error page.
        log.warning("query embedding failed; answering with keyword search", exc_info=True)
        vector = None
    if vector is None and ratio >= 1.0 and text:
        raise SiftError(
            f"Embedder `{name}` cannot embed the query: pass `vector`.", "invalid_search_vector"
        )
    return VectorLeg(view, name, vector, ratio)


def add_vectors(index: SearchIndex, params: SearchParams, result: dict[str, Any]) -> None:
    """`retrieveVectors`: each hit's vectors as the embedders hold them."""
    if not params.retrieve_vectors or not service.configured(index):
        return
    key = index.primary_key
    for hit in result.get("hits", []):
        if key is not None and key in hit:
            hit["_vectors"] = service.retrieve_vectors(index, str(hit[key]))
