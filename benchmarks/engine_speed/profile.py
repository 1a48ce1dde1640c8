"""`python -m benchmarks.engine_speed.profile`: cProfile of Sift's in-process search over the
benchmark's products query set, to show where the engine time goes."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from benchmarks.engine_speed.corpus import product_corpus
from benchmarks.engine_speed.engines import SiftInProcess


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_speed.profile")
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-filter", action="store_true", help="q only: no filter, facets")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args(argv)
    corpus = product_corpus(args.docs, args.queries, args.seed)
    params = {} if args.no_filter else corpus.sift_params
    local = SiftInProcess(corpus.docs, corpus.sift_settings)
    for q in corpus.queries[:20]:  # warm-up outside the profile
        local.search(q, params)
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
