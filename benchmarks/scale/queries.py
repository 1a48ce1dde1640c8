"""The typeahead mix: what a visitor's keystrokes send, with one filter and two facets.

Seeded: the same seed gives the same requests in the same order, whatever the corpus size.
Each visitor types a short query drawn from the products' vocabulary one character at a
time (every prefix is one search, as an as-you-type box sends them), with one filter of
the visitor's and facet counts for `brand` and `tags`."""

from __future__ import annotations

import random
from typing import Any

from benchmarks.ingest.dataset import BRANDS, WORDS

FACETS = ["brand", "tags"]
FILTERABLE = ["brand", "tags", "rating", "in_stock", "price"]


def _filter(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return "in_stock = true"
    if kind == 1:
        return f"rating >= {rng.randint(2, 5)}"
    if kind == 2:
        return f"price < {rng.choice((50, 100, 250))}"
    return f'brand = "{rng.choice(BRANDS)}"'


def typeahead(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` search bodies: the keystrokes of as many visitors as it takes."""
    rng = random.Random(seed)
    bodies: list[dict[str, Any]] = []
    while len(bodies) < count:
        query = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
        where = _filter(rng)
        for end in range(1, len(query) + 1):
            if query[end - 1] == " ":
                continue  # a space sends the same words as the keystroke before it
            bodies.append({"q": query[:end], "filter": where, "facets": FACETS, "limit": 10,
                           "showPerformanceDetails": True})  # fmt: skip
    return bodies[:count]
