"""The semantic leg: what the pipeline asks of a vector index.

``sift.semantic.leg.VectorLeg`` implements it over an embedder's vectors; the HTTP
side builds one per request (which embedder, which ratio, the query's vector or the
future that embeds it) and hands it to :func:`sift.engine.pipeline.search`. The leg
only answers these questions: paging, hits and facets stay with the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from sift.engine.store import Snapshot

if TYPE_CHECKING:
    from sift.engine.pipeline.request import Request
    from sift.semantic.fusion import FusionParams


class VectorLeg(Protocol):
    ratio: float  # semanticRatio: 0 keyword only, 1 semantic only
    fusion: FusionParams  # how the legs are fused (sift.semantic.fusion)

    @property
    def has_query(self) -> bool:
        """Whether a query vector is given or being embedded (False: the embedder
        cannot embed this query, and a keyword search answers)."""

    @property
    def depth(self) -> int:
        """Candidates per leg."""

    def embed(self) -> bool:
        """Wait for the query vector and check its dimensions; False when the embedding
        service failed (a keyword search then answers)."""

    def top(self, snap: Snapshot, mask: np.ndarray | None, k: int) -> np.ndarray:
        """The best ``k`` docids by cosine among ``mask`` (None: every live document)."""

    def cosines(self, snap: Snapshot, docids: np.ndarray) -> np.ndarray:
        """Best cosine of each docid over its vectors (-inf: it has none)."""

    def count(self, snap: Snapshot, mask: np.ndarray | None) -> int:
        """Live documents with a vector (among ``mask``)."""


def semantic_candidates(request: Request) -> np.ndarray | None:
    """The semantic leg's best docids (int64, best first); None for a keyword search or
    when the query could not be embedded."""
    leg = request.vectors
    if leg is None or not leg.embed():
        return None
    if leg.ratio > 0.0 or not request.has_words:
        return leg.top(request.snap, request.mask, request.window)
    return np.empty(0, np.int64)
