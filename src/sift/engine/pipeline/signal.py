"""Stage slot: the learned click signal (sift.engine.clicks), which re-orders the
candidates of a query with click history; the contract is in ``sift.engine.pipeline``'s
docstring. A search without a signal (setting off, query never clicked) is returned as
given, the same object."""

from __future__ import annotations

from dataclasses import replace

from sift.engine.clicks import blend
from sift.engine.pipeline.stages import Ranking, StageContext


def apply(ranking: Ranking, context: StageContext) -> Ranking:
    signal = context.request.clicks
    if signal is None or signal.docids.size == 0:
        return ranking
    mixed = blend(ranking.docids, ranking.scores, signal, ranking.ordered)
    return replace(ranking.take(mixed.perm), scores=mixed.scores, clicks=mixed.explained)
