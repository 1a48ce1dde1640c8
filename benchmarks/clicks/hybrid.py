"""`python -m benchmarks.clicks.hybrid [--collections a,b] [--results FILE] [--replay 17,18]`:
Sift's hybrid search (the local MiniLM embedder, semanticRatio 0.5, in process as
`python -m benchmarks hybrid` runs it) on the clicks benchmark's *clicked* queries (same
seed, same split), beside the click-trained keyword figures of a clicks results file.
With `--replay SEEDS`: the clicks benchmark's offline replay (shipped parameters) over the
hybrid rankings instead, so the click signal acts on top of hybrid search as it does in a
server whose index has an embedder: hybrid alone vs clicks over hybrid, per session seed.
Needs the `semantic` extra; embeds every document of each collection on the CPU (cached
in benchmarks/.cache/hybrid)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.clicks.__main__ import CHECKPOINTS, RESULTS, split
from benchmarks.clicks.offline import replay
from benchmarks.clicks.simulate import Visitors, ndcg
from benchmarks.collections import DATA_ROOT, load_collection
from benchmarks.hybrid import collect, data, evaluate


def hybrid_rankings(name: str, qids: list[str]) -> dict[str, tuple[list[str], np.ndarray]]:
    from sift.engine import pipeline
    from sift.engine.query import SearchParams
    from sift.semantic.leg import DEFAULT_FUSION, VectorLeg

    coll = data.load(name)
    encoder = collect.model()
    collect.doc_vectors(coll, encoder)
    engines = evaluate.engines(coll)
    out = {}
    for qid in qids:
        text = coll.queries[qid]
        params = SearchParams.from_dict({"q": text, "limit": 100, "attributesToRetrieve": ["id"],
                                         "showRankingScore": True})  # fmt: skip
        leg = VectorLeg(engines.vectors.view, "default", encoder.embed_query(text), 0.5,
                        DEFAULT_FUSION)  # fmt: skip
        hits = pipeline.search(engines.index.view, params, leg)["hits"]
        out[qid] = ([str(h["id"]) for h in hits], np.array([h["_rankingScore"] for h in hits]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.clicks.hybrid", description=__doc__)
    parser.add_argument("--collections", default="cisi,scifact,nfcorpus,npl")
    parser.add_argument("--results", type=Path, help="a clicks results JSON (default: newest)")
    parser.add_argument("--replay", help="session seeds: replay clicks over hybrid rankings "
                        "(seed-17 split, 100 queries at most, shipped parameters)")  # fmt: skip
    args = parser.parse_args()
    if args.replay:
        for name in [c.strip() for c in args.collections.split(",") if c.strip()]:
            replay_over_hybrid(name, [int(s) for s in args.replay.split(",")])
        return
    path = args.results or sorted(RESULTS.glob("clicks-*.json"))[-1]
    found = json.loads(path.read_text())
    meta = found["meta"]
    by_name = {r["collection"]: r for r in found["results"]}
    for name in [c.strip() for c in args.collections.split(",") if c.strip()]:
        collection = load_collection(DATA_ROOT / name)
        clicked, _ = split(collection, meta["max_queries"], meta["seed"])
        ranked = hybrid_rankings(name, clicked)
        hybrid = ndcg(collection.qrels, {q: ids for q, (ids, _) in ranked.items()}, clicked)
        curve = by_name[name]["server"]["curve"]
        print(f"| {name} | {len(clicked)} | {curve[0]['clicked']:.4f} | {hybrid:.4f} | "
              f"{curve[-1]['clicked']:.4f} |", flush=True)  # fmt: skip


def replay_over_hybrid(name: str, seeds: list[int], split_seed: int = 17) -> None:
    """One line per session seed: hybrid alone, and after 20 sessions of clicks over it."""
    from sift.insights.clickmodel import ClickParams

    collection = load_collection(DATA_ROOT / name)
    clicked, never = split(collection, 100, split_seed)
    ranked = hybrid_rankings(name, [*clicked, *never])
    for seed in seeds:
        curve = replay(ranked, clicked, never, collection.qrels, ClickParams(), Visitors(), seed,
                       CHECKPOINTS)  # fmt: skip
        first, last = curve[0], curve[-1]
        print(f"| {name} | {seed} | {first['clicked']:.4f} | {last['clicked']:.4f} | "
              f"{last['noise_clicked'] - first['clicked']:+.4f} | "
              f"{last['never_clicked'] - first['never_clicked']:+.4f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
