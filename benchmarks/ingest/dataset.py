"""A reproducible NDJSON file of small product documents (same seed, same bytes)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

VOCABULARY = (
    "alpine amber arctic atlas aurora basalt beacon birch bolt breeze canyon cedar comet coral "
    "crest delta drift dune echo ember fable falcon fern fjord flint forge frost glacier grove "
    "harbor haven hollow horizon iris ivory jade juniper kestrel lagoon lark lumen maple meadow "
    "mesa mist nova oak onyx orbit pebble pine prism quartz raven reef ridge river sage sierra "
    "slate sparrow spruce summit tide timber topaz tundra vale willow zephyr"
)
WORDS = tuple(VOCABULARY.split())
BRANDS = tuple(f"{a.title()}{b}" for a in WORDS[:25] for b in ("Co", "Works"))
TAGS = WORDS[::3]


def document(rng: random.Random, doc_id: int) -> dict[str, object]:
    return {
        "id": doc_id,
        "title": " ".join(rng.choices(WORDS, k=rng.randint(3, 6))),
        "brand": rng.choice(BRANDS),
        "price": round(rng.uniform(1, 500), 2),
        "tags": rng.sample(TAGS, rng.randint(1, 4)),
        "rating": rng.randint(1, 5),
        "in_stock": rng.random() < 0.8,
    }


def product_sift_settings() -> dict[str, Any]:
    """How a site configures these products in Sift (Meilisearch's settings): every
    harness that indexes them "as a shop would" takes its settings from here. The
    searchable attributes mirror Typesense's query_by, so both match the same fields."""
    return {
        "searchableAttributes": ["title", "brand", "tags"],
        "filterableAttributes": ["brand", "tags", "in_stock", "price"],
        "sortableAttributes": ["price", "rating"],
    }


def product_typesense_fields() -> list[dict[str, Any]]:
    """The same configuration as Typesense's collection schema: facets on brand and tags,
    the numeric and boolean fields typed (Typesense filters and sorts on any typed field)."""
    return [
        {"name": "title", "type": "string"},
        {"name": "brand", "type": "string", "facet": True},
        {"name": "tags", "type": "string[]", "facet": True},
        {"name": "price", "type": "float"},
        {"name": "rating", "type": "int32"},
        {"name": "in_stock", "type": "bool"},
    ]


def write_dataset(path: Path, count: int, seed: int) -> Path:
    """Write `count` documents to `path` (reused when it already exists)."""
    if path.exists():
        return path
    rng = random.Random(seed)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as fh:
        for doc_id in range(count):
            fh.write(orjson.dumps(document(rng, doc_id)) + b"\n")
    partial.rename(path)
    return path
