"""/analytics/*: search analytics as JSON, behind the `analytics.get` key action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.errors import SiftError
from sift.http.auth import guard, services
from sift.http.responses import JSONResponse, check_params, int_param
from sift.http.schemas import doc, responses
from sift.insights import Analytics, iso, pick_interval
from sift.ops.keys import Principal, index_allowed
from sift.storage.analytics import Range
from sift.storage.database import utcnow

router = APIRouter(tags=["Analytics"])

RANGE_PARAMS = ("index", "from", "to")
DEFAULT_DAYS = 7


def parse_time(raw: str, name: str) -> datetime:
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise SiftError(
            f"Invalid value in parameter `{name}`: `{raw}` is not an RFC 3339 date or date-time.",
            "invalid_analytics_range",
        ) from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def span_of(request: Request, principal: Principal) -> Range:
    """The requested time range and indexes, limited to what the key may see."""
    params = request.query_params
    end = parse_time(params["to"], "to") if "to" in params else utcnow() + timedelta(seconds=1)
    start = (
        parse_time(params["from"], "from")
        if "from" in params
        else end - timedelta(days=DEFAULT_DAYS)
    )
    if start >= end:
        raise SiftError("`from` must be earlier than `to`.", "invalid_analytics_range")
    index = params.get("index")
    patterns = principal.index_patterns()
    if index:
        if patterns is not None and not index_allowed(patterns, index):
            raise SiftError("The provided API key is invalid.", "invalid_api_key")
        return Range(start, end, [index])
    if patterns is None:
        return Range(start, end)
    visible = [u for u in services(request).catalog.uids() if index_allowed(patterns, u)]
    return Range(start, end, visible)


def analytics(request: Request) -> Analytics:
    found = services(request).analytics
    if found is None or not found.enabled:
        raise SiftError(
            "Search analytics are off on this instance (setting `no_analytics`).",
            "feature_not_enabled",
        )
    return found


def describe(span: Range) -> dict[str, object]:
    return {"from": iso(span.start), "to": iso(span.end), "index": span.indexes}


@router.get("/analytics/searches", summary="Searches over time", **doc(responses.Analytics))
async def searches(
    request: Request, principal: Principal = Depends(guard("analytics.get"))
) -> JSONResponse:
    check_params(request.query_params, RANGE_PARAMS)
    span = span_of(request, principal)
    buckets = await run_in_threadpool(analytics(request).buckets, span)
    interval = "hour" if pick_interval(span) == timedelta(hours=1) else "day"
    body = {
        **describe(span),
        "interval": interval,
        "total": sum(b.count for b in buckets),
        "zeroResults": sum(b.zero_results for b in buckets),
        "buckets": [
            {"start": iso(b.start), "count": b.count, "zeroResults": b.zero_results}
            for b in buckets
        ],
    }
    return JSONResponse(body)


def _range_and_limit(request: Request, principal: Principal) -> tuple[Range, int]:
    check_params(request.query_params, (*RANGE_PARAMS, "limit"))
    limit = int_param(request.query_params, "limit", 20, "invalid_analytics_limit")
    if not 1 <= limit <= 1000:
        raise SiftError("`limit` must be between 1 and 1000.", "invalid_analytics_limit")
    return span_of(request, principal), limit


async def _top(request: Request, principal: Principal, zero_only: bool) -> JSONResponse:
    span, limit = _range_and_limit(request, principal)
    found = await run_in_threadpool(analytics(request).top, span, limit, zero_only)
    return JSONResponse({**describe(span), "results": found})


@router.get("/analytics/top-queries", summary="Most frequent queries", **doc(responses.Analytics))
async def top_queries(
    request: Request, principal: Principal = Depends(guard("analytics.get"))
) -> JSONResponse:
    return await _top(request, principal, zero_only=False)


@router.get(
    "/analytics/zero-result-queries",
    summary="Most frequent queries with no result",
    **doc(responses.Analytics),
)
async def zero_result_queries(
    request: Request, principal: Principal = Depends(guard("analytics.get"))
) -> JSONResponse:
    return await _top(request, principal, zero_only=True)


@router.get(
    "/analytics/latency", summary="Search processing time percentiles", **doc(responses.Analytics)
)
async def latency(
    request: Request, principal: Principal = Depends(guard("analytics.get"))
) -> JSONResponse:
    check_params(request.query_params, RANGE_PARAMS)
    span = span_of(request, principal)
    summary = await run_in_threadpool(analytics(request).latency, span)
    return JSONResponse({**describe(span), **summary})


@router.get(
    "/analytics/clicks",
    summary="Click-through and conversion rates, clicked documents, unclicked queries",
    **doc(responses.Analytics),
)
async def clicks(
    request: Request, principal: Principal = Depends(guard("analytics.get"))
) -> JSONResponse:
    span, limit = _range_and_limit(request, principal)
    report = await run_in_threadpool(analytics(request).clicks, span, limit)
    return JSONResponse({**describe(span), **report})
