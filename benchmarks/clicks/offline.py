"""The simulation replayed without a server, to choose the click model's parameters: the
same visitors and the same model and blend code (sift.insights.clickmodel,
sift.engine.clicks) over each query's default top 100, fetched once from the server.
Dozens of parameter sets then cost seconds, where each real run costs a minute."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from benchmarks.clicks.simulate import PAGE, Visitors, run_sessions
from sift.engine.clicks import ClickSignal, blend
from sift.insights.clickmodel import Choice, ClickParams, build_model
from sift.insights.impressions import impressions

Ranking = tuple[list[str], np.ndarray]  # ids and scores, best first


class OfflineEngine:
    def __init__(self, defaults: dict[str, Ranking], params: ClickParams) -> None:
        self.defaults = defaults
        self.params = params
        self.choices: dict[str, dict[tuple[str, str, str], int]] = {"main": {}, "noise": {}}
        self.models: dict[str, dict[str, Any]] = {"main": {}, "noise": {}}
        # Each search's (user, query, first page), and the searches clicked, as stored.
        self._searches: dict[str, tuple[str, str, list[str]]] = {}
        self._clicked: dict[str, set[str]] = {"main": set(), "noise": set()}

    def _ranked(self, index: str, qid: str) -> list[str]:
        ids, scores = self.defaults[qid]
        signal = self.models[index].get(qid)
        if signal is None:
            return ids
        row_of = {doc: row for row, doc in enumerate(ids)}
        found = [row_of.get(oid, -1) for oid in signal.object_ids]
        keep = np.array([f >= 0 for f in found], dtype=bool)
        mixed = blend(
            np.arange(len(ids), dtype=np.uint32),
            scores,
            ClickSignal(np.array(found)[keep].astype(np.uint32), signal.strength[keep],
                        signal.users[keep], signal.weight, signal.neutral),
        )  # fmt: skip
        return [ids[i] for i in mixed.perm.tolist()]

    def search(self, index: str, qid: str, user: str) -> tuple[list[str], str]:
        uid = f"{index}:{len(self._searches)}"
        shown = self._ranked(index, qid)[:PAGE]
        self._searches[uid] = (user, qid, shown)
        return shown, uid

    def click(self, index: str, user: str, query_uid: str, doc: str, position: int) -> None:
        qid = self._searches[query_uid][1]
        self._clicked[index].add(query_uid)
        key = (user, qid, doc)  # one choice per user, query and document, as stored
        held = self.choices[index].get(key)
        self.choices[index][key] = position if held is None else min(held, position)

    def settle(self) -> None:
        for index, found in self.choices.items():
            rows: list[Choice] = [(u, q, d, p) for (u, q, d), p in found.items()]
            shown = impressions(
                (user, qid, json.dumps(ids))
                for user, qid, ids in map(self._searches.__getitem__, self._clicked[index])
            )
            self.models[index] = build_model(rows, self.params, shown)

    def rankings(self, index: str, qids: Sequence[str]) -> dict[str, list[str]]:
        return {qid: self._ranked(index, qid) for qid in qids}


def replay(
    defaults: dict[str, Ranking],
    clicked: Sequence[str],
    never: Sequence[str],
    qrels: dict[str, dict[str, int]],
    params: ClickParams,
    visitors: Visitors,
    seed: int,
    checkpoints: Sequence[int],
) -> list[dict[str, Any]]:
    engine = OfflineEngine(defaults, params)
    return run_sessions(engine, clicked, never, qrels, visitors, seed, checkpoints)


def finalists() -> list[ClickParams]:
    """The sets that won a leave-one-collection-out fold of the full grid before the
    estimated prior (docs/ranking.md#clicks), and the estimated prior's own sets: the
    short grid that a multi-seed comparison can afford."""
    base = ClickParams(shrink="none", z=1.65, weight=0.5)
    sets = [
        base,
        replace(base, weight=0.7),
        replace(base, examination="position", z=1.3, prior=3.0, weight=0.3),
        replace(base, familywise=True, z=1.28, beyond=0.3, weight=0.5),
        replace(base, familywise=True, z=1.28, beyond=0.3, weight=0.7),
        replace(base, beyond=0.3),
    ]
    sets += [replace(base, shrink="index", z=z, weight=weight)
             for weight in (0.5, 0.7, 0.8) for z in (0.5, 0.7, 1.0, 1.3, 1.65)]  # fmt: skip
    # The fixed-total (multinomial) null, which reads a preference sooner.
    return sets + [replace(base, shrink="index", multinomial=True, z=z, weight=weight)
                   for weight in (0.7, 0.8) for z in (0.5, 0.7, 1.0)]  # fmt: skip


def grid(methods: Sequence[str] = ("ipw", "coec", "chance")) -> list[ClickParams]:
    """The parameter sets compared: the corrections, blend weights, their caution."""
    base = ClickParams(shrink="none", z=1.65, weight=0.5)
    sets = []
    for weight in (0.1, 0.2, 0.3, 0.5, 0.7):
        for eta in (0.0, 0.5, 1.0):
            sets.append(replace(base, method="ipw", eta=eta, weight=weight, prior=2.0))
            for z in (1.65, 2.33):
                sets.append(replace(base, method="coec", eta=eta, weight=weight, z=z))
            for z in (1.0, 1.65):
                sets.append(replace(base, method="chance", eta=eta, weight=weight, z=z))
        for examination in ("position", "last_click"):  # examined: eta unused (the
            for z in (1.3, 1.65, 2.33):  # examination comes from impressions)
                for prior in (1.0, 3.0):
                    if weight > 0.1:
                        sets.append(replace(base, method="examined", examination=examination,
                                            weight=weight, z=z, prior=prior))  # fmt: skip
        # The family-wise bound (z per query, not per document) and looks below the
        # lowest click: each alone and together, at the per-query z it allows.
        for z in (1.28, 1.65):
            for beyond in (0.0, 0.3):
                if weight in (0.3, 0.5, 0.7):
                    sets.append(replace(base, method="examined", familywise=True, z=z,
                                        beyond=beyond, weight=weight))  # fmt: skip
        if weight in (0.3, 0.5, 0.7):
            sets.append(replace(base, method="examined", beyond=0.3, weight=weight))
    # The prior estimated from the index's clicks (empirical Bayes): it damps every
    # strength, so higher weights and a looser per-document z are in reach.
    sets += [p for p in finalists() if p.shrink == "index"]
    return [p for p in sets if p.method in methods]


def label(params: ClickParams) -> str:
    if params.method == "examined":
        extra = (", familywise" if params.familywise else "") + (
            f", beyond={params.beyond:g}" if params.beyond else "")  # fmt: skip
        prior = f"{params.prior:g}"
        if params.shrink == "index":
            prior = "index, multinomial" if params.multinomial else "index"
        return (f"examined({params.examination}, z={params.z:g}, prior={prior}"
                f"{extra}) weight={params.weight:g}")  # fmt: skip
    gate = f", z={params.z:g}" if params.method != "ipw" else ""
    return f"{params.method}(eta={params.eta:g}{gate}) weight={params.weight:g}"


def objective(curve: list[dict[str, Any]]) -> float:
    """What a parameter set is chosen by: the gain on clicked queries after the last
    checkpoint, minus any loss on never-clicked queries or under pure noise (counted
    five times: the targets require those to stay put)."""
    first, last = curve[0], curve[-1]
    gain = last["clicked"] - first["clicked"]
    noise_loss = max(0.0, first["clicked"] - last["noise_clicked"])
    never_loss = abs(last["never_clicked"] - first["never_clicked"])
    return gain - 5.0 * (noise_loss + never_loss)
