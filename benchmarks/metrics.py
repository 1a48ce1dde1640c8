"""Relevance metrics with trec_eval's definitions, through pytrec_eval (pytrec-eval-terrier)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pytrec_eval

from benchmarks.collections import Qrels


@dataclass(frozen=True)
class Scores:
    ndcg_10: float
    recall_100: float
    mrr_10: float
    zero_hit_queries: int


def evaluate(qrels: Qrels, ranked: Mapping[str, Sequence[str]]) -> Scores:
    """Mean over every judged query; a query with no hits counts as 0, unlike trec_eval's
    default of averaging only over queries present in the run, which would flatter
    engines that return nothing for hard queries."""
    full = _to_run(ranked, depth=100)
    top10 = _to_run(ranked, depth=10)
    at_depth = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100"}).evaluate(full)
    # MRR@10 = reciprocal rank within the first 10 hits, i.e. trec_eval's recip_rank on a
    # run cut at 10.
    reciprocal = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top10)

    def mean(table: Mapping[str, Mapping[str, float]], measure: str) -> float:
        return statistics.fmean(table.get(qid, {}).get(measure, 0.0) for qid in qrels)

    return Scores(
        ndcg_10=mean(at_depth, "ndcg_cut_10"),
        recall_100=mean(at_depth, "recall_100"),
        mrr_10=mean(reciprocal, "recip_rank"),
        zero_hit_queries=sum(1 for qid in qrels if not ranked.get(qid)),
    )


def _to_run(ranked: Mapping[str, Sequence[str]], depth: int) -> dict[str, dict[str, float]]:
    # trec_eval re-sorts by score (ties by doc id), so the engine's order is encoded as
    # strictly decreasing scores; the engines' own scores are not comparable anyway.
    run: dict[str, dict[str, float]] = {}
    for qid, doc_ids in ranked.items():
        scores: dict[str, float] = {}
        for doc_id in doc_ids:
            if len(scores) == depth:
                break
            scores.setdefault(doc_id, float(depth - len(scores)))
        if scores:
            run[qid] = scores
    return run
