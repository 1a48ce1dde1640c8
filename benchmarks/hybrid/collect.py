"""Per-query candidate lists with scores from each leg, cached so fusion experiments are quick.

Legs: bm25s (Lucene BM25, library defaults), Sift's lexical engine (in process, `sift`
ranking rules), and dense MiniLM (exact cosine) with the query embedded by PyTorch
float32 and by the int8 ONNX graph Sift uses at query time.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.hybrid.data import CACHE, Collection

DEPTH = 100
Run = dict[str, tuple[list[str], list[float]]]  # query id -> (doc ids, scores), best first


@dataclass
class Legs:
    bm25: Run = field(default_factory=dict)
    sift: Run = field(default_factory=dict)
    dense: Run = field(default_factory=dict)  # PyTorch float32 query vectors
    dense_int8: Run = field(default_factory=dict)  # ONNX int8 query vectors
    query_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def model(cache_dir: Path = CACHE / "models", query_runtime: str = "onnx-int8"):
    from sift.semantic.local_model import MiniLM

    return MiniLM(cache_dir=cache_dir, query_runtime=query_runtime)


def doc_vectors(coll: Collection, encoder) -> np.ndarray:
    path = CACHE / f"docs-{coll.name}-{coll.fingerprint()}.npy"
    if path.exists():
        return np.load(path)
    started = time.perf_counter()
    vectors = encoder.embed_documents(coll.contents())
    rate = len(vectors) / (time.perf_counter() - started)
    print(f"  embedded {len(vectors)} docs at {rate:.1f} docs/s")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def _top(ids: list[str], scores: np.ndarray, k: int = DEPTH) -> tuple[list[str], list[float]]:
    k = min(k, scores.size)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [ids[i] for i in top], [float(scores[i]) for i in top]


def sift_index(coll: Collection):
    from sift.engine.index import SearchIndex
    from sift.engine.settings import default_settings

    index = SearchIndex(default_settings("sift"), "id")
    docs = [
        (doc_id, {"id": doc_id, "title": title, "text": text})
        for doc_id, title, text in zip(coll.ids, coll.titles, coll.texts, strict=True)
    ]
    for start in range(0, len(docs), 2000):
        index.upsert(docs[start : start + 2000])
    return index


def sift_run(index, query: str, k: int = DEPTH) -> tuple[list[str], list[float]]:
    from sift.engine.query import SearchParams

    params = SearchParams.from_dict(
        {"q": query, "limit": k, "attributesToRetrieve": ["id"], "showRankingScore": True}
    )
    hits = index.search(params)["hits"]
    return [str(h["id"]) for h in hits], [float(h["_rankingScore"]) for h in hits]


def collect(coll: Collection, encoder, torch_encoder) -> Legs:
    path = CACHE / f"legs-{coll.name}-{coll.fingerprint()}.pkl"
    if path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)
    import bm25s

    legs = Legs()
    matrix = doc_vectors(coll, torch_encoder)
    tokens = bm25s.tokenize(coll.contents(), stopwords="english", show_progress=False)
    bm = bm25s.BM25()
    bm.index(tokens, show_progress=False)
    index = sift_index(coll)
    for qid, text in coll.queries.items():
        q_tokens = bm25s.tokenize(
            [text], stopwords="english", return_ids=False, show_progress=False
        )[0]
        known = [t for t in q_tokens if t in bm.vocab_dict]
        if known:
            idx, scores = bm.retrieve([known], k=min(DEPTH, len(coll.ids)), show_progress=False)
            pairs = [
                (coll.ids[i], float(s)) for i, s in zip(idx[0], scores[0], strict=True) if s > 0
            ]
            legs.bm25[qid] = ([p[0] for p in pairs], [p[1] for p in pairs])
        else:
            legs.bm25[qid] = ([], [])
        legs.sift[qid] = sift_run(index, text)
        fp32 = torch_encoder.embed_documents([text])[0]
        int8 = encoder.embed_query(text)
        legs.query_vectors[qid] = int8
        legs.dense[qid] = _top(coll.ids, matrix @ fp32)
        legs.dense_int8[qid] = _top(coll.ids, matrix @ int8)
    with path.open("wb") as fh:
        pickle.dump(legs, fh)
    return legs
