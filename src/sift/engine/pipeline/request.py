"""Parse: a search request checked against the index, with what the later stages read.

The body's shape was already checked by SearchParams; what needs the index (sortable
and filterable attributes) is checked here, once, whichever legs the search runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from sift.engine.clicks import ClickSignal
from sift.engine.frozen import quick_init
from sift.engine.query import SearchParams, page_rows
from sift.engine.ranking import RelevanceParams
from sift.engine.select import check_sort, filter_mask
from sift.engine.store import IndexView, Snapshot

if TYPE_CHECKING:
    from sift.engine.pipeline.vectors import VectorLeg


@quick_init
@dataclass(frozen=True)
class Request:
    index: IndexView
    snap: Snapshot  # the index's snapshot, read by every stage of this search
    params: SearchParams
    relevance: RelevanceParams
    sort: list[str]  # validated `sort` entries
    geo: tuple[float, float] | None  # a `_geoPoint(lat, lng)` sort: hits get `_geoDistance`
    mask: np.ndarray | None  # bool per docid passing `filter` (tenant token's ANDed in)
    start: int  # the page's first row
    count: int  # the page's rows
    vectors: VectorLeg | None  # the semantic leg; None: a keyword search
    semantic_count: bool  # answer `semanticHitCount` (a semantic leg was asked for)
    clicks: ClickSignal | None = None  # the query's learned click signal (signal stage)

    @property
    def query(self) -> str:
        return self.params.q or ""

    @property
    def has_words(self) -> bool:
        return bool(self.query.strip())

    @property
    def window(self) -> int:
        """Candidates each leg of a hybrid search brings to the fusion."""
        assert self.vectors is not None
        params = self.params
        return max(self.vectors.depth, params.offset + params.limit, self.start + self.count)

    @property
    def ordered_rows(self) -> int | None:
        """How many leading candidates of a keyword search must be in rank order: the
        page's end, unless distinct or a score threshold drops rows before paging (then
        all). A stage that reads deeper into the ranking raises it here: search rules'
        pins push rows down and hidden documents named by id pull them up; a boost, a
        demotion or a scale selecting by filter may move any candidate (then all)."""
        params = self.params
        if params.distinct or self.index.settings.get("distinctAttribute"):
            return None
        if params.ranking_score_threshold is not None:
            return None
        rules = params.curation
        if not rules:
            return self.start + self.count
        if any(s.weight != 0 or s.ids is None for s in rules.scales):
            return None
        hidden = sum(len(s.ids or ()) for s in rules.scales)
        return self.start + self.count + len(rules.pins) + hidden

    @property
    def page_scores_only(self) -> bool:
        """Whether a keyword search reads the scores of its ordered rows alone (the
        relevance rule may then leave the proximity bonus off rows that cannot reach
        them): not with a click signal, which re-ranks with every row's score, nor with
        search rules, whose pinned documents keep their score from wherever they ranked."""
        return self.clicks is None and not self.params.curation

    def keyword_only(self) -> Request:
        """This request answered by the keyword leg alone (its query could not be embedded)."""
        return replace(self, vectors=None)


# What a search without relevance parameters of its own ranks with: one instance (frozen),
# not a 17-field dataclass made per search.
DEFAULT_RELEVANCE = RelevanceParams()


def page_window(params: SearchParams) -> tuple[int, int]:
    """(first row, rows) of the requested page: page/hitsPerPage or offset/limit."""
    if params.paginated:
        per = params.hits_per_page if params.hits_per_page is not None else 20
        page = params.page if params.page is not None else 1
        if page == 0:
            return 0, 0
        return page_rows((page - 1) * per, per)
    return page_rows(params.offset, params.limit)


def parse(
    index: IndexView,
    params: SearchParams,
    vectors: VectorLeg | None = None,
    relevance: RelevanceParams | None = None,
    clicks: ClickSignal | None = None,
) -> Request:
    sort, geo = ([], None)
    if params.sort:
        sort, geo = check_sort(index, params.sort, "invalid_search_sort", ranking_rule=True)
    snap = index.snapshot
    mask = filter_mask(index, snap, params.filter) if params.filter is not None else None
    start, count = page_window(params)
    return Request(
        index=index,
        snap=snap,
        params=params,
        relevance=relevance or DEFAULT_RELEVANCE,
        sort=sort,
        geo=geo,
        mask=mask,
        start=start,
        count=count,
        vectors=vectors if vectors is not None and vectors.has_query else None,
        semantic_count=vectors is not None,
        clicks=clicks,
    )
