"""Stage slot: search rules (pin a document at a position, hide, boost, deboost),
within the request's filter. Identity until that stage lands; the contract is in
``sift.engine.pipeline``'s docstring."""

from __future__ import annotations

from sift.engine.pipeline.stages import Ranking, StageContext


def apply(ranking: Ranking, context: StageContext) -> Ranking:
    return ranking
