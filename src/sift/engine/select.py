"""Which documents, in which order: filter and sort expressions checked against the
index's settings, shared by search (engine/pipeline) and the documents API."""

from __future__ import annotations

import math
import mmap
import re
from typing import Any

import numpy as np
import orjson

from sift.engine.filters import tree as filter_ast
from sift.engine.filters.parse import parse_filter
from sift.engine.partition import SHARD_FIELD
from sift.engine.ranking import CUSTOM_RULE
from sift.engine.store import IndexView, Snapshot
from sift.errors import SiftError

GEO_POINT = re.compile(r"^_geoPoint\(\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*\)$")


def matches_pattern(name: str, patterns: list[str]) -> bool:
    for p in patterns:
        if p == "*" or p == name or name.startswith(p + "."):
            return True
        if p.endswith("*") and name.startswith(p[:-1]):
            return True
    return False


def filterable(index: IndexView) -> list[str]:
    out: list[str] = []
    for a in index.settings.get("filterableAttributes") or []:
        out += [a] if isinstance(a, str) else list(a.get("attributePatterns", []))
    return out


def listing(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in sorted(names))


def filter_docids(index: IndexView, snap: Snapshot, expr: Any, code: str) -> np.ndarray:
    """Sorted internal docids of ``snap`` matching a filter expression."""
    node = parse_filter(expr, code)
    names = filterable(index)
    if SHARD_FIELD in index.field_store.filterable:  # a partitioned index (partition.py)
        names.append(SHARD_FIELD)
    # Meilisearch's message: it names the attribute and points at it in the filter.
    filter_ast.ensure_filterable(node, names, code)
    with index.fields_lock:
        bitmap = index.field_store.evaluate(node)
    ids = np.frombuffer(bitmap.to_array(), dtype=np.uint32) if bitmap else np.empty(0, np.uint32)
    ids = ids[ids < snap.alive.size]
    return ids[snap.alive[ids]]


def filter_mask(index: IndexView, snap: Snapshot, expr: Any) -> np.ndarray:
    """Read-only bool mask over docids of ``snap`` matching a search filter.

    Sites send the same few filters over and over (``in_stock = true``, a category):
    the mask is kept per snapshot in a small LRU, so a repeated filter costs nothing.
    An invalid filter is never cached, so it raises every time."""
    def build() -> np.ndarray:
        mask = own_mapping(snap.alive.size)
        mask[filter_docids(index, snap, expr, "invalid_search_filter")] = True
        mask.flags.writeable = False
        return mask

    try:
        key = "filter:" + orjson.dumps(expr).decode()
    except TypeError:  # not JSON (never from HTTP): no caching
        return build()
    return snap.cached_lru(key, build)


# Masks at least this large (one byte per document) get a mapping of their own: what
# malloc maps apart anyway when its arena's top cannot serve it (sift.tasks.memory's
# MMAP_THRESHOLD). Smaller ones pin little, and a mapping each would count against the
# process's limit on mappings (vm.max_map_count) for many small indexes.
OWN_MAPPING_BYTES = 256 * 1024


def own_mapping(size: int) -> np.ndarray:
    """``size`` zeroed booleans, for a mask a search thread builds and the snapshot keeps:
    from ``OWN_MAPPING_BYTES`` on, in an anonymous mapping of their own, freed when the
    last array over it goes. From malloc, such a mask was carved from the top of the
    thread's arena, which the next searches' temporaries are served from
    (sift.tasks.memory's top pad): 1 MB per filter at 1M documents, dozens of them cut
    the arena's free top to pieces, and a broad search's candidate-sized arrays that no
    longer fit became fresh mappings, faulted in page by page (2-3k minor faults, a
    third of 'iris t's time after the scale mix's filters)."""
    if size >= OWN_MAPPING_BYTES:
        try:
            return np.frombuffer(mmap.mmap(-1, size), dtype=bool)
        except OSError:  # out of mappings or memory: malloc's turn
            pass
    return np.zeros(size, dtype=bool)


def check_sort(
    index: IndexView, sort: list[str], code: str, ranking_rule: bool
) -> tuple[list[str], Any]:
    """Validated ``sort`` entries and the geo point of a ``_geoPoint`` entry, if any."""
    if ranking_rule and "sort" not in index.settings["rankingRules"]:
        raise SiftError(
            "You must specify the `sort` ranking rule in the ranking rules settings to use the "
            "sort parameter at search time.",
            code,
        )
    sortable = list(index.settings.get("sortableAttributes") or [])
    geo = None
    for entry in sort:
        m = CUSTOM_RULE.match(entry)
        if m is None:
            raise SiftError(
                f"Invalid syntax for the sort parameter: expected expression ending by `:asc` or "
                f"`:desc`, found `{entry}`.",
                code,
            )
        g = GEO_POINT.match(m.group(1))
        if g is not None:
            if "_geo" not in sortable:
                raise SiftError(
                    "Attribute `_geo` is not sortable. Available sortable attributes "
                    f"are: {listing(sortable)}.",
                    code,
                )
            geo = _geo_point(g.group(1), g.group(2), entry, code)
        elif m.group(1).startswith("_geo"):
            raise SiftError(
                f"Invalid syntax for the sort parameter: `{m.group(1)}` is not a "
                "valid geo expression.",
                "invalid_sort_geo",
            )
        elif not matches_pattern(m.group(1), sortable):
            raise SiftError(
                f"Attribute `{m.group(1)}` is not sortable. Available sortable attributes are: "
                f"{listing(sortable)}.",
                code,
            )
    return list(sort), geo


def _geo_point(raw_lat: str, raw_lng: str, entry: str, code: str) -> tuple[float, float]:
    """A `_geoPoint(lat, lng)`'s point, in Meilisearch's words where it is none: its
    pattern takes `1..2` or `1e400` (a ValueError, an infinity whose cosine raised in the
    distance: both were 500s)."""
    try:
        lat, lng = float(raw_lat), float(raw_lng)
    except ValueError:
        lat = lng = math.nan
    if not (math.isfinite(lat) and math.isfinite(lng)):
        raise SiftError(
            "Invalid syntax for the geo parameter: expected expression formated like "
            f"`_geoPoint(latitude, longitude)` and ending by `:asc` or `:desc`, found `{entry}`.",
            code,
        )
    if not -90.0 <= lat <= 90.0:
        raise SiftError("Latitude must be contained between -90 and 90 degrees.", code)
    if not -180.0 <= lng <= 180.0:
        raise SiftError("Longitude must be contained between -180 and 180 degrees.", code)
    return lat, lng


def sort_key_fn(index: IndexView, snap: Snapshot) -> Any:
    """``keys(name, docids, asc)``: the sort key of each docid for one sort entry."""
    def keys(name: str, docids: np.ndarray, asc: bool) -> np.ndarray:
        g = GEO_POINT.match(name)
        with index.fields_lock:
            if g is not None:
                dist = index.field_store.geo_distance(docids, float(g.group(1)), float(g.group(2)))
                dist = np.where(np.isnan(dist), np.inf, dist if asc else -dist)
                return dist
            return index.field_store.sort_keys(name, docids, descending=not asc)

    return keys


def sorted_docids(
    index: IndexView, snap: Snapshot, sort: list[str], filter: Any, code: str
) -> np.ndarray:
    """Every live document (or those matching ``filter``) ordered by ``sort``; ties keep
    internal docid order (the order documents were indexed in)."""
    entries, _ = check_sort(index, sort, code, ranking_rule=False)
    docids = (
        np.nonzero(snap.alive)[0]
        if filter is None
        else filter_docids(index, snap, filter, "invalid_document_filter")
    ).astype(np.uint32)
    keys_of = sort_key_fn(index, snap)
    keys = []
    for entry in entries:
        m = CUSTOM_RULE.match(entry)
        assert m is not None  # check_sort validated it
        keys.append(keys_of(m.group(1), docids, m.group(2) == "asc"))
    if not keys:
        return docids
    return docids[np.lexsort([docids, *keys[::-1]])]
