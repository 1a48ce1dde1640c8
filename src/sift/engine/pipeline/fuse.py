"""Fuse: one :class:`Ranking` from the legs' candidates.

A keyword search's ranking is its lexical leg's, less what falls under
`rankingScoreThreshold`. A hybrid search scores the union of both legs' candidates
by both (sift.semantic.fusion), then orders them under the ranking rules: the fused
score takes the place of the relevance rules, `sort` and custom `attr:asc` rules keep
theirs (before the relevance rules they decide and the fused score breaks ties; after
them they only break its ties). Filters restricted both legs through the same mask,
so a filter or a tenant rule never lets a semantic hit through that a keyword search
would hide.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sift.engine.pipeline.lexical import LexicalCandidates
from sift.engine.pipeline.request import Request
from sift.engine.pipeline.stages import Ranking
from sift.engine.ranking import CUSTOM_RULE
from sift.engine.select import sort_key_fn
from sift.engine.settings import BUILTIN_RULES
from sift.semantic import fusion

# Rules whose place in `rankingRules` the fused relevance score takes: every built-in
# rule but `sort`.
RELEVANCE_RULES = BUILTIN_RULES - {"sort"}


def fuse_legs(
    request: Request, lexical: LexicalCandidates, semantic: np.ndarray | None
) -> Ranking:
    if semantic is None:
        return _keyword(request, lexical)
    return _hybrid(request, lexical, semantic)


def _keyword(request: Request, lexical: LexicalCandidates) -> Ranking:
    docids, scores, order = lexical.docids, lexical.scores, lexical.order
    threshold = request.params.ranking_score_threshold
    bits = lexical.bits
    if threshold is not None:
        keep = scores >= threshold
        docids, scores, order = docids[keep], scores[keep], order[keep]
        bits = None  # of every match, not of those kept
    return Ranking(
        docids=docids,
        scores=scores,
        details=order,
        semantic=None,
        explain=lexical.ranked,
        total=int(docids.size),
        facet_docids=docids,
        ordered=request.ordered_rows,
        facet_bits=bits,
    )


def _hybrid(request: Request, lexical: LexicalCandidates, sem_top: np.ndarray) -> Ranking:
    leg = request.vectors
    assert leg is not None
    snap, window, has_words = request.snap, request.window, request.has_words
    lex_top = lexical.docids[:window].astype(np.int64) if has_words else np.empty(0, np.int64)
    cands = np.union1d(lex_top, sem_top)
    effective = leg.ratio if has_words else 1.0
    if cands.size:
        cosine = leg.cosines(snap, cands)
        sem_vals = np.where(np.isfinite(cosine), cosine, -1.0)
        lex_vals = np.zeros(cands.size, dtype=np.float64)
        if lexical.docids.size:
            # The engine scored every matching document, not only its best `window`.
            every = np.zeros(snap.alive.size, dtype=np.float64)
            every[lexical.docids] = lexical.scores
            lex_vals = every[cands]
        words = len(request.query.split())
        effective = fusion.effective_ratio(effective, lex_vals[np.isin(cands, lex_top)], words,
                                    leg.fusion)
        fused = fusion.fuse(lex_vals, sem_vals, effective)
        order = _order(request, cands, fused)
        cands, fused, sem_vals = cands[order], fused[order], sem_vals[order]
        # A hit is "semantic" when the semantic leg put it there: not a lexical candidate.
        from_semantic = ~np.isin(cands, lex_top)
    else:
        fused = sem_vals = np.empty(0)
        from_semantic = np.zeros(0, dtype=bool)
    scores = _ranking_scores(fused, sem_vals, effective)
    threshold = request.params.ranking_score_threshold
    if threshold is not None:
        keep = scores >= threshold
        cands, scores, from_semantic = cands[keep], scores[keep], from_semantic[keep]
    # Semantic only: every document with a vector matches.
    total = int(cands.size) if has_words and effective < 1.0 else leg.count(snap, request.mask)
    docids = cands.astype(np.uint32)
    return Ranking(
        docids=docids,
        scores=scores,
        details=np.full(docids.size, -1, dtype=np.int64),
        # Semantic only: every hit is the semantic leg's.
        semantic=from_semantic if effective < 1.0 else np.ones(docids.size, dtype=bool),
        explain=None,
        total=total,
        facet_docids=docids,
        ordered=None,
    )


def _order(request: Request, cands: np.ndarray, fused: np.ndarray) -> np.ndarray:
    """Order of the fused candidates under the ranking rules: the fused score stands
    for the relevance rules, `sort` and custom `attr:asc` rules keep their place."""
    keys: list[np.ndarray] = []
    relevance_at: int | None = None
    sort_fn: Any = None
    for rule in request.index.settings["rankingRules"]:
        if rule in RELEVANCE_RULES:
            if relevance_at is None:
                relevance_at = len(keys)
                keys.append(-fused)
            continue
        entries = request.sort if rule == "sort" else [rule]
        for entry in entries:
            m = CUSTOM_RULE.match(entry)
            if m is None:
                continue
            sort_fn = sort_fn or sort_key_fn(request.index, request.snap)
            keys.append(sort_fn(m.group(1), cands.astype(np.uint32), m.group(2) == "asc"))
    if relevance_at is None:
        keys.append(-fused)
    # Equal in every key: by tie key (engine/tiebreak.py), as the keyword ranking.
    return np.lexsort([request.snap.tie[cands], *keys[::-1]])


def _ranking_scores(fused: np.ndarray, cosine: np.ndarray, ratio: float) -> np.ndarray:
    """`_rankingScore` in [0, 1]: the cosine for pure semantic search, a logistic of the
    fused standardised score otherwise (order-preserving, so thresholds stay meaningful)."""
    if fused.size == 0:
        return fused
    if ratio >= 1.0:
        return np.clip((cosine + 1.0) / 2.0, 0.0, 1.0)
    if ratio <= 0.0:
        return fused  # the lexical engine's own ranking score
    return 1.0 / (1.0 + np.exp(-fused))
