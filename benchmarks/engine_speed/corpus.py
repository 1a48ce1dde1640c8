"""The two corpora (seeded products, scifact) and their seeded 1-4-word query sets."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.ingest.dataset import WORDS, document
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
        # searchableAttributes mirrors Typesense's query_by, so both match the same fields.
        sift_settings={
            "searchableAttributes": ["title", "brand", "tags"],
            "filterableAttributes": ["brand", "tags", "in_stock", "price"],
            "sortableAttributes": ["price", "rating"],
        },
        typesense_fields=[
            {"name": "title", "type": "string"},
            {"name": "brand", "type": "string", "facet": True},
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
        words = rng.choice(pool)
        length = min(rng.randint(1, MAX_QUERY_WORDS), len(words))
        start = rng.randint(0, len(words) - length)
        queries.append(" ".join(maybe_typo(words[start : start + length], rng)))
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
