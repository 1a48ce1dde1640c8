"""nDCG@10 of every leg, the textbook fusions and Sift's hybrid search, per collection,
and the check against issue #5's targets."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pytrec_eval

from benchmarks.hybrid import baselines
from benchmarks.hybrid.collect import DEPTH, Legs, sift_index, vectors_path
from benchmarks.hybrid.data import Collection
from sift.semantic import fusion
from sift.semantic.vectors import VectorIndex


def ndcg10(qrels: Mapping[str, Mapping[str, int]], ranked: Mapping[str, Sequence[str]]) -> float:
    """Mean over every judged query; a query with no hits counts 0."""
    run = {
        qid: {doc: float(10 - i) for i, doc in enumerate(list(dict.fromkeys(ids))[:10])}
        for qid, ids in ranked.items()
        if ids
    }
    table = pytrec_eval.RelevanceEvaluator(dict(qrels), {"ndcg_cut.10"}).evaluate(run)
    return statistics.fmean(table.get(q, {}).get("ndcg_cut_10", 0.0) for q in qrels)


@dataclass
class Engines:
    """Sift in process: the lexical index and the embedder's vector index."""

    coll: Collection
    index: object
    vectors: VectorIndex


def engines(coll: Collection) -> Engines:
    matrix = np.load(vectors_path(coll))
    vectors = VectorIndex(matrix.shape[1])
    vectors.upsert(list(zip(coll.ids, matrix, strict=True)))
    return Engines(coll, sift_index(coll), vectors)


def sift_hybrid(
    eng: Engines, legs: Legs, ratio: float = 0.5, params: fusion.FusionParams | None = None
) -> dict[str, list[str]]:
    from sift.engine import pipeline
    from sift.engine.query import SearchParams
    from sift.semantic.leg import DEFAULT_FUSION, VectorLeg

    out = {}
    view = eng.vectors.view
    for qid, text in eng.coll.queries.items():
        search = SearchParams.from_dict({"q": text, "limit": 10, "attributesToRetrieve": ["id"]})
        leg = VectorLeg(view, "default", legs.query_vectors[qid], ratio, params or DEFAULT_FUSION)
        body = pipeline.search(eng.index.view, search, leg)
        out[qid] = [str(h["id"]) for h in body["hits"]]
    return out


# Row names; the issue #5 baselines first. "top N": hits of each leg the fusion used.
LUCENE = "BM25 (Lucene, Anserini BEIR flat)"
DENSE = "dense MiniLM (exact cosine)"
RRF = "RRF k=60 (Lucene + dense, top 1000)"
BLEND = "min-max 50/50 (Lucene + dense, top 1000)"
RRF_100 = "RRF k=60 (Lucene + dense, top 100)"
BLEND_100 = "min-max 50/50 (Lucene + dense, top 100)"
SIFT_LEXICAL = "Sift lexical (`sift` ranking rules)"
SIFT_HYBRID = "Sift hybrid (semanticRatio 0.5)"
BASELINES = (LUCENE, DENSE)
FUSIONS = (RRF, BLEND, RRF_100, BLEND_100)
# Secondary rows: other BM25, the int8 query Sift uses, fusions of Sift's own lexical leg.
SECONDARY = (
    "BM25 (bm25s)",
    "dense, int8 query (ONNX, as Sift)",
    "RRF k=60 (bm25s + dense, top 1000)",
    "min-max 50/50 (bm25s + dense, top 1000)",
    "RRF k=60 (Sift lexical + dense, top 1000)",
    "min-max 50/50 (Sift lexical + dense, top 1000)",
)


def _fused(legs: Legs, a: str, b: str, how: str, depth: int) -> dict[str, list[str]]:
    run_a, run_b = getattr(legs, a), getattr(legs, b)
    if how == "rrf":
        return {q: baselines.rrf([run_a[q], run_b[q]], depth) for q in run_a}
    return {q: baselines.minmax_blend([run_a[q], run_b[q]], depth) for q in run_a}


def table(
    coll: Collection,
    legs: Legs,
    eng: Engines,
    extra: Mapping[str, Callable[[], dict[str, list[str]]]] | None = None,
    secondary: bool = True,
) -> dict[str, float]:
    q = coll.qrels
    runs: dict[str, Callable[[], Mapping[str, Sequence[str]]]] = {
        LUCENE: lambda: {k: v[0] for k, v in legs.lucene.items()},
        DENSE: lambda: {k: v[0] for k, v in legs.dense.items()},
        RRF: lambda: _fused(legs, "lucene", "dense", "rrf", DEPTH),
        BLEND: lambda: _fused(legs, "lucene", "dense", "blend", DEPTH),
        RRF_100: lambda: _fused(legs, "lucene", "dense", "rrf", 100),
        BLEND_100: lambda: _fused(legs, "lucene", "dense", "blend", 100),
        SIFT_LEXICAL: lambda: {k: v[0] for k, v in legs.sift.items()},
        SIFT_HYBRID: lambda: sift_hybrid(eng, legs),
    }
    if secondary:
        bm25s, int8, rrf_b, blend_b, rrf_s, blend_s = SECONDARY
        runs |= {
            bm25s: lambda: {k: v[0] for k, v in legs.bm25.items()},
            int8: lambda: {k: v[0] for k, v in legs.dense_int8.items()},
            rrf_b: lambda: _fused(legs, "bm25", "dense", "rrf", DEPTH),
            blend_b: lambda: _fused(legs, "bm25", "dense", "blend", DEPTH),
            rrf_s: lambda: _fused(legs, "sift", "dense", "rrf", DEPTH),
            blend_s: lambda: _fused(legs, "sift", "dense", "blend", DEPTH),
        }
    runs |= dict(extra or {})
    return {name: ndcg10(q, run()) for name, run in runs.items()}


def verdict(tables: Mapping[str, Mapping[str, float]], margin: float = 0.02) -> list[str]:
    """Issue #5's two targets, checked on the means and per collection."""
    names = list(tables)

    def mean(row: str) -> float:
        return statistics.fmean(tables[n][row] for n in names)

    best_fusion = max(FUSIONS, key=mean)
    gap = mean(SIFT_HYBRID) - mean(best_fusion)
    lines = [
        f"- Sift hybrid mean {mean(SIFT_HYBRID):.4f} vs best textbook fusion "
        f"({best_fusion}) {mean(best_fusion):.4f}: {gap:+.4f} "
        f"({'meets' if gap >= margin else 'misses'} the +{margin:.2f} target)"
    ]
    for n in names:
        best = max(BASELINES, key=lambda row, n=n: tables[n][row])
        diff = tables[n][SIFT_HYBRID] - tables[n][best]
        lines.append(
            f"- {n}: Sift hybrid {tables[n][SIFT_HYBRID]:.4f} vs best single baseline "
            f"({best}) {tables[n][best]:.4f}: {diff:+.4f} "
            f"({'not below' if diff >= 0 else 'BELOW'})"
        )
    return lines


def against_lexical(tables: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Issue #5: on product-search style data Sift hybrid must not lose to BM25 alone."""
    names = list(tables)
    lines = []
    for n in [*names, "mean"]:
        if n == "mean":
            hybrid = statistics.fmean(tables[m][SIFT_HYBRID] for m in names)
            bm25 = statistics.fmean(tables[m][LUCENE] for m in names)
        else:
            hybrid, bm25 = tables[n][SIFT_HYBRID], tables[n][LUCENE]
        lines.append(
            f"- {n}: Sift hybrid {hybrid:.4f} vs Lucene BM25 {bm25:.4f}: {hybrid - bm25:+.4f} "
            f"({'not below' if hybrid >= bm25 else 'BELOW'})"
        )
    return lines
