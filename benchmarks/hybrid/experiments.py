"""python -m benchmarks.hybrid.experiments {queries,maxp,feedback,smooth,depth,trust}
[--collections a,b]

Fusion and embedding variants measured against Sift's hybrid search on the cached legs
of `python -m benchmarks hybrid` (run it first); docs/semantic.md has the results.

* ``queries``: the query vector's precision: the int8 graph with one scale per tensor,
  with one per output channel (what Sift ships), and float32 (no quantization).
* ``maxp``: documents also embedded as overlapping 128-token passages, each prefixed by
  the title; a document's cosine is its best vector (MaxP), at several semanticRatios.
* ``feedback``: RM3-style expansion terms drawn from the fused top documents, scored
  with BM25 over the candidates and added to the lexical leg before fusing again.
* ``smooth``: score regularization: each fused candidate's score moves towards the
  similarity-weighted mean score of its nearest candidates (document vectors).
* ``depth``: Sift's hybrid search with 50-400 candidates per leg instead of 100.
* ``trust``: per-query trust in each leg predicted from score features, tuned on the
  other collections (``benchmarks/hybrid/trust.py``).
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.hybrid import collect, data, evaluate

PASSAGE_TOKENS = 128
PASSAGE_STRIDE = 96


def _graph_session(path: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _quantized(source: Path, per_channel: bool) -> Path:
    from sift.semantic.local_model import quantize_graph

    target = source.with_name(f"{source.stem}.int8-{'pc' if per_channel else 'pt'}.onnx")
    if not target.exists():
        quantize_graph(source, target, per_channel)
    return target


def queries(names: list[str]) -> None:
    from sift.semantic.local_model import GRAPH_VERSION, _pool, query_tokenizer

    encoder = collect.model()
    encoder.embed_query("warm up")  # makes sure the float32 fused graph exists
    plain = encoder.cache_dir / f"all-MiniLM-L6-v2.{GRAPH_VERSION}.onnx"
    graphs = {
        "int8, one scale per tensor": _quantized(plain, per_channel=False),
        "int8, one scale per channel (Sift)": _quantized(plain, per_channel=True),
        "float32": plain,
    }
    tokenizer = query_tokenizer(encoder.path)
    rows: dict[str, dict[str, float]] = {name: {} for name in graphs}
    cosines: dict[str, list[float]] = {name: [] for name in graphs}
    for coll_name in names:
        coll = data.load(coll_name)
        legs = collect.collect(coll, encoder, encoder)
        eng = evaluate.engines(coll)
        qids = list(coll.queries)
        reference = encoder.embed_documents([coll.queries[q] for q in qids])  # PyTorch float32
        for name, path in graphs.items():
            session = _graph_session(path)
            vectors = {}
            for qid, ref in zip(qids, reference, strict=True):
                enc = tokenizer.encode(coll.queries[qid])
                ids = np.asarray([enc.ids], dtype=np.int64)
                mask = np.asarray([enc.attention_mask], dtype=np.int64)
                hidden = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
                vectors[qid] = _pool(hidden, mask)[0]
                cosines[name].append(float(vectors[qid] @ ref))
            run = evaluate.sift_hybrid(eng, replace(legs, query_vectors=vectors))
            rows[name][coll_name] = evaluate.ndcg10(coll.qrels, run)
    for name in graphs:
        cells = " | ".join(f"{rows[name][c]:.4f}" for c in names)
        print(
            f"| {name} | {cells} | {statistics.fmean(rows[name].values()):.4f} | "
            f"{statistics.fmean(cosines[name]):.4f} (min {min(cosines[name]):.4f}) |"
        )


def _passages(encoder: Any, coll: data.Collection) -> tuple[np.ndarray, list[str]]:
    """(owner document index, text) of every passage of the documents longer than one."""
    tokenizer = encoder._tokenizer
    owners: list[int] = []
    texts: list[str] = []
    for i, (title, text) in enumerate(zip(coll.titles, coll.texts, strict=True)):
        body_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        title_ids = tokenizer(title, add_special_tokens=False)["input_ids"] if title else []
        room = PASSAGE_TOKENS - 2 - len(title_ids)
        whole = tokenizer(f"{title} {text}".strip(), add_special_tokens=False)["input_ids"]
        if len(whole) <= PASSAGE_TOKENS - 2 or room < 32:
            continue  # fits in one window: its document vector covers it
        for start in range(0, max(len(body_ids) - 16, 1), PASSAGE_STRIDE):
            owners.append(i)
            texts.append(tokenizer.decode(title_ids + body_ids[start : start + room]))
            if start + room >= len(body_ids):
                break
    return np.asarray(owners, dtype=np.int64), texts


def maxp(names: list[str], ratios: tuple[float, ...] = (0.4, 0.5, 0.6, 0.7)) -> None:
    from sift.semantic.vectors import VectorIndex

    encoder = collect.model()
    for coll_name in names:
        coll = data.load(coll_name)
        legs = collect.collect(coll, encoder, encoder)
        full = np.load(collect.vectors_path(coll))
        path = data.CACHE / f"passages-{coll.fingerprint()}-{PASSAGE_TOKENS}-{PASSAGE_STRIDE}.npz"
        if path.exists():
            saved = np.load(path)
            owners, vectors = saved["owners"], saved["vectors"]
        else:
            owners, texts = _passages(encoder, coll)
            vectors = encoder.embed_documents(texts) if texts else np.zeros((0, full.shape[1]))
            np.savez(path, owners=owners, vectors=vectors)
        by_doc: dict[int, list[np.ndarray]] = {}
        for owner, vector in zip(owners.tolist(), vectors, strict=True):
            by_doc.setdefault(owner, []).append(vector)
        index = VectorIndex(full.shape[1])
        index.upsert(
            [(d, np.stack([full[i], *by_doc.get(i, [])])) for i, d in enumerate(coll.ids)]
        )
        plain = evaluate.engines(coll)
        passages = evaluate.Engines(coll, collect.sift_index(coll), index)
        dense, dense_maxp = {}, {}
        for qid, q in legs.query_vectors.items():
            whole = full @ q
            best = whole.copy()
            if len(owners):
                np.maximum.at(best, owners, vectors @ q)
            dense[qid] = [coll.ids[i] for i in np.argsort(-whole, kind="stable")[:10]]
            dense_maxp[qid] = [coll.ids[i] for i in np.argsort(-best, kind="stable")[:10]]
        print(
            f"{coll_name}: {len(owners)} passages for {len(by_doc)} of {len(coll.ids)} docs; "
            f"dense alone {evaluate.ndcg10(coll.qrels, dense):.4f}, "
            f"with passages {evaluate.ndcg10(coll.qrels, dense_maxp):.4f}"
        )
        for ratio in ratios:
            a = evaluate.ndcg10(coll.qrels, evaluate.sift_hybrid(plain, legs, ratio))
            b = evaluate.ndcg10(coll.qrels, evaluate.sift_hybrid(passages, legs, ratio))
            print(f"| {coll_name} | {ratio} | {a:.4f} | {b:.4f} |", flush=True)


FEEDBACK_GRID = ((10, 30, 0.1), (10, 30, 0.2), (20, 30, 0.1), (20, 30, 0.2), (10, 50, 0.2))


def feedback(names: list[str]) -> None:
    for coll_name in names:
        _feedback(data.load(coll_name))


def _fusion_inputs(coll: data.Collection) -> tuple[Any, Any, list[tuple[Any, ...]]]:
    """(snapshot, vector view, per query: id, candidates, lexical scores, cosines, ratio,
    the query's own term ids) as Sift's hybrid search fuses them (100 per leg)."""
    from sift.engine.pipeline.lexical import match_and_rank
    from sift.engine.pipeline.request import parse
    from sift.engine.query import SearchParams
    from sift.semantic import fusion, leg

    encoder = collect.model()
    legs = collect.collect(coll, encoder, encoder)
    eng = evaluate.engines(coll)
    index, snap, view = eng.index, eng.index.snapshot, eng.vectors.view
    rows = leg._doc_rows(snap, view, "default")
    prepared = []
    for qid, text in coll.queries.items():
        plan = match_and_rank(parse(index.view, SearchParams.from_dict({"q": text})), [], 100)
        q = leg._check_dimensions(view, legs.query_vectors[qid])
        lex_top = plan.docids[:100].astype(np.int64)
        sem_top, _ = leg._semantic_top(snap, view, "default", q, None, 100)
        cands = np.union1d(lex_top, sem_top)
        cosine = leg._cosines(view, rows, q, cands)
        lexical = np.zeros(snap.alive.size)
        lexical[plan.docids] = plan.scores
        lex, sem = lexical[cands], np.where(np.isfinite(cosine), cosine, -1.0)
        ratio = fusion.effective_ratio(
            0.5, lex[np.isin(cands, lex_top)], len(text.split()), leg.DEFAULT_FUSION
        )
        exclude = np.concatenate([w.term_ids for w in plan.words] or [np.empty(0, int)])
        prepared.append((qid, cands, lex, sem, ratio, exclude))
    return snap, (view, rows), prepared


def _feedback(coll: data.Collection) -> None:
    from sift.engine.prf import feedback_scores
    from sift.engine.ranking import RelevanceParams
    from sift.semantic import fusion

    relevance = RelevanceParams()
    snap, _, prepared = _fusion_inputs(coll)

    def ranked(docs: int, terms: int, weight: float) -> dict[str, list[str]]:
        out = {}
        for qid, cands, lex, sem, ratio, exclude in prepared:
            fused = fusion.fuse(lex, sem, ratio)
            if weight:
                first = 1.0 / (1.0 + np.exp(-fused))
                extra = feedback_scores(
                    snap, cands.astype(np.uint32), first, docs, terms, exclude,
                    relevance.k1, relevance.b,
                )  # fmt: skip
                fused = fusion.fuse(lex + weight * extra, sem, ratio)
            order = np.argsort(-fused, kind="stable")[:10]
            out[qid] = [snap.ext_ids[int(d)] for d in cands[order]]
        return out

    print(f"| {coll.name} | none | {evaluate.ndcg10(coll.qrels, ranked(0, 0, 0.0)):.4f} |")
    for docs, terms, weight in FEEDBACK_GRID:
        score = evaluate.ndcg10(coll.qrels, ranked(docs, terms, weight))
        print(f"| {coll.name} | {docs} docs, {terms} terms, weight {weight} | {score:.4f} |")


DEPTHS = (50, 100, 200, 400)


def depth(names: list[str]) -> None:
    """Sift's hybrid search with more or fewer candidates per leg (FusionParams.depth)."""
    from sift.semantic.leg import DEFAULT_FUSION

    encoder = collect.model()
    scores: dict[int, list[float]] = {d: [] for d in DEPTHS}
    print("| candidates per leg | " + " | ".join(names) + " | mean |")
    print("|---|" + "---:|" * (len(names) + 1))
    for coll_name in names:
        coll = data.load(coll_name)
        legs = collect.collect(coll, encoder, encoder)
        eng = evaluate.engines(coll)
        for d in DEPTHS:
            run = evaluate.sift_hybrid(eng, legs, params=replace(DEFAULT_FUSION, depth=d))
            scores[d].append(evaluate.ndcg10(coll.qrels, run))
    for d in DEPTHS:
        cells = " | ".join(f"{v:.4f}" for v in scores[d])
        print(f"| {d} | {cells} | {statistics.fmean(scores[d]):.4f} |")


SMOOTH_GRID = ((5, 0.1), (5, 0.2), (5, 0.3), (10, 0.1), (10, 0.2), (10, 0.3))


def smooth(names: list[str]) -> None:
    print("| collection | neighbours, weight | nDCG@10 |\n|---|---|---:|")
    for coll_name in names:
        _smooth(data.load(coll_name))


def _smooth(coll: data.Collection) -> None:
    """Score regularization (the cluster hypothesis): each candidate's fused score moves
    towards the mean fused score of its k most similar candidates (document-document
    cosine of their MiniLM vectors, weighted by it)."""
    from sift.semantic import fusion

    snap, (view, rows), prepared = _fusion_inputs(coll)
    # One vector per document here (no passages): its row is rows.rows[rows.start[docid]].
    vectors = [np.asarray(view.matrix[rows.rows[rows.start[cands]]], dtype=np.float32)
               for _, cands, *_ in prepared]

    def ranked(k: int, weight: float) -> dict[str, list[str]]:
        out = {}
        for (qid, cands, lex, sem, ratio, _), mat in zip(prepared, vectors, strict=True):
            fused = fusion.fuse(lex, sem, ratio)
            if weight and cands.size > k:
                sim = mat @ mat.T
                np.fill_diagonal(sim, -np.inf)
                nearest = np.argpartition(-sim, k, axis=1)[:, :k]
                w = np.maximum(np.take_along_axis(sim, nearest, axis=1), 0.0)
                w /= np.maximum(w.sum(axis=1, keepdims=True), 1e-9)
                fused = (1 - weight) * fused + weight * (w * fused[nearest]).sum(axis=1)
            order = np.argsort(-fused, kind="stable")[:10]
            out[qid] = [snap.ext_ids[int(d)] for d in cands[order]]
        return out

    print(f"| {coll.name} | none | {evaluate.ndcg10(coll.qrels, ranked(0, 0.0)):.4f} |")
    for k, weight in SMOOTH_GRID:
        score = evaluate.ndcg10(coll.qrels, ranked(k, weight))
        print(f"| {coll.name} | {k}, {weight} | {score:.4f} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hybrid.experiments")
    parser.add_argument("experiment",
                        choices=("queries", "maxp", "feedback", "smooth", "depth", "trust"))
    parser.add_argument("--collections", default=",".join(data.names()))
    args = parser.parse_args(argv)
    names = args.collections.split(",")
    from benchmarks.hybrid.trust import trust

    experiments = {"queries": queries, "maxp": maxp, "feedback": feedback, "smooth": smooth,
                   "depth": depth, "trust": trust}
    experiments[args.experiment](names)


if __name__ == "__main__":
    main()
