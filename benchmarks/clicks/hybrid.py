"""`python -m benchmarks.clicks.hybrid [--collections a,b] [--results FILE]`: Sift's hybrid
search (the local MiniLM embedder, semanticRatio 0.5, in process as
`python -m benchmarks hybrid` runs it) on the clicks benchmark's *clicked* queries (same
seed, same split), beside the click-trained keyword figures of a clicks results file.
Needs the `semantic` extra; embeds every document of each collection on the CPU (cached
in benchmarks/.cache/hybrid)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.clicks.__main__ import RESULTS, split
from benchmarks.clicks.simulate import ndcg
from benchmarks.collections import DATA_ROOT, load_collection
from benchmarks.hybrid import collect, data, evaluate


def hybrid_rankings(name: str, qids: list[str]) -> dict[str, list[str]]:
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
        params = SearchParams.from_dict({"q": text, "limit": 100, "attributesToRetrieve": ["id"]})
        leg = VectorLeg(engines.vectors.view, "default", encoder.embed_query(text), 0.5,
                        DEFAULT_FUSION)  # fmt: skip
        out[qid] = [str(h["id"]) for h in pipeline.search(engines.index.view, params, leg)["hits"]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.clicks.hybrid", description=__doc__)
    parser.add_argument("--collections", default="cisi,scifact,nfcorpus,npl")
    parser.add_argument("--results", type=Path, help="a clicks results JSON (default: newest)")
    args = parser.parse_args()
    path = args.results or sorted(RESULTS.glob("clicks-*.json"))[-1]
    found = json.loads(path.read_text())
    meta = found["meta"]
    by_name = {r["collection"]: r for r in found["results"]}
    for name in [c.strip() for c in args.collections.split(",") if c.strip()]:
        collection = load_collection(DATA_ROOT / name)
        clicked, _ = split(collection, meta["max_queries"], meta["seed"])
        hybrid = ndcg(collection.qrels, hybrid_rankings(name, clicked), clicked)
        curve = by_name[name]["server"]["curve"]
        print(f"| {name} | {len(clicked)} | {curve[0]['clicked']:.4f} | {hybrid:.4f} | "
              f"{curve[-1]['clicked']:.4f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
