"""Run a search on one snapshot: filter, match, rank, distinct, paginate, format.

Validation that needs the index (filterable/sortable/searchable attributes)
happens here; the body's shape was already checked by SearchParams.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from sift.engine import filter_ast
from sift.engine.expand import (
    ExpandConfig,
    QueryWord,
    collapse_repeats,
    expand,
    max_typos,
    parse_query,
    split_negations,
)
from sift.engine.fields_groups import Membership, bitmap_from_array
from sift.engine.filters import parse_filter
from sift.engine.format import (
    FormatOptions,
    Highlighter,
    format_value,
    matches_position,
    select_attributes,
)
from sift.engine.match import Features, MatchContext, gather, phrase_occurrences
from sift.engine.partition import SHARD_FIELD
from sift.engine.query import SearchParams
from sift.engine.ranking import (
    CUSTOM_RULE,
    Ranked,
    RankInput,
    RelevanceParams,
    rank,
    top_order,
)
from sift.engine.settings import describe
from sift.engine.store import IndexView, Snapshot
from sift.errors import SiftError
from sift.inputs import USIZE, parse_uint

# Rules that count or place every query word (collapse_repeats would change them).
BUCKET_RULES = frozenset(("words", "typo", "proximity", "attribute", "attributeRank",
                          "wordPosition", "exactness"))
_GEO_POINT = re.compile(r"^_geoPoint\(\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*\)$")


def _matches_pattern(name: str, patterns: list[str]) -> bool:
    for p in patterns:
        if p == "*" or p == name or name.startswith(p + "."):
            return True
        if p.endswith("*") and name.startswith(p[:-1]):
            return True
    return False


def _filterable(index: IndexView) -> list[str]:
    out: list[str] = []
    for a in index.settings.get("filterableAttributes") or []:
        out += [a] if isinstance(a, str) else list(a.get("attributePatterns", []))
    return out


def _listing(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in sorted(names))


def filter_docids(index: IndexView, snap: Snapshot, expr: Any, code: str) -> np.ndarray:
    """Sorted internal docids of ``snap`` matching a filter expression."""
    node = parse_filter(expr, code)
    filterable = _filterable(index)
    if SHARD_FIELD in index.field_store.filterable:  # a partitioned index (partition.py)
        filterable.append(SHARD_FIELD)
    # Meilisearch's message: it names the attribute and points at it in the filter.
    filter_ast.ensure_filterable(node, filterable, code)
    with index.fields_lock:
        bitmap = index.field_store.evaluate(node)
    ids = np.frombuffer(bitmap.to_array(), dtype=np.uint32) if bitmap else np.empty(0, np.uint32)
    ids = ids[ids < snap.alive.size]
    return ids[snap.alive[ids]]


def filter_mask(index: IndexView, snap: Snapshot, expr: Any) -> np.ndarray:
    """Read-only bool mask over docids of ``snap`` matching a search filter.

    Sites send the same few filters over and over (``in_stock = true``, a category):
    the mask is kept per snapshot in a small LRU, so a repeated filter costs nothing.
    An invalid filter is never cached, so it raises every time."""
    def build() -> np.ndarray:
        mask = np.zeros(snap.alive.size, dtype=bool)
        mask[filter_docids(index, snap, expr, "invalid_search_filter")] = True
        mask.flags.writeable = False
        return mask

    try:
        key = "filter:" + orjson.dumps(expr).decode()
    except TypeError:  # not JSON (never from HTTP): no caching
        return build()
    return snap.cached_lru(key, build)


@dataclass
class Plan:
    words: list[QueryWord] = field(default_factory=list)
    order: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    docids: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint32))  # by order
    scores: np.ndarray = field(default_factory=lambda: np.empty(0))  # by order
    ranked: Ranked | None = None
    geo: tuple[float, float] | None = None


def field_ranks(index: IndexView, snap: Snapshot) -> tuple[np.ndarray, int]:
    """Attribute rank of every field id (0 = most important) and the number of ranks."""
    names = snap.field_names
    searchable = index.searchable
    if "*" in searchable:
        return np.arange(max(len(names), 1), dtype=np.int64), max(len(names), 1)
    ranks = np.full(max(len(names), 1), len(searchable), dtype=np.int64)
    for fid, name in enumerate(names):
        for r, attr in enumerate(searchable):
            if name == attr or name.startswith(attr + "."):
                ranks[fid] = r
                break
    return ranks, len(searchable)


def _field_mask(snap: Snapshot, names: list[str] | None) -> np.ndarray:
    n = max(len(snap.field_names), 1)
    if names is None:
        return np.ones(n, dtype=bool)
    mask = np.zeros(n, dtype=bool)
    for fid, name in enumerate(snap.field_names):
        mask[fid] = _matches_pattern(name, names)
    return mask


def _sort_entries(index: IndexView, params: SearchParams) -> tuple[list[str], Any]:
    if not params.sort:
        return [], None
    return check_sort(index, params.sort, "invalid_search_sort", ranking_rule=True)


def check_sort(
    index: IndexView, sort: list[str], code: str, ranking_rule: bool
) -> tuple[list[str], Any]:
    """Validated ``sort`` entries and the geo point of a ``_geoPoint`` entry, if any."""
    if ranking_rule and "sort" not in index.settings["rankingRules"]:
        raise SiftError(
            "You must specify the `sort` ranking rule in the ranking rules settings to use the "
            "sort parameter at search time.",
            code,
        )
    sortable = list(index.settings.get("sortableAttributes") or [])
    geo = None
    for entry in sort:
        m = CUSTOM_RULE.match(entry)
        if m is None:
            raise SiftError(
                f"Invalid syntax for the sort parameter: expected expression ending by `:asc` or "
                f"`:desc`, found `{entry}`.",
                code,
            )
        g = _GEO_POINT.match(m.group(1))
        if g is not None:
            if "_geo" not in sortable:
                raise SiftError(
                    "Attribute `_geo` is not sortable. Available sortable attributes "
                    f"are: {_listing(sortable)}.",
                    code,
                )
            geo = (float(g.group(1)), float(g.group(2)))
        elif m.group(1).startswith("_geo"):
            raise SiftError(
                f"Invalid syntax for the sort parameter: `{m.group(1)}` is not a "
                "valid geo expression.",
                "invalid_sort_geo",
            )
        elif not _matches_pattern(m.group(1), sortable):
            raise SiftError(
                f"Attribute `{m.group(1)}` is not sortable. Available sortable attributes are: "
                f"{_listing(sortable)}.",
                code,
            )
    return list(sort), geo


def sorted_docids(
    index: IndexView, snap: Snapshot, sort: list[str], filter: Any, code: str
) -> np.ndarray:
    """Every live document (or those matching ``filter``) ordered by ``sort``; ties keep
    internal docid order (the order documents were indexed in)."""
    entries, _ = check_sort(index, sort, code, ranking_rule=False)
    docids = (
        np.nonzero(snap.alive)[0]
        if filter is None
        else filter_docids(index, snap, filter, "invalid_document_filter")
    ).astype(np.uint32)
    keys_of = _sort_key_fn(index, snap)
    keys = []
    for entry in entries:
        m = CUSTOM_RULE.match(entry)
        assert m is not None  # check_sort validated it
        keys.append(keys_of(m.group(1), docids, m.group(2) == "asc"))
    if not keys:
        return docids
    return docids[np.lexsort([docids, *keys[::-1]])]


def _sort_key_fn(index: IndexView, snap: Snapshot) -> Any:
    def keys(name: str, docids: np.ndarray, asc: bool) -> np.ndarray:
        g = _GEO_POINT.match(name)
        with index.fields_lock:
            if g is not None:
                dist = index.field_store.geo_distance(docids, float(g.group(1)), float(g.group(2)))
                dist = np.where(np.isnan(dist), np.inf, dist if asc else -dist)
                return dist
            return index.field_store.sort_keys(name, docids, descending=not asc)

    return keys


def _containing(snap: Snapshot, phrases: list[list[str]]) -> np.ndarray:
    """Mask of the documents containing any of ``phrases`` (negative search)."""
    mask = np.zeros(snap.alive.size, dtype=bool)
    for words in phrases:
        mask[phrase_occurrences(words, snap, 0, True, 1.0).docs] = True
    return mask


def placeholder_order(rules: list[str], sort: list[str]) -> list[str]:
    """What orders a search without words, as in Meilisearch: the request's `sort` where
    the `sort` rule stands (first when the rules lack it) and the settings' custom
    `field:asc|desc` rules where they stand; every other rule cannot tell documents apart."""
    entries: list[str] = []
    for rule in rules:
        if rule == "sort":
            entries.extend(sort)
        elif CUSTOM_RULE.match(rule):
            entries.append(rule)
    return entries if "sort" in rules else [*sort, *entries]


def plan_search(
    index: IndexView,
    snap: Snapshot,
    params: SearchParams,
    relevance: RelevanceParams | None = None,
    need: int | None = None,
) -> Plan:
    """Candidates matching q and filter, ranked, before distinct and pagination.

    Only the first ``need`` candidates are guaranteed in rank order (None: all); the
    rest are every other match, for counts and facets."""
    settings = index.settings
    rules = list(settings["rankingRules"])
    sort, geo = _sort_entries(index, params)
    doc_mask = snap.alive
    if params.filter is not None:
        doc_mask = filter_mask(index, snap, params.filter)
    stems = "relevance" in rules
    q, negated = split_negations(params.q or "", index.analyzer)
    if negated:
        doc_mask = doc_mask & ~_containing(snap, negated)
    words, _ = parse_query(
        q,
        index.analyzer,
        {w for s in settings.get("stopWords") or [] for w in index.analyzer.words(s)},
    )
    sequence = None
    if stems and not BUCKET_RULES.intersection(rules):
        # Only the relevance score reads the words: repeats can be scored once.
        words, sequence = collapse_repeats(words)
    plan = Plan(words=words, geo=geo)
    sort_fn = _sort_key_fn(index, snap)
    if not words:
        docids = np.nonzero(doc_mask)[0].astype(np.uint32)
        keys = [
            sort_fn(m.group(1), docids, m.group(2) == "asc")
            for e in placeholder_order(rules, sort)
            if (m := CUSTOM_RULE.match(e))
        ]
        order = top_order(keys, need) if keys else np.arange(docids.size)
        plan.docids, plan.scores = docids[order], np.ones(order.size)
        plan.order = order
        return plan
    # Field ids are append-only: the same count means the same names.
    field_rank, n_ranks = index.derived(("field_ranks", len(snap.field_names)),
                                        lambda: field_ranks(index, snap))
    searchable = params.attributes_to_search_on
    if searchable is not None:
        for name in searchable:
            if (
                not any(_matches_pattern(f, [name]) for f in index.searchable)
                and "*" not in index.searchable
            ):
                raise SiftError(
                    f"Attribute `{name}` is not searchable. Available searchable attributes are: "
                    f"{_listing(index.searchable)}.",
                    "invalid_search_attributes_to_search_on",
                )
    typo_off = settings["typoTolerance"].get("disableOnAttributes") or []
    ctx = MatchContext(
        doc_mask,
        _field_mask(snap, searchable),
        ~_field_mask(snap, typo_off) if typo_off else _field_mask(snap, None),
        every_doc=doc_mask is snap.alive and snap.n_alive == snap.alive.size,
    )
    relevance = relevance or RelevanceParams()
    long = sequence is not None and _is_long(words, relevance)
    # In a pasted paragraph a word the index knows is taken as spelled as meant.
    trusted = 1 if long else relevance.trusted_count
    cfg = index.derived(("expand", stems, relevance.prefix_weight, relevance.typo_weight,
                         trusted),
                        lambda: _expand_config(settings, index, stems, relevance, trusted))
    expand(words, snap, cfg)  # every word, stop words included, is highlighted
    ranked_words = words
    if long and sequence is not None and not relevance.stop_weight:
        ranked_words, sequence = _without_stop_words(words, sequence)
    occs = [gather(w, snap, ctx) for w in ranked_words]
    feats = Features(occs, field_rank, snap.alive.size)
    inp = RankInput(
        snap,
        ranked_words,
        occs,
        feats,
        params.matching_strategy,
        field_rank,
        n_ranks,
        sort,
        sort_fn,
        relevance,
        settings.get("proximityPrecision") == "byAttribute",
        need=need,
        deadline=_deadline(settings),
        typo_budget=[0 if w.phrase is not None else max_typos(w.text, cfg)
                     for w in ranked_words],
        sequence=sequence,
    )
    ranked = rank(inp, rules)
    plan.ranked = ranked
    plan.order = ranked.order
    plan.docids = feats.cands[ranked.order]
    plan.scores = ranked.score[ranked.order]
    return plan


def _is_long(words: list[QueryWord], relevance: RelevanceParams) -> bool:
    """A query of more than ``long_query_words`` distinct content words: pasted text, not
    typed keywords (see docs/ranking.md, "Long queries")."""
    limit = relevance.long_query_words
    return bool(limit) and sum(1 for w in words if not w.stop) > limit


def _without_stop_words(words: list[QueryWord], sequence: list[int]
                        ) -> tuple[list[QueryWord], list[int]]:
    """The content words of a long query, and its sequence renumbered.

    The relevance score gives stop words no weight; they only make documents candidates
    and count for the every-word bonus. In a long query neither is worth their
    occurrences, which are most of the query's: a document matching only "the" and "of"
    is no answer."""
    content = [i for i, w in enumerate(words) if not w.stop]
    renumber = {old: new for new, old in enumerate(content)}
    return [words[i] for i in content], [renumber[i] for i in sequence if i in renumber]


def _expand_config(settings: dict[str, Any], index: IndexView, stems: bool,
                   relevance: RelevanceParams, trusted_count: int) -> ExpandConfig:
    cfg = ExpandConfig.from_settings(settings, index.analyzer, stems)
    if stems:
        cfg.prefix_weight = relevance.prefix_weight
        cfg.typo_weight = relevance.typo_weight
        cfg.trusted_count = trusted_count
    return cfg


def _distinct(index: IndexView, snap: Snapshot, params: SearchParams, plan: Plan) -> None:
    name = params.distinct or index.settings.get("distinctAttribute")
    if params.distinct and not _matches_pattern(params.distinct, _filterable(index)):
        raise SiftError(
            f"Attribute `{params.distinct}` is not filterable and thus, cannot be used as "
            f"distinct attribute. Available filterable attributes are: "
            f"{_listing(_filterable(index))}.",
            "invalid_search_distinct",
        )
    if not name or plan.docids.size == 0:
        return
    codes = snap.cached(f"distinct:{name}", lambda: _distinct_codes(snap, name))
    values = codes[plan.docids]
    # Documents without the attribute are all kept (each is its own group).
    values = np.where(values < 0, -1 - plan.docids.astype(np.int64), values)
    _, first = np.unique(values, return_index=True)
    keep = np.sort(first)
    plan.order, plan.docids, plan.scores = plan.order[keep], plan.docids[keep], plan.scores[keep]


def _distinct_codes(snap: Snapshot, name: str) -> np.ndarray:
    """Value code per docid for the distinct attribute (-1: missing); built once per
    snapshot, so the per-query work stays vectorized."""
    codes = np.full(snap.alive.size, -1, dtype=np.int64)
    table: dict[str, int] = {}
    for docid, doc in snap.docs.items():
        value: Any = doc
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, list):
            value = value[0] if value else None
        if value is None:
            continue
        key = repr(value).lower() if isinstance(value, str) else repr(value)
        codes[docid] = table.setdefault(key, len(table))
    return codes


# Meilisearch's searchCutoffMs default: a search past it stops refining its ranking.
DEFAULT_SEARCH_CUTOFF_MS = 1500


def _deadline(settings: dict[str, Any]) -> float:
    cutoff = settings.get("searchCutoffMs")
    cutoff = DEFAULT_SEARCH_CUTOFF_MS if cutoff is None else int(cutoff)
    return time.perf_counter() + cutoff / 1000


def _ordered_rows(index: IndexView, params: SearchParams) -> int | None:
    """How many leading candidates must be in rank order: the requested page's end,
    unless distinct or a score threshold drops rows before paging (then all)."""
    if params.distinct or index.settings.get("distinctAttribute"):
        return None
    if params.ranking_score_threshold is not None:
        return None
    start, count = _page(params, 0)
    return start + count


def _page(params: SearchParams, total: int) -> tuple[int, int]:
    if params.paginated:
        per = params.hits_per_page if params.hits_per_page is not None else 20
        page = params.page if params.page is not None else 1
        if page == 0:
            return 0, 0
        return (page - 1) * per, per
    return params.offset, params.limit


def run_search(
    index: IndexView, snap: Snapshot, params: SearchParams, relevance: RelevanceParams | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    timer = StageTimer(started)
    plan = plan_search(index, snap, params, relevance, _ordered_rows(index, params))
    if params.ranking_score_threshold is not None:
        keep = plan.scores >= params.ranking_score_threshold
        plan.order, plan.docids, plan.scores = (
            plan.order[keep],
            plan.docids[keep],
            plan.scores[keep],
        )
    all_docids = plan.docids
    timer.lap("search > filter, match and rank")
    _distinct(index, snap, params, plan)
    timer.lap("search > distinct")
    max_total = int(index.settings["pagination"]["maxTotalHits"])
    total = min(plan.docids.size, max_total)
    start, count = _page(params, total)
    end = min(start + count, total)
    hits = build_hits(index, snap, params, plan, range(start, max(start, end)))
    timer.lap("search > format")
    body: dict[str, Any] = {"hits": hits, "query": params.q or ""}
    body.update(pagination_fields(params, total))
    if params.facets is not None:
        body.update(facets(index, all_docids, params.facets))
        timer.lap("search > facet distribution")
    body["processingTimeMs"] = int((time.perf_counter() - started) * 1000)
    if params.show_performance_details:
        body["performanceDetails"] = timer.details()
    return ordered_response(body)


class StageTimer:
    """Wall time per search stage, reported as ``performanceDetails`` when asked for."""

    def __init__(self, started: float | None = None) -> None:
        self.started = time.perf_counter() if started is None else started
        self.last = self.started
        self.stages: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self.last
        self.last = now

    def details(self, total: str = "search") -> dict[str, str]:
        """Stage -> duration, formatted like Meilisearch's (``"1.23ms"``), total first."""
        out = {total: duration_text(self.last - self.started)}
        out.update((stage, duration_text(seconds)) for stage, seconds in self.stages.items())
        return out


def duration_text(seconds: float) -> str:
    """A duration as Meilisearch writes them in timings (``"1.23ms"``, ``"2.50s"``)."""
    return f"{seconds:.2f}s" if seconds >= 1 else f"{seconds * 1000:.2f}ms"


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
    "performanceDetails",
    "remoteErrors",  # searches across the network only
)


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


def facets(index: IndexView, docids: np.ndarray, names: list[str]) -> dict[str, Any]:
    filterable = _filterable(index)
    for name in names:
        if name != "*" and not _matches_pattern(name, filterable):
            raise SiftError(
                f"Invalid facet distribution, attribute `{name}` is not filterable. The "
                f"available filterable attributes are {_listing(filterable)}.",
                "invalid_search_facets",
            )
    faceting = index.settings["faceting"]
    # Candidates are distinct docids (a plan's or a fusion's): counted from their side,
    # or turned into a BitMap only when a facet's values are counted by intersection.
    candidates = Membership(docids)
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


def build_hits(
    index: IndexView, snap: Snapshot, params: SearchParams, plan: Plan, rows: range
) -> list[dict[str, Any]]:
    displayed = list(index.settings.get("displayedAttributes") or ["*"])
    opts = _format_options(params)
    hl = Highlighter(index.analyzer)
    for w in plan.words:
        hl.words.update(w.highlight_words)
        if w.highlight_prefix:
            hl.prefixes.append(w.highlight_prefix)
    # `_formatted` shows what is retrieved plus what is highlighted or cropped.
    formatted_names = (
        [*(params.attributes_to_retrieve or []), *opts.highlight, *opts.crop] if opts else []
    )
    hits = []
    docids = plan.docids[rows.start:rows.stop].tolist()  # Python ints, one call
    for row, docid in zip(rows, docids, strict=True):
        doc = snap.docs[docid]
        hit = select_attributes(doc, params.attributes_to_retrieve, displayed)
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
        if plan.geo is not None:
            with index.fields_lock:
                dist = index.field_store.geo_distance(np.array([docid]), *plan.geo)[0]
            if not np.isnan(dist):
                hit["_geoDistance"] = round(float(dist))
        if params.show_ranking_score:
            hit["_rankingScore"] = float(plan.scores[row])
        if params.show_ranking_score_details:
            hit["_rankingScoreDetails"] = (
                plan.ranked.details(int(plan.order[row])) if plan.ranked is not None else {}
            )
        hits.append(hit)
    return hits


# The documented name, and the spelling meilisearch-python-sdk 8.x sends.
_EXHAUSTIVE_KEYS = ("exhaustiveFacetCount", "exhaustivefacetCount")


def run_facet_search(index: IndexView, snap: Snapshot, body: Any) -> dict[str, Any]:
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
    filterable = _filterable(index)
    if not _matches_pattern(name, filterable):
        raise SiftError(
            f"Attribute `{name}` is not facet-searchable. Available facet-searchable attributes "
            f"are: {_listing(filterable)}. To make it facet-searchable add it to the "
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
    params = SearchParams.from_dict(rest)
    plan = plan_search(index, snap, params)
    faceting = index.settings["faceting"]
    order = (faceting.get("sortFacetValuesBy") or {}).get(name) or (
        faceting.get("sortFacetValuesBy") or {}
    ).get("*", "alpha")
    with index.fields_lock:
        candidates = bitmap_from_array(np.unique(plan.docids))
        hits = index.field_store.facet_search(name, query, candidates, 100, order)
    return {
        "facetHits": hits,
        "facetQuery": query,
        "processingTimeMs": int((time.perf_counter() - started) * 1000),
    }
