"""Per-query candidate lists with scores from each leg, cached so fusion experiments are quick.

Legs, each to `DEPTH` hits: Lucene BM25 (Anserini's BEIR flat setting, through
benchmarks/runners/lucene_anserini.py), bm25s (BM25 with that library's defaults),
Sift's lexical engine (in process, `sift` ranking rules), and dense MiniLM (exact
cosine) with the query embedded by PyTorch float32 and by the int8 ONNX graph Sift
uses at query time.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.hybrid import lucene
from benchmarks.hybrid.data import CACHE, Collection
from benchmarks.runners.base import Doc

# Hits kept per leg and query: the textbook fusions use each leg's top 1000 (as
# pyserini's hybrid runs do); evaluate.py also reports them cut at 100.
DEPTH = 1000
LEGS_VERSION = 2  # bump when Legs changes shape
Run = dict[str, tuple[list[str], list[float]]]  # query id -> (doc ids, scores), best first


@dataclass
class Legs:
    lucene: Run = field(default_factory=dict)  # Lucene BM25 (Anserini)
    bm25: Run = field(default_factory=dict)  # bm25s
    sift: Run = field(default_factory=dict)
    dense: Run = field(default_factory=dict)  # PyTorch float32 query vectors
    dense_int8: Run = field(default_factory=dict)  # ONNX int8 query vectors
    query_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def model(cache_dir: Path = CACHE / "models", query_runtime: str = "onnx-int8"):
    from sift.semantic.local_model import MiniLM

    encoder = MiniLM(cache_dir=cache_dir, query_runtime=query_runtime)
    if hasattr(encoder, "query_cache"):
        encoder.query_cache = 0  # every query embedded and timed for real
    return encoder


def vectors_path(coll: Collection) -> Path:
    """Keyed by the corpus alone: a titles task and its typo variant share one file."""
    return CACHE / f"docs-{coll.fingerprint()}.npy"


def doc_vectors(coll: Collection, encoder) -> np.ndarray:
    path = vectors_path(coll)
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


def _queries_key(coll: Collection) -> str:
    digest = hashlib.sha256()
    for qid, text in coll.queries.items():
        digest.update(f"{qid}\0{text}\0".encode())
    return digest.hexdigest()[:12]


def collect(coll: Collection, encoder, torch_encoder) -> Legs:
    from sift.semantic.local_model import GRAPH_VERSION, INT8_VERSION

    # The query graph's version too: `query_vectors` are what Sift's graph computes.
    graph = f"{GRAPH_VERSION}.{INT8_VERSION}"
    key = f"{coll.name}-{coll.fingerprint()}-{_queries_key(coll)}-d{DEPTH}-v{LEGS_VERSION}-{graph}"
    path = CACHE / f"legs-{key}.pkl"
    if path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)
    import bm25s

    legs = Legs()
    matrix = doc_vectors(coll, torch_encoder)
    started = time.perf_counter()
    docs = [Doc(i, t, x) for i, t, x in zip(coll.ids, coll.titles, coll.texts, strict=True)]
    qids = list(coll.queries)
    scored = lucene.search(docs, [coll.queries[q] for q in qids], DEPTH)
    legs.lucene = dict(zip(qids, scored, strict=True))
    legs.timings["lucene_s"] = time.perf_counter() - started
    tokens = bm25s.tokenize(coll.contents(), stopwords="english", show_progress=False)
    bm = bm25s.BM25()
    bm.index(tokens, show_progress=False)
    index = sift_index(coll)
    # Float32 query vectors in one batch, as a BEIR dense baseline embeds its queries.
    fp32_vectors = torch_encoder.embed_documents([coll.queries[q] for q in qids])
    for qid, fp32 in zip(qids, fp32_vectors, strict=True):
        text = coll.queries[qid]
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
        int8 = encoder.embed_query(text)
        legs.query_vectors[qid] = int8
        legs.dense[qid] = _top(coll.ids, matrix @ fp32)
        legs.dense_int8[qid] = _top(coll.ids, matrix @ int8)
    with path.open("wb") as fh:
        pickle.dump(legs, fh)
    return legs
