"""Filterable and sortable field values: filter evaluation, facets, sort keys, geo.

:class:`FieldStore` maps each indexed field path to a
:class:`~sift.engine.fields.groups.FieldValues` (value -> docids BitMaps plus
lazily built numpy views) and keeps ``_all``, the universe ``NOT`` subtracts
from. Nothing here loops over documents at query time: filters are BitMap
algebra and numpy slices, facet counts are intersection cardinalities or one
numpy reduction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from pyroaring import BitMap

from sift.engine.fields.columns import BatchEntries
from sift.engine.fields.facets import facet_distribution, facet_search_hits
from sift.engine.fields.geo import GeoPoints
from sift.engine.fields.groups import FieldValues, Membership
from sift.engine.fields.values import (
    DESCEND,
    EMPTY,
    EXISTS,
    INDEX,
    NULL,
    SKIP,
    normalize_facet,
    parse_geo,
    parse_number,
)
from sift.engine.filters import tree as ast

__all__ = ["FieldStore"]

GEO = "_geo"


class FieldStore:
    """Per-index facet data for the filterable and sortable attributes."""

    def __init__(self, filterable: list[str], sortable: list[str]) -> None:
        self.filterable = list(filterable)
        self.sortable = list(sortable)
        patterns = [name for name in (*filterable, *sortable) if name != GEO]
        self._exact = {p for p in patterns if "*" not in p}
        self._globs = [p for p in patterns if "*" in p]
        self._geo_enabled = GEO in filterable or GEO in sortable
        self._wanted_cache: dict[str, int] = {}
        self._filter_exact = {p for p in filterable if "*" not in p and p != GEO}
        self._filter_globs = [p for p in filterable if "*" in p]
        self.clear()

    # -- writes ---------------------------------------------------------

    def clear(self) -> None:
        self._all = BitMap()
        self._fields: dict[str, FieldValues] = {}
        self._geo = GeoPoints()
        self._sort_cache: dict[tuple[str, bool], np.ndarray] = {}

    def add(self, docid: int, doc: dict) -> None:
        self.add_many([(docid, doc)])

    def add_range(self, first: int, docs: Sequence[dict]) -> None:
        """Index ``docs`` as docids ``first``, ``first + 1``, ... (none in the store):
        an import's batch. With nothing filterable or sortable, one call for the docids
        instead of a pass over the documents."""
        end = first + len(docs)
        if self._all.range_cardinality(first, end):
            present = [d for d in range(first, end) if d in self._all]
            raise ValueError(f"docids already indexed: {present[:5]}")
        if self._indexes_values():
            self._index_values(list(range(first, end)), list(docs))
        self._all.add_range(first, end)
        self._invalidate()

    def add_many(self, items: Sequence[tuple[int, dict]]) -> None:
        """Index documents whose docids are not in the store (a docid repeated in
        ``items``: its last document); to replace one, remove it first."""
        last = dict(items)
        present = [docid for docid in last if docid in self._all]
        if present:
            raise ValueError(f"docids already indexed: {present[:5]}")
        if self._indexes_values():
            self._index_values(list(last), list(last.values()))
        self._all.update(last)
        self._invalidate()

    def _index_values(self, docids: list[int], docs: list[dict]) -> None:
        """Add the filterable and sortable values of ``docs`` (docid ``docids[i]``: ``docs[i]``)."""
        # Gather the whole batch first so each bitmap and numpy chunk is written
        # once (one C call per distinct value, not one per document).
        batch = BatchEntries(self._wanted)
        batch.add_documents(docids, docs)
        if self._geo_enabled:
            for docid, doc in zip(docids, docs, strict=True):
                point = parse_geo(doc)
                if point is not None:
                    self._geo.set(docid, point)
        for (name, kind), ids in batch.flags.items():
            target = self._field(name)
            {EXISTS: target.exists, NULL: target.null, EMPTY: target.empty}[kind].update(ids)
        for name, keys in batch.strings.items():
            if keys:
                self._field(name).add_strings(keys, batch.displays[name])
        for name, (values, ids, real) in batch.numbers().items():
            self._field(name).add_numbers(values, ids, real)

    def _field(self, name: str) -> FieldValues:
        field = self._fields.get(name)
        if field is None:
            # Only sortable: no bitmaps per string (filters and facets never read it).
            filterable = ast.is_listed(name, self._filter_exact, self._filter_globs)
            field = self._fields[name] = FieldValues(filterable)
        return field

    def remove(self, docid: int, doc: dict) -> None:
        self.remove_many([(docid, doc)])

    def remove_many(self, items: Iterable[tuple[int, dict]]) -> None:
        """Forget documents: each docid with the document it was added with.

        The store keeps nothing per document: which string keys and fields a document
        is in comes from the document again (the index keeps it anyway, for its hits).
        A list of (field, key) pairs per document took ~650 bytes a city of the demo."""
        items = [(docid, doc) for docid, doc in dict(items).items() if docid in self._all]
        if not items:
            return
        gone = BitMap(docid for docid, _ in items)
        # Per field: each string key, with how many of these documents have it.
        keys: dict[str, dict[str, int]] = {}
        if self._indexes_values():
            for docid, _ in items:
                self._geo.discard(docid)
            batch = BatchEntries(self._wanted)  # as add_many: a key once per document
            batch.add_documents([docid for docid, _ in items], [doc for _, doc in items])
            keys = {name: {} for name in batch.touched()}
            for name, field_keys in batch.strings.items():
                keys[name] = {key: len(docids) for key, docids in field_keys.items()}
        for name, field_keys in keys.items():
            field = self._fields.get(name)
            if field is not None:
                field.remove(gone, field_keys)
        self._all.difference_update(gone)
        self._invalidate()

    def _indexes_values(self) -> bool:
        """Whether any attribute is filterable or sortable (else only docids are kept)."""
        return bool(self._exact or self._globs or self._geo_enabled)

    def _invalidate(self) -> None:
        self._sort_cache.clear()

    def _wanted(self, path: str) -> int:
        """INDEX a listed attribute or anything nested under one; DESCEND into a
        path only when a listed attribute may lie below it; SKIP the rest."""
        cached = self._wanted_cache.get(path)
        if cached is None:
            if path == GEO or path.startswith(GEO + "."):
                cached = SKIP
            elif ast.is_listed(path, self._exact, self._globs):
                cached = INDEX
            elif self._globs or any(name.startswith(path + ".") for name in self._exact):
                cached = DESCEND
            else:
                cached = SKIP
            self._wanted_cache[path] = cached
        return cached

    def warm(self, name: str) -> None:
        """Build what filters and facet counts on field ``name`` read (FieldValues.warm)."""
        field = self._fields.get(name)
        if field is not None:
            field.warm()

    # -- filters --------------------------------------------------------

    @property
    def universe(self) -> BitMap:
        """Every indexed docid (read-only by convention)."""
        return self._all

    def fields(self) -> list[str]:
        """Every indexed field path seen so far, sorted."""
        return sorted(self._fields)

    def evaluate(self, node: ast.FilterNode) -> BitMap:
        """The docids matching a parsed filter."""
        if isinstance(node, ast.And):
            result: BitMap | None = None
            for child in node.children:
                part = self.evaluate(child)
                result = part if result is None else result & part
                if not result:
                    break
            return result if result is not None else BitMap(self._all)
        if isinstance(node, ast.Or):
            return BitMap.union(BitMap(), *(self.evaluate(child) for child in node.children))
        if isinstance(node, ast.Not):
            return self._all - self.evaluate(node.child)
        if isinstance(node, ast.MatchAll):
            return BitMap(self._all)
        if isinstance(node, ast.GeoRadius | ast.GeoBoundingBox):
            return self._geo.select(node)
        field = self._fields.get(node.attribute)
        if field is None:
            return BitMap()
        return self._condition(field, node)

    def _condition(self, field: FieldValues, node: ast.FilterNode) -> BitMap:
        if isinstance(node, ast.Equals):
            return self._equals(field, node.value)
        if isinstance(node, ast.In):
            return BitMap.union(BitMap(), *(self._equals(field, v) for v in node.values))
        if isinstance(node, ast.Exists):
            return BitMap(field.exists)
        if isinstance(node, ast.IsNull):
            return BitMap(field.null)
        if isinstance(node, ast.IsEmpty):
            return BitMap(field.empty)
        if isinstance(node, ast.Compare):
            low_in = node.op.endswith("=")
            number = parse_number(node.value)
            if number is not None:
                if node.op.startswith(">"):
                    return field.number_range(number, math.inf, low_in, True)
                return field.number_range(-math.inf, number, True, low_in)
            # Non-numeric bound: Meilisearch compares strings lexicographically.
            key = normalize_facet(node.value)
            if node.op.startswith(">"):
                return field.string_range(key, None, low_in, True)
            return field.string_range(None, key, True, low_in)
        if isinstance(node, ast.Between):
            low, high = parse_number(node.low), parse_number(node.high)
            if low is not None and high is not None:
                return field.number_range(low, high, True, True)
            return field.string_range(
                normalize_facet(node.low), normalize_facet(node.high), True, True
            )
        if isinstance(node, ast.StartsWith):
            prefix = normalize_facet(node.value)
            # Every key with this prefix sorts between the prefix and prefix + max char.
            return field.string_range(prefix, prefix + "\U0010ffff", True, False)
        if isinstance(node, ast.Contains):
            needle = normalize_facet(node.value)
            return BitMap.union(
                BitMap(), *(bm for key, bm in field.strings.items() if needle in key)
            )
        raise TypeError(f"not a filter node: {node!r}")

    def _equals(self, field: FieldValues, value: str) -> BitMap:
        result = BitMap(field.strings.get(normalize_facet(value), ()))
        number = parse_number(value)
        if number is not None:
            result |= field.number_range(number, number, True, True)
        return result

    def geo_distance(self, docids: np.ndarray, lat: float, lng: float) -> np.ndarray:
        """Meters (haversine) from (lat, lng) to each document's ``_geo``; NaN where it has none."""
        return self._geo.distance(docids, lat, lng)

    # -- facets ---------------------------------------------------------

    def _facet_names(self, facets: list[str]) -> list[str]:
        if "*" not in facets:
            return list(facets)
        exact = {p for p in self.filterable if "*" not in p and p != GEO}
        globs = [p for p in self.filterable if "*" in p]
        names = [name for name in self.fields() if ast.is_listed(name, exact, globs)]
        return names + [f for f in facets if f != "*" and f not in names]

    def facet_distribution(
        self,
        candidates: BitMap | Membership,
        facets: list[str],
        max_values: int,
        sort_by: dict[str, str],
    ) -> dict[str, dict[str, int]]:
        """Value -> count among ``candidates`` for each facet (``"*"`` = every filterable one).

        ``sort_by`` maps a facet (or ``"*"``, the default) to ``"alpha"`` or ``"count"``.
        Values with no candidate are left out; at most ``max_values`` per facet.
        """
        result: dict[str, dict[str, int]] = {}
        member = candidates if isinstance(candidates, Membership) else Membership(candidates)
        for name in self._facet_names(facets):
            order = sort_by.get(name, sort_by.get("*", "alpha"))
            field = self._fields.get(name)
            result[name] = (
                {} if field is None else facet_distribution(field, member, max_values, order)
            )
        return result

    def facet_stats(
        self, candidates: BitMap | Membership, facets: list[str]
    ) -> dict[str, dict[str, float]]:
        """``{"min", "max"}`` over the numeric values among ``candidates``; numeric facets only."""
        result: dict[str, dict[str, float]] = {}
        member = candidates if isinstance(candidates, Membership) else Membership(candidates)
        for name in self._facet_names(facets):
            field = self._fields.get(name)
            groups = field.numeric() if field is not None else None
            if groups is None or len(groups.values) == 0:
                continue
            hits = np.flatnonzero(member(groups.ids))
            if len(hits) == 0:
                continue
            first, last = np.searchsorted(groups.offsets, hits[[0, -1]], side="right") - 1
            result[name] = {"min": float(groups.values[first]), "max": float(groups.values[last])}
        return result

    def facet_search(
        self,
        facet: str,
        query: str | None,
        candidates: BitMap,
        max_values: int,
        sort_by: str = "alpha",
    ) -> list[dict]:
        """Facet values matching ``query`` (prefix, case/accent-folded, small typos allowed).

        Returns ``[{"value", "count"}]`` for values with at least one candidate,
        sorted alphabetically (``sort_by="count"``: by count, descending).
        """
        field = self._fields.get(facet)
        if field is None:
            return []
        return facet_search_hits(field, query, candidates, max_values, sort_by)

    # -- sorting --------------------------------------------------------

    def sort_keys(self, field: str, docids: np.ndarray, descending: bool = False) -> np.ndarray:
        """An int64 key per docid; sort ascending on it (e.g. ``numpy.lexsort``).

        ``descending=True`` returns keys already reversed, so callers always sort
        ascending: never negate the keys yourself, because documents without the
        field get the largest key in both directions and so stay last. Numbers
        come before strings in both directions (Meilisearch gives numbers
        precedence); an array sorts by its smallest element ascending and its
        largest descending; strings compare lowercased, byte-wise.
        """
        dense = self._sort_cache.get((field, descending))
        if dense is None:
            # One spare slot so an empty index still has a valid "missing" entry.
            size = int(self._all.max()) + 2 if self._all else 1
            values = self._fields.get(field)
            dense = (
                values.sort_ranks(size, descending)
                if values is not None
                else np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
            )
            self._sort_cache[(field, descending)] = dense
        docids = np.asarray(docids, dtype=np.int64)
        missing = np.iinfo(np.int64).max
        inside = docids < len(dense)
        return np.where(inside, dense[np.where(inside, docids, 0)], missing)


