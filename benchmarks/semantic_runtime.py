"""Runtime figures of docs/semantic.md ("Runtime"), each variant interleaved with the
others query by query so machine load hits them alike.

    python -m benchmarks.semantic_runtime query     # query embedding: padding, cache
    python -m benchmarks.semantic_runtime hybrid    # scifact hybrid latency, legs
    python -m benchmarks.semantic_runtime dots      # exact scoring: BLAS vs numkong
    python -m benchmarks.semantic_runtime vectors [--rows 100000]  # exact vs HNSW
    python -m benchmarks.semantic_runtime ab --before 773c370  # query embedding: a git rev vs now

`query` and `hybrid` need the `semantic` extra and scifact's document vectors, which
`python -m benchmarks hybrid` computes and caches.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np


def _stats(name: str, ms: list[float]) -> str:
    a = np.sort(np.asarray(ms))
    p99 = a[min(a.size - 1, int(0.99 * a.size))]
    return f"{name:34s} p50 {np.median(a):7.2f}  p99 {p99:7.2f} ms  (n={a.size})"


def _timed(fn: Callable[..., Any], *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def _hybrid(index: Any, view: Any, params: Any, query: Any, ratio: float) -> dict[str, Any]:
    """One search as the server runs it, with a semantic leg over ``view``."""
    from sift.engine import pipeline
    from sift.semantic.leg import VectorLeg

    return pipeline.search(index.view, params, VectorLeg(view, "default", query, ratio))


def _load() -> float:
    return os.getloadavg()[0]


def _scifact() -> tuple[Any, Any, Any, Any]:
    from benchmarks.hybrid import collect, data
    from benchmarks.hybrid.data import CACHE
    from sift.semantic.local_model import MiniLM
    from sift.semantic.vectors import VectorIndex

    coll = data.load("scifact")
    matrix = np.load(collect.vectors_path(coll))
    vectors = VectorIndex(matrix.shape[1])
    vectors.upsert(list(zip(coll.ids, matrix, strict=True)))
    model = MiniLM(CACHE / "models", query_cache=0)  # no cache hits in latency figures
    return coll, collect.sift_index(coll), vectors, model


def query(reps: int) -> None:
    from benchmarks.hybrid import data
    from benchmarks.hybrid.data import CACHE
    from sift.semantic.local_model import MiniLM

    queries = list(data.load("scifact").queries.values())
    model = MiniLM(CACHE / "models", query_cache=0)
    cached = MiniLM(CACHE / "models")
    model.embed_query("warm up")
    padded = model._fast_tokenizer.__class__.from_str(model._fast_tokenizer.to_str())
    padded.enable_padding(length=128)  # what tokenizer.json asks for

    def embed_padded(text: str) -> None:
        enc = padded.encode(text)
        ids = np.asarray([enc.ids], dtype=np.int64)
        mask = np.asarray([enc.attention_mask], dtype=np.int64)
        model._session.run(None, {"input_ids": ids, "attention_mask": mask})

    for text in queries:
        cached.embed_query(text)  # every later call is a cache hit
    times: dict[str, list[float]] = {
        "int8, own length (shipped)": [],
        "int8, padded to 128 tokens": [],
        "cache hit": [],
    }
    for _ in range(reps):
        for text in queries:
            times["int8, own length (shipped)"].append(_timed(model.embed_query, text))
            times["int8, padded to 128 tokens"].append(_timed(embed_padded, text))
            times["cache hit"].append(_timed(cached.embed_query, text))
    print(f"scifact queries, {reps} rounds, load {_load():.1f}")
    for name, ms in times.items():
        print(_stats(name, ms))


def hybrid(reps: int) -> None:
    from sift.engine.query import SearchParams

    coll, index, vectors, model = _scifact()
    queries = list(coll.queries.values())
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bench-embed")
    for text in queries[:10]:
        model.embed_query(text)
    given = {text: model.embed_query(text) for text in queries}
    times: dict[str, list[float]] = {
        k: []
        for k in (
            "hybrid incl. query embedding",
            "hybrid, vector given",
            "lexical search alone",
            "query embedding alone",
            "pure semantic, vector given",
        )
    }
    for _ in range(reps):
        for text in queries:
            params = SearchParams.from_dict(
                {"q": text, "limit": 10, "attributesToRetrieve": ["id"]}
            )

            def full(text: str = text, params: SearchParams = params) -> None:
                # As sift.semantic.search does it: embedded beside the lexical leg.
                future = pool.submit(model.embed_query, text)
                _hybrid(index, vectors.view, params, future.result, 0.5)

            def run(ratio: float, text: str = text, params: SearchParams = params) -> None:
                _hybrid(index, vectors.view, params, given[text], ratio)

            times["hybrid incl. query embedding"].append(_timed(full))
            times["hybrid, vector given"].append(_timed(run, 0.5))
            times["lexical search alone"].append(_timed(index.search, params))
            times["query embedding alone"].append(_timed(model.embed_query, text))
            times["pure semantic, vector given"].append(_timed(run, 1.0))
    print(f"scifact ({len(coll.ids)} docs, {len(queries)} queries x {reps}), load {_load():.1f}")
    for name, ms in times.items():
        print(_stats(name, ms))


def _module_at(rev: str, name: str) -> Any:
    """``sift.semantic.<name>`` as it was at git revision ``rev``."""
    import importlib.util
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{rev}:src/sift/semantic/{name}.py"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    target = Path(tempfile.mkdtemp()) / f"before_{name}.py"
    target.write_text(source)
    spec = importlib.util.spec_from_file_location(f"before_{name}", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def ab(rev: str, reps: int) -> None:
    """Hybrid search incl. query embedding: local_model.py at ``rev`` against the working
    tree's, query by query in the same run (the search itself is the working tree's)."""
    from benchmarks.hybrid.data import CACHE
    from sift.engine.query import SearchParams

    coll, index, vectors, model = _scifact()
    old_model = _module_at(rev, "local_model").MiniLM(CACHE / "models")
    variants = {"before": old_model, "now": model}
    queries = list(coll.queries.values())
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bench-embed")
    for encoder in variants.values():
        for text in queries[:10]:
            encoder.embed_query(text)
    times: dict[str, list[float]] = {f"{v}: {w}": [] for v in variants for w in ("hybrid", "embed")}
    for _ in range(reps):
        for text in queries:
            params = SearchParams.from_dict(
                {"q": text, "limit": 10, "attributesToRetrieve": ["id"]}
            )
            for name, encoder in variants.items():

                def full(
                    encoder: Any = encoder, text: str = text, params: SearchParams = params
                ) -> None:
                    future = pool.submit(encoder.embed_query, text)
                    _hybrid(index, vectors.view, params, future.result, 0.5)

                times[f"{name}: hybrid"].append(_timed(full))
                # `before` had no query cache; `now` runs with it off.
                times[f"{name}: embed"].append(_timed(encoder.embed_query, text))
    print(f"scifact, {rev} vs working tree, {reps} rounds, load {_load():.1f}")
    for name, ms in times.items():
        print(_stats(name, ms))


def _random(rows: int, dims: int = 384, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Clustered random vectors (200 centres) and queries near documents."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((200, dims)).astype(np.float32)
    data = rng.standard_normal((rows, dims)).astype(np.float32) * 0.5
    data += centres[rng.integers(0, 200, rows)]
    queries = data[rng.integers(0, rows, 200)] + 0.3 * rng.standard_normal((200, dims))
    return data, queries.astype(np.float32)


def dots(reps: int) -> None:
    import numkong

    print(f"load {_load():.1f}")
    for rows in (5183, 30_000, 100_000):
        data, queries = _random(rows)
        data /= np.linalg.norm(data, axis=1, keepdims=True)
        times: dict[str, list[float]] = {"numpy (OpenBLAS)": [], "numkong": []}
        for _ in range(reps):
            for q in queries[:100]:
                times["numpy (OpenBLAS)"].append(_timed(np.dot, data, q))
                times["numkong"].append(_timed(numkong.dot, data, q))
        for name, ms in times.items():
            print(_stats(f"{rows:>7,} x 384 {name}", ms))


def vectors(rows: int, reps: int, threads: int) -> None:
    from sift.semantic import vectors as v

    data, queries = _random(rows)
    items = [(f"doc{i}", data[i]) for i in range(rows)]
    exact = v.VectorIndex(384, graph_min_rows=10**12)
    exact.upsert(items)
    mib = 2**20
    print(f"{rows:,} x 384, load {_load():.1f}")
    print(f"exact: memory {exact.memory_bytes() / mib:.1f} MiB")
    path = Path(tempfile.mkdtemp()) / "vectors.usearch"
    v.BUILD_THREADS = threads
    graph = v.VectorIndex(384, path=path, background=False)
    started = time.perf_counter()
    graph.upsert(items)
    built = time.perf_counter() - started
    print(
        f"graph: fill + build {built:.1f} s ({threads} threads), memory "
        f"{graph.memory_bytes() / mib:.1f} MiB, file {path.stat().st_size / mib:.1f} MiB"
    )
    again = v.VectorIndex(384, path=path, background=False)
    started = time.perf_counter()
    again.upsert(items)
    print(f"graph: fill + load from file {time.perf_counter() - started:.1f} s")
    rng = np.random.default_rng(1)
    masks = {"no filter": None, "filter 50 %": rng.random(rows) < 0.5}
    masks["filter 10 %"] = rng.random(rows) < 0.1
    for name, mask in masks.items():
        times: dict[str, list[float]] = {"exact": [], "graph": []}
        recall = []
        for rep in range(reps):
            for q in queries:
                found: dict[str, np.ndarray] = {}
                for kind, index in (("exact", exact), ("graph", graph)):
                    started = time.perf_counter()
                    found[kind], _ = v.search(index.view, q, 100, mask)
                    times[kind].append((time.perf_counter() - started) * 1000)
                if rep == 0:
                    same = set(found["exact"].tolist()) & set(found["graph"].tolist())
                    recall.append(len(same) / max(1, found["exact"].size))
        for kind, ms in times.items():
            extra = f"  recall@100 {np.mean(recall):.4f}" if kind == "graph" else ""
            print(_stats(f"{name}, {kind}", ms) + extra)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.semantic_runtime")
    parser.add_argument("what", choices=["query", "hybrid", "dots", "vectors", "ab"])
    parser.add_argument("--before", default="773c370", help="git revision for `ab`")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2, help="graph build threads")
    args = parser.parse_args()
    if args.what == "query":
        query(args.reps)
    elif args.what == "hybrid":
        hybrid(args.reps)
    elif args.what == "ab":
        ab(args.before, args.reps)
    elif args.what == "dots":
        dots(args.reps)
    else:
        vectors(args.rows, args.reps, args.threads)


if __name__ == "__main__":
    main()
