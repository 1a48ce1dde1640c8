"""python -m benchmarks.hybrid [--collections a,b] [--latency-queries N]

Prints and writes benchmarks/results/hybrid-<time>.md: nDCG@10 of BM25, Sift lexical,
dense MiniLM, RRF and min-max blends, and Sift hybrid per collection; hybrid latency
on scifact including query embedding; embedding throughput; vector memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from benchmarks.hybrid import collect, data, evaluate

RESULTS = Path(__file__).resolve().parents[1] / "results"


def latency(coll: data.Collection, eng: evaluate.Engines, encoder, n: int) -> dict:
    from sift.engine.query import SearchParams
    from sift.semantic import hybrid

    times = []
    queries = list(coll.queries.values())[:n]
    for text in queries[:5]:  # warm-up: graph load, caches
        encoder.embed_query(text)
    pool = ThreadPoolExecutor(max_workers=1)
    for text in queries:
        # As the server does it (sift.semantic.search): the query is embedded on another
        # thread while the lexical leg runs.
        started = time.perf_counter()
        future = pool.submit(encoder.embed_query, text)
        params = SearchParams.from_dict({"q": text, "limit": 10})
        hybrid.run(
            eng.index, eng.index.snapshot, params, eng.vectors.view, "default", future.result, 0.5
        )
        times.append((time.perf_counter() - started) * 1000)
    q = np.percentile(times, [50, 99])
    return {"p50_ms": float(q[0]), "p99_ms": float(q[1]), "queries": len(times)}


def throughput(coll: data.Collection, encoder, n: int = 256) -> float:
    texts = coll.contents()[:n]
    started = time.perf_counter()
    encoder.embed_documents(texts)
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hybrid")
    parser.add_argument("--collections", default=",".join(data.names()))
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--throughput-docs", type=int, default=256)
    args = parser.parse_args()
    encoder = collect.model()
    lines = [
        f"# Hybrid benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start.",
        "",
        "## nDCG@10",
        "",
    ]
    tables = {}
    engines = {}
    for name in args.collections.split(","):
        coll = data.load(name)
        legs = collect.collect(coll, encoder, encoder)
        engines[name] = (coll, evaluate.engines(coll))
        tables[name] = evaluate.table(coll, legs, engines[name][1])
        print(name, {k: round(v, 4) for k, v in tables[name].items()}, flush=True)
    rows = list(next(iter(tables.values())))
    names = list(tables)
    lines.append("| method | " + " | ".join(names) + " | mean |")
    lines.append("|---|" + "---:|" * (len(names) + 1))
    for row in rows:
        vals = [tables[n][row] for n in names]
        lines.append(
            f"| {row} | "
            + " | ".join(f"{v:.4f}" for v in vals)
            + f" | {statistics.fmean(vals):.4f} |"
        )
    if "scifact" in engines:
        coll, eng = engines["scifact"]
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
        print("\n".join(lines[-3:]))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"hybrid-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
