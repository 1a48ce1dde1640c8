"""Simulated visitors: a position-biased cascade over the first page, judged grades making
clicks likelier, noise clicks, and bots hammering one result. Seeded: the same seed gives
the same sessions for the same rankings."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from benchmarks.metrics import evaluate

PAGE = 10  # results a visitor can see


@dataclass(frozen=True)
class Visitors:
    keep_looking: float = 0.8  # after a result not clicked, the next is examined with this
    stop_after_click: float = 0.5  # a click satisfies the visitor with this probability
    click_unjudged: float = 0.05  # a non-relevant result is still clicked sometimes
    click_relevant: tuple[float, float] = (0.3, 0.9)  # click probability, lowest to top grade
    noise: float = 0.15  # a session adds one click on a random result of the page
    bots: int = 3
    bot_share: float = 0.1  # of the clicked queries, each bot hammers this share
    bot_repeats: int = 10  # clicks per bot search

    def attraction(self, grade: int, top_grade: int) -> float:
        if grade <= 0:
            return self.click_unjudged
        low, high = self.click_relevant
        return low + (high - low) * (grade - 1) / max(top_grade - 1, 1) if top_grade > 1 else high


def session(
    shown: Sequence[str], grades: dict[str, int], visitors: Visitors, rng: random.Random
) -> list[int]:
    """0-based positions one visitor clicks, in click order (cascade: top to bottom)."""
    top_grade = max(grades.values(), default=1)
    clicks: list[int] = []
    for position, doc in enumerate(shown[:PAGE]):
        if rng.random() < visitors.attraction(grades.get(doc, 0), top_grade):
            clicks.append(position)
            if rng.random() < visitors.stop_after_click:
                break
        elif rng.random() >= visitors.keep_looking:
            break
    if shown and rng.random() < visitors.noise:
        clicks.append(rng.randrange(min(PAGE, len(shown))))
    return clicks


def noise_session(shown: Sequence[str], rng: random.Random) -> list[int]:
    """Every click random: one or two uniformly chosen results of the page, or none."""
    if not shown:
        return []
    return [rng.randrange(min(PAGE, len(shown))) for _ in range(rng.choice((0, 1, 1, 2)))]


@dataclass(frozen=True)
class Bot:
    user: str
    targets: dict[str, str]  # query id -> the result it clicks over and over


def make_bots(
    clicked: Sequence[str],
    first_pages: dict[str, Sequence[str]],
    qrels: dict[str, dict[str, int]],
    visitors: Visitors,
    rng: random.Random,
) -> list[Bot]:
    """Each bot picks its share of the clicked queries and, in each, the lowest
    non-relevant result of the first page: the result it would push up."""
    bots = []
    for n in range(visitors.bots):
        picked = rng.sample(list(clicked), max(1, int(len(clicked) * visitors.bot_share)))
        targets = {}
        for qid in picked:
            junk = [d for d in first_pages[qid][:PAGE] if qrels[qid].get(d, 0) <= 0]
            if junk:
                targets[qid] = junk[-1]
        bots.append(Bot(f"bot-{n}", targets))
    return bots


class Engine(Protocol):
    """Where the simulated visitors search and click: a real server or the offline replay."""

    def search(self, index: str, qid: str, user: str) -> tuple[list[str], str]:
        """The first page's ids and the search's query uid."""
        ...

    def click(self, index: str, user: str, query_uid: str, doc: str, position: int) -> None: ...

    def settle(self) -> None:
        """Until the click model has read every click sent so far."""
        ...

    def rankings(self, index: str, qids: Sequence[str]) -> dict[str, list[str]]:
        """The top 100 of each query, as a visitor would now get it."""
        ...


MAIN, NOISE = "main", "noise"  # the index visitors click in, the one only noise clicks in


def run_sessions(
    engine: Engine,
    clicked: Sequence[str],
    never: Sequence[str],
    qrels: dict[str, dict[str, int]],
    visitors: Visitors,
    seed: int,
    checkpoints: Sequence[int],
) -> list[dict[str, Any]]:
    """Rounds of one session per clicked query (each by a new visitor) in both indexes,
    the bots' hammering in the main one; after each checkpoint's round, the rankings."""
    rng = random.Random(seed)
    first = engine.rankings(MAIN, clicked)
    bots = make_bots(clicked, first, qrels, visitors, rng)
    curve = [_point(engine, 0, clicked, never, qrels)]
    for n in range(1, max(checkpoints) + 1):
        for qid in clicked:
            user = f"visitor-{n}-{qid}"
            shown, uid = engine.search(MAIN, qid, user)
            for position in session(shown, qrels[qid], visitors, rng):
                engine.click(MAIN, user, uid, shown[position], position)
            shown, uid = engine.search(NOISE, qid, user)
            for position in noise_session(shown, rng):
                engine.click(NOISE, user, uid, shown[position], position)
        for bot in bots:
            for qid, target in bot.targets.items():
                shown, uid = engine.search(MAIN, qid, bot.user)
                if target in shown:
                    for _ in range(visitors.bot_repeats):
                        engine.click(MAIN, bot.user, uid, target, shown.index(target))
        engine.settle()
        if n in checkpoints:
            curve.append(_point(engine, n, clicked, never, qrels))
    return curve


def _point(
    engine: Engine,
    sessions: int,
    clicked: Sequence[str],
    never: Sequence[str],
    qrels: dict[str, dict[str, int]],
) -> dict[str, Any]:
    main = engine.rankings(MAIN, [*clicked, *never])
    noise = engine.rankings(NOISE, clicked)
    return {
        "sessions": sessions,
        "clicked": ndcg(qrels, main, clicked),
        "never_clicked": ndcg(qrels, main, never),
        "noise_clicked": ndcg(qrels, noise, clicked),
    }


def ndcg(qrels: dict[str, dict[str, int]], ranked: dict[str, list[str]], qids: Sequence[str]
         ) -> float:  # fmt: skip
    """Mean nDCG@10 (trec_eval's) over `qids`."""
    return evaluate({q: qrels[q] for q in qids}, {q: ranked[q] for q in qids}).ndcg_10
