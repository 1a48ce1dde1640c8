"""The click model from users' choices: evidence thresholds, position-bias correction and
its two methods, on plain tuples (the SQL read that caps repeats is in
tests/contract/test_insights.py)."""

from __future__ import annotations

import random

from sift.insights.clickmodel import Choice, ClickParams, build_model, position_shares

COEC = ClickParams(method="coec", z=2.33)
CHANCE = ClickParams(method="chance", prior=2.0, z=1.65)
IPW = ClickParams(method="ipw", eta=1.0)


def _choices(query: str, picks: list[tuple[str, int]], users: int) -> list[Choice]:
    """Each of `users` users chose every (doc, position) of `picks`."""
    return [(f"u{u}", query, doc, pos) for u in range(users) for doc, pos in picks]


def _background(n_queries: int = 40, seed: int = 1) -> list[Choice]:
    """Other queries' choices, most at the top: the index's position distribution."""
    rng = random.Random(seed)
    out: list[Choice] = []
    for q in range(n_queries):
        for u in range(5):
            pos = min(int(rng.expovariate(0.6)), 9)
            out.append((f"b{u}", f"other {q}", f"d{pos}", pos))
    return out


def test_a_query_needs_enough_distinct_users_and_a_document_enough_choosers() -> None:
    two_users = _choices("dune", [("7", 4)], users=2)
    assert "dune" not in build_model(_background() + two_users, COEC)
    lone = [("u9", "dune", "8", 2)]  # one user's choice among others': not enough alone
    model = build_model(_background() + _choices("dune", [("7", 4)], users=3) + lone, COEC)
    assert model["dune"].object_ids == ("7",)
    assert model["dune"].users.tolist() == [3]


def test_a_document_chosen_below_its_position_gets_a_stronger_signal_than_one_on_top() -> None:
    # Everyone picks "deep" at position 6 and "top" at position 0: choosing a result
    # that few people even see is the stronger evidence.
    found = _choices("dune", [("top", 0), ("deep", 6)], users=6)
    signal = build_model(_background() + found, COEC)["dune"]
    strength = dict(zip(signal.object_ids, signal.strength.tolist(), strict=True))
    assert strength["deep"] > 0.5 and strength.get("top", 0.0) < strength["deep"]


def test_clicks_spread_like_the_position_distribution_give_little_or_no_signal() -> None:
    rng = random.Random(3)
    background = _background(200, seed=5)
    shares = position_shares(background)
    positions = rng.choices(range(len(shares)), weights=shares.tolist(), k=20)
    noise = [(f"n{i}", "dune", f"p{p}", p) for i, p in enumerate(positions)]
    signal = build_model(background + noise, COEC).get("dune")
    assert signal is None or float(signal.strength.max()) < 0.35


def test_ipw_weighs_deeper_choices_more_and_a_larger_prior_weakens_thin_evidence() -> None:
    found = _choices("dune", [("top", 0), ("deep", 4)], users=3)
    signal = build_model(found, IPW)["dune"]
    assert signal.object_ids == ("deep", "top")
    assert signal.strength[0] / signal.strength[1] == 5.0  # (4 + 1) ** eta / (0 + 1) ** eta
    flat = build_model(found, ClickParams(method="ipw", eta=0.0))["dune"]
    assert flat.strength[0] == flat.strength[1]
    cautious = build_model(found, ClickParams(method="ipw", prior=100.0))["dune"]
    assert cautious.strength.max() < signal.strength.max()


def test_documents_per_query_are_bounded_strongest_first() -> None:
    found = _choices("dune", [(f"d{i}", i) for i in range(10)], users=3)
    signal = build_model(found, ClickParams(method="ipw", max_docs=4))["dune"]
    assert signal.object_ids == ("d9", "d8", "d7", "d6")


def test_above_chance_ignores_an_even_spread_and_keeps_a_clear_favourite() -> None:
    rng = random.Random(7)
    spread = [(f"n{i}", "dune", f"d{p}", p) for i, p in enumerate(rng.choices(range(10), k=30))]
    assert "dune" not in build_model(spread, CHANCE)
    favourite = _choices("dune", [("7", 3)], users=12)
    signal = build_model(spread + [(f"f{u}", *rest) for u, (_, *rest) in enumerate(favourite)],
                         CHANCE)["dune"]  # fmt: skip
    assert signal.object_ids[0] == "7" and signal.strength[0] > 0.05
