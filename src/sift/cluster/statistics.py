"""The statistics round of a network search (Elasticsearch's DFS query-then-fetch).

Sift's ``relevance`` rule scores with corpus statistics (engine/corpus/stats.py): a shard
alone would weigh words by its own documents, and the merged page would differ from the
one a node holding every document gives. Before a search spans several nodes, the
coordinating node asks each of them, in parallel and with its search key, for its
statistics on the shards it will answer for (``POST /indexes/{uid}/search/statistics``),
adds them, and sends the sum with each node's search (the body's ``_corpusStatistics``).

One round trip more, skipped where it changes nothing: one node answers every shard
(replicas), the ranking rules have no ``relevance``, or the query has no words.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sift.engine.corpus import CorpusStats, add
from sift.errors import SiftError
from sift.inputs import shown

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

ROUTE = "search/statistics"
STATISTICS = "_corpusStatistics"  # the search body's field that carries the sum


def request(query: dict[str, Any], shards: tuple[str, ...] | None) -> dict[str, Any]:
    """The statistics request for one node: its search body and the shards it answers."""
    return {"query": query, "shards": None if shards is None else list(shards)}


def parse_request(body: Any) -> tuple[dict[str, Any], tuple[str, ...] | None]:
    """(search body, shards) of a statistics request; a clear error if it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), dict) or \
            set(body) - {"query", "shards"}:
        raise SiftError(
            f"Invalid statistics request: expected `query` (a search body) and `shards`, "
            f"found {shown(body)}", "bad_request")
    shards = body.get("shards")
    if shards is None:
        return body["query"], None
    if not isinstance(shards, list) or not all(isinstance(s, str) for s in shards):
        raise SiftError(
            f"Invalid value at `.shards`: expected an array of shard names, found "
            f"{shown(shards)}", "bad_request")
    return body["query"], tuple(shards)


def needed(body: dict[str, Any], rules: list[str]) -> bool:
    """Whether the scores of this search read corpus statistics."""
    q = body.get("q")
    return "relevance" in rules and isinstance(q, str) and bool(q.strip())


def answer(remote: str, response: httpx.Response) -> dict[str, Any]:
    """A remote's statistics, or SiftError saying why there are none."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        raise SiftError(
            f"Remote `{remote}` gave no statistics ({response.status_code}): {shown(body)}",
            "remote_bad_response")
    return body


def attach(body: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """``body`` with the sum of ``parts``; as it is when they cannot be added (the nodes'
    settings differ, so they ranked different words)."""
    try:
        total = add([CorpusStats.from_json(part) for part in parts])
    except (SiftError, ValueError) as exc:
        log.warning("corpus statistics not added (%s): scoring per shard", exc)
        return body
    return {**body, STATISTICS: total.to_json()}


def pop(body: dict[str, Any]) -> CorpusStats | None:
    """Take the statistics a coordinating node sent out of a search body."""
    raw = body.pop(STATISTICS, None)
    return None if raw is None else CorpusStats.from_json(raw)
