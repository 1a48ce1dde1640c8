"""`python -m benchmarks.engine_speed.fingerprint --out FILE` writes the hits and ranking
scores of 9,600 searches over scifact; `--compare A B` says how many differ.

Run it in two source trees (`PYTHONPATH=<tree>/src:.`) to check that an engine change
that should not change results (a speed-up) really returns the same hits with the same
scores, bit for bit: three rule sets (Sift's, Meilisearch's, Meilisearch's with
proximityPrecision byAttribute) and a filtered one with typo-disabled attributes, each
with the three matching strategies, over 500 1-4-word queries of the engine-speed
harness and the first 300 scifact claims.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
from pathlib import Path
from typing import Any

from benchmarks.engine_speed.corpus import scifact_corpus
from benchmarks.engine_speed.engines import SiftInProcess
from sift.engine.query import SearchParams

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "data" / "scifact"
MEILI_RULES = ["words", "typo", "proximity", "attribute", "sort", "exactness"]
DOCS = 3000


def searches(root: Path) -> list[Any]:
    corpus = scifact_corpus(root, 500, 42, None)
    claims = [json.loads(line)["text"]
              for line in (root / "queries.jsonl").read_text().splitlines()[:300]]
    rng = random.Random(1)
    docs = [dict(d, n=rng.randint(0, 9)) for d in corpus.docs[:DOCS]]
    variants: list[dict[str, Any]] = [
        {},
        {"rankingRules": MEILI_RULES},
        {"rankingRules": MEILI_RULES, "proximityPrecision": "byAttribute"},
        {"filterableAttributes": ["n"], "typoTolerance": {"disableOnAttributes": ["text"]}},
    ]
    out: list[Any] = []
    for extra in variants:
        index = SiftInProcess(docs, {**corpus.sift_settings, **extra}).index
        for q in corpus.queries + claims:
            for strategy in ("last", "all", "frequency"):
                body: dict[str, Any] = {"q": q, "limit": 30, "showRankingScore": True,
                                        "matchingStrategy": strategy}
                if "filterableAttributes" in extra:
                    body["filter"] = "n < 4"
                    if strategy == "all":
                        body["attributesToSearchOn"] = ["title"]
                result = index.search(SearchParams.from_dict(body))
                out.append([(h["id"], h["_rankingScore"]) for h in result["hits"]]
                           + [result.get("estimatedTotalHits")])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_speed.fingerprint")
    parser.add_argument("--out", type=Path, help="write this tree's results here")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("A", "B"))
    parser.add_argument("--scifact", type=Path, default=SCIFACT)
    args = parser.parse_args(argv)
    if args.out:
        args.out.write_bytes(pickle.dumps(searches(args.scifact)))
        print(f"wrote {args.out}")
    if args.compare:
        a, b = (pickle.loads(p.read_bytes()) for p in args.compare)
        same = sum(x == y for x, y in zip(a, b, strict=True))
        print(f"{same} of {len(a)} searches identical (hits, scores, totals)")


if __name__ == "__main__":
    main()
