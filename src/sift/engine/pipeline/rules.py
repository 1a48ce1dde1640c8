"""Stage slot: search rules (pin a document at a position, hide, boost, deboost),
within the request's filter. The rules matching the search come with the parameters
(``params.curation``, chosen by sift.rules); ``sift.engine.curation`` applies them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from sift.engine import curation
from sift.engine.pipeline.lexical import placeholder_order
from sift.engine.pipeline.stages import Ranking, StageContext
from sift.engine.ranking import CUSTOM_RULE
from sift.engine.select import filter_docids
from sift.errors import SiftError


def apply(ranking: Ranking, context: StageContext) -> Ranking:
    rules = context.params.curation
    if not rules:
        return ranking
    index, snap = context.index, context.snap
    internal = snap.cached("internal_ids", lambda: {e: i for i, e in enumerate(snap.ext_ids)})

    def select(expr: Any) -> np.ndarray:
        try:
            return filter_docids(index, snap, expr, "invalid_search_filter")
        except SiftError:  # e.g. an attribute no longer filterable: the action selects none
            return np.empty(0, np.uint32)

    resolved = curation.resolve(rules, internal, select, context.allowed)
    docids, scores, rows = curation.apply(ranking.docids, ranking.scores, resolved,
                                          ranks_by_score(context))
    found = rows >= 0  # rows the ranking had; the others are pins it did not hold
    details = np.full(rows.size, -1, dtype=np.int64)
    details[found] = ranking.details[rows[found]]
    semantic = None
    if ranking.semantic is not None:
        semantic = np.zeros(rows.size, dtype=bool)
        semantic[found] = ranking.semantic[rows[found]]
    inserted = docids[rows < 0]
    dropped = np.ones(ranking.docids.size, dtype=bool)
    dropped[rows[found]] = False
    hidden = ranking.docids[dropped]
    facet = ranking.facet_docids
    if hidden.size:
        facet = np.setdiff1d(facet, hidden)
    if inserted.size:
        facet = np.union1d(facet, inserted)
    ordered = ranking.ordered
    if ordered is not None:  # an organic row from the unordered tail ends the prefix
        pinned = np.isin(docids, resolved.pin_docids)
        tail = np.nonzero((rows >= ordered) & ~pinned)[0]
        ordered = int(tail[0]) if tail.size else None
    return replace(
        ranking,
        docids=docids.astype(np.uint32),
        scores=scores,
        details=details,
        semantic=semantic,
        total=ranking.total - int(hidden.size) + int(inserted.size),
        facet_docids=facet.astype(np.uint32),
        facet_bits=None,  # of the facet docids before the rules
        ordered=ordered,
    )


def ranks_by_score(context: StageContext) -> bool:
    """Whether the hits' order is their score's: no `sort` or custom `attr:asc` rule
    decides it first (Meilisearch: scaling has little effect when the first ranking
    rule is not a relevancy rule)."""
    rules = list(context.index.settings["rankingRules"])
    sort = list(context.params.sort or [])
    if not (context.params.q or "").strip():
        return not placeholder_order(rules, sort)
    first = next((r for r in rules if r != "sort" or sort), None)
    return first is not None and first != "sort" and CUSTOM_RULE.match(first) is None
