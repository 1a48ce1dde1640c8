"""A fixed, seeded query set over the product vocabulary of benchmarks/ingest/dataset.py:
single words, pairs, a prefix, filters, a sort and a second page."""

from __future__ import annotations

import random
from typing import Any

from benchmarks.ingest.dataset import BRANDS, WORDS


def query_set(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    shapes = ("word", "pair", "triple", "prefix", "filter", "sort", "page2")
    for i in range(count):
        shape = shapes[i % len(shapes)]
        q = " ".join(rng.sample(WORDS, {"pair": 2, "triple": 3}.get(shape, 1)))
        body: dict[str, Any] = {"q": q, "limit": 20}
        if shape == "prefix":
            body["q"] = q[: max(3, len(q) - 2)]
        elif shape == "filter":
            body["filter"] = f"rating >= {rng.randint(2, 4)} AND in_stock = true"
        elif shape == "sort":
            body["sort"] = [rng.choice(["price:asc", "price:desc"])]
            body["filter"] = f'brand = "{rng.choice(BRANDS)}"'
        elif shape == "page2":
            body["offset"] = 20
        out.append(body)
    return out
