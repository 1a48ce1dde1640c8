"""`python -m benchmarks.engine_speed.lockstep --tree before=DIR --tree after=DIR`: the
in-process search latency of two source trees, query by query in lockstep.

On a shared machine the load moves by 2-3x within a minute, so two runs one after the
other compare the load, not the trees. Here one worker process per tree builds the same
corpus, then the coordinator sends each query to every worker in turn (the order
alternating per query), so both see the same moment's noise; per tree it reports the
median and p99 of the engine time and the median of the per-query ratio to the first
tree. The worker is code sent on the command line, so a tree without this file (main
before it) can still be measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

WORKER = r"""
import json, sys
from pathlib import Path
from benchmarks.engine_speed.corpus import catalog_corpus, product_corpus, scifact_corpus
from benchmarks.engine_speed.engines import SiftInProcess
corpus_name, docs, queries, seed, shared, placeholder = sys.argv[1:7]
docs, queries, seed, shared = int(docs), int(queries), int(seed), Path(shared)
if corpus_name == "catalog":
    corpus = catalog_corpus(docs, queries, seed, shared)
elif corpus_name == "scifact":
    corpus = scifact_corpus(shared / "scifact", queries, seed, None)
else:
    corpus = product_corpus(docs, queries, seed)
local = SiftInProcess(corpus.docs, corpus.sift_settings)
params = corpus.sift_params if placeholder == "0" else {**corpus.sift_params, "limit": 20}
qs = corpus.queries if placeholder == "0" else [""] * len(corpus.queries)
for q in qs[:20]:
    local.search(q, params)
print(json.dumps(len(qs)), flush=True)
for line in sys.stdin:
    print(json.dumps(local.search(qs[int(line)], params)), flush=True)
"""

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def start(tree: Path, args: argparse.Namespace) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{tree}/src:{tree}"}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, args.corpus, str(args.docs), str(args.queries),
         str(args.seed), str(SHARED), "1" if args.placeholder else "0"],
        cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def ask(worker: subprocess.Popen[str], line: str) -> Any:
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(line + "\n")
    worker.stdin.flush()
    return json.loads(worker.stdout.readline())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_speed.lockstep")
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--corpus", choices=("products", "catalog", "scifact"),
                        default="products")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the queries")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--placeholder", action="store_true",
                        help="searches without words (q empty), 20 hits")
    args = parser.parse_args(argv)
    trees = [(name, Path(path).resolve()) for name, path in
             (t.split("=", 1) for t in args.tree)]
    workers = [start(tree, args) for _, tree in trees]
    try:
        counts = [json.loads(w.stdout.readline()) for w in workers]  # type: ignore[union-attr]
        n = counts[0]
        times: list[list[float]] = [[] for _ in trees]
        for r in range(args.rounds):
            for q in range(n):
                turn = list(range(len(trees)))
                if (q + r) % 2:
                    turn.reverse()
                for i in turn:
                    times[i].append(ask(workers[i], str(q)))
    finally:
        for w in workers:
            w.stdin.close()  # type: ignore[union-attr]
            w.wait()
    base = np.array(times[0])
    load = os.getloadavg()[0]
    print(f"{args.corpus}, {args.docs:,} docs, {n} queries x {args.rounds} rounds"
          f"{', placeholder' if args.placeholder else ''}; load average {load:.1f}")
    for (name, _), t in zip(trees, times, strict=True):
        arr = np.array(t)
        print(f"  {name}: p50 {statistics.median(t):.3f} ms, p99 "
              f"{np.percentile(arr, 99):.3f} ms, median ratio to {trees[0][0]} "
              f"{float(np.median(arr / base)):.3f}")


if __name__ == "__main__":
    main()
