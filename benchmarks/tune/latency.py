"""Search latency and indexing throughput, in-process and single-threaded.

Query mix on a BEIR-layout collection (title + text indexed): the collection's
own test queries (long, natural language), 1-3 word queries cut from document
titles, 1-3 letter as-you-type prefixes, and pasted paragraphs (a document's first
150-300 words). Each search goes through
``SearchIndex.search`` with a 20-hit page highlighted, as the HTTP layer would.

    python -m benchmarks.tune.latency --set scifact
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from benchmarks.tune.run import load, sift_index
from sift.engine.index import SearchIndex
from sift.engine.query import SearchParams
from sift.engine.settings import default_settings

PARAGRAPH = (150, 300)  # words of a pasted-paragraph query


def paragraphs(corpus: list[dict], rng: random.Random, n: int = 300) -> list[str]:
    """Pasted paragraphs: the first 150-300 words of documents, ending a sentence."""
    words = [f"{d.get('title') or ''} {d.get('text') or ''}".split() for d in corpus]
    long_docs = [w for w in words if len(w) >= PARAGRAPH[1]]
    return [" ".join(w[: rng.randint(*PARAGRAPH)]) + "."
            for w in rng.sample(long_docs, min(n, len(long_docs)))]


def timed(index: SearchIndex, queries: list[str]) -> tuple[float, float]:
    times = []
    for q in queries:
        params = SearchParams.from_dict({"q": q, "attributesToHighlight": ["title"]})
        t0 = time.perf_counter()
        index.search(params)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--set", default="scifact")
    ap.add_argument("--mode", default="sift")
    args = ap.parse_args()
    rng = random.Random(1)
    corpus, queries, _ = load(Path(args.data) / args.set)
    index = sift_index(corpus, args.mode)
    heads = [(d.get("title") or d.get("text") or "").split() for d in corpus]
    titles = [h for h in heads if h]
    short = [" ".join(t[: rng.randint(1, 3)]) + " " for t in rng.sample(titles, 300)]
    prefixes = [t[0][: rng.randint(1, 3)] for t in rng.sample(titles, 300)]
    mixes = {
        "test queries": list(queries.values())[:300],
        "1-3 words": short,
        "1-3 letter prefix": prefixes,
        "150-300 word paragraphs": paragraphs(corpus, rng),
    }
    for name, qs in mixes.items():
        timed(index, qs[:20])  # warm caches (vocabulary, sorted views)
        p50, p95 = timed(index, qs)
        print(f"{args.set} {args.mode} {name}: p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    docs = [
        (
            str(i),
            {
                "id": i,
                "name": f"product {i} {rng.choice(titles)[0]}",
                "brand": rng.choice(["acme", "zeta", "nova"]),
                "price": i % 100,
            },
        )
        for i in range(50_000)
    ]
    small = SearchIndex(default_settings(args.mode), "id")
    t0 = time.perf_counter()
    for start in range(0, len(docs), 5000):
        small.upsert(docs[start : start + 5000])
    elapsed = time.perf_counter() - t0
    print(f"indexing 50k small docs: {len(docs) / elapsed:,.0f} docs/s")


if __name__ == "__main__":
    main()
