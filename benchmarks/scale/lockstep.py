"""`python -m benchmarks.scale.lockstep --tree main=DIR --tree mine=DIR --docs 1000000`:
the scale benchmark's typeahead mix, in process, against two source trees in lockstep.

`python -m benchmarks scale` measures a server, rebuilt from its database: minutes per
size, and two runs one after the other on the shared machine compare its load, not the
trees. Here one worker process per tree holds the same products index (built directly
with ``SearchIndex``, or unpickled from ``--index-cache`` when that file exists, which
the first worker writes otherwise: both trees must then pickle compatible indexes), and
the coordinator sends each search of the mix (benchmarks/scale/queries.py: a typed
prefix, one filter, facets on `brand` and `tags`) to every worker in turn, the order
alternating per query, so both see the same moment's noise. Per tree: engine p50/p99
overall and per kind of query (one word or several; the last word's length, 4 meaning
4 or more), and the median per-query ratio to the first tree. Every response (hits
with their ranking scores, estimatedTotalHits, facetDistribution) is compared with the
first tree's: a speed-up must not change them. Each figure is given twice: wall time
of the search call, and the CPU time of its thread (what a loaded machine does not
inflate; numba's loops run in the calling thread). Before the first search each index
is warmed as a server warms one it loaded (``SearchIndex.warm``: its filter and facet
views, built by the catalog before any search sees the index, and the one-letter
prefixes' totals, built by the idle task worker; a tree without it runs
``warm_prefixes`` if it has that). The first WARM_QUERIES searches are left out of the
figures and are the same for every tree.

Each worker first sets malloc up as `sift serve` does (``sift.tasks.memory.configure``,
that tree's) and searches in a pool thread, as the server's request threads do: at 1M
the allocator's set-up decides whether a search's candidate-sized arrays are fresh
mappings faulted in page by page, so minor page faults per search are reported too.
``--glibc-defaults NAME`` leaves one worker's malloc alone and ``--env NAME:VAR=VALUE``
sets a variable (``MALLOC_TOP_PAD_``, ``MALLOC_MMAP_THRESHOLD_``) for one worker only: the
same tree twice compares two set-ups.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.engine_speed.lockstep import ask
from benchmarks.scale.measure import percentile
from benchmarks.scale.queries import typeahead

WORKER = r"""
import json, resource, sys, time
from concurrent.futures import ThreadPoolExecutor
docs, queries, seed, cache, malloc = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                      sys.argv[4], sys.argv[5])
if malloc == "server":  # what `sift serve` does first (sift/server.py configure_process)
    from sift.tasks import memory
    memory.configure()
from benchmarks.scale.products_index import products_index
from benchmarks.scale.queries import typeahead
from sift.engine.query import SearchParams
index = products_index(docs, seed, cache)
# What a server does with an index it loaded before it is searched: the catalog builds
# its filter and facet views, the idle task worker the one-letter prefixes' totals
# (SearchIndex.warm; an older tree has warm_prefixes or nothing).
(getattr(index, "warm", None) or getattr(index, "warm_prefixes", lambda: 0))()
bodies = [dict(b, showRankingScore=True) for b in typeahead(queries, seed)]
# A server searches in its request threads, whose malloc arena is not the main thread's.
pool = ThreadPoolExecutor(1)
def one(body):
    began, cpu = time.perf_counter(), time.thread_time()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    r = index.search(SearchParams.from_dict(body))
    ms, cpu_ms = (time.perf_counter() - began) * 1000, (time.thread_time() - cpu) * 1000
    return ms, cpu_ms, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults, r
print(json.dumps(len(bodies)), flush=True)
for line in sys.stdin:
    ms, cpu_ms, faults, r = pool.submit(one, bodies[int(line)]).result()
    print(json.dumps([ms, cpu_ms, faults, [[h["id"], h["_rankingScore"]] for h in r["hits"]],
                      r["estimatedTotalHits"], r["facetDistribution"]]), flush=True)
"""

WARM_QUERIES = 30  # as benchmarks/scale/measure.py: first searches left out of the figures


def start(name: str, tree: Path, args: argparse.Namespace,
          cache: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{tree}/src:{Path(__file__).resolve().parents[2]}"}
    for spec in args.env:
        target, _, assignment = spec.partition(":")
        if target == name:
            var, _, value = assignment.partition("=")
            env[var] = value
    malloc = "glibc" if name in args.glibc_defaults else "server"
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(args.docs), str(args.queries + WARM_QUERIES),
         str(args.seed), cache, malloc],
        cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def kind(q: str) -> str:
    return f"{'words' if ' ' in q else 'word'}-{min(len(q.split()[-1]), 4)}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale.lockstep",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300, help="measured searches")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the searches")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--index-cache", type=Path, default=None,
                        help="pickled index: loaded when it exists, else written by the "
                        "first worker (the others wait for it)")  # fmt: skip
    parser.add_argument("--slowest", type=int, default=0, metavar="N",
                        help="print each tree's N slowest searches by the CPU time of "
                        "their thread (round, query, filter, minor faults): what its p99 is")
    parser.add_argument("--glibc-defaults", action="append", default=[], metavar="NAME",
                        help="this tree's worker leaves malloc at glibc's defaults instead "
                        "of configuring it as `sift serve` does (sift.tasks.memory)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME:VAR=VALUE",
                        help="an environment variable for this tree's worker only (e.g. "
                        "MALLOC_MMAP_THRESHOLD_, which wins over sift.tasks.memory's)")
    args = parser.parse_args(argv)
    trees = [(name, Path(path).resolve()) for name, path in
             (t.split("=", 1) for t in args.tree)]
    cache = str(args.index_cache or "")
    workers = [start(*trees[0], args, cache)]
    if cache:  # the first worker writes the cache: the others load it once it is there
        workers[0].stdout.readline()  # type: ignore[union-attr]
    workers += [start(name, tree, args, cache) for name, tree in trees[1:]]
    try:
        for w in workers[1 if cache else 0:]:
            w.stdout.readline()  # type: ignore[union-attr]
        bodies = typeahead(args.queries + WARM_QUERIES, args.seed)
        queries = [b["q"] for b in bodies]
        times: list[list[float]] = [[] for _ in trees]
        cpu: list[list[float]] = [[] for _ in trees]
        faults: list[list[int]] = [[] for _ in trees]
        differ = [0] * len(trees)
        for r in range(args.rounds):
            for q in range(len(queries)):
                turn = list(range(len(trees)))
                if (q + r) % 2:
                    turn.reverse()
                answers: dict[int, Any] = {}
                for i in turn:
                    answers[i] = ask(workers[i], str(q))
                for i in range(1, len(trees)):
                    differ[i] += answers[i][3:] != answers[0][3:]
                if q >= WARM_QUERIES:
                    for i in range(len(trees)):
                        times[i].append(answers[i][0])
                        cpu[i].append(answers[i][1])
                        faults[i].append(answers[i][2])
    finally:
        for w in workers:
            w.stdin.close()  # type: ignore[union-attr]
            w.wait()
    measured = queries[WARM_QUERIES:] * args.rounds
    print(f"products, {args.docs:,} docs, {len(queries) - WARM_QUERIES} searches x "
          f"{args.rounds} rounds; load average {os.getloadavg()[0]:.1f}")
    for clock, measured_ms in (("wall time", times), ("CPU time of its thread", cpu)):
        print(f" {clock}:")
        _report(trees, measured_ms, differ, measured)
    # Pages first touched during the search (a fresh mapping's, or one trimmed away).
    print(" minor page faults per search: " + ", ".join(
        f"{name} median {statistics.median(f):.0f}, mean {statistics.fmean(f):.0f}"
        for (name, _), f in zip(trees, faults, strict=True)))
    if args.slowest:
        searched = [(r, b) for r in range(args.rounds) for b in bodies[WARM_QUERIES:]]
        for (name, _), ms, f in zip(trees, cpu, faults, strict=True):
            print(f" {name}'s slowest by CPU ms (round, query, filter, faults):")
            for i in sorted(range(len(ms)), key=lambda i: -ms[i])[: args.slowest]:
                r, body = searched[i]
                print(f"  {ms[i]:7.2f}  {r} {body['q']!r} ({body['filter']}) {f[i]}")


def _report(trees: list[tuple[str, Path]], times: list[list[float]], differ: list[int],
            measured: list[str]) -> None:
    base = np.array(times[0])
    for i, ((name, _), t) in enumerate(zip(trees, times, strict=True)):
        ratio = float(np.median(np.array(t) / np.maximum(base, 1e-6)))
        same = "" if i == 0 else f", responses differing from {trees[0][0]}: {differ[i]}"
        print(f"  {name}: engine p50 {percentile(t, 50):.2f} ms, p99 {percentile(t, 99):.2f}"
              f" ms, median ratio to {trees[0][0]} {ratio:.3f}{same}")
        by_kind: dict[str, list[float]] = defaultdict(list)
        for q, ms in zip(measured, t, strict=True):
            by_kind[kind(q)].append(ms)
        print("    " + ", ".join(f"{k} ({len(v)}): p50 {statistics.median(v):.2f} p99 "
                                 f"{percentile(v, 99):.2f}" for k, v in sorted(by_kind.items())))

if __name__ == "__main__":
    main()
