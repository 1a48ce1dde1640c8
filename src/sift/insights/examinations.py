"""Clicks over expected clicks, with examinations taken from impressions: the click
model's ``examined`` method (docs/ranking.md, "Clicks").

A visitor sees a page and clicks some of it. How many clicks a document *should* get,
were it as attractive as the rest of its query's results, depends on where it was shown:
a result on top is looked at more than one lower down. So each time a visitor who clicked
something for a query was shown the document, it is owed that position's click rate (the
index's own rate at each position: a position-based examination model), and the query's
clicks are shared out in proportion to what each document was owed. A document clicked
clearly more than its share rises; one shown high and skipped clearly more often than
chance allows falls; the rest stay where relevance put them.

"Clearly" is a Poisson confidence bound on each document's count (`z`; with
`familywise`, held for the query as a whole by a Sidak correction over the documents
whose counts could pass at all). How far a document moves is its clicks over what it
was owed, pulled towards 1 by a prior that, by default, the index's own clicks set
(:func:`shrinkage_prior`): strong where documents' clicks barely depart from what
position explains, weak where they depart a lot, infinite (nothing moves) where the
index's clicks are no more spread than chance. The unit is one visitor: a click counts
once per user, query and document, and so does an impression (at the best position the
user was shown it), so a bot hammering a result adds one click and one impression.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from sift.engine.clicks import QueryClicks
from sift.insights.impressions import Impression

if TYPE_CHECKING:
    from sift.insights.clickmodel import Choice, ClickParams

NEUTRAL = 0.5  # the strength of a document the clicks say nothing about
MAX_POSITION = 50  # deeper positions share one bucket (pages rarely go further)
RATE_PRIOR = 5.0  # impressions at the overall click rate each position's rate starts from

Unit = tuple[str, str]  # (user, normalised query): one visitor's looks at one query


def poisson_lower_bound(counts: np.ndarray, z: float) -> np.ndarray:
    """A one-sided lower confidence bound (z standard deviations) on the rate behind
    Poisson counts (Wilson and Hilferty's approximation): what a count could still be
    if it were this much luck."""
    c = np.maximum(counts.astype(np.float64), 1e-9)
    return np.where(
        counts > 0, c * np.clip(1 - 1 / (9 * c) - z / (3 * np.sqrt(c)), 0, None) ** 3, 0.0
    )


def poisson_upper_bound(counts: np.ndarray, z: float) -> np.ndarray:
    """The matching upper bound: what the rate could be and still give counts this low."""
    c = counts.astype(np.float64) + 1
    return c * (1 - 1 / (9 * c) + z / (3 * np.sqrt(c))) ** 3


def familywise_z(z: float, tests: int) -> float:
    """The per-document z that keeps the chance of *any* of ``tests`` documents passing by
    luck at ``1 - Phi(z)`` (Sidak): a query showing many results gets no more false moves
    than one showing few."""
    if tests <= 1:
        return z
    alpha = 1.0 - NormalDist().cdf(z)
    return NormalDist().inv_cdf((1.0 - alpha) ** (1.0 / tests))


def click_rates(
    shown: dict[Unit, dict[str, int]],
    chosen: dict[Unit, set[str]],
    seen: dict[Unit, dict[str, float]],
) -> np.ndarray:
    """The index's click rate at each position: clicks there over impressions there
    (one per visitor and query, weighed by the chance it was seen). Each position starts
    from RATE_PRIOR impressions at the index's overall rate, so that an index with few
    queries, whose rates would mostly say where its few relevant results happen to sit,
    is read as position-neutral."""
    shows = np.zeros(MAX_POSITION + 1)
    clicks = np.zeros(MAX_POSITION + 1)
    for unit, positions in shown.items():
        picked = chosen.get(unit, ())
        for doc, position in positions.items():
            at = min(position, MAX_POSITION)
            shows[at] += seen[unit][doc]
            clicks[at] += doc in picked
    overall = clicks.sum() / max(shows.sum(), 1.0)
    return (clicks + RATE_PRIOR * overall) / (shows + RATE_PRIOR)


def build(
    choices: Sequence[Choice], impressions: Sequence[Impression], params: ClickParams
) -> dict[str, QueryClicks]:
    """Normalised query -> the documents its clicks and skips say something about."""
    clickers: dict[str, set[str]] = defaultdict(set)
    chosen: dict[Unit, set[str]] = defaultdict(set)
    shown: dict[Unit, dict[str, int]] = defaultdict(dict)
    for user, query, doc, position in choices:
        clickers[query].add(user)
        chosen[(user, query)].add(doc)
        shown[(user, query)].setdefault(doc, position)  # clicked, so it was seen
    for user, query, doc, position in impressions:
        if (user, query) in chosen:  # only what visitors who chose something saw
            held = shown[(user, query)].get(doc)
            shown[(user, query)][doc] = position if held is None else min(held, position)
    # The chance each result was seen: 1 at or above the visitor's lowest click (a
    # visitor reads down the page), `beyond` below it ("position": 1 everywhere).
    below = 1.0 if params.examination == "position" else params.beyond
    seen: dict[Unit, dict[str, float]] = {}
    for unit, positions in shown.items():
        last = max(positions[doc] for doc in chosen[unit])
        if below == 0.0:
            shown[unit] = positions = {d: at for d, at in positions.items() if at <= last}
        seen[unit] = {d: 1.0 if at <= last else below for d, at in positions.items()}
    rates = click_rates(shown, chosen, seen)
    by_query: dict[str, list[Unit]] = defaultdict(list)
    for unit in shown:
        by_query[unit[1]].append(unit)
    counts = {
        query: _owed(units, shown, seen, chosen, rates)
        for query, units in by_query.items()
        if len(clickers[query]) >= params.min_users
    }
    prior = params.prior
    if params.shrink == "index":
        prior = shrinkage_prior(counts.values(), params.multinomial)
        if math.isinf(prior):  # the index's clicks show no preference at all
            return {}
    model: dict[str, QueryClicks] = {}
    for query, (ids, users, expected) in counts.items():
        signal = _query_signal(ids, users, expected, prior, params)
        if signal is not None:
            model[query] = signal
    return model


def _owed(
    units: list[Unit],
    shown: dict[Unit, dict[str, int]],
    seen: dict[Unit, dict[str, float]],
    chosen: dict[Unit, set[str]],
    rates: np.ndarray,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One query's documents, the users who chose each and the choices each was owed."""
    owed: dict[str, float] = defaultdict(float)
    clicks: dict[str, int] = defaultdict(int)
    for unit in units:
        for doc, position in shown[unit].items():
            owed[doc] += rates[min(position, MAX_POSITION)] * seen[unit][doc]
        for doc in chosen[unit]:
            clicks[doc] += 1
    ids = list(owed)
    users = np.array([clicks.get(i, 0) for i in ids], dtype=np.int64)
    expected = np.array([owed[i] for i in ids])
    expected *= users.sum() / expected.sum()  # the query's clicks, shared by what was owed
    return ids, users, expected


def shrinkage_prior(
    counts: Iterable[tuple[list[str], np.ndarray, np.ndarray]], multinomial: bool = False
) -> float:
    """The pseudo-choices that pull each document's clicks-over-owed ratio towards 1,
    estimated from the index's own clicks (empirical Bayes, gamma-Poisson): were each
    document's attractiveness relative to its query's a draw of mean 1 and variance
    ``tau2``, its choices would vary around what it was owed by ``owed + owed² tau2``;
    the excess of the observed squared departures over the Poisson part estimates
    ``tau2`` (method of moments, pooled over every query of the index), and the posterior
    mean of the ratio is ``(choices + 1 / tau2) / (owed + 1 / tau2)``. Clicks that
    position alone explains (random ones) leave no excess: an infinite prior, no signal.

    What chance explains of each count is taken as its own ``owed`` (Poisson), though the
    query's counts share a total fixed by its clicks (``owed (1 - owed / clicks)`` with
    ``multinomial``): that over-states chance, so ``tau2`` is read low and the prior
    strong, on the side of moving nothing, and later (docs/ranking.md#clicks).
    A query with one document to compare says nothing about relative attractiveness
    (its document is owed exactly its clicks) and is left out."""
    excess = spread = 0.0
    for ids, users, expected in counts:
        if len(ids) < 2:
            continue
        chance = expected * (1 - expected / users.sum()) if multinomial else expected
        excess += float(np.sum((users - expected) ** 2 - chance))
        spread += float(np.sum(expected**2))
    return spread / excess if excess > 0.0 else math.inf


def _query_signal(
    ids: list[str],
    users: np.ndarray,
    expected: np.ndarray,
    prior: float,
    params: ClickParams,
) -> QueryClicks | None:
    z = params.z
    if params.familywise:
        # The tests that could pass at all: a rise needs min_doc_users choices, a fall
        # more owed than even no choice at all explains (Tarone: counting documents that
        # cannot move would only make the bound needlessly strict).
        never = poisson_upper_bound(np.zeros(1, dtype=np.int64), z)[0]
        z = familywise_z(
            z, int(np.count_nonzero((users >= params.min_doc_users) | (expected > never)))
        )
    low = poisson_lower_bound(users, z)
    high = poisson_upper_bound(users, z)
    ratio = (users + prior) / (expected + prior)
    strength = np.full(len(ids), NEUTRAL)
    rises = (users >= params.min_doc_users) & (low > expected)
    falls = high < expected
    moved = rises | falls
    strength[moved] = ratio[moved] / (1 + ratio[moved])
    if not moved.any():
        return None
    kept = np.nonzero(moved)[0]
    kept = kept[np.argsort(-np.abs(strength[kept] - NEUTRAL), kind="stable")[: params.max_docs]]
    return QueryClicks(
        tuple(ids[i] for i in kept.tolist()),
        strength[kept],
        users[kept],
        params.weight,
        neutral=NEUTRAL,
        expected=expected[kept],
    )
