"""The ``examined`` click model on plain tuples: a result shown high and skipped falls,
one chosen below where it was owed clicks rises, random clicks say nothing, and a
visitor counts once (the SQL reads are in tests/contract/test_insights.py)."""

from __future__ import annotations

import random

from sift.insights.clickmodel import Choice, ClickParams, build_model
from sift.insights.examinations import NEUTRAL
from sift.insights.impressions import Impression, impressions, shown_ids

EXAMINED = ClickParams(method="examined", z=1.65, prior=1.0)
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
