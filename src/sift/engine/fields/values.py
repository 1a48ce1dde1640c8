"""How a document's fields become facet entries: flattening, normalization, numbers.

Kept apart from :mod:`sift.engine.fields` so the brute-force reference in the
tests and the index agree on one definition of "the values of field f".
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

# Entry kinds: what a (field, docid) pair contributes to the index.
# What to do with a path: skip its whole subtree, only look inside it for
# indexed descendants, or index it (and everything under it).
SKIP, DESCEND, INDEX = range(3)

# NUMBER holds JSON numbers; NUMERIC_STRING the numbers that strings spell, kept
# apart so facet distributions show "12" once, from the string entry.
EXISTS, NULL, EMPTY, STRING, NUMBER, NUMERIC_STRING = range(6)

# Rust's f64 parser (which Meilisearch uses) accepts these shapes; Python's
# float() would also accept "1_000", "nan" and "infinity", which must stay strings.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def normalize_facet(value: str) -> str:
    """The key filters compare on: trimmed and lowercased, accents kept.

    Meilisearch documents ``=``/``!=`` as case-insensitive; it does not fold
    accents for filters (``é`` ≠ ``e``), only for facet search.
    """
    return value.strip().lower()


def fold(value: str) -> str:
    """Lowercase and strip accents, for facet search's forgiving matching."""
    lowered = value.strip().casefold()
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_number(value: str) -> float | None:
    """The finite number a string spells, or None (``"12"`` -> 12.0, ``"nan"`` -> None)."""
    text = value.strip()
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def display_number(number: float) -> str:
    """How a number is shown as a facet value: ``12`` not ``12.0``."""
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def iter_entries(
    doc: dict[str, Any], wanted: Callable[[str], int]
) -> Iterator[tuple[str, int, Any, str | None]]:
    """Yield ``(field, kind, key, display)`` for every indexed fact of ``doc``.

    ``display`` (the original spelling) is set for STRING entries only.

    Objects flatten with dots and arrays spread their elements under the same
    path, so ``{"a": {"b": 1}}``, ``{"a.b": 1}`` and ``{"a": [{"b": 1}]}`` all
    give ``a.b`` = 1. ``wanted(path)`` answers SKIP, DESCEND or INDEX. Kinds follow
    Meilisearch's null/empty specification: ``null`` and ``""``/``[]``/``{}``
    count only as the field's own value, not inside an array (``[null]`` is
    neither null nor empty), while any present path EXISTS.
    """
    stack: list[tuple[str, Any, bool]] = [(key, value, False) for key, value in doc.items()]
    stack.reverse()
    while stack:
        path, value, in_array = stack.pop()
        action = wanted(path)
        if action == SKIP:
            continue
        keep = action == INDEX
        if keep:
            yield path, EXISTS, None, None
        if isinstance(value, dict):
            if keep and not value and not in_array:
                yield path, EMPTY, None, None
            children = [(f"{path}.{k}", v, False) for k, v in value.items()]
            stack.extend(reversed(children))
        elif isinstance(value, list):
            if keep and not value and not in_array:
                yield path, EMPTY, None, None
            stack.extend((path, item, True) for item in reversed(value))
        elif not keep:
            continue
        elif value is None:
            if not in_array:
                yield path, NULL, None, None
        elif isinstance(value, bool):
            text = "true" if value else "false"
            yield path, STRING, text, text
        elif isinstance(value, int | float):
            number = float(value)
            if math.isfinite(number):
                yield path, NUMBER, number, None
        elif isinstance(value, str):
            if value == "":
                # "" is a filter-able emptiness, not a facet value Meilisearch lists.
                if not in_array:
                    yield path, EMPTY, None, None
                continue
            yield path, STRING, normalize_facet(value), value
            number = parse_number(value)
            if number is not None:
                # Numeric strings also answer numeric filters and sorts, as in Meilisearch.
                yield path, NUMERIC_STRING, number, None


def parse_geo(doc: dict[str, Any]) -> tuple[float, float] | None:
    """``_geo`` as (lat, lng) when it is a valid ``{"lat": .., "lng": ..}``, else None."""
    geo = doc.get("_geo")
    if not isinstance(geo, dict):
        return None
    coords = []
    for name in ("lat", "lng"):
        raw = geo.get(name)
        if isinstance(raw, bool) or raw is None:
            return None
        value = float(raw) if isinstance(raw, int | float) else parse_number(str(raw))
        if value is None or not math.isfinite(value):
            return None
        coords.append(value)
    lat, lng = coords
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):
        return None
    return lat, lng
