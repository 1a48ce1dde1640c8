"""`python -m benchmarks.engine_speed.profile`: Sift's in-process search over one of the
benchmark's corpora, either under cProfile (where the engine time goes) or, with
`--latency`, as plain p50/p99 timings, optionally with an idle gap between queries (a
server sees queries with gaps; on a shared VM the gap alone costs caches and clocks) or
with the CPU caches flushed before each query (`--flush-mib 64`)."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

import numpy as np

from benchmarks.engine_speed.corpus import catalog_corpus, product_corpus, scifact_corpus
from benchmarks.engine_speed.engines import SiftInProcess

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_speed.profile")
    parser.add_argument("--corpus", choices=("products", "catalog", "scifact"),
                        default="products")
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-filter", action="store_true", help="q only: no filter, facets")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--latency", action="store_true", help="p50/p99, no profiler")
    parser.add_argument("--gap-ms", type=float, default=0.0, help="idle time between queries")
    parser.add_argument("--flush-mib", type=int, default=0,
                        help="write this many MiB before each query (evicts the CPU caches, "
                             "as the harness's interleaved Typesense queries do)")
    args = parser.parse_args(argv)
    if args.corpus == "catalog":
        corpus = catalog_corpus(args.docs, args.queries, args.seed, SHARED)
    elif args.corpus == "scifact":
        corpus = scifact_corpus(SHARED / "scifact", args.queries, args.seed, None)
    else:
        corpus = product_corpus(args.docs, args.queries, args.seed)
    params = {} if args.no_filter else corpus.sift_params
    local = SiftInProcess(corpus.docs, corpus.sift_settings)
    for q in corpus.queries[:20]:  # warm-up outside the measurement
        local.search(q, params)
    if args.latency:
        flush = np.ones(args.flush_mib << 20, dtype=np.uint8)
        times = []
        for q in corpus.queries:
            if args.gap_ms:
                time.sleep(args.gap_ms / 1000)
            if flush.size:
                flush += 1
            times.append(local.search(q, params))
        p50, p99 = np.percentile(times, [50, 99])
        print(f"{args.corpus}: {len(times)} queries, gap {args.gap_ms:g} ms, flush "
              f"{args.flush_mib} MiB: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        return
    began = time.perf_counter()
    with cProfile.Profile() as profile:
        for q in corpus.queries:
            local.search(q, params)
    elapsed = time.perf_counter() - began
    print(f"{len(corpus.queries)} queries, {elapsed / len(corpus.queries) * 1000:.2f} ms mean")
    stats = pstats.Stats(profile).strip_dirs()
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
