"""nDCG@10 of every leg, the textbook fusions and Sift's hybrid search, per collection."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pytrec_eval

from benchmarks.hybrid.collect import Legs, sift_index
from benchmarks.hybrid.data import CACHE, Collection
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


def _ranked(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda d: -scores[d])[:100]


@dataclass
class Engines:
    """Sift in process: the lexical index and the embedder's vector index."""

    coll: Collection
    index: object
    vectors: VectorIndex


def engines(coll: Collection) -> Engines:
    matrix = np.load(CACHE / f"docs-{coll.name}-{coll.fingerprint()}.npy")
    vectors = VectorIndex(matrix.shape[1])
    vectors.upsert(list(zip(coll.ids, matrix, strict=True)))
    return Engines(coll, sift_index(coll), vectors)


def sift_hybrid(
    eng: Engines, legs: Legs, ratio: float = 0.5, params: fusion.FusionParams | None = None
) -> dict[str, list[str]]:
    from sift.engine.query import SearchParams
    from sift.semantic import hybrid

    out = {}
    view = eng.vectors.view
    for qid, text in eng.coll.queries.items():
        search = SearchParams.from_dict({"q": text, "limit": 10, "attributesToRetrieve": ["id"]})
        body = hybrid.run(
            eng.index,
            eng.index.snapshot,
            search,
            view,
            "default",
            legs.query_vectors[qid],
            ratio,
            params or hybrid.DEFAULT_FUSION,
        )
        out[qid] = [str(h["id"]) for h in body["hits"]]
    return out


def table(
    coll: Collection,
    legs: Legs,
    eng: Engines,
    extra: Mapping[str, Callable[[], dict[str, list[str]]]] | None = None,
) -> dict:
    q = coll.qrels
    rows = {
        "BM25 (bm25s)": ndcg10(q, {k: v[0] for k, v in legs.bm25.items()}),
        "Sift lexical": ndcg10(q, {k: v[0] for k, v in legs.sift.items()}),
        "dense (fp32 query)": ndcg10(q, {k: v[0] for k, v in legs.dense.items()}),
        "dense (int8 query)": ndcg10(q, {k: v[0] for k, v in legs.dense_int8.items()}),
        "RRF k=60 (BM25+dense)": ndcg10(
            q, {k: _ranked(fusion.rrf([legs.bm25[k][0], legs.dense[k][0]])) for k in legs.bm25}
        ),
        "blend 50/50 (BM25+dense)": ndcg10(
            q, {k: _ranked(fusion.minmax_blend(legs.bm25[k], legs.dense[k])) for k in legs.bm25}
        ),
        "RRF k=60 (Sift lexical+dense)": ndcg10(
            q, {k: _ranked(fusion.rrf([legs.sift[k][0], legs.dense[k][0]])) for k in legs.sift}
        ),
        "blend 50/50 (Sift lexical+dense)": ndcg10(
            q, {k: _ranked(fusion.minmax_blend(legs.sift[k], legs.dense[k])) for k in legs.sift}
        ),
        "Sift hybrid": ndcg10(q, sift_hybrid(eng, legs)),
    }
    for name, fn in (extra or {}).items():
        rows[name] = ndcg10(q, fn())
    return rows
