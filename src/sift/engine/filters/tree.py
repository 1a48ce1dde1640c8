"""The filter tree that :func:`sift.engine.filters.parse_filter` produces.

Negated operators (``!=``, ``NOT IN``, ``NOT EXISTS``, ``IS NOT NULL``, ...)
are parsed into ``Not(positive)`` because Meilisearch defines each of them as
"every document the positive form does not select" (documents missing the
field included), so evaluation needs one rule per positive operator only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import translate
from functools import lru_cache

from sift.errors import SiftError


@dataclass(frozen=True, slots=True)
class Span:
    """Where an attribute (or geo call) sits in the filter text, for error messages.

    Nodes carry it as ``at``, excluded from equality and repr: two parses of the
    same condition at different offsets are the same filter.
    """

    source: str
    start: int
    end: int

    def context(self) -> str:
        """Meilisearch's trailing context line: ``start:end full-filter`` (1-based columns)."""
        return f"{self.start + 1}:{self.end + 1} {self.source}"


@dataclass(frozen=True, slots=True)
class MatchAll:
    """An empty filter (``""`` or ``[]``): every document."""


@dataclass(frozen=True, slots=True)
class Equals:
    """``attribute = value``: case-insensitive for strings, numeric when both sides are numbers."""

    attribute: str
    value: str
    at: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Compare:
    """``attribute OP value`` with OP one of ``>``, ``>=``, ``<``, ``<=``."""

    attribute: str
    op: str
    value: str
    at: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Between:
    """``attribute low TO high``: inclusive on both ends, like ``>= low AND <= high``."""

    attribute: str
    low: str
    high: str
    at: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class In:
    """``attribute IN [v1, v2, ...]``: equality with any listed value."""

    attribute: str
    values: tuple[str, ...]
    at: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Exists:
    """``attribute EXISTS``: the field is present, even when null or empty."""

    attribute: str
    at: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class IsNull:
    """``attribute IS NULL``: the field's value is ``null`` itself (not ``[null]``)."""

    attribute: str
    at: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class IsEmpty:
    """``attribute IS EMPTY``: the field is ``""``, ``[]`` or ``{}``."""

    attribute: str
    at: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Contains:
    """``attribute CONTAINS value``: a string value contains the text (case-insensitive)."""

    attribute: str
    value: str
    at: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class StartsWith:
    """``attribute STARTS WITH value``: a string value starts with the text."""

    attribute: str
    value: str
    at: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class GeoRadius:
    """``_geoRadius(lat, lng, distance_in_meters)``."""

    lat: float
    lng: float
    radius: float
    at: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class GeoBoundingBox:
    """``_geoBoundingBox([top, right], [bottom, left])``; right < left crosses the antimeridian."""

    top: float
    right: float
    bottom: float
    left: float
    at: Span | None = field(default=None, compare=False, repr=False)


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


def ensure_filterable(
    node: FilterNode, filterable: list[str], error_code: str = "invalid_search_filter"
) -> None:
    """Reject a filter reading an attribute outside ``filterable``, as Meilisearch does.

    An attribute is filterable when listed, nested under a listed one (``a``
    makes ``a.b`` filterable) or matched by a ``*`` pattern; geo calls need
    ``_geo``. The message names the first offending attribute and points at it.
    """
    for current in walk(node):
        attribute = getattr(current, "attribute", None)
        if isinstance(current, GeoRadius | GeoBoundingBox):
            attribute = "_geo"
        if attribute is None or _is_filterable(attribute, filterable):
            continue
        if filterable:
            listed = ", ".join(sorted(filterable))
            available = f"Available filterable attributes are: `{listed}`."
        else:
            available = "This index does not have configured filterable attributes."
        at: Span | None = getattr(current, "at", None)
        context = f"\n{at.context()}" if at is not None else ""
        raise SiftError(
            f"Attribute `{attribute}` is not filterable. {available}{context}", error_code
        )


def _is_filterable(attribute: str, filterable: list[str]) -> bool:
    return is_listed(
        attribute, [p for p in filterable if "*" not in p], [p for p in filterable if "*" in p]
    )


def is_listed(path: str, exact: Iterable[str], globs: Iterable[str]) -> bool:
    """Whether ``path`` or one of its ancestors (``a`` for ``a.b``) is one of ``exact`` or
    matches one of the fnmatch ``globs``. Linear in the path's length: building every
    ancestor's string was quadratic, and a filter on a 100,000-letter dotted name
    (`a.a.a…`) took 82 s before its 400."""
    for name in exact:
        if path.startswith(name) and (len(path) == len(name) or path[len(name)] == "."):
            return True
    return any(_glob_ending_at_a_dot(glob).match(path) is not None for glob in globs)


@lru_cache(maxsize=256)
def _glob_ending_at_a_dot(glob: str) -> re.Pattern[str]:
    """fnmatch's own translation of ``glob``, anchored at a dot or the path's end instead
    of the end alone: one regex match tries every ancestor of a path."""
    pattern = translate(glob)
    for end in (r"\Z", r"\z"):  # \z from Python 3.14 on
        if pattern.endswith(end):
            return re.compile(pattern[: -len(end)] + r"(?=\.|\Z)")
    raise AssertionError(f"unexpected fnmatch translation {pattern!r}")
