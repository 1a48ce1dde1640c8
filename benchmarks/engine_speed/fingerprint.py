"""`python -m benchmarks.engine_speed.fingerprint --out FILE` writes the hits and ranking
scores of 9,600 searches over scifact; `--compare A B` says how many differ.

Run it in two source trees (`PYTHONPATH=<tree>/src:.`) to check that an engine change
that should not change results (a speed-up) really returns the same hits with the same
scores, bit for bit (and, for a change of the order of exact ties, that every other
search differs only in that: see :func:`verdict`): three rule sets (Sift's,
Meilisearch's, Meilisearch's with proximityPrecision byAttribute) and a filtered one
with typo-disabled attributes, each with the three matching strategies, over 500
1-4-word queries of the engine-speed harness and the first 300 scifact claims.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.engine_speed.corpus import scifact_corpus
from benchmarks.engine_speed.engines import SiftInProcess
from sift.engine.query import SearchParams

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "data" / "scifact"
MEILI_RULES = ["words", "typo", "proximity", "attribute", "sort", "exactness"]
DOCS = 3000
PAGE = 30


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
                body: dict[str, Any] = {"q": q, "limit": PAGE, "showRankingScore": True,
                                        "matchingStrategy": strategy}
                if "filterableAttributes" in extra:
                    body["filter"] = "n < 4"
                    if strategy == "all":
                        body["attributesToSearchOn"] = ["title"]
                result = index.search(SearchParams.from_dict(body))
                out.append([(h["id"], h["_rankingScore"]) for h in result["hits"]]
                           + [result.get("estimatedTotalHits")])
    return out


def verdict(a: list[Any], b: list[Any]) -> str:
    """How two results of one search differ: "identical"; "tie order" (the same scores
    position by position, each group of equal scores holding the same ids); "tie at page
    end" (so, except the full page's last group, cut by the limit, whose ids differ);
    "different"."""
    if a == b:
        return "identical"
    (hits_a, total_a), (hits_b, total_b) = (a[:-1], a[-1]), (b[:-1], b[-1])
    if total_a != total_b or [s for _, s in hits_a] != [s for _, s in hits_b]:
        return "different"
    groups: dict[float, tuple[set[Any], set[Any]]] = {}
    for (id_a, score), (id_b, _) in zip(hits_a, hits_b, strict=True):
        group = groups.setdefault(score, (set(), set()))
        group[0].add(id_a)
        group[1].add(id_b)
    unequal = [score for score, (x, y) in groups.items() if x != y]
    if not unequal:
        return "tie order"
    full = len(hits_a) == PAGE
    return "tie at page end" if full and unequal == [hits_a[-1][1]] else "different"


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
        if same != len(a):
            counts = Counter(verdict(x, y) for x, y in zip(a, b, strict=True))
            print(", ".join(f"{v}: {counts[v]}" for v in
                            ("identical", "tie order", "tie at page end", "different")))


if __name__ == "__main__":
    main()
