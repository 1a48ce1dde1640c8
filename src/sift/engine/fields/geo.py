"""``_geo`` points: radius and bounding-box filters, distances for geo sorting."""

from __future__ import annotations

import math

import numpy as np
from pyroaring import BitMap

from sift.engine.fields.groups import bitmap_from_array
from sift.engine.filters import tree as ast

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius, the usual haversine constant


def haversine(lat1: np.ndarray, lng1: np.ndarray, lat2: float, lng2: float) -> np.ndarray:
    """Great-circle distance in meters, vectorised over the first point."""
    phi1, phi2 = np.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2) - np.radians(lng1)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * math.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class GeoPoints:
    """docid -> (lat, lng), with numpy columns rebuilt lazily after writes."""

    def __init__(self) -> None:
        self._points: dict[int, tuple[float, float]] = {}
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def set(self, docid: int, point: tuple[float, float]) -> None:
        self._points[docid] = point
        self._arrays = None

    def discard(self, docid: int) -> None:
        if self._points.pop(docid, None) is not None:
            self._arrays = None

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(docids ascending, lat, lng) of every document with a valid ``_geo``."""
        if self._arrays is None:
            ids = np.array(sorted(self._points), dtype=np.int64)
            coords = np.array([self._points[i] for i in ids.tolist()], dtype=np.float64)
            coords = coords.reshape(-1, 2)
            self._arrays = (ids, coords[:, 0], coords[:, 1])
        return self._arrays

    def select(self, node: ast.GeoRadius | ast.GeoBoundingBox) -> BitMap:
        ids, lat, lng = self._columns()
        if isinstance(node, ast.GeoRadius):
            mask = haversine(lat, lng, node.lat, node.lng) <= node.radius
        else:
            mask = (lat <= node.top) & (lat >= node.bottom)
            if node.left <= node.right:
                mask &= (lng >= node.left) & (lng <= node.right)
            else:  # the box crosses the antimeridian
                mask &= (lng >= node.left) | (lng <= node.right)
        return bitmap_from_array(ids[mask])

    def distance(self, docids: np.ndarray, lat: float, lng: float) -> np.ndarray:
        """Meters from (lat, lng) to each docid's point; NaN where it has none."""
        ids, lats, lngs = self._columns()
        docids = np.asarray(docids, dtype=np.int64)
        out = np.full(len(docids), np.nan)
        if len(ids) == 0 or len(docids) == 0:
            return out
        pos = np.clip(np.searchsorted(ids, docids), 0, len(ids) - 1)
        found = ids[pos] == docids
        rows = pos[found]
        out[found] = haversine(lats[rows], lngs[rows], lat, lng)
        return out
