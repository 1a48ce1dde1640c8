"""The filter tree that :func:`sift.engine.filters.parse_filter` produces.

Negated operators (``!=``, ``NOT IN``, ``NOT EXISTS``, ``IS NOT NULL``, ...)
are parsed into ``Not(positive)`` because Meilisearch defines each of them as
"every document the positive form does not select" (documents missing the
field included), so evaluation needs one rule per positive operator only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MatchAll:
    """An empty filter (``""`` or ``[]``): every document."""


@dataclass(frozen=True, slots=True)
class Equals:
    """``attribute = value``: case-insensitive for strings, numeric when both sides are numbers."""

    attribute: str
    value: str


@dataclass(frozen=True, slots=True)
class Compare:
    """``attribute OP value`` with OP one of ``>``, ``>=``, ``<``, ``<=``."""

    attribute: str
    op: str
    value: str


@dataclass(frozen=True, slots=True)
class Between:
    """``attribute low TO high``: inclusive on both ends, like ``>= low AND <= high``."""

    attribute: str
    low: str
    high: str


@dataclass(frozen=True, slots=True)
class In:
    """``attribute IN [v1, v2, ...]``: equality with any listed value."""

    attribute: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Exists:
    """``attribute EXISTS``: the field is present, even when null or empty."""

    attribute: str


@dataclass(frozen=True, slots=True)
class IsNull:
    """``attribute IS NULL``: the field's value is ``null`` itself (not ``[null]``)."""

    attribute: str


@dataclass(frozen=True, slots=True)
class IsEmpty:
    """``attribute IS EMPTY``: the field is ``""``, ``[]`` or ``{}``."""

    attribute: str


@dataclass(frozen=True, slots=True)
class Contains:
    """``attribute CONTAINS value``: a string value contains the text (case-insensitive)."""

    attribute: str
    value: str


@dataclass(frozen=True, slots=True)
class StartsWith:
    """``attribute STARTS WITH value``: a string value starts with the text."""

    attribute: str
    value: str


@dataclass(frozen=True, slots=True)
class GeoRadius:
    """``_geoRadius(lat, lng, distance_in_meters)``."""

    lat: float
    lng: float
    radius: float


@dataclass(frozen=True, slots=True)
class GeoBoundingBox:
    """``_geoBoundingBox([top, right], [bottom, left])``; right < left crosses the antimeridian."""

    top: float
    right: float
    bottom: float
    left: float


@dataclass(frozen=True, slots=True)
class Not:
    child: FilterNode


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[FilterNode, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[FilterNode, ...]


FilterNode = (
    MatchAll
    | Equals
    | Compare
    | Between
    | In
    | Exists
    | IsNull
    | IsEmpty
    | Contains
    | StartsWith
    | GeoRadius
    | GeoBoundingBox
    | Not
    | And
    | Or
)

GEO_FIELD = "_geo"


def walk(node: FilterNode) -> Iterator[FilterNode]:
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Not):
            stack.append(current.child)
        elif isinstance(current, And | Or):
            stack.extend(reversed(current.children))


def filter_attributes(node: FilterNode) -> set[str]:
    """The attributes a filter reads, so callers can reject non-filterable ones.

    Geo expressions read ``_geo``.
    """
    names: set[str] = set()
    for current in walk(node):
        if isinstance(current, GeoRadius | GeoBoundingBox):
            names.add(GEO_FIELD)
        else:
            attribute = getattr(current, "attribute", None)
            if attribute is not None:
                names.add(attribute)
    return names
