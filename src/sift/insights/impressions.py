"""Impressions: what a search showed, so the click model can learn from results seen and
skipped, not only from those clicked (docs/ranking.md, "Clicks").

A search that answers a query uid (`Meili-Include-Metadata`) hands its first page's ids to
the search log (`sift.insights.searches.Analytics.record`, an append to the in-memory
buffer: nothing more on the search path); the log's writer stores them with the search
(`search_events.shown`). The click model reads them back per visitor and query.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SHOWN_IDS = 20  # a first page's worth: deeper results are rarely looked at

Impression = tuple[str, str, str, int]  # (user, normalised query, object id, 0-based position)


def shown_ids(
    hits: Sequence[Mapping[str, Any]], primary_key: str | None, first_page: bool
) -> tuple[str, ...] | None:
    """The first SHOWN_IDS hits' ids (as click events name them), or None when they cannot
    be told: a later page (its positions are not the ones visitors see first), no primary
    key, or a hit whose id was not retrieved (the list would no longer match positions)."""
    if not first_page or primary_key is None:
        return None
    ids = []
    for hit in hits[:SHOWN_IDS]:
        value = hit.get(primary_key)
        if value is None:
            return None
        ids.append(str(value))
    return tuple(ids)


def impressions(rows: Iterable[tuple[str, str, str]]) -> list[Impression]:
    """Stored (user, query, shown JSON) rows -> one impression per user, query and
    document, at the best position the user was shown it (a visitor repeating a search
    counts once, as their clicks do)."""
    best: dict[tuple[str, str, str], int] = {}
    for user, query, shown in rows:
        try:
            ids = json.loads(shown)
        except ValueError:
            continue
        for position, object_id in enumerate(ids[:SHOWN_IDS]):
            key = (user, query, str(object_id))
            held = best.get(key)
            if held is None or position < held:
                best[key] = position
    return [(u, q, d, p) for (u, q, d), p in best.items()]
