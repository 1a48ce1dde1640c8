"""/indexes/{uid}/similar: documents whose vectors are closest to one document's."""

from __future__ import annotations

import time
from typing import Any, Final

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.engine import pipeline
from sift.engine.pipeline.timing import StageTimer
from sift.engine.query import SearchParams
from sift.errors import SiftError
from sift.http.auth import guard, services
from sift.http.responses import JSONResponse, json_body, require_object, validate_index_uid
from sift.http.routes.search import _with_rules
from sift.http.schemas import doc, requests, responses
from sift.inputs import check_utf8, shown
from sift.ops.keys import Principal
from sift.semantic import service
from sift.semantic.leg import VectorLeg

router = APIRouter(tags=["Search"])

# Every field similar takes, with its error code (Meilisearch's invalid_similar_*).
SIMILAR_CODES: Final = {
    "id": "invalid_similar_id",
    "embedder": "invalid_similar_embedder",
    "offset": "invalid_similar_offset",
    "limit": "invalid_similar_limit",
    "filter": "invalid_similar_filter",
    "attributesToRetrieve": "invalid_similar_attributes_to_retrieve",
    "showRankingScore": "invalid_similar_show_ranking_score",
    "showRankingScoreDetails": "invalid_similar_show_ranking_score_details",
    "rankingScoreThreshold": "invalid_similar_ranking_score_threshold",
    "retrieveVectors": "invalid_similar_retrieve_vectors",
    "showPerformanceDetails": "invalid_similar_show_performance_details",
}


def _bad(field: str, message: str) -> SiftError:
    return SiftError(message, SIMILAR_CODES[field])


def run_similar(
    request: Request, index_uid: str, body: dict[str, Any], principal: Principal
) -> dict[str, Any]:
    started = time.perf_counter()
    timer = StageTimer(started)
    validate_index_uid(index_uid)
    if not principal.can_index(index_uid):
        raise SiftError("The provided API key is invalid.", "invalid_api_key")
    for key in body:
        if key not in SIMILAR_CODES:
            raise SiftError(
                f"Unknown field `{shown(key)}`: expected one of "
                + ", ".join(f"`{k}`" for k in sorted(SIMILAR_CODES)),
                "bad_request",
            )
    doc_id = body.get("id")
    if doc_id is None:
        raise SiftError("Missing field `id`", "bad_request")
    if not isinstance(doc_id, str | int) or isinstance(doc_id, bool):
        raise _bad("id", "Invalid value type at `.id`: expected a string or an integer.")
    doc_id = str(doc_id)
    index = services(request).catalog.get(index_uid)
    state = service.of(index) if service.configured(index) else None
    name = body.get("embedder")
    if state is None or not isinstance(name, str) or name not in state.embedders:
        raise _bad("embedder", f"Cannot find embedder with name `{name}`.")
    vectors = state.vectors[name].vectors_of(doc_id)
    timer.lap("similar > find the document's vector")
    if not vectors:
        raise SiftError(
            f"Document `{doc_id}` not found or has no vector for `{name}`.", "not_found_similar_id"
        )
    scoped = _with_rules(principal, index_uid, body)
    params = SearchParams.from_dict(
        {k: v for k, v in scoped.items() if k not in ("id", "embedder", "showPerformanceDetails")},
        SIMILAR_CODES,
    )
    show_details = body.get("showPerformanceDetails", False)
    if not isinstance(show_details, bool):
        raise _bad(
            "showPerformanceDetails",
            "Invalid value type at `.showPerformanceDetails`: expected a boolean.",
        )
    wanted_end = params.offset + params.limit
    params.offset, params.limit = 0, wanted_end + 1  # one more: the document itself
    leg = VectorLeg(state.vectors[name].view, name, vectors[0], 1.0)
    result = pipeline.search(index.view, params, leg)
    timer.lap("similar > semantic search and hits")
    key = index.primary_key
    hits = [h for h in result["hits"] if key is None or str(h.get(key)) != doc_id]
    hits = hits[body.get("offset", 0) or 0 : wanted_end]
    if params.retrieve_vectors and key is not None:
        for hit in hits:
            if key in hit:
                hit["_vectors"] = service.retrieve_vectors(index, str(hit[key]))
    out = {
        "hits": hits,
        "id": doc_id,
        "processingTimeMs": int((time.perf_counter() - started) * 1000),
        "limit": body.get("limit", 20),
        "offset": body.get("offset", 0),
        "estimatedTotalHits": max(0, result["estimatedTotalHits"] - 1),
    }
    if show_details:
        timer.lap("similar > vectors retrieved")
        out["performanceDetails"] = timer.details("similar")
    return out


@router.post(
    "/indexes/{index_uid}/similar",
    summary="Documents similar to one document",
    **doc(responses.SimilarResult, requests.Similar),
)
async def similar_post(
    request: Request, index_uid: str, principal: Principal = Depends(guard("search"))
) -> JSONResponse:
    body = require_object(await json_body(request))
    return JSONResponse(await run_in_threadpool(run_similar, request, index_uid, body, principal))


@router.get(
    "/indexes/{index_uid}/similar",
    summary="Documents similar to one document",
    **doc(responses.SimilarResult),
)
async def similar_get(
    request: Request, index_uid: str, principal: Principal = Depends(guard("search"))
) -> JSONResponse:
    from sift.http.routes.search import body_from_query

    check_utf8(request.scope["query_string"], SIMILAR_CODES)
    body = body_from_query(request.query_params, SIMILAR_CODES)
    return JSONResponse(await run_in_threadpool(run_similar, request, index_uid, body, principal))
