"""The three query kinds the speed benchmark sends, derived reproducibly from a
collection's test queries: full questions, short keyword queries and as-you-type prefixes.

The same seed always gives the same lists, so two runs (or two engines) see identical
traffic."""

from __future__ import annotations

import random
from collections.abc import Sequence

from benchmarks.runners.base import query_terms

KINDS = ("full", "short", "prefix")
DEFAULT_SEED = 20261125
# Prefixes shorter than this are rarely sent by search-as-you-type front ends (they wait
# for a second keystroke) and would match most of the corpus.
MIN_PREFIX_CHARS = 2
# As-you-type sessions stop after the first words; nobody types a whole question.
PREFIX_WORDS = 3


def short_queries(queries: Sequence[str], count: int, seed: int) -> list[str]:
    """1-3 consecutive words of a random test query (stop-word-heavy windows included: real
    users type them too)."""
    rng = random.Random(seed)
    pool = [terms for terms in (query_terms(q) for q in queries) if terms]
    out = []
    for _ in range(count):
        terms = rng.choice(pool)
        length = min(rng.randint(1, 3), len(terms))
        start = rng.randint(0, len(terms) - length)
        out.append(" ".join(terms[start : start + length]))
    return out


def prefix_queries(queries: Sequence[str], count: int, seed: int) -> list[str]:
    """Every keystroke of typing the first words of a random test query, one session after
    another, so the list reads like the requests a search box sends."""
    rng = random.Random(seed + 1)
    pool = [terms for terms in (query_terms(q) for q in queries) if terms]
    out: list[str] = []
    while len(out) < count:
        typed = " ".join(rng.choice(pool)[:PREFIX_WORDS])
        for end in range(MIN_PREFIX_CHARS, len(typed) + 1):
            # A trailing space adds no information: the request before it had the same words.
            if typed[end - 1] != " ":
                out.append(typed[:end])
    return out[:count]


def query_sets(queries: Sequence[str], count: int, seed: int) -> dict[str, list[str]]:
    """`count` queries of every kind; full queries keep their original order and text."""
    return {
        "full": list(queries[:count]),
        "short": short_queries(queries, count, seed),
        "prefix": prefix_queries(queries, count, seed),
    }
