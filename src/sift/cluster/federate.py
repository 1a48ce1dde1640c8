"""`useNetwork`: whether a search spans the network, and the network's answers merged
into one search response (the federated merge of engine/federation.py, one query per
node, each hit's ``_federation`` naming the node that answered)."""

from __future__ import annotations

from typing import Any

from sift.cluster.fanout import LegResult
from sift.cluster.network import Network
from sift.cluster.order import rank_key, sort_fields, tie_order
from sift.engine.federation import Federation, QueryResult, merge
from sift.engine.pipeline.respond import ordered_response
from sift.engine.query import SearchParams
from sift.engine.settings import describe
from sift.errors import SiftError

USE_NETWORK = "useNetwork"
_PAGINATION = ("offset", "limit", "page", "hitsPerPage")


def pop_use_network(body: dict[str, Any], network: Network) -> bool:
    """Take ``useNetwork`` out of ``body``; whether the search spans the network."""
    return use_network(body.pop(USE_NETWORK, None), network, "invalid_search_use_network")


def use_network(wanted: Any, network: Network, code: str) -> bool:
    """Whether a request with ``useNetwork`` ``wanted`` spans the network (``code``: the
    error of a value that is not a boolean).

    Meilisearch's default: on when the network has a leader (it is sharded), else off.
    """
    if wanted is not None and not isinstance(wanted, bool):
        raise SiftError(
            f"Invalid value type at `.useNetwork`: expected a boolean, but found "
            f"{describe(wanted)}: `{wanted!r}`",
            code,
        )
    if wanted is None:
        return network.enabled and network.topology.leader is not None
    if wanted and not network.enabled:
        raise SiftError(
            "Performing a network search requires enabling the `network` experimental "
            "feature. See https://github.com/orgs/meilisearch/discussions/805",
            "feature_not_enabled",
        )
    return wanted


def wants_network(body: Any, network: Network) -> bool:
    """Whether ``body`` will search the network (or name a remote), without checking it."""
    if not isinstance(body, dict) or not network.enabled:
        return False
    options = body.get("federationOptions")
    if isinstance(options, dict) and options.get("remote") is not None:
        return True
    wanted = body.get(USE_NETWORK)
    if isinstance(wanted, bool):
        return wanted
    return network.topology.leader is not None


def _merge_fields(sort: list[str] | None, primary_key: str | None) -> list[str]:
    """The document fields merging reads: the sort fields and the primary key (ties)."""
    return [*sort_fields(sort), *([primary_key] if primary_key is not None else [])]


def leg_body(body: dict[str, Any], start: int, count: int, primary_key: str | None = None
             ) -> dict[str, Any]:
    """What each node is asked: every hit that could land on the merged page, with what
    merging needs (each rule's score, the values of the sort fields, the primary key)."""
    out = {k: v for k, v in body.items() if k not in _PAGINATION}
    if body.get("page") is not None or body.get("hitsPerPage") is not None:
        # Page mode: each node's exhaustive `totalHits`, which the merge adds up.
        out.update(page=1, hitsPerPage=start + count)
    else:
        out.update(offset=0, limit=start + count)
    out.update(showRankingScore=True)
    return _for_merging(out, primary_key)


def _for_merging(body: dict[str, Any], primary_key: str | None) -> dict[str, Any]:
    """``body`` asking each node for what ordering its hits among the other nodes' needs:
    each rule's score, the values of the sort fields, the primary key (ties)."""
    body["showRankingScoreDetails"] = True
    retrieve = body.get("attributesToRetrieve")
    if retrieve is not None and "*" not in retrieve:
        body["attributesToRetrieve"] = list(dict.fromkeys([*retrieve, *_merge_fields(
            body.get("sort"), primary_key)]))
    return body


def federated_leg(body: dict[str, Any], primary_key: str | None) -> dict[str, Any]:
    """A federated query with ``useNetwork`` (its page already set by the federation), as
    each node is asked it."""
    return _for_merging(dict(body), primary_key)


def network_results(index_uid: str, position: int, weight: float, show_score: bool,
                    legs: list[LegResult], sort: list[str] | None, primary_key: str | None
                    ) -> list[QueryResult]:  # fmt: skip
    """The nodes' answers to one federated query: hits of equal weighted score in the
    order one node holding every document gives them (its rules, then the tie key of
    the primary key, cluster/order.py), not interleaved by each node's own rank."""
    hits = [hit for leg in legs for hit in leg.result["hits"]]
    order = rank_key(sort, tie_order(hits, primary_key))
    return [
        QueryResult(index_uid, position, weight, leg.result, show_score, remote=leg.remote,
                    order=order)
        for leg in legs
    ]  # fmt: skip


def strip_network_hits(hits: list[dict[str, Any]],
                       queries: dict[int, tuple[SearchParams, str | None]]) -> None:  # fmt: skip
    """Take out of merged federated hits what only merging the network queries (by
    position: their parameters and primary key) needed."""
    for hit in hits:
        query = queries.get(hit["_federation"]["queriesPosition"])
        if query is not None:
            _strip([hit], *query)


def _strip(hits: list[dict[str, Any]], params: SearchParams, primary_key: str | None) -> None:
    """Take out of the merged hits what only merging needed."""
    retrieve = params.attributes_to_retrieve
    added = [] if retrieve is None or "*" in retrieve else [
        f for f in _merge_fields(params.sort, primary_key) if f not in retrieve]
    for hit in hits:
        if not params.show_ranking_score_details:
            hit.pop("_rankingScoreDetails", None)
        for name in added:
            hit.pop(name, None)
            if isinstance(hit.get("_formatted"), dict):
                hit["_formatted"].pop(name, None)


def federation_of(params: SearchParams, index_uid: str) -> Federation:
    fed = Federation(
        offset=params.offset,
        limit=params.limit,
        page=params.page,
        hits_per_page=params.hits_per_page,
    )
    if params.facets:
        fed.facets_by_index = {index_uid: list(params.facets)}
        fed.merge_facets = {"maxValuesPerFacet": 100}
    return fed


def results_of(
    index_uid: str, position: int, weight: float, show_score: bool, legs: list[LegResult]
) -> list[QueryResult]:
    return [
        QueryResult(index_uid, position, weight, leg.result, show_score, remote=leg.remote)
        for leg in legs
    ]


def single_response(
    params: SearchParams,
    fed: Federation,
    results: list[QueryResult],
    errors: dict[str, dict[str, Any]],
    primary_key: str | None = None,
) -> dict[str, Any]:
    """The merged answers shaped as a single search's response, in the order one node
    holding every document would give (cluster/order.py; exact ties by ``primary_key``'s
    tie key, which leg_body asked every node to return)."""
    hits = [hit for qr in results for hit in qr.result["hits"]]
    body = merge(fed, results, rank_key(params.sort, tie_order(hits, primary_key)))
    _strip(body["hits"], params, primary_key)
    body["query"] = params.q or ""
    if errors:
        body["remoteErrors"] = errors
    if not params.facets:
        body.pop("facetDistribution", None)
        body.pop("facetStats", None)
    return body


def finish(body: dict[str, Any], elapsed: float) -> dict[str, Any]:
    body["processingTimeMs"] = int(elapsed * 1000)
    return ordered_response(body)


def facet_hits(legs: list[LegResult], order: str, limit: int = 100) -> list[dict[str, Any]]:
    """Facet values of every shard, their counts added; in the index's order (``count``:
    most first, else alphabetical), cut to ``limit``. Each shard sent its own best
    ``limit`` values, so a value outside every shard's list is missing from the sum."""
    counts: dict[str, int] = {}
    for leg in legs:
        for hit in leg.result["facetHits"]:
            counts[hit["value"]] = counts.get(hit["value"], 0) + int(hit["count"])
    if order == "count":
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))
    else:
        ranked = sorted(counts.items(), key=lambda item: item[0].lower())
    return [{"value": value, "count": count} for value, count in ranked[:limit]]
