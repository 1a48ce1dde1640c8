"""Search rules on a ranked list of docids: pins, boosts, demotions, hides."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sift.engine.curation import Curation, Pin, Resolved, Scale, apply, pin_slots, resolve


def _resolved(pins: list[tuple[int, int]] = (), weights: dict[int, float] | None = None
              ) -> Resolved:
    weights = weights or {}
    return Resolved(
        np.array([d for d, _ in pins], dtype=np.int64),
        np.array([p for _, p in pins], dtype=np.int64),
        np.array(list(weights), dtype=np.int64),
        np.array(list(weights.values()), dtype=np.float64),
    )


def _run(docids: list[int], resolved: Resolved, scores: list[float] | None = None,
         rerank: bool = True) -> tuple[list[int], list[float], list[bool]]:
    s = scores if scores is not None else [1.0 - i / 100 for i in range(len(docids))]
    given = np.array(docids, dtype=np.uint32)
    ids, out_scores, rows = apply(given, np.array(s), resolved, rerank)
    # Each row says where it came from: its docid is the input's there, or a pin's.
    assert all(r == -1 or given[r] == d for d, r in zip(ids.tolist(), rows.tolist(), strict=True))
    pinned = set(resolved.pin_docids.tolist())
    return ids.tolist(), out_scores.round(4).tolist(), [d in pinned for d in ids.tolist()]


def test_a_pin_moves_a_found_document_and_inserts_one_the_query_missed() -> None:
    ids, scores, pinned = _run([10, 11, 12, 13], _resolved([(12, 0), (99, 2)]))
    assert ids == [12, 10, 99, 11, 13]
    assert pinned == [True, False, True, False, False]
    # A pinned document keeps its organic score; one the query did not find has 0.
    assert scores[0] == 0.98 and scores[2] == 0.0


def test_pins_on_one_position_follow_precedence_and_past_the_end_go_last() -> None:
    ids, _, _ = _run([1, 2], _resolved([(7, 0), (8, 0), (9, 50)]))
    assert ids == [7, 8, 1, 2, 9]
    assert _run([], _resolved([(5, 3), (6, 1)]))[0] == [6, 5]


def test_boost_and_deboost_reorder_by_score_ties_keep_their_order() -> None:
    ids, scores, _ = _run([1, 2, 3, 4], _resolved(weights={4: 4.0, 1: 0.5}),
                          scores=[0.9, 0.8, 0.8, 0.3])
    assert ids == [4, 2, 3, 1]
    assert scores == [1.2, 0.8, 0.8, 0.45]


def test_without_rerank_scaling_keeps_the_order_and_hide_still_removes() -> None:
    ids, _, _ = _run([1, 2, 3], _resolved(weights={3: 10.0, 2: 0.0}), rerank=False)
    assert ids == [1, 3]


def test_hide_removes_but_a_pin_wins_over_it() -> None:
    assert _run([1, 2, 3], _resolved(weights={2: 0.0}))[0] == [1, 3]
    assert _run([1, 2, 3], _resolved([(2, 2)], weights={2: 0.0}))[0] == [1, 3, 2]


def test_resolve_drops_pins_the_filters_exclude_and_unknown_ids() -> None:
    allowed = np.array([True, True, False, True])
    internal = {"a": 0, "b": 1, "c": 2, "d": 3}
    cur = Curation(pins=(Pin("c", 0), Pin("zz", 0), Pin("b", 4), Pin("b", 0)))
    out = resolve(cur, internal, lambda f: np.empty(0, np.uint32), allowed)
    assert out.pin_docids.tolist() == [1] and out.pin_positions.tolist() == [4]


def test_resolve_first_scale_selecting_a_document_wins() -> None:
    internal = {"a": 0, "b": 1, "c": 2}
    cur = Curation(scales=(Scale(2.0, ids=("a",)), Scale(0.0, filter="x"),
                           Scale(3.0, ids=("b", "c", "nope"))))
    out = resolve(cur, internal, lambda f: np.array([0, 2], np.uint32), np.ones(3, bool))
    assert dict(zip(out.weight_docids.tolist(), out.weights.tolist(), strict=True)) == {
        0: 2.0, 2: 0.0, 1: 3.0}


@given(st.lists(st.integers(0, 30), max_size=8), st.integers(0, 20))
def test_pin_slots_are_distinct_in_range_and_never_before_asked(positions: list[int],
                                                                organic: int) -> None:
    slots = pin_slots(np.array(positions, dtype=np.int64), organic)
    total = organic + len(positions)
    assert len(set(slots.tolist())) == len(positions)
    assert all(0 <= s < total for s in slots.tolist())
    for p, s in zip(positions, slots.tolist(), strict=True):
        assert s >= min(p, organic)


@given(st.lists(st.integers(0, 50), unique=True, max_size=20),
       st.lists(st.tuples(st.integers(0, 60), st.integers(0, 25)), max_size=5))
def test_every_organic_document_stays_once_and_in_order(organic: list[int],
                                                        pins: list[tuple[int, int]]) -> None:
    seen: set[int] = set()
    unique_pins = [(d, p) for d, p in pins if not (d in seen or seen.add(d))]
    ids, _, pinned = _run(organic, _resolved(unique_pins))
    assert sorted(ids) == sorted(set(organic) | seen)
    rest = [d for d, p in zip(ids, pinned, strict=True) if not p]
    assert rest == [d for d in organic if d not in seen]
