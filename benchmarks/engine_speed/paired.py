"""`python -m benchmarks.engine_speed.paired --tree before=DIR --tree after=DIR`: Sift's
in-process search from two (or more) source trees, side by side, for the HTTP load test's
three query kinds (full, short, prefix over scifact, `benchmarks.load.queries`).

Each tree runs in a child process of its own (`PYTHONPATH=DIR/src`) holding scifact in a
SearchIndex; the parent asks them in turn, the order rotating by round, to run every
query of every kind once and report the median microseconds per kind, so a burst of
someone else's work on a shared machine falls on every tree alike. A search here is
what the search route does in the engine: the request body as the load test sends it
(`limit` 10, `attributesToRetrieve: ["id"]`) parsed, searched, and the response encoded
with orjson. The index is left as the server's idle merge leaves it (two segments for
scifact), or merged into one with ``--one-segment``. With ``--first-sight`` every search
finds the snapshot's per-word and per-query caches (expansions, word totals, phrases, hits,
filters) empty, as a query the server has not seen yet does: they are emptied before each
search, outside its time. Prints, per kind, each tree's
median of the rounds' medians and each tree's ratio to the first one, from the rounds'
paired ratios: of wall time, and ("KIND cpu") of the searching thread's CPU time
(``time.thread_time``), which time spent waiting for a core on a shared machine does
not inflate.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCIFACT = REPO_ROOT.parent / "shared" / "data" / "scifact"


def forget_queries(snapshot: object) -> None:
    """Empty ``snapshot``'s bounded caches of words and queries (its ``LRU`` values), so
    the next search pays what a first sight of its words costs. Reads private fields: the
    engine has no such switch, and the base tree compared against must run this too."""
    from sift.engine.store import LRU

    caches = [v for v in vars(snapshot)["_cache"].values() if isinstance(v, LRU)]
    for cache in [*caches, vars(snapshot)["_lru"]]:
        with cache._lock:
            cache._items.clear()


def worker(collection: Path, queries: int, seed: int, one_segment: bool,
           first_sight: bool) -> None:
    """The child: index ``collection``, then answer each line on stdin with one round."""
    import orjson

    from benchmarks.collections import load_collection
    from benchmarks.load.queries import query_sets
    from sift.engine.index import SearchIndex
    from sift.engine.query import SearchParams
    from sift.engine.settings import with_defaults

    data = load_collection(collection)
    sets = query_sets(list(data.queries.values()), queries, seed)
    index = SearchIndex(with_defaults({}), "id")
    docs = [(d.id, {"id": d.id, "title": d.title, "text": d.text}) for d in data.docs]
    for start in range(0, len(docs), 5000):  # the load test's batches
        index.upsert(docs[start:start + 5000])
    # As the server's writer does once its queue is empty (scifact in 5,000-document
    # batches: two segments stay), or everything merged into one.
    index.optimize(force=one_segment)

    def one(q: str) -> None:
        body = {"q": q, "limit": 10, "attributesToRetrieve": ["id"]}
        orjson.dumps(index.search(SearchParams.from_dict(body)))

    for qs in sets.values():  # warm-up: kernels, caches
        for q in qs[:50]:
            one(q)
    print(json.dumps({"ready": len(index.view.snapshot.segments)}), flush=True)
    for _ in sys.stdin:
        medians = {}
        for kind, qs in sets.items():
            times = []
            cpu = []
            for q in qs:
                if first_sight:
                    forget_queries(index.view.snapshot)
                began, began_cpu = time.perf_counter(), time.thread_time()
                one(q)
                cpu.append((time.thread_time() - began_cpu) * 1e6)
                times.append((time.perf_counter() - began) * 1e6)
            medians[kind] = statistics.median(times)
            medians[f"{kind} cpu"] = statistics.median(cpu)
        print(json.dumps(medians), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_speed.paired")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=DIR")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--queries", type=int, default=300, help="per kind")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--collection", type=Path, default=SCIFACT)
    parser.add_argument("--one-segment", action="store_true",
                        help="merge the index into one segment (default: as the server's "
                             "idle merge leaves it)")
    parser.add_argument("--first-sight", action="store_true",
                        help="empty the word and query caches before each search")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from benchmarks.load.queries import DEFAULT_SEED

    seed = DEFAULT_SEED if args.seed is None else args.seed
    if args.worker:
        worker(args.collection, args.queries, seed, args.one_segment, args.first_sight)
        return
    if len(args.tree) < 2:
        parser.error("give at least two --tree NAME=DIR")
    trees = dict(entry.split("=", 1) for entry in args.tree)
    children: dict[str, subprocess.Popen[str]] = {}
    for name, tree in trees.items():
        env = {**os.environ, "PYTHONPATH": f"{Path(tree).resolve() / 'src'}:{REPO_ROOT}"}
        children[name] = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.engine_speed.paired", "--worker",
             "--queries", str(args.queries), "--seed", str(seed),
             "--collection", str(args.collection),
             *(["--one-segment"] if args.one_segment else []),
             *(["--first-sight"] if args.first_sight else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT)
    try:
        for name, child in children.items():
            assert child.stdout is not None
            ready = json.loads(child.stdout.readline())
            print(f"{name}: {ready['ready']} segment(s)", file=sys.stderr)
        rounds: list[dict[str, dict[str, float]]] = []
        names = list(children)
        for r in range(args.rounds):
            result: dict[str, dict[str, float]] = {}
            for name in names[r % len(names):] + names[:r % len(names)]:
                child = children[name]
                assert child.stdin is not None and child.stdout is not None
                child.stdin.write("\n")
                child.stdin.flush()
                result[name] = json.loads(child.stdout.readline())
            rounds.append(result)
            print(f"round {r + 1}: " + json.dumps(result), file=sys.stderr)
    finally:
        for child in children.values():
            child.kill()
    report(rounds, names, os.getloadavg())


def report(rounds: list[dict[str, dict[str, float]]], names: list[str],
           load: tuple[float, float, float]) -> None:
    base = names[0]
    kinds = list(rounds[0][base])
    print(f"| kind | {' | '.join(f'{n} p50 µs' for n in names)} | "
          f"{' | '.join(f'{n} / {base}' for n in names[1:])} |")
    print("|---|" + "---:|" * (2 * len(names) - 1))
    for kind in kinds:
        medians = [statistics.median(r[n][kind] for r in rounds) for n in names]
        ratios = [statistics.median(r[n][kind] / r[base][kind] for r in rounds)
                  for n in names[1:]]
        print(f"| {kind} | {' | '.join(f'{m:,.0f}' for m in medians)} | "
              f"{' | '.join(f'{x:.2f}' for x in ratios)} |")
    print(f"\n{len(rounds)} rounds, load average at the end {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f}")


if __name__ == "__main__":
    main()
