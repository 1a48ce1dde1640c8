"""Fusing a lexical and a semantic ranking into one; the numbers behind each choice
are in docs/semantic.md.

Sift's fusion differs from the textbook ones in three ways:

1. **Every candidate gets both scores.** The union of both legs' candidates is scored
   by both: the cosine of a lexical candidate is one dot product, and the lexical
   engine already scores every document that matches any query word. Reciprocal rank
   fusion and list-wise blends must guess a score for a document the other list
   missed; here nothing is guessed.
2. **Scores are standardised per query** (z-scores over the union's best candidates)
   rather than min-max scaled: min-max lets one outlier at either end rescale the
   whole list, z-scores keep each leg's spread.
3. **The semantic weight adapts per query.** ``semanticRatio`` is the starting
   weight; it moves towards the lexical leg for short queries (1-3 words: names,
   product titles, known items, where the dense model is weak), by ``short_weight``
   in logit units per missing word. Shifts by lexical confidence and towards the
   semantic leg for long queries were measured and are off. ``semanticRatio`` 0 and 1
   stay pure lexical and pure semantic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RRF_K = 60


@dataclass(frozen=True)
class FusionParams:
    # Measured on four BEIR-layout collections (docs/semantic.md); the defaults are the
    # ones the leave-one-collection-out check kept.
    depth: int = 100  # candidates per leg
    bias: float = 0.0  # logit offset: where semanticRatio 0.5 lands between the legs
    confidence_weight: float = 0.0  # lexical confidence -> shift towards lexical
    length_weight: float = 0.0  # words beyond `length_pivot` -> shift towards semantic
    length_pivot: int = 6
    # Per word below `short_pivot` -> shift towards lexical: a 1-3-word query is mostly a
    # name or a known item, where exact words beat meaning (titles task, docs/semantic.md).
    short_weight: float = 0.4
    short_pivot: int = 4


def _z(scores: np.ndarray) -> np.ndarray:
    if scores.size == 0:
        return scores
    std = float(scores.std())
    if std < 1e-9:
        return np.zeros_like(scores)
    return (scores - float(scores.mean())) / std


def lexical_confidence(lexical: np.ndarray) -> float:
    """How far the best lexical score stands out from the next ones, in standard
    deviations of the top candidates (0 when there are too few to tell)."""
    if lexical.size < 5:
        return 0.0
    top = np.sort(lexical)[::-1][: min(lexical.size, 50)]
    std = float(top.std())
    if std < 1e-9:
        return 0.0
    return float((top[0] - top[1:4].mean()) / std)


def effective_ratio(
    ratio: float, lexical: np.ndarray, query_words: int, params: FusionParams
) -> float:
    if ratio <= 0.0 or ratio >= 1.0:
        return ratio
    shift = params.bias + params.length_weight * max(0, query_words - params.length_pivot)
    shift -= params.short_weight * max(0, params.short_pivot - query_words)
    shift -= params.confidence_weight * lexical_confidence(lexical)
    logit = np.log(ratio / (1.0 - ratio)) + shift
    return float(1.0 / (1.0 + np.exp(-logit)))


def fuse(lexical: np.ndarray, semantic: np.ndarray, ratio: float) -> np.ndarray:
    """Fused score of each candidate from its two raw scores (same order, same length).

    ``lexical`` is 0 for candidates that match no query word; ``semantic`` is the cosine.
    """
    if ratio <= 0.0:
        return lexical.astype(np.float64)
    if ratio >= 1.0:
        return semantic.astype(np.float64)
    return (1.0 - ratio) * _z(lexical) + ratio * _z(semantic)


def rrf(rankings: list[list[str]], weights: list[float] | None = None, k: int = RRF_K) -> dict:
    """Reciprocal rank fusion (the textbook baseline): id -> score."""
    weights = weights or [1.0] * len(rankings)
    out: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc_id in enumerate(ranking):
            out[doc_id] = out.get(doc_id, 0.0) + weight / (k + rank + 1)
    return out


def minmax_blend(
    lexical: tuple[list[str], list[float]],
    semantic: tuple[list[str], list[float]],
    ratio: float = 0.5,
) -> dict:
    """Min-max normalised score blend over the two lists (the other textbook baseline);
    a document missing from a list gets 0 from it."""
    out: dict[str, float] = {}
    for (ids, scores), weight in ((lexical, 1.0 - ratio), (semantic, ratio)):
        if not ids:
            continue
        arr = np.asarray(scores, dtype=np.float64)
        low, span = float(arr.min()), float(arr.max() - arr.min())
        norm = (arr - low) / span if span > 1e-12 else np.ones_like(arr)
        for doc_id, value in zip(ids, norm.tolist(), strict=True):
            out[doc_id] = out.get(doc_id, 0.0) + weight * value
    return out
