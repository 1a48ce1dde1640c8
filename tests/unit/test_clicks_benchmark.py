"""The clicks benchmark's simulation and offline replay on a toy collection: seeded
sessions repeat, clicked queries gain, never-clicked queries keep their ranking."""

from __future__ import annotations

import random

import numpy as np
from benchmarks.clicks.mixed import mixed
from benchmarks.clicks.offline import replay
from benchmarks.clicks.simulate import Visitors, noise_session, session

from sift.insights.clickmodel import ClickParams

QRELS = {f"q{i}": {f"q{i}-rel": 1} for i in range(8)}
# Each query's default ranking puts its one relevant document at a rank of its own (0-based
# 3, 0, 6 or 1): the click models learn where visitors click from many queries.
RANKS = {f"q{i}": (3, 0, 6, 1)[i % 4] for i in range(8)}
DEFAULTS = {
    q: ([f"{q}-d{j}" for j in range(RANKS[q])] + [f"{q}-rel"]
        + [f"{q}-d{j}" for j in range(RANKS[q], 20)], np.linspace(0.9, 0.5, 21))
    for q in QRELS
}  # fmt: skip


def test_sessions_are_seeded_and_clicks_stay_on_the_page() -> None:
    shown = DEFAULTS["q0"][0]
    runs = [[session(shown, QRELS["q0"], Visitors(), random.Random(5)) for _ in range(50)]
            for _ in range(2)]  # fmt: skip
    assert runs[0] == runs[1]
    assert all(0 <= p < 10 for clicks in runs[0] for p in clicks)
    rng = random.Random(1)
    assert all(0 <= p < 10 for _ in range(50) for p in noise_session(shown, rng))


def test_replay_lifts_clicked_queries_and_leaves_the_others() -> None:
    clicked, never = ["q0", "q1", "q2", "q3"], ["q4", "q5", "q6", "q7"]
    curve = replay(DEFAULTS, clicked, never, QRELS, ClickParams(), Visitors(), 3, (5, 20))
    first, last = curve[0], curve[-1]
    assert last["sessions"] == 20
    assert last["clicked"] > first["clicked"] + 0.2  # the relevant documents reach the top
    assert last["never_clicked"] == first["never_clicked"]


def test_mixed_index_reports_the_real_half_gaining() -> None:
    """benchmarks.clicks.mixed: every other clicked query gets real sessions, the rest
    random clicks, in one index; the real half's relevant documents reach the top."""
    gain, _ = mixed(DEFAULTS, [f"q{i}" for i in range(8)], QRELS, ClickParams(), seed=3)
    assert gain > 0.2
