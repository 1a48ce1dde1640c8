"""Page: collapse `distinct` values, then cut the requested page out of the ranking."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sift.engine.frozen import quick_init
from sift.engine.pipeline.request import Request
from sift.engine.pipeline.stages import Ranking
from sift.engine.select import filterable, listing, matches_pattern
from sift.engine.store import Snapshot
from sift.errors import SiftError


@quick_init
@dataclass(frozen=True)
class Page:
    rows: range  # rows of the ranking on this page
    total: int  # estimatedTotalHits / totalHits: the ranking's total up to maxTotalHits


def distinct(request: Request, ranking: Ranking) -> Ranking:
    """The best row of each value of the distinct attribute (the request's, else the
    settings'); rows without the attribute are all kept. A hybrid search keeps every
    row, as it always has."""
    if request.vectors is not None:
        return ranking
    index, params = request.index, request.params
    name = params.distinct or index.settings.get("distinctAttribute")
    if params.distinct and not matches_pattern(params.distinct, filterable(index)):
        raise SiftError(
            f"Attribute `{params.distinct}` is not filterable and thus, cannot be used as "
            f"distinct attribute. Available filterable attributes are: "
            f"{listing(filterable(index))}.",
            "invalid_search_distinct",
        )
    if not name or ranking.docids.size == 0:
        return ranking
    snap = request.snap
    codes = snap.cached(f"distinct:{name}", lambda: _distinct_codes(snap, name))
    values = codes[ranking.docids]
    # Documents without the attribute are all kept (each is its own group).
    values = np.where(values < 0, -1 - ranking.docids.astype(np.int64), values)
    _, first = np.unique(values, return_index=True)
    keep = np.sort(first)
    return replace(ranking.take(keep), total=int(keep.size))


def _distinct_codes(snap: Snapshot, name: str) -> np.ndarray:
    """Value code per docid for the distinct attribute (-1: missing); built once per
    snapshot, so the per-query work stays vectorized."""
    codes = np.full(snap.alive.size, -1, dtype=np.int64)
    table: dict[str, int] = {}
    for docid, doc in snap.docs.items():
        value: Any = doc
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, list):
            value = value[0] if value else None
        if value is None:
            continue
        key = repr(value).lower() if isinstance(value, str) else repr(value)
        codes[docid] = table.setdefault(key, len(table))
    return codes


def paginate(request: Request, ranking: Ranking) -> Page:
    total = min(ranking.total, int(request.index.settings["pagination"]["maxTotalHits"]))
    start = request.start
    end = min(start + request.count, total, ranking.docids.size)
    return Page(range(start, max(start, end)), total)
