"""The two corpora (seeded products, scifact) and their seeded 1-4-word query sets."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.ingest.dataset import (
    WORDS,
    document,
    product_sift_settings,
    product_typesense_fields,
)
from benchmarks.typos import MIN_WORD_LENGTH, edit_word

# Share of eligible words (5+ letters) that get one typo: "some words", not all, so the
# set mixes clean words, typo words and the prefix matching of the last word.
TYPO_RATE = 0.3
MAX_QUERY_WORDS = 4


@dataclass
class Corpus:
    name: str
    docs: list[dict[str, Any]]
    queries: list[str]
    # Extra search parameters, in Sift's (Meilisearch) and Typesense's spelling.
    sift_params: dict[str, Any] = field(default_factory=dict)
    typesense_params: dict[str, Any] = field(default_factory=dict)
    sift_settings: dict[str, Any] = field(default_factory=dict)
    typesense_fields: list[dict[str, Any]] = field(default_factory=list)


def maybe_typo(words: list[str], rng: random.Random) -> list[str]:
    return [
        edit_word(w, rng) if len(w) >= MIN_WORD_LENGTH and rng.random() < TYPO_RATE else w
        for w in words
    ]


def slice_query(words: list[str], rng: random.Random) -> str:
    """1-4 consecutive words of ``words`` at a random place, some with a typo."""
    length = min(rng.randint(1, MAX_QUERY_WORDS), len(words))
    first = rng.randint(0, len(words) - length)
    return " ".join(maybe_typo(words[first : first + length], rng))


def product_corpus(count: int, n_queries: int, seed: int) -> Corpus:
    """benchmarks.ingest's product generator (same seed, same documents as its NDJSON)."""
    rng = random.Random(seed)
    docs = [document(rng, i) for i in range(count)]
    qrng = random.Random(f"{seed}:queries")
    queries = [
        " ".join(maybe_typo(qrng.choices(WORDS, k=qrng.randint(1, MAX_QUERY_WORDS)), qrng))
        for _ in range(n_queries)
    ]
    return Corpus(
        name="products",
        docs=docs,
        queries=queries,
        sift_params={"filter": "in_stock = true AND price < 500", "facets": ["brand", "tags"]},
        typesense_params={
            "query_by": "title,brand,tags",
            "filter_by": "in_stock:=true && price:<500",
            "facet_by": "brand,tags",
        },
        sift_settings=product_sift_settings(),
        typesense_fields=product_typesense_fields(),
    )


CATALOG_SOURCES = ("scifact", "nfcorpus", "npl", "cisi")
CATALOG_SKIP_COMMON = 150  # the most frequent words are function words, not title words
CATALOG_CATEGORIES = 40
CATALOG_BRANDS = 800


def _vocabulary(data_root: Path) -> tuple[list[str], np.ndarray]:
    """Words of 3+ letters in the shared collections and their counts, most frequent first:
    a real, Zipf-shaped vocabulary (tens of thousands of words) to draw titles from."""
    counts: Counter[str] = Counter()
    for name in CATALOG_SOURCES:
        path = data_root / name / "corpus.jsonl"
        if not path.is_file():
            continue
        for row in _jsonl(path):
            counts.update(w for w in _words(f"{row.get('title') or ''} {row.get('text') or ''}")
                          if len(w) >= 3 and w.isalpha())
    ranked = [w for w, _ in counts.most_common()][CATALOG_SKIP_COMMON:]
    weights = np.array([counts[w] for w in ranked], dtype=np.float64)
    return ranked, weights / weights.sum()


def catalog_corpus(count: int, n_queries: int, seed: int, data_root: Path) -> Corpus:
    """A product catalog with a realistic vocabulary: titles of 4-10 words drawn with the
    word frequencies of the shared collections (so, like real catalogs, a few words are in
    many titles and most in few), a Zipf-sized brand and category per product, 1-4 tags.
    Queries are 1-4 consecutive words of a random product's title (people search for what
    a shop sells), some with a typo, as in the products corpus."""
    words, probs = _vocabulary(data_root)
    rng = np.random.default_rng(seed)
    brand_names = [f"{words[i].title()}{suffix}" for i, suffix in
                   zip(rng.choice(min(len(words), 20_000), CATALOG_BRANDS, replace=False),
                       ("", " Co", " Labs", " Works") * (CATALOG_BRANDS // 4), strict=False)]
    categories = [words[i] for i in rng.choice(min(len(words), 2_000), CATALOG_CATEGORIES,
                                               replace=False)]
    tags = categories[:20]

    def zipf(n: int, size: int) -> np.ndarray:
        weights = 1.0 / np.arange(1, n + 1)
        return rng.choice(n, size=size, p=weights / weights.sum())

    lengths = rng.integers(4, 11, size=count)
    title_words = rng.choice(len(words), size=int(lengths.sum()), p=probs)
    brands, cats = zipf(CATALOG_BRANDS, count), zipf(CATALOG_CATEGORIES, count)
    prices = np.round(rng.uniform(1, 1000, size=count), 2)
    ratings = rng.integers(1, 6, size=count)
    stock = rng.random(count) < 0.8
    n_tags = rng.integers(1, 5, size=count)
    docs: list[dict[str, Any]] = []
    start = 0
    for i in range(count):
        end = start + int(lengths[i])
        docs.append({
            "id": i,
            "title": " ".join(words[j] for j in title_words[start:end]),
            "brand": brand_names[int(brands[i])],
            "category": categories[int(cats[i])],
            "tags": [tags[int(t)] for t in rng.choice(len(tags), int(n_tags[i]), replace=False)],
            "price": float(prices[i]),
            "rating": int(ratings[i]),
            "in_stock": bool(stock[i]),
        })
        start = end
    qrng = random.Random(f"{seed}:catalog-queries")
    queries = []
    for _ in range(n_queries):
        queries.append(slice_query(docs[qrng.randrange(count)]["title"].split(), qrng))
    return Corpus(
        name="catalog",
        docs=docs,
        queries=queries,
        sift_params={"filter": "in_stock = true AND price < 500",
                     "facets": ["brand", "category"]},
        typesense_params={
            "query_by": "title,brand,category,tags",
            "filter_by": "in_stock:=true && price:<500",
            "facet_by": "brand,category",
        },
        sift_settings={
            "searchableAttributes": ["title", "brand", "category", "tags"],
            "filterableAttributes": ["brand", "category", "tags", "in_stock", "price"],
            "sortableAttributes": ["price", "rating"],
        },
        typesense_fields=[
            {"name": "title", "type": "string"},
            {"name": "brand", "type": "string", "facet": True},
            {"name": "category", "type": "string", "facet": True},
            {"name": "tags", "type": "string[]", "facet": True},
            {"name": "price", "type": "float"},
            {"name": "rating", "type": "int32"},
            {"name": "in_stock", "type": "bool"},
        ],
    )


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def scifact_corpus(root: Path, n_queries: int, seed: int, max_docs: int | None) -> Corpus:
    """scifact's corpus; its judged test queries cut to 1-4 consecutive words."""
    docs = [
        {"id": str(r["_id"]), "title": r.get("title") or "", "text": r.get("text") or ""}
        for r in _jsonl(root / "corpus.jsonl")
    ][:max_docs]
    judged = {
        line.split("\t")[0]
        for line in (root / "qrels" / "test.tsv").read_text().splitlines()[1:]
        if line.strip()
    }
    texts = [r["text"] for r in _jsonl(root / "queries.jsonl") if r["_id"] in judged]
    rng = random.Random(f"{seed}:scifact")
    pool = [words for words in (_words(t) for t in texts) if words]
    queries = []
    for _ in range(n_queries):
        queries.append(slice_query(rng.choice(pool), rng))
    return Corpus(
        name="scifact",
        docs=docs,
        queries=queries,
        typesense_params={"query_by": "title,text"},
        sift_settings={"searchableAttributes": ["title", "text"]},
        typesense_fields=[{"name": "title", "type": "string"}, {"name": "text", "type": "string"}],
    )


def _words(text: str) -> list[str]:
    # Letters and digits only: punctuation would be dropped by both tokenizers anyway.
    cleaned = "".join(c if c.isalnum() else " " for c in text.lower())
    return cleaned.split()
