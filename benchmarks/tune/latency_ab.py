"""Pasted-paragraph search latency of this tree against another source tree, the two
interleaved query by query (the machine is shared: only a same-run ratio means much).

Each tree runs in its own worker process (``PYTHONPATH=<tree>/src``) holding the same
in-process index of a BEIR-layout collection (benchmarks.tune.run.sift_index); the
driver sends every query to both, in alternating order, and each worker times its
``SearchIndex.search`` (a 20-hit page, title highlighted, as tune.latency does).

    python -m benchmarks.tune.latency_ab --baseline ../main/src [--set scifact]

``--env-baseline``/``--env-this`` set a variable for one side only, e.g. the same tree
with numba's JIT against the kernels compiled ahead of time:

    python -m benchmarks.tune.latency_ab --baseline src --env-baseline SIFT_KERNELS=jit \
        --env-this SIFT_KERNELS=aot
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.tune.latency import paragraphs
from benchmarks.tune.run import load

REPO = Path(__file__).resolve().parents[2]


def worker(data: Path) -> None:
    from benchmarks.tune.run import sift_index
    from sift.engine.query import SearchParams

    index = sift_index(load(data)[0], "sift")
    print("ready", flush=True)
    for line in sys.stdin:
        params = SearchParams.from_dict({"q": json.loads(line),
                                         "attributesToHighlight": ["title"]})
        t0 = time.perf_counter()
        index.search(params)
        print((time.perf_counter() - t0) * 1000, flush=True)


def start(src: Path, data: Path, extra: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{src}:{REPO}",
           **dict(pair.split("=", 1) for pair in extra)}
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.tune.latency_ab", "--worker",
                             "--data-dir", str(data)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def ask(proc: subprocess.Popen[str], query: str) -> float:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(query) + "\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", type=Path, help="the other tree's src folder")
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--set", default="scifact")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--first-words", type=int, default=0, metavar="N",
                    help="each paragraph's first N words only (short queries)")
    ap.add_argument("--env-baseline", action="append", default=[], metavar="NAME=VALUE",
                    help="an environment variable for the baseline's worker only")
    ap.add_argument("--env-this", action="append", default=[], metavar="NAME=VALUE",
                    help="an environment variable for this tree's worker only")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.data_dir)
        return
    data = Path(args.data) / args.set
    queries = paragraphs(load(data)[0], random.Random(1), args.queries)
    if args.first_words:
        queries = [" ".join(q.split()[:args.first_words]) for q in queries]
    trees = {"baseline": start(args.baseline, data, args.env_baseline),
             "this tree": start(REPO / "src", data, args.env_this)}
    times: dict[str, list[float]] = {name: [] for name in trees}
    for q in queries[:20]:  # warm both (vocabulary, compiled kernels, caches)
        for proc in trees.values():
            ask(proc, q)
    for i, q in enumerate(queries):
        names = list(trees) if i % 2 == 0 else list(trees)[::-1]
        for name in names:
            times[name].append(ask(trees[name], q))
    for proc in trees.values():
        proc.terminate()
    p50 = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        p95 = statistics.quantiles(t, n=20)[-1]
        print(f"{args.set} {len(queries)} paragraphs, {name}: p50 {p50[name]:.2f} ms, "
              f"p95 {p95:.2f} ms")
    print(f"p50 ratio this tree / baseline: {p50['this tree'] / p50['baseline']:.2f}")


if __name__ == "__main__":
    main()
