"""Stage slot: the learned click signal, which re-orders the candidates of a query
with click history. Identity until that stage lands; the contract is in
``sift.engine.pipeline``'s docstring."""

from __future__ import annotations

from sift.engine.pipeline.stages import Ranking, StageContext


def apply(ranking: Ranking, context: StageContext) -> Ranking:
    return ranking
