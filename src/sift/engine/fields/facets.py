"""Facet distribution and facet search over one field's value bitmaps."""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import NamedTuple

import numpy as np
from pyroaring import BitMap

from sift.engine.fields.groups import FieldValues, Groups, Membership
from sift.engine.fields.values import display_number, fold

# Up to this many distinct strings, counts are one BitMap intersection per value;
# above it, one numpy pass over the field's grouped docids is cheaper.
BULK_COUNT_THRESHOLD = 256

_WORD = re.compile(r"\w+")


class _Counted(NamedTuple):
    """Every facet value of one field with its candidate count, in "alpha" order.

    Index ``i < len(numbers.values)`` is a JSON number (numeric order), the rest
    are strings by normalized key (byte order). A number whose display equals a
    string key (12 and "12") is counted once, on the number, shown with the
    string's spelling; the string's own slot counts 0.
    """

    field: FieldValues
    numbers: Groups
    strings: Groups
    counts: np.ndarray

    def display(self, index: int) -> str:
        n_numbers = len(self.numbers.values)
        if index < n_numbers:
            shown = display_number(float(self.numbers.values[index]))
            return self.field.display.get(shown, shown)
        return self.field.display[self.strings.values[index - n_numbers]]


def _count(field: FieldValues, member: Membership) -> _Counted:
    numbers, strings = field.real_numbers(), field.string_groups()
    number_counts = member.counts(numbers)
    if len(strings.values) <= BULK_COUNT_THRESHOLD and not member.sparse_for(strings) and \
            not member.has_bitmap():
        # A search's candidates (docids), many: one compiled pass over them (their value
        # codes, or their bitset against each value's) instead of building their BitMap
        # (26 of 40 ms at 900k candidates of 1M on the loaded VM) for the intersections.
        string_counts = member.candidate_counts(strings)
    elif len(strings.values) <= BULK_COUNT_THRESHOLD and not member.sparse_for(strings):
        string_counts = np.fromiter(
            (member.candidates.intersection_cardinality(field.strings[k]) for k in strings.values),
            dtype=np.int64,
            count=len(strings.values),
        )
    else:
        string_counts = member.counts(strings)
    for number_index, string_index, key in field.merged():
        union = numbers.slice(number_index, number_index + 1) | field.strings[key]
        number_counts[number_index] = member.candidates.intersection_cardinality(union)
        string_counts[string_index] = 0
    return _Counted(field, numbers, strings, np.concatenate((number_counts, string_counts)))


def facet_distribution(
    field: FieldValues, member: Membership, max_values: int, order: str
) -> dict[str, int]:
    counted = _count(field, member)
    chosen = np.flatnonzero(counted.counts)
    if order == "count":
        # A stable sort keeps alpha order among equal counts.
        chosen = chosen[np.argsort(-counted.counts[chosen], kind="stable")]
    chosen = chosen[:max_values]
    counts = counted.counts[chosen].tolist()
    n_numbers = len(counted.numbers.values)
    if n_numbers == 0:  # strings only (the usual facet): their spellings in one pass
        shown = field.display
        keys = counted.strings.values[chosen]
        return {shown[k]: c for k, c in zip(keys.tolist(), counts, strict=True)}
    return {counted.display(i): c for i, c in zip(chosen.tolist(), counts, strict=True)}


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


class _WordIndex:
    """Folded words of every facet value of a field -> the values containing them.

    Value numbers are positions in ``folded`` (:class:`_Counted` order). Words are grouped by
    first character because Meilisearch counts a typo on the first letter as
    two, so typo candidates always share the query word's first letter.
    """

    def __init__(self, folded: list[str]) -> None:
        self.values_of: dict[str, list[int]] = {}
        for index, text in enumerate(folded):
            for word in set(_WORD.findall(text)):
                self.values_of.setdefault(word, []).append(index)
        self.sorted_words = sorted(self.values_of)
        # Whole-text prefix matches come from a bisect over the sorted texts.
        self.sorted_texts = sorted(zip(folded, range(len(folded)), strict=True))
        self.by_first: dict[str, list[str]] = {}
        for word in self.sorted_words:
            self.by_first.setdefault(word[0], []).append(word)

    def words_matching(self, query_word: str, prefix: bool) -> list[str]:
        if prefix:
            start = bisect_left(self.sorted_words, query_word)
            stop = bisect_left(self.sorted_words, query_word + "\U0010ffff")
            found = self.sorted_words[start:stop]
        else:
            found = [query_word] if query_word in self.values_of else []
        limit = _allowed_typos(query_word)
        if limit:
            exact = set(found)
            found += [
                word
                for word in self.by_first.get(query_word[0], ())
                if word not in exact
                and (prefix or abs(len(word) - len(query_word)) <= limit)
                and _distance(query_word, word, limit, prefix) <= limit
            ]
        return found

    def search(self, query: str) -> set[int]:
        """Values whose folded text starts with ``query``, or that contain every
        query word (the last one as a prefix), each within the typo budget."""
        words = _WORD.findall(query)
        matched: set[int] | None = None
        for position, word in enumerate(words):
            values: set[int] = set()
            for found in self.words_matching(word, prefix=position == len(words) - 1):
                values.update(self.values_of[found])
            matched = values if matched is None else matched & values
            if not matched:
                break
        start = bisect_left(self.sorted_texts, (query, -1))
        stop = bisect_left(self.sorted_texts, (query + "\U0010ffff", -1))
        whole = {index for _, index in self.sorted_texts[start:stop]}
        return whole | (matched or set())


def matches_query(value: str, query: str) -> bool:
    """Whether one value matches a facet query, by the rules of :meth:`_WordIndex.search`."""
    return bool(_WordIndex([fold(value)]).search(fold(query)))


def facet_search_hits(
    field: FieldValues, query: str | None, candidates: BitMap, max_values: int, order: str
) -> list[dict]:
    counted = _count(field, Membership(candidates))
    chosen = np.flatnonzero(counted.counts)
    folded_query = fold(query) if query else ""
    if folded_query:
        if not isinstance(field.search_index, _WordIndex):
            texts = [fold(counted.display(i)) for i in range(len(counted.counts))]
            field.search_index = _WordIndex(texts)
        matched = field.search_index.search(folded_query)
        chosen = np.array(sorted(i for i in matched if counted.counts[i]), dtype=np.int64)
    if order == "count":
        chosen = chosen[np.argsort(-counted.counts[chosen], kind="stable")]
    return [
        {"value": counted.display(i), "count": int(counted.counts[i])}
        for i in chosen[:max_values].tolist()
    ]
