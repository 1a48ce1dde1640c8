"""The ``examined`` click model on plain tuples: a result shown high and skipped falls,
one chosen below where it was owed clicks rises, random clicks say nothing, and a
visitor counts once (the SQL reads are in tests/contract/test_insights.py)."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from statistics import NormalDist

import numpy as np

from sift.insights.clickmodel import Choice, ClickParams, build_model
from sift.insights.examinations import NEUTRAL, familywise_z, shrinkage_prior
from sift.insights.impressions import Impression, impressions, shown_ids

EXAMINED = ClickParams(method="examined", z=1.65, prior=1.0, weight=0.5, shrink="none")
PAGE = [f"d{i}" for i in range(10)]


def _sessions(
    picks: list[int], users: int, page: list[str] = PAGE, query: str = "dune", tag: str = "u"
) -> tuple[list[Choice], list[Impression]]:
    """`users` visitors each shown `page` and clicking the results at `picks`."""
    choices = [(f"{tag}{u}", query, page[p], p) for u in range(users) for p in picks]
    shown = [(f"{tag}{u}", query, doc, p) for u in range(users) for p, doc in enumerate(page)]
    return choices, shown


def _strengths(choices: list[Choice], shown: list[Impression]) -> dict[str, float]:
    signal = build_model(choices, EXAMINED, shown)["dune"]
    return dict(zip(signal.object_ids, signal.strength.tolist(), strict=True))


def _background() -> tuple[list[Choice], list[Impression]]:
    """Other queries, where visitors mostly click the top results: the index's rates."""
    rng = random.Random(2)
    choices: list[Choice] = []
    shown: list[Impression] = []
    for q in range(30):
        page = [f"q{q}-{i}" for i in range(10)]
        for u in range(6):
            pick = min(int(rng.expovariate(0.5)), 9)
            more = _sessions([pick], 1, page, f"other {q}", f"b{q}-{u}-")
            choices += more[0]
            shown += more[1]
    return choices, shown


BACKGROUND = _background()


def test_results_shown_on_top_and_skipped_fall_and_the_chosen_one_rises() -> None:
    mine = _sessions([4], users=20)  # everyone skips d0-d3 and chooses d4
    strength = _strengths(BACKGROUND[0] + mine[0], BACKGROUND[1] + mine[1])
    assert strength["d4"] > NEUTRAL
    assert strength["d0"] < NEUTRAL and strength["d1"] < NEUTRAL
    assert strength["d0"] <= strength["d1"]  # the higher it was shown, the more it owed
    assert "d9" not in strength  # rarely looked at, never chosen: no evidence either way


def test_clicks_spread_at_random_give_no_signal() -> None:
    rng = random.Random(5)
    choices: list[Choice] = []
    shown: list[Impression] = []
    for u in range(60):
        more = _sessions([rng.randrange(10)], 1, tag=f"n{u}-")
        choices += more[0]
        shown += more[1]
    signal = build_model(choices, EXAMINED, shown).get("dune")
    moved = 0 if signal is None else len(signal.object_ids)
    assert moved <= 1  # 10 documents at z = 1.65: at most a stray one


def test_a_query_needs_enough_clicking_visitors() -> None:
    def model(users: int) -> dict[str, object]:
        mine = _sessions([4], users=users)
        return build_model(BACKGROUND[0] + mine[0], EXAMINED, BACKGROUND[1] + mine[1])

    assert "dune" not in model(2)
    assert "dune" in model(3)


def test_a_bot_repeating_its_search_and_click_counts_once() -> None:
    choices, shown = _sessions([4], users=3)
    bot_choices, bot_shown = _sessions([9], users=1, tag="bot")
    choices, shown = choices + BACKGROUND[0], shown + BACKGROUND[1]
    once = build_model(choices + bot_choices, EXAMINED, shown + bot_shown)["dune"]
    again = build_model(choices + bot_choices * 50, EXAMINED, shown + bot_shown * 50)["dune"]
    assert once.object_ids == again.object_ids
    assert once.strength.tolist() == again.strength.tolist()
    assert "d9" not in once.object_ids  # one user is below min_doc_users


def test_stored_rows_become_one_impression_per_user_query_and_document() -> None:
    rows = [("u", "dune", '["a","b"]'), ("u", "dune", '["b","c"]'), ("v", "dune", "not json")]
    assert sorted(impressions(rows)) == [
        ("u", "dune", "a", 0), ("u", "dune", "b", 0), ("u", "dune", "c", 1)
    ]  # fmt: skip


def test_shown_ids_only_for_a_first_page_whose_ids_were_retrieved() -> None:
    hits = [{"id": 3, "t": "x"}, {"id": "b"}]
    assert shown_ids(hits, "id", first_page=True) == ("3", "b")
    assert shown_ids(hits, "id", first_page=False) is None
    assert shown_ids([{"t": "x"}], "id", first_page=True) is None
    assert shown_ids(hits, None, first_page=True) is None
    assert len(shown_ids([{"id": i} for i in range(50)], "id", True) or ()) == 20


def _random_queries(queries: int, users: int, seed: int) -> tuple[list[Choice], list[Impression]]:
    """Visitors who click one result of the page at random: position alone explains it."""
    rng = random.Random(seed)
    choices: list[Choice] = []
    shown: list[Impression] = []
    for q in range(queries):
        page = [f"r{q}-{i}" for i in range(10)]
        for u in range(users):
            more = _sessions([rng.randrange(10)], 1, page, f"random {q}", f"r{q}-{u}-")
            choices += more[0]
            shown += more[1]
    return choices, shown


def test_familywise_bound_holds_for_the_query_not_each_document() -> None:
    """Each document tested at z alone: a query showing many of them moves one by luck
    far more often than 1 - Phi(z); held for the query, random clicks move few queries."""
    choices, shown = _random_queries(queries=120, users=40, seed=11)
    per_document = build_model(choices, EXAMINED, shown)
    per_query = build_model(choices, replace(EXAMINED, familywise=True), shown)
    assert len(per_document) > 20  # about one query in four moves something by luck
    assert len(per_query) <= 0.1 * 120  # 1 - Phi(1.65) = 5 %, with room for the draw


def test_familywise_z_is_sidak() -> None:
    assert familywise_z(1.65, 1) == 1.65
    alpha = 1 - NormalDist().cdf(familywise_z(1.65, 10))
    assert abs((1 - alpha) ** 10 - NormalDist().cdf(1.65)) < 1e-9


def test_a_clear_preference_passes_the_familywise_bound() -> None:
    mine = _sessions([4], users=40)  # the stricter bound asks for more visitors
    params = replace(EXAMINED, familywise=True)
    signal = build_model(BACKGROUND[0] + mine[0], params, BACKGROUND[1] + mine[1])["dune"]
    strength = dict(zip(signal.object_ids, signal.strength.tolist(), strict=True))
    assert strength["d4"] > NEUTRAL and strength["d0"] < NEUTRAL


def test_results_below_the_lowest_click_count_as_seen_only_with_beyond() -> None:
    """Everyone chooses d0 and stops there: d1-d9 are owed nothing unless a look below
    the lowest click counts for something."""
    mine = _sessions([0], users=40)
    choices, shown = BACKGROUND[0] + mine[0], BACKGROUND[1] + mine[1]
    cascade = build_model(choices, EXAMINED, shown).get("dune")
    assert cascade is None or set(cascade.object_ids) <= {"d0"}
    looked = build_model(choices, replace(EXAMINED, beyond=0.5), shown)["dune"]
    falls = {
        d for d, s in zip(looked.object_ids, looked.strength.tolist(), strict=True) if s < NEUTRAL
    }
    assert falls and falls <= {f"d{i}" for i in range(1, 10)}


def test_shrinkage_prior_is_the_inverse_of_the_excess_variance() -> None:
    """Choices 10 and 0 where 5 and 5 were owed: squared departures 25 each, of which the
    Poisson part explains 5, so tau2 = (20 + 20) / (25 + 25) and the prior is 1 / tau2."""
    counts = [(["a", "b"], np.array([10, 0]), np.array([5.0, 5.0]))]
    assert shrinkage_prior(counts) == 50 / 40
    # With the query's total fixed, chance explains 5 * (1 - 5 / 10) of each instead.
    assert shrinkage_prior(counts, multinomial=True) == 50 / 45
    assert shrinkage_prior([(["a", "b"], np.array([5, 5]), np.array([5.0, 5.0]))]) == math.inf


def test_an_index_of_random_clicks_estimates_no_preference_and_moves_nothing() -> None:
    """The per-document bound alone lets luck move about one query in four (above); the
    prior estimated from the whole index leaves nothing to move, even at a loose z."""
    choices, shown = _random_queries(queries=120, users=40, seed=11)
    assert build_model(choices, replace(EXAMINED, shrink="index", z=0.7), shown) == {}


def test_a_clear_preference_survives_the_estimated_prior() -> None:
    mine = _sessions([4], users=20)
    params = replace(EXAMINED, shrink="index", z=0.7, weight=0.8)
    signal = build_model(BACKGROUND[0] + mine[0], params, BACKGROUND[1] + mine[1])["dune"]
    strength = dict(zip(signal.object_ids, signal.strength.tolist(), strict=True))
    assert strength["d4"] > NEUTRAL and strength["d0"] < NEUTRAL
    # Damped towards neutral compared with the fixed prior of 1:
    fixed = _strengths(BACKGROUND[0] + mine[0], BACKGROUND[1] + mine[1])
    assert NEUTRAL < strength["d4"] < fixed["d4"]
