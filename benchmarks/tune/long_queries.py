"""Long-query relevance: Sift against BM25 engines, by query length.

The judged queries of the four collections are short (CISI's are the exception), so a
ranking can lose on pasted paragraphs without any headline number noticing. This builds
"more like this" tasks from the same judgements, reproducibly: for every judged query
with at least two relevant documents (in any qrels file; at most 150 per collection,
a seeded sample), one relevant document (chosen by a RNG seeded with
the collection and query id) is the *seed*; its first N words (title, then text) are the
query and the query's other relevant documents are the answers. The seed itself is
removed from every engine's hits (BEIR's ArguAna protocol), so an engine is scored on
finding the *other* relevant documents. A seed shorter than N words gives no query in
bucket N, so each bucket holds queries of exactly N words.

    python -m benchmarks.tune.long_queries [--sets cisi,npl] [--lengths 16,64,256]
        [--set k1=1.2 ...]  (RelevanceParams overrides, as benchmarks.tune.run)

Prints one JSON row per collection and length, then the mean per length and engine.
The engines: Sift's default (in process, `sift` mode), bm25s (Snowball, English stop
words) and SQLite FTS5 (porter), as in benchmarks.tune.run and the relevance harness.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import random
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.runners.base import Doc
from benchmarks.runners.sqlite_fts5 import Fts5Runner
from benchmarks.tune.run import bm25s_run, load, ndcg, params_from, sift_index, sift_run
from sift.engine.ranking import RelevanceParams

DEFAULT_LENGTHS = (8, 16, 32, 64, 128, 256)
SEED = 13
MIN_CELL = 20  # queries a (collection, length) needs to count as that length's worst
MAX_QUERIES = 150  # per collection: keeps a run of the four collections to a few minutes

Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]


@dataclasses.dataclass
class Task:
    """Queries of one length, their answers and the seed document to leave out."""

    queries: dict[str, str]
    qrels: Qrels
    seeds: dict[str, str]  # query id -> seed document id


def all_qrels(folder: Path) -> Qrels:
    """Every judgement of the collection (train, dev and test files): the task needs
    queries with two relevant documents, which SciFact's test split rarely has."""
    qrels: Qrels = {}
    for path in sorted((folder / "qrels").glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows = csv.reader(fh, delimiter="\t")
            next(rows)
            for row in rows:
                if len(row) >= 3:
                    qrels.setdefault(f"{path.stem}:{row[0].strip()}", {})[row[1].strip()] = \
                        int(row[2].strip())
    return qrels


def long_tasks(corpus: list[dict], qrels: Qrels, name: str, lengths: tuple[int, ...],
               max_queries: int) -> dict[int, Task]:
    """At most ``max_queries`` seeds (a seeded sample of the judged queries with two or
    more relevant documents), each cut to every length it reaches."""
    texts = {str(d["_id"]): f"{d.get('title') or ''} {d.get('text') or ''}".split()
             for d in corpus}
    usable = sorted(q for q, judged in qrels.items()
                    if sum(1 for d, g in judged.items() if g > 0 and d in texts) >= 2)
    picked = random.Random(f"{SEED}:{name}").sample(usable, min(max_queries, len(usable)))
    tasks = {n: Task({}, {}, {}) for n in lengths}
    for qid in sorted(picked):
        judged = qrels[qid]
        relevant = sorted(d for d, grade in judged.items() if grade > 0 and d in texts)
        seed = random.Random(f"{SEED}:{name}:{qid}").choice(relevant)
        answers = {d: g for d, g in judged.items() if d != seed}
        for n in lengths:
            if len(texts[seed]) >= n:
                tasks[n].queries[qid] = " ".join(texts[seed][:n])
                tasks[n].qrels[qid] = answers
                tasks[n].seeds[qid] = seed
    return tasks


def without_seeds(run: Run, seeds: dict[str, str]) -> Run:
    """The top 10 of each query once its seed document is removed."""
    out = {}
    for qid, hits in run.items():
        kept = [d for d in sorted(hits, key=lambda d: -hits[d]) if d != seeds[qid]][:10]
        out[qid] = {d: float(10 - i) for i, d in enumerate(kept)}
    return out


def fts5_run(corpus: list[dict], queries: dict[str, str], k: int) -> Run:
    with Fts5Runner() as fts:
        fts.index([Doc(str(d["_id"]), d.get("title") or "", d.get("text") or "")
                   for d in corpus])
        return {q: {d: float(k - i) for i, d in enumerate(fts.search(t, k))}
                for q, t in queries.items()}


Engine = Callable[[dict[str, str]], tuple[Run, list[float]]]  # queries -> (run, ms each)


def engines_for(corpus: list[dict], params: RelevanceParams) -> dict[str, Engine]:
    """Sift (in process) and the BM25 peers, each returning 11 hits (room for the seed)."""
    index = sift_index(corpus, "sift")
    return {
        "sift": lambda qs: sift_run(index, qs, params, k=11),
        "bm25s": lambda qs: (bm25s_run(corpus, qs, k=11), []),
        "fts5": lambda qs: (fts5_run(corpus, qs, 11), []),
    }


def evaluate(tasks: dict[int, Task], engines: dict[str, Engine]) -> list[dict[str, Any]]:
    """nDCG@10 per length and engine; each engine gets every length's queries in one
    batch (the BM25 peers index the collection once per batch)."""
    batch = {f"{n}/{qid}": text for n, task in tasks.items() for qid, text in task.queries.items()}
    runs = {engine: run_fn(batch) for engine, run_fn in engines.items()}
    rows = []
    for n, task in tasks.items():
        if not task.queries:
            continue
        row: dict[str, Any] = {"words": n, "queries": len(task.queries)}
        for engine, (run, times) in runs.items():
            mine = {qid: run[f"{n}/{qid}"] for qid in task.queries}
            row[engine] = ndcg(without_seeds(mine, task.seeds), task.qrels)
            if times:
                ms = [t for key, t in zip(batch, times, strict=True) if key.startswith(f"{n}/")]
                row[f"p50_ms_{engine}"] = float(np.percentile(ms, 50))
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--sets", default="scifact,nfcorpus,cisi,npl")
    ap.add_argument("--lengths", default=",".join(map(str, DEFAULT_LENGTHS)))
    ap.add_argument("--max-queries", type=int, default=MAX_QUERIES,
                    help="seed queries per collection")
    ap.add_argument("--set", action="append", default=[], help="RelevanceParams field=value")
    args = ap.parse_args()
    params = params_from(args.set)
    lengths = tuple(int(n) for n in args.lengths.split(","))
    every: list[dict[str, Any]] = []
    for name in args.sets.split(","):
        corpus = load(Path(args.data) / name)[0]
        tasks = long_tasks(corpus, all_qrels(Path(args.data) / name), name, lengths,
                           args.max_queries)
        for row in evaluate(tasks, engines_for(corpus, params)):
            row = {"set": name, **row}
            row["sift-best"] = row["sift"] - max(row["bm25s"], row["fts5"])
            every.append(row)
            print(json.dumps({k: round(v, 4) if isinstance(v, float) else v
                              for k, v in row.items()}), flush=True)
    print(f"Means over the collections with {MIN_CELL}+ queries of the length:")
    print("| words | queries | sift | bm25s | fts5 | sift - best BM25 |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in lengths:
        # A collection with few queries of this length is too noisy to count for it.
        rows = [r for r in every if r["words"] == n and r["queries"] >= MIN_CELL]
        if not rows:
            continue
        mean = {k: statistics.mean(r[k] for r in rows) for k in ("sift", "bm25s", "fts5")}
        worst = min(r["sift-best"] for r in rows)
        print(f"| {n} | {sum(r['queries'] for r in rows)} | {mean['sift']:.4f} | "
              f"{mean['bm25s']:.4f} | {mean['fts5']:.4f} | "
              f"{mean['sift'] - max(mean['bm25s'], mean['fts5']):+.4f} "
              f"(worst collection {worst:+.4f}) |")


if __name__ == "__main__":
    main()
