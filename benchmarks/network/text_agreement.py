"""`python -m benchmarks network-text`: do shards that score with every shard's corpus
statistics give the pages one index holding every document gives, on real text?

In one process, on a public collection (BEIR layout, benchmarks/collections.py): one
index with every document and three indexes of one shard each (the engine's own
partition, as nodes build them). Each judged query is asked as written and as typed (its
first three words, the last cut by a letter: a prefix), of the whole index, and of the
shards with their statistics added up (engine/corpus/stats.py), then without them. A page is
identical (same ids, same order), differs only among hits of equal score, or differs.
"""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks.collections import DATA_ROOT, load_collection
from sift.engine.corpus import CorpusStats, add
from sift.engine.index import SearchIndex
from sift.engine.partition import Partition
from sift.engine.query import SearchParams
from sift.engine.settings import default_settings

SHARDS = ("shard-00", "shard-01", "shard-02")
Page = list[tuple[float, str]]


def page(index: SearchIndex, q: str, corpus: CorpusStats | None = None) -> Page:
    params = SearchParams.from_dict({"q": q, "limit": 20, "showRankingScore": True})
    params.statistics = corpus
    return [(h["_rankingScore"], h["id"]) for h in index.search(params)["hits"]]


def verdict(whole: Page, shards: list[Page]) -> str:
    merged = sorted((hit for part in shards for hit in part), key=lambda hit: -hit[0])[:20]
    if [h[1] for h in merged] == [h[1] for h in whole]:
        return "identical"
    if [h[0] for h in merged] == [h[0] for h in whole]:
        return "ties"
    return "different"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks network-text",
                                     description=__doc__)
    parser.add_argument("--collection", default="scifact")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args(argv)
    collection = load_collection(DATA_ROOT / args.collection)
    docs = [(d.id, {"id": d.id, "title": d.title, "text": d.text}) for d in collection.docs]
    settings = default_settings("sift")
    whole = SearchIndex(settings, "id")
    whole.upsert(docs)
    shards = []
    for name in SHARDS:
        shard = SearchIndex(settings, "id", Partition(SHARDS, frozenset([name])))
        shard.upsert(docs)
        shards.append(shard)
    texts = list(collection.queries.values())[: args.queries]
    typed = [" ".join(q.split()[:3])[:-1] for q in texts]
    results: dict[str, Any] = {}
    for label, queries in (("as written", texts), ("typed", typed)):
        for scoring in ("added statistics", "each shard's own"):
            counts = {"identical": 0, "ties": 0, "different": 0}
            for q in queries:
                corpus = None
                if scoring == "added statistics":
                    params = SearchParams.from_dict({"q": q})
                    corpus = add([shard.statistics(params, None) for shard in shards])
                counts[verdict(page(whole, q), [page(s, q, corpus) for s in shards])] += 1
            results[f"{label}, {scoring}"] = counts
            print(f"{args.collection}, {len(queries)} queries {label}, {scoring}: {counts}")


if __name__ == "__main__":
    main()
