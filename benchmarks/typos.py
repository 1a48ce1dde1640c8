"""Seeded one-character typos, for the typo-robustness variant of every query."""

from __future__ import annotations

import random
import re
import string

MIN_WORD_LENGTH = 5
EDITS = ("insert", "delete", "substitute", "transpose")
_WORD = re.compile(rf"[^\W\d_]{{{MIN_WORD_LENGTH},}}")


def with_typos(query: str, seed: str) -> str:
    """`query` with exactly one random edit in each word of 5+ letters.

    The RNG is seeded per query (pass e.g. "<run seed>:<query id>"), so a query's typos do
    not depend on which other queries or collections are in the run."""
    rng = random.Random(seed)
    return _WORD.sub(lambda match: edit_word(match.group(), rng), query)


def edit_word(word: str, rng: random.Random) -> str:
    edit = rng.choice(EDITS)
    if edit == "insert":
        at = rng.randrange(len(word) + 1)
        return word[:at] + rng.choice(string.ascii_lowercase) + word[at:]
    if edit == "delete":
        at = rng.randrange(len(word))
        return word[:at] + word[at + 1 :]
    if edit == "transpose":
        # Swapping two equal letters would be no typo at all.
        spots = [i for i in range(len(word) - 1) if word[i] != word[i + 1]]
        if spots:
            at = rng.choice(spots)
            return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    at = rng.randrange(len(word))
    letter = rng.choice([c for c in string.ascii_lowercase if c != word[at].lower()])
    return word[:at] + letter + word[at + 1 :]
