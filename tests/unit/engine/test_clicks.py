"""The click blend on plain arrays: clicked candidates rise, everything else keeps its
order, and a ranking the signal does not touch comes back as it was."""

from __future__ import annotations

import numpy as np

from conftest import MakeIndex
from sift.engine import pipeline
from sift.engine.clicks import ClickSignal, QueryClicks, blend
from sift.engine.query import SearchParams


def _signal(docids: list[int], strength: list[float], weight: float = 0.3) -> ClickSignal:
    return ClickSignal(
        np.array(docids, dtype=np.uint32),
        np.array(strength),
        np.full(len(docids), 3, dtype=np.int64),
        weight,
    )


DOCIDS = np.array([7, 3, 9, 1, 5], dtype=np.uint32)
SCORES = np.array([0.9, 0.85, 0.8, 0.7, 0.6])


def test_a_strongly_clicked_candidate_rises_and_the_rest_keep_their_order() -> None:
    out = blend(DOCIDS, SCORES, _signal([1], [1.0]))
    assert DOCIDS[out.perm].tolist() == [1, 7, 3, 9, 5]
    assert np.all(np.diff(out.scores) <= 0)  # scores follow the new order
    assert np.allclose(out.scores[1:], 0.7 * SCORES[[0, 1, 2, 4]])  # a monotone map
    assert out.explained == {
        1: {"score": 1.0, "users": 3, "weight": 0.3, "relevanceScore": 0.7}
    }


def test_a_weak_signal_moves_a_document_only_past_close_scores() -> None:
    out = blend(DOCIDS, SCORES, _signal([9], [0.2]))
    # 0.7 * 0.8 + 0.06 = 0.62 beats 0.7 * 0.85 = 0.595, not 0.7 * 0.9 = 0.63
    assert DOCIDS[out.perm].tolist() == [7, 9, 3, 1, 5]


def test_clicked_documents_outside_the_candidates_are_not_added() -> None:
    out = blend(DOCIDS, SCORES, _signal([42, 5], [1.0, 0.5]))
    assert sorted(DOCIDS[out.perm].tolist()) == sorted(DOCIDS.tolist())
    assert set(out.explained) == {5}


def test_rows_past_the_ordered_prefix_are_left_in_place_unless_clicked() -> None:
    docids = np.arange(8, dtype=np.uint32)
    scores = np.array([0.9, 0.8, 0.1, 0.5, 0.3, 0.2, 0.6, 0.4])  # only the first 2 ordered
    out = blend(docids, scores, _signal([6], [1.0]), ordered=2)
    head = docids[out.perm].tolist()
    assert head[:3] == [6, 0, 1]  # the clicked row 6 is sorted in with the prefix
    assert head[7:] == [7]  # rows after the last clicked one do not move


def test_a_skipped_candidate_falls_below_unnamed_ones_which_keep_their_order() -> None:
    signal = ClickSignal(
        np.array([7, 1], dtype=np.uint32), np.array([0.1, 0.9]), np.array([0, 4]), 0.3,
        neutral=0.5, expected=np.array([3.0, 1.0]),
    )  # fmt: skip
    out = blend(DOCIDS, SCORES, signal)
    assert DOCIDS[out.perm].tolist() == [1, 3, 9, 7, 5]
    unnamed = [1, 2, 4]  # rows of 3, 9 and 5: a monotone map of their relevance
    assert np.allclose(out.scores[[1, 2, 4]], 0.7 * SCORES[unnamed] + 0.15)
    assert out.explained[7]["expectedUsers"] == 3.0 and out.explained[7]["neutralScore"] == 0.5


def test_a_pushed_down_row_of_the_ordered_prefix_sorts_every_row() -> None:
    docids = np.arange(6, dtype=np.uint32)
    scores = np.array([0.9, 0.8, 0.3, 0.7, 0.2, 0.75])  # only the first 2 ordered
    skipped = ClickSignal(np.array([0], dtype=np.uint32), np.array([0.0]), np.array([0]), 0.5,
                          neutral=0.5)  # fmt: skip
    out = blend(docids, scores, skipped, ordered=2)
    # Row 0 falls to 0.45: rows 5 and 3 of the unordered tail now outscore it.
    assert docids[out.perm].tolist()[:2] == [1, 5]


def test_an_empty_signal_changes_nothing() -> None:
    out = blend(DOCIDS, SCORES, _signal([], []))
    assert out.perm.tolist() == list(range(5)) and np.array_equal(out.scores, SCORES)


def test_query_clicks_map_to_the_snapshot_docids_it_still_holds() -> None:
    clicks = QueryClicks(("a", "b", "gone", "c"), np.array([0.9, 0.5, 0.4, 0.3]),
                         np.array([4, 3, 2, 2]), 0.3)  # fmt: skip
    alive = np.array([True, True, False, True])
    ext_ids = ["a", "b", "c", "d"]
    docid_of = {"a": 0, "b": 1, "c": 3, "d": 2}  # "c" re-added under a new docid
    signal = clicks.on(alive, ext_ids, docid_of)
    assert signal.docids.tolist() == [0, 1]  # "c" at docid 3 is "d" in this snapshot
    assert signal.strength.tolist() == [0.9, 0.5] and signal.users.tolist() == [4, 3]


def test_the_signal_stage_lifts_a_clicked_hit_of_a_search(make_index: MakeIndex) -> None:
    index = make_index([{"id": i, "t": f"blue shirt size {i}"} for i in range(1, 7)], "sift")
    params = SearchParams.from_dict(
        {"q": "blue shirt", "showRankingScore": True, "showRankingScoreDetails": True}
    )
    view = index.view
    plain = pipeline.search(view, params)
    last = plain["hits"][-1]["id"]
    clicks = QueryClicks((str(last),), np.array([1.0]), np.array([5]), 0.5)
    lifted = pipeline.search(view, params, clicks=index.click_signal(view.snapshot, clicks))
    hits = lifted["hits"]
    assert hits[0]["id"] == last
    assert hits[0]["_rankingScoreDetails"]["clicks"]["users"] == 5
    assert [h["id"] for h in hits[1:]] == [h["id"] for h in plain["hits"][:-1]]
    assert all("clicks" not in h["_rankingScoreDetails"] for h in hits[1:])
    assert pipeline.search(view, params)["hits"] == plain["hits"]  # nothing shared was changed
