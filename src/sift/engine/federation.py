"""Federated multi-search: one ranked list merged from the results of several queries.

Each query runs as an ordinary search that returns enough hits to fill the federation's
page, with ranking scores. Scores are comparable across queries and indexes (every
rule list maps to [0, 1]), so hits are merged by ``_rankingScore * weight``, ties kept
in query order. This module only parses the request and merges result dicts; running
the queries (auth, tenant tokens, hybrid) stays with the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from sift.engine.query import page_rows
from sift.engine.settings import describe, type_error
from sift.errors import SiftError
from sift.inputs import USIZE, uint_field

_FEDERATION_FIELDS: Final = (
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "facetsByIndex",
    "mergeFacets",
    "distinct",
    "showPerformanceDetails",
)
_OPTION_FIELDS: Final = ("weight", "remote", "queryPosition")
_QUERY_PAGINATION: Final = ("offset", "limit", "page", "hitsPerPage")
_CODE: Final = "invalid_multi_search_federation"


@dataclass
class Federation:
    offset: int = 0
    limit: int = 20
    page: int | None = None
    hits_per_page: int | None = None
    facets_by_index: dict[str, list[str]] = field(default_factory=dict)
    merge_facets: dict[str, Any] | None = None
    distinct: str | None = None
    show_performance_details: bool = False

    @property
    def paginated(self) -> bool:
        return self.page is not None or self.hits_per_page is not None

    def window(self) -> tuple[int, int]:
        """(start, count) of the merged hits to return."""
        if self.paginated:
            per = 20 if self.hits_per_page is None else self.hits_per_page
            page = 1 if self.page is None else self.page
            return page_rows(max(page - 1, 0) * per, per if page > 0 else 0)
        return page_rows(self.offset, self.limit)


@dataclass
class QueryResult:
    """One query's search result, with what merging needs to know about the query."""

    index_uid: str
    position: int
    weight: float
    result: dict[str, Any]
    show_score: bool
    remote: str | None = None  # the network node that answered (cluster/fanout.py)
    # The order of this query's hits among its hits of equal weighted score (ascending);
    # None: the rank its search gave them. Several nodes answering one query
    # (cluster/federate.py) each rank only their own hits, so a rank cannot order them.
    order: Callable[[dict[str, Any]], Any] | None = None


def _uint(body: dict[str, Any], key: str, default: int | None) -> int | None:
    value = body.get(key)
    if value is None:
        return default
    return uint_field(f"federation.{key}", value, USIZE, _CODE)


def parse_federation(raw: Any) -> Federation:
    if not isinstance(raw, dict):
        raise type_error("federation", "an object", raw, _CODE)
    for key in raw:
        if key not in _FEDERATION_FIELDS:
            expected = ", ".join(f"`{k}`" for k in _FEDERATION_FIELDS)
            raise SiftError(
                f"Unknown field `{key}` inside `.federation`: expected one of {expected}",
                "bad_request",
            )
    fed = Federation(
        offset=_uint(raw, "offset", 0) or 0,
        limit=_uint(raw, "limit", 20) or 0,
        page=_uint(raw, "page", None),
        hits_per_page=_uint(raw, "hitsPerPage", None),
    )
    by_index = raw.get("facetsByIndex")
    if by_index is not None:
        if not isinstance(by_index, dict):
            raise type_error(
                "federation.facetsByIndex",
                "an object",
                by_index,
                "invalid_multi_search_facets_by_index",
            )
        for uid, names in by_index.items():
            if names is None:
                continue
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise type_error(
                    f"federation.facetsByIndex.{uid}",
                    "an array of strings",
                    names,
                    "invalid_multi_search_facets_by_index",
                )
            fed.facets_by_index[uid] = list(names)
    merge = raw.get("mergeFacets")
    if merge is not None:
        if not isinstance(merge, dict) or any(k != "maxValuesPerFacet" for k in merge):
            raise SiftError(
                "Invalid value at `.federation.mergeFacets`: expected an object with an "
                "optional `maxValuesPerFacet`",
                "invalid_multi_search_merge_facets",
            )
        fed.merge_facets = {"maxValuesPerFacet": _uint(merge, "maxValuesPerFacet", 100)}
    distinct = raw.get("distinct")
    if distinct is not None and not isinstance(distinct, str):
        raise type_error("federation.distinct", "a string", distinct, _CODE)
    fed.distinct = distinct
    show = raw.get("showPerformanceDetails")
    if show is not None and not isinstance(show, bool):
        raise type_error("federation.showPerformanceDetails", "a boolean", show, _CODE)
    fed.show_performance_details = bool(show)
    return fed


def query_remote(query: dict[str, Any]) -> str | None:
    """The node a federated query names in ``federationOptions.remote`` (checked by
    :func:`prepare_query`), or None."""
    options = query.get("federationOptions")
    remote = options.get("remote") if isinstance(options, dict) else None
    return remote if isinstance(remote, str) else None


def prepare_query(
    query: dict[str, Any], position: int, fed: Federation, index_uid: str
) -> tuple[dict[str, Any], float, bool]:
    """The search body to run for one federated query, its weight, and whether the
    caller asked to see ``_rankingScore`` (it is always computed, to merge). Which node
    runs it (``federationOptions.remote``) is :func:`query_remote`'s."""
    options = query.pop("federationOptions", None)
    weight = 1.0
    if options is not None:
        if not isinstance(options, dict):
            raise type_error(
                f"queries[{position}].federationOptions",
                "an object",
                options,
                "invalid_multi_search_federation_options",
            )
        for key in options:
            if key not in _OPTION_FIELDS:
                raise SiftError(
                    f"Unknown field `{key}` inside `.queries[{position}].federationOptions`",
                    "bad_request",
                )
        remote = options.get("remote")
        if remote is not None and not isinstance(remote, str):
            raise type_error(
                f"queries[{position}].federationOptions.remote",
                "a string",
                remote,
                "invalid_multi_search_remote",
            )
        raw = options.get("weight", 1.0)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
            raise SiftError(
                f"Invalid value at `.queries[{position}].federationOptions.weight`: the value "
                f"of `weight` is invalid, expected a positive float (>= 0.0), but found "
                f"{describe(raw)}.",
                "invalid_multi_search_weight",
            )
        weight = float(raw)
    for key in _QUERY_PAGINATION:
        if query.get(key) is not None:
            raise SiftError(
                f"Inside `.queries[{position}]`: Using pagination options is not allowed in "
                f"federated queries.\n - Hint: remove `{key}` from query #{position} or remove "
                "`federation` from the request\n - Hint: pass `federation.limit` and "
                "`federation.offset` for pagination in federated search",
                "invalid_multi_search_query_pagination",
            )
    if query.get("facets") is not None:
        raise SiftError(
            f"Inside `.queries[{position}]`: Using facet options is not allowed in federated "
            f"queries.\n - Hint: remove `facets` from query #{position} or remove `federation` "
            "from the request\n - Hint: pass `federation.facetsByIndex.{index_uid}: "
            f"{query['facets']!r}` for facets in federated search",
            "invalid_multi_search_query_facets",
        )
    body = {k: v for k, v in query.items() if k not in _QUERY_PAGINATION}
    start, count = fed.window()
    # Each query must supply every hit that could land on the merged page.
    body["limit"] = start + count
    body["offset"] = 0
    show_score = bool(body.get("showRankingScore"))
    body["showRankingScore"] = True
    if index_uid in fed.facets_by_index:
        body["facets"] = fed.facets_by_index[index_uid]
    if fed.distinct is not None and body.get("distinct") is None:
        body["distinct"] = fed.distinct
    return body, weight, show_score


def check_facet_indexes(fed: Federation, used: list[str]) -> None:
    for uid in fed.facets_by_index:
        if uid not in used:
            raise SiftError(
                f"Inside `.federation.facetsByIndex.{uid}`: Index `{uid}` is not used in queries.",
                "invalid_multi_search_facets_by_index",
            )


def merge(
    fed: Federation,
    results: list[QueryResult],
    order_key: Callable[[dict[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """The federated response body (without ``processingTimeMs``). Hits are ordered by
    weighted ranking score, or by ``order_key`` of each hit as its query returned it
    (ascending) when given; equal ones by query position, then by their query's
    ``order`` (or rank)."""
    ranked: list[tuple[Any, int, Any, dict[str, Any]]] = []
    total = 0
    for qr in results:
        total += int(qr.result.get("estimatedTotalHits", qr.result.get("totalHits", 0)))
        for rank, hit in enumerate(qr.result["hits"]):
            key = order_key(hit) if order_key is not None else None
            hit = dict(hit)
            score = float(hit.get("_rankingScore", 0.0))
            if not qr.show_score:
                hit.pop("_rankingScore", None)
            weighted = score * qr.weight
            hit["_federation"] = {
                "indexUid": qr.index_uid,
                "queriesPosition": qr.position,
                "weightedRankingScore": weighted,
            }
            if qr.remote is not None:
                hit["_federation"]["remote"] = qr.remote
            within = rank if qr.order is None else qr.order(hit)
            ranked.append((-weighted if key is None else key, qr.position, within, hit))
    ranked.sort(key=lambda item: item[:3])
    hits = [item[3] for item in ranked]
    if fed.distinct is not None:
        hits, dropped = _distinct(hits, fed.distinct)
        total -= dropped
    start, count = fed.window()
    body: dict[str, Any] = {"hits": hits[start : start + count]}
    if fed.paginated:
        per = 20 if fed.hits_per_page is None else fed.hits_per_page
        body.update(
            hitsPerPage=per,
            page=1 if fed.page is None else fed.page,
            totalPages=-(-total // per) if per else 0,
            totalHits=total,
        )
    else:
        body.update(limit=fed.limit, offset=fed.offset, estimatedTotalHits=total)
    by_index = _facets_by_index(fed, results)
    if fed.merge_facets is not None:
        body.update(_merged_facets(by_index, int(fed.merge_facets["maxValuesPerFacet"])))
    elif fed.facets_by_index:
        body["facetsByIndex"] = by_index
    return body


def _distinct(hits: list[dict[str, Any]], name: str) -> tuple[list[dict[str, Any]], int]:
    """Keep the best hit per value of ``name`` across indexes; each query already applied
    it within its own index. Hits without the attribute are all kept."""
    seen: set[str] = set()
    out = []
    for hit in hits:
        value: Any = hit
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            key = value.lower() if isinstance(value, str) else repr(value)
            if key in seen:
                continue
            seen.add(key)
        out.append(hit)
    return out, len(hits) - len(out)


def _facets_by_index(fed: Federation, results: list[QueryResult]) -> dict[str, Any]:
    """Per index: the facet distribution and stats of its queries' candidates. Counts of
    several queries on one index are added (a document both match counts twice)."""
    out: dict[str, Any] = {}
    for qr in results:
        if qr.index_uid not in fed.facets_by_index:
            continue
        entry = out.setdefault(qr.index_uid, {"distribution": {}, "stats": {}})
        for name, values in (qr.result.get("facetDistribution") or {}).items():
            counts = entry["distribution"].setdefault(name, {})
            for value, count in values.items():
                counts[value] = counts.get(value, 0) + count
        for name, stats in (qr.result.get("facetStats") or {}).items():
            entry["stats"][name] = _merge_stats(entry["stats"].get(name), stats)
    return out


def _merge_stats(a: dict[str, float] | None, b: dict[str, float]) -> dict[str, float]:
    if a is None:
        return dict(b)
    return {"min": min(a["min"], b["min"]), "max": max(a["max"], b["max"])}


def _merged_facets(by_index: dict[str, Any], max_values: int) -> dict[str, Any]:
    distribution: dict[str, dict[str, int]] = {}
    stats: dict[str, dict[str, float]] = {}
    for entry in by_index.values():
        for name, values in entry["distribution"].items():
            counts = distribution.setdefault(name, {})
            for value, count in values.items():
                counts[value] = counts.get(value, 0) + count
        for name, item in entry["stats"].items():
            stats[name] = _merge_stats(stats.get(name), item)
    # Alphabetical, as each index's own default; then cut to the merged maximum.
    for name, counts in distribution.items():
        distribution[name] = dict(sorted(counts.items())[:max_values])
    return {"facetDistribution": distribution, "facetStats": stats}
