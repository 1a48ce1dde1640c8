"""The hand-off from fusion to paging (:class:`Ranking`) and what a stage between them
may read (:class:`StageContext`); the module docstring of ``sift.engine.pipeline``
says how a stage plugs in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from sift.engine.pipeline.request import Request
from sift.engine.query import SearchParams, normalise_query
from sift.engine.ranking import Ranked
from sift.engine.store import IndexView, Snapshot


@dataclass(frozen=True)
class Ranking:
    """The result set of one search, best first. Per-row arrays are aligned: reorder or
    drop rows with :meth:`take`, add rows with ``dataclasses.replace``."""

    docids: np.ndarray  # uint32
    scores: np.ndarray  # float64 per row: `_rankingScore`
    details: np.ndarray  # int64 per row: its entry in ``explain`` (-1: none)
    semantic: np.ndarray | None  # bool per row: the semantic leg brought it (None: no leg)
    explain: Ranked | None  # `_rankingScoreDetails` of each ``details`` entry
    total: int  # documents matching (estimatedTotalHits before maxTotalHits)
    facet_docids: np.ndarray  # the candidates facets count (uint32, any order)
    ordered: int | None  # leading rows in rank order, the rest unordered (None: every row)

    def take(self, rows: np.ndarray) -> Ranking:
        """These rows (indices or a bool mask), in this order; ``total`` unchanged."""
        return replace(
            self,
            docids=self.docids[rows],
            scores=self.scores[rows],
            details=self.details[rows],
            semantic=None if self.semantic is None else self.semantic[rows],
        )


@dataclass(frozen=True)
class StageContext:
    """What the ranking stages (signal, rules) read besides the ranking."""

    index: IndexView  # settings, field store (under ``index.fields_lock``)
    snap: Snapshot  # docid <-> external id (``snap.ext_ids``), documents
    params: SearchParams
    query: str  # normalised as the search log and click events store it
    allowed: np.ndarray  # bool per docid: alive and passing the filter (tenant token's too)
    page_end: int  # rows the requested page needs in order

    def allows(self, docids: np.ndarray) -> np.ndarray:
        """Whether each docid may be a hit of this search (a pin must pass it)."""
        return self.allowed[docids]


Stage = Callable[[Ranking, StageContext], Ranking]


def stage_context(request: Request) -> StageContext:
    return StageContext(
        index=request.index,
        snap=request.snap,
        params=request.params,
        query=normalise_query(request.query),
        allowed=request.snap.alive if request.mask is None else request.mask,
        page_end=request.start + request.count,
    )
