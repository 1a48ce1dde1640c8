"""Facet search: the values of one facet among the documents a search would match."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sift.engine.fields.groups import bitmap_from_array
from sift.engine.pipeline.lexical import match_and_rank
from sift.engine.pipeline.request import parse
from sift.engine.query import SearchParams
from sift.engine.select import filterable, listing, matches_pattern
from sift.engine.settings import describe
from sift.engine.store import IndexView
from sift.errors import SiftError

# The documented name, and the spelling meilisearch-python-sdk 8.x sends.
_EXHAUSTIVE_KEYS = ("exhaustiveFacetCount", "exhaustivefacetCount")


def run_facet_search(index: IndexView, body: Any) -> dict[str, Any]:
    started = time.perf_counter()
    if not isinstance(body, dict):
        raise SiftError("Invalid value type: expected an object.", "bad_request")
    name = body.get("facetName")
    if name is None:
        raise SiftError("Missing field `facetName`", "missing_facet_search_facet_name")
    if not isinstance(name, str):
        raise SiftError(
            "Invalid value type at `.facetName`: expected a string.",
            "invalid_facet_search_facet_name",
        )
    allowed = filterable(index)
    if not matches_pattern(name, allowed):
        raise SiftError(
            f"Attribute `{name}` is not facet-searchable. Available facet-searchable attributes "
            f"are: {listing(allowed)}. To make it facet-searchable add it to the "
            "`filterableAttributes` index settings.",
            "invalid_facet_search_facet_name",
        )
    if index.settings.get("facetSearch") is False:
        raise SiftError(
            "The facet search is disabled for this index.", "invalid_facet_search_facet_name"
        )
    query = body.get("facetQuery")
    if query is not None and not isinstance(query, str):
        raise SiftError(
            "Invalid value type at `.facetQuery`: expected a string.",
            "invalid_facet_search_facet_query",
        )
    for key in _EXHAUSTIVE_KEYS:
        if body.get(key) is not None and not isinstance(body[key], bool):
            raise SiftError(
                f"Invalid value type at `.{key}`: expected a boolean, but found "
                f"{describe(body[key])}",
                "invalid_facet_search_exhaustive_facet_count",
            )
    # Counts are always exact here (no early stop on large candidate sets), so the flag
    # asking for exact counts needs no work.
    rest = {
        k: v for k, v in body.items() if k not in ("facetName", "facetQuery", *_EXHAUSTIVE_KEYS)
    }
    request = parse(index, SearchParams.from_dict(rest))
    docids = match_and_rank(request, request.sort, None).docids
    faceting = index.settings["faceting"]
    order = (faceting.get("sortFacetValuesBy") or {}).get(name) or (
        faceting.get("sortFacetValuesBy") or {}
    ).get("*", "alpha")
    with index.fields_lock:
        candidates = bitmap_from_array(np.unique(docids))
        hits = index.field_store.facet_search(name, query, candidates, 100, order)
    return {
        "facetHits": hits,
        "facetQuery": query,
        "processingTimeMs": int((time.perf_counter() - started) * 1000),
    }
