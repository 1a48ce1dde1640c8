"""Ranking that learns from clicks: a per-index model of which documents people choose for
a query, corrected for position bias (docs/ranking.md, "Clicks").

The model is derived state: rebuilt from the stored click events (`insight_events`,
joined to their searches by query uid) every `click_model_interval` seconds on every node
(each node reads the same database, so all agree), and handed to the engine as arrays
(sift.engine.clicks.QueryClicks). Only indexes whose `clickRanking.enabled` setting is on
get one; a query the model does not know is searched exactly as before.

The unit of evidence is one *user's choice*: a user who clicked a document for a query,
counted once however often they clicked it (sift.storage.analytics.click_choices), so a
visitor or a bot hammering one result adds one vote. A query needs `min_users` distinct
users who clicked, a document `min_doc_users`, before they count.

Position bias: a result shown first is clicked more because it is seen more, not only
because it is better. Each choice weighs ``(position + 1) ** eta``, the inverse of an
examination probability ``1 / rank ** eta`` (inverse propensity weighting), and a
document's share of its query's weighted choices says how strongly it was preferred.
Four ways to turn clicks into a strength were compared on the simulation
(docs/ranking.md#clicks has the figures; `method`):

- ``chance``: the share's lower confidence bound (Wilson, `z` standard
  deviations), less what an even spread over the documents chosen would give. Clicks
  spread at random, however many, give no signal: luck is not read as preference.
- ``ipw``: the share itself, with `prior` pseudo-choices added to the query's total.
- ``coec`` (clicks over expected clicks): the share, only for a document chosen more than
  an average result at its position would be (the index's own click-position
  distribution), at `z` standard deviations.
- ``examined`` (the default): clicks over expected clicks where what each document was
  owed comes from the searches' impressions (what each visitor was shown:
  sift.insights.impressions), so a result shown high and skipped falls as well as a
  chosen one rises, each pulled towards neutral by a prior estimated from the index's
  own clicks (`shrink`; sift.insights.examinations).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from sift.engine.clicks import QueryClicks
from sift.insights import examinations
from sift.insights.examinations import MAX_POSITION, poisson_lower_bound
from sift.insights.impressions import Impression, impressions
from sift.insights.periodic import PeriodicJob
from sift.insights.searches import normalise_query
from sift.storage import analytics as rows
from sift.storage.database import Database, utcnow

REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class ClickParams:
    """The model's parameters; the defaults are the values docs/ranking.md justifies."""

    method: str = "examined"  # or "chance", "ipw", "coec" (module docstring)
    eta: float = 0.5  # chance, ipw, coec: examination taken to fall as 1 / rank ** eta
    z: float = 0.7  # confidence (standard deviations) that a choice is not luck
    prior: float = 1.0  # ipw, examined: pseudo-clicks pulling thin evidence to "no signal"
    weight: float = 0.8  # share of the blended score the clicks decide
    min_users: int = 3  # distinct users who clicked, before a query gets a signal
    min_doc_users: int = 2  # distinct users who chose a document, before it counts
    max_docs: int = 50  # documents kept per query, strongest first
    examination: str = "last_click"  # examined: only the results shown at or above the
    # visitor's lowest click count as seen ("position": every result shown)
    beyond: float = 0.0  # examined, last_click: how far a result shown below the lowest
    # click counts as seen (the chance the visitor still looked at it)
    familywise: bool = False  # examined: z bounds the chance that a query whose clicks
    # position explains moves any document, not each document's (Sidak over its tests)
    shrink: str = "index"  # examined: estimate `prior` from the index's clicks
    # (empirical Bayes: how far documents' clicks depart from what they were owed)
    multinomial: bool = False  # shrink "index": chance's share of the spread is
    # owed * (1 - owed / clicks), not owed (reads a preference sooner; measured, off)


Choice = tuple[str, str, str, int]  # (user, normalised query, object id, 0-based position)


def position_shares(choices: Iterable[Choice]) -> np.ndarray:
    """Share of all choices made at each position (add-one smoothed, so no position's
    expectation is zero)."""
    counts = np.ones(MAX_POSITION + 1)
    positions = np.fromiter((min(c[3], MAX_POSITION) for c in choices), dtype=np.int64)
    np.add.at(counts, positions, 1)
    return counts / counts.sum()


def wilson_lower_bound(counts: np.ndarray, total: int, z: float) -> np.ndarray:
    """Wilson's lower confidence bound on the proportions ``counts / total``."""
    p = counts / total
    centre = p + z * z / (2 * total)
    spread = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return (centre - spread) / (1 + z * z / total)


def build_model(
    choices: list[Choice], params: ClickParams, shown: Sequence[Impression] = ()
) -> dict[str, QueryClicks]:
    """Normalised query -> the documents chosen for it (or, ``examined``, skipped), with
    their strength. ``shown``: the impressions of the searches clicked (``examined`` only)."""
    if params.method == "examined":
        return examinations.build(choices, shown, params)
    shares = position_shares(choices)
    by_query: dict[str, list[Choice]] = defaultdict(list)
    for choice in choices:
        by_query[choice[1]].append(choice)
    model: dict[str, QueryClicks] = {}
    for query, found in by_query.items():
        if len({c[0] for c in found}) < params.min_users:
            continue
        signal = _query_signal(found, shares, params)
        if signal is not None:
            model[query] = signal
    return model


def _query_signal(
    found: list[Choice], shares: np.ndarray, params: ClickParams
) -> QueryClicks | None:
    per_doc: dict[str, list[int]] = defaultdict(list)
    for _, _, object_id, position in found:
        per_doc[object_id].append(min(position, MAX_POSITION))
    ids = list(per_doc)
    users = np.array([len(per_doc[i]) for i in ids], dtype=np.int64)
    weighted = np.array(
        [sum((p + 1) ** params.eta for p in per_doc[i]) for i in ids], dtype=np.float64
    )
    strength = weighted / (weighted.sum() + params.prior)
    if params.method == "chance":
        # Above chance: the (weighted) share's lower confidence bound, less an even spread.
        floor = 1.0 / len(ids)
        share = weighted / weighted.sum() * len(found)
        low = wilson_lower_bound(share, len(found), params.z)
        strength = np.clip((low - floor) / (1.0 - floor), 0.0, 1.0) if len(ids) > 1 else low
    elif params.method == "coec":
        # Each document is taken to sit where it was chosen most often (its median).
        where = np.array([int(np.median(per_doc[i])) for i in ids], dtype=np.int64)
        expected = len(found) * shares[where]
        strength[poisson_lower_bound(users, params.z) <= expected] = 0.0
    keep = (users >= params.min_doc_users) & (strength > 0)
    if not keep.any():
        return None
    best = np.argsort(-strength[keep], kind="stable")[: params.max_docs]
    kept = np.nonzero(keep)[0][best]
    return QueryClicks(
        tuple(ids[i] for i in kept.tolist()), strength[kept], users[kept], params.weight
    )


class ClickModels(PeriodicJob):
    """Every opted-in index's model, rebuilt periodically; read on the search path."""

    name = "sift-clicks"
    failure = "click models were not refreshed"  # searches keep the last model

    def __init__(
        self,
        db: Database,
        enabled_indexes: Callable[[], list[str]],
        window: timedelta,
        interval: float = REFRESH_SECONDS,
        flush: Callable[[], object] = lambda: None,
        params: ClickParams | None = None,
    ) -> None:
        self.db = db
        self.enabled_indexes = enabled_indexes
        self.window = window
        self.interval = interval
        self.flush = flush  # the event buffer, written before it is read
        self.params = params or ClickParams()
        self._models: dict[str, dict[str, QueryClicks]] = {}
        super().__init__()

    def lookup(self, index_uid: str, q: object) -> QueryClicks | None:
        """The query's signal, or None (a dict miss: the common, free case)."""
        model = self._models.get(index_uid)
        if not model or not isinstance(q, str):
            return None
        return model.get(normalise_query(q))

    def run_once(self) -> None:
        self.refresh()

    def refresh(self) -> int:
        """Rebuild every opted-in index's model; returns how many queries have a signal."""
        self.flush()
        since = utcnow() - self.window
        models: dict[str, dict[str, QueryClicks]] = {}
        for uid in self.enabled_indexes():
            with self.db.read() as conn:
                choices = rows.click_choices(conn, uid, since)
                shown = (
                    impressions(rows.clicked_impressions(conn, uid, since))
                    if self.params.method == "examined"
                    else []
                )
            models[uid] = build_model(choices, self.params, shown)
        self._models = models  # one reference assignment: readers see old or new, whole
        return sum(len(m) for m in models.values())
