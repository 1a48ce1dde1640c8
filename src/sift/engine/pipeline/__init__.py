"""One search, top to bottom. :func:`search` runs these stages in this order, each in
its own module, each handing the next a frozen dataclass:

1. ``request.parse``: the body checked against the index (sort, filter) -> :class:`Request`
2. ``lexical.lexical_candidates``: the keyword leg -> ``LexicalCandidates``
3. ``vectors.semantic_candidates``: the semantic leg, when the request has one (its
   ``VectorLeg`` comes from ``sift.semantic``) -> docids
4. ``fuse.fuse_legs``: one ranked result set from the legs -> :class:`Ranking`
5. ``signal.apply``: the learned click signal (identity today)
6. ``rules.apply``: search rules: pin / hide / boost / deboost (sift.engine.curation)
7. ``page.distinct`` and ``page.paginate``: collapse distinct values, cut the page -> ``Page``
8. ``respond.response``: hits, facets and the response body

Adding a ranking stage (5, 6) touches only its module: its ``apply`` is a
``stages.Stage``, a function ``(Ranking, StageContext) -> Ranking``:

* ``Ranking`` holds the whole result set best first: per row ``docids``, ``scores``
  (`_rankingScore`), ``details`` (entries of ``explain``, `_rankingScoreDetails`; -1
  for none) and ``semantic`` (brought by the semantic leg; None without one), all
  aligned; ``total`` (estimatedTotalHits before maxTotalHits) and ``facet_docids``
  (what facets count). Only the first ``ordered`` rows are in rank order (None: all;
  at least the requested page's end): the rest are every other match, in no order.
  Reorder or drop rows with ``Ranking.take``; a stage that removes documents from the
  result set lowers ``total`` (and ``facet_docids`` if facets must not count them),
  one that adds a document raises them.
* ``StageContext`` gives the index and snapshot (``snap.ext_ids`` maps docids to
  document ids), the parameters, the query normalised as the search log and click
  events store it, ``page_end``, and ``allows(docids)``: whether documents pass the
  request's filter (a tenant token's filter is ANDed into it). A stage that inserts a
  document (a pin) must check it there; a mask lookup, no filter evaluation.
* A stage must not mutate what it is given (arrays may be shared with caches) and
  returns the ranking unchanged when it has nothing to do, cheaply.
"""

from __future__ import annotations

from typing import Any

from sift.engine.clicks import ClickSignal
from sift.engine.pipeline import rules, signal
from sift.engine.pipeline.fuse import fuse_legs
from sift.engine.pipeline.lexical import lexical_candidates
from sift.engine.pipeline.page import distinct, paginate
from sift.engine.pipeline.request import Request, parse
from sift.engine.pipeline.respond import response
from sift.engine.pipeline.stages import Ranking, Stage, StageContext
from sift.engine.pipeline.timing import StageTimer
from sift.engine.pipeline.vectors import VectorLeg, semantic_candidates
from sift.engine.query import SearchParams
from sift.engine.ranking import RelevanceParams
from sift.engine.store import IndexView

__all__ = ["Ranking", "Request", "Stage", "StageContext", "VectorLeg", "search"]


def search(
    index: IndexView,
    params: SearchParams,
    vectors: VectorLeg | None = None,
    relevance: RelevanceParams | None = None,
    clicks: ClickSignal | None = None,
) -> dict[str, Any]:
    """A search response in Meilisearch's shape (plus ``semanticHitCount`` when a
    semantic leg was asked for); ``clicks``: the query's learned click signal, for the
    snapshot of ``index`` (sift.engine.clicks)."""
    timer = StageTimer()
    request = parse(index, params, vectors, relevance, clicks)
    lexical = lexical_candidates(request)
    semantic = semantic_candidates(request)  # after the keyword leg: embedding overlaps it
    if request.vectors is not None and semantic is None:
        # The query could not be embedded: a keyword search answers (semanticHitCount 0).
        request = request.keyword_only()
        lexical = lexical_candidates(request)
    ranking = fuse_legs(request, lexical, semantic)
    timer.lap("search > filter, match and rank")
    context = StageContext(request)
    ranking = signal.apply(ranking, context)
    ranking = rules.apply(ranking, context)
    ranking = distinct(request, ranking)
    timer.lap("search > distinct")
    page = paginate(request, ranking)
    return response(request, lexical.words, ranking, page, timer)
