"""Federated multi-search with `useNetwork`: one query's hits from several nodes merged in
the order one node holding every document gives them."""

from __future__ import annotations

from typing import Any

from sift.cluster.fanout import LegResult
from sift.cluster.federate import federated_leg, network_results, strip_network_hits
from sift.engine.federation import Federation, QueryResult, merge
from sift.engine.query import SearchParams
from sift.engine.tiebreak import tie_key


def _hit(doc_id: int, score: float) -> dict[str, Any]:
    return {"id": doc_id, "_rankingScore": score,
            "_rankingScoreDetails": {"words": {"order": 0, "score": score}}}


def _leg(remote: str, ids: list[int], score: float) -> LegResult:
    """A node's answer: its own hits, equal in score, in its own (tie key) order."""
    hits = [_hit(i, score) for i in sorted(ids, key=lambda i: tie_key(str(i)))]
    return LegResult(remote, {"hits": hits, "estimatedTotalHits": len(hits)})


def test_tied_hits_of_one_query_follow_the_tie_key_across_nodes() -> None:
    legs = [_leg("ms-00", [1, 2, 3, 4, 5], 0.8), _leg("ms-01", [6, 7, 8, 9, 10], 0.8)]
    other = QueryResult("songs", 1, 1.0, {"hits": [_hit(99, 0.8)], "estimatedTotalHits": 1},
                        False)  # fmt: skip
    results = [*network_results("books", 0, 1.0, False, legs, None, "id"), other]
    hits = merge(Federation(limit=20), results)["hits"]
    # One node holding all ten would rank them by their ids' tie keys; the other query's
    # equal hit follows them, by query position.
    expected = sorted(range(1, 11), key=lambda i: tie_key(str(i)))
    assert [h["id"] for h in hits] == [*expected, 99]
    # Not what each node's rank alone gives (its first, then each one's second, ...).
    by_rank = [h["id"] for pair in zip(legs[0].result["hits"], legs[1].result["hits"],
                                       strict=True) for h in pair]  # fmt: skip
    assert by_rank != expected


def test_what_only_merging_needed_is_taken_out_again() -> None:
    body = {"q": "x", "attributesToRetrieve": ["title"], "sort": ["n:asc"], "limit": 5}
    leg = federated_leg(body, "id")
    assert leg["showRankingScoreDetails"] is True
    assert leg["attributesToRetrieve"] == ["title", "n", "id"]
    assert "showRankingScoreDetails" not in body  # the caller's body is left as sent
    params = SearchParams.from_dict(body)
    hits = [{"title": "t", "n": 1, "id": 3, "_rankingScoreDetails": {},
             "_federation": {"queriesPosition": 0}},
            {"title": "u", "n": 2, "id": 4, "_federation": {"queriesPosition": 1}}]
    strip_network_hits(hits, {0: (params, "id")})
    assert hits == [{"title": "t", "_federation": {"queriesPosition": 0}},
                    {"title": "u", "n": 2, "id": 4, "_federation": {"queriesPosition": 1}}]
