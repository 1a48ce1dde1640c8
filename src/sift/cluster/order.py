"""The order of hits from several shards of one index: the index's ranking rules, rule by
rule, as one node would apply them to all the documents.

Every node runs the same query with the same rules, so each hit's
``_rankingScoreDetails`` holds its score per rule; a ``sort`` rule (or ``field:asc``)
compares the documents' values, which the hits carry (the coordinator asks for them).
Values compare as the engine sorts them: numbers before strings, strings without case,
a document without the field last in either direction. Hits equal in every rule follow
the tie key of their primary key value (engine/tiebreak.py), as on one node.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sift.engine.ranking import CUSTOM_RULE
from sift.engine.tiebreak import hit_id, tie_keys

_GEO_POINT = re.compile(r"^_geoPoint\(.*\):(asc|desc)$")
Key = tuple[Any, ...]


class _Desc:
    """A string that sorts backwards (descending string values)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __lt__(self, other: _Desc) -> bool:
        return other.text < self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def sort_fields(sort: list[str] | None) -> list[str]:
    """The document fields a ``sort`` parameter reads (geo sorts read ``_geoDistance``)."""
    out = []
    for entry in sort or ():
        match = CUSTOM_RULE.match(entry)
        if match is not None and not _GEO_POINT.match(entry):
            out.append(match.group(1))
    return out


def _value(hit: dict[str, Any], path: str) -> Any:
    value: Any = hit
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def value_key(hit: dict[str, Any], entry: str) -> Key:
    """One sort entry (``price:asc``, ``_geoPoint(1,2):asc``) of a hit, as a sort key."""
    geo = _GEO_POINT.match(entry)
    if geo is not None:
        distance = hit.get("_geoDistance")
        if distance is None:
            return (2,)
        return (0, distance if geo.group(1) == "asc" else -distance)
    match = CUSTOM_RULE.match(entry)
    if match is None:
        return (2,)
    name, ascending = match.group(1), match.group(2) == "asc"
    value = _value(hit, name)
    items = value if isinstance(value, list) else [value]
    numbers = [v for v in items if isinstance(v, int | float) and not isinstance(v, bool)]
    if numbers:  # an array sorts by its smallest element ascending, its largest descending
        return (0, min(numbers) if ascending else -max(numbers))
    texts = [v.lower() for v in items if isinstance(v, str)]
    if texts:
        return (1, min(texts)) if ascending else (1, _Desc(max(texts)))
    return (2,)


def tie_order(hits: list[dict[str, Any]], primary_key: str | None
              ) -> Callable[[dict[str, Any]], Key]:
    """The tie part of a hit's merge key: the tie key of its primary key value, computed
    for every hit of ``hits`` in one call (a call per hit cost several times the rest of
    the merge). Hits without their primary key (one that ``displayedAttributes`` hides)
    come last, in the merge's own order."""
    ids = [hit_id(hit.get(primary_key)) for hit in hits] if primary_key is not None else []
    present = list(dict.fromkeys(i for i in ids if i is not None))
    keys = dict(zip(present, tie_keys(present).tolist(), strict=True))

    def part(hit: dict[str, Any]) -> Key:
        doc_id = hit_id(hit.get(primary_key)) if primary_key is not None else None
        return (1,) if doc_id is None else (0, keys[doc_id])

    return part


def rank_key(sort: list[str] | None, tie: Callable[[dict[str, Any]], Key] | None = None
             ) -> Callable[[dict[str, Any]], Key]:
    """The merge key of a hit that carries ``_rankingScoreDetails`` (ascending = better),
    equal hits by ``tie`` (:func:`tie_order`) when given."""

    def key(hit: dict[str, Any]) -> Key:
        details = hit.get("_rankingScoreDetails") or {}
        parts: list[Key] = []
        for name, rule in sorted(details.items(), key=lambda item: item[1].get("order", 0)):
            if name == "sort":
                parts.extend(value_key(hit, entry) for entry in sort or ())
            elif CUSTOM_RULE.match(name):
                parts.append(value_key(hit, name))
            elif "score" in rule:
                parts.append((0, -float(rule["score"])))
        if sort and "sort" not in details:
            # A placeholder search (no words) scores nothing: the sort alone orders it.
            parts[:0] = [value_key(hit, entry) for entry in sort]
        parts.append((0, -float(hit.get("_rankingScore", 0.0))))
        if tie is not None:
            parts.append(tie(hit))
        return tuple(parts)

    return key
