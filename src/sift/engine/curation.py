"""Search rules applied to one ranked list: pin, boost, deboost, hide (sift.rules decides
which rules match a search; this module only rearranges docids).

Meilisearch's order of work (docs/api.md, "Search rules"): the organic ranking first, then
every matching rule's ``scale`` actions multiply the selected documents' relevancy (a
weight above 1 boosts, below 1 demotes, 0 hides), then the pinned documents are put at
their positions, a pinned document leaving its organic place. A pin outranks a hide, and
a document that the search's filters (the request's and the tenant token's) exclude is
never pinned.

Everything here is numpy over the candidates: no Python loop over documents. The only
loops run over the rules' actions, which a search has a handful of.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np


# Named tuples: a rule set of tens of thousands of actions is built after every change.
class Pin(NamedTuple):
    id: str  # the document's primary key value, as a string
    position: int  # 0-based, in the whole result list (before pagination)


class Scale(NamedTuple):
    weight: float
    ids: tuple[str, ...] | None = None  # documents by primary key
    filter: Any = None  # or by a filter expression (both: either selects)


@dataclass(frozen=True)
class Curation:
    """The actions of the rules matching one search, in precedence order (the first
    rule's actions first, each rule's in the order it lists them)."""

    pins: tuple[Pin, ...] = ()
    scales: tuple[Scale, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.pins or self.scales)


@dataclass
class Resolved:
    """A curation turned into internal docids of one snapshot."""

    pin_docids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    pin_positions: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    weight_docids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    weights: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))


def resolve(
    curation: Curation,
    internal_id: Mapping[str, int],
    select: Callable[[Any], np.ndarray],
    allowed: np.ndarray,
) -> Resolved:
    """Docids of the pins that may appear (known, alive and passing the search's filters,
    ``allowed`` being that mask over docids) and the weight of every scaled document.

    ``select`` turns a scale's filter into sorted docids. A document selected by several
    scales takes the weight of the first (the rule with the smallest precedence wins)."""
    out = Resolved()
    pins = [(internal_id.get(p.id), p.position) for p in curation.pins]
    docids = np.array([d if d is not None else -1 for d, _ in pins], dtype=np.int64)
    positions = np.array([pos for _, pos in pins], dtype=np.int64)
    keep = (docids >= 0) & (docids < allowed.size)
    keep[keep] = allowed[docids[keep]]
    # A document pinned twice keeps its first pin (the higher-precedence one).
    _, first = np.unique(docids, return_index=True)
    once = np.zeros(docids.size, dtype=bool)
    once[first] = True
    keep &= once
    out.pin_docids, out.pin_positions = docids[keep], positions[keep]
    seen = np.empty(0, np.int64)
    parts_ids: list[np.ndarray] = []
    parts_w: list[np.ndarray] = []
    for scale in curation.scales:
        selected = np.empty(0, np.int64)
        if scale.ids is not None:
            found = [internal_id.get(i) for i in scale.ids]
            selected = np.array([d for d in found if d is not None], dtype=np.int64)
        if scale.filter is not None:
            selected = np.union1d(selected, select(scale.filter).astype(np.int64))
        selected = np.setdiff1d(selected, seen)
        if selected.size:
            parts_ids.append(selected)
            parts_w.append(np.full(selected.size, scale.weight, dtype=np.float64))
            seen = np.union1d(seen, selected)
    if parts_ids:
        out.weight_docids = np.concatenate(parts_ids)
        out.weights = np.concatenate(parts_w)
    return out


def _rows_of(docids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``docids`` holding one of ``wanted`` (distinct values), and for each such
    row the index into ``wanted``: a sorted look-up, no dict over the candidates."""
    order = np.argsort(wanted, kind="stable")
    sorted_wanted = wanted[order]
    at = np.searchsorted(sorted_wanted, docids)
    hit = at < sorted_wanted.size
    hit[hit] = sorted_wanted[at[hit]] == docids[hit]
    rows = np.nonzero(hit)[0]
    return rows, order[at[rows]]


def pin_slots(positions: np.ndarray, organic: int) -> np.ndarray:
    """Where each pin lands in a list of ``organic`` + pins rows.

    ``positions`` is in precedence order: pins asking for the same position follow one
    another in that order (the first takes it, the next the row after), and a position
    past the end of the list puts the pin at the end, in the same order."""
    n = positions.size
    if n == 0:
        return positions
    order = np.lexsort((np.arange(n), positions))  # by position, then precedence
    wanted = positions[order]
    steps = np.arange(n)
    # Strictly increasing slots, each at least its wanted position.
    slots = np.maximum.accumulate(wanted - steps) + steps
    slots = np.minimum(slots, organic + steps)  # past the end: the end, in order
    out = np.empty(n, dtype=np.int64)
    out[order] = slots
    return out


def apply(
    docids: np.ndarray,
    scores: np.ndarray,
    resolved: Resolved,
    rerank: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ranked ``docids`` (with their ``scores``) after the rules: returns docids,
    scores, and for each row the input row it came from (-1: a pinned document the input
    did not hold), so that other per-row arrays can follow.

    Scaled documents have their score multiplied by their weight; with ``rerank`` (the
    ranking is by score) the organic rows are then ordered again by score, ties keeping
    their order. A weight of 0 removes the document unless it is pinned. Pinned
    documents leave their organic row and take their slot; their score stays their
    organic one (0 for a document the query did not find)."""
    docids = np.asarray(docids)
    scores = np.asarray(scores, dtype=np.float64)
    rows = np.arange(docids.size, dtype=np.int64)
    if resolved.weight_docids.size:
        row_w = np.ones(docids.size, dtype=np.float64)
        at, found = _rows_of(docids, resolved.weight_docids)
        row_w[at] = resolved.weights[found]
        scaled = scores * row_w
        keep = np.nonzero((row_w > 0) | np.isin(docids, resolved.pin_docids))[0]
        if rerank and np.any((row_w != 1) & (row_w > 0)):  # hides alone reorder nothing
            keep = keep[np.argsort(-scaled[keep], kind="stable")]
        rows, scores = rows[keep], scaled[keep]
    if resolved.pin_docids.size == 0:
        return docids[rows], scores, rows
    pinned_rows = np.full(resolved.pin_docids.size, -1, dtype=np.int64)
    pinned_scores = np.zeros(resolved.pin_docids.size, dtype=np.float64)
    at, found = _rows_of(docids[rows], resolved.pin_docids)
    pinned_rows[found], pinned_scores[found] = rows[at], scores[at]
    rest = ~np.isin(docids[rows], resolved.pin_docids)
    rows, scores = rows[rest], scores[rest]
    total = rows.size + resolved.pin_docids.size
    slots = pin_slots(resolved.pin_positions, rows.size)
    pinned = np.zeros(total, dtype=bool)
    pinned[slots] = True
    out_rows = np.empty(total, dtype=np.int64)
    out_scores = np.empty(total, dtype=np.float64)
    out_rows[slots], out_scores[slots] = pinned_rows, pinned_scores
    out_rows[~pinned], out_scores[~pinned] = rows, scores
    out_ids = np.empty(total, dtype=docids.dtype)
    out_ids[slots], out_ids[~pinned] = resolved.pin_docids, docids[rows]
    return out_ids, out_scores, out_rows
