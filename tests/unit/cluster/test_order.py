"""Hits of several shards ordered as one node would: rule scores, then sort values."""

from __future__ import annotations

from sift.cluster.order import rank_key, tie_order, value_key
from sift.engine.tiebreak import tie_key


def test_values_sort_numbers_first_strings_without_case_missing_last() -> None:
    hits = [{"p": "b"}, {"p": 3}, {}, {"p": "A"}, {"p": [9, 1]}]
    asc = sorted(hits, key=lambda h: value_key(h, "p:asc"))
    assert asc == [{"p": [9, 1]}, {"p": 3}, {"p": "A"}, {"p": "b"}, {}]
    desc = sorted(hits, key=lambda h: value_key(h, "p:desc"))
    assert desc == [{"p": [9, 1]}, {"p": 3}, {"p": "b"}, {"p": "A"}, {}]


def test_rules_compare_in_their_order_before_the_sort() -> None:
    def hit(words: float, price: int) -> dict:
        return {"price": price, "_rankingScore": words, "_rankingScoreDetails": {
            "words": {"order": 0, "score": words}, "sort": {"order": 1, "value": "sort"},
        }}

    hits = [hit(0.5, 1), hit(1.0, 9), hit(1.0, 2)]
    ordered = sorted(hits, key=rank_key(["price:asc"]))
    assert [(h["_rankingScore"], h["price"]) for h in ordered] == [(1.0, 2), (1.0, 9), (0.5, 1)]


def test_a_placeholder_search_is_ordered_by_its_sort_alone() -> None:
    hits = [{"n": 3, "_rankingScore": 1.0}, {"n": 1, "_rankingScore": 1.0}]
    assert [h["n"] for h in sorted(hits, key=rank_key(["n:asc"]))] == [1, 3]


def test_hits_equal_in_every_rule_follow_their_ids_tie_key() -> None:
    """Two shards' hits with the same scores: ordered as one node orders them, by the tie
    key of the primary key value (an integer id as its decimal string)."""
    def hit(doc_id: object, score: float) -> dict:
        return {"pk": doc_id, "_rankingScore": score,
                "_rankingScoreDetails": {"relevance": {"order": 0, "score": score}}}

    hits = [hit(1, 0.5), hit("4", 0.5), hit(2, 0.9), hit(3, 0.5), hit("a", 0.5)]
    ordered = sorted(hits, key=rank_key(None, tie_order(hits, "pk")))
    ties = sorted(["1", "4", "3", "a"], key=tie_key)
    assert [str(h["pk"]) for h in ordered] == ["2", *ties]


def test_hits_without_their_id_come_after_equal_hits_with_one() -> None:
    hits = [{"_rankingScore": 0.5}, {"pk": "x", "_rankingScore": 0.5}]
    key = rank_key(None, tie_order(hits, "pk"))
    assert sorted(hits, key=key)[0] == {"pk": "x", "_rankingScore": 0.5}
