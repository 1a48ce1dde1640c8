"""Leave-one-collection-out check of a ranking parameter, on the judged queries and on
the long-query task (benchmarks.tune.long_queries).

For every value in the grid, Sift is scored on each collection's judged test queries
("judged") and on its long-query task ("long": the mean nDCG@10 over the lengths that
have at least 20 queries there). Then, for each collection in turn, the value that is
best on the *other* collections (mean of judged and long) is chosen and scored on the
held-out one, beside the best of the BM25 peers (bm25s, FTS5). A value is accepted when
the held-out choice stays within 0.01 of the best BM25 on every collection, on both
tasks, and above it on average.

    python -m benchmarks.tune.loco --grid "proximity_pairs=0,8,16" [--sets cisi,npl]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
from pathlib import Path
from typing import Any

from benchmarks.tune.long_queries import (
    DEFAULT_LENGTHS,
    MAX_QUERIES,
    MIN_CELL,
    all_qrels,
    evaluate,
    fts5_run,
    long_tasks,
)
from benchmarks.tune.run import bm25s_run, load, ndcg, sift_index, sift_run
from sift.engine.ranking import RelevanceParams

PEERS = ("bm25s", "fts5")


def combos(grid: str) -> list[dict[str, float]]:
    axes = []
    for part in grid.split(";"):
        key, values = part.split("=")
        axes.append([(key, float(v)) for v in values.split(",")])
    return [dict(c) for c in itertools.product(*axes)]


def params_of(combo: dict[str, float]) -> RelevanceParams:
    fields = {k: type(getattr(RelevanceParams(), k))(v) for k, v in combo.items()}
    return dataclasses.replace(RelevanceParams(), **fields)


def long_mean(rows: list[dict[str, Any]], engine: str) -> float:
    return statistics.mean(r[engine] for r in rows if r["queries"] >= MIN_CELL)


def score_collection(folder: Path, grid: list[dict[str, float]], lengths: tuple[int, ...],
                     max_queries: int) -> dict[str, Any]:
    """{"peers": {engine: (judged, long)}, "sift": [(judged, long) per grid value]}."""
    corpus, queries, qrels = load(folder)
    tasks = long_tasks(corpus, all_qrels(folder), folder.name, lengths, max_queries)
    peers = {
        "bm25s": ndcg(bm25s_run(corpus, queries), qrels),
        "fts5": ndcg(fts5_run(corpus, queries, 10), qrels),
    }
    rows = evaluate(tasks, {"bm25s": lambda qs: (bm25s_run(corpus, qs, k=11), []),
                            "fts5": lambda qs: (fts5_run(corpus, qs, 11), [])})
    out: dict[str, Any] = {"peers": {e: (peers[e], long_mean(rows, e)) for e in PEERS},
                           "sift": []}
    index = sift_index(corpus, "sift")
    for combo in grid:
        params = params_of(combo)
        judged = ndcg(sift_run(index, queries, params)[0], qrels)
        rows = evaluate(tasks, {"sift": lambda qs, p=params: sift_run(index, qs, p, k=11)})
        out["sift"].append((judged, long_mean(rows, "sift")))
        print(json.dumps({"set": folder.name, **combo, "judged": round(judged, 4),
                          "long": round(out["sift"][-1][1], 4)}), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--sets", default="scifact,nfcorpus,cisi,npl")
    ap.add_argument("--grid", required=True, help='e.g. "proximity_pairs=0,8,16"')
    ap.add_argument("--lengths", default=",".join(map(str, DEFAULT_LENGTHS)))
    ap.add_argument("--max-queries", type=int, default=MAX_QUERIES)
    args = ap.parse_args()
    grid = combos(args.grid)
    lengths = tuple(int(n) for n in args.lengths.split(","))
    names = args.sets.split(",")
    scores = {n: score_collection(Path(args.data) / n, grid, lengths, args.max_queries)
              for n in names}
    print("| held out | chosen on the others | judged: Sift | best BM25 | long: Sift | "
          "best BM25 |")
    print("|---|---|---:|---:|---:|---:|")
    margins = []
    for held in names:
        others = [n for n in names if n != held] or [held]
        best = max(range(len(grid)), key=lambda i: statistics.mean(
            statistics.mean(scores[n]["sift"][i]) for n in others))
        sift = scores[held]["sift"][best]
        peer = [max(scores[held]["peers"][e][t] for e in PEERS) for t in (0, 1)]
        margins.append((sift[0] - peer[0], sift[1] - peer[1]))
        print(f"| {held} | {json.dumps(grid[best])} | {sift[0]:.4f} | {peer[0]:.4f} | "
              f"{sift[1]:.4f} | {peer[1]:.4f} |")
    judged = [m[0] for m in margins]
    long = [m[1] for m in margins]
    print(f"held-out margin over the best BM25: judged mean {statistics.mean(judged):+.4f} "
          f"(worst {min(judged):+.4f}), long mean {statistics.mean(long):+.4f} "
          f"(worst {min(long):+.4f})")


if __name__ == "__main__":
    main()
