"""python -m benchmarks.hybrid.experiments trust [--collections a,b]

Can the fusion tell, per query, which leg to trust more? Issue #5 asks for it, and
the oracle says there is room: choosing each query's best semantic weight afterwards
would add 0.03-0.06 nDCG@10 per collection. This measures whether query-performance
predictors computed at search time capture any of it *on a collection they were not
tuned on*.

For every query, Sift's hybrid search inputs (``experiments._fusion_inputs``: the
exact candidates and both raw scores the engine fuses) are fused with the logit of
the semantic weight moved by each shift of ``SHIFTS``, and each query's nDCG@10 is kept
per shift. A predictor maps a query feature to a shift, ``slope * (feature - centre)``;
slope and centre are chosen on three collections and scored on the fourth (leave one
collection out), so a gain can only come from a signal that carries across
collections.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy as np
import pytrec_eval

from benchmarks.hybrid import data

SHIFTS = np.round(np.linspace(-2.0, 2.0, 17), 3)  # logit units around today's weight
# Shift per standard deviation of the feature; negative: the feature speaks for the lexical leg.
SLOPES = (-1.5, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 1.5)
CENTRES = (20, 35, 50, 65, 80)  # percentiles of the feature over every query


def features(lex: np.ndarray, sem: np.ndarray) -> dict[str, float]:
    """Predictors from what the engine already has at fusion time."""
    lex_order, sem_order = np.argsort(-lex, kind="stable"), np.argsort(-sem, kind="stable")
    top_sem = sem[sem_order[:100]]
    top_lex = lex[lex_order[:100]]
    shared = np.intersect1d(lex_order[:10], sem_order[:10]).size
    return {
        "best cosine": float(top_sem[0]),
        "best cosine, z over the semantic top 100": float(
            (top_sem[0] - top_sem.mean()) / max(float(top_sem.std()), 1e-9)
        ),
        "best lexical score, z over the lexical top 100": float(
            (top_lex[0] - top_lex.mean()) / max(float(top_lex.std()), 1e-9)
        ),
        "top-10 overlap of the legs": shared / 10.0,
    }


def _per_query(coll: data.Collection) -> tuple[dict[float, dict[str, float]], dict[str, dict]]:
    """nDCG@10 per shift and query, and each query's features."""
    from benchmarks.hybrid.experiments import _fusion_inputs
    from sift.semantic import fusion

    snap, _, prepared = _fusion_inputs(coll)
    judge = pytrec_eval.RelevanceEvaluator(dict(coll.qrels), {"ndcg_cut.10"})
    per_shift: dict[float, dict[str, float]] = {}
    for shift in SHIFTS.tolist():
        run = {}
        for qid, cands, lex, sem, ratio, _ in prepared:
            if 0.0 < ratio < 1.0:
                ratio = float(1.0 / (1.0 + np.exp(-(np.log(ratio / (1.0 - ratio)) + shift))))
            order = np.argsort(-fusion.fuse(lex, sem, ratio), kind="stable")[:10]
            run[qid] = {snap.ext_ids[int(d)]: 10.0 - i for i, d in enumerate(cands[order])}
        table = judge.evaluate(run)
        per_shift[shift] = {q: table.get(q, {}).get("ndcg_cut_10", 0.0) for q in coll.qrels}
    feats = {qid: features(lex, sem) for qid, _, lex, sem, _, _ in prepared}
    return per_shift, feats


def score(per_shift: dict[float, dict[str, float]], shift_of: Callable[[str], float]) -> float:
    shifts = np.asarray(list(per_shift))
    out = []
    for qid in next(iter(per_shift.values())):
        nearest = float(shifts[np.argmin(np.abs(shifts - shift_of(qid)))])
        out.append(per_shift[nearest][qid])
    return statistics.fmean(out)


def trust(names: list[str]) -> None:
    results = {name: _per_query(data.load(name)) for name in names}
    base = {n: statistics.fmean(results[n][0][0.0].values()) for n in names}
    oracle = {
        n: statistics.fmean(max(col[q] for col in ps.values()) for q in ps[0.0])
        for n, (ps, _) in results.items()
    }
    print("| predictor | " + " | ".join(names) + " | mean |")
    print("|---|" + "---:|" * (len(names) + 1))
    _row("Sift today (no per-query shift)", [base[n] for n in names])
    _row("oracle: each query's best shift (upper bound)", [oracle[n] for n in names])
    fixed = [max(statistics.fmean(col.values()) for col in results[n][0].values()) for n in names]
    _row("best fixed shift per collection, tuned on it", fixed)
    for feature in next(iter(results[names[0]][1].values())):
        values = np.asarray([f[feature] for n in names for f in results[n][1].values()])
        spread = max(float(values.std()), 1e-9)
        grid = [(s / spread, float(np.percentile(values, c))) for s in SLOPES for c in CENTRES]
        table = {
            (slope, centre): [
                score(results[n][0], lambda q, n=n, s=slope, c=centre, f=feature: s * (
                    results[n][1][q][f] - c))
                for n in names
            ]
            for slope, centre in grid
        }
        _row(f"{feature}, tuned on the other collections", held_out(table))


def held_out(table: dict[tuple[float, float], list[float]]) -> list[float]:
    """Per collection, the score of the setting that is best on the mean of the others
    (leave one collection out)."""
    out = []
    for i in range(len(next(iter(table.values())))):
        chosen = max(
            table, key=lambda k: statistics.fmean(v for j, v in enumerate(table[k]) if j != i)
        )
        out.append(table[chosen][i])
    return out


def _row(label: str, values: list[float]) -> None:
    cells = " | ".join(f"{v:.4f}" for v in values)
    print(f"| {label} | {cells} | {statistics.fmean(values):.4f} |", flush=True)
