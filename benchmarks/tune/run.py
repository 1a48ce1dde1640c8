"""Relevance tuning harness: Sift (both modes) vs bm25s on BEIR-layout collections.

In-process, single-threaded (the machine is shared). For each collection it
indexes title + text (title first, so it is the more important attribute),
runs every judged test query, and reports nDCG@10 from trec_eval
(pytrec-eval-terrier). ``--typos`` adds a variant where each query word of 5+
letters gets one seeded random character edit.

    python -m benchmarks.tune.run --data /work/shared/data [--sets scifact,nfcorpus]
        [--set k1=1.2 --set b=0.75 ...]  (RelevanceParams overrides)
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import itertools
import json
import random
import re
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytrec_eval

from sift.engine.index import SearchIndex
from sift.engine.pipeline.lexical import lexical_candidates
from sift.engine.pipeline.request import parse
from sift.engine.query import SearchParams
from sift.engine.ranking import RelevanceParams
from sift.engine.settings import default_settings

WORD = re.compile(r"\w+")


def load(folder: Path) -> tuple[list[dict], dict[str, str], dict[str, dict[str, int]]]:
    corpus = [json.loads(line) for line in (folder / "corpus.jsonl").open(encoding="utf-8")]
    queries = {}
    for line in (folder / "queries.jsonl").open(encoding="utf-8"):
        q = json.loads(line)
        queries[str(q["_id"])] = q["text"]
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels" / "test.tsv").open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t")
        next(rows)
        for row in rows:
            if len(row) >= 3:
                qrels.setdefault(row[0].strip(), {})[row[1].strip()] = int(row[2].strip())
    return corpus, {q: t for q, t in queries.items() if q in qrels}, qrels


def typo_query(text: str, rng: random.Random) -> str:
    """One random insert/delete/substitute/transpose in every word of 5+ letters."""

    def edit(m: re.Match[str]) -> str:
        w = m.group()
        if len(w) < 5 or not w.isalpha():
            return w
        i = rng.randrange(len(w))
        op = rng.choice("isdt")
        c = rng.choice("abcdefghijklmnopqrstuvwxyz")
        if op == "i":
            return w[:i] + c + w[i:]
        if op == "d":
            return w[:i] + w[i + 1 :]
        if op == "t" and i < len(w) - 1:
            return w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        return w[:i] + c + w[i + 1 :]

    return WORD.sub(edit, text)


def ndcg(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> float:
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"})
    scores = evaluator.evaluate(run)
    return statistics.mean(scores[q]["ndcg_cut_10"] if q in scores else 0.0 for q in qrels)


def sift_index(corpus: list[dict], mode: str) -> SearchIndex:
    settings = default_settings(mode)
    settings["searchableAttributes"] = ["title", "text"]
    index = SearchIndex(settings, "_id")
    docs = [
        (
            str(d["_id"]),
            {"_id": str(d["_id"]), "title": d.get("title") or "", "text": d.get("text") or ""},
        )
        for d in corpus
    ]
    for start in range(0, len(docs), 2000):
        index.upsert(docs[start : start + 2000])
    return index


def sift_run(
    index: SearchIndex, queries: dict[str, str], params: RelevanceParams | None, k: int = 10
) -> tuple[dict[str, dict[str, float]], list[float]]:
    run: dict[str, dict[str, float]] = {}
    times = []
    view = index.view
    snap = view.snapshot
    for qid, text in queries.items():
        t0 = time.perf_counter()
        plan = lexical_candidates(parse(view, SearchParams(q=text, limit=k), relevance=params))
        times.append((time.perf_counter() - t0) * 1000)
        top = plan.docids[:k].tolist()
        run[qid] = {snap.ext_ids[d]: float(k - i) for i, d in enumerate(top)}
    return run, times


def bm25s_run(corpus: list[dict], queries: dict[str, str], k: int = 10
              ) -> dict[str, dict[str, float]]:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    texts = [f"{d.get('title') or ''} {d.get('text') or ''}" for d in corpus]
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
    ids = [str(d["_id"]) for d in corpus]
    qids = list(queries)
    tokens = bm25s.tokenize(
        [queries[q] for q in qids], stopwords="en", stemmer=stemmer, show_progress=False
    )
    docs, scores = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
    return {
        q: {ids[int(d)]: float(s) for d, s in zip(docs[i], scores[i], strict=True)}
        for i, q in enumerate(qids)
    }


def params_from(items: list[str]) -> RelevanceParams:
    """RelevanceParams with ``field=value`` overrides."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, value = item.split("=")
        overrides[key] = type(getattr(RelevanceParams(), key))(float(value))
    return dataclasses.replace(RelevanceParams(), **overrides)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--sets", default="scifact,nfcorpus,cisi,npl")
    ap.add_argument("--modes", default="sift,meilisearch")
    ap.add_argument("--typos", action="store_true")
    ap.add_argument("--no-bm25s", action="store_true")
    ap.add_argument("--set", action="append", default=[], help="RelevanceParams field=value")
    ap.add_argument("--grid", default="", help='sweep, e.g. "k1=0.9,1.2;b=0.4,0.75"')
    args = ap.parse_args()
    if args.grid:
        grid(args)
        return
    params = params_from(args.set)
    rows = []
    for name in args.sets.split(","):
        corpus, queries, qrels = load(Path(args.data) / name)
        row: dict[str, Any] = {"set": name}
        if not args.no_bm25s:
            row["bm25s"] = ndcg(bm25s_run(corpus, queries), qrels)
        for mode in args.modes.split(","):
            t0 = time.perf_counter()
            index = sift_index(corpus, mode)
            row[f"index_s_{mode}"] = time.perf_counter() - t0
            run, times = sift_run(index, queries, params)
            row[mode] = ndcg(run, qrels)
            row[f"p50_ms_{mode}"] = float(np.percentile(times, 50))
            row[f"p95_ms_{mode}"] = float(np.percentile(times, 95))
            if args.typos:
                rng = random.Random(42)
                typo_qs = {q: typo_query(t, rng) for q, t in queries.items()}
                row[f"{mode}_typo"] = ndcg(sift_run(index, typo_qs, params)[0], qrels)
        rows.append(row)
        print(
            json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}),
            flush=True,
        )
    for key in rows[0]:
        if key != "set":
            print(f"mean {key}: {statistics.mean(r[key] for r in rows):.4f}")


def grid(args: argparse.Namespace) -> None:
    """nDCG@10 of every parameter combination, indexing each collection once."""
    axes = []
    for part in args.grid.split(";"):
        key, values = part.split("=")
        axes.append([(key, float(v)) for v in values.split(",")])
    combos = [dict(c) for c in itertools.product(*axes)]
    results: dict[str, list[float]] = {json.dumps(c): [] for c in combos}
    for name in args.sets.split(","):
        corpus, queries, qrels = load(Path(args.data) / name)
        index = sift_index(corpus, "sift")
        for combo in combos:
            fields = {k: type(getattr(RelevanceParams(), k))(v) for k, v in combo.items()}
            params = dataclasses.replace(RelevanceParams(), **fields)
            results[json.dumps(combo)].append(ndcg(sift_run(index, queries, params)[0], qrels))
    for key, values in sorted(results.items(), key=lambda kv: -statistics.mean(kv[1])):
        print(f"{statistics.mean(values):.4f}", " ".join(f"{v:.4f}" for v in values), key)


if __name__ == "__main__":
    main()
