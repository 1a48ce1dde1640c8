"""Search: /indexes/{uid}/search (GET and POST), /multi-search, facet search."""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import partial
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request

from sift.cluster import federate, statistics
from sift.engine import pipeline
from sift.engine.clicks import ClickSignal
from sift.engine.corpus import CorpusStats
from sift.engine.federation import (
    Federation,
    QueryResult,
    check_facet_indexes,
    merge,
    parse_federation,
    prepare_query,
    query_remote,
)
from sift.engine.index import SearchIndex
from sift.engine.pipeline.respond import ordered_response
from sift.engine.pipeline.timing import StageTimer
from sift.engine.query import FIELD_CODES, SearchParams
from sift.engine.store import IndexView
from sift.errors import SiftError
from sift.http.auth import authenticate, guard, services
from sift.http.headers import header, utf8_header
from sift.http.responses import JSONResponse, json_body, require_object, validate_index_uid
from sift.http.schemas import doc, requests, responses
from sift.http.search_placement import SearchThreads, group_of
from sift.http.tenant_tokens import token_filter
from sift.inputs import USIZE, check_utf8, uint_param
from sift.insights import ClickModels, new_query_uid
from sift.insights.impressions import shown_ids
from sift.ops.keys import Principal
from sift.semantic import search as semantic_search

router = APIRouter(tags=["Search"])

METADATA_HEADER = b"meili-include-metadata"
USER_HEADER = b"x-ms-user-id"


def wants_metadata(request: Request) -> bool:
    """`Meili-Include-Metadata: true` (or `1`): answer each query's uid, for `/events`.
    Read from the scope (sift.http.headers): Starlette's lookup of a header the request
    lacks, as most searches lack this one, was ~2 µs of a search's route."""
    value = header(request.scope, METADATA_HEADER)
    return value is not None and value.strip().lower() in ("true", "1")


async def in_search_thread(
    request: Request, func: Any, *args: Any, bodies: list[Any] | None = None
) -> Any:
    """Run a search off the event loop, at most `search_threads` at a time per process.

    A search across the network (any of ``bodies`` asking for it) runs beside that limit:
    it mostly waits for other nodes, and holding a slot while it waits could deadlock two
    nodes whose slots all wait for each other's legs."""
    threads: SearchThreads | None = getattr(request.app.state, "search_threads", None)
    network = services(request).network
    if threads is None or any(federate.wants_network(b, network) for b in bodies or ()):
        return await anyio.to_thread.run_sync(func, *args)  # anyio's default thread pool
    return await threads.run(func, *args)


LIST_PARAMS = {
    "attributesToRetrieve",
    "attributesToCrop",
    "attributesToHighlight",
    "facets",
    "sort",
    "attributesToSearchOn",
    "locales",
}
INT_PARAMS = {"offset", "limit", "page", "hitsPerPage", "cropLength"}
BOOL_PARAMS = {
    "useNetwork",
    "showMatchesPosition",
    "showRankingScore",
    "showRankingScoreDetails",
    "retrieveVectors",
    "showPerformanceDetails",
}
FLOAT_PARAMS = {"rankingScoreThreshold", "semanticRatio"}


def _float(raw: str) -> float | str:
    """A number, or the text as it is: the body's validation then names the parameter."""
    try:
        return float(raw)
    except ValueError:
        return raw


def body_from_query(
    params: Mapping[str, str], codes: Mapping[str, str] = FIELD_CODES
) -> dict[str, Any]:
    """GET search parameters as the equivalent POST body (types as Meilisearch parses them);
    `codes` names each parameter's error code (search's unless told otherwise)."""
    body: dict[str, Any] = {}
    for key, raw in params.items():
        value: Any = raw
        if key in LIST_PARAMS:
            value = [v.strip() for v in raw.split(",") if v.strip()]
        elif key in INT_PARAMS:
            value = uint_param(key, raw, USIZE, codes.get(key, "bad_request"))
        elif key in BOOL_PARAMS and raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        elif key in FLOAT_PARAMS:
            value = _float(raw)
        elif key == "vector":
            value = [_float(v) for v in raw.strip("[]").split(",") if v.strip()]
        elif key in ("hybridEmbedder", "hybridSemanticRatio"):
            hybrid = body.get("hybrid")
            if not isinstance(hybrid, dict):  # `hybrid=` itself is no GET parameter
                hybrid = body["hybrid"] = {}
            if key == "hybridEmbedder":
                hybrid["embedder"] = raw
            else:
                hybrid["semanticRatio"] = _float(raw)
            continue
        body[key] = value
    return body


def _with_rules(principal: Principal, index_uid: str, body: dict[str, Any]) -> dict[str, Any]:
    """AND the tenant token's filter for this index into the request's filter."""
    allowed, rule_filter = token_filter(principal, index_uid)
    if not allowed:
        raise SiftError("The provided API key is invalid.", "invalid_api_key")
    if rule_filter is None:
        return body
    parts = [rule_filter]
    if body.get("filter") is not None:
        parts.append(body["filter"])
    # Array form: the outer list is ANDed, so a list filter's elements join it as they are.
    flat: list[Any] = []
    for part in parts:
        flat.extend(part if isinstance(part, list) else [part])
    return {**body, "filter": flat}


def local_search(
    request: Request, index_uid: str, body: dict[str, Any], corpus: CorpusStats | None = None
) -> dict[str, Any]:
    """One search of this node's index (tenant rules already applied to ``body``),
    scored with ``corpus`` (a network search's statistics) when given."""
    return searched_locally(request, index_uid, body, corpus)[0]


def searched_locally(
    request: Request, index_uid: str, body: dict[str, Any], corpus: CorpusStats | None = None
) -> tuple[dict[str, Any], SearchParams]:
    """:func:`local_search`, and the parameters it parsed from ``body`` (the caller reads
    them again instead of parsing the body twice: ~4 µs, a tenth of what a search costs
    around the engine)."""
    started = time.perf_counter()
    svc = services(request)
    index = svc.catalog.get(index_uid)
    params = SearchParams.from_dict(body)
    params.statistics = corpus
    view = index.view  # one snapshot for the click signal and the search
    params.curation = svc.rules.curation(index_uid, params.q)  # search rules (sift.rules)
    vectors = semantic_search.leg_for(index, params)  # None: a keyword search
    clicks = _click_signal(svc.clicks, index_uid, index, view, params.q)
    result = pipeline.search(view, params, vectors, clicks=clicks)
    semantic_search.add_vectors(index, params, result)
    result["processingTimeMs"] = int((time.perf_counter() - started) * 1000)
    return result, params


def _click_signal(
    models: ClickModels | None, index_uid: str, index: SearchIndex, view: IndexView,
    q: str | None,
) -> ClickSignal | None:
    """The query's learned click signal (``models``: the services' learned clicks) where
    the index opted in (docs/ranking.md#clicks); None, at the cost of a dict look-up, for
    every other search."""
    if models is None or not (view.settings.get("clickRanking") or {}).get("enabled"):
        return None
    learned = models.lookup(index_uid, q)
    return None if learned is None else index.click_signal(view.snapshot, learned)


def network_legs(
    request: Request, index_uid: str, body: dict[str, Any], timer: StageTimer | None = None
) -> tuple[list[Any], dict[str, Any]]:
    """``body`` asked of every shard of the network once (cluster/fanout.py), after a
    round that gathers the corpus statistics its scores need (cluster/statistics.py)."""
    network = services(request).network
    topology = network.topology

    def local(leg: dict[str, Any]) -> dict[str, Any]:
        leg.pop(federate.USE_NETWORK, None)
        return local_search(request, index_uid, leg, statistics.pop(leg))

    index = services(request).catalog.find(index_uid)
    if index is not None and statistics.needed(body, index.settings["rankingRules"]):
        body = network.searcher.with_statistics(
            topology, index_uid, body, partial(local_statistics, request, index_uid))
        if timer is not None:
            timer.lap("network > corpus statistics")
    return network.searcher.run(topology, index_uid, body, local)


def local_statistics(request: Request, index_uid: str, body: Any) -> dict[str, Any]:
    """This node's corpus statistics for a statistics request (cluster/statistics.py)."""
    query, shards = statistics.parse_request(body)
    query = {k: v for k, v in query.items() if k != federate.USE_NETWORK}
    params = SearchParams.from_dict(query)
    return services(request).catalog.get(index_uid).statistics(params, shards).to_json()


def run_on_remote(
    request: Request,
    position: int,
    index_uid: str,
    body: dict[str, Any],
    remote: str,
    principal: Principal,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A federated query sent to the node its ``federationOptions.remote`` names."""
    network = services(request).network
    if not network.enabled:
        raise SiftError(
            "Performing a remote federated search requires enabling the `network` "
            "experimental feature. See https://github.com/orgs/meilisearch/discussions/805",
            "feature_not_enabled",
        )
    topology = network.topology
    if remote != topology.self_name and remote not in topology.remotes:
        raise SiftError(
            f"Invalid `queries[{position}].federationOptions.remote`: remote `{remote}` is "
            "not found in the network.",
            "invalid_multi_search_remote",
        )
    validate_index_uid(index_uid)
    if not principal.can_index(index_uid):
        raise SiftError("The provided API key is invalid.", "invalid_api_key")

    def local(leg: dict[str, Any]) -> dict[str, Any]:
        leg.pop(federate.USE_NETWORK, None)
        return local_search(request, index_uid, leg)

    body = _with_rules(principal, index_uid, body)
    return network.searcher.ask(topology, remote, index_uid, body, local)


def run_network_search(
    request: Request, index_uid: str, body: dict[str, Any]
) -> dict[str, Any]:
    started = time.perf_counter()
    timer = StageTimer(started)
    params = SearchParams.from_dict(body)  # a bad parameter fails here, not on every node
    fed = federate.federation_of(params, index_uid)
    index = services(request).catalog.find(index_uid)
    primary_key = index.primary_key if index is not None else None
    legs, errors = network_legs(
        request, index_uid, federate.leg_body(body, *fed.window(), primary_key), timer)
    timer.lap("network > search and merge")
    results = federate.results_of(index_uid, 0, 1.0, params.show_ranking_score, legs)
    merged = federate.single_response(params, fed, results, errors, primary_key)
    if params.show_performance_details:
        merged["performanceDetails"] = timer.details()
    return federate.finish(merged, time.perf_counter() - started)


def network_facet_search(
    request: Request, index_uid: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Facet values over every shard: each asked once, counts added."""
    network = services(request).network
    index = services(request).catalog.get(index_uid)
    index.facet_search(body)  # a bad body fails here, once, with the local error
    faceting = index.settings["faceting"]
    by = faceting.get("sortFacetValuesBy") or {}
    order = by.get(body.get("facetName")) or by.get("*", "alpha")

    def local(leg: dict[str, Any]) -> dict[str, Any]:
        leg.pop(federate.USE_NETWORK, None)
        return index.facet_search(leg)

    legs, errors = network.searcher.run(
        network.topology, index_uid, body, local, route="facet-search"
    )
    result: dict[str, Any] = {
        "facetHits": federate.facet_hits(legs, order),
        "facetQuery": body.get("facetQuery"),
    }
    if errors:
        result["remoteErrors"] = errors
    return result


def run_search(
    request: Request, index_uid: str, body: dict[str, Any], principal: Principal
) -> dict[str, Any]:
    validate_index_uid(index_uid)
    if not principal.can_index(index_uid):
        raise SiftError("The provided API key is invalid.", "invalid_api_key")
    query = body.get("q")
    body = _with_rules(principal, index_uid, body)
    body = dict(body)
    corpus = statistics.pop(body)  # a network search gathers its own
    svc = services(request)
    if federate.pop_use_network(body, svc.network):
        result = run_network_search(request, index_uid, body)
        params = SearchParams.from_dict(body)
    else:
        result, params = searched_locally(request, index_uid, body, corpus)
    if params.show_performance_details and "performanceDetails" not in result:
        # A search path without per-stage timings (hybrid) still answers what was asked.
        result["performanceDetails"] = {"search": f"{result['processingTimeMs']:.2f}ms"}
    query_uid = None
    shown = None
    if wants_metadata(request):
        query_uid = new_query_uid()
        metadata: dict[str, Any] = {"queryUid": query_uid, "indexUid": index_uid}
        index = svc.catalog.find(index_uid)  # absent here: a network search
        if index is not None and index.primary_key is not None:
            metadata["primaryKey"] = index.primary_key
            first_page = params.offset == 0 and (params.page or 1) == 1
            shown = shown_ids(result.get("hits", ()), index.primary_key, first_page)
        if isinstance(query, str) and query:
            metadata["query"] = query
        result["metadata"] = metadata
    analytics = svc.analytics
    if analytics is not None:  # buffered in memory: costs an append, never raises
        hits = result.get("totalHits", result.get("estimatedTotalHits"))
        user = utf8_header(request.scope, USER_HEADER) or None
        analytics.record(
            index_uid, query, hits, result["processingTimeMs"], query_uid, user, shown
        )
    return result


@router.post(
    "/indexes/{index_uid}/search",
    summary="Search an index",
    **doc(
        responses.SearchResult,
        requests.SearchQuery,
        body_required=False,
        path_params=("index_uid",),
    ),
)
async def search_post(request: Request) -> JSONResponse:
    # A hot route (sift.http.hot_routes): the Request alone, authenticated here.
    index_uid = request.path_params["index_uid"]
    principal = await authenticate(request, "search", index_uid)
    body = require_object(await json_body(request, required=False) or {})
    return await searched(request, index_uid, body, principal)


@router.get(
    "/indexes/{index_uid}/search",
    summary="Search an index (query string)",
    **doc(responses.SearchResult, path_params=("index_uid",)),
)
async def search_get(request: Request) -> JSONResponse:
    index_uid = request.path_params["index_uid"]  # a hot route, as search_post
    principal = await authenticate(request, "search", index_uid)
    check_utf8(request.scope["query_string"], FIELD_CODES)
    return await searched(request, index_uid, body_from_query(request.query_params), principal)


async def searched(
    request: Request, index_uid: str, body: dict[str, Any], principal: Principal
) -> JSONResponse:
    """One search, inline on the event loop when searches like it have been quick
    (sift/http/search_placement.py), else on a search thread."""
    placement = getattr(request.app.state, "search_placement", None)
    args = (request, index_uid, body, principal)
    if placement is None:
        return JSONResponse(await in_search_thread(request, run_search, *args, bodies=[body]))
    network = services(request).network
    group = None if federate.wants_network(body, network) else group_of(index_uid, body)
    if placement.inline(group):
        return JSONResponse(placement.timed(group, run_search, *args))
    threads: SearchThreads | None = getattr(request.app.state, "search_threads", None)
    at_once = threads is not None and threads.idle
    sent = time.perf_counter()
    answer, took = await in_search_thread(
        request, placement.measured, group, run_search, *args, bodies=[body]
    )
    if at_once:
        placement.handed_off(time.perf_counter() - sent - took)
    return JSONResponse(answer)


@router.post(
    "/multi-search",
    summary="Several searches in one request",
    **doc(responses.MultiSearchResult, requests.MultiSearch),
)
async def multi_search(request: Request) -> JSONResponse:
    principal = await authenticate(request, "search")
    body = require_object(await json_body(request))
    for key in body:
        if key not in ("queries", "federation"):
            raise SiftError(
                f"Unknown field `{key}`: expected one of `queries`, `federation`", "bad_request"
            )
    queries = body.get("queries")
    if not isinstance(queries, list):
        raise SiftError(
            "Missing field `queries`"
            if queries is None
            else "Invalid value type at `.queries`: expected an array",
            "invalid_multi_search_queries" if queries is not None else "bad_request",
        )
    fed = None if body.get("federation") is None else parse_federation(body["federation"])

    def split(position: int, query: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(query, dict):
            raise SiftError(
                f"Invalid value type at `.queries[{position}]`: expected an object",
                "invalid_multi_search_queries",
            )
        query = dict(query)
        uid = query.pop("indexUid", None)
        if uid is None:
            raise SiftError(
                f"Missing field `indexUid` inside `.queries[{position}]`", "missing_index_uid"
            )
        return uid, query

    def run_one(position: int, uid: str, query: dict[str, Any]) -> dict[str, Any]:
        try:
            return run_search(request, uid, query, principal)
        except SiftError as error:
            if not error.message.startswith("Inside `.queries["):
                error.message = f"Inside `.queries[{position}]`: {error.message}"
            raise

    def run_all() -> list[dict[str, Any]]:
        results = []
        for position, raw in enumerate(queries):
            uid, query = split(position, raw)
            query.pop("federationOptions", None)
            results.append({"indexUid": uid, **run_one(position, uid, query)})
        return results

    def run_federated(fed: Federation) -> dict[str, Any]:
        started = time.perf_counter()
        parsed = [split(position, raw) for position, raw in enumerate(queries)]
        check_facet_indexes(fed, [uid for uid, _ in parsed])
        results: list[QueryResult] = []
        remote_errors: dict[str, Any] = {}
        network_queries: dict[int, tuple[SearchParams, str | None]] = {}
        network = services(request).network
        for position, (uid, query) in enumerate(parsed):
            remote = query_remote(query)
            use_network = federate.pop_use_network(query, network) and remote is None
            search_body, weight, show_score = prepare_query(query, position, fed, uid)
            if remote is not None:
                result, error = run_on_remote(
                    request, position, uid, search_body, remote, principal
                )
                if error is not None:
                    remote_errors[remote] = error
                if result is not None:
                    results.append(QueryResult(uid, position, weight, result, show_score,
                                               remote=remote))
                continue
            if not use_network:
                result = run_one(position, uid, search_body)
                results.append(QueryResult(uid, position, weight, result, show_score))
                continue
            validate_index_uid(uid)
            if not principal.can_index(uid):
                raise SiftError("The provided API key is invalid.", "invalid_api_key")
            index = services(request).catalog.find(uid)
            primary_key = index.primary_key if index is not None else None
            params = SearchParams.from_dict(search_body)
            leg = federate.federated_leg(search_body, primary_key)
            legs, errors = network_legs(request, uid, _with_rules(principal, uid, leg))
            results.extend(federate.network_results(
                uid, position, weight, show_score, legs, params.sort, primary_key))
            network_queries[position] = (params, primary_key)
            remote_errors.update(errors)
        merged = merge(fed, results)
        federate.strip_network_hits(merged["hits"], network_queries)
        if remote_errors:
            merged["remoteErrors"] = remote_errors
        elapsed = time.perf_counter() - started
        merged["processingTimeMs"] = int(elapsed * 1000)
        if fed.show_performance_details:
            merged["performanceDetails"] = {"federated search": f"{elapsed * 1000:.2f}ms"}
        response = ordered_response(merged)
        if wants_metadata(request):  # one entry per query, in the order they were sent
            response["metadata"] = [r.result.get("metadata") for r in results]
        return response

    if fed is not None:
        return JSONResponse(await in_search_thread(request, run_federated, fed, bodies=queries))
    return JSONResponse({"results": await in_search_thread(request, run_all, bodies=queries)})


@router.post(
    "/indexes/{index_uid}/facet-search",
    summary="Search facet values",
    **doc(responses.FacetSearchResult, requests.FacetSearch),
)
async def facet_search(
    request: Request, index_uid: str, principal: Principal = Depends(guard("search"))
) -> JSONResponse:
    body = require_object(await json_body(request))

    def run() -> dict[str, Any]:
        validate_index_uid(index_uid)
        started = time.perf_counter()
        scoped = dict(_with_rules(principal, index_uid, body))
        network = services(request).network
        index = services(request).catalog.get(index_uid)
        if federate.pop_use_network(scoped, network):
            result = network_facet_search(request, index_uid, scoped)
        else:
            result = index.facet_search(scoped)
        result["processingTimeMs"] = int((time.perf_counter() - started) * 1000)
        return result

    return JSONResponse(await in_search_thread(request, run, bodies=[body]))
