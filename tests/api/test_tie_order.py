"""Exact ties in the same order on a live node and on one restarted from the database.

A live node indexes documents in the order writes arrive (a replaced document moves to
the end); a node started later loads them in the database's order. Ties used to follow
that load order; they follow the tie key of the document id (engine/tiebreak.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import make_client, run_task

QUERIES: list[dict[str, Any]] = [
    {"q": "lamp", "limit": 15},
    {"q": "lamp", "offset": 15, "limit": 15},
    {"q": "blue lamp", "limit": 40, "matchingStrategy": "all"},
    {"q": "", "limit": 25},
    {"q": "lamp", "limit": 20, "filter": "n < 3", "sort": ["n:asc"]},
]


def _answers(client: Any) -> list[list[Any]]:
    out = []
    for body in QUERIES:
        hits = client.post("/indexes/things/search",
                           json={**body, "showRankingScore": True}).json()["hits"]
        out.append([(h["id"], h["_rankingScore"]) for h in hits])
    return out


def test_a_restarted_node_orders_ties_as_the_live_one(tmp_path: Path) -> None:
    settings = {"filterableAttributes": ["n"], "sortableAttributes": ["n"]}
    docs = [{"id": i, "t": "blue lamp" if i % 2 else "a blue lamp", "n": i % 5}
            for i in range(60)]
    with make_client(tmp_path) as client:
        run_task(client, "PATCH", "/indexes/things/settings", json=settings)
        run_task(client, "POST", "/indexes/things/documents", json=docs)
        # Replacements and re-additions: the live node indexes these last.
        run_task(client, "POST", "/indexes/things/documents", json=docs[:30:3])
        run_task(client, "POST", "/indexes/things/documents/delete-batch",
                 json=list(range(1, 30, 4)))
        run_task(client, "POST", "/indexes/things/documents", json=docs[1:30:4])
        live = _answers(client)
    with make_client(tmp_path) as client:
        assert _answers(client) == live
    # The queries do tie: each page holds equal scores.
    assert all(len({score for _, score in page}) < len(page) for page in live)
