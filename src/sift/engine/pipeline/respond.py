"""Respond: the page's hits (attributes, highlighting, cropping, scores), the facets of
the whole result set, and the response in Meilisearch's shape and key order."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sift.engine.doctable import WHOLE
from sift.engine.expand import QueryWord
from sift.engine.fields.groups import Membership
from sift.engine.format import (
    FormatOptions,
    Highlighter,
    cached_projection,
    format_value,
    matches_position,
    select_attributes,
)
from sift.engine.pipeline.page import Page
from sift.engine.pipeline.request import Request
from sift.engine.pipeline.stages import Ranking
from sift.engine.pipeline.timing import StageTimer
from sift.engine.query import SearchParams
from sift.engine.select import filterable, listing, matches_pattern
from sift.engine.store import IndexView, Snapshot
from sift.errors import SiftError
from sift.inputs import USIZE, parse_uint

# Projected hits a snapshot keeps (plain_hits): a few named attributes each, and only
# short strings among them (a typeahead's ids and titles), so that the cache stays a few
# MiB at most (4,096 hits of up to 8 values of 256 characters) whatever the documents
# hold: a page retrieving a long body is parsed each time instead.
HIT_CACHE_SIZE = 4096
HIT_CACHE_MAX_VALUES = 8
HIT_CACHE_MAX_CHARS = 256
_PLAIN = frozenset((str, int, float, bool, type(None)))

_KEY_ORDER = (
    "hits",
    "query",
    "processingTimeMs",
    "limit",
    "offset",
    "estimatedTotalHits",
    "hitsPerPage",
    "page",
    "totalPages",
    "totalHits",
    "facetDistribution",
    "facetStats",
    "facetsByIndex",  # federated multi-search only
    "semanticHitCount",  # hybrid search only
    "performanceDetails",
    "remoteErrors",  # searches across the network only
)


def response(
    request: Request, words: list[QueryWord], ranking: Ranking, page: Page, timer: StageTimer
) -> dict[str, Any]:
    params = request.params
    hits = build_hits(request, words, ranking, page.rows)
    timer.lap("search > format")
    # Keys added in _KEY_ORDER's order (processingTimeMs keeps its place when set last):
    # no reordering copy of the body.
    body: dict[str, Any] = {"hits": hits, "query": request.query, "processingTimeMs": 0}
    body.update(pagination_fields(params, page.total))
    if params.facets is not None:
        body.update(facets(request.index, ranking.facet_docids, params.facets,
                           ranking.facet_bits))
        timer.lap("search > facet distribution")
    if request.semantic_count:
        rows = slice(page.rows.start, page.rows.stop)
        body["semanticHitCount"] = (
            0 if ranking.semantic is None else int(ranking.semantic[rows].sum())
        )
    body["processingTimeMs"] = int((timer.last - timer.started) * 1000)
    if params.show_performance_details:
        body["performanceDetails"] = timer.details()
    return body


def ordered_response(body: dict[str, Any]) -> dict[str, Any]:
    """A search response with its keys in Meilisearch's order (single or federated)."""
    return {k: body[k] for k in _KEY_ORDER if k in body}


def pagination_fields(params: SearchParams, total: int) -> dict[str, Any]:
    """The response's paging keys: page mode or offset/limit mode, as Meilisearch shapes them."""
    if params.paginated:
        per = params.hits_per_page if params.hits_per_page is not None else 20
        return {
            "hitsPerPage": per,
            "page": params.page if params.page is not None else 1,
            "totalPages": math.ceil(total / per) if per else 0,
            "totalHits": total,
        }
    return {"limit": params.limit, "offset": params.offset, "estimatedTotalHits": total}


def facets(index: IndexView, docids: np.ndarray, names: list[str],
           bits: np.ndarray | None = None) -> dict[str, Any]:
    """The facet distribution and stats of ``docids`` (``bits``: the same as a bitset
    over docids, when the search built one)."""
    allowed = filterable(index)
    for name in names:
        if name != "*" and not matches_pattern(name, allowed):
            raise SiftError(
                f"Invalid facet distribution, attribute `{name}` is not filterable. The "
                f"available filterable attributes are {listing(allowed)}.",
                "invalid_search_facets",
            )
    faceting = index.settings["faceting"]
    # Candidates are distinct docids (a ranking's): counted from their side, or turned
    # into a BitMap only when a facet's values are counted by intersection.
    candidates = Membership(docids, bits)
    with index.fields_lock:
        dist = index.field_store.facet_distribution(
            candidates,
            names,
            int(faceting["maxValuesPerFacet"]),
            dict(faceting.get("sortFacetValuesBy") or {"*": "alpha"}),
        )
        stats = index.field_store.facet_stats(candidates, names)
    return {"facetDistribution": dist, "facetStats": stats}


def _format_options(params: SearchParams) -> FormatOptions | None:
    if params.attributes_to_highlight is None and params.attributes_to_crop is None:
        return None
    crop: dict[str, int] = {}
    for entry in params.attributes_to_crop or []:
        name, _, length = entry.partition(":")
        given = parse_uint(length, USIZE)
        crop[name] = params.crop_length if given is None else given
    return FormatOptions(
        {a: True for a in params.attributes_to_highlight or []},
        crop,
        params.highlight_pre_tag,
        params.highlight_post_tag,
        params.crop_marker,
    )


def plain_hits(snap: Snapshot, key: object | None,
               retrieved: Callable[[dict[str, Any]], dict[str, Any]], docids: list[int],
               only: str | None = None) -> list[dict[str, Any]]:
    """The documents ``docids`` projected by ``retrieved``, ``_vectors`` left out.

    ``key`` names the projection, compared by identity (build_hits passes ``retrieved``
    itself, which cached_projection gives again for the same lists), when it keeps a few
    named attributes: a hit of plain values (strings, numbers, booleans, null) is then
    kept per snapshot (at most HIT_CACHE_SIZE of them), and a page whose documents were
    on an earlier page (a typeahead's next keystroke, the same query again) copies them
    instead of parsing each stored document's JSON again (~1.5 µs per scifact abstract,
    for its `id`). A copy of plain values shares nothing: a hit stays the caller's to
    change. The kept hits are a plain dict by docid, each with the projection it was made
    by, emptied when full: an LRU keyed by (projection, docid) tuples cost a page of ten
    kept hits ~14 µs on a busy server, the tuples' hashing and comparisons and the
    recency list touching memory the search had pushed out of the caches (issue #18).

    ``only``: the one top-level attribute ``retrieved`` can keep (with ``key``), when the
    page asks for just it (a typeahead's ids): a document whose JSON opens with it is
    cut down to it without being parsed whole (DocTable.leading_values), the same hit."""
    if key is None:
        hits = [retrieved(doc) for doc in snap.docs.many(docids)]
        for hit in hits:
            hit.pop("_vectors", None)  # shown only when asked for (build_hits)
        return hits
    cache: dict[int, tuple[object, dict[str, Any]]] = snap.cached("hits", dict)
    kept: list[dict[str, Any] | None] = []
    missing: list[int] = []
    for docid in docids:
        entry = cache.get(docid)
        if entry is not None and entry[0] is key:
            kept.append(entry[1])
        else:
            kept.append(None)
            missing.append(docid)
    if missing:
        if len(cache) + len(missing) > HIT_CACHE_SIZE:
            cache.clear()  # a dict.clear, never a partial one another thread could see
        fresh = iter(_projected(snap, retrieved, missing, only))
        for i, hit in enumerate(kept):
            if hit is None:
                hit = next(fresh)
                hit.pop("_vectors", None)
                if _small_and_plain(hit):
                    cache[docids[i]] = (key, hit)
                kept[i] = hit
    return [dict(hit) for hit in kept]  # type: ignore[arg-type]


def _projected(snap: Snapshot, retrieved: Callable[[dict[str, Any]], dict[str, Any]],
               docids: list[int], only: str | None) -> list[dict[str, Any]]:
    """The documents ``docids`` projected by ``retrieved``; with ``only``, those whose
    JSON opens with it cut down to it (DocTable.leading_values), projected once for all:
    ``retrieved`` keeps ``only`` of every such document, or of none."""
    if only is None:
        return [retrieved(doc) for doc in snap.docs.many(docids)]
    docs = snap.docs
    values = docs.leading_values(docids, only)
    keeps = only in retrieved({only: 0})
    return [retrieved(docs[docid]) if value is WHOLE else {only: value} if keeps else {}
            for docid, value in zip(docids, values, strict=True)]


def _small_and_plain(hit: dict[str, Any]) -> bool:
    if len(hit) > HIT_CACHE_MAX_VALUES:
        return False
    for v in hit.values():  # a loop: all() and its generator cost ~0.3 µs a hit more
        kind = type(v)
        if kind not in _PLAIN or (kind is str and len(v) > HIT_CACHE_MAX_CHARS):
            return False
    return True


def build_hits(
    request: Request, words: list[QueryWord], ranking: Ranking, rows: range
) -> list[dict[str, Any]]:
    index, snap, params = request.index, request.snap, request.params
    displayed = list(index.settings.get("displayedAttributes") or ["*"])
    opts = _format_options(params)
    wanted = params.attributes_to_retrieve
    retrieved = cached_projection(None if wanted is None else tuple(wanted), tuple(displayed))
    docids = ranking.docids[rows.start:rows.stop].tolist()  # Python ints, one call
    if opts is None and not (
        params.retrieve_vectors or params.show_matches_position or request.geo is not None
        or params.show_ranking_score or params.show_ranking_score_details
    ):  # fmt: skip
        # The attributes alone (a typeahead's ids, a plain listing): no per-hit work but
        # the projection, and no highlighter to set up.
        named = wanted is not None and "*" not in wanted
        only = wanted[0] if wanted is not None and named and len(wanted) == 1 \
            and "." not in wanted[0] else None
        return plain_hits(snap, retrieved if named else None, retrieved, docids, only)
    hl = Highlighter(index.analyzer)
    for w in words:
        hl.words.update(w.highlight_words)
        if w.highlight_prefix:
            hl.prefixes.append(w.highlight_prefix)
    # `_formatted` shows what is retrieved plus what is highlighted or cropped.
    formatted_names = (
        [*(params.attributes_to_retrieve or []), *opts.highlight, *opts.crop] if opts else []
    )
    hits = []
    for row, docid in zip(rows, docids, strict=True):
        doc = snap.docs[docid]
        hit = retrieved(doc)
        # `_vectors` is never a displayed attribute: it appears only when asked for, and
        # then always (an empty object for a document without embeddings).
        hit.pop("_vectors", None)
        if params.retrieve_vectors:
            vectors = doc.get("_vectors")
            hit["_vectors"] = vectors if isinstance(vectors, dict) else {}
        if opts is not None:
            shown = select_attributes(doc, None, displayed)
            shown.pop("_vectors", None)
            if params.attributes_to_retrieve is not None:
                shown = select_attributes(shown, formatted_names, ["*"])
            hit["_formatted"] = {k: format_value(v, k, hl, opts) for k, v in shown.items()}
        if params.show_matches_position:
            hit["_matchesPosition"] = matches_position(
                select_attributes(doc, None, displayed), hl, index.is_searchable
            )
        if request.geo is not None:
            with index.fields_lock:
                dist = index.field_store.geo_distance(np.array([docid]), *request.geo)[0]
            if not np.isnan(dist):
                hit["_geoDistance"] = round(float(dist))
        if params.show_ranking_score:
            hit["_rankingScore"] = float(ranking.scores[row])
        if params.show_ranking_score_details:
            entry = int(ranking.details[row])
            explain = ranking.explain
            details = explain.details(entry) if explain is not None and entry >= 0 else {}
            if ranking.clicks and docid in ranking.clicks:
                details["clicks"] = {"order": len(details), **ranking.clicks[docid]}
            hit["_rankingScoreDetails"] = details
        hits.append(hit)
    return hits
