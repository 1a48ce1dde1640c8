"""Facet distribution and facet search over one field's value bitmaps."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from pyroaring import BitMap

from sift.engine.fields_groups import membership
from sift.engine.fields_values import display_number, fold

if TYPE_CHECKING:
    from sift.engine.fields import _Field

# Above this many distinct strings, counts come from one numpy reduction over the
# field's grouped docids instead of one intersection per value.
BULK_COUNT_THRESHOLD = 256

_WORD = re.compile(r"\w+")


class _Value(NamedTuple):
    display: str
    docids: BitMap
    string_key: str | None  # set for plain string values, which bulk counting covers


def _values(field: _Field) -> list[_Value]:
    """Every facet value of a field in Meilisearch's "alpha" order.

    Numbers come first in numeric order, then strings by normalized key. A
    number whose display equals a string key (12 and "12") is one value.
    """
    merged: set[str] = set()
    values: list[_Value] = []
    for number in sorted(field.numbers):
        display = display_number(number)
        bitmap = field.numbers[number]
        same = field.strings.get(display)
        if same is not None:
            merged.add(display)
            bitmap = bitmap | same
            display = field.display.get(display, display)
        values.append(_Value(display, bitmap, None))
    for key in field.sorted_strings():
        if key not in merged:
            values.append(_Value(field.display.get(key, key), field.strings[key], key))
    return values


def _counts(field: _Field, values: list[_Value], candidates: BitMap) -> list[int]:
    if len(field.strings) <= BULK_COUNT_THRESHOLD:
        return [candidates.intersection_cardinality(v.docids) for v in values]
    groups = field.string_groups()
    hits = membership(candidates, groups.ids).astype(np.int64)
    per_key = np.add.reduceat(hits, groups.offsets[:-1]).tolist() if len(hits) else []
    by_key = dict(zip(groups.values.tolist(), per_key, strict=True))
    return [
        by_key[v.string_key]
        if v.string_key is not None
        else candidates.intersection_cardinality(v.docids)
        for v in values
    ]


def facet_distribution(
    field: _Field, candidates: BitMap, max_values: int, order: str
) -> dict[str, int]:
    values = _values(field)
    counts = _counts(field, values, candidates)
    pairs = zip(values, counts, strict=True)
    ranked = [(value.display, count) for value, count in pairs if count]
    if order == "count":
        # Stable sort keeps alpha order among equal counts.
        ranked.sort(key=lambda item: -item[1])
    return dict(ranked[:max_values])


def _allowed_typos(word: str) -> int:
    """Meilisearch's default typo budget: 1 from 5 characters, 2 from 9."""
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def _distance(query: str, word: str, limit: int, prefix: bool) -> int:
    """Levenshtein distance from ``query`` to ``word`` (or, with ``prefix``, to the
    closest prefix of ``word``); stops early once every path exceeds ``limit``."""
    previous = list(range(len(word) + 1))
    for i, char in enumerate(query, 1):
        current = [i]
        for j, other in enumerate(word, 1):
            cost = previous[j - 1] + (char != other)
            current.append(min(previous[j] + 1, current[j - 1] + 1, cost))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous) if prefix else previous[-1]


def _word_matches(query_word: str, word: str, prefix: bool) -> bool:
    if word == query_word or (prefix and word.startswith(query_word)):
        return True
    limit = _allowed_typos(query_word)
    return limit > 0 and _distance(query_word, word, limit, prefix) <= limit


def matches_query(value: str, query: str) -> bool:
    """Facet search matching on folded text: the whole query as a prefix, or word by word
    (every query word found in the value, the last one as a prefix, small typos allowed)."""
    folded = fold(value)
    if folded.startswith(query):
        return True
    query_words = _WORD.findall(query)
    words = _WORD.findall(folded)
    if not query_words:
        return False
    last = len(query_words) - 1
    return all(
        any(_word_matches(qw, w, prefix=i == last) for w in words)
        for i, qw in enumerate(query_words)
    )


def facet_search_hits(
    field: _Field, query: str | None, candidates: BitMap, max_values: int, order: str
) -> list[dict]:
    folded_query = fold(query) if query else ""
    hits = []
    for value in _values(field):
        if folded_query and not matches_query(value.display, folded_query):
            continue
        count = candidates.intersection_cardinality(value.docids)
        if count:
            hits.append({"value": value.display, "count": count})
    if order == "count":
        hits.sort(key=lambda hit: -hit["count"])
    return hits[:max_values]
