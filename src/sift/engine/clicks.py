"""The learned click signal, blended into a ranking (docs/ranking.md, "Clicks").

The engine knows nothing of events or SQL: the click model (sift.insights.clickmodel) hands
it, per query, the documents its clicks say something about and how much (``strength`` in
[0, 1], already corrected for position bias). A candidate's score becomes ``(1 - weight) *
score + weight * strength``, where a candidate the signal does not name gets the signal's
``neutral`` strength: a monotone map of the relevance score for everything else, so those
documents keep their order and scores stay in [0, 1] (federated and network merges compare
them). Strength above ``neutral`` lifts a document, below it (seen and skipped) lowers it.
A query without a signal is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class DocidLookup(Protocol):
    """External id -> docid (a dict, or the index's sift.engine.docids.DocIds)."""

    def get(self, ext: str, default: int, /) -> int | None: ...


@dataclass(frozen=True)
class ClickSignal:
    """One query's clicked documents, as internal docids of the searched snapshot."""

    docids: np.ndarray  # uint32, distinct
    strength: np.ndarray  # float64 in [0, 1], by docids
    users: np.ndarray  # int, distinct users who chose each document
    weight: float  # share of the blended score the clicks decide
    neutral: float = 0.0  # the strength of every candidate the signal does not name
    expected: np.ndarray | None = None  # float, by docids: the clicks each was owed


@dataclass(frozen=True)
class QueryClicks:
    """One query's clicked (or skipped) documents by external id, as the model keeps them."""

    object_ids: tuple[str, ...]
    strength: np.ndarray  # float64 in [0, 1], by object_ids
    users: np.ndarray  # int64, by object_ids
    weight: float
    neutral: float = 0.0
    expected: np.ndarray | None = None  # float64, by object_ids

    def on(self, alive: np.ndarray, ext_ids: list[str], docid_of: DocidLookup) -> ClickSignal:
        """The signal for one snapshot: ids it no longer holds are left out."""
        found = [docid_of.get(oid, -1) for oid in self.object_ids]  # a few dozen at most
        docids = np.asarray(found, dtype=np.int64)
        keep = (docids >= 0) & (docids < alive.size)
        keep[keep] = alive[docids[keep]]
        # The writer's map may already name a newer document: the snapshot must agree.
        for i in np.nonzero(keep)[0].tolist():
            keep[i] = docids[i] < len(ext_ids) and ext_ids[docids[i]] == self.object_ids[i]
        return ClickSignal(
            docids[keep].astype(np.uint32),
            self.strength[keep],
            self.users[keep],
            self.weight,
            self.neutral,
            None if self.expected is None else self.expected[keep],
        )


@dataclass(frozen=True)
class Blended:
    """A ranking after the blend: ``perm`` re-orders the input rows."""

    perm: np.ndarray  # int64: new row -> old row
    scores: np.ndarray  # float64, by new row
    explained: dict[int, dict[str, Any]]  # docid -> its `clicks` score details


def blend(
    docids: np.ndarray, scores: np.ndarray, signal: ClickSignal, ordered: int | None = None
) -> Blended:
    """Re-rank ``docids`` (best first; ``scores`` by row) with the signal.

    Only the first ``ordered`` rows need be in score order (None: all): every other row
    scores at most the last of them, so sorting those rows together with the clicked ones
    puts the first ``ordered`` rows of the result in blended order too, as long as enough
    of them still outscore every unsorted row (a document pushed down may not): otherwise
    every row is sorted."""
    n = docids.size
    relevance = np.asarray(scores, dtype=np.float64)
    if n == 0 or signal.docids.size == 0:
        return Blended(np.arange(n, dtype=np.int64), relevance, {})
    # Rows of the clicked documents among the candidates (a doc the query does not match
    # is never added: clicks re-rank, they do not retrieve).
    by_doc = np.argsort(signal.docids, kind="stable")
    sorted_docs = signal.docids[by_doc]
    at = np.minimum(np.searchsorted(sorted_docs, docids), sorted_docs.size - 1)
    rows = np.nonzero(sorted_docs[at] == docids)[0]
    picked = by_doc[at[rows]]
    strength = np.full(n, signal.neutral)
    strength[rows] = signal.strength[picked]
    blended = (1.0 - signal.weight) * relevance + signal.weight * strength
    limit = n if ordered is None else min(n, max(ordered, int(rows.max(initial=-1)) + 1))
    if ordered and limit < n:
        # An unsorted row scores at most the last ordered row's relevance, neutral strength.
        bound = (1.0 - signal.weight) * relevance[ordered - 1] + signal.weight * signal.neutral
        if np.count_nonzero(blended[:limit] >= bound) < ordered:
            limit = n
    head = np.argsort(-blended[:limit], kind="stable")  # ties keep the relevance order
    perm = np.concatenate([head, np.arange(limit, n)]).astype(np.int64)
    explained = {
        int(docids[row]): _explain(signal, i, float(relevance[row]))
        for row, i in zip(rows.tolist(), picked.tolist(), strict=True)
    }
    return Blended(perm, blended[perm], explained)


def _explain(signal: ClickSignal, i: int, relevance: float) -> dict[str, Any]:
    """One document's `clicks` score details."""
    details: dict[str, Any] = {
        "score": float(signal.strength[i]),
        "users": int(signal.users[i]),
        "weight": signal.weight,
        "relevanceScore": relevance,
    }
    if signal.expected is not None:
        details["expectedUsers"] = round(float(signal.expected[i]), 2)
        details["neutralScore"] = signal.neutral
    return details
