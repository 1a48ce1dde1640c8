"""The hand-off from fusion to paging (:class:`Ranking`) and what a stage between them
may read (:class:`StageContext`); the module docstring of ``sift.engine.pipeline``
says how a stage plugs in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from sift.engine.frozen import quick_init
from sift.engine.pipeline.request import Request
from sift.engine.query import SearchParams, normalise_query
from sift.engine.ranking import Ranked
from sift.engine.store import IndexView, Snapshot


@quick_init
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
    clicks: dict[int, dict[str, Any]] | None = None  # docid -> its `clicks` score details
    # ``facet_docids`` as a bitset over docids (uint64, bit d & 63 of word d >> 6) when
    # the match built one; None: built from them if a facet count needs it. A stage
    # that changes ``facet_docids`` sets it to None (with ``dataclasses.replace``).
    facet_bits: np.ndarray | None = None

    def take(self, rows: np.ndarray) -> Ranking:
        """These rows (indices or a bool mask), in this order; ``total`` unchanged."""
        return replace(
            self,
            docids=self.docids[rows],
            scores=self.scores[rows],
            details=self.details[rows],
            semantic=None if self.semantic is None else self.semantic[rows],
        )


@quick_init
@dataclass(frozen=True)
class StageContext:
    """What the ranking stages (signal, rules) read besides the ranking; each part is
    worked out only when a stage reads it."""

    request: Request

    @property
    def index(self) -> IndexView:
        """Settings, field store (under ``index.fields_lock``)."""
        return self.request.index

    @property
    def snap(self) -> Snapshot:
        """Docid <-> document id (``snap.ext_ids``), documents."""
        return self.request.snap

    @property
    def params(self) -> SearchParams:
        return self.request.params

    @cached_property
    def query(self) -> str:
        """The query normalised as the search log and click events store it."""
        return normalise_query(self.request.query)

    @property
    def allowed(self) -> np.ndarray:
        """Bool per docid: alive and passing the filter (a tenant token's too)."""
        request = self.request
        return request.snap.alive if request.mask is None else request.mask

    @property
    def page_end(self) -> int:
        """Rows the requested page needs in order."""
        return self.request.start + self.request.count

    def allows(self, docids: np.ndarray) -> np.ndarray:
        """Whether each docid may be a hit of this search (a pin must pass it)."""
        return self.allowed[docids]


Stage = Callable[[Ranking, StageContext], Ranking]
