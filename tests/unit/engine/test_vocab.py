"""Vocabulary stem groups: each stem's terms, whichever batch brought them and in
whichever order (a term that is its own stem is kept without an entry of its own)."""

from __future__ import annotations

import random

import pytest

from sift.engine.analysis import stem_words
from sift.engine.vocab import Vocabulary, VocabularyBuilder

WORDS = ["runs", "run", "running", "runner", "paris", "pari", "berlin", "12", "connect",
         "connected", "connection", "connections", "caresses", "cares", "care", "ponies",
         "poni", "pony"]


def _expected(terms: list[str], stem: str) -> list[int]:
    return [tid for tid, s in enumerate(stem_words(terms)) if s == stem]


def _grow(order: list[str], cuts: list[int]) -> tuple[list[str], list[Vocabulary]]:
    """The terms of ``order`` added in batches ending at ``cuts``, a view after each."""
    builder, terms, term_ids, views = VocabularyBuilder(), [], {}, []
    for end in [*cuts, len(order)]:
        for word in order[len(terms):end]:
            term_ids[word] = len(terms)
            terms.append(word)
        builder.extend(terms, term_ids)
        views.append(builder.view())
    return terms, views


@pytest.mark.parametrize("seed", range(8))
def test_stem_groups_are_the_terms_with_that_stem(seed: int) -> None:
    rng = random.Random(seed)
    order = rng.sample(WORDS, len(WORDS))
    cuts = sorted(rng.sample(range(1, len(order)), 3))
    terms, views = _grow(order, cuts)
    stems = set(stem_words(terms)) | {"nothing"}
    for view in views:  # an earlier view sees only its own terms
        seen = terms[: view.n_terms]
        for stem in stems:
            assert view.stem_group(stem).tolist() == _expected(seen, stem), (order, stem)
