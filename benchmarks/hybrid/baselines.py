"""The textbook fusions Sift hybrid is measured against, kept here rather than imported
from `sift.semantic.fusion` so a change to the product cannot move its own yardstick.

Both take each leg's ranked list of (doc ids, scores), best first, cut at `depth`:

* reciprocal rank fusion (Cormack et al. 2009): sum of 1 / (k + rank), k = 60, rank from 1;
* min-max blend: each leg's scores over its top `depth` scaled to [0, 1] per query, a
  document missing from a leg gets 0 from it, legs summed with the given weights.
"""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60
Ranked = tuple[Sequence[str], Sequence[float]]  # doc ids and scores, best first


def rrf(legs: Sequence[Ranked], depth: int, k: int = RRF_K) -> list[str]:
    scores: dict[str, float] = {}
    for ids, _scores in legs:
        for rank, doc_id in enumerate(ids[:depth], start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    return ranked(scores)


def minmax_blend(
    legs: Sequence[Ranked], depth: int, weights: Sequence[float] | None = None
) -> list[str]:
    weights = weights or [1.0 / len(legs)] * len(legs)
    scores: dict[str, float] = {}
    for (ids, values), weight in zip(legs, weights, strict=True):
        top = list(values[:depth])
        if not top:
            continue
        low, span = min(top), max(top) - min(top)
        for doc_id, value in zip(ids[:depth], top, strict=True):
            # A leg whose scores are all equal says nothing about order: every one gets 1.
            norm = (value - low) / span if span > 1e-12 else 1.0
            scores[doc_id] = scores.get(doc_id, 0.0) + weight * norm
    return ranked(scores)


def ranked(scores: dict[str, float]) -> list[str]:
    """Best first; ties by doc id, so the order never depends on dict insertion."""
    return sorted(scores, key=lambda doc_id: (-scores[doc_id], doc_id))
