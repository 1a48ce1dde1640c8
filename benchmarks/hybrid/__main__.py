"""python -m benchmarks hybrid [--collections a,b] [--titles a,b] [--latency-queries N]

Prints and writes benchmarks/results/hybrid-<time>.md: nDCG@10 per collection of
Lucene BM25, dense MiniLM, their RRF and min-max fusions, Sift lexical and Sift hybrid
(plus bm25s and fusions of Sift's own lexical leg), checked against issue #5's
targets; the same on the titles known-item task; hybrid latency on scifact including
query embedding; embedding throughput; vector memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from benchmarks.hybrid import collect, data, evaluate, titles

RESULTS = Path(__file__).resolve().parents[1] / "results"


def latency(coll: data.Collection, eng: evaluate.Engines, encoder, n: int) -> dict:
    from sift.engine import pipeline
    from sift.engine.query import SearchParams
    from sift.semantic.leg import VectorLeg

    times = []
    queries = list(coll.queries.values())[:n]
    for text in queries[:5]:  # warm-up: graph load, caches
        encoder.embed_query(text)
    pool = ThreadPoolExecutor(max_workers=1)
    for text in queries:
        # As the server does it (sift.semantic.search.leg_for): the query is embedded on another
        # thread while the lexical leg runs.
        started = time.perf_counter()
        future = pool.submit(encoder.embed_query, text)
        params = SearchParams.from_dict({"q": text, "limit": 10})
        leg = VectorLeg(eng.vectors.view, "default", future.result, 0.5)
        pipeline.search(eng.index.view, params, leg)
        times.append((time.perf_counter() - started) * 1000)
    q = np.percentile(times, [50, 99])
    return {"p50_ms": float(q[0]), "p99_ms": float(q[1]), "queries": len(times)}


def throughput(coll: data.Collection, encoder, n: int = 256) -> float:
    texts = coll.contents()[:n]
    started = time.perf_counter()
    encoder.embed_documents(texts)
    return n / (time.perf_counter() - started)


def _render(tables: dict[str, dict[str, float]]) -> list[str]:
    names = list(tables)
    lines = ["| method | " + " | ".join(names) + " | mean |", "|---|" + "---:|" * (len(names) + 1)]
    for row in next(iter(tables.values())):
        vals = [tables[n][row] for n in names]
        cells = " | ".join(f"{v:.4f}" for v in vals)
        lines.append(f"| {row} | {cells} | {statistics.fmean(vals):.4f} |")
    return lines


def _measure(coll: data.Collection, encoder, eng=None, secondary: bool = True):
    legs = collect.collect(coll, encoder, encoder)
    eng = evaluate.engines(coll) if eng is None else replace(eng, coll=coll)
    scores = evaluate.table(coll, legs, eng, secondary=secondary)
    print(coll.name, {k: round(v, 4) for k, v in scores.items()}, flush=True)
    return scores, eng


ABOUT = """Judged test queries only; nDCG@10 by pytrec_eval (trec_eval's definition), a query
with no hits counting 0. Documents are `title + " " + text`. Baselines (issue #5):
Lucene BM25 = Anserini 1.7.1 BEIR flat (k1 0.9, b 0.4, default English analyzer),
dense = all-MiniLM-L6-v2, exact cosine, query in float32; RRF k=60 and the min-max
blend (each leg's scores min-max scaled per query over its top N, a missing document
0, summed 0.5/0.5) fuse those two legs' top 1000 (and top 100) hits. Sift runs in
process: `sift.engine.pipeline.search` with the int8 ONNX query vector, depth 100 per leg."""

TITLES_ABOUT = f"""Known-item, product-search style (benchmarks/hybrid/titles.py): documents are
each collection's distinct titles alone; {titles.QUERIES} queries per collection, each
1-3 distinctive words (3+ letters, no stop word, in at most {titles.MAX_DF:.0%} of
titles) of one title, lower-cased, in title order, seed {titles.SEED}; relevant = that
title only. The typo variant gives every query word of 5+ letters one edit
(benchmarks/typos.py)."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks hybrid")
    parser.add_argument("--collections", default=",".join(data.names()))
    parser.add_argument(
        "--titles",
        default=None,
        help="collections for the titles task (default: those of --collections with titles; "
        "'' to skip)",
    )
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--throughput-docs", type=int, default=256)
    args = parser.parse_args(argv)
    encoder = collect.model()
    lines = [
        f"# Hybrid benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start.",
        "",
        "## nDCG@10",
        "",
        ABOUT,
        "",
    ]
    tables, engines, loaded = {}, {}, {}
    for name in args.collections.split(","):
        loaded[name] = data.load(name)
        tables[name], engines[name] = _measure(loaded[name], encoder)
    lines += [*_render(tables), "", "Against issue #5's targets:", "", *evaluate.verdict(tables)]
    sources = [n for n in loaded if titles.has_titles(loaded[n])]
    if args.titles is not None:
        sources = [n for n in args.titles.split(",") if n]
    if sources:
        clean, typo = {}, {}
        for name in sources:
            coll = loaded.get(name) or data.load(name)
            task = titles.titles_collection(coll)
            clean[name], eng = _measure(task, encoder, secondary=False)
            typo[name], _ = _measure(
                titles.titles_collection(coll, typos=True), encoder, eng, False
            )
        lines += [
            "",
            "## Titles: short queries against titles (known item)",
            "",
            TITLES_ABOUT,
            "",
            *_render(clean),
            "",
            *evaluate.against_lexical(clean),
            "",
            "With one typo in each word of 5+ letters:",
            "",
            *_render(typo),
            "",
            *evaluate.against_lexical(typo),
        ]
    if "scifact" in engines:
        coll, eng = loaded["scifact"], engines["scifact"]
        lat = latency(coll, eng, encoder, args.latency_queries)
        rate = throughput(coll, encoder, args.throughput_docs)
        mem = eng.vectors.memory_bytes() / len(coll.ids) * 100_000 / 2**20
        lines += [
            "",
            "## scifact: latency, throughput, memory",
            "",
            f"- hybrid search incl. query embedding (int8 ONNX), semanticRatio 0.5, "
            f"limit 10, {lat['queries']} queries: p50 {lat['p50_ms']:.1f} ms, "
            f"p99 {lat['p99_ms']:.1f} ms",
            f"- document embedding (PyTorch float32, batches of 32): {rate:.1f} docs/s "
            f"({args.throughput_docs} docs)",
            f"- vector index memory: {mem:.0f} MiB per 100k documents (384 float32)",
        ]
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"hybrid-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
